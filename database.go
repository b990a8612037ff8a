package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/ops"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
)

// Database is what main wires of a store, whichever driver holds it: the
// engine's transactions, the outbox's delivery side, the housekeeping and
// the health check's ping. Both stores implement it.
type Database interface {
	flows.Store
	outbox.Queue
	outbox.Requeuer
	jobs.Housekeeper
	jobs.Pruner
	jobs.MediaReferrer
	ops.Pinger
	Close() error
}

var (
	_ Database = (*store.Store)(nil)
	_ Database = (*postgres.Store)(nil)
)

// openDatabase opens the store [store] configures: the bbolt file, or the
// PostgreSQL database (its schema migrated). name describes it for the
// log, never with a password.
func openDatabase(ctx context.Context, cfg config.Config, now func() time.Time) (db Database, name string, err error) {
	if cfg.Store.Postgres() {
		st, err := postgres.Open(ctx, cfg.Store.DSN, postgres.Options{Now: now})
		if err != nil {
			return nil, "", fmt.Errorf("store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
		}
		// Replicas (several processes on one database, one of them
		// leading the outbox and the timers) are not wired yet: until
		// they are, a second process is refused rather than left to send
		// every message twice.
		lead, err := st.TryLead(ctx)
		if err == nil && !lead {
			err = errors.New("another repairbot already runs against this database; " +
				"running several replicas is not supported yet (only one process may use it)")
		}
		if err != nil {
			_ = st.Close()
			return nil, "", fmt.Errorf("store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
		}
		return st, "postgres " + config.RedactDSN(cfg.Store.DSN), nil
	}
	st, err := store.Open(cfg.Store.DBPath(), store.Options{LockTimeout: cfg.Store.LockTimeout.Duration, Now: now, DefaultArea: cfg.DefaultArea()})
	if errors.Is(err, store.ErrEmpty) || errors.Is(err, store.ErrCorrupt) {
		return nil, "", backup.WithNewest(err, cfg.BackupDir())
	}
	if err != nil {
		return nil, "", err
	}
	return st, st.Path(), nil
}
