package flows_test

import (
	"fmt"
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
	flows.ActOnTheWay:    {[]flows.State{flows.StateAccepted, flows.StateRework}, []string{"tech"}},
	flows.ActArrive:      {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateRework}, []string{"tech"}},
	flows.ActDone:        {[]flows.State{flows.StateOnSite}, []string{"tech"}},
	flows.ActFixed:       {[]flows.State{flows.StateDone}, []string{"resident"}},
	flows.ActNotFixed:    {[]flows.State{flows.StateDone}, []string{"resident"}},
	flows.ActScore:       {[]flows.State{flows.StateConfirmed}, []string{"resident"}},
	flows.ActCancel:      {[]flows.State{flows.StateNew}, []string{"resident"}},
	flows.ActReassign:    {[]flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateRework}, []string{"lead", "admin"}},
	flows.ActReturnGroup: {[]flows.State{flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateRework}, []string{"lead", "admin"}},
}

func in[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestEveryTransition taps every action on a ticket in every state as every
// kind of person: it must work exactly where the design allows it and be
// refused with an answer, changing nothing, everywhere else.
func TestEveryTransition(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Register(other, "13900139000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	actors := map[string]flowstest.Person{
		"stranger": stranger, "resident": resident, "other": other,
		"tech": tech, "tech2": tech2, "lead": lead, "admin": admin,
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
				args := []string{id}
				switch action {
				case flows.ActScore:
					args = append(args, "5")
				case flows.ActReassign:
					args = append(args, tech2.PID())
				}
				want := in(rule.states, state) && in(rule.who, name)
				res := w.Tap(p, flows.EncodePayload(string(action), args...), action == flows.ActAccept)
				got := w.Ticket(id)
				changed := got.State != state || got.Rev != 1
				t.Run(fmt.Sprintf("%s/%s/%s", action, state, name), func(t *testing.T) {
					if want && !changed {
						t.Fatalf("should be allowed; refused with %q", res.Toast)
					}
					if !want && changed {
						t.Fatalf("should be refused; ticket went %s → %s", state, got.State)
					}
					if !want && res.Toast == "" {
						t.Fatal("refused without an answer")
					}
					if want && got.State != flows.Transitions[action].To {
						t.Fatalf("went to %s, want %s", got.State, flows.Transitions[action].To)
					}
				})
				w.Drain()
			}
		}
	}
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
