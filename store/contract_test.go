package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/storetest"
)

// TestContract runs the store contract suite on bbolt.
func TestContract(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, now func() time.Time) storetest.Opened {
		return openContract(tb, filepath.Join(tb.TempDir(), "repair.db"), now)
	})
}

func openContract(tb testing.TB, path string, now func() time.Time) storetest.Opened {
	tb.Helper()
	s, err := store.Open(path, store.Options{Now: now, LockTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return storetest.Opened{Store: s, Queue: s, Reopen: func(tb testing.TB) storetest.Opened {
		if err := s.Close(); err != nil {
			tb.Fatal(err)
		}
		return openContract(tb, path, now)
	}}
}
