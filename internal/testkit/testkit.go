// Package testkit opens a real store for the tests of adapters that must
// not import one (bot/telegram, bot/wecom, ops, jobs): they see it only
// through the interfaces they are given in production (flows.Store and
// outbox.Queue), so their test files do not import repairbot/store
// either. The bbolt store is the one opened today; a second
// implementation would be chosen here.
package testkit

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
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
