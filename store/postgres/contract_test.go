//go:build storetest

// The contract suite (store/storetest, on its way to main) on PostgreSQL.
// Switch it on by deleting the build line above once store/storetest has
// landed; until then `go test -tags storetest` would not compile. The
// outbox half (Opened.Queue) comes with outbox.Queue in phase 2.

package postgres_test

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/internal/pgtest"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.RunTx(t, func(tb testing.TB, now func() time.Time) storetest.Opened {
		dsn := pgtest.DSN(tb)
		var open func(tb testing.TB) storetest.Opened
		open = func(tb testing.TB) storetest.Opened {
			s := mustOpenDSN(tb, dsn, postgres.Options{Now: now})
			return storetest.Opened{Store: s, Reopen: func(tb testing.TB) storetest.Opened {
				s.Close()
				return open(tb)
			}}
		}
		return open(tb)
	})
}
