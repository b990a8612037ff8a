package config_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
)

func TestStoreDriver(t *testing.T) {
	for _, c := range []struct {
		name, toml string
		env        map[string]string
		wantErr    string // empty: valid
		wantDSN    string
	}{
		{name: "bbolt by default", toml: ``},
		{name: "postgres from the environment", toml: "[store]\ndriver = \"postgres\"\n",
			env: map[string]string{"DATABASE_URL": "postgres://bot:s3cret@db/repair"}, wantDSN: "postgres://bot:s3cret@db/repair"},
		{name: "postgres without DATABASE_URL", toml: "[store]\ndriver = \"postgres\"\n", env: map[string]string{"DATABASE_URL": ""},
			wantErr: "store.dsn: environment variable DATABASE_URL is set but empty"},
		{name: "a literal DSN without a password", toml: "[store]\ndriver = \"postgres\"\ndsn = \"host=/run/postgresql dbname=repair\"\n",
			wantDSN: "host=/run/postgresql dbname=repair"},
		{name: "a literal password", toml: "[store]\ndriver = \"postgres\"\ndsn = \"postgres://bot:s3cret@db/repair\"\n",
			wantErr: "store.dsn: carries a password in the file"},
		{name: "an unknown driver", toml: "[store]\ndriver = \"sqlite\"\n", wantErr: `store.driver: must be "bbolt" or "postgres" (got "sqlite")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Parse([]byte("[telegram]\nenabled = false\n" + c.toml))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantDSN != "" && (cfg.Store.DSN != c.wantDSN || !cfg.Store.Postgres()) {
				t.Fatalf("store %+v, want postgres at %q", cfg.Store, c.wantDSN)
			}
			if c.wantDSN == "" && cfg.Store.Driver != config.DriverBolt {
				t.Fatalf("driver %q, want bbolt", cfg.Store.Driver)
			}
			if strings.Contains(cfg.Redacted().Store.DSN, "s3cret") {
				t.Fatalf("Redacted keeps the password: %q", cfg.Redacted().Store.DSN)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://bot:s3cret@db:5432/repair?sslmode=require": "postgres://bot:%2A%2A%2A@db:5432/repair?sslmode=require",
		"postgres://bot@db/repair":                             "postgres://bot@db/repair",
		"postgresql://db/repair?password=s3cret":               "postgresql://db/repair?password=%2A%2A%2A",
		"host=db user=bot password=s3cret dbname=repair":       "host=db user=bot password=*** dbname=repair",
		"host=db password='s3 cret' dbname=repair":             "host=db password=*** dbname=repair",
		"": "",
	} {
		if got := config.RedactDSN(dsn); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}
