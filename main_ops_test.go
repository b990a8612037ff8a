package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
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
	const opsToken = "main-test-ops-token-0123456789"
	cfg.Ops.Token = opsToken
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
	// One event through the engine shows in the counters and the latency histogram.
	ev := flows.Event{Key: "t:1", Kind: flows.EvCommand, Command: "help",
		From: flows.Sender{ID: "tg:5", Chat: flows.Address{Channel: "tg", Chat: "5"}}, Chat: flows.Address{Channel: "tg", Chat: "5"}}
	for i := 0; i < 2; i++ { // the second is a redelivery
		if _, err := m.Engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/metrics": "repairbot_up 1",
		"/metrics#events": "repairbot_events_total 1", "/metrics#dup": "repairbot_events_duplicate_total 1",
		"/metrics#latency": `repairbot_handle_seconds_count{kind="command"} 2`, "/metrics#breaches": "repairbot_sla_breaches_total 0"} {
		path, _, _ = strings.Cut(path, "#")
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
	// `repairbot backup` while the bot holds the file: the running bot writes
	// a hot copy through POST /backup, the command copies and verifies it.
	// It sends ops.token, from the same environment variable as the bot's.
	cfgFile := filepath.Join(dir, "config.toml")
	toml := "[telegram]\nenabled = false\n[store]\ndata_dir = \"" + dir + "\"\npath = \"" + cfg.Store.Path + "\"\n[ops]\nlisten = \"" + addr + "\"\n"
	if err := os.WriteFile(cfgFile, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	dest := filepath.Join(t.TempDir(), "hot.db")
	t.Setenv("OPS_TOKEN", "")
	if err := run([]string{"backup", "-config", cfgFile, dest}, &out, &errs); err == nil || !strings.Contains(err.Error(), "OPS_TOKEN") {
		t.Fatalf("hot backup without the token: %v\n%s%s", err, out.String(), errs.String())
	}
	t.Setenv("OPS_TOKEN", "main-test-ops-token-wrong-one")
	if err := run([]string{"backup", "-config", cfgFile, dest}, &out, &errs); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("hot backup with a wrong token: %v\n%s%s", err, out.String(), errs.String())
	}
	t.Setenv("OPS_TOKEN", opsToken)
	out.Reset()
	if err := run([]string{"backup", "-config", cfgFile, dest}, &out, &errs); err != nil || !strings.Contains(out.String(), "by the running bot") ||
		!strings.Contains(out.String(), filepath.Join(dir, "backups", "repair-manual-")) {
		t.Fatalf("hot backup from the CLI: %v\n%s%s", err, out.String(), errs.String())
	}
	var backups []string
	for deadline := time.Now().Add(5 * time.Second); len(backups) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		backups, _ = filepath.Glob(filepath.Join(dir, "backups", "repair-2*Z.db")) // the nightly rotation's
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
