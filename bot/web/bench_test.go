package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/scalegen"
	"github.com/repairbot/repairbot/internal/testkit"
)

// BenchmarkBoard serves the board to a lead on a large generated estate
// (internal/scalegen: SCALE_TICKETS tickets, default 100,000, one in a
// thousand open; docs/BENCHMARKS.md reports 1,000,000), topped up to
// 1,000 open tickets, through the console's handler (no network): the
// server's time per page and the page's size. Sub-benchmarks: the whole
// board, a search (which reads every open ticket's resident), and the
// table a live refresh asks for.
//
//	SCALE_TICKETS=1000000 go test -run '^$' -bench Board -benchtime 50x -timeout 30m ./bot/web/
func BenchmarkBoard(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SCALE_TICKETS")); err == nil && v > 0 {
		n = v
	}
	path := filepath.Join(b.TempDir(), "repair.db")
	start := time.Now()
	if err := scalegen.Generate(path, n); err != nil {
		b.Fatal(err)
	}
	gen := time.Since(start)
	st := testkit.MustOpen(b, path, testkit.Options{NoSync: true})
	b.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	const open = 1000
	topUp(b, st, open, now)
	texts := i18n.MustLoad(flows.LangZH)
	o := flowstest.Options(b, st, func() time.Time { return now })
	eng, err := flows.NewEngine(o)
	if err != nil {
		b.Fatal(err)
	}
	con, err := web.New(web.Options{Listen: "127.0.0.1:0", Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Texts: texts,
		DefaultLang: flows.LangZH, Domain: eng, Now: func() time.Time { return now }, Log: zerolog.Nop()}})
	if err != nil {
		b.Fatal(err)
	}
	token := strings.Repeat("B", 43)
	if err := st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.PutConsoleSession(&flows.ConsoleSession{Hash: flows.ConsoleTokenHash(token), PersonID: fmt.Sprintf("tg:%d", scalegen.LeadID),
			Created: now, Expires: now.Add(time.Hour)})
	}); err != nil {
		b.Fatal(err)
	}
	h := con.Handler()
	for _, bc := range []struct{ name, path string }{
		{"board", "/"},
		{"search", "/?q=" + "住户0001"},
		{"refresh", "/?partial=1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", bc.path, nil)
				req.AddCookie(&http.Cookie{Name: "rb_session", Value: token})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
				}
				size = rec.Body.Len()
				if bc.name == "board" && i == 0 && strings.Count(rec.Body.String(), `<tr class="s-`) != open {
					b.Fatalf("the board lists %d rows, want %d", strings.Count(rec.Body.String(), `<tr class="s-`), open)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(size), "page_bytes")
		})
	}
	b.Logf("%d tickets generated in %s; %d open", n, gen.Round(time.Second), open)
}

// topUp adds open tickets, spread over the estate's residents, buildings
// and SLA states, until there are want.
func topUp(b *testing.B, st testkit.Store, want int, now time.Time) {
	b.Helper()
	err := st.Update(context.Background(), func(tx flows.Tx) error {
		have, err := tx.OpenTickets()
		if err != nil {
			return err
		}
		for i := len(have); i < want; i++ {
			res := i * 7 % scalegen.Residents
			created := now.Add(-time.Duration(i%240) * time.Minute)
			t := &flows.Ticket{ID: fmt.Sprintf("BX-20261201-%04d", i), State: flows.StateNew, Category: "water",
				Description: "卫生间下水慢", Kind: flows.OrderHousehold, ASAP: true, ResidentID: fmt.Sprintf("tg:%d", 100000+res),
				Building: fmt.Sprintf("%d栋", 1+res%20), Unit: fmt.Sprintf("%d单元", 1+res/20%4), Room: fmt.Sprint(101 + res/80%125),
				Created: created, Updated: created, Rev: 1}
			if i%3 == 0 {
				acc := created.Add(5 * time.Minute)
				t.State, t.Accepted, t.AssigneeID, t.Assignee = flows.StateAccepted, &acc, fmt.Sprintf("tg:%d", 2000+i%scalegen.Technicians), fmt.Sprintf("师傅%03d", i%scalegen.Technicians)
			}
			if i%20 == 0 {
				t.Emergency = "water_leak"
			}
			if err := tx.PutTicket(t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
