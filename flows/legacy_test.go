package flows_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/store"
)

// testdata/legacy/7b598a2.db was written by the code of 7b598a2, before
// Dialogue and Timer had a field per meaning (generate_test.go.txt beside
// it is the program, run there). At 2026-11-27 17:00 Shanghai it holds:
//   - tech (张师傅) at the quote step of BX-20261127-0001, asked the quantity of W03
//     ("quantity": TicketID the ticket, Category the price code);
//   - lead (陈主管) returning tech's handover of 20261127
//     ("handover_return": TicketID the day, Category the technician);
//   - dispatcher (刘客服) writing the evidence of action 1 of the closed review RV-2026-001
//     ("action_done": TicketID the review, Category "1");
//   - tech2 (赵师傅) writing a suggestion for the open review RV-2026-002 ("suggest": TicketID the review);
//   - admin at the actions step of RV-2026-002's report ("review_close": TicketID the review);
//   - other (李雷) in a report at the description step (Category the fault category);
//   - timers: ackrem:2 (Rung the SOP version), rvrem/rvdue:RV-2026-002 (Day the review),
//     actpre/actdue/actesc:RV-2026-001:1 and :2 (Day the review, Rung the action),
//     audit:202611 (Day the month), yearly:2027 (Day the year), eod:20261127, handover:20261128.
const legacyFixture = "testdata/legacy/7b598a2.db"

var legacyDispatcher = flowstest.Person{ID: 400, Name: "刘客服"}

// legacyWorld is a world on a fresh copy of the fixture, with the clock
// just after it was written. The engine is built like a restarted
// process, on the version the store has in force.
func legacyWorld(t *testing.T) *flowstest.World {
	t.Helper()
	w := flowstest.New(t)
	path := filepath.Join(t.TempDir(), "legacy.db")
	src, err := os.Open(legacyFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path, store.Options{Now: func() time.Time { return w.Now }, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	opts := w.Opts
	opts.Store = st
	eng, err := flows.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Eng, w.Store = eng, st
	w.Now = time.Date(2026, 11, 27, 9, 10, 0, 0, time.UTC) // 17:10 in Shanghai
	// The fixture's world used the same event keys: step past them with
	// taps that change nothing (a stranger's unreadable button).
	for i := 0; w.Tap(stranger, "junk", false).Duplicate; i++ {
		if i > 10000 {
			t.Fatal("no free event key")
		}
	}
	w.Drain()
	return w
}

// rawDialogue reads a dialogue as stored, without the engine's legacy rules.
func rawDialogue(t *testing.T, w *flowstest.World, p flowstest.Person) *flows.Dialogue {
	t.Helper()
	var d *flows.Dialogue
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		d, err = tx.Dialogue(p.PID())
		return err
	})
	if err != nil {
		t.Fatalf("dialogue of %s: %v", p.Name, err)
	}
	return d
}

func storedTimers(t *testing.T, w *flowstest.World) map[string]flows.Timer {
	t.Helper()
	out := map[string]flows.Timer{}
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		due, err := tx.DueTimers(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 0)
		for _, tm := range due {
			out[tm.Key] = tm
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func review(t *testing.T, w *flowstest.World, id string) *flows.Review {
	t.Helper()
	var r *flows.Review
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		r, err = tx.Review(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLegacyFixtureIsOld guards the fixture: its records are in the old
// form, so the tests below exercise the migration and not the new code.
func TestLegacyFixtureIsOld(t *testing.T) {
	w := legacyWorld(t)
	for _, c := range []struct {
		p                 flowstest.Person
		kind, ticket, cat string
	}{
		{tech, "quantity", "BX-20261127-0001", "W03"},
		{lead, "handover_return", "20261127", tech.PID()},
		{legacyDispatcher, "action_done", "RV-2026-001", "1"},
		{tech2, "suggest", "RV-2026-002", ""},
		{admin, "review_close", "RV-2026-002", ""},
		{other, "report", "", "water"},
	} {
		d := rawDialogue(t, w, c.p)
		if d.Kind != c.kind || d.TicketID != c.ticket || d.Category != c.cat || d.Review != "" || d.PriceCode != "" || d.Day != "" || d.TechID != "" || d.Action != 0 {
			t.Errorf("%s: %+v", c.p.Name, d)
		}
	}
	timers := storedTimers(t, w)
	for key, want := range map[string]flows.Timer{
		"ackrem:2":             {Rung: 2},
		"rvrem:RV-2026-002":    {Day: "RV-2026-002"},
		"rvdue:RV-2026-002":    {Day: "RV-2026-002"},
		"actpre:RV-2026-001:2": {Day: "RV-2026-001", Rung: 2},
		"actdue:RV-2026-001:2": {Day: "RV-2026-001", Rung: 2},
		"actesc:RV-2026-001:2": {Day: "RV-2026-001", Rung: 2},
		"audit:202611":         {Day: "202611"},
		"yearly:2027":          {Day: "2027"},
	} {
		tm, ok := timers[key]
		if !ok || tm.Day != want.Day || tm.Rung != want.Rung || tm.Review != "" || tm.Action != 0 || tm.Version != 0 || tm.Month != "" || tm.Year != 0 {
			t.Errorf("%s: %+v", key, tm)
		}
	}
}

// TestLegacyDialoguesContinue continues each old dialogue with the new
// code, each on its own copy of the fixture.
func TestLegacyDialoguesContinue(t *testing.T) {
	const ticket = "BX-20261127-0001"
	cases := []struct {
		name string
		run  func(t *testing.T, w *flowstest.World)
	}{
		{"quantity", func(t *testing.T, w *flowstest.World) {
			w.Text(tech, "2")
			q := w.Ticket(ticket).Visit.Quote
			if q == nil || len(q.Lines) != 1 || q.Lines[0].Code != "W03" || q.Lines[0].Qty != 2 {
				t.Fatalf("quote %+v", q)
			}
			contains(t, w.Last(w.Drain(), tech.Chat()).Text, "W03")
		}},
		{"handover_return", func(t *testing.T, w *flowstest.World) {
			w.Text(lead, "缺少完工照片")
			msgs := w.Drain()
			contains(t, w.Last(msgs, tech.Chat()).Text, "陈主管 退回了您 2026-11-27 的工单：缺少完工照片")
			w.ButtonData(w.Last(msgs, tech.Chat()), "提交")
			err := w.Store.View(context.Background(), func(tx flows.Tx) error {
				h, err := tx.Handover("20261127", tech.PID())
				if err == nil && (h.Status != "returned" || h.Reviewer != lead.PID()) {
					t.Errorf("handover %+v", h)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"action_done", func(t *testing.T, w *flowstest.World) {
			w.Text(legacyDispatcher, "报价单模板已更新")
			contains(t, w.Last(w.Drain(), legacyDispatcher.Chat()).Text, "已登记 RV-2026-001#1 完成")
			r := review(t, w, "RV-2026-001")
			a := r.Report.Actions[0]
			if a.Done == nil || a.Evidence != "报价单模板已更新" || r.Report.Actions[1].Done != nil || r.Status != "closed" {
				t.Fatalf("review %+v", r.Report)
			}
			timers := storedTimers(t, w)
			for _, k := range []string{"actpre", "actdue", "actesc"} {
				if _, ok := timers[k+":RV-2026-001:1"]; ok {
					t.Errorf("%s:RV-2026-001:1 still pending", k)
				}
				if _, ok := timers[k+":RV-2026-001:2"]; !ok {
					t.Errorf("%s:RV-2026-001:2 is gone", k)
				}
			}
		}},
		{"suggest", func(t *testing.T, w *flowstest.World) {
			w.Text(tech2, "入户前确认鞋套")
			contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "您的建议已加入复审 RV-2026-002")
			r := review(t, w, "RV-2026-002")
			if n := len(r.Suggestions); n == 0 || r.Suggestions[n-1].Text != "入户前确认鞋套" || r.Answers[tech2.PID()] != "suggested" {
				t.Fatalf("review %+v", r)
			}
		}},
		{"review_close/text", func(t *testing.T, w *flowstest.World) {
			w.Text(admin, "培训复检；我；2026-12-31")
			contains(t, w.Last(w.Drain(), admin.Chat()).Text, "已添加措施 #2")
			// Read through the old form, written back in the new one.
			if d := rawDialogue(t, w, admin); d.Review != "RV-2026-002" || d.TicketID != "" {
				t.Fatalf("stored again as %+v", d)
			}
			if r := review(t, w, "RV-2026-002"); len(r.Report.Actions) != 2 || r.Report.Actions[1].Owner != admin.PID() {
				t.Fatalf("report %+v", r.Report)
			}
		}},
		{"review_close/finish", func(t *testing.T, w *flowstest.World) {
			d := rawDialogue(t, w, admin)
			w.Expect(w.Tap(admin, flows.EncodePayload("d", strconv.Itoa(d.Seq), "finish"), false))
			w.Expect(w.Tap(admin, w.ButtonData(w.Last(w.Drain(), admin.Chat()), "不修改规程"), false))
			contains(t, w.Last(w.Drain(), admin.Chat()).Text, "规程复审报告")
			if r := review(t, w, "RV-2026-002"); r.Status != "closed" {
				t.Fatalf("review %+v", r)
			}
			timers := storedTimers(t, w)
			if _, ok := timers["rvdue:RV-2026-002"]; ok {
				t.Error("the closed review's deadline is still pending")
			}
			tm, ok := timers["actdue:RV-2026-002:1"]
			if !ok || tm.Review != "RV-2026-002" || tm.Action != 1 || tm.Day != "" || tm.Rung != 0 {
				t.Fatalf("new action timer %+v", tm)
			}
		}},
		{"report", func(t *testing.T, w *flowstest.World) {
			first := func() string { return w.Last(w.Drain(), other.Chat()).Buttons[0][0].Data }
			w.Text(other, "卫生间地漏返水")
			w.Tap(other, first(), false) // no more photos
			w.Tap(other, first(), false) // household
			w.Tap(other, first(), false) // as soon as possible
			contains(t, w.Last(w.Drain(), other.Chat()).Text, "BX-20261127-0002")
			if tk := w.Ticket("BX-20261127-0002"); tk.Category != "water" || tk.Description != "卫生间地漏返水" {
				t.Fatalf("ticket %+v", tk)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := legacyWorld(t)
			c.run(t, w)
		})
	}
}

// TestLegacyTimersFire lets every old timer fall due with the new code.
func TestLegacyTimersFire(t *testing.T) {
	w := legacyWorld(t)
	// The next morning: the SOP v2 acknowledgement reminder (ackrem:2)
	// and the review reminder (rvrem:RV-2026-002).
	w.Now = time.Date(2026, 11, 28, 2, 30, 0, 0, time.UTC)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, tech.Chat(), "请阅读并确认新版规程") != 1 || count(msgs, tech.Chat(), "复审仍在等待您的建议") != 1 {
		t.Fatalf("tech's reminders: %+v", flowstest.To(msgs, tech.Chat()))
	}
	if count(msgs, lead.Chat(), "规程 v2 尚未确认") != 1 {
		t.Fatalf("lead not told who has not acknowledged: %+v", flowstest.To(msgs, lead.Chat()))
	}
	// 1 December: November's audit (audit:202611).
	w.Now = time.Date(2026, 12, 1, 1, 30, 0, 0, time.UTC)
	w.Tick()
	if count(w.Drain(), lead.Chat(), "2026-11 执行情况抽查") != 1 {
		t.Fatal("no audit of 2026-11")
	}
	// 11 December: RV-2026-002 is past its deadline (rvdue).
	w.Now = time.Date(2026, 12, 11, 2, 30, 0, 0, time.UTC)
	w.Tick()
	if count(w.Drain(), admin.Chat(), "复审 RV-2026-002 已超过截止时间") != 1 {
		t.Fatal("overdue review not escalated")
	}
	if !review(t, w, "RV-2026-002").Escalated {
		t.Fatal("review not marked escalated")
	}
	// 24 December: action 2 of RV-2026-001 (赵师傅) is reminded, due and escalated.
	w.Now = time.Date(2026, 12, 24, 2, 30, 0, 0, time.UTC)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, tech2.Chat(), "RV-2026-001#2 将于 2026-12-20 到期") != 1 || count(msgs, tech2.Chat(), "RV-2026-001#2 今天到期") != 1 ||
		count(msgs, lead.Chat(), "RV-2026-001#2 已逾期 3 天") != 1 {
		t.Fatalf("action reminders: %+v", msgs)
	}
	// Action 1's were sent too: its owner has not recorded it.
	if count(msgs, legacyDispatcher.Chat(), "RV-2026-001#1 今天到期") != 1 {
		t.Fatalf("action 1 reminders: %+v", flowstest.To(msgs, legacyDispatcher.Chat()))
	}
	// 15 January: the yearly review (yearly:2027).
	w.Now = time.Date(2027, 1, 15, 1, 30, 0, 0, time.UTC)
	w.Tick()
	w.Drain()
	if r := review(t, w, "RV-2027-001"); r.Trigger != "yearly" {
		t.Fatalf("yearly review %+v", r)
	}
	// What is pending now (the reminders that came back, the next audit
	// and yearly review) was written in the new form.
	for key, tm := range storedTimers(t, w) {
		var old bool
		switch tm.Kind {
		case "ackrem":
			old = tm.Rung != 0 || tm.Version == 0
		case "rvrem", "rvdue":
			old = tm.Day != "" || tm.Review == ""
		case "actpre", "actdue", "actesc":
			old = tm.Day != "" || tm.Rung != 0 || tm.Review == "" || tm.Action == 0
		case "audit":
			old = tm.Day != "" || tm.Month == ""
		case "yearly":
			old = tm.Day != "" || tm.Year == 0
		}
		if old || strings.Contains(key, "2026-001") || key == "audit:202611" || key == "yearly:2027" {
			t.Errorf("pending %s: %+v", key, tm)
		}
	}
}
