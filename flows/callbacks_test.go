package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var clerk = flowstest.Person{ID: 400, Name: "刘客服"}

func callbackWorld(t *testing.T, tweak ...func(*flows.Options)) *flowstest.World {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		o.Records.CallbackAfter, o.Records.CallbackAnswerWithin = 7*24*time.Hour, 48*time.Hour
		for _, f := range tweak {
			f(o)
		}
	}))
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	w.Staff(clerk, "dispatcher")
	return w
}

// askedCallback closes a ticket and lets seven days pass: the resident is
// asked; it returns the ticket and the question.
func askedCallback(t *testing.T, w *flowstest.World) (string, flows.Message) {
	t.Helper()
	id := closeScored(t, w, "5", false)
	w.Drain()
	if cb := w.Ticket(id).Callback; cb == nil || cb.Status != "scheduled" || !cb.Due.Equal(w.Now.Add(7*24*time.Hour)) {
		t.Fatalf("callback after closing: %+v", cb)
	}
	w.Now = w.Now.Add(7*24*time.Hour - time.Minute)
	w.Tick()
	w.Drain()
	if w.Ticket(id).Callback.Status != "scheduled" {
		t.Fatal("asked before the seven days")
	}
	w.Now = w.Now.Add(2 * time.Minute)
	w.Tick()
	q := withText(t, w.Drain(), resident.Chat(), "回访：您的报修 "+id)
	return id, q
}

func kpiOf(t *testing.T, w *flowstest.World, id string) flows.TicketTimes {
	t.Helper()
	var tt flows.TicketTimes
	if err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		evs, err := tx.TicketEvents(id)
		tt = flows.TicketKPI(tk, evs)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return tt
}

// TestCallbackHeld: seven days after closing the resident is asked; "held"
// keeps the ticket closed with the answer recorded, then the satisfaction;
// the KPIs count the fix as held. Asking again is refused.
func TestCallbackHeld(t *testing.T) {
	w := callbackWorld(t)
	id, q := askedCallback(t, w)
	w.Expect(w.Tap(resident, w.ButtonData(q, "修好了"), false))
	stars := w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(stars, "4⭐"), false))
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "回访满意度：4 分")
	tk := w.Ticket(id)
	if tk.State != flows.StateClosed || tk.Callback.Status != "held" || tk.Callback.Score != 4 || tk.Callback.Via != "chat" || tk.Reworks != 0 {
		t.Fatalf("ticket %s %+v reworks %d", tk.State, tk.Callback, tk.Reworks)
	}
	if tt := kpiOf(t, w, id); tt.Held != 1 || tt.NotHeld != 0 || tt.Reworks != 0 {
		t.Fatalf("KPI held %d not held %d reworks %d", tt.Held, tt.NotHeld, tt.Reworks)
	}
	w.Refused(w.Tap(resident, w.ButtonData(q, "修好了"), false), "已经记录过了")
	w.Refused(w.Tap(resident, w.ButtonData(stars, "5⭐"), false), "已经记录过了")
	// Two days later nothing goes on the phone list.
	w.Now = w.Now.Add(49 * time.Hour)
	w.Tick()
	w.Cmd(clerk, "callbacks", "")
	contains(t, w.Last(w.Drain(), clerk.Chat()).Text, "电话回访名单是空的")
}

// TestCallbackNotHeldIsReworkBySameTechnician: "not held" reopens the
// ticket as rework for the technician who did it (the job comes back to
// them, the leads are told), counted in the rework rate; the second close
// schedules a new callback.
func TestCallbackNotHeldIsReworkBySameTechnician(t *testing.T) {
	w := callbackWorld(t)
	id, q := askedCallback(t, w)
	w.Expect(w.Tap(resident, w.ButtonData(q, "没修好"), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "已重新派给 "+tech.Name+" 返工")
	job := withText(t, msgs, tech.Chat(), "回访未修好，返工：工单 "+id)
	w.ButtonData(job, "已到达")
	withText(t, msgs, lead.Chat(), "回访未修好：工单 "+id)
	tk := w.Ticket(id)
	if tk.State != flows.StateAccepted || tk.AssigneeID != tech.PID() || tk.Reworks != 1 || tk.Closed != nil || tk.Callback.Status != "not_held" {
		t.Fatalf("ticket %s assignee %s reworks %d callback %+v", tk.State, tk.AssigneeID, tk.Reworks, tk.Callback)
	}
	tt := kpiOf(t, w, id)
	if tt.NotHeld != 1 || tt.Reworks != 1 {
		t.Fatalf("KPI not held %d reworks %d", tt.NotHeld, tt.Reworks)
	}
	w.Refused(w.Tap(resident, w.ButtonData(q, "修好了"), false), "已过期")
	w.WalkToSignoff(tech, resident, id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "4"), false))
	if cb := w.Ticket(id).Callback; cb == nil || cb.Status != "scheduled" || !cb.Due.Equal(w.Now.Add(7*24*time.Hour)) {
		t.Fatalf("no new callback after the rework: %+v", cb)
	}
	if tt := kpiOf(t, w, id); tt.Closed == nil || !tt.Closed.Equal(w.Now) {
		t.Fatalf("second close not the closed milestone: %v", tt.Closed)
	}
}

// TestCallbackNoAnswerGoesToTheClerk: a resident who does not answer
// within two days goes on customer service's phone-callback list (across a
// restart: the timers are data); the clerk records held with the
// resident's satisfaction, not held (rework), or unreachable, each taking
// the ticket off the list.
func TestCallbackNoAnswerGoesToTheClerk(t *testing.T) {
	for _, c := range []struct {
		name, button string
		state        flows.State
		status       string
	}{
		{"held", "修好了", flows.StateClosed, "held"},
		{"not held", "没修好", flows.StateAccepted, "not_held"},
		{"unreachable", "联系不上", flows.StateClosed, "unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := callbackWorld(t)
			id, _ := askedCallback(t, w)
			w.Reopen()
			w.Now = w.Now.Add(47 * time.Hour)
			w.Tick()
			if w.Ticket(id).Callback.Status != "asked" {
				t.Fatal("on the list before two days")
			}
			w.Now = w.Now.Add(2 * time.Hour)
			w.Tick()
			msgs := w.Drain()
			withText(t, msgs, clerk.Chat(), "回访无应答：工单 "+id)
			for _, m := range flowstest.To(msgs, lead.Chat()) {
				if strings.Contains(m.Text, id) {
					t.Errorf("the leads got %q though customer service exists", m.Text)
				}
			}
			w.Cmd(clerk, "callbacks", "")
			msgs = flowstest.To(w.Drain(), clerk.Chat())
			contains(t, msgs[0].Text, "需要电话回访 1 单")
			line := msgs[1]
			contains(t, line.Text, id+"｜王芳 13800138000｜3栋 / 2单元 / 1502")
			w.Refused(w.Tap(tech, w.ButtonData(line, c.button), false), "没有权限")
			w.Expect(w.Tap(clerk, w.ButtonData(line, c.button), false))
			if c.name == "held" {
				stars := w.Last(w.Drain(), clerk.Chat())
				w.Expect(w.Tap(clerk, w.ButtonData(stars, "3⭐"), false))
			}
			tk := w.Ticket(id)
			if tk.State != c.state || tk.Callback.Status != c.status || tk.Callback.Via != "phone" || tk.Callback.By != clerk.PID() {
				t.Fatalf("ticket %s callback %+v", tk.State, tk.Callback)
			}
			if c.name == "held" && tk.Callback.Score != 3 {
				t.Fatalf("satisfaction %d", tk.Callback.Score)
			}
			w.Drain()
			w.Cmd(clerk, "callbacks", "")
			contains(t, w.LastText(w.Drain(), clerk.Chat()).Text, "电话回访名单是空的")
			w.Refused(w.Tap(clerk, w.ButtonData(line, c.button), false), "")
		})
	}
}

// TestCallbackRules: a category set to 0 and public orders get no callback
// (by default); another resident cannot answer someone's callback.
func TestCallbackRules(t *testing.T) {
	w := callbackWorld(t, func(o *flows.Options) { o.Records.CallbackByCategory = map[string]time.Duration{"water": 0} })
	id := closeScored(t, w, "5", false)
	if cb := w.Ticket(id).Callback; cb != nil {
		t.Fatalf("a water ticket got a callback: %+v", cb)
	}
	w2 := callbackWorld(t)
	w2.Register(other, "13900139000")
	id2, q := askedCallback(t, w2)
	w2.Refused(w2.Tap(other, w2.ButtonData(q, "修好了"), false), "不是您提交的")
	if strings.Contains(w2.Ticket(id2).Callback.Status, "held") {
		t.Fatal("someone else's answer was recorded")
	}
	w3 := callbackWorld(t)
	id3 := w3.Report(resident, "楼道灯不亮")
	seedKind(t, w3, id3, flows.OrderPublic)
	w3.Expect(w3.Tap(tech, flows.EncodePayload("acc", id3), true))
	w3.WalkToSignoff(tech, resident, id3)
	w3.Expect(w3.Tap(resident, flows.EncodePayload("fix", id3), false))
	w3.Expect(w3.Tap(tech, flows.EncodePayload("bye", id3), false))
	w3.Expect(w3.Tap(resident, flows.EncodePayload("sc", id3, "5"), false))
	if cb := w3.Ticket(id3).Callback; cb != nil {
		t.Fatalf("a public order got a callback: %+v", cb)
	}
}

// TestEveryCloseSampledAndCalledBack: every way a ticket closes — the
// resident's score, the survey closed without a rating, the sign-off
// confirmed by default, a lead's close from /manage — goes through the same
// step after the close: the ticket is sampled for QC (at a share of 100)
// and its callback visit is scheduled, and asked seven days later. A
// lead's cancel is neither sampled nor called back.
func TestEveryCloseSampledAndCalledBack(t *testing.T) {
	toSignoff := func(t *testing.T, w *flowstest.World) string {
		t.Helper()
		id := w.Report(resident, "厨房水管漏水")
		w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
		w.WalkToSignoff(tech, resident, id)
		return id
	}
	leadEnds := func(t *testing.T, w *flowstest.World, id, label string) {
		t.Helper()
		w.Expect(w.Tap(lead, w.ButtonData(manage(t, w, id), label), false))
		w.Drain()
		w.Text(lead, "住户已确认，电话告知")
		w.Drain()
	}
	for _, c := range []struct {
		name    string
		end     func(t *testing.T, w *flowstest.World) string
		state   flows.State
		closure string
		called  bool
	}{
		{"the resident's score", func(t *testing.T, w *flowstest.World) string {
			return closeScored(t, w, "5", false)
		}, flows.StateClosed, "", true},
		{"no rating", func(t *testing.T, w *flowstest.World) string {
			id := toSignoff(t, w)
			w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
			w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
			w.Now = w.Now.Add(w.Opts.SLA.SurveyCloseAfter)
			w.Tick()
			return id
		}, flows.StateClosed, flows.ClosedNoRating, true},
		{"confirmed by default", func(t *testing.T, w *flowstest.World) string {
			id := toSignoff(t, w)
			w.Now = w.Now.Add(w.Opts.SLA.SignoffCloseAfter)
			w.Tick()
			return id
		}, flows.StateClosed, flows.ClosedConfirmedByDefault, true},
		{"a lead's close", func(t *testing.T, w *flowstest.World) string {
			id := toSignoff(t, w)
			leadEnds(t, w, id, "关闭工单")
			return id
		}, flows.StateClosed, flows.ClosedByLead, true},
		{"a lead's cancel", func(t *testing.T, w *flowstest.World) string {
			id := w.Report(resident, "厨房水管漏水")
			w.Drain()
			leadEnds(t, w, id, "取消工单")
			return id
		}, flows.StateCancelled, flows.CancelledByLead, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := callbackWorld(t, func(o *flows.Options) { o.Records.QC, o.Records.QCShare = true, 100 })
			id := c.end(t, w)
			w.Drain()
			tk := w.Ticket(id)
			if tk.State != c.state || tk.Closure != c.closure {
				t.Fatalf("ended %s %q, want %s %q", tk.State, tk.Closure, c.state, c.closure)
			}
			r := qcOf(t, w, id)
			if !c.called {
				if r != nil || tk.Callback != nil {
					t.Fatalf("a cancelled ticket was sampled (%+v) or called back (%+v)", r, tk.Callback)
				}
				return
			}
			if r == nil || r.Status != "pending" {
				t.Fatalf("not sampled for QC: %+v", r)
			}
			if tk.Callback == nil || tk.Callback.Status != "scheduled" || !tk.Callback.Due.Equal(tk.Closed.Add(7*24*time.Hour)) {
				t.Fatalf("callback %+v (closed %v)", tk.Callback, tk.Closed)
			}
			w.Now = tk.Closed.Add(7*24*time.Hour + time.Minute)
			w.Tick()
			withText(t, w.Drain(), resident.Chat(), "回访：您的报修 "+id)
		})
	}
}
