package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// TestMainOnPostgres: [store] driver = "postgres" runs the bot on the
// database (schema migrated at start-up, events committed there, /healthz
// naming it and that it leads); a second process on the same database
// runs beside it as a replica that does not lead, and takes the lead when
// the first stops.
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
	first := true // m still runs
	defer func() {
		if first {
			m.Close()
		}
	}()
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
	for _, want := range []string{`"status":"ok"`, `"store":"writable"`, `"database":"postgres"`, `"leader":true`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/healthz %s: no %s", body, want)
		}
	}

	second := NewMain(cfg)
	if err := second.Run(context.Background()); err != nil {
		t.Fatalf("a second replica on the database: %v", err)
	}
	defer second.Close()
	health := func(m *Main) string {
		t.Helper()
		resp, err := http.Get("http://" + m.Ops.Addr() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if h := health(second); !strings.Contains(h, `"status":"ok"`) || !strings.Contains(h, `"leader":false`) {
		t.Fatalf("the second replica's /healthz: %s (want ok, not leading)", h)
	}
	if !m.Store.(Replicas).Leading() || second.Store.(Replicas).Leading() {
		t.Fatal("want the first replica leading and the second not")
	}
	first = false
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * campaignEvery)
	for !second.Store.(Replicas).Leading() {
		if time.Now().After(deadline) {
			t.Fatalf("the second replica did not take the lead within %s of the first stopping", 3*campaignEvery)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := health(second); !strings.Contains(h, `"leader":true`) {
		t.Fatalf("the new leader's /healthz: %s", h)
	}
}

// TestMainOnPostgresKeepsMediaInTheDatabase: on PostgreSQL the media store
// is the database's, so two replicas with data directories of their own
// share their photos (one keeps, the other opens; none is a file); on
// bbolt they stay files under data_dir/photos.
func TestMainOnPostgresKeepsMediaInTheDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", pgstoretest.DSN(t))
	replica := func() (*Main, string) {
		t.Helper()
		dir := t.TempDir()
		cfg, err := config.Parse([]byte("[telegram]\nenabled = false\n[store]\ndriver = \"postgres\"\ndata_dir = \"" + dir + "\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		m := NewMain(cfg)
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m, dir
	}
	a, dirA := replica()
	b, dirB := replica()
	photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{8}, 64)...)
	_, rel, err := a.Media.Put(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Media.Open(rel)
	if err != nil {
		t.Fatalf("the other replica cannot open the photo: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, photo) {
		t.Error("the other replica read other bytes")
	}
	for _, d := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Join(d, "photos")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a replica made %s/photos: %v", d, err)
		}
	}

	dir := t.TempDir()
	cfg, err := config.Parse([]byte("[telegram]\nenabled = false\n[store]\ndata_dir = \"" + dir + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	bolt := NewMain(cfg)
	if err := bolt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	if _, rel, err = bolt.Media.Put(bytes.NewReader(photo)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "photos", rel)); err != nil || bolt.Media.Blobs != nil {
		t.Errorf("on bbolt the photo is not a file under data_dir/photos: %v", err)
	}
}
