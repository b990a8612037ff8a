package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// stuckWorld has a ticket at the sign-off, waiting for the resident.
func stuckWorld(t *testing.T) (*flowstest.World, string) {
	w := emergencyWorld(t)
	id := w.Report(resident, "漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	return w, id
}

// TestSignoffRemindedThenConfirmedByDefault: a resident who never taps the
// sign-off is reminded (sla.signoff_remind), and after
// sla.signoff_close_after the ticket closes as confirmed by default,
// recorded as such; the leads are told.
func TestSignoffRemindedThenConfirmedByDefault(t *testing.T) {
	w, id := stuckWorld(t)
	done := w.Now
	for day := 1; day <= 2; day++ {
		w.Now = done.Add(time.Duration(day) * 24 * time.Hour)
		w.Tick()
		msgs := w.Drain()
		m := w.Last(msgs, resident.Chat())
		contains(t, m.Text, "提醒")
		w.ButtonData(m, "确认，已修好")
		if tk := w.Ticket(id); tk.State != flows.StateDone {
			t.Fatalf("day %d: %s", day, tk.State)
		}
	}
	w.Now = done.Add(72 * time.Hour)
	w.Tick()
	msgs := w.Drain()
	tk := w.Ticket(id)
	if tk.State != flows.StateClosed || tk.Signoff != "default" || tk.Closure != flows.ClosedConfirmedByDefault || tk.Closed == nil {
		t.Fatalf("after the limit: %+v", tk)
	}
	contains(t, w.Last(msgs, resident.Chat()).Text, "默认确认")
	contains(t, w.Last(msgs, lead.Chat()).Text, "默认确认")
	contains(t, w.Last(msgs, flowstest.Group).Text, "按默认确认")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "confirmed_by_default:") {
		t.Fatalf("not in the audit trail: %s", ev)
	}
	w.Refused(w.Tap(resident, flows.EncodePayload("fix", id), false), "已过期")
	// Nothing more fires for it.
	w.Now = done.Add(30 * 24 * time.Hour)
	w.Tick()
	if n := count(w.Drain(), resident.Chat(), id); n != 0 {
		t.Fatalf("%d more messages about a closed ticket", n)
	}
}

// TestSurveyRemindedThenNoRating: a resident who never rates is reminded,
// then the ticket closes with "no rating", recorded as such.
func TestSurveyRemindedThenNoRating(t *testing.T) {
	w, id := stuckWorld(t)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Drain()
	bye := w.Now
	w.Now = bye.Add(24 * time.Hour)
	w.Tick()
	m := w.Last(w.Drain(), resident.Chat())
	contains(t, m.Text, "提醒")
	w.ButtonData(m, "5⭐")
	w.Now = bye.Add(72 * time.Hour)
	w.Tick()
	msgs := w.Drain()
	tk := w.Ticket(id)
	if tk.State != flows.StateClosed || tk.Closure != flows.ClosedNoRating || tk.Score != 0 || tk.Closed == nil {
		t.Fatalf("after the limit: %+v", tk)
	}
	contains(t, w.Last(msgs, flowstest.Group).Text, "未评价")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "no_rating:") {
		t.Fatalf("not in the audit trail: %s", ev)
	}
	w.Refused(w.Tap(resident, flows.EncodePayload("sc", id, "5"), false), "已过期")
}

// TestAnsweredInTimeStopsTheClock: a sign-off and a score in time end
// their reminders.
func TestAnsweredInTimeStopsTheClock(t *testing.T) {
	w, id := stuckWorld(t)
	w.Now = w.Now.Add(time.Hour)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "4"), false))
	w.Drain()
	w.Now = w.Now.Add(4 * 24 * time.Hour)
	w.Tick()
	if n := count(w.Drain(), resident.Chat(), "提醒"); n != 0 {
		t.Fatalf("%d reminders after the answers", n)
	}
	if tk := w.Ticket(id); tk.Closure != "" || tk.Score != 4 {
		t.Fatalf("%+v", tk)
	}
}

// manage runs /manage for a ticket and returns the answer.
func manage(t *testing.T, w *flowstest.World, id string) flows.Message {
	t.Helper()
	w.Cmd(lead, "manage", id)
	return w.Last(w.Drain(), lead.Chat())
}

// TestEveryStateHasAWayOutForALead: in every open state /manage offers
// the lead at least one way out, and each ends or moves the ticket with
// the lead's reason in the audit trail.
func TestEveryStateHasAWayOutForALead(t *testing.T) {
	w := emergencyWorld(t)
	for i, state := range flows.AllStates {
		id := fmt.Sprintf("BX-20261127-%04d", 50+i)
		seedTicket(t, w, id, state)
		m := manage(t, w, id)
		if !state.Open() {
			contains(t, m.Text, "已结束")
			continue
		}
		t.Run(string(state), func(t *testing.T) {
			var data string
			for _, label := range []string{"关闭工单", "取消工单"} {
				for _, row := range m.Buttons {
					for _, b := range row {
						if strings.Contains(b.Text, label) && data == "" {
							data = b.Data
						}
					}
				}
			}
			if data == "" {
				t.Fatalf("no way out in %s: %q %v", state, m.Text, m.Buttons)
			}
			if res := w.Tap(lead, data, false); res.Alert {
				t.Fatalf("refused: %s", res.Toast)
			}
			contains(t, w.Last(w.Drain(), lead.Chat()).Text, "原因")
			w.Text(lead, " ")
			contains(t, w.Last(w.Drain(), lead.Chat()).Text, "内容不能为空")
			w.Text(lead, "住户已搬走，无法联系")
			w.Drain()
			tk := w.Ticket(id)
			if tk.State.Open() || !strings.HasSuffix(tk.Closure, "_by_lead") {
				t.Fatalf("%s: after the lead's move %+v", state, tk)
			}
			if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "住户已搬走，无法联系") {
				t.Fatalf("the reason is not in the audit trail: %s", ev)
			}
		})
	}
	// Who may not: a technician's /manage, a resident's forged close.
	w.Cmd(tech, "manage", "BX-20261127-0001")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管")
	seedTicket(t, w, "BX-20261127-0099", flows.StateDone)
	w.Refused(w.Tap(resident, flows.EncodePayload("lcl", "BX-20261127-0099"), false), "没有权限")
}

// TestLeadReassignsAtTheSignoff: a ticket waiting for the sign-off can be
// handed to another technician; it stays at the sign-off.
func TestLeadReassignsAtTheSignoff(t *testing.T) {
	w, id := stuckWorld(t)
	m := manage(t, w, id)
	w.Expect(w.Tap(lead, w.ButtonData(m, "改派"), false))
	pick := w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(pick, "赵师傅"), false))
	if tk := w.Ticket(id); tk.State != flows.StateDone || tk.AssigneeID != tech2.PID() {
		t.Fatalf("reassigned at the sign-off: %+v", tk)
	}
	// The new assignee gets a "not satisfied" rework.
	w.Expect(w.Tap(resident, flows.EncodePayload("nfx", id), false))
	if w.Ticket(id).AssigneeID != tech2.PID() || w.StepKind(id) != flows.StepWork {
		t.Fatal("the rework did not go to the new assignee")
	}
}

// TestPaperSignature: a resident who signed the paper 维修工作单 (no phone
// at hand) is recorded by the technician, or later by a lead, with a
// photo of the signed form; the visit goes on to the goodbye.
func TestPaperSignature(t *testing.T) {
	for _, who := range []string{"technician", "lead"} {
		t.Run(who, func(t *testing.T) {
			w, id := stuckWorld(t)
			p, data := tech, flows.EncodePayload("ppt", id)
			if who == "lead" {
				p = lead
				data = w.ButtonData(manage(t, w, id), "纸质")
			}
			w.Expect(w.Tap(p, data, false))
			contains(t, w.Last(w.Drain(), p.Chat()).Text, "照片")
			w.Text(p, "签了")
			contains(t, w.Last(w.Drain(), p.Chat()).Text, "照片")
			w.Photo(p, "SIGNED-FORM", "", 5000)
			msgs := w.Drain()
			tk := w.Ticket(id)
			if tk.State != flows.StateConfirmed || tk.Signoff != "paper" {
				t.Fatalf("after the paper signature: %+v", tk)
			}
			w.ButtonData(w.Last(msgs, tech.Chat()), "道别")
			var photo string
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
				evs, _ := tx.TicketEvents(id)
				for _, e := range evs {
					if e.Action == "paper_signed" && len(e.Photos) == 1 {
						photo = e.Photos[0].FileID
					}
				}
				return nil
			})
			if photo != "SIGNED-FORM" {
				t.Fatal("the signed form's photo is not in the audit trail")
			}
			w.Refused(w.Tap(resident, flows.EncodePayload("fix", id), false), "已过期")
		})
	}
	// Not the assignee: refused.
	w, id := stuckWorld(t)
	w.Refused(w.Tap(tech2, flows.EncodePayload("ppt", id), false), "不是由您负责")
}
