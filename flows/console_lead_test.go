package flows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// paperPhoto is a photo as the console keeps an upload.
func paperPhoto(size int64) *flows.Photo {
	return &flows.Photo{FileID: "web:upload", SHA256: strings.Repeat("b", 64), Local: "bb/" + strings.Repeat("b", 64) + ".jpg", Size: size}
}

// TestConsoleStuckTicket: a ticket waiting for the resident's sign-off is
// ended from the console as in chat's /manage: a paper signature with its
// photo confirms it (the technician is asked for the goodbye), a close
// with a reason ends it; the reason and the photo are in the audit trail,
// the clocks stop, the card follows, the technician and resident are told.
// Without the photo or the reason nothing changes.
func TestConsoleStuckTicket(t *testing.T) {
	t.Run("paper", func(t *testing.T) {
		w, id := stuckWorld(t)
		w.Drain()
		for name, tc := range map[string]struct {
			photo *flows.Photo
			want  string
		}{
			"no photo":  {nil, "照片"},
			"too large": {paperPhoto(50 << 20), "太大"},
		} {
			before := len(w.Events(id))
			w.Refused(w.ConsolePhoto(lead, flows.ConsolePaper, id, nil, tc.photo), tc.want)
			if tk := w.Ticket(id); tk.State != flows.StateDone || len(w.Events(id)) != before || len(w.Drain()) != 0 {
				t.Fatalf("%s: refused but changed: %s", name, tk.State)
			}
		}
		res := w.ConsolePhoto(lead, flows.ConsolePaper, id, map[string]string{"note": "住户不会用手机"}, paperPhoto(4096))
		w.Expect(res)
		msgs := w.Drain()
		tk := w.Ticket(id)
		if tk.State != flows.StateConfirmed || tk.Signoff != "paper" {
			t.Fatalf("after the paper signature: %s %q", tk.State, tk.Signoff)
		}
		ev := strings.Join(w.Events(id), ",")
		if !strings.Contains(ev, "ppl:paper") || !strings.Contains(ev, "paper_signed:住户不会用手机") {
			t.Fatalf("audit trail: %s", ev)
		}
		w.ButtonData(w.Last(msgs, tech.Chat()), "道别")
		if len(To(msgs, flowstest.Group)) == 0 {
			t.Fatal("the group card did not follow")
		}
		if len(To(msgs, lead.Chat())) != 0 {
			t.Fatal("the console's lead was answered in chat")
		}
	})
	t.Run("close with a reason", func(t *testing.T) {
		w, id := stuckWorld(t)
		w.Drain()
		w.Refused(w.Console(lead, flows.ConsoleClose, id, map[string]string{"reason": "  "}), "原因")
		if tk := w.Ticket(id); tk.State != flows.StateDone {
			t.Fatalf("closed without a reason: %s", tk.State)
		}
		w.Expect(w.Console(lead, flows.ConsoleClose, id, map[string]string{"reason": "住户电话确认已修好，不便操作手机"}))
		msgs := w.Drain()
		tk := w.Ticket(id)
		if tk.State != flows.StateClosed || tk.Closure != flows.ClosedByLead || tk.Closed == nil {
			t.Fatalf("after the close: %+v", tk)
		}
		if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "lcl:住户电话确认已修好") {
			t.Fatalf("audit trail: %s", ev)
		}
		contains(t, w.Last(msgs, tech.Chat()).Text, id)
		contains(t, w.Last(msgs, resident.Chat()).Text, id)
		contains(t, w.Last(msgs, flowstest.Group).Text, "主管关闭")
		// The sign-off clock stopped: days later nobody is reminded.
		w.Now = w.Now.Add(5 * 24 * 3600e9)
		w.Tick()
		if n := count(w.Drain(), resident.Chat(), "提醒"); n != 0 {
			t.Fatalf("%d reminders after the close", n)
		}
	})
}

// TestReopen: a lead reopens an ended ticket with a reason, from the
// console or from chat's /manage: it is new again, unassigned, a fresh
// card with the accept button goes to the group, the resident and the
// former technician are told, the reason is in the audit trail. A
// merged duplicate is not reopened.
func TestReopen(t *testing.T) {
	for _, door := range []string{"console", "chat"} {
		t.Run(door, func(t *testing.T) {
			w, id := stuckWorld(t)
			w.Expect(w.Console(lead, flows.ConsoleClose, id, map[string]string{"reason": "住户说修好了"}))
			w.Drain()
			reason := "住户来电：又漏了"
			if door == "console" {
				w.Refused(w.Console(lead, flows.ConsoleReopen, id, map[string]string{"reason": ""}), "原因")
				w.Expect(w.Console(lead, flows.ConsoleReopen, id, map[string]string{"reason": reason}))
			} else {
				m := manage(t, w, id)
				w.Expect(w.Tap(lead, w.ButtonData(m, "重新打开"), false))
				contains(t, w.Last(w.Drain(), lead.Chat()).Text, "重新打开")
				w.Text(lead, reason)
			}
			msgs := w.Drain()
			tk := w.Ticket(id)
			if tk.State != flows.StateNew || tk.AssigneeID != "" || tk.Closure != "" || tk.Closed != nil || tk.Finished != nil {
				t.Fatalf("after the reopen: %+v", tk)
			}
			if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "lro:"+reason) {
				t.Fatalf("audit trail: %s", ev)
			}
			card := w.Last(msgs, flowstest.Group)
			if card.Kind != flows.KindSend {
				t.Fatalf("the group gets a %s, want a new card", card.Kind)
			}
			w.ButtonData(card, "接单")
			contains(t, w.Last(msgs, resident.Chat()).Text, "重新打开")
			contains(t, w.Last(msgs, tech.Chat()).Text, reason)
			// Anyone can take it again.
			w.Expect(w.Tap(tech2, flows.EncodePayload("acc", id), true))
		})
	}
}

// TestMerge: a duplicate is merged into the ticket it repeats, from the
// console or from chat's /manage: it is cancelled as merged, naming the
// other ticket, which records the duplicate; its resident is told which
// ticket carries the work. Into itself, an unknown or an ended ticket:
// refused, nothing changed. A merged ticket cannot be reopened.
func TestMerge(t *testing.T) {
	for _, door := range []string{"console", "chat"} {
		t.Run(door, func(t *testing.T) {
			w := emergencyWorld(t)
			w.Register(other, "13900139000")
			keep := w.Report(resident, "3栋电梯异响")
			dup := w.Report(other, "电梯响")
			ended := w.Report(resident, "走廊灯")
			w.Expect(w.Console(lead, flows.ConsoleCancel, ended, map[string]string{"reason": "重复"}))
			w.Drain()
			for _, bad := range []struct{ into, want string }{
				{dup, "自己"}, {"BX-20261127-9999", "找不到"}, {ended, "已结束"}, {"", "工单编号"},
			} {
				before := len(w.Events(dup))
				w.Refused(w.Console(lead, flows.ConsoleMerge, dup, map[string]string{"into": bad.into, "reason": "同一部电梯"}), bad.want)
				if tk := w.Ticket(dup); tk.State != flows.StateNew || len(w.Events(dup)) != before || len(w.Drain()) != 0 {
					t.Fatalf("merge into %q refused but changed the ticket", bad.into)
				}
			}
			if door == "console" {
				w.Expect(w.Console(lead, flows.ConsoleMerge, dup, map[string]string{"into": strings.ToLower(keep), "reason": "同一部电梯"}))
			} else {
				m := manage(t, w, dup)
				w.Expect(w.Tap(lead, w.ButtonData(m, "合并"), false))
				contains(t, w.Last(w.Drain(), lead.Chat()).Text, "重复")
				w.Text(lead, keep+" 同一部电梯")
			}
			msgs := w.Drain()
			tk := w.Ticket(dup)
			if tk.State != flows.StateCancelled || tk.Closure != flows.MergedByLead || tk.MergedInto != keep {
				t.Fatalf("after the merge: %s %q %q", tk.State, tk.Closure, tk.MergedInto)
			}
			if ev := strings.Join(w.Events(dup), ","); !strings.Contains(ev, "lmg:"+keep+" 同一部电梯") {
				t.Fatalf("duplicate's trail: %s", ev)
			}
			if ev := strings.Join(w.Events(keep), ","); !strings.Contains(ev, "merged_from:"+dup) {
				t.Fatalf("kept ticket's trail: %s", ev)
			}
			if kt := w.Ticket(keep); kt.State != flows.StateNew {
				t.Fatalf("the kept ticket moved: %s", kt.State)
			}
			contains(t, w.Last(msgs, other.Chat()).Text, keep)
			contains(t, w.Last(msgs, flowstest.Group).Text, "合并")
			w.Refused(w.Console(lead, flows.ConsoleReopen, dup, map[string]string{"reason": "误操作"}), keep)
			if w.Ticket(dup).State != flows.StateCancelled {
				t.Fatal("a merged ticket was reopened")
			}
		})
	}
}

// TestConsoleFeeQuestion: customer service answers and closes a fee
// question in the console as with chat's buttons: the resident hears
// back, the answer is kept with the question and in the trail; an empty
// answer, an unknown or a closed question is refused.
func TestConsoleFeeQuestion(t *testing.T) {
	w, id := stuckWorld(t)
	w.Staff(dispatcher, "dispatcher")
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	w.Drain()
	w.Refused(w.Console(dispatcher, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": id, "text": " "}), "回复")
	w.Refused(w.Console(dispatcher, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": "BX-20261127-9999", "text": "x"}), "BX-20261127-9999")
	w.Refused(w.Console(tech, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": id, "text": "x"}), "只有主管")
	if len(w.Drain()) != 0 {
		t.Fatal("a refusal sent something")
	}
	w.Expect(w.Console(dispatcher, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": id, "text": "按价目表 W02 收费 25 元。"}))
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "按价目表 W02 收费 25 元")
	var q *flows.FeeQuestion
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error { q, _ = tx.FeeQuestion(id); return nil })
	if q == nil || len(q.Answers) != 1 || q.Answers[0].By != dispatcher.PID() {
		t.Fatalf("question: %+v", q)
	}
	w.Expect(w.Console(dispatcher, flows.ConsoleFeeClose, "", map[string]string{"ticket": id}))
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "已由客服处理完毕")
	w.Refused(w.Console(dispatcher, flows.ConsoleFeeClose, "", map[string]string{"ticket": id}), "已")
	w.Refused(w.Console(dispatcher, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": id, "text": "再说一句"}), "已")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "fee_answer:按价目表") || !strings.Contains(ev, "fee_closed:") {
		t.Fatalf("audit trail: %s", ev)
	}
}

// consoleChatDesign is who may take each console action that is a chat
// button or command, written from the README's roles table like the
// commands' design: the console allows exactly these, and so does chat.
var consoleChatDesign = map[string][]string{
	flows.ConsoleFeeAnswer:      {"lead", "dispatcher", "admin"},
	flows.ConsoleFeeClose:       {"lead", "dispatcher", "admin"},
	flows.ConsoleStaffRole:      {"lead", "admin"},
	flows.ConsoleStaffLeave:     {"lead", "admin"},
	flows.ConsoleSkill:          {"lead", "admin"},
	flows.ConsoleCertVerify:     {"lead", "admin"},
	flows.ConsoleCertReviewed:   {"lead", "admin"},
	flows.ConsoleDuty:           {"lead", "admin"},
	flows.ConsoleRosterPerson:   {"lead", "admin"},
	flows.ConsoleRosterDelete:   {"lead", "admin"},
	flows.ConsoleTrainingCancel: {"lead", "admin"},
	flows.ConsolePurchaseOK:     {"lead", "admin"},
	flows.ConsolePurchaseNo:     {"lead", "admin"},
	flows.ConsoleItemRetire:     {"lead", "admin"},
	flows.ConsolePriceSet:       {"lead", "admin"},
	flows.ConsoleAreaSet:        {"admin"},
	flows.ConsolePhoneTicket:    {"lead", "dispatcher", "admin"},
	flows.ConsoleQCReview:       {"lead", "admin"},
	flows.ConsoleRosterAdd:      {"lead", "admin"},
	flows.ConsoleRosterHours:    {"lead", "admin"},
	// One's own certificate, or a lead's record for the team (the handler checks).
	flows.ConsoleCertNew:     {"tech", "tech2", "lead", "admin"},
	flows.ConsoleCertRefuse:  {"lead", "admin"},
	flows.ConsoleCertRevoke:  {"lead", "admin"},
	flows.ConsoleTrainingNew: {"lead", "admin"},
	// The trainer records attendance too (trainAttend checks the session).
	flows.ConsoleTrainingAttend: {"tech", "tech2", "lead", "dispatcher", "admin"},
	// Only an action's owner marks it done (the handler checks, as chat's).
	flows.ConsoleActionDone:   {"resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	flows.ConsoleStockBuy:     {"tech", "tech2", "lead", "admin"},
	flows.ConsoleStockReceive: {"tech", "tech2", "lead", "admin"},
	flows.ConsoleStockReturn:  {"tech", "tech2", "lead", "admin"},
	flows.ConsoleStockCount:   {"lead", "admin"},
}

// TestConsoleRowsByRole: every console action that names no ticket is in
// the design; ConsoleAllows agrees with it for every kind of person; a
// refused one answers and changes nothing (no message, no trail, no
// person changed); and where the action is a chat button, chat refuses
// the same people with the same answer.
func TestConsoleRowsByRole(t *testing.T) {
	w, actors := consoleWorld(t)
	id := w.Report(resident, "漏水")
	w.Drain()
	args := map[string]string{"ticket": id, "text": "答复", "person": tech.PID(), "role": "lead", "skill": "plumbing", "level": "-",
		"cert": "C-1", "on": "on", "shift": "1", "session": "S-1", "mark": "p", "request": "PR-1", "part": "P-1",
		"code": "W02", "price": "30", "name_zh": "换角阀", "name_en": "Angle valve", "day": "mon", "review": "RV-2026-001", "n": "1"}
	for _, a := range flows.ConsoleActions() {
		if a == flows.ConsoleLogin || a == flows.ConsoleLogout || flows.ConsoleTicketAction(a) {
			continue
		}
		who, ok := consoleChatDesign[a]
		if !ok {
			t.Errorf("console action %q has no design row", a)
			continue
		}
		for actor, p := range actors {
			want := in(who, actor)
			t.Run(fmt.Sprintf("%s/%s", a, actor), func(t *testing.T) {
				err := flows.ConsoleAllows(a, personOf(t, w, p), nil)
				if (err == nil) != want {
					t.Fatalf("ConsoleAllows = %v, design says allowed=%v", err, want)
				}
				if want {
					return // what each does is its own test
				}
				before, people := strings.Join(w.Events(id), ","), snapshotPeople(t, w, actors)
				res := w.Console(p, a, "", args)
				if !res.Alert || res.Toast == "" {
					t.Fatalf("refused without an answer: %+v", res)
				}
				if msgs := w.Drain(); len(msgs) != 0 || strings.Join(w.Events(id), ",") != before || snapshotPeople(t, w, actors) != people {
					t.Fatalf("a refusal changed something or sent %d messages", len(msgs))
				}
				if v := flows.ConsoleVerb(a); v != "" && actor != "stranger" {
					chat := w.Tap(p, chatPayload(v, args, a), false)
					if chat.Toast != res.Toast {
						t.Fatalf("chat answers %q to %q (%v), the console %q", chat.Toast, chatPayload(v, args, a), args, res.Toast)
					}
					w.Drain()
				}
			})
		}
	}
}

// chatPayload is the chat button the console action is, with the same arguments.
func chatPayload(verb string, args map[string]string, action string) string {
	fields := map[string][]string{
		flows.ConsoleFeeAnswer: {"ticket"}, flows.ConsoleFeeClose: {"ticket"}, flows.ConsoleStaffRole: {"person", "role"},
		flows.ConsoleStaffLeave: {"person"}, flows.ConsoleSkill: {"person", "skill", "level"}, flows.ConsoleCertVerify: {"cert"},
		flows.ConsoleCertReviewed: {"cert"}, flows.ConsoleDuty: {"person", "on"}, flows.ConsoleRosterPerson: {"shift", "person", "on"},
		flows.ConsoleRosterDelete: {"shift"}, flows.ConsoleTrainingCancel: {"session"},
		flows.ConsolePurchaseOK: {"request"}, flows.ConsolePurchaseNo: {"request"}, flows.ConsoleItemRetire: {"part"},
		flows.ConsoleQCReview: {"ticket"}, flows.ConsoleRosterAdd: {"day"}, flows.ConsoleRosterHours: {"shift"},
		flows.ConsoleCertNew: {"person"}, flows.ConsoleCertRefuse: {"cert"}, flows.ConsoleCertRevoke: {"cert"}, flows.ConsoleTrainingAttend: {"session", "person", "mark"},
		flows.ConsoleActionDone: {"review", "n"},
	}[action]
	if fields == nil {
		panic("chatPayload: no fields for " + action)
	}
	var vals []string
	for _, f := range fields {
		vals = append(vals, args[f])
	}
	return flows.EncodePayload(verb, vals...)
}

func snapshotPeople(t *testing.T, w *flowstest.World, actors map[string]flowstest.Person) string {
	t.Helper()
	var lines []string
	for _, p := range actors {
		if q := personOf(t, w, p); q != nil {
			lines = append(lines, fmt.Sprintf("%s=%s/%v", q.ID, q.Role, q.Deactivated != nil))
		}
	}
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		vs, err := tx.SOPVersions()
		lines = append(lines, fmt.Sprintf("sop versions %d", len(vs)))
		return err
	})
	slices.Sort(lines)
	return strings.Join(lines, ";")
}
