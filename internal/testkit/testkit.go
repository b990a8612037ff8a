// Package testkit opens a real store for the tests of adapters that must
// not import one (bot/telegram, bot/wecom, ops, jobs): they see it only
// through the interfaces they are given in production (flows.Store and
// outbox.Queue), so their test files do not import repairbot/store
// either. Open opens the bbolt store; PostgresDSN and OpenReplica a
// PostgreSQL one, as a replica of the bot; Front is the round-robin
// webhook front before such replicas.
package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// Store is a store as an adapter's tests use it: transactions, the
// delivery side of the outbox, the health ping, housekeeping and Close.
type Store interface {
	flows.Store
	outbox.Queue
	Requeue(ids []uint64, at time.Time) ([]outbox.Row, error)
	Ping() error
	PruneSeen(before time.Time) (int, error)
	PruneDelivered(before time.Time) (int, error)
	Close() error
}

// Options tune the store a test opens.
type Options struct {
	// Now is the store's clock (row creation times); time.Now when nil.
	Now func() time.Time
	// NoSync skips fsync (faster; a crash test must not set it).
	NoSync bool
}

// Open opens (or creates) the store file at path.
func Open(path string, o Options) (Store, error) {
	st, err := store.Open(path, store.Options{Now: o.Now, NoSync: o.NoSync})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// MustOpen opens the store at path or fails tb. The caller closes it.
func MustOpen(tb testing.TB, path string, o Options) Store {
	tb.Helper()
	st, err := Open(path, o)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return st
}

// Replica is a store on a database that several replicas share: a Store
// that may lead them (store/postgres).
type Replica interface {
	Store
	TryLead(ctx context.Context) (bool, error)
	Leading() bool
}

// PostgresDSN is a database of tb's own on the server REPAIRBOT_PG_DSN
// names, schema migrated; tb is skipped (or failed, with
// REPAIRBOT_PG_REQUIRED=1) without one.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	return pgstoretest.DSN(tb)
}

// OpenReplica opens a PostgreSQL store on dsn, as one replica of the bot.
// The caller closes it.
func OpenReplica(ctx context.Context, dsn string) (Replica, error) {
	return postgres.Open(ctx, dsn, postgres.Options{})
}
