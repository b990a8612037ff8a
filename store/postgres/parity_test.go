package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
)

// step is one transaction of the parity script: it writes, reads, and
// returns what it read as text.
type step struct {
	name string
	fn   func(tx flows.Tx) (any, error)
}

// show renders a read for comparison; an error is rendered by kind only
// (the two stores word their messages differently), and an empty list as
// null (the contract does not tell a nil list from an empty one).
func show(v any, err error) string {
	if errors.Is(err, flows.ErrNotFound) {
		return "ErrNotFound"
	}
	if err != nil {
		return "error"
	}
	raw, jerr := json.Marshal(v)
	if jerr != nil {
		return "unmarshalable: " + jerr.Error()
	}
	if string(raw) == "[]" {
		return "null"
	}
	return string(raw)
}

func tk(id, resident, assignee string, st flows.State, created time.Time) *flows.Ticket {
	return &flows.Ticket{ID: id, State: st, ResidentID: resident, AssigneeID: assignee, Category: "water",
		Created: created, Updated: created, Rev: 1}
}

// parityScript exercises every flows.Tx method, with the cases where an
// order could differ: ties within a second, sub-second times, replaced
// index keys, limits, missing records.
func parityScript() []step {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond
	return []step{
		{"seen and cursors", func(tx flows.Tx) (any, error) {
			a, _ := tx.Seen("tg:u:1")
			if err := tx.MarkSeen("tg:u:1", at(0)); err != nil {
				return nil, err
			}
			b, _ := tx.Seen("tg:u:1")
			c0, _ := tx.Cursor("tg.offset")
			if err := tx.SetCursor("tg.offset", "41"); err != nil {
				return nil, err
			}
			if err := tx.SetCursor("tg.offset", "42"); err != nil {
				return nil, err
			}
			c1, err := tx.Cursor("tg.offset")
			return []any{a, b, c0, c1}, err
		}},
		{"people", func(tx flows.Tx) (any, error) {
			for _, p := range []*flows.Person{
				{ID: "tg:30", Role: flows.RoleTechnician, Name: "c"},
				{ID: "tg:10", Role: flows.RoleTechnician, Name: "a"},
				{ID: "tg:2", Role: flows.RoleTechnician, Name: "b"},
				{ID: "tg:5", Role: flows.RoleResident, Name: "r", Phone: "13800000000", Chat: flows.Address{Channel: "tg", Chat: "5"}},
				{ID: "wecom:Zed", Role: flows.RoleLead, Name: "l"},
			} {
				if err := tx.PutPerson(p); err != nil {
					return nil, err
				}
			}
			// tg:30 becomes a lead: it leaves the technicians.
			if err := tx.PutPerson(&flows.Person{ID: "tg:30", Role: flows.RoleLead, Name: "c2"}); err != nil {
				return nil, err
			}
			techs, err1 := tx.PeopleByRole(flows.RoleTechnician)
			leads, err2 := tx.PeopleByRole(flows.RoleLead)
			none, err3 := tx.PeopleByRole(flows.RoleAdmin)
			p, err4 := tx.Person("tg:5")
			_, missing := tx.Person("tg:404")
			return []string{show(techs, err1), show(leads, err2), show(none, err3), show(p, err4), show(nil, missing)}, nil
		}},
		{"tickets", func(tx flows.Tx) (any, error) {
			// Ties: -0002 and -0003 in the same second (sub-second apart,
			// in the opposite order of their ids).
			for _, t := range []*flows.Ticket{
				tk("BX-20261127-0001", "tg:5", "", flows.StateNew, at(0)),
				tk("BX-20261127-0003", "tg:5", "tg:10", flows.StateAccepted, at(time.Minute+100*ms)),
				tk("BX-20261127-0002", "tg:5", "tg:10", flows.StateOnSite, at(time.Minute+900*ms)),
				tk("BX-20261127-0004", "tg:6", "tg:2", flows.StateAccepted, at(2*time.Minute)),
				tk("BX-20261127-0005", "tg:5", "tg:10", flows.StateClosed, at(3*time.Minute)),
			} {
				if err := tx.PutTicket(t); err != nil {
					return nil, err
				}
			}
			n1, _ := tx.NextTicketSeq("20261127")
			n2, _ := tx.NextTicketSeq("20261127")
			n3, _ := tx.NextTicketSeq("20261128")
			return []int{n1, n2, n3}, nil
		}},
		{"ticket changes", func(tx flows.Tx) (any, error) {
			// -0001 accepted by tg:2; -0004 handed from tg:2 to tg:10; -0003 closed.
			a := tk("BX-20261127-0001", "tg:5", "tg:2", flows.StateAccepted, at(0))
			a.Updated = at(time.Hour)
			b := tk("BX-20261127-0004", "tg:6", "tg:10", flows.StateAccepted, at(2*time.Minute))
			b.Updated = at(time.Hour + 500*ms)
			c := tk("BX-20261127-0003", "tg:5", "tg:10", flows.StateClosed, at(time.Minute+100*ms))
			c.Updated = at(2 * time.Hour)
			// -0005 was filed for the wrong resident, a minute off.
			d := tk("BX-20261127-0005", "tg:6", "tg:10", flows.StateClosed, at(4*time.Minute))
			d.Updated = at(2 * time.Hour)
			for _, t := range []*flows.Ticket{a, b, c, d} {
				if err := tx.PutTicket(t); err != nil {
					return nil, err
				}
			}
			ids := func(ts []*flows.Ticket, err error) string {
				var out []string
				for _, t := range ts {
					out = append(out, t.ID+":"+string(t.State)+":"+t.AssigneeID)
				}
				return show(out, err)
			}
			var out []string
			out = append(out, ids(tx.TicketsByResident("tg:5", 0)))
			out = append(out, ids(tx.TicketsByResident("tg:5", 2)))
			out = append(out, ids(tx.TicketsByResident("tg:6", 0)))
			out = append(out, ids(tx.TicketsByResident("tg:404", 3)))
			out = append(out, ids(tx.TicketsByAssignee("tg:10")))
			out = append(out, ids(tx.TicketsByAssignee("tg:2")))
			out = append(out, ids(tx.TicketsByAssignee("")))
			out = append(out, ids(tx.OpenTickets()))
			got, err := tx.Ticket("BX-20261127-0004")
			out = append(out, show(got, err))
			_, err = tx.Ticket("BX-nope")
			out = append(out, show(nil, err))
			return out, nil
		}},
		{"events", func(tx flows.Tx) (any, error) {
			for i, id := range []string{"BX-20261127-0001", "BX-20261127-0002", "BX-20261127-0001", "BX-20261127-0001"} {
				ev := flows.TicketEvent{Seq: 99, At: at(time.Duration(i) * time.Second), Actor: "tg:5", Action: fmt.Sprint("a", i),
					Photos: []flows.Photo{{FileID: "f"}}}
				if err := tx.AppendTicketEvent(id, ev); err != nil {
					return nil, err
				}
			}
			a, err1 := tx.TicketEvents("BX-20261127-0001")
			b, err2 := tx.TicketEvents("BX-20261127-0002")
			c, err3 := tx.TicketEvents("BX-nope")
			return []string{show(a, err1), show(b, err2), show(c, err3)}, nil
		}},
		{"dialogues and invites", func(tx flows.Tx) (any, error) {
			d := &flows.Dialogue{PersonID: "tg:5", Kind: "report", Step: "desc", Seq: 3, Started: at(0), Updated: at(time.Second)}
			if err := tx.PutDialogue(d); err != nil {
				return nil, err
			}
			got, err1 := tx.Dialogue("tg:5")
			if err := tx.DeleteDialogue("tg:5"); err != nil {
				return nil, err
			}
			if err := tx.DeleteDialogue("tg:5"); err != nil { // twice: not an error
				return nil, err
			}
			_, err2 := tx.Dialogue("tg:5")
			used := at(time.Minute)
			if err := tx.PutInvite(&flows.Invite{Code: "K7", Role: flows.RoleTechnician, Created: at(0), Expires: at(time.Hour), UsedBy: "tg:9", Used: &used}); err != nil {
				return nil, err
			}
			inv, err3 := tx.Invite("K7")
			_, err4 := tx.Invite("k7")
			return []string{show(got, err1), show(nil, err2), show(inv, err3), show(nil, err4)}, nil
		}},
		{"complaints", func(tx flows.Tx) (any, error) {
			for i := 3; i > 0; i-- {
				if err := tx.AddComplaint(flows.Complaint{TicketID: fmt.Sprint("BX-", i), At: at(time.Duration(i) * time.Hour), Score: i, By: "tg:5"}); err != nil {
					return nil, err
				}
			}
			return tx.Complaints()
		}},
		{"timers", func(tx flows.Tx) (any, error) {
			for _, tm := range []flows.Timer{
				// In one second, keys against the order of due times.
				{Key: "b", Due: at(10*time.Second + 200*ms), Kind: "x"},
				{Key: "a", Due: at(10*time.Second + 700*ms), Kind: "x"},
				{Key: "c", Due: at(5 * time.Second), Kind: "x", Ticket: "BX-1", Rung: 2},
				{Key: "d", Due: at(time.Hour), Kind: "x"},
				{Key: "e", Due: at(time.Second), Kind: "x"},
			} {
				if err := tx.PutTimer(tm); err != nil {
					return nil, err
				}
			}
			// e moves later; d is deleted; deleting a missing key is fine.
			if err := tx.PutTimer(flows.Timer{Key: "e", Due: at(20 * time.Second), Kind: "y"}); err != nil {
				return nil, err
			}
			if err := tx.DeleteTimer("d"); err != nil {
				return nil, err
			}
			if err := tx.DeleteTimer("nope"); err != nil {
				return nil, err
			}
			var out []string
			for _, q := range []struct {
				now   time.Time
				limit int
			}{
				{at(0), 0}, {at(5 * time.Second), 0}, {at(10*time.Second + 500*ms), 0}, {at(10*time.Second + 800*ms), 0},
				{at(10*time.Second + 800*ms), 2}, {at(2 * time.Hour), 0}, {at(2 * time.Hour), 1},
			} {
				out = append(out, show(tx.DueTimers(q.now, q.limit)))
			}
			return out, nil
		}},
		{"touched", func(tx flows.Tx) (any, error) {
			var out []string
			for _, r := range [][2]time.Time{
				{at(0), at(24 * time.Hour)}, {at(time.Minute), at(time.Hour + time.Second)}, {at(time.Hour), at(time.Hour + 500*ms)},
				{at(time.Hour + 999*ms), at(3 * time.Hour)}, {at(5 * time.Hour), at(6 * time.Hour)},
			} {
				var ids []string
				err := tx.EachTicketTouched(r[0], r[1], func(t *flows.Ticket) error {
					ids = append(ids, t.ID+":"+string(t.State))
					return nil
				})
				out = append(out, show(ids, err))
			}
			stop := errors.New("stop")
			n := 0
			err := tx.EachTicketTouched(at(0), at(24*time.Hour), func(*flows.Ticket) error { n++; return stop })
			out = append(out, fmt.Sprint(n, errors.Is(err, stop)))
			return out, nil
		}},
		{"handovers, daily lists, duty", func(tx flows.Tx) (any, error) {
			for _, h := range []*flows.Handover{
				{Day: "20261127", TechID: "tg:30", Tickets: []string{"BX-1"}, Status: "pending"},
				{Day: "20261127", TechID: "tg:10", Status: "submitted"},
				{Day: "20261128", TechID: "tg:10", Status: "pending"},
				{Day: "20261127", TechID: "tg:30", Tickets: []string{"BX-1", "BX-2"}, Status: "submitted"},
			} {
				if err := tx.PutHandover(h); err != nil {
					return nil, err
				}
			}
			var out []string
			out = append(out, show(tx.Handovers("20261127")))
			out = append(out, show(tx.Handovers("2026112")))
			out = append(out, show(tx.Handover("20261128", "tg:10")))
			_, err := tx.Handover("20261128", "tg:30")
			out = append(out, show(nil, err))
			if err := tx.PutDailyList(&flows.DailyList{Day: "20261127", Lines: []flows.DailyLine{{Ticket: "BX-1", Category: "water"}}, Archived: at(0)}); err != nil {
				return nil, err
			}
			out = append(out, show(tx.DailyList("20261127")))
			_, err = tx.DailyList("20261126")
			out = append(out, show(nil, err))
			for _, o := range []flows.DutyOverride{
				{PersonID: "tg:9", Until: at(time.Hour), By: "tg:1"},
				{PersonID: "tg:10", Off: true, Until: at(time.Hour), By: "tg:1"},
				{PersonID: "tg:9", Off: true, Until: at(2 * time.Hour), By: "tg:1"},
			} {
				if err := tx.PutDutyOverride(o); err != nil {
					return nil, err
				}
			}
			out = append(out, show(tx.DutyOverrides()))
			for _, e := range []*flows.AreaEdit{
				{Area: "west", Fields: map[string]string{"phone": "0571-2"}, Updated: at(0), By: "tg:1"},
				{Area: "east", Fields: map[string]string{"zh": "东苑"}, Updated: at(0), By: "tg:1"},
				{Area: "west", Fields: map[string]string{"phone": "0571-3", "leads": "tg:5"}, Updated: at(time.Hour), By: "tg:1"},
			} {
				if err := tx.PutAreaEdit(e); err != nil {
					return nil, err
				}
			}
			out = append(out, show(tx.AreaEdits()))
			return out, nil
		}},
		{"governance", func(tx flows.Tx) (any, error) {
			for _, n := range []int{3, 1, 2} {
				if err := tx.PutSOPVersion(flows.SOPVersion{Number: n, Label: fmt.Sprint("v", n), Created: at(time.Duration(n) * time.Hour)}); err != nil {
					return nil, err
				}
			}
			for _, a := range []flows.Ack{{Version: 2, PersonID: "tg:30", At: at(0)}, {Version: 2, PersonID: "tg:10", At: at(0)}, {Version: 3, PersonID: "tg:2", At: at(0), Quiz: 3}} {
				if err := tx.PutAck(a); err != nil {
					return nil, err
				}
			}
			for _, r := range []*flows.Review{
				{ID: "R2", Trigger: "yearly", Opened: at(time.Hour), Participants: []string{"tg:10"}},
				{ID: "R1", Trigger: "complaint", Opened: at(2 * time.Hour)},
				{ID: "R3", Trigger: "sla", Opened: at(time.Hour), Answers: map[string]string{"tg:10": "declined"}},
			} {
				if err := tx.PutReview(r); err != nil {
					return nil, err
				}
			}
			var out []string
			out = append(out, show(tx.SOPVersions()))
			out = append(out, show(tx.Acks(2)))
			out = append(out, show(tx.Acks(4)))
			out = append(out, show(tx.Reviews()))
			out = append(out, show(tx.Review("R3")))
			_, err := tx.Review("R9")
			out = append(out, show(nil, err))
			for i := 0; i < 2; i++ {
				if err := tx.AddPendingSuggestion(flows.Suggestion{By: "tg:10", At: at(time.Duration(i) * time.Minute), Text: fmt.Sprint("s", i)}); err != nil {
					return nil, err
				}
			}
			out = append(out, show(tx.PendingSuggestions()))
			if err := tx.ClearPendingSuggestions(); err != nil {
				return nil, err
			}
			out = append(out, show(tx.PendingSuggestions()))
			if err := tx.AddPendingSuggestion(flows.Suggestion{By: "tg:2", Text: "again"}); err != nil {
				return nil, err
			}
			out = append(out, show(tx.PendingSuggestions()))
			a, _ := tx.NextSeq("review")
			b, _ := tx.NextSeq("review")
			c, _ := tx.NextSeq("other")
			d, _ := tx.NextTicketSeq("20261127")
			out = append(out, fmt.Sprint(a, b, c, d))
			return out, nil
		}},
	}
}

// TestParityWithBbolt runs one script of every flows.Tx method against
// the bbolt store and this one, step by step in their own transactions,
// and compares what each read: the orders, limits, replaced index keys,
// ties and missing records must come out the same.
func TestParityWithBbolt(t *testing.T) {
	bolt, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{NoSync: true, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	pg := MustOpen(t, postgres.Options{Now: func() time.Time { return t0 }})
	for _, st := range parityScript() {
		t.Run(strings.ReplaceAll(st.name, " ", "_"), func(t *testing.T) {
			run := func(s flows.Store) string {
				var out string
				err := s.Update(context.Background(), func(tx flows.Tx) error {
					v, err := st.fn(tx)
					out = show(v, err)
					return err
				})
				if err != nil {
					t.Fatalf("%T: %v", s, err)
				}
				return out
			}
			want, got := run(bolt), run(pg)
			if got != want {
				t.Errorf("postgres read\n%s\nbbolt read\n%s", got, want)
			}
		})
	}
}
