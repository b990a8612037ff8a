package flows_test

import (
	"os"
	"testing"

	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// TestMain runs the flows suite on bbolt, then again on PostgreSQL when
// REPAIRBOT_PG_DSN names a server (see internal/pgtest).
func TestMain(m *testing.M) {
	os.Exit(pgstoretest.RunAlsoOnPostgres(m, "the flows suite", &flowstest.Open))
}
