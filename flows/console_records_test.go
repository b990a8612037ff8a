package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// consoleRecordsDesign is which chat button each of the records' console
// ticket actions is (its Transitions row decides who and when).
var consoleRecordsDesign = map[string]flows.Action{
	flows.ConsoleCallback: flows.ActCallbackPhone,
}

// onPhoneList seeds a ticket in state s; a closed one carries a callback
// nobody answered and is on the phone-callback list.
func onPhoneList(t *testing.T, w *flowstest.World, id string, s flows.State) {
	t.Helper()
	seedTicket(t, w, id, s)
	if s != flows.StateClosed {
		return
	}
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		now := w.Now
		tk.Closed, tk.Callback = &now, &flows.Callback{Due: now, Status: "phone", Asked: &now}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		return tx.AddPhoneCallback(flows.PhoneCallback{TicketID: id, Since: now})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsoleCallbackByRole records a phone callback from the console in
// every state as every kind of person: allowed exactly where the clerk's
// chat button (cbc) is — customer service, the leads and the admin, on a
// closed ticket — and refused with chat's answer, changing nothing,
// everywhere else.
func TestConsoleCallbackByRole(t *testing.T) {
	w, actors := consoleWorld(t)
	office := []string{"lead", "dispatcher", "admin"}
	n := 0
	for _, state := range flows.AllStates {
		for who, p := range actors {
			n++
			id := fmt.Sprintf("BX-20261125-%04d", n)
			onPhoneList(t, w, id, state)
			want := state == flows.StateClosed && in(office, who)
			t.Run(fmt.Sprintf("%s/%s", state, who), func(t *testing.T) {
				if err := flows.ConsoleAllows(flows.ConsoleCallback, personOf(t, w, p), w.Ticket(id)); (err == nil) != want {
					t.Fatalf("ConsoleAllows = %v, design says allowed=%v", err, want)
				}
				before := strings.Join(w.Events(id), ",")
				res := w.Console(p, flows.ConsoleCallback, id, map[string]string{"answer": "x"})
				msgs := w.Drain()
				if want {
					if res.Alert {
						t.Fatalf("refused: %q", res.Toast)
					}
					if tk := w.Ticket(id); tk.Callback.Status != "unreachable" || tk.Callback.By != p.PID() || tk.Callback.Via != "phone" {
						t.Fatalf("callback %+v", tk.Callback)
					}
					return
				}
				if !res.Alert || res.Toast == "" || len(msgs) != 0 || strings.Join(w.Events(id), ",") != before {
					t.Fatalf("a refusal must answer and change nothing: %+v, %d messages", res, len(msgs))
				}
				if who == "stranger" {
					return
				}
				chat := w.Tap(p, flows.TicketButton("", flows.ActCallbackPhone, id, "x").Data, false)
				if chat.Toast != res.Toast {
					t.Fatalf("chat answers %q, the console %q", chat.Toast, res.Toast)
				}
				w.Drain()
			})
		}
	}
}

// TestConsoleCallbackAndQC: the console's two forms do what the chat's
// taps do — a held callback with its score in one form is the two taps;
// a QC review in one form is the review dialogue — and refuse what the
// buttons' shapes refuse.
func TestConsoleCallbackAndQC(t *testing.T) {
	w, _ := consoleWorld(t)
	onPhoneList(t, w, "BX-20261125-0001", flows.StateClosed)
	res := w.Console(dispatcher, flows.ConsoleCallback, "BX-20261125-0001", map[string]string{"answer": "h", "score": "4"})
	if res.Alert {
		t.Fatalf("refused: %q", res.Toast)
	}
	if cb := w.Ticket("BX-20261125-0001").Callback; cb.Status != "held" || cb.Score != 4 {
		t.Fatalf("callback %+v", cb)
	}
	ev := strings.Join(w.Events("BX-20261125-0001"), ",")
	if !strings.Contains(ev, "callback_held:phone") || !strings.Contains(ev, "callback_score:4") {
		t.Fatalf("audit trail: %s", ev)
	}
	w.Drain()
	for _, args := range []map[string]string{{"answer": "s4"}, {"answer": "h", "score": "0"}, {"answer": "x", "score": "3"}, {"answer": ""}} {
		onPhoneList(t, w, "BX-20261125-0002", flows.StateClosed)
		before := strings.Join(w.Events("BX-20261125-0002"), ",")
		if res := w.Console(dispatcher, flows.ConsoleCallback, "BX-20261125-0002", args); !res.Alert {
			t.Fatalf("%v accepted", args)
		}
		if strings.Join(w.Events("BX-20261125-0002"), ",") != before || w.Ticket("BX-20261125-0002").Callback.Status != "phone" {
			t.Fatalf("%v changed the ticket", args)
		}
	}

	seedTicket(t, w, "BX-20261125-0003", flows.StateClosed)
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		return tx.PutQCReview(&flows.QCReview{Ticket: "BX-20261125-0003", Reason: "sample", Created: w.Now, Status: "pending"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A review begun in chat and finished in the console ends its dialogue.
	w.Tap(lead, "qcr|BX-20261125-0003", false)
	w.Drain()
	res = w.Console(lead, flows.ConsoleQCReview, "", map[string]string{"ticket": "BX-20261125-0003", "score": "2", "findings": "time,record", "note": "超时未报"})
	if res.Alert {
		t.Fatalf("refused: %q", res.Toast)
	}
	if ev := strings.Join(w.Events("BX-20261125-0003"), ","); !strings.Contains(ev, "qc:score=2 findings=record,time") {
		t.Fatalf("audit trail: %s", ev)
	}
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "BX-20261125-0003")
	if r := w.Cmd(lead, "qc", ""); r.Alert {
		t.Fatalf("/qc: %q", r.Toast)
	}
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "没有")
	// The dialogue is gone: the lead's next text is not taken as a QC note.
	var d *flows.Dialogue
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error { d, _ = tx.Dialogue(lead.PID()); return nil })
	if d != nil && d.Kind == "qc_review" {
		t.Fatalf("the chat's review dialogue survived: %+v", d)
	}
}
