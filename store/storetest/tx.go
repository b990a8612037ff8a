package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The records of flows.Tx, one test per method group. Ids are compared as
// byte strings wherever an order "by id" is promised ("tg:10" before
// "tg:3"): on PostgreSQL that is COLLATE "C".

func person(id string, role flows.Role) *flows.Person {
	return &flows.Person{ID: id, Role: role, Name: "name of " + id, Registered: true, Created: T0, Updated: T0}
}

func ticket(id, resident string, created time.Time, st flows.State) *flows.Ticket {
	return &flows.Ticket{ID: id, State: st, ResidentID: resident, Category: "water", Description: "desc of " + id,
		Created: created, Updated: created}
}

func ticketIDs(ts []*flows.Ticket) string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, " ")
}

func personIDs(ps []*flows.Person) string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return strings.Join(ids, " ")
}

func wantIDs(tb testing.TB, what, got, want string) {
	tb.Helper()
	if got != want {
		tb.Fatalf("%s = [%s], want [%s]", what, got, want)
	}
}

func putTickets(tb testing.TB, s flows.Store, ts ...*flows.Ticket) {
	tb.Helper()
	update(tb, s, func(tx flows.Tx) error {
		for _, t := range ts {
			if err := tx.PutTicket(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// testNotFound: a missing record is an error matching flows.ErrNotFound
// (wrapped or not); lists of nothing are empty, without an error; an
// unset cursor is "", an unseen key is not seen, an unknown ticket has no
// events and a walk over nothing calls nothing.
func testNotFound(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	getters := []struct {
		name string
		get  func(tx flows.Tx) error
	}{
		{"Person", func(tx flows.Tx) error { _, err := tx.Person("tg:404"); return err }},
		{"Ticket", func(tx flows.Tx) error { _, err := tx.Ticket("BX-20261127-0404"); return err }},
		{"Dialogue", func(tx flows.Tx) error { _, err := tx.Dialogue("tg:404"); return err }},
		{"Invite", func(tx flows.Tx) error { _, err := tx.Invite("nope"); return err }},
		{"Handover", func(tx flows.Tx) error { _, err := tx.Handover("20261127", "tg:404"); return err }},
		{"DailyList", func(tx flows.Tx) error { _, err := tx.DailyList("20261127"); return err }},
		{"Review", func(tx flows.Tx) error { _, err := tx.Review("R-404"); return err }},
	}
	for _, g := range getters {
		t.Run(g.name, func(t *testing.T) {
			err := o.Store.View(t.Context(), g.get)
			if !errors.Is(err, flows.ErrNotFound) {
				t.Fatalf("missing %s: err = %v, want one matching flows.ErrNotFound", g.name, err)
			}
		})
	}
	t.Run("lists", func(t *testing.T) {
		view(t, o.Store, func(tx flows.Tx) error {
			counts := map[string]func() (int, error){
				"PeopleByRole":       func() (int, error) { v, err := tx.PeopleByRole(flows.RoleTechnician); return len(v), err },
				"TicketsByResident":  func() (int, error) { v, err := tx.TicketsByResident("tg:404", 0); return len(v), err },
				"TicketsByAssignee":  func() (int, error) { v, err := tx.TicketsByAssignee("tg:404"); return len(v), err },
				"OpenTickets":        func() (int, error) { v, err := tx.OpenTickets(); return len(v), err },
				"TicketEvents":       func() (int, error) { v, err := tx.TicketEvents("BX-20261127-0404"); return len(v), err },
				"Complaints":         func() (int, error) { v, err := tx.Complaints(); return len(v), err },
				"DueTimers":          func() (int, error) { v, err := tx.DueTimers(T0.AddDate(10, 0, 0), 0); return len(v), err },
				"Handovers":          func() (int, error) { v, err := tx.Handovers("20261127"); return len(v), err },
				"DutyOverrides":      func() (int, error) { v, err := tx.DutyOverrides(); return len(v), err },
				"AreaEdits":          func() (int, error) { v, err := tx.AreaEdits(); return len(v), err },
				"SOPVersions":        func() (int, error) { v, err := tx.SOPVersions(); return len(v), err },
				"Acks":               func() (int, error) { v, err := tx.Acks(1); return len(v), err },
				"Reviews":            func() (int, error) { v, err := tx.Reviews(); return len(v), err },
				"PendingSuggestions": func() (int, error) { v, err := tx.PendingSuggestions(); return len(v), err },
				"EachTicketTouched": func() (int, error) {
					n := 0
					err := tx.EachTicketTouched(T0.AddDate(-1, 0, 0), T0.AddDate(1, 0, 0), func(*flows.Ticket) error { n++; return nil })
					return n, err
				},
			}
			for name, count := range counts {
				if n, err := count(); err != nil || n != 0 {
					t.Errorf("%s on an empty store: %d records, err %v; want none and no error", name, n, err)
				}
			}
			if v, err := tx.Cursor("tg.offset"); err != nil || v != "" {
				t.Errorf("unset cursor = %q, %v; want \"\" and no error", v, err)
			}
			if seen, err := tx.Seen("tg:u:1"); err != nil || seen {
				t.Errorf("unmarked key: seen %v, %v", seen, err)
			}
			return nil
		})
	})
}

// testRoundTrip: every field of every record comes back as written, and a
// put of an existing key replaces the record (the listing shows the new
// version once).
func testRoundTrip(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	for seed := 1; seed <= 2; seed++ { // seed 2 replaces seed 1 under the same keys
		t.Run(fmt.Sprintf("version %d", seed), func(t *testing.T) {
			var (
				p   flows.Person
				tk  flows.Ticket
				d   flows.Dialogue
				inv flows.Invite
				h   flows.Handover
				dl  flows.DailyList
				r   flows.Review
				tm  flows.Timer
				do  flows.DutyOverride
				sv  flows.SOPVersion
				ack flows.Ack
			)
			for _, v := range []any{&p, &tk, &d, &inv, &h, &dl, &r, &tm, &do, &sv, &ack} {
				fill(v, seed)
			}
			p.ID, tk.ID, d.PersonID, inv.Code, h.Day, h.TechID = "tg:1", "BX-20261127-0001", "tg:1", "CODE1", "20261127", "tg:2"
			dl.Day, r.ID, tm.Key, do.PersonID, sv.Number, ack.Version, ack.PersonID = "20261127", "R-1", "sla:1", "tg:2", 1, 1, "tg:1"
			update(t, s, func(tx flows.Tx) error {
				return errors.Join(tx.PutPerson(&p), tx.PutTicket(&tk), tx.PutDialogue(&d), tx.PutInvite(&inv),
					tx.PutHandover(&h), tx.PutDailyList(&dl), tx.PutReview(&r), tx.PutTimer(tm), tx.PutDutyOverride(do),
					tx.PutSOPVersion(sv), tx.PutAck(ack))
			})
			view(t, s, func(tx flows.Tx) error {
				gp, err := tx.Person(p.ID)
				if err != nil {
					return err
				}
				wantSame(t, "Person", gp, &p)
				gt, err := tx.Ticket(tk.ID)
				if err != nil {
					return err
				}
				wantSame(t, "Ticket", gt, &tk)
				gd, err := tx.Dialogue(d.PersonID)
				if err != nil {
					return err
				}
				wantSame(t, "Dialogue", gd, &d)
				gi, err := tx.Invite(inv.Code)
				if err != nil {
					return err
				}
				wantSame(t, "Invite", gi, &inv)
				gh, err := tx.Handover(h.Day, h.TechID)
				if err != nil {
					return err
				}
				wantSame(t, "Handover", gh, &h)
				gl, err := tx.DailyList(dl.Day)
				if err != nil {
					return err
				}
				wantSame(t, "DailyList", gl, &dl)
				gr, err := tx.Review(r.ID)
				if err != nil {
					return err
				}
				wantSame(t, "Review", gr, &r)
				timers, err := tx.DueTimers(T0.AddDate(1, 0, 0), 0)
				if err != nil {
					return err
				}
				wantSame(t, "DueTimers", timers, []flows.Timer{tm})
				overrides, err := tx.DutyOverrides()
				if err != nil {
					return err
				}
				wantSame(t, "DutyOverrides", overrides, []flows.DutyOverride{do})
				versions, err := tx.SOPVersions()
				if err != nil {
					return err
				}
				wantSame(t, "SOPVersions", versions, []flows.SOPVersion{sv})
				acks, err := tx.Acks(1)
				if err != nil {
					return err
				}
				wantSame(t, "Acks", acks, []flows.Ack{ack})
				return nil
			})
		})
	}
	t.Run("appended", func(t *testing.T) {
		var ev flows.TicketEvent
		var c flows.Complaint
		var sg flows.Suggestion
		fill(&ev, 3)
		fill(&c, 3)
		fill(&sg, 3)
		update(t, s, func(tx flows.Tx) error {
			return errors.Join(tx.AppendTicketEvent("BX-20261127-0001", ev), tx.AddComplaint(c), tx.AddPendingSuggestion(sg))
		})
		ev.Seq = 1
		wantSame(t, "TicketEvents", read(t, s, func(tx flows.Tx) ([]flows.TicketEvent, error) {
			return tx.TicketEvents("BX-20261127-0001")
		}), []flows.TicketEvent{ev})
		wantSame(t, "Complaints", read(t, s, func(tx flows.Tx) ([]flows.Complaint, error) { return tx.Complaints() }), []flows.Complaint{c})
		wantSame(t, "PendingSuggestions", read(t, s, func(tx flows.Tx) ([]flows.Suggestion, error) {
			return tx.PendingSuggestions()
		}), []flows.Suggestion{sg})
	})
}

// testSeen: a key is seen once marked — in the marking transaction and
// after — and keys are independent (a key is not seen because a longer
// or shorter one is).
func testSeen(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	update(t, o.Store, func(tx flows.Tx) error {
		if err := tx.MarkSeen("tg:u:7", T0); err != nil {
			return err
		}
		if seen, err := tx.Seen("tg:u:7"); err != nil || !seen {
			t.Errorf("inside the marking transaction: seen %v, %v", seen, err)
		}
		return nil
	})
	view(t, o.Store, func(tx flows.Tx) error {
		for k, want := range map[string]bool{"tg:u:7": true, "tg:u:70": false, "tg:u:": false, "wecom:u:7": false, "": false} {
			if seen, err := tx.Seen(k); err != nil || seen != want {
				t.Errorf("Seen(%q) = %v, %v; want %v", k, seen, err, want)
			}
		}
		return nil
	})
}

// testCursor: an unset cursor is ""; SetCursor replaces; names are
// independent.
func testCursor(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(tx.SetCursor("tg.offset", "8"), tx.SetCursor("wecom.kf", "cursor-a"))
	})
	update(t, o.Store, func(tx flows.Tx) error { return tx.SetCursor("tg.offset", "9") })
	view(t, o.Store, func(tx flows.Tx) error {
		for name, want := range map[string]string{"tg.offset": "9", "wecom.kf": "cursor-a", "tg": "", "tg.offset2": ""} {
			if v, err := tx.Cursor(name); err != nil || v != want {
				t.Errorf("Cursor(%q) = %q, %v; want %q", name, v, err, want)
			}
		}
		return nil
	})
}

// testPeople: PutPerson replaces by id; PeopleByRole lists the people
// whose current role is the role, ordered by id, each with its latest
// version; a change of role moves a person from one list to the other.
func testPeople(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutPerson(person("tg:3", flows.RoleTechnician)), tx.PutPerson(person("tg:10", flows.RoleTechnician)),
			tx.PutPerson(person("tg:2", flows.RoleLead)), tx.PutPerson(person("tg:1", flows.RoleResident)),
			tx.PutPerson(person("wecom:zhang", flows.RoleTechnician)))
	})
	byRole := func(r flows.Role) []*flows.Person {
		return read(t, s, func(tx flows.Tx) ([]*flows.Person, error) { return tx.PeopleByRole(r) })
	}
	wantIDs(t, "technicians", personIDs(byRole(flows.RoleTechnician)), "tg:10 tg:3 wecom:zhang")
	wantIDs(t, "leads", personIDs(byRole(flows.RoleLead)), "tg:2")
	wantIDs(t, "admins", personIDs(byRole(flows.RoleAdmin)), "")

	promoted := person("tg:3", flows.RoleLead)
	promoted.Name = "张组长"
	renamed := person("tg:10", flows.RoleTechnician)
	renamed.Name = "李师傅"
	update(t, s, func(tx flows.Tx) error { return errors.Join(tx.PutPerson(promoted), tx.PutPerson(renamed)) })
	techs := byRole(flows.RoleTechnician)
	wantIDs(t, "technicians after tg:3 became a lead", personIDs(techs), "tg:10 wecom:zhang")
	if techs[0].Name != "李师傅" {
		t.Fatalf("PeopleByRole returned an old version: %+v", techs[0])
	}
	leads := byRole(flows.RoleLead)
	wantIDs(t, "leads after tg:3 became a lead", personIDs(leads), "tg:2 tg:3")
	wantSame(t, "promoted lead", leads[1], promoted)
}

// testTicketSeq: NextTicketSeq counts per day from 1, days are
// independent, a number is never handed out twice (within a transaction
// or across), and it is independent of NextSeq.
func testTicketSeq(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	var got []int
	next := func(tx flows.Tx, day string) error {
		n, err := tx.NextTicketSeq(day)
		got = append(got, n)
		return err
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(next(tx, "20261127"), next(tx, "20261127"), next(tx, "20261128"))
	})
	update(t, s, func(tx flows.Tx) error {
		n, err := tx.NextSeq("20261127")
		if err != nil || n != 1 {
			t.Errorf("NextSeq shares NextTicketSeq's counter: %d, %v", n, err)
		}
		return errors.Join(next(tx, "20261127"), next(tx, "20261128"), next(tx, "20261201"))
	})
	if fmt.Sprint(got) != "[1 2 1 3 2 1]" {
		t.Fatalf("ticket numbers %v, want [1 2 1 3 2 1]", got)
	}
}

// testTicketsByResident: the tickets whose current ResidentID is the
// person, in any state, newest Created first, at most limit (<= 0: all),
// each in its latest version. A ticket moved to another resident leaves
// the first one's list.
func testTicketsByResident(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	var ts []*flows.Ticket
	for _, i := range []int{3, 1, 5, 2, 4} { // put out of order
		st := flows.StateNew
		if i%2 == 0 {
			st = flows.StateClosed
		}
		ts = append(ts, ticket(fmt.Sprintf("BX-20261127-000%d", i), "tg:1", T0.Add(time.Duration(i)*time.Minute), st))
	}
	ts = append(ts, ticket("BX-20261127-0006", "tg:10", T0.Add(30*time.Minute), flows.StateNew),
		ticket("BX-20261127-0007", "tg:", T0.Add(40*time.Minute), flows.StateNew))
	putTickets(t, s, ts...)
	mine := func(id string, limit int) []*flows.Ticket {
		return read(t, s, func(tx flows.Tx) ([]*flows.Ticket, error) { return tx.TicketsByResident(id, limit) })
	}
	all := "BX-20261127-0005 BX-20261127-0004 BX-20261127-0003 BX-20261127-0002 BX-20261127-0001"
	for _, c := range []struct {
		resident string
		limit    int
		want     string
	}{
		{"tg:1", 0, all},
		{"tg:1", -1, all},
		{"tg:1", 10, all},
		{"tg:1", 5, all},
		{"tg:1", 2, "BX-20261127-0005 BX-20261127-0004"},
		{"tg:1", 1, "BX-20261127-0005"},
		{"tg:10", 0, "BX-20261127-0006"},
		{"tg:", 0, "BX-20261127-0007"},
		{"tg:2", 0, ""},
	} {
		wantIDs(t, fmt.Sprintf("TicketsByResident(%q, %d)", c.resident, c.limit), ticketIDs(mine(c.resident, c.limit)), c.want)
	}

	moved := ticket("BX-20261127-0003", "tg:10", T0.Add(3*time.Minute), flows.StateAccepted)
	moved.Updated = T0.Add(time.Hour)
	putTickets(t, s, moved)
	wantIDs(t, "tg:1 after ticket 3 moved to tg:10", ticketIDs(mine("tg:1", 0)),
		"BX-20261127-0005 BX-20261127-0004 BX-20261127-0002 BX-20261127-0001")
	got := mine("tg:10", 0)
	wantIDs(t, "tg:10 after ticket 3 moved to it", ticketIDs(got), "BX-20261127-0006 BX-20261127-0003")
	wantSame(t, "moved ticket", got[1], moved)
}

// testTicketsByAssignee: the open tickets whose current AssigneeID is the
// person, oldest Created first, each in its latest version; a reassigned
// ticket moves, a closed one leaves.
func testTicketsByAssignee(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	assigned := func(id, tech string, minute int, st flows.State) *flows.Ticket {
		tk := ticket(id, "tg:100", T0.Add(time.Duration(minute)*time.Minute), st)
		tk.AssigneeID, tk.Assignee = tech, "name of "+tech
		return tk
	}
	putTickets(t, s,
		assigned("BX-20261127-0004", "tg:2", 4, flows.StateOnSite),
		assigned("BX-20261127-0001", "tg:2", 1, flows.StateAccepted),
		assigned("BX-20261127-0003", "tg:2", 3, flows.StateClosed),
		assigned("BX-20261127-0002", "tg:20", 2, flows.StateAccepted),
		assigned("BX-20261127-0005", "", 5, flows.StateNew),
		assigned("BX-20261127-0006", "tg:2", 6, flows.StateWaiting),
	)
	jobs := func(tech string) []*flows.Ticket {
		return read(t, s, func(tx flows.Tx) ([]*flows.Ticket, error) { return tx.TicketsByAssignee(tech) })
	}
	wantIDs(t, "tg:2's jobs", ticketIDs(jobs("tg:2")), "BX-20261127-0001 BX-20261127-0004 BX-20261127-0006")
	wantIDs(t, "tg:20's jobs", ticketIDs(jobs("tg:20")), "BX-20261127-0002")
	wantIDs(t, "nobody's jobs", ticketIDs(jobs("")), "")

	reassigned := assigned("BX-20261127-0001", "tg:20", 1, flows.StateOnTheWay)
	done := assigned("BX-20261127-0004", "tg:2", 4, flows.StateUnresolved)
	taken := assigned("BX-20261127-0005", "tg:2", 5, flows.StateAccepted)
	putTickets(t, s, reassigned, done, taken)
	wantIDs(t, "tg:2's jobs after changes", ticketIDs(jobs("tg:2")), "BX-20261127-0005 BX-20261127-0006")
	got := jobs("tg:20")
	wantIDs(t, "tg:20's jobs after the reassignment", ticketIDs(got), "BX-20261127-0001 BX-20261127-0002")
	wantSame(t, "reassigned ticket", got[0], reassigned)
}

// testOpenTickets: every ticket whose state is open (State.Open), oldest
// Created first, each in its latest version; a ticket that closes, is
// cancelled or ends unresolved leaves, and one that opens again returns.
func testOpenTickets(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	states := []flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite, flows.StateWaiting,
		flows.StateDone, flows.StateConfirmed, flows.StateSurvey, flows.StateClosed, flows.StateCancelled, flows.StateUnresolved}
	var ts []*flows.Ticket
	for i := len(states) - 1; i >= 0; i-- { // put newest first
		ts = append(ts, ticket(fmt.Sprintf("BX-20261127-%04d", i+1), "tg:100", T0.Add(time.Duration(i)*time.Minute), states[i]))
	}
	putTickets(t, s, ts...)
	openIDs := func() []*flows.Ticket {
		return read(t, s, func(tx flows.Tx) ([]*flows.Ticket, error) { return tx.OpenTickets() })
	}
	wantIDs(t, "open tickets", ticketIDs(openIDs()),
		"BX-20261127-0001 BX-20261127-0002 BX-20261127-0003 BX-20261127-0004 BX-20261127-0005 BX-20261127-0006 BX-20261127-0007 BX-20261127-0008")

	accepted := ticket("BX-20261127-0001", "tg:100", T0, flows.StateAccepted)
	accepted.AssigneeID, accepted.Updated = "tg:2", T0.Add(time.Hour)
	closedAt := T0.Add(2 * time.Hour)
	closed := ticket("BX-20261127-0002", "tg:100", T0.Add(time.Minute), flows.StateClosed)
	closed.Closed, closed.Updated = &closedAt, closedAt
	cancelled := ticket("BX-20261127-0003", "tg:100", T0.Add(2*time.Minute), flows.StateCancelled)
	unresolved := ticket("BX-20261127-0004", "tg:100", T0.Add(3*time.Minute), flows.StateUnresolved)
	reopened := ticket("BX-20261127-0009", "tg:100", T0.Add(8*time.Minute), flows.StateAccepted)
	putTickets(t, s, accepted, closed, cancelled, unresolved, reopened)
	got := openIDs()
	wantIDs(t, "open tickets after changes", ticketIDs(got),
		"BX-20261127-0001 BX-20261127-0005 BX-20261127-0006 BX-20261127-0007 BX-20261127-0008 BX-20261127-0009")
	wantSame(t, "open ticket's version", got[0], accepted)
}

// testTicketEvents: AppendTicketEvent numbers a ticket's events 1, 2,
// 3... in append order (whatever Seq the caller set), across
// transactions, independently per ticket; TicketEvents lists them in
// that order.
func testTicketEvents(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	ev := func(action string, minute int) flows.TicketEvent {
		return flows.TicketEvent{Seq: 99, At: T0.Add(time.Duration(minute) * time.Minute), Actor: "tg:2", Action: action,
			From: flows.StateNew, To: flows.StateAccepted, Note: "note " + action}
	}
	const a, b = "BX-20261127-0001", "BX-20261127-0002"
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.AppendTicketEvent(a, ev("reported", 0)), tx.AppendTicketEvent(b, ev("reported", 1)),
			tx.AppendTicketEvent(a, ev("accepted", 2)))
	})
	update(t, s, func(tx flows.Tx) error {
		// a later event with an earlier time still goes last: order is append order
		return errors.Join(tx.AppendTicketEvent(a, ev("arrived", -5)), tx.AppendTicketEvent(b, ev("cancelled", 3)))
	})
	trail := func(id string) string {
		var out []string
		for _, e := range read(t, s, func(tx flows.Tx) ([]flows.TicketEvent, error) { return tx.TicketEvents(id) }) {
			out = append(out, fmt.Sprintf("%d:%s", e.Seq, e.Action))
		}
		return strings.Join(out, " ")
	}
	wantIDs(t, "ticket a's trail", trail(a), "1:reported 2:accepted 3:arrived")
	wantIDs(t, "ticket b's trail", trail(b), "1:reported 2:cancelled")
	want := ev("arrived", -5)
	want.Seq = 3
	wantSame(t, "third event", read(t, s, func(tx flows.Tx) ([]flows.TicketEvent, error) { return tx.TicketEvents(a) })[2], want)
}

// testDialogues: at most one dialogue per person: PutDialogue replaces,
// DeleteDialogue removes it (others stay), and deleting a dialogue that
// does not exist is not an error.
func testDialogues(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	d1 := &flows.Dialogue{PersonID: "tg:1", Kind: "report", Step: "category", Seq: 1, Started: T0, Updated: T0}
	d2 := &flows.Dialogue{PersonID: "tg:2", Kind: "register", Step: "name", Seq: 1, Started: T0, Updated: T0}
	update(t, s, func(tx flows.Tx) error { return errors.Join(tx.PutDialogue(d1), tx.PutDialogue(d2)) })
	d1b := &flows.Dialogue{PersonID: "tg:1", Kind: "report", Step: "desc", Seq: 2, Started: T0, Updated: T0.Add(time.Minute), Category: "water"}
	update(t, s, func(tx flows.Tx) error { return tx.PutDialogue(d1b) })
	wantSame(t, "replaced dialogue", read(t, s, func(tx flows.Tx) (*flows.Dialogue, error) { return tx.Dialogue("tg:1") }), d1b)
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.DeleteDialogue("tg:1"), tx.DeleteDialogue("tg:1"), tx.DeleteDialogue("tg:404"))
	})
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.Dialogue("tg:1"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("deleted dialogue: %v, want not found", err)
		}
		got, err := tx.Dialogue("tg:2")
		if err != nil {
			return err
		}
		wantSame(t, "other person's dialogue", got, d2)
		return nil
	})
}

// testInvites: an invite is read by its code; PutInvite replaces it (the
// redemption is recorded on the same record).
func testInvites(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	inv := &flows.Invite{Code: "K7Q2", Role: flows.RoleTechnician, CreatedBy: "tg:1", Created: T0, Expires: T0.Add(72 * time.Hour)}
	other := &flows.Invite{Code: "K7Q", Role: flows.RoleLead, CreatedBy: "tg:1", Created: T0, Expires: T0.Add(72 * time.Hour)}
	update(t, s, func(tx flows.Tx) error { return errors.Join(tx.PutInvite(inv), tx.PutInvite(other)) })
	used := *inv
	at := T0.Add(time.Hour)
	used.UsedBy, used.Used = "tg:5", &at
	update(t, s, func(tx flows.Tx) error { return tx.PutInvite(&used) })
	wantSame(t, "redeemed invite", read(t, s, func(tx flows.Tx) (*flows.Invite, error) { return tx.Invite("K7Q2") }), &used)
	wantSame(t, "other invite", read(t, s, func(tx flows.Tx) (*flows.Invite, error) { return tx.Invite("K7Q") }), other)
}

// testComplaints: complaints are listed in the order they were added,
// across transactions (not by time or ticket).
func testComplaints(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	c := func(id string, minute int) flows.Complaint {
		return flows.Complaint{TicketID: id, At: T0.Add(time.Duration(minute) * time.Minute), Score: 1, Text: "bad " + id, By: "tg:100"}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.AddComplaint(c("BX-20261127-0009", 5)), tx.AddComplaint(c("BX-20261127-0001", 9)))
	})
	update(t, s, func(tx flows.Tx) error { return tx.AddComplaint(c("BX-20261127-0005", 1)) })
	wantSame(t, "complaints", read(t, s, func(tx flows.Tx) ([]flows.Complaint, error) { return tx.Complaints() }),
		[]flows.Complaint{c("BX-20261127-0009", 5), c("BX-20261127-0001", 9), c("BX-20261127-0005", 1)})
}

func timerKeys(ts []flows.Timer) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key)
	}
	return strings.Join(out, " ")
}

// testTimers: PutTimer replaces the timer with the same key (its old due
// time is forgotten, earlier or later); DeleteTimer removes one, and
// deleting a missing timer is not an error; reading due timers does not
// consume them.
func testTimers(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	tm := func(key string, due time.Duration) flows.Timer {
		return flows.Timer{Key: key, Due: T0.Add(due), Kind: "sla", Ticket: "BX-20261127-0001", Rung: 1}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutTimer(tm("earlier", 10*time.Minute)), tx.PutTimer(tm("later", time.Minute)),
			tx.PutTimer(tm("gone", 2*time.Minute)))
	})
	moved := tm("earlier", 3*time.Minute)
	moved.Rung = 2
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutTimer(moved), tx.PutTimer(tm("later", 30*time.Minute)), tx.DeleteTimer("gone"),
			tx.DeleteTimer("gone"), tx.DeleteTimer("never"))
	})
	due := func(at time.Duration) []flows.Timer {
		return read(t, s, func(tx flows.Tx) ([]flows.Timer, error) { return tx.DueTimers(T0.Add(at), 0) })
	}
	wantIDs(t, "due at +5m", timerKeys(due(5*time.Minute)), "earlier")
	wantIDs(t, "due at +5m, read again", timerKeys(due(5*time.Minute)), "earlier")
	wantSame(t, "replaced timer", due(20*time.Minute), []flows.Timer{moved})
	wantIDs(t, "due at +1h", timerKeys(due(time.Hour)), "earlier later")
}

// testDueTimers: the timers due at or before now (inclusive), earliest due
// first, at most limit (<= 0: all); a timer that is due is never skipped
// because another one in the same second is not (due times keep their
// sub-second part).
func testDueTimers(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	dues := map[string]time.Duration{ // keys sort against due order
		"z": -2 * time.Hour, "y": -time.Hour, "x": -time.Minute, "w": 0, "v": time.Second, "u": time.Hour,
		"b-second": 1*time.Hour + 100*time.Millisecond, "a-second": 1*time.Hour + 900*time.Millisecond,
	}
	update(t, s, func(tx flows.Tx) error {
		for k, d := range dues {
			if err := tx.PutTimer(flows.Timer{Key: k, Due: T0.Add(d), Kind: "test"}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		name  string
		now   time.Duration
		limit int
		want  string
	}{
		{"all due", 0, 0, "z y x w"},
		{"negative limit", 0, -1, "z y x w"},
		{"limit above count", 0, 10, "z y x w"},
		{"limit", 0, 2, "z y"},
		{"limit 1", 0, 1, "z"},
		{"before any", -3 * time.Hour, 0, ""},
		{"a second later", time.Second, 0, "z y x w v"},
		{"within a second", time.Hour + 500*time.Millisecond, 0, "z y x w v u b-second"},
		{"within a second, limited", time.Hour + 500*time.Millisecond, 6, "z y x w v u"},
		{"end of that second", time.Hour + 950*time.Millisecond, 0, "z y x w v u b-second a-second"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := read(t, s, func(tx flows.Tx) ([]flows.Timer, error) { return tx.DueTimers(T0.Add(c.now), c.limit) })
			wantIDs(t, "due timers", timerKeys(got), c.want)
		})
	}
}

// testEachTicketTouched: a ticket is touched at t when PutTicket stored it
// with Updated t. EachTicketTouched(from, to) calls fn once for every
// ticket touched in [from, to), in the order of its first touch in that
// range, with the ticket's latest version (which may be from after the
// range); an error from fn stops the walk and is returned. The engine
// passes whole-second bounds (days, months), and so does this test.
func testEachTicketTouched(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	day := 24 * time.Hour
	touch := func(id string, at time.Duration, st flows.State) *flows.Ticket {
		tk := ticket(id, "tg:100", T0, st)
		tk.Updated = T0.Add(at)
		return tk
	}
	// In the order they happen.
	putTickets(t, s, touch("A", 0, flows.StateNew), touch("B", day, flows.StateNew))
	putTickets(t, s, touch("E", day+10*time.Minute, flows.StateNew), touch("D", day+30*time.Minute, flows.StateNew))
	putTickets(t, s, touch("A", day+time.Hour, flows.StateAccepted), touch("D", day+2*time.Hour, flows.StateOnSite))
	putTickets(t, s, touch("C", 2*day, flows.StateNew))
	latestE := touch("E", 3*day, flows.StateClosed)
	putTickets(t, s, latestE)
	walk := func(from, to time.Duration, stopAt int) ([]*flows.Ticket, error) {
		var got []*flows.Ticket
		err := s.View(t.Context(), func(tx flows.Tx) error {
			return tx.EachTicketTouched(T0.Add(from), T0.Add(to), func(tk *flows.Ticket) error {
				got = append(got, tk)
				if len(got) == stopAt {
					return fmt.Errorf("stop here: %w", errFail)
				}
				return nil
			})
		})
		return got, err
	}
	for _, c := range []struct {
		name     string
		from, to time.Duration
		want     string
	}{
		{"day 1", day, 2 * day, "B E D A"},
		{"day 0", 0, day, "A"},
		{"days 0 and 1", 0, 2 * day, "A B E D"},
		{"day 2", 2 * day, 3 * day, "C"},
		{"day 3", 3 * day, 4 * day, "E"},
		{"empty range", day, day, ""},
		{"before everything", -day, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := walk(c.from, c.to, -1)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "touched", ticketIDs(got), c.want)
		})
	}
	t.Run("latest version", func(t *testing.T) {
		got, err := walk(day, 2*day, -1)
		if err != nil {
			t.Fatal(err)
		}
		wantSame(t, "ticket E touched on day 1, read after day 3", got[1], latestE)
		if got[3].State != flows.StateAccepted {
			t.Fatalf("ticket A in state %s, want its latest (accepted)", got[3].State)
		}
	})
	t.Run("error stops", func(t *testing.T) {
		got, err := walk(0, 4*day, 2)
		if !errors.Is(err, errFail) {
			t.Fatalf("err = %v, want fn's error", err)
		}
		wantIDs(t, "called before the error", ticketIDs(got), "A B")
	})
}

// testHandovers: one handover per (day, technician), replaced by a put;
// Handovers(day) lists that day's only, ordered by technician id.
func testHandovers(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	h := func(day, tech, status string) *flows.Handover {
		return &flows.Handover{Day: day, TechID: tech, Status: status, Tickets: []string{"BX-" + day + "-0001"}}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutHandover(h("20261127", "tg:3", "pending")), tx.PutHandover(h("20261127", "tg:10", "pending")),
			tx.PutHandover(h("20261128", "tg:3", "pending")), tx.PutHandover(h("20261126", "tg:4", "approved")))
	})
	at := T0.Add(8 * time.Hour)
	submitted := h("20261127", "tg:3", "submitted")
	submitted.At = &at
	update(t, s, func(tx flows.Tx) error { return tx.PutHandover(submitted) })
	wantSame(t, "handover", read(t, s, func(tx flows.Tx) (*flows.Handover, error) { return tx.Handover("20261127", "tg:3") }), submitted)
	wantSame(t, "the day's handovers", read(t, s, func(tx flows.Tx) ([]*flows.Handover, error) { return tx.Handovers("20261127") }),
		[]*flows.Handover{h("20261127", "tg:10", "pending"), submitted})
	wantSame(t, "next day's handovers", read(t, s, func(tx flows.Tx) ([]*flows.Handover, error) { return tx.Handovers("20261128") }),
		[]*flows.Handover{h("20261128", "tg:3", "pending")})
}

// testDailyLists: one list per day, replaced by a put.
func testDailyLists(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	l := func(day string, n int) *flows.DailyList {
		d := &flows.DailyList{Day: day, Archived: T0}
		for i := 0; i < n; i++ {
			d.Lines = append(d.Lines, flows.DailyLine{Ticket: fmt.Sprintf("BX-%s-%04d", day, i+1), Category: "water", State: flows.StateClosed})
		}
		return d
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutDailyList(l("20261127", 1)), tx.PutDailyList(l("20261128", 2)))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutDailyList(l("20261127", 3)) })
	wantSame(t, "replaced list", read(t, s, func(tx flows.Tx) (*flows.DailyList, error) { return tx.DailyList("20261127") }), l("20261127", 3))
	wantSame(t, "other day", read(t, s, func(tx flows.Tx) (*flows.DailyList, error) { return tx.DailyList("20261128") }), l("20261128", 2))
}

// testDutyOverrides: one override per person, replaced by a put, listed
// ordered by person id (so the roster flows derives from them, and the
// order people are paged in, is the same on every store).
func testDutyOverrides(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	ov := func(id string, off bool) flows.DutyOverride {
		return flows.DutyOverride{PersonID: id, Off: off, Until: T0.Add(8 * time.Hour), By: "tg:2"}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutDutyOverride(ov("tg:3", false)), tx.PutDutyOverride(ov("tg:10", true)), tx.PutDutyOverride(ov("tg:5", false)))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutDutyOverride(ov("tg:3", true)) })
	wantSame(t, "overrides", read(t, s, func(tx flows.Tx) ([]flows.DutyOverride, error) { return tx.DutyOverrides() }),
		[]flows.DutyOverride{ov("tg:10", true), ov("tg:3", true), ov("tg:5", false)})
}

// testAreaEdits: one edit per area, replaced by a put, listed by area key.
func testAreaEdits(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	ed := func(area, phone string) *flows.AreaEdit {
		return &flows.AreaEdit{Area: area, Fields: map[string]string{"phone": phone, "zh": "东苑"}, Updated: T0, By: "tg:1"}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutAreaEdit(ed("west", "0571-2")), tx.PutAreaEdit(ed("east", "0571-1")), tx.PutAreaEdit(ed("main", "0571-0")))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutAreaEdit(ed("east", "0571-9")) })
	wantSame(t, "area edits", read(t, s, func(tx flows.Tx) ([]*flows.AreaEdit, error) { return tx.AreaEdits() }),
		[]*flows.AreaEdit{ed("east", "0571-9"), ed("main", "0571-0"), ed("west", "0571-2")})
}

// testSOPVersions: one version per number, replaced by a put, listed by
// number ascending (numerically: 2 before 10).
func testSOPVersions(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	v := func(n int, label string) flows.SOPVersion {
		return flows.SOPVersion{Number: n, Label: label, Hash: fmt.Sprintf("h%d", n), Author: "system", Created: T0.Add(time.Duration(n) * time.Hour)}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutSOPVersion(v(10, "v10")), tx.PutSOPVersion(v(2, "v2")), tx.PutSOPVersion(v(1, "v1")))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutSOPVersion(v(2, "v2 corrected")) })
	wantSame(t, "versions", read(t, s, func(tx flows.Tx) ([]flows.SOPVersion, error) { return tx.SOPVersions() }),
		[]flows.SOPVersion{v(1, "v1"), v(2, "v2 corrected"), v(10, "v10")})
}

// testAcks: one ack per (version, person), replaced by a put; Acks(v)
// lists that version's only, ordered by person id.
func testAcks(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	a := func(v int, id string, quiz int) flows.Ack {
		return flows.Ack{Version: v, PersonID: id, At: T0, Quiz: quiz}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutAck(a(1, "tg:3", 1)), tx.PutAck(a(1, "tg:10", 2)), tx.PutAck(a(2, "tg:3", 3)),
			tx.PutAck(a(257, "tg:4", 4)), tx.PutAck(a(0, "tg:5", 5)))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutAck(a(1, "tg:3", 9)) })
	acks := func(v int) []flows.Ack {
		return read(t, s, func(tx flows.Tx) ([]flows.Ack, error) { return tx.Acks(v) })
	}
	wantSame(t, "acks of version 1", acks(1), []flows.Ack{a(1, "tg:10", 2), a(1, "tg:3", 9)})
	wantSame(t, "acks of version 2", acks(2), []flows.Ack{a(2, "tg:3", 3)})
	wantSame(t, "acks of version 257", acks(257), []flows.Ack{a(257, "tg:4", 4)})
	wantSame(t, "acks of version 3", acks(3), []flows.Ack(nil))
}

// testReviews: a review is read by id and replaced by a put; Reviews
// lists them newest Opened first.
func testReviews(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	r := func(id string, opened time.Duration, status string) *flows.Review {
		return &flows.Review{ID: id, Trigger: "manual", Opened: T0.Add(opened), Deadline: T0.Add(opened + 72*time.Hour),
			Owner: "tg:2", Status: status, SOPVersion: 1, Participants: []string{"tg:3"}}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutReview(r("R-3", 0, "open")), tx.PutReview(r("R-1", 48*time.Hour, "open")), tx.PutReview(r("R-2", 24*time.Hour, "open")))
	})
	update(t, s, func(tx flows.Tx) error { return tx.PutReview(r("R-3", 0, "closed")) })
	wantSame(t, "review", read(t, s, func(tx flows.Tx) (*flows.Review, error) { return tx.Review("R-3") }), r("R-3", 0, "closed"))
	wantSame(t, "reviews", read(t, s, func(tx flows.Tx) ([]*flows.Review, error) { return tx.Reviews() }),
		[]*flows.Review{r("R-1", 48*time.Hour, "open"), r("R-2", 24*time.Hour, "open"), r("R-3", 0, "closed")})
}

// testSuggestions: pending suggestions are listed in the order added;
// ClearPendingSuggestions empties the list, and adding after a clear
// starts a new one.
func testSuggestions(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	sg := func(text string, minute int) flows.Suggestion {
		return flows.Suggestion{By: "tg:3", At: T0.Add(time.Duration(minute) * time.Minute), Text: text}
	}
	pending := func() []flows.Suggestion {
		return read(t, s, func(tx flows.Tx) ([]flows.Suggestion, error) { return tx.PendingSuggestions() })
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.AddPendingSuggestion(sg("b", 5)), tx.AddPendingSuggestion(sg("a", 1)))
	})
	update(t, s, func(tx flows.Tx) error { return tx.AddPendingSuggestion(sg("c", 0)) })
	wantSame(t, "pending", pending(), []flows.Suggestion{sg("b", 5), sg("a", 1), sg("c", 0)})
	update(t, s, func(tx flows.Tx) error { return tx.ClearPendingSuggestions() })
	wantSame(t, "after clear", pending(), []flows.Suggestion(nil))
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.ClearPendingSuggestions(), tx.AddPendingSuggestion(sg("d", 9)), tx.AddPendingSuggestion(sg("e", 8)))
	})
	wantSame(t, "after clear and add", pending(), []flows.Suggestion{sg("d", 9), sg("e", 8)})
}

// testNextSeq: each named sequence counts from 1, never hands a number
// out twice, and names are independent.
func testNextSeq(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	var got []int
	next := func(tx flows.Tx, name string) error {
		n, err := tx.NextSeq(name)
		got = append(got, n)
		return err
	}
	update(t, o.Store, func(tx flows.Tx) error { return errors.Join(next(tx, "review"), next(tx, "review"), next(tx, "audit")) })
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(next(tx, "review"), next(tx, "reviews"), next(tx, "audit"))
	})
	if fmt.Sprint(got) != "[1 2 1 3 1 2]" {
		t.Fatalf("sequence numbers %v, want [1 2 1 3 1 2]", got)
	}
}
