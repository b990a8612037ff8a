package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/media"
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
	_ Replicas = (*postgres.Store)(nil)
)

// Replicas is a database several processes share (PostgreSQL). Every
// replica receives: webhooks and callbacks through a load balancer, each
// update committed with its dedupe mark, one conversation at a time across
// all of them. One replica leads, the one holding the database's leader
// lock: it alone delivers the outbox (the platforms' rate budgets are a
// process's), runs the timers and the nightly jobs (one clock), and polls
// Telegram in polling mode (one getUpdates per bot). When it dies its
// lock goes with its connection and another replica takes the lead
// within campaignEvery, carrying on from the stored state.
type Replicas interface {
	Leading() bool
	Campaign(ctx context.Context, interval time.Duration, onChange func(leading bool))
	Subscribe() <-chan struct{}
}

// campaignEvery is how often a replica checks its session and tries to
// lead: a dead leader is replaced within it (plus the server noticing a
// vanished machine, the session's keepalives: about 8 s).
const campaignEvery = 2 * time.Second

// openMedia is the media store for db: on PostgreSQL the copies live in
// the database's media table, so every replica reads what any one of them
// received; on bbolt they are files under data_dir/photos.
func openMedia(cfg config.Config, db Database) *media.Store {
	kept := &media.Store{Dir: filepath.Join(cfg.Store.DataDir, "photos"), Max: cfg.Limits.MaxPhotoBytes, PerHour: cfg.Limits.MaxPhotosPerHour}
	if pg, ok := db.(*postgres.Store); ok {
		kept.Blobs = pg.Blobs()
	}
	return kept
}

// openDatabase opens the store [store] configures: the bbolt file, or the
// PostgreSQL database (its schema migrated). name describes it for the
// log, never with a password.
func openDatabase(ctx context.Context, cfg config.Config, now func() time.Time) (db Database, name string, err error) {
	if cfg.Store.Postgres() {
		st, err := postgres.Open(ctx, cfg.Store.DSN, postgres.Options{Now: now})
		if err != nil {
			return nil, "", fmt.Errorf("store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
		}
		// Several replicas may share the database: each receives, one
		// leads (Replicas). Trying at once lets a lone process lead from
		// its first second.
		if _, err := st.TryLead(ctx); err != nil {
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
