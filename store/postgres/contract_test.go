package postgres_test

// The contract suite (store/storetest) on PostgreSQL: the transaction
// rules, every flows.Tx method and the outbox.

import (
	"testing"

	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
	"github.com/repairbot/repairbot/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, pgstoretest.Open)
}
