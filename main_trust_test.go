package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/store"
)

// A database file that exists but is empty or damaged stops the start-up
// with a message naming the file, `repairbot restore` and the newest
// backup; the file is left as it was (an empty one is not made a new
// database).
func TestMainRefusesEmptyOrDamagedDatabase(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"damaged", []byte(strings.Repeat("garbage ", 4096))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := config.Default()
			cfg.Telegram.Enabled = false
			cfg.Store.DataDir = dir
			db := cfg.Store.DBPath()
			// A good copy from before, in the backup directory.
			st, err := store.Open(db, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			good, err := backup.Rotate(st, cfg.BackupDir(), 3, time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC))
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			m := NewMain(cfg)
			err = m.Run(context.Background())
			_ = m.Close()
			if err == nil {
				t.Fatal("started on a " + tc.name + " database")
			}
			for _, s := range []string{db, "repairbot restore", filepath.Base(good)} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the message does not say %q: %v", s, err)
				}
			}
			if got, _ := os.ReadFile(db); string(got) != string(tc.content) {
				t.Fatalf("the %s file was changed (%d bytes)", tc.name, len(got))
			}
		})
	}
}

// A secret spelled out in the configuration file (the README says never
// to) is logged as a warning at start-up, naming the key, never the value.
func TestMainWarnsOfSecretsInTheFile(t *testing.T) {
	const token = "123456789:literal-token-in-the-config-file-abcdefg"
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf("[telegram]\nenabled = false\ntoken = %q\n[store]\ndata_dir = %q\n", token, dir)))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncLog // the engine, the jobs and the outbox log from their goroutines
	m := NewMain(cfg)
	m.Log = zerolog.New(&logs)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, "config: telegram.token is spelled out in the configuration file") {
		t.Fatalf("no warning logged:\n%s", out)
	}
	if strings.Contains(out, "literal-token") {
		t.Fatalf("the token is logged:\n%s", out)
	}
}

// syncLog is a log sink safe for the program's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
