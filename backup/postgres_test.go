package backup_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/backup"
)

// TestPostgresStore: on a PostgreSQL store, backup and restore say to use
// the server's own tools instead of looking for a bbolt file.
func TestPostgresStore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	t.Setenv("DATABASE_URL", "postgres://bot:s3cret@db/repair")
	cfg := "[telegram]\nenabled = false\n[store]\ndata_dir = " + `"` + dir + `"` + "\ndriver = \"postgres\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cmd, want string }{
		{"backup", "pg_dump"},
		{"restore", "pg_restore"},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := backup.Command(c.cmd, []string{"-config", cfgPath, filepath.Join(dir, "copy.db")}, &out, &errs, nil)
			if !errors.Is(err, backup.ErrPostgres) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s on postgres: %v; want backup.ErrPostgres naming %s", c.cmd, err, c.want)
			}
			if strings.Contains(err.Error()+out.String()+errs.String(), "s3cret") {
				t.Fatal("the DSN's password was shown")
			}
			if _, err := os.Stat(filepath.Join(dir, "copy.db")); err == nil {
				t.Fatal("a file was written")
			}
		})
	}
}
