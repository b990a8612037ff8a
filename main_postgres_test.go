package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// TestMainOnPostgres: [store] driver = "postgres" runs the bot on the
// database (schema migrated at start-up, events committed there, /healthz
// naming it), and a second process on the same database is refused while
// replicas are not wired.
func TestMainOnPostgres(t *testing.T) {
	t.Setenv("DATABASE_URL", pgstoretest.DSN(t))
	cfg, err := config.Parse([]byte("[telegram]\nenabled = false\n[store]\ndriver = \"postgres\"\ndata_dir = \"" + t.TempDir() + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ops.Listen = "127.0.0.1:0"
	m := NewMain(cfg)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ev := flows.Event{Key: "t:1", Kind: flows.EvCommand, Command: "help",
		From: flows.Sender{ID: "tg:5", Chat: flows.Address{Channel: "tg", Chat: "5"}}, Chat: flows.Address{Channel: "tg", Chat: "5"}}
	if _, err := m.Engine.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if rows, err := m.Store.Pending(0); err != nil || len(rows) == 0 {
		t.Fatalf("the answer to /help is not in the PostgreSQL outbox: %d rows, %v", len(rows), err)
	}
	resp, err := http.Get("http://" + m.Ops.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`"status":"ok"`, `"store":"writable"`, `"database":"postgres"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/healthz %s: no %s", body, want)
		}
	}

	second := NewMain(cfg)
	err = second.Run(context.Background())
	_ = second.Close()
	if err == nil || !strings.Contains(err.Error(), "another repairbot already runs against this database") {
		t.Fatalf("a second process on the database: %v", err)
	}
}
