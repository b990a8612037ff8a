package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// TestMigrateStoreCommand: `repairbot migrate-store` copies a bbolt file
// into the database the config names, prints a summary, can run again,
// and refuses a bbolt target and a database a bot runs on.
func TestMigrateStoreCommand(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "repair.db")
	src, err := store.Open(from, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = src.Update(context.Background(), func(tx flows.Tx) error {
		for _, id := range []string{"tg:1", "tg:2", "tg:3"} {
			if err := tx.PutPerson(&flows.Person{ID: id, Role: flows.RoleResident, Name: id}); err != nil {
				return err
			}
		}
		return tx.SetCursor("tg", "42")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	// A kept photo beside the file, as a bbolt deployment keeps them.
	photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{5}, 64)...)
	_, photoRel, err := (&media.Store{Dir: filepath.Join(dir, "photos"), Max: 1 << 20}).Put(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	writeConfig := func(name, storeSection string) string {
		path := filepath.Join(dir, name)
		doc := "[telegram]\nenabled = false\n[store]\n" + storeSection + "data_dir = \"" + dir + "\"\n"
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	migrate := func(cfg string) (string, error) {
		var out, errOut bytes.Buffer
		err := run([]string{"migrate-store", "-from", from, "-config", cfg}, &out, &errOut)
		return out.String() + errOut.String(), err
	}

	t.Run("a bbolt target is refused", func(t *testing.T) {
		out, err := migrate(writeConfig("bolt.toml", ""))
		if err == nil || !strings.Contains(err.Error(), `driver = "postgres"`) {
			t.Fatalf("err = %v, output %q", err, out)
		}
	})

	dsn := pgstoretest.DSN(t)
	t.Setenv("DATABASE_URL", dsn)
	pg := writeConfig("pg.toml", "driver = \"postgres\"\n")
	for _, run := range []string{"first run", "second run"} {
		t.Run(run, func(t *testing.T) {
			out, err := migrate(pg)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, want := range []string{"copied 4 of 4 records (100%)", "people", "done: 4 records", "the counts of every area are equal",
				"photos and documents: 1 copied from " + filepath.Join(dir, "photos")} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
		})
	}
	t.Run("the photos are in the database", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rc, err := (&media.Store{Dir: t.TempDir(), Blobs: st.Blobs()}).Open(photoRel)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if got, _ := io.ReadAll(rc); !bytes.Equal(got, photo) {
			t.Errorf("the copied photo has other bytes")
		}
	})
	t.Run("no photos directory is said", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run([]string{"migrate-store", "-from", from, "-config", pg, "-photos", filepath.Join(dir, "none")}, &out, &errOut)
		if err != nil || !strings.Contains(out.String(), "no photos copied") {
			t.Errorf("err = %v, output %q", err, out.String()+errOut.String())
		}
	})

	t.Run("a database a bot runs on is refused", func(t *testing.T) {
		cfg, err := config.Load(pg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Ops.Listen = "127.0.0.1:0"
		m := NewMain(cfg)
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		out, err := migrate(pg)
		if err == nil || !strings.Contains(err.Error(), "stop it first") {
			t.Fatalf("err = %v, output %q", err, out)
		}
	})
}
