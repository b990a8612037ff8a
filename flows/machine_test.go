package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// allowed is the design, written independently of flows.Transitions:
// action → the states it may start from → who may do it.
var allowed = map[flows.Action]struct {
	states []flows.State
	who    []string
}{
	flows.ActAccept:      {[]flows.State{flows.StateNew}, []string{"tech", "tech2", "lead", "admin"}},
	flows.ActOnTheWay:    {[]flows.State{flows.StateAccepted, flows.StateWaiting}, []string{"tech"}},
	flows.ActArrive:      {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateWaiting}, []string{"tech"}},
	flows.ActStep:        {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActNoOneHome:   {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActHelp:        {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite}, []string{"tech"}},
	flows.ActEntryOK:     {[]flows.State{flows.StateOnSite}, []string{"resident"}},
	flows.ActQuoteOK:     {[]flows.State{flows.StateOnSite}, []string{"resident"}},
	flows.ActQuoteNo:     {[]flows.State{flows.StateOnSite}, []string{"resident"}},
	flows.ActEndVisit:    {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActDone:        {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActFixed:       {[]flows.State{flows.StateDone}, []string{"resident"}},
	flows.ActNotFixed:    {[]flows.State{flows.StateDone}, []string{"resident"}},
	flows.ActFeeQuery:    {[]flows.State{flows.StateDone}, []string{"resident"}},
	flows.ActGoodbye:     {[]flows.State{flows.StateConfirmed}, []string{"tech"}},
	flows.ActScore:       {[]flows.State{flows.StateSurvey}, []string{"resident"}},
	flows.ActCancel:      {[]flows.State{flows.StateNew}, []string{"resident"}},
	flows.ActCancelAsk:   {[]flows.State{flows.StateNew}, []string{"resident"}},
	flows.ActCancelKeep:  {[]flows.State{flows.StateNew}, []string{"resident"}},
	flows.ActReschedule:  {[]flows.State{flows.StateWaiting}, []string{"resident"}},
	flows.ActReassign:    {[]flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting}, []string{"lead", "admin"}},
	flows.ActReturnGroup: {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting}, []string{"lead", "admin"}},
	flows.ActTakeOver:    {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting}, []string{"lead", "admin"}},
	flows.ActHelpReply:   {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting}, []string{"lead", "admin"}},
	flows.ActCode:        {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	// The callback visit: the resident's answer, the office's phone record (a dispatcher too).
	flows.ActCallback:      {[]flows.State{flows.StateClosed}, []string{"resident"}},
	flows.ActCallbackPhone: {[]flows.State{flows.StateClosed}, []string{"lead", "admin"}},
	// A lead's ways out: close a visit that is over, cancel one that is
	// not, record a paper signature, hand the sign-off to another.
	flows.ActLeadClose:    {[]flows.State{flows.StateDone, flows.StateConfirmed, flows.StateSurvey}, []string{"lead", "admin"}},
	flows.ActLeadCancel:   {[]flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting, flows.StateDone, flows.StateConfirmed}, []string{"lead", "admin"}},
	flows.ActPaperLead:    {[]flows.State{flows.StateDone}, []string{"lead", "admin"}},
	flows.ActPaperTech:    {[]flows.State{flows.StateDone}, []string{"tech"}},
	flows.ActReassignKeep: {[]flows.State{flows.StateDone, flows.StateConfirmed}, []string{"lead", "admin"}},
	// Spare parts: the technician takes parts on site; a lead approves a requisition over the limit.
	flows.ActUsePart: {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActPartOK:  {[]flows.State{flows.StateOnSite}, []string{"lead", "admin"}},
	flows.ActPartNo:  {[]flows.State{flows.StateOnSite}, []string{"lead", "admin"}},
	// A lead reopens what ended and merges a duplicate before its visit is over.
	flows.ActLeadReopen: {[]flows.State{flows.StateClosed, flows.StateCancelled, flows.StateUnresolved}, []string{"lead", "admin"}},
	flows.ActLeadMerge:  {[]flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting}, []string{"lead", "admin"}},
}

func in[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// guarded actions need more than role, owner and state (the right step, a
// quote number, an exhausted door rule...); their happy paths are walked in
// the lifecycle tests, their refusals here.
var guarded = map[flows.Action]bool{
	flows.ActStep: true, flows.ActNoOneHome: true, flows.ActEntryOK: true, flows.ActQuoteOK: true,
	flows.ActQuoteNo: true, flows.ActEndVisit: true, flows.ActDone: true, flows.ActReschedule: true,
	flows.ActCode: true, // only at the sign-off step, a level and code the tree offers
	// only while a callback is asked (or on the phone list)
	flows.ActCallback: true, flows.ActCallbackPhone: true,
	// These ask for a reason or a photo first; the move comes with it (stuck_test.go).
	flows.ActLeadClose: true, flows.ActLeadCancel: true, flows.ActPaperLead: true, flows.ActPaperTech: true,
	flows.ActUsePart: true, flows.ActPartOK: true, flows.ActPartNo: true,
	flows.ActLeadReopen: true, flows.ActLeadMerge: true,
}

// TestEveryTransition checks the single gate, Authorize, for every action
// × state × kind of person against the design table above, then taps every
// combination through the engine: where the design forbids it, the tap is
// refused with an answer and changes nothing.
func TestEveryTransition(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Register(other, "13900139000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	w.Cmd(admin, "help", "")
	// A technician and a lead of another area (areas.go): the design
	// lets them do nothing on this area's tickets (a lead of the ticket's
	// area assigns them first).
	techB, leadB := flowstest.Person{ID: 260, Name: "外区师傅"}, flowstest.Person{ID: 360, Name: "外区经理"}
	w.Staff(techB, "technician")
	w.Staff(leadB, "lead")
	moveToArea(t, w, "b", techB, leadB)
	actors := map[string]flowstest.Person{
		"stranger": stranger, "resident": resident, "other": other,
		"tech": tech, "tech2": tech2, "lead": lead, "admin": admin,
		"tech_b": techB, "lead_b": leadB,
	}
	if len(allowed) != len(flows.Transitions) {
		t.Fatalf("the test knows %d actions, the machine %d", len(allowed), len(flows.Transitions))
	}
	n := 0
	for action, rule := range allowed {
		for _, state := range flows.AllStates {
			for name, p := range actors {
				n++
				id := fmt.Sprintf("BX-20261127-%04d", n)
				seedTicket(t, w, id, state)
				want := in(rule.states, state) && in(rule.who, name)
				t.Run(fmt.Sprintf("%s/%s/%s", action, state, name), func(t *testing.T) {
					var person *flows.Person
					_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
						person, _ = tx.Person(p.PID())
						return nil
					})
					if err := flows.Authorize(action, person, w.Ticket(id)); (err == nil) != want {
						t.Fatalf("Authorize = %v, design says allowed=%v", err, want)
					}
					args := []string{id}
					switch action {
					case flows.ActScore:
						args = append(args, "5")
					case flows.ActReassign, flows.ActReassignKeep:
						args = append(args, tech2.PID())
					case flows.ActStep:
						args = append(args, "door", "ring")
					case flows.ActQuoteOK, flows.ActQuoteNo:
						args = append(args, "1")
					case flows.ActReschedule:
						args = append(args, "d1am")
					}
					res := w.Tap(p, flows.EncodePayload(string(action), args...), action == flows.ActAccept)
					got := w.Ticket(id)
					changed := got.State != state || got.Rev != 1 || got.AssigneeID != w0Assignee(state)
					if !want {
						if changed {
							t.Fatalf("should be refused; ticket went %s → %s", state, got.State)
						}
						if res.Toast == "" {
							t.Fatal("refused without an answer")
						}
						return
					}
					if guarded[action] {
						return
					}
					if res.Alert {
						t.Fatalf("should be allowed; refused with %q", res.Toast)
					}
					if to := flows.Transitions[action].To; to != "" && got.State != to {
						t.Fatalf("went to %s, want %s", got.State, to)
					}
				})
				w.Drain()
			}
		}
	}
}

func w0Assignee(s flows.State) string {
	if s == flows.StateNew || s == flows.StateCancelled {
		return ""
	}
	return tech.PID()
}

// seedTicket writes a ticket directly in a state, assigned to tech where
// the state implies an assignee.
func seedTicket(t *testing.T, w *flowstest.World, id string, s flows.State) {
	t.Helper()
	tk := &flows.Ticket{ID: id, State: s, Category: "water", Description: "seed", Kind: flows.OrderHousehold, ASAP: true,
		ResidentID: resident.PID(), Building: "3栋", Unit: "2单元", Room: "1502", Created: w.Now, Updated: w.Now, Rev: 1}
	if s != flows.StateNew && s != flows.StateCancelled {
		now := w.Now
		tk.AssigneeID, tk.Assignee, tk.Accepted = tech.PID(), tech.Name, &now
	}
	switch s {
	case flows.StateOnSite:
		tk.Step, tk.Visit = "door", &flows.Visit{}
	case flows.StateDone:
		tk.Step, tk.Visit = "signoff", &flows.Visit{}
	}
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error { return tx.PutTicket(tk) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestForgedAndStalePayloads(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "漏水")
	for _, data := range []string{
		"", "garbage", "2|acc|" + id, "1|acc|", "1|zzz|" + id, "1|acc|BX-19990101-0001",
		"1|acc|" + id + "|" + string(make([]byte, 70)), "1|sc|" + id + "|9", "1|d|x|y", "1|c|rm -rf",
		"1|acc|" + id + "\x00",
	} {
		res := w.Tap(tech, data, true)
		if res.Toast == "" {
			t.Errorf("payload %q: no answer", data)
		}
	}
	if w.Ticket(id).State != flows.StateNew {
		t.Fatal("a forged payload changed the ticket")
	}
	// Decoding rejects oversize payloads outright.
	if _, ok := flows.DecodePayload(string(make([]byte, 65))); ok {
		t.Fatal("65-byte payload accepted")
	}
}

// TestPayloadsMatchWhatWasSent: a button payload is acted on only when it
// has exactly the arguments, in the formats, that the bot puts on that
// button. An argument appended to a real payload (still within 64 bytes),
// one left out, or one of the wrong form is refused and changes nothing.
func TestPayloadsMatchWhatWasSent(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	w.Drain()
	step := w.Ticket(id).Step
	for name, data := range map[string]string{
		"extra argument on a step":          flows.EncodePayload("st", id, step, "answered", "x"),
		"extra argument on arrive":          flows.EncodePayload("arr", id, "1"),
		"extra empty argument":              flows.EncodePayload("st", id, step, "answered", ""),
		"step without its operation":        flows.EncodePayload("st", id, step),
		"lower-case ticket id":              flows.EncodePayload("st", strings.ToLower(id), step, "answered"),
		"quantity that is not a count":      flows.EncodePayload("st", id, step, "qty", "W02", "1e3"),
		"unknown step operation":            flows.EncodePayload("st", id, step, "teleport"),
		"score with a sign":                 flows.EncodePayload("sc", id, "+5"),
		"dialogue choice with a space":      flows.EncodePayload("d", "1", "a b"),
		"command with an argument too many": flows.EncodePayload("c", "open", "2", "3"),
		// A step card's button is exactly as strict as the button it wraps.
		"card button with an extra argument":   flows.EncodePayload("cd", "1", "st", id, step, "answered", "x"),
		"card button without its operation":    flows.EncodePayload("cd", "1", "st", id, step),
		"card button with a lower-case id":     flows.EncodePayload("cd", "1", "st", strings.ToLower(id), step, "answered"),
		"card button of an unknown action":     flows.EncodePayload("cd", "1", "zz", id),
		"card button wrapping a dialogue verb": flows.EncodePayload("cd", "1", "d", "1", "asap"),
		"card button wrapping a card button":   flows.EncodePayload("cd", "1", "cd", "1", "st", id, step, "answered"),
		"card number 0":                        flows.EncodePayload("cd", "0", "st", id, step, "answered"),
		"card number with a leading zero":      flows.EncodePayload("cd", "01", "st", id, step, "answered"),
		"card without a payload":               flows.EncodePayload("cd", "1"),
	} {
		t.Run(name, func(t *testing.T) {
			if len(data) > flows.MaxPayload {
				t.Fatalf("test payload too long: %q", data)
			}
			before := w.Ticket(id)
			if res := w.Tap(tech, data, false); !res.Alert || !strings.Contains(res.Toast, "无法识别") {
				t.Fatalf("%q: want the refusal of an unknown button, got %+v", data, res)
			}
			if after := w.Ticket(id); after.Step != before.Step || after.Rev != before.Rev || after.Visit.Answered {
				t.Fatalf("%q changed the ticket: %+v", data, after)
			}
			w.Drain()
		})
	}
	// The payloads the bot sent still work: the card's own, and (a card
	// from before the living card) the bare step button.
	w.Expect(w.Tap(tech, flows.EncodePayload("cd", "1", "st", id, step, "bell", "yes"), false))
	w.Expect(w.Step(tech, id, "answered"))
}

// moveToArea puts the people in another area, as a lead's edit would.
func moveToArea(t *testing.T, w *flowstest.World, area string, ps ...flowstest.Person) {
	t.Helper()
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		for _, fp := range ps {
			p, err := tx.Person(fp.PID())
			if err != nil {
				return err
			}
			p.Areas = []string{area}
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
