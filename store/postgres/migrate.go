//go:build postgres

package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrations are the schema's versioned steps, NNNN_name.up.sql, applied
// in order by golang-migrate at Open. Each file runs as one multi-statement
// query, which PostgreSQL executes as one transaction (DDL included): a
// step applies whole or not at all. A step, once released, never changes;
// a change is a new step.
//
//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records the schema version (golang-migrate's layout:
// version, dirty).
const MigrationsTable = "schema_migrations"

// latestMigration is the highest version among the embedded steps.
func latestMigration() (uint, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	var latest uint
	for _, e := range entries {
		head, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(head, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("store/postgres: migration %s: %w", e.Name(), err)
		}
		latest = max(latest, uint(n))
	}
	return latest, nil
}

// migrateUp brings the schema to the latest version on a connection of
// its own. golang-migrate holds a session advisory lock meanwhile, so
// replicas starting together migrate once; the others wait, then find
// nothing to do.
func migrateUp(ctx context.Context, cfg *pgx.ConnConfig) (uint, error) {
	latest, err := latestMigration()
	if err != nil {
		return 0, err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return 0, fmt.Errorf("store/postgres: connect: %w", err)
	}
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: MigrationsTable})
	if err != nil {
		return 0, fmt.Errorf("store/postgres: migrations: %w", err)
	}
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("store/postgres: migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return 0, fmt.Errorf("store/postgres: migrations: %w", err)
	}
	defer m.Close()

	// A database written by a newer program is refused before anything runs.
	v, _, err := m.Version()
	switch {
	case errors.Is(err, migrate.ErrNilVersion):
		v = 0
	case err != nil:
		return 0, fmt.Errorf("store/postgres: read the schema version: %w", err)
	}
	if v > latest {
		return v, fmt.Errorf("store/postgres: database schema %d is newer than this program's %d; upgrade the program", v, latest)
	}
	// Up takes the lock, then reads the version again: a replica that
	// waited for another finds the work done.
	err = m.Up()
	var dirty migrate.ErrDirty
	switch {
	case errors.As(err, &dirty):
		// golang-migrate marks a step dirty before it runs and clean
		// after. The step itself is one transaction, so the schema is at
		// the version before (the step failed and rolled back: the usual
		// case) or at the step's (the process died between the step's
		// commit and the clean mark).
		d := dirty.Version
		return uint(d), fmt.Errorf("store/postgres: schema step %d did not finish (%s is marked dirty). "+
			"Each step is one transaction, so the schema is at %d (the step failed; the server log says why) "+
			"or, rarely, at %d (the process died just after it committed). Check which, then record it: "+
			"UPDATE %s SET version = <that version>, dirty = false, and start again", d, MigrationsTable, d-1, d, MigrationsTable)
	case err != nil && !errors.Is(err, migrate.ErrNoChange):
		return v, fmt.Errorf("store/postgres: migrate the schema from %d to %d: %w", v, latest, err)
	}
	return latest, nil
}
