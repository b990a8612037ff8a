//go:build postgres

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/pgtest"
	"github.com/repairbot/repairbot/store/postgres"
)

var t0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// MustOpen opens a store on a fresh database of its own, closed when the
// test ends.
func MustOpen(tb testing.TB, o postgres.Options) *postgres.Store {
	tb.Helper()
	return mustOpenDSN(tb, pgtest.DSN(tb), o)
}

func mustOpenDSN(tb testing.TB, dsn string, o postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func update(tb testing.TB, s flows.Store, fn func(flows.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("update: %v", err)
	}
}

func view(tb testing.TB, s flows.Store, fn func(flows.Tx) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatalf("view: %v", err)
	}
}

// count reads one number with SQL, for checks the flows.Tx cannot make.
func count(tb testing.TB, s *postgres.Store, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}
