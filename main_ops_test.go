package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

// With ops.listen set, Run serves /healthz and /metrics and Close stops
// the endpoint before anything else; the running bot writes its own
// backups on backup.schedule.
func TestMainServesOps(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Telegram.Enabled = false
	cfg.Store.DataDir = dir
	cfg.Store.Path = filepath.Join(dir, "repair.db")
	cfg.Ops.Listen = "127.0.0.1:0"
	cfg.Backup.Schedule = "@every 1s"
	m := NewMain(cfg)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.Ops == nil {
		_ = m.Close()
		t.Fatal("ops.listen set but no server")
	}
	addr := m.Ops.Addr()
	for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/metrics": "repairbot_up 1"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	var backups []string
	for deadline := time.Now().Add(5 * time.Second); len(backups) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		backups, _ = filepath.Glob(filepath.Join(dir, "backups", "repair-*.db"))
	}
	if len(backups) == 0 {
		t.Error("no backup written in 5 s on @every 1s")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
}
