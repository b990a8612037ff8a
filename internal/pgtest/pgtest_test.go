package pgtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/internal/pgtest"
)

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ name, dsn, want string }{
		{"url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/rb_x?sslmode=disable"},
		{"url without a database", "postgresql://u:p@h", "postgresql://u:p@h/rb_x"},
		{"keywords", "host=/tmp/sock port=5432 dbname=postgres", "host=/tmp/sock port=5432 dbname=postgres dbname=rb_x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := pgtest.WithDatabase(c.dsn, "rb_x")
			if err != nil || got != c.want {
				t.Fatalf("WithDatabase(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
			}
			// The driver reads the new database from it (a later keyword wins).
			cfg, err := pgx.ParseConfig(got)
			if err != nil || cfg.Database != "rb_x" {
				t.Fatalf("pgx reads database %q from %q (%v)", cfg.Database, got, err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:secret@h/db":        "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":               "postgres://u@h/db",
		"host=h user=u password=secret":   "(a DSN with a password)",
		"host=h user=u dbname=repair_bot": "host=h user=u dbname=repair_bot",
	} {
		if got := pgtest.Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
}
