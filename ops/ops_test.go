package ops_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/ops"
)

var t0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// fakeChannel is a channel as ops sees it: a name, and the capabilities
// it was given.
type fakeChannel struct{ name string }

func (f *fakeChannel) Name() string               { return f.name }
func (f *fakeChannel) Open(context.Context) error { return nil }
func (f *fakeChannel) Close() error               { return nil }

// fakeStats counts deliveries (bot.StatsReporter).
type fakeStats struct {
	fakeChannel
	stats bot.SendStats
}

func (f *fakeStats) SendStats() bot.SendStats { return f.stats }

// fakeTG polls (bot.HealthChecker) and counts (bot.StatsReporter), like
// Telegram in polling mode with a 150 s limit.
type fakeTG struct {
	fakeStats
	last time.Time
}

func (f *fakeTG) Health(now time.Time) []bot.Check {
	age := now.Sub(f.last)
	c := bot.Check{Name: "telegram_poll", OK: age <= 150*time.Second, Poll: true, PollAge: age}
	if !c.OK {
		c.Detail = "no getUpdates answer for " + age.String()
	}
	return []bot.Check{c}
}
func (f *fakeTG) set(last time.Time, s bot.SendStats) { f.last, f.stats = last, s }

type rig struct {
	st  testkit.Store
	tg  *fakeTG
	wc  *fakeStats
	now time.Time
	srv *ops.Server
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{now: t0, tg: &fakeTG{fakeStats: fakeStats{fakeChannel: fakeChannel{"telegram"}}},
		wc: &fakeStats{fakeChannel: fakeChannel{"wecom"}}}
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{Now: func() time.Time { return r.now }})
	t.Cleanup(func() { st.Close() })
	r.st = st
	// Two undelivered messages, the oldest enqueued now.
	err := st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(
			flows.Message{To: flows.Address{Channel: "tg", Chat: "100"}, Kind: flows.KindSend, Text: "a"},
			flows.Message{To: flows.Address{Channel: "tg", Chat: "100"}, Kind: flows.KindSend, Text: "b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A channel without capabilities is listed and ignored.
	channels := []bot.Channel{r.tg, r.wc, &fakeChannel{"plain"}}
	r.srv, err = ops.New(ops.Options{Store: st, Outbox: st, Channels: channels,
		Now: func() time.Time { return r.now }, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) get(t *testing.T, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	r := newRig(t)
	r.now = t0.Add(90 * time.Second)
	r.tg.set(t0.Add(60*time.Second), bot.SendStats{Sent: 5})
	code, body := r.get(t, "/healthz")
	if code != http.StatusOK {
		t.Fatalf("healthy store: %d %s", code, body)
	}
	var h map[string]any
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"status": "ok", "store": "writable", "outbox_pending": 2.0,
		"outbox_oldest_age_s": 90.0, "failed": 0.0, "last_poll_age_s": 30.0} {
		if h[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, h[k], want, body)
		}
	}

	// The poll is stale: 503 naming telegram_poll.
	r.now = t0.Add(10 * time.Minute)
	code, body = r.get(t, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing":["telegram_poll"]`) ||
		!strings.Contains(body, `"telegram":"no getUpdates answer for 9m0s"}`) {
		t.Fatalf("stale poll: %d %s", code, body)
	}
	r.tg.set(r.now, bot.SendStats{})

	// The store is gone: 503 naming the store.
	r.st.Close()
	code, body = r.get(t, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"store"`) || !strings.Contains(body, `"failing":["store"`) {
		t.Fatalf("closed store: %d %s", code, body)
	}
	if code, _ := r.get(t, "/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", code)
	}
	rec := httptest.NewRecorder()
	r.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz: %d", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	r := newRig(t)
	r.now = t0.Add(42 * time.Second)
	r.tg.set(t0.Add(40*time.Second), bot.SendStats{Sent: 7, Retried: 3, Paused: 2, Failed: 1})
	r.wc.stats = bot.SendStats{Sent: 4, Retried: 1, Paused: 5}
	code, body := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	want := map[string]float64{
		"repairbot_outbox_pending":            2,
		"repairbot_outbox_oldest_age_seconds": 42,
		"repairbot_outbox_failed_total":       0,
		"repairbot_sent_total":                11, // every channel together
		"repairbot_telegram_429_total":        7,
		"repairbot_retries_total":             4,
		"repairbot_last_poll_age_seconds":     2,
		"repairbot_up":                        1,
	}
	for name, v := range want {
		f, ok := fams[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		m := f.GetMetric()[0]
		got := m.GetGauge().GetValue()
		if m.Counter != nil {
			got = m.GetCounter().GetValue()
			if !strings.HasSuffix(name, "_total") {
				t.Errorf("%s is a counter without _total", name)
			}
		}
		if got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	// Nothing from the global registry (go_*, process_*) leaks in.
	for name := range fams {
		if !strings.HasPrefix(name, "repairbot_") {
			t.Errorf("unexpected metric %s", name)
		}
	}
	// Each reporting channel has its own series.
	perChannel := map[string]map[string]float64{
		"repairbot_channel_sent_total":    {"telegram": 7, "wecom": 4},
		"repairbot_channel_retries_total": {"telegram": 3, "wecom": 1},
		"repairbot_channel_paused_total":  {"telegram": 2, "wecom": 5},
		"repairbot_channel_failed_total":  {"telegram": 1, "wecom": 0},
	}
	for name, want := range perChannel {
		got := map[string]float64{}
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// The values are live: no bookkeeping of their own.
	r.tg.set(r.now, bot.SendStats{Sent: 8})
	if _, body := r.get(t, "/metrics"); !strings.Contains(body, "repairbot_sent_total 12") {
		t.Fatalf("sent_total not live:\n%s", body)
	}
	r.st.Close()
	if _, body := r.get(t, "/metrics"); !strings.Contains(body, "repairbot_up 0") {
		t.Fatalf("up after the store closed:\n%s", body)
	}
}

// Several servers (one per test, one per Main) can coexist: each has its
// own registry. Start listens for real and Close stops it.
func TestStartClose(t *testing.T) {
	a, b := newRig(t), newRig(t)
	srv, err := ops.Start(ops.Options{Listen: "127.0.0.1:0", Store: a.st, Outbox: a.st, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv2, err := ops.Start(ops.Options{Listen: "127.0.0.1:0", Store: b.st, Outbox: b.st, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "repairbot_sent_total 0") ||
		strings.Contains(string(body), "repairbot_last_poll_age_seconds") {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	// Without a polling channel there is no poll check.
	resp, err = http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(body), "last_poll") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
	if _, err := ops.New(ops.Options{Store: a.st}); err == nil {
		t.Fatal("no outbox: want an error")
	}
}
