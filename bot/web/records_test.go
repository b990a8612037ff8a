package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// closedTicket seeds a ticket closed with a score, as after a repair.
func (r *rig) closedTicket(id string) *flows.Ticket {
	r.t.Helper()
	now := r.clk.Now()
	tk := r.seed(id, flows.StateClosed)
	tk.Closed, tk.Finished, tk.Score, tk.Rev = &now, &now, 5, 2
	r.update(func(tx flows.Tx) error { return tx.PutTicket(tk) })
	return tk
}

// onCallbackList seeds a closed ticket whose resident did not answer the
// callback visit: on customer service's phone-callback list.
func (r *rig) onCallbackList(id string) {
	r.t.Helper()
	tk := r.closedTicket(id)
	asked := r.clk.Now()
	tk.Callback = &flows.Callback{Due: asked, Status: "phone", Asked: &asked}
	r.update(func(tx flows.Tx) error {
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		return tx.AddPhoneCallback(flows.PhoneCallback{TicketID: id, Since: asked})
	})
}

// sampled seeds a closed ticket waiting for the leads' QC review.
func (r *rig) sampled(id string) {
	r.t.Helper()
	r.closedTicket(id)
	r.update(func(tx flows.Tx) error {
		return tx.PutQCReview(&flows.QCReview{Ticket: id, Reason: "sample", Created: r.clk.Now(), Status: "pending"})
	})
}

// recordsSnapshot is what the records' actions change: the tickets named
// (state, revision, callback, score, trail length), their QC reviews, the
// phone-callback list and the outbox.
func (r *rig) recordsSnapshot(ids ...string) string {
	r.t.Helper()
	var b strings.Builder
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		for _, id := range ids {
			t, err := tx.Ticket(id)
			if err != nil {
				fmt.Fprintf(&b, "%s missing\n", id)
				continue
			}
			evs, _ := tx.TicketEvents(id)
			fmt.Fprintf(&b, "%s %s r%d s%d e%d", t.ID, t.State, t.Rev, t.Score, len(evs))
			if t.Callback != nil {
				fmt.Fprintf(&b, " cb=%s/%d", t.Callback.Status, t.Callback.Score)
			}
			if q, err := tx.QCReview(id); err == nil {
				fmt.Fprintf(&b, " qc=%s/%d/%v", q.Status, q.Score, q.Findings)
			}
			b.WriteString("\n")
		}
		list, _ := tx.PhoneCallbacks()
		for _, pc := range list {
			fmt.Fprintf(&b, "phone %s\n", pc.TicketID)
		}
		return nil
	})
	rows, _ := r.st.Pending(0)
	fmt.Fprintf(&b, "outbox %d\n", len(rows))
	return b.String()
}

// TestRecordsPagesByRole: the records' pages and files open for exactly
// those whose chat command shows or sends the same (the command's rows,
// flows.CommandAllows), and the navigation lists exactly those pages.
func TestRecordsPagesByRole(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	id := r.report(resident, "厨房水管漏水")
	r.drain()
	// The design, spelled out: the office's commands for all the office,
	// /qc for the leads (and the admin).
	office, leads := []string{"lead", "dispatcher", "admin"}, []string{"lead", "admin"}
	pages := []struct {
		path, cmd string
		allowed   []string
		nav       bool
	}{
		{"/stats", "stats", office, true},
		{"/stats?period=week", "stats", office, false},
		{"/stats/chart/chart_category", "stats", office, false},
		{"/stats/kpi.xlsx", "stats", office, false},
		{"/callbacks", "callbacks", office, true},
		{"/qc", "qc", leads, true},
		{"/daily/tasks.xlsx", "daily", office, false},
		{"/daily/log.xlsx", "daily", office, false},
		{"/month/log.xlsx", "month", office, false},
		{"/t/" + id + "/order.xlsx", "order", office, false},
	}
	for who, p := range map[string]person{"lead": lead, "dispatcher": dispatcher, "admin": admin} {
		b := r.session(p)
		board := b.get("/").body
		me := r.person(p)
		for _, pg := range pages {
			t.Run(who+pg.path, func(t *testing.T) {
				want := in(pg.allowed, who)
				if chat := flows.CommandAllows(pg.cmd, me) == nil; chat != want {
					t.Fatalf("chat's /%s allows %s: %v, the design says %v", pg.cmd, who, chat, want)
				}
				res := b.get(pg.path)
				if want && res.status != http.StatusOK {
					t.Fatalf("%d, want 200:\n%s", res.status, res.body)
				}
				if !want && res.status != http.StatusForbidden {
					t.Fatalf("%d, want 403", res.status)
				}
				if pg.nav {
					if got := strings.Contains(board, `href="`+pg.path+`"`); got != want {
						t.Fatalf("navigation lists it: %v, want %v", got, want)
					}
				}
			})
		}
	}
	t.Run("no session", func(t *testing.T) {
		for _, pg := range pages {
			if res := (&browser{r: r}).get(pg.path); res.status != http.StatusUnauthorized {
				t.Fatalf("%s without a session: %d", pg.path, res.status)
			}
		}
	})
}

// openBook opens a downloaded workbook and returns every cell's text.
func openBook(t *testing.T, res response) string {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("%d: %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q: personal data must not be cached", cc)
	}
	f, err := excelize.OpenReader(strings.NewReader(res.body))
	if err != nil {
		t.Fatalf("the download does not open with excelize: %v", err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			b.WriteString(strings.Join(row, "\t") + "\n")
		}
	}
	return b.String()
}

// disposition checks an attachment's header: an ASCII name without
// anything a header or a path could be broken with, and the UTF-8 name.
func disposition(t *testing.T, res response, wantInName string) {
	t.Helper()
	cd := res.header.Get("Content-Disposition")
	if !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	ascii := cd[len(`attachment; filename="`):strings.Index(cd, `"; `)]
	if strings.ContainsAny(ascii, "/\\\"\r\n;") || !strings.HasSuffix(ascii, ".xlsx") {
		t.Fatalf("unsafe fallback name %q", ascii)
	}
	name, err := url.PathUnescape(cd[strings.Index(cd, "''")+2:])
	if err != nil || !strings.Contains(name, wantInName) {
		t.Fatalf("name %q (%v), want it to hold %q", name, err, wantInName)
	}
}

// TestRecordsDownloads: the files are the ones chat sends (the same
// renderer): they open with excelize and hold the ticket number and the
// form's code; the chart is a PNG that decodes; a bad period or a forged
// ticket is refused.
func TestRecordsDownloads(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	id := r.report(resident, "厨房水管漏水")
	r.drain()
	cs := r.session(dispatcher)
	loc := time.FixedZone("CST", 8*3600)
	today := r.clk.Now().In(loc).Format("2006-01-02")

	t.Run("work order", func(t *testing.T) {
		page := cs.get("/t/" + id).body
		contains(t, "ticket page", page, `href="/t/`+id+`/order.xlsx"`)
		res := cs.get("/t/" + id + "/order.xlsx")
		cells := openBook(t, res)
		contains(t, "work order", cells, id)
		contains(t, "work order", cells, "zc-qr-010")
		disposition(t, res, id+"_")
	})
	t.Run("daily task list and repair log", func(t *testing.T) {
		page := cs.get("/daily").body
		contains(t, "daily page", page, `href="/daily/tasks.xlsx?day=`+today+`"`)
		contains(t, "daily page", page, `href="/daily/log.xlsx?day=`+today+`"`)
		res := cs.get("/daily/tasks.xlsx?day=" + today)
		openBook(t, res)
		disposition(t, res, today)
		res = cs.get("/daily/log.xlsx?day=" + today)
		cells := openBook(t, res)
		contains(t, "repair log", cells, "zc-qr-030")
		contains(t, "repair log", cells, id)
		disposition(t, res, today)
	})
	t.Run("a month's repair log", func(t *testing.T) {
		res := cs.get("/month/log.xlsx?month=2026-11")
		cells := openBook(t, res)
		contains(t, "month log", cells, "zc-qr-030")
		contains(t, "month log", cells, id)
		disposition(t, res, "2026-11-01_2026-11-30")
		// October holds none of this month's tickets.
		if cells := openBook(t, cs.get("/month/log.xlsx?month=2026-10")); strings.Contains(cells, id) {
			t.Fatal("October's log lists a November ticket")
		}
	})
	t.Run("KPI workbook and charts", func(t *testing.T) {
		page := cs.get("/stats?period=month")
		contains(t, "KPI page", page.body, `id="chart-chart_category"`)
		contains(t, "KPI page", page.body, `id="kpi-xlsx"`)
		openBook(t, cs.get("/stats/kpi.xlsx?period=month"))
		for _, form := range []string{"chart_category", "chart_accept"} {
			res := cs.get("/stats/chart/" + form + "?period=month")
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: %d %q", form, res.status, res.header.Get("Content-Type"))
			}
			img, err := png.Decode(bytes.NewReader([]byte(res.body)))
			if err != nil {
				t.Fatalf("%s does not decode: %v", form, err)
			}
			if img.Bounds().Dx() < 200 || img.Bounds().Dy() < 100 {
				t.Fatalf("%s is %v", form, img.Bounds())
			}
		}
	})
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"a forged ticket id", "/t/BX-20261127-9999/order.xlsx", http.StatusNotFound, "找不到"},
		{"another estate's ticket id", "/t/XX-1/order.xlsx", http.StatusNotFound, "找不到"},
		{"a day that does not parse", "/daily/tasks.xlsx?day=2026-13-45", http.StatusBadRequest, ""},
		{"a month that does not parse", "/month/log.xlsx?month=abc", http.StatusUnprocessableEntity, ""},
		{"a future month", "/month/log.xlsx?month=2030-01", http.StatusUnprocessableEntity, ""},
		{"a period that does not parse", "/stats?period=yesterday", http.StatusUnprocessableEntity, ""},
		{"a future period's chart", "/stats/chart/chart_accept?period=2030-01", http.StatusUnprocessableEntity, ""},
		{"an unknown chart", "/stats/chart/order?period=month", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.recordsSnapshot(id)
			res := cs.get(tc.path)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || res.header.Get("Content-Disposition") != "" {
				t.Fatalf("%d, want %d with %q:\n%s", res.status, tc.status, tc.want, res.body)
			}
			if r.recordsSnapshot(id) != before {
				t.Fatal("a refused request changed something")
			}
		})
	}
}

// TestKPIPage: the page shows the summary chat's /stats sends for the
// same period, word for word, and the tickets per category.
func TestKPIPage(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	r.report(resident, "厨房水管漏水")
	r.report(other, "卫生间漏水")
	r.drain()
	l := r.session(lead)
	for _, period := range []string{"week", "month", "2026-11"} {
		t.Run(period, func(t *testing.T) {
			r.cmd(lead, "stats", period)
			var chat string
			for _, m := range to(r.drain(), lead.Chat()) {
				if m.Export == nil && chat == "" {
					chat = m.Text
				}
			}
			page := l.get("/stats?period=" + period)
			if page.status != http.StatusOK {
				t.Fatalf("%d", page.status)
			}
			pre := page.body[strings.Index(page.body, `id="stats-text">`)+len(`id="stats-text">`):]
			pre = pre[:strings.Index(pre, "</pre>")]
			if want := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(chat); pre != want {
				t.Fatalf("the page's summary differs from chat's:\n%s\n--- chat:\n%s", pre, want)
			}
			contains(t, "categories", page.body, `id="stats-categories"`)
			contains(t, "workbook", page.body, "/stats/kpi.xlsx?period="+period)
		})
	}
}

// TestCallbackList: customer service records a phone callback from the
// browser as with the chat's buttons (ActCallbackPhone's row): held with
// a score, not held (rework for the same technician), unreachable; a
// forged ticket, a bad answer or a missing CSRF token are refused with
// nothing changed.
func TestCallbackList(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	held, notHeld, noReach := "BX-20261120-0001", "BX-20261120-0002", "BX-20261120-0003"
	for _, id := range []string{held, notHeld, noReach} {
		r.onCallbackList(id)
	}
	notListed := "BX-20261120-0004"
	r.closedTicket(notListed)
	cs := r.session(dispatcher)
	page := cs.get("/callbacks").body
	for _, id := range []string{held, notHeld, noReach} {
		contains(t, "list", page, `id="cb-`+id+`"`)
		contains(t, "list", page, `action="/t/`+id+`/act/callback"`)
	}
	// The clerk dials the resident from the list: the call link carries the
	// number; the list shows it masked, as the board and the ticket do.
	contains(t, "list", page, `href="tel:13800138000"`)
	contains(t, "list", page, flows.MaskPhone("13800138000"))
	if n, links := strings.Count(page, "13800138000"), strings.Count(page, `href="tel:13800138000"`); n != links || links != 3 {
		t.Fatalf("the full number appears %d times, %d of them in a line's call link (want only there, one per line)", n, links)
	}
	all := []string{held, notHeld, noReach, notListed}
	post := func(b *browser, id string, f url.Values) response {
		f.Set("back", "/callbacks")
		return b.act(id, "callback", f)
	}
	for _, tc := range []struct {
		name   string
		id     string
		fields url.Values
		b      *browser
	}{
		{"not on the list", notListed, url.Values{"answer": {"h"}}, cs},
		{"a forged ticket id", "BX-20261120-9999", url.Values{"answer": {"h"}}, cs},
		{"a score as the answer", held, url.Values{"answer": {"s5"}}, cs},
		{"an unknown answer", held, url.Values{"answer": {"maybe"}}, cs},
		{"a score out of range", held, url.Values{"answer": {"h"}, "score": {"9"}}, cs},
		{"a score with not held", notHeld, url.Values{"answer": {"n"}, "score": {"3"}}, cs},
		{"another ticket's form", held, url.Values{"answer": {"h"}, "ticket": {notHeld}}, cs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.recordsSnapshot(all...)
			if res := post(tc.b, tc.id, tc.fields); res.status < 400 {
				t.Fatalf("refused with %d", res.status)
			}
			if after := r.recordsSnapshot(all...); after != before {
				t.Fatalf("a refused request changed something:\n%s→\n%s", before, after)
			}
		})
	}
	t.Run("missing CSRF token", func(t *testing.T) {
		before := r.recordsSnapshot(all...)
		res := cs.post("/t/"+held+"/act/callback", url.Values{"ticket": {held}, "answer": {"h"}, "k": {newKey()}})
		if res.status != http.StatusForbidden || r.recordsSnapshot(all...) != before {
			t.Fatalf("%d, changed: %v", res.status, r.recordsSnapshot(all...) != before)
		}
	})
	t.Run("held with a score", func(t *testing.T) {
		res := post(cs, held, url.Values{"answer": {"h"}, "score": {"4"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/callbacks" {
			t.Fatalf("%d → %q: %s", res.status, res.header.Get("Location"), res.body)
		}
		tk := r.ticket(held)
		if tk.State != flows.StateClosed || tk.Callback.Status != "held" || tk.Callback.Score != 4 || tk.Callback.Via != "phone" || tk.Callback.By != dispatcher.PID() {
			t.Fatalf("%s %+v", tk.State, tk.Callback)
		}
		if strings.Contains(cs.get("/callbacks").body, `id="cb-`+held+`"`) {
			t.Fatal("still on the list")
		}
		// Recorded once: the same again is refused, nothing changes.
		before := r.recordsSnapshot(all...)
		if res := post(cs, held, url.Values{"answer": {"h"}, "score": {"2"}}); res.status != http.StatusConflict || r.recordsSnapshot(all...) != before {
			t.Fatalf("again: %d", res.status)
		}
	})
	t.Run("not held", func(t *testing.T) {
		if res := post(r.session(lead), notHeld, url.Values{"answer": {"n"}}); res.status != http.StatusSeeOther {
			t.Fatalf("%d: %s", res.status, res.body)
		}
		tk := r.ticket(notHeld)
		if tk.State != flows.StateAccepted || tk.AssigneeID != tech.PID() || tk.Reworks != 1 || tk.Callback.Status != "not_held" {
			t.Fatalf("%s %s %d %+v", tk.State, tk.AssigneeID, tk.Reworks, tk.Callback)
		}
		contains(t, "the technician's job", r.last(r.drain(), tech.Chat()).Text, notHeld)
	})
	t.Run("unreachable", func(t *testing.T) {
		if res := post(r.session(admin), noReach, url.Values{"answer": {"x"}}); res.status != http.StatusSeeOther {
			t.Fatalf("%d: %s", res.status, res.body)
		}
		if tk := r.ticket(noReach); tk.State != flows.StateClosed || tk.Callback.Status != "unreachable" {
			t.Fatalf("%s %+v", tk.State, tk.Callback)
		}
		contains(t, "empty list", cs.get("/callbacks").body, "没有待电话回访")
	})
}

// TestQCQueue: a lead records a QC review from the browser (vbQCStart's
// row: the leads); customer service may neither see the queue nor post a
// review; a forged ticket, a bad score or finding, a review already done
// and a missing CSRF token are refused with nothing changed.
func TestQCQueue(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	a, b, notSampled := "BX-20261121-0001", "BX-20261121-0002", "BX-20261121-0003"
	r.sampled(a)
	r.sampled(b)
	r.closedTicket(notSampled)
	all := []string{a, b, notSampled}
	l, cs := r.session(lead), r.session(dispatcher)
	page := l.get("/qc").body
	contains(t, "queue", page, `id="qc-`+a+`"`)
	contains(t, "queue", page, `action="/do/qc_review"`)
	contains(t, "queue", page, `value="`+tech.PID()+`"`) // a spot check can go to a technician
	if strings.Contains(page, `<option value="`+dispatcher.PID()+`"`) {
		t.Fatal("customer service offered for a spot check (the chat's buttons skip them)")
	}
	review := func(br *browser, f url.Values) response {
		f.Set("back", "/qc")
		return br.doAction("qc_review", f)
	}
	for _, tc := range []struct {
		name   string
		b      *browser
		fields url.Values
		status int
	}{
		{"customer service", cs, url.Values{"ticket": {a}, "score": {"4"}}, http.StatusForbidden},
		{"a forged ticket id", l, url.Values{"ticket": {"BX-20261121-9999"}, "score": {"4"}}, http.StatusNotFound},
		{"a ticket not sampled", l, url.Values{"ticket": {notSampled}, "score": {"4"}}, http.StatusNotFound},
		{"no score", l, url.Values{"ticket": {a}}, http.StatusUnprocessableEntity},
		{"a score out of range", l, url.Values{"ticket": {a}, "score": {"6"}}, http.StatusUnprocessableEntity},
		{"an unknown finding", l, url.Values{"ticket": {a}, "score": {"4"}, "findings": {"photos", "bribe"}}, http.StatusUnprocessableEntity},
		{"customer service for the spot check", l, url.Values{"ticket": {a}, "score": {"4"}, "spot": {dispatcher.PID()}}, http.StatusUnprocessableEntity},
		{"a stranger for the spot check", l, url.Values{"ticket": {a}, "score": {"4"}, "spot": {"tg:424242"}}, http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.recordsSnapshot(all...)
			if res := review(tc.b, tc.fields); res.status != tc.status {
				t.Fatalf("%d, want %d: %s", res.status, tc.status, res.body)
			}
			if after := r.recordsSnapshot(all...); after != before {
				t.Fatalf("a refused review changed something:\n%s→\n%s", before, after)
			}
		})
	}
	t.Run("missing CSRF token", func(t *testing.T) {
		before := r.recordsSnapshot(all...)
		res := l.post("/do/qc_review", url.Values{"ticket": {a}, "score": {"4"}, "k": {newKey()}})
		if res.status != http.StatusForbidden || r.recordsSnapshot(all...) != before {
			t.Fatalf("%d", res.status)
		}
	})
	t.Run("a review with a spot check", func(t *testing.T) {
		res := review(l, url.Values{"ticket": {a}, "score": {"3"}, "findings": {"tests", "photos"}, "note": {"照片缺少完工图"}, "spot": {tech2.PID()}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/qc" {
			t.Fatalf("%d → %q: %s", res.status, res.header.Get("Location"), res.body)
		}
		var q *flows.QCReview
		_ = r.st.View(context.Background(), func(tx flows.Tx) error { q, _ = tx.QCReview(a); return nil })
		if q.Status != "spot" || q.Score != 3 || strings.Join(q.Findings, ",") != "photos,tests" || q.Note != "照片缺少完工图" ||
			q.Reviewer != lead.PID() || q.Spot == nil || q.Spot.Assignee != tech2.PID() {
			t.Fatalf("%+v", q)
		}
		msgs := r.drain()
		contains(t, "the technician is told", r.last(msgs, tech.Chat()).Text, a)
		contains(t, "the spot check is asked", r.last(msgs, tech2.Chat()).Text, a)
		// Done once: the same again is refused.
		before := r.recordsSnapshot(all...)
		if res := review(l, url.Values{"ticket": {a}, "score": {"5"}}); res.status != http.StatusConflict || r.recordsSnapshot(all...) != before {
			t.Fatalf("again: %d", res.status)
		}
	})
	t.Run("a review without a spot check", func(t *testing.T) {
		if res := review(r.session(admin), url.Values{"ticket": {b}, "score": {"5"}}); res.status != http.StatusSeeOther {
			t.Fatalf("%d: %s", res.status, res.body)
		}
		var q *flows.QCReview
		_ = r.st.View(context.Background(), func(tx flows.Tx) error { q, _ = tx.QCReview(b); return nil })
		if q.Status != "done" || q.Score != 5 || len(q.Findings) != 0 || q.Spot != nil {
			t.Fatalf("%+v", q)
		}
		page := l.get("/qc").body
		if strings.Contains(page, `id="qc-`+b+`"`) {
			t.Fatal("a done review is still in the queue")
		}
		contains(t, "the spot check waits", page, tech2.Name)
	})
}
