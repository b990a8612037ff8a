package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var dispatcher = flowstest.Person{ID: 400, Name: "刘客服"}

// consoleTicketDesign is which chat action each console ticket action is,
// written from the design (issue 17: "allowed exactly where chat
// allows it"): who may use it and from which states is that action's row
// of the allowed table in machine_test.go.
var consoleTicketDesign = map[string]flows.Action{
	flows.ConsoleAssign: flows.ActReassign,
	flows.ConsoleReturn: flows.ActReturnGroup,
	flows.ConsoleCancel: flows.ActLeadCancel,
	flows.ConsoleClose:  flows.ActLeadClose,
	flows.ConsolePaper:  flows.ActPaperLead,
	flows.ConsoleReopen: flows.ActLeadReopen,
	flows.ConsoleMerge:  flows.ActLeadMerge,
}

// consoleOfficeDesign is who may use the console actions that name no
// ticket.
var consoleOfficeDesign = map[string][]string{
	flows.ConsolePhoneTicket: {"lead", "dispatcher", "admin"},
}

// consoleWorld has every kind of person: a resident with a chat, another
// resident, two technicians, a lead, customer service and the admin.
func consoleWorld(t *testing.T) (*flowstest.World, map[string]flowstest.Person) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Register(other, "13900139000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	w.Staff(dispatcher, "dispatcher")
	w.Cmd(admin, "help", "")
	w.Drain()
	return w, map[string]flowstest.Person{
		"stranger": stranger, "resident": resident, "other": other, "tech": tech, "tech2": tech2,
		"lead": lead, "dispatcher": dispatcher, "admin": admin,
	}
}

func personOf(t *testing.T, w *flowstest.World, p flowstest.Person) *flows.Person {
	t.Helper()
	var out *flows.Person
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		out, _ = tx.Person(p.PID())
		return nil
	})
	return out
}

// TestConsoleTicketActionsByRole takes every console ticket action in
// every state as every kind of person: it is allowed exactly where the
// chat's design table allows its action; allowed, it moves the ticket as
// that action does and leaves a line in the audit trail by that person;
// refused, it answers (in the Result), changes nothing and sends nothing.
// ConsoleAllows, which the console uses to offer an action, agrees.
func TestConsoleTicketActionsByRole(t *testing.T) {
	w, actors := consoleWorld(t)
	for _, c := range flows.ConsoleActions() {
		if _, ok := consoleTicketDesign[c]; flows.ConsoleTicketAction(c) && !ok && consoleRecordsDesign[c] == "" {
			t.Fatalf("console ticket action %q has no design row", c)
		}
	}
	// A merge needs the ticket it goes into: an open one.
	into := "BX-20261126-0001"
	seedTicket(t, w, into, flows.StateNew)
	n := 0
	for name, act := range consoleTicketDesign {
		rule := allowed[act]
		for _, state := range flows.AllStates {
			for who, p := range actors {
				n++
				id := fmt.Sprintf("BX-20261127-%04d", n)
				seedTicket(t, w, id, state)
				want := in(rule.states, state) && in(rule.who, who)
				t.Run(fmt.Sprintf("%s/%s/%s", name, state, who), func(t *testing.T) {
					if err := flows.ConsoleAllows(name, personOf(t, w, p), w.Ticket(id)); (err == nil) != want {
						t.Fatalf("ConsoleAllows = %v, design says allowed=%v", err, want)
					}
					before := len(w.Events(id))
					args := map[string]string{"technician": tech2.PID(), "reason": "住户来电说已自行修好", "into": into}
					res := w.ConsolePhoto(p, name, id, args, &flows.Photo{FileID: "paper-" + id, SHA256: strings.Repeat("a", 64), Size: 2048})
					got := w.Ticket(id)
					msgs := w.Drain()
					if !want {
						if !res.Alert || res.Toast == "" {
							t.Fatalf("should be refused with an answer, got %+v", res)
						}
						if got.State != state || got.Rev != 1 || got.AssigneeID != w0Assignee(state) || len(w.Events(id)) != before {
							t.Fatalf("a refusal changed the ticket: %s → %s, rev %d, assignee %q", state, got.State, got.Rev, got.AssigneeID)
						}
						if len(msgs) != 0 {
							t.Fatalf("a refusal sent %d messages: %+v", len(msgs), msgs)
						}
						return
					}
					if res.Alert {
						t.Fatalf("should be allowed; refused with %q", res.Toast)
					}
					if to := flows.Transitions[act].To; got.State != to {
						t.Fatalf("went to %s, want %s", got.State, to)
					}
					evs := w.Events(id)
					if moves := countPrefix(evs[before:], string(act)+":"); moves != 1 {
						t.Fatalf("audit trail %v: want one %q line, got %d", evs, act, moves)
					}
					if name != flows.ConsolePaper && len(evs) != before+1 {
						t.Fatalf("audit trail %v: want one line more", evs)
					}
					for _, m := range msgs {
						if m.To == p.Chat() && m.Kind != flows.KindEdit {
							t.Fatalf("the console answered in chat: %q", m.Text)
						}
					}
					if len(To(msgs, flowstest.Group)) == 0 {
						t.Fatal("the group card did not follow")
					}
				})
			}
		}
	}
}

func countPrefix(xs []string, prefix string) int {
	n := 0
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			n++
		}
	}
	return n
}

// TestConsoleOfficeActionsByRole: the actions that name no ticket follow
// their Access row; refused, nothing is filed.
func TestConsoleOfficeActionsByRole(t *testing.T) {
	w, actors := consoleWorld(t)
	args := func() map[string]string {
		return map[string]string{"resident": resident.PID(), "category": "water", "description": "卫生间下水慢", "kind": "household", "when": "asap"}
	}
	for name, who := range consoleOfficeDesign {
		for actor, p := range actors {
			t.Run(name+"/"+actor, func(t *testing.T) {
				want := in(who, actor)
				if err := flows.ConsoleAllows(name, personOf(t, w, p), nil); (err == nil) != want {
					t.Fatalf("ConsoleAllows = %v, design says allowed=%v", err, want)
				}
				open := len(openTickets(t, w))
				res := w.Console(p, name, "", args())
				msgs := w.Drain()
				if !want {
					if !res.Alert || res.Toast == "" || res.Ticket != "" {
						t.Fatalf("should be refused with an answer, got %+v", res)
					}
					if n := len(openTickets(t, w)); n != open || len(msgs) != 0 {
						t.Fatalf("a refusal filed a ticket (%d → %d open) or sent %d messages", open, n, len(msgs))
					}
					return
				}
				if res.Alert || res.Ticket == "" {
					t.Fatalf("should be allowed, got %+v", res)
				}
				if len(openTickets(t, w)) != open+1 {
					t.Fatal("no ticket filed")
				}
			})
		}
	}
}

func openTickets(t *testing.T, w *flowstest.World) []*flows.Ticket {
	t.Helper()
	var out []*flows.Ticket
	if err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		var err error
		out, err = tx.OpenTickets()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// consoleLink asks the bot for a login link as p and returns the token.
func consoleLink(t *testing.T, w *flowstest.World, p flowstest.Person) string {
	t.Helper()
	w.Cmd(p, "console", "")
	m := w.Last(w.Drain(), p.Chat())
	i := strings.Index(m.Text, flowstest.ConsoleURL+"/login?t=")
	if i < 0 {
		t.Fatalf("no login link in %q", m.Text)
	}
	return strings.Fields(m.Text[i+len(flowstest.ConsoleURL+"/login?t="):])[0]
}

func login(w *flowstest.World, token, session string) flows.Result {
	return w.Console(flowstest.Person{}, flows.ConsoleLogin, "", map[string]string{
		"link": flows.ConsoleTokenHash(token), "session": flows.ConsoleTokenHash(session)})
}

func session(t *testing.T, w *flowstest.World, token string) *flows.ConsoleSession {
	t.Helper()
	var s *flows.ConsoleSession
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		s, _ = tx.ConsoleSession(flows.ConsoleTokenHash(token))
		return nil
	})
	return s
}

// TestConsoleLogin: /console gives the office a one-time link, stored
// only as its hash; opening it makes a session for that person, once,
// within ten minutes, and only while they may use the console;
// /console logout ends all of their sessions.
func TestConsoleLogin(t *testing.T) {
	w, _ := consoleWorld(t)
	tok := consoleLink(t, w, lead)
	if len(tok) < 40 {
		t.Fatalf("token %q is too short to be unguessable", tok)
	}
	var link *flows.ConsoleLink
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		link, _ = tx.ConsoleLink(tok)
		if link != nil {
			t.Fatal("the link is stored under its token, not its hash")
		}
		link, _ = tx.ConsoleLink(flows.ConsoleTokenHash(tok))
		return nil
	})
	if link == nil || link.PersonID != lead.PID() || !link.Expires.Equal(w.Now.Add(10*time.Minute)) {
		t.Fatalf("stored link %+v", link)
	}

	t.Run("opens a session once", func(t *testing.T) {
		if res := login(w, tok, "session-1"); res.Alert {
			t.Fatalf("refused: %s", res.Toast)
		}
		s := session(t, w, "session-1")
		if s == nil || s.PersonID != lead.PID() || !s.Expires.Equal(w.Now.Add(12*time.Hour)) {
			t.Fatalf("session %+v", s)
		}
		res := login(w, tok, "session-2")
		w.Refused(res, "已使用")
		if session(t, w, "session-2") != nil {
			t.Fatal("a used link opened a second session")
		}
	})
	t.Run("expires after ten minutes", func(t *testing.T) {
		tok := consoleLink(t, w, dispatcher)
		w.Now = w.Now.Add(10 * time.Minute)
		w.Refused(login(w, tok, "session-3"), "已过期")
		if session(t, w, "session-3") != nil {
			t.Fatal("an expired link opened a session")
		}
	})
	t.Run("unknown or malformed", func(t *testing.T) {
		w.Refused(login(w, "no-such-token", "session-4"), "无效")
		w.Refused(w.Console(flowstest.Person{}, flows.ConsoleLogin, "", map[string]string{"link": "x", "session": "y"}), "无效")
		if session(t, w, "session-4") != nil {
			t.Fatal("an unknown link opened a session")
		}
	})
	t.Run("not for technicians or residents", func(t *testing.T) {
		for _, p := range []flowstest.Person{tech, resident, stranger} {
			w.Cmd(p, "console", "")
			m := w.Last(w.Drain(), p.Chat())
			if strings.Contains(m.Text, "/login?t=") {
				t.Fatalf("%s got a login link: %q", p.Name, m.Text)
			}
		}
	})
	t.Run("never in the group", func(t *testing.T) {
		ev := flows.Event{Key: "grp:1", Kind: flows.EvCommand, Command: "console", At: w.Now, InGroup: true,
			From: flows.Sender{ID: lead.PID(), Chat: lead.Chat()}, Chat: flowstest.Group}
		w.Do(ev)
		m := w.Last(w.Drain(), flowstest.Group)
		if strings.Contains(m.Text, "/login?t=") || !strings.Contains(m.Text, "私聊") {
			t.Fatalf("in the group: %q", m.Text)
		}
	})
	t.Run("a person who lost the role cannot redeem", func(t *testing.T) {
		tok := consoleLink(t, w, dispatcher)
		err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
			p, err := tx.Person(dispatcher.PID())
			if err != nil {
				return err
			}
			p.Role = flows.RoleTechnician
			return tx.PutPerson(p)
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Refused(login(w, tok, "session-5"), "主管")
		if session(t, w, "session-5") != nil {
			t.Fatal("a demoted person opened a session")
		}
	})
	t.Run("logout ends all sessions", func(t *testing.T) {
		if res := login(w, consoleLink(t, w, lead), "session-6"); res.Alert {
			t.Fatalf("refused: %s", res.Toast)
		}
		w.Cmd(lead, "console", "logout")
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "2")
		for _, s := range []string{"session-1", "session-6"} {
			if session(t, w, s) != nil {
				t.Fatalf("%s survived /console logout", s)
			}
		}
	})
	t.Run("the console's own logout ends that session only", func(t *testing.T) {
		login(w, consoleLink(t, w, lead), "session-7")
		login(w, consoleLink(t, w, lead), "session-8")
		w.Refused(w.Console(admin, flows.ConsoleLogout, "", map[string]string{"session": flows.ConsoleTokenHash("session-7")}), "无效")
		w.Expect(w.Console(lead, flows.ConsoleLogout, "", map[string]string{"session": flows.ConsoleTokenHash("session-7")}))
		if session(t, w, "session-7") != nil || session(t, w, "session-8") == nil {
			t.Fatal("logout ended the wrong sessions")
		}
	})
	t.Run("no console configured", func(t *testing.T) {
		opts := w.Opts
		opts.Console.Link = nil
		eng, err := flows.NewEngine(opts)
		if err != nil {
			t.Fatal(err)
		}
		ev := flows.Event{Key: "off:1", Kind: flows.EvCommand, Command: "console", At: w.Now,
			From: flows.Sender{ID: lead.PID(), Chat: lead.Chat()}, Chat: lead.Chat()}
		if _, err := eng.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "未开启")
	})
}

// TestConsoleCancel: a lead's cancellation keeps its reason in the audit
// trail, the group card says a lead cancelled it, the technician and the
// resident are told why, and the ticket's clocks stop.
func TestConsoleCancel(t *testing.T) {
	w, _ := consoleWorld(t)
	id := w.Report(resident, "厨房水管漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Drain()
	w.Refused(w.Console(lead, flows.ConsoleCancel, id, map[string]string{"reason": "  "}), "原因")
	w.Expect(w.Console(lead, flows.ConsoleCancel, id, map[string]string{"reason": "住户来电说已自行修好"}))
	msgs := w.Drain()
	if got := w.Ticket(id); got.State != flows.StateCancelled || got.CancelledBy != lead.PID() {
		t.Fatalf("ticket %s, cancelled by %q", got.State, got.CancelledBy)
	}
	evs := w.Events(id)
	contains(t, evs[len(evs)-1], "lcx:住户来电说已自行修好")
	contains(t, w.Last(msgs, flowstest.Group).Text, "已由主管取消")
	contains(t, w.Last(msgs, tech.Chat()).Text, "住户来电说已自行修好")
	contains(t, w.Last(msgs, resident.Chat()).Text, "住户来电说已自行修好")
	if len(To(msgs, lead.Chat())) != 0 {
		t.Fatal("the lead was answered in chat as well as in the console")
	}
	w.Now = w.Now.Add(3 * time.Hour)
	if n := w.Tick(); n != 0 {
		t.Fatalf("%d timers of a cancelled ticket fired", n)
	}
}

// TestConsolePhoneTicket: customer service files a ticket for a resident
// who phoned — found (they get the number in chat, with a cancel button)
// or registered without a chat (nothing is sent to them); a phone number
// already registered is refused, as is an emergency category; the card
// goes to the group and the audit trail names the clerk.
func TestConsolePhoneTicket(t *testing.T) {
	w, _ := consoleWorld(t)
	base := func(kv ...string) map[string]string {
		m := map[string]string{"category": "water", "description": "卫生间下水慢", "kind": "household", "when": "tam"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	t.Run("a resident with a chat", func(t *testing.T) {
		res := w.Console(dispatcher, flows.ConsolePhoneTicket, "", base("resident", resident.PID()))
		w.Expect(res)
		msgs := w.Drain()
		tk := w.Ticket(res.Ticket)
		if tk.ResidentID != resident.PID() || tk.Room != "1502" || tk.AgreedTime == nil || tk.State != flows.StateNew {
			t.Fatalf("ticket %+v", tk)
		}
		m := w.Last(msgs, resident.Chat())
		contains(t, m.Text, res.Ticket)
		w.ButtonData(m, "取消")
		contains(t, w.Last(msgs, flowstest.Group).Text, res.Ticket)
		evs := w.Events(res.Ticket)
		if len(evs) != 2 || !strings.HasPrefix(evs[0], "reported:") || !strings.HasPrefix(evs[1], "phone_intake:") {
			t.Fatalf("audit trail %v", evs)
		}
		var trail []flows.TicketEvent
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { trail, _ = tx.TicketEvents(res.Ticket); return nil })
		if trail[0].Actor != dispatcher.PID() {
			t.Fatalf("reported by %q, want the clerk", trail[0].Actor)
		}
		if len(To(msgs, dispatcher.Chat())) != 0 {
			t.Fatal("the clerk was answered in chat")
		}
	})
	t.Run("a new resident without a chat", func(t *testing.T) {
		res := w.Console(dispatcher, flows.ConsolePhoneTicket, "", base("name", "孙大爷", "phone", "137 0000 1111", "building", "5栋", "unit", "1单元", "room", "302", "when", "other", "time", "11-28 15:00"))
		w.Expect(res)
		msgs := w.Drain()
		tk := w.Ticket(res.Ticket)
		if !strings.HasPrefix(tk.ResidentID, "office:") || tk.Building != "5栋" || tk.AgreedTime == nil {
			t.Fatalf("ticket %+v", tk)
		}
		for _, m := range msgs {
			if m.To != flowstest.Group {
				t.Fatalf("a message went to %v: %q", m.To, m.Text)
			}
		}
		w.Refused(w.Console(dispatcher, flows.ConsolePhoneTicket, "", base("name", "孙大爷二", "phone", "13700001111", "building", "5栋", "unit", "1单元", "room", "302")), "孙大爷")
	})
	t.Run("an emergency category", func(t *testing.T) {
		opts := w.Opts
		opts.Categories = append(append([]flows.Category(nil), opts.Categories...),
			flows.Category{Key: "burst", Labels: map[flows.Lang]string{flows.LangZH: "爆管", flows.LangEN: "Burst pipe"}, Emergency: "water_leak"})
		eng, err := flows.NewEngine(opts)
		if err != nil {
			t.Fatal(err)
		}
		open := len(openTickets(t, w))
		ev := flows.Event{Key: "web:em:1", Kind: flows.EvConsole, At: w.Now, From: flows.Sender{ID: dispatcher.PID(), Chat: dispatcher.Chat()},
			Console: &flows.ConsoleRequest{Action: flows.ConsolePhoneTicket, Args: base("resident", resident.PID(), "category", "burst")}}
		res, err := eng.Handle(t.Context(), ev)
		if err != nil {
			t.Fatal(err)
		}
		w.Refused(res, "应急预案")
		if len(openTickets(t, w)) != open || len(w.Drain()) != 0 {
			t.Fatal("an emergency by phone was filed")
		}
	})
	for _, tc := range []struct {
		name, want string
		args       map[string]string
	}{
		{"an existing resident's phone", "王芳", base("name", "王芳", "phone", "+86 138 0013 8000", "building", "3栋", "unit", "2单元", "room", "1502")},
		{"no name", "姓名", base("phone", "13600000000", "building", "3栋", "unit", "2单元", "room", "1")},
		{"a bad phone", "手机号", base("name", "某人", "phone", "12ab", "building", "3栋", "unit", "2单元", "room", "1")},
		{"an unknown resident", "找不到", base("resident", "tg:424242")},
		{"a technician as resident", "找不到", base("resident", tech.PID())},
		{"no description", "描述", base("resident", resident.PID(), "description", " ")},
		{"an unknown category", "类别", base("resident", resident.PID(), "category", "nope")},
		{"an unknown kind", "类型", base("resident", resident.PID(), "kind", "x")},
		{"a bad time", "时间", base("resident", resident.PID(), "when", "other", "time", "whenever")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := len(openTickets(t, w))
			w.Refused(w.Console(dispatcher, flows.ConsolePhoneTicket, "", tc.args), tc.want)
			if len(openTickets(t, w)) != open || len(w.Drain()) != 0 {
				t.Fatal("a refused phone report filed a ticket or sent something")
			}
		})
	}
}

// TestConsoleSubscribe: a subscriber hears of every committed event and
// tick, not of a refusal or a duplicate, and never blocks the engine.
func TestConsoleSubscribe(t *testing.T) {
	w, _ := consoleWorld(t)
	ch, cancel := w.Eng.Subscribe()
	defer cancel()
	heard := func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	heard()
	w.Report(resident, "漏水")
	if !heard() {
		t.Fatal("a report was not signalled")
	}
	w.Console(tech, flows.ConsoleCancel, "BX-20261127-0001", map[string]string{"reason": "x"})
	if heard() {
		t.Fatal("a refusal was signalled")
	}
	ev := flows.Event{Key: "dup:1", Kind: flows.EvCommand, Command: "help", At: w.Now, From: flows.Sender{ID: lead.PID(), Chat: lead.Chat()}, Chat: lead.Chat()}
	w.Do(ev)
	heard()
	w.Do(ev)
	if heard() {
		t.Fatal("a duplicate was signalled")
	}
	cancel()
	w.Cmd(lead, "help", "")
	if heard() {
		t.Fatal("a cancelled subscription was signalled")
	}
}

// TestSLAStates: the colours the console shows, from the options the
// timers run on (accept within 15 minutes, arrive within 2 hours, an
// emergency on site within 5 minutes).
func TestSLAStates(t *testing.T) {
	w := flowstest.New(t)
	t0 := w.Now
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	for _, tc := range []struct {
		name string
		tk   flows.Ticket
		now  time.Duration
		want flows.SLAState
		due  time.Duration
	}{
		{"new, fresh", flows.Ticket{State: flows.StateNew}, 5 * time.Minute, flows.SLAOnTime, 15 * time.Minute},
		{"new, last quarter", flows.Ticket{State: flows.StateNew}, 12 * time.Minute, flows.SLAAtRisk, 15 * time.Minute},
		{"new, past the deadline", flows.Ticket{State: flows.StateNew}, 16 * time.Minute, flows.SLABreached, 15 * time.Minute},
		{"accepted, on time", flows.Ticket{State: flows.StateAccepted, Accepted: at(10 * time.Minute)}, time.Hour, flows.SLAOnTime, 130 * time.Minute},
		{"accepted, at risk", flows.Ticket{State: flows.StateOnTheWay, Accepted: at(10 * time.Minute)}, 110 * time.Minute, flows.SLAAtRisk, 130 * time.Minute},
		{"agreed time plus grace", flows.Ticket{State: flows.StateAccepted, Accepted: at(0), AgreedTime: at(4 * time.Hour)}, 4*time.Hour + 20*time.Minute, flows.SLABreached, 4*time.Hour + 15*time.Minute},
		{"a recorded breach", flows.Ticket{State: flows.StateOnSite, Breaches: []string{"arrive"}}, time.Minute, flows.SLABreached, 0},
		{"on site", flows.Ticket{State: flows.StateOnSite}, 10 * time.Hour, flows.SLAOnTime, 0},
		{"an emergency", flows.Ticket{State: flows.StateNew, Emergency: "water_leak"}, 4 * time.Minute, flows.SLAEmergency, 5 * time.Minute},
		{"an emergency too late", flows.Ticket{State: flows.StateAccepted, Emergency: "water_leak"}, 6 * time.Minute, flows.SLABreached, 5 * time.Minute},
		{"an emergency on site", flows.Ticket{State: flows.StateOnSite, Emergency: "water_leak", Arrived: at(4 * time.Minute)}, time.Hour, flows.SLAEmergency, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := tc.tk
			tk.Created = t0
			got := w.Eng.SLA(&tk, t0.Add(tc.now))
			if got.State != tc.want {
				t.Fatalf("state %s, want %s", got.State, tc.want)
			}
			switch {
			case tc.due == 0 && got.Due != nil:
				t.Fatalf("a deadline %v where none runs", got.Due)
			case tc.due != 0 && (got.Due == nil || !got.Due.Equal(t0.Add(tc.due))):
				t.Fatalf("deadline %v, want %v", got.Due, t0.Add(tc.due))
			}
		})
	}
}
