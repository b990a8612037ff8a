//go:build postgres

package postgres_test

// The contract suite (store/storetest) on PostgreSQL: the transaction
// rules and every flows.Tx method. The outbox half (Opened.Queue, with
// storetest.Run instead of RunTx) comes with outbox.Queue in phase 2.

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
