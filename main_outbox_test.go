package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
)

// failedRows puts three failed rows in the database at path: two given
// up after an outage, one refused for good.
func failedRows(t *testing.T, path string) []outbox.Row {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	to := flows.Address{Channel: "tg", Chat: "100"}
	if err := st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(flows.Message{To: to, Kind: flows.KindSend, Text: "a", Ticket: "BX-20261127-0001"},
			flows.Message{To: to, Kind: flows.KindSend, Text: "b"}, flows.Message{To: to, Kind: flows.KindSend, Text: "c"})
	}); err != nil {
		t.Fatal(err)
	}
	rows, _ := st.Pending(0)
	for i, e := range []string{"given up: undelivered for 72h; last error: HTTP 502", "given up: undelivered for 72h; last error: timeout",
		"Forbidden: bot was blocked by the user"} {
		if err := st.MarkFailed(rows[i].ID, e, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

func writeConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "config.toml")
	toml := "[telegram]\nenabled = false\n[store]\ndata_dir = \"" + dir + "\"\n" + extra
	if err := os.WriteFile(p, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// `repairbot outbox list` and `requeue` on the file while the bot is
// stopped: the list names each failed row (id, where, why); requeue by id,
// by error text or all puts rows back in the queue; bad arguments are
// refused with the usage.
func TestOutboxCommandStopped(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeConfig(t, dir, "")
	rows := failedRows(t, filepath.Join(dir, "repair.db"))
	var out, errs bytes.Buffer
	if err := run([]string{"outbox", "-config", cfgFile, "list"}, &out, &errs); err != nil {
		t.Fatalf("list: %v\n%s", err, errs.String())
	}
	for _, want := range []string{"ID", "tg:100", "BX-20261127-0001", "HTTP 502", "blocked by the user", "3 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list lacks %q:\n%s", want, out.String())
		}
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no verb", []string{}, "say list or requeue"},
		{"unknown verb", []string{"purge"}, `unknown command "purge"`},
		{"requeue nothing", []string{"requeue"}, "name the messages"},
		{"requeue a word", []string{"requeue", "seven"}, `"seven" is not a message id`},
		{"list with arguments", []string{"list", "3"}, "takes no arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(append([]string{"outbox", "-config", cfgFile}, c.args...), &out, &errs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v; want %q", err, c.want)
			}
		})
	}
	out.Reset()
	if err := run([]string{"outbox", "-config", cfgFile, "requeue", "-error", "http 502"}, &out, &errs); err != nil ||
		!strings.Contains(out.String(), "re-queued 1: "+itoa(rows[0].ID)) {
		t.Fatalf("requeue by error: %v %s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"outbox", "requeue", "-config", cfgFile, itoa(rows[2].ID), "999"}, &out, &errs); err != nil ||
		!strings.Contains(out.String(), "re-queued 1: "+itoa(rows[2].ID)) || !strings.Contains(out.String(), "when the bot starts") {
		t.Fatalf("requeue by id: %v %s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"outbox", "-config", cfgFile, "requeue", "-all"}, &out, &errs); err != nil || !strings.Contains(out.String(), "re-queued 1: "+itoa(rows[1].ID)) {
		t.Fatalf("requeue all: %v %s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"outbox", "-config", cfgFile, "requeue", "-all"}, &out, &errs); err != nil || !strings.Contains(out.String(), "nothing re-queued") {
		t.Fatalf("requeue all again: %v %s", err, out.String())
	}
	st, err := store.Open(filepath.Join(dir, "repair.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s, _ := st.Stats(); s.Pending != 3 || s.Failed != 0 {
		t.Fatalf("after requeue: %+v", s)
	}
}

// While the bot runs it holds the file: the command asks its ops endpoint
// with OPS_TOKEN, and the bot sends what was re-queued.
func TestOutboxCommandRunning(t *testing.T) {
	dir := t.TempDir()
	rows := failedRows(t, filepath.Join(dir, "repair.db"))
	const token = "main-test-ops-token-0123456789"
	cfg := config.Default()
	cfg.Telegram.Enabled = false
	cfg.Store.DataDir = dir
	cfg.Ops.Listen, cfg.Ops.Token = "127.0.0.1:0", token
	m := NewMain(cfg)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfgFile := writeConfig(t, dir, "[ops]\nlisten = \""+m.Ops.Addr()+"\"\n")
	var out, errs bytes.Buffer
	t.Setenv("OPS_TOKEN", "")
	if err := run([]string{"outbox", "-config", cfgFile, "list"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "OPS_TOKEN") {
		t.Fatalf("without the token: %v", err)
	}
	t.Setenv("OPS_TOKEN", "main-test-ops-token-wrong-one")
	if err := run([]string{"outbox", "-config", cfgFile, "list"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("with a wrong token: %v", err)
	}
	t.Setenv("OPS_TOKEN", token)
	if err := run([]string{"outbox", "-config", cfgFile, "list"}, &out, &errs); err != nil || !strings.Contains(out.String(), "3 failed") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"outbox", "-config", cfgFile, "requeue", "-error", "given up"}, &out, &errs); err != nil ||
		!strings.Contains(out.String(), "re-queued 2: "+itoa(rows[0].ID)+" "+itoa(rows[1].ID)) || !strings.Contains(out.String(), "running bot sends them now") {
		t.Fatalf("requeue: %v %s", err, out.String())
	}
	if s, _ := m.Store.Stats(); s.Failed != 1 {
		t.Fatalf("after requeue through the bot: %+v", s)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
