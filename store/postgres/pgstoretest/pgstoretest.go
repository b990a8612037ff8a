// Package pgstoretest opens PostgreSQL stores for tests: the contract
// suite (store/storetest) and the flows suite (flows/flowstest) run on
// them through Open. Each store gets a database of its own, copied from a
// template migrated once per schema and emptied between tests
// (internal/pgtest.Reused), so a
// suite of a thousand small tests spends its time in the tests, not in
// CREATE DATABASE and migrations.
package pgstoretest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/repairbot/repairbot/internal/pgtest"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/storetest"
)

// DSN returns a fresh, migrated database for this test (dropped when it
// ends); it skips the test, or fails it when required, without a server
// (internal/pgtest).
func DSN(tb testing.TB) string {
	tb.Helper()
	return pgtest.Reused(tb, postgres.MigrationsDigest(), []string{postgres.MigrationsTable}, func(ctx context.Context, dsn string) error {
		_, err := postgres.Migrate(ctx, dsn)
		return err
	})
}

// Open is a storetest.Open: a fresh store on a database of its own,
// stamping outbox rows with now, closed when the test ends; Reopen closes
// it and opens the same database again.
func Open(tb testing.TB, now func() time.Time) storetest.Opened {
	tb.Helper()
	return OpenDSN(tb, DSN(tb), postgres.Options{Now: now})
}

// OpenDSN opens a store on dsn with o, closed when the test ends; its
// Reopen opens the same database again with the same options.
func OpenDSN(tb testing.TB, dsn string, o postgres.Options) storetest.Opened {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return storetest.Opened{Store: s, Queue: s, Reopen: func(tb testing.TB) storetest.Opened {
		_ = s.Close()
		return OpenDSN(tb, dsn, o)
	}}
}

// RunAlsoOnPostgres is a TestMain's body for a package whose tests take
// their store from *open (flowstest.Open): it runs the package's tests as
// they are, then, when there is a server (internal/pgtest), all of them
// again with *open set to Open. Without a server it says how to run them;
// with REPAIRBOT_PG_REQUIRED=1 that is a failure. It returns the exit code.
func RunAlsoOnPostgres(m *testing.M, suite string, open *storetest.Open) int {
	code := m.Run()
	if os.Getenv(pgtest.EnvDSN) == "" {
		msg := suite + " on PostgreSQL: " + pgtest.HowTo
		if os.Getenv(pgtest.EnvRequired) == "1" {
			fmt.Println("FAIL: " + msg)
			return 1
		}
		fmt.Println("SKIP: " + msg)
		return code
	}
	fmt.Println("=== " + suite + " again, on PostgreSQL")
	*open = Open
	if c := m.Run(); c != 0 {
		fmt.Println("FAIL: " + suite + " on PostgreSQL")
		return c
	}
	return code
}
