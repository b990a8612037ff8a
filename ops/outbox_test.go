package ops_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/repairbot/repairbot/outbox"
)

// A platform that stops answering the sender shows in /healthz
// ("unreachable_since", and the channel's own "<name>_send" check) and in
// the metrics (the Unix time it began, 0 while it answers), with the rows
// given up counted.
func TestHealthzShowsUnreachablePlatform(t *testing.T) {
	r := newRig(t)
	r.now = t0.Add(90 * time.Second)
	since := t0.Add(-10 * time.Minute)
	r.tg.set(r.now, bot.SendStats{Sent: 1, GaveUp: 3, UnreachableSince: since})
	code, body := r.get(t, "/healthz")
	var h struct {
		Unreachable map[string]string `json:"unreachable_since"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if h.Unreachable["telegram"] != "2026-11-27T01:50:00Z" || len(h.Unreachable) != 1 {
		t.Errorf("unreachable_since = %v (%d %s)", h.Unreachable, code, body)
	}
	_, metrics := r.get(t, "/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range fams["repairbot_channel_unreachable_since_seconds"].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	if got["telegram"] != float64(since.Unix()) || got["wecom"] != 0 {
		t.Errorf("unreachable_since_seconds = %v", got)
	}
	if v := fams["repairbot_outbox_given_up_total"].GetMetric()[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("given_up_total = %v, want 3", v)
	}
	r.tg.set(r.now, bot.SendStats{Sent: 2})
	if _, body := r.get(t, "/healthz"); strings.Contains(body, "unreachable") {
		t.Errorf("platform answering again, still %s", body)
	}
}

// The channels' send check: ok for a short spell (a single 502), failing
// with "platform unreachable since …" after outbox.UnreachableAfter.
func TestSendCheck(t *testing.T) {
	since := t0
	for _, c := range []struct {
		name  string
		since time.Time
		at    time.Time
		ok    bool
	}{
		{"answering", time.Time{}, t0, true},
		{"a short spell", since, t0.Add(outbox.UnreachableAfter - time.Second), true},
		{"an outage", since, t0.Add(outbox.UnreachableAfter), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := bot.SendCheck("telegram", c.since, 7, c.at)
			if ch.Name != "telegram_send" || ch.OK != c.ok {
				t.Fatalf("%+v", ch)
			}
			if !c.ok && !strings.Contains(ch.Detail, "platform unreachable since 2026-11-27T02:00:00Z (7 failed attempts") {
				t.Fatalf("detail %q", ch.Detail)
			}
		})
	}
}

// outboxServer is an ops server over a store holding failed rows.
func outboxServer(t *testing.T) (*ops.Server, testkit.Store, []outbox.Row) {
	t.Helper()
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{Now: func() time.Time { return t0 }})
	t.Cleanup(func() { st.Close() })
	a, b := flows.Address{Channel: "tg", Chat: "100"}, flows.Address{Channel: "tg", Chat: "200"}
	if err := st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "王芳 13800138000", Ticket: "BX-20261127-0001"},
			flows.Message{To: b, Kind: flows.KindSend, Text: "b"}, flows.Message{To: b, Kind: flows.KindSend, Text: "c"})
	}); err != nil {
		t.Fatal(err)
	}
	rows, _ := st.Pending(0)
	for i, e := range []string{"given up: undelivered for 72h; last error: HTTP 502", "Forbidden: bot was blocked by the user"} {
		if err := st.MarkFailed(rows[i].ID, e, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := ops.New(ops.Options{Store: st, Outbox: st, Failed: st, Token: opsToken, Log: zerolog.Nop(), Now: func() time.Time { return t0.Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	return srv, st, rows
}

func call(srv *ops.Server, method, path, body string, header map[string]string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// GET /outbox/failed lists the failed rows (where, what kind, why: never
// the text, which may carry a resident's details) and POST
// /outbox/requeue puts them back by id, by a fragment of their error or
// all; both need the token, like POST /backup.
func TestOutboxEndpoints(t *testing.T) {
	auth := map[string]string{"Authorization": "Bearer " + opsToken}
	jsonAuth := map[string]string{"Authorization": "Bearer " + opsToken, "Content-Type": "application/json"}
	t.Run("guards", func(t *testing.T) {
		srv, _, _ := outboxServer(t)
		for _, c := range []struct {
			name, method, path, body string
			header                   map[string]string
			code                     int
		}{
			{"list without a token", http.MethodGet, "/outbox/failed", "", nil, http.StatusUnauthorized},
			{"requeue without a token", http.MethodPost, "/outbox/requeue", `{"all":true}`, nil, http.StatusUnauthorized},
			{"requeue with a wrong token", http.MethodPost, "/outbox/requeue", `{"all":true}`, map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
			{"requeue from a browser", http.MethodPost, "/outbox/requeue", `{"all":true}`, map[string]string{"Authorization": "Bearer " + opsToken, "Origin": "http://evil.example"}, http.StatusForbidden},
			{"requeue as a text form", http.MethodPost, "/outbox/requeue", `{"all":true}`, map[string]string{"Authorization": "Bearer " + opsToken, "Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
			{"requeue naming nothing", http.MethodPost, "/outbox/requeue", `{}`, jsonAuth, http.StatusBadRequest},
			{"requeue not JSON", http.MethodPost, "/outbox/requeue", `ids=1`, auth, http.StatusBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				if code, body := call(srv, c.method, c.path, c.body, c.header); code != c.code {
					t.Fatalf("%d %s, want %d", code, body, c.code)
				}
			})
		}
	})
	t.Run("list", func(t *testing.T) {
		srv, _, rows := outboxServer(t)
		code, body := call(srv, http.MethodGet, "/outbox/failed", "", auth)
		var got []ops.FailedRow
		if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || len(got) != 2 {
			t.Fatalf("%d %s", code, body)
		}
		if got[0].ID != rows[0].ID || got[0].To != "tg:100" || got[0].Ticket != "BX-20261127-0001" || !strings.Contains(got[0].Error, "given up") {
			t.Errorf("row %+v", got[0])
		}
		if strings.Contains(body, "13800138000") || strings.Contains(body, "王芳") {
			t.Errorf("the list shows the message text: %s", body)
		}
	})
	for _, c := range []struct {
		name, body string
		want       func(rows []outbox.Row) []uint64
	}{
		{"requeue by id", `{"ids":[%d]}`, func(rows []outbox.Row) []uint64 { return []uint64{rows[1].ID} }},
		{"requeue by error", `{"error":"GIVEN UP"}`, func(rows []outbox.Row) []uint64 { return []uint64{rows[0].ID} }},
		{"requeue all", `{"all":true}`, func(rows []outbox.Row) []uint64 { return []uint64{rows[0].ID, rows[1].ID} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, st, rows := outboxServer(t)
			body := c.body
			if strings.Contains(body, "%d") {
				body = strings.Replace(body, "%d", jsonNum(rows[1].ID), 1)
			}
			code, raw := call(srv, http.MethodPost, "/outbox/requeue", body, jsonAuth)
			var ans ops.RequeueAnswer
			if err := json.Unmarshal([]byte(raw), &ans); code != http.StatusOK || err != nil {
				t.Fatalf("%d %s", code, raw)
			}
			want := c.want(rows)
			if len(ans.Requeued) != len(want) {
				t.Fatalf("requeued %v, want %v", ans.Requeued, want)
			}
			for i := range want {
				if ans.Requeued[i] != want[i] {
					t.Fatalf("requeued %v, want %v", ans.Requeued, want)
				}
			}
			pending, _ := st.Pending(0)
			failed, _ := st.Rows(outbox.StatusFailed)
			if len(pending) != 1+len(want) || len(failed) != 2-len(want) {
				t.Fatalf("after requeue: %d pending, %d failed", len(pending), len(failed))
			}
		})
	}
}

func jsonNum(n uint64) string { b, _ := json.Marshal(n); return string(b) }
