package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// testRollback: when fn fails, nothing it did is committed — not the
// records, not their indexes, not the dedupe mark, the cursor, a sequence
// number or an outbox row — and Update returns fn's error.
func testRollback(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	before := person("tg:2", flows.RoleTechnician)
	job := ticket("BX-20261127-0001", "tg:100", T0, flows.StateAccepted)
	job.AssigneeID = "tg:2"
	dlg := &flows.Dialogue{PersonID: "tg:2", Kind: "report", Step: "desc"}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutPerson(before), tx.PutTicket(job), tx.PutDialogue(dlg), tx.SetCursor("tg.offset", "7"),
			tx.PutTimer(flows.Timer{Key: "keep", Due: T0, Kind: "sla"}))
	})
	var pendingBefore int
	if o.Queue != nil {
		rows, err := o.Queue.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		pendingBefore = len(rows)
	}

	err := s.Update(t.Context(), func(tx flows.Tx) error {
		closed := *job
		closed.State, closed.Updated = flows.StateClosed, T0.Add(time.Hour)
		_, err1 := tx.NextTicketSeq("20261127")
		_, err2 := tx.NextSeq("review")
		err := errors.Join(
			tx.MarkSeen("tg:u:8", T0), tx.SetCursor("tg.offset", "8"),
			tx.PutPerson(person("tg:3", flows.RoleTechnician)), tx.PutPerson(person("tg:2", flows.RoleLead)),
			tx.PutTicket(&closed), tx.PutTicket(ticket("BX-20261127-0002", "tg:100", T0, flows.StateNew)),
			tx.AppendTicketEvent(job.ID, flows.TicketEvent{At: T0, Action: "closed"}), err1, err2,
			tx.DeleteDialogue("tg:2"), tx.PutDialogue(&flows.Dialogue{PersonID: "tg:3", Kind: "register"}),
			tx.PutInvite(&flows.Invite{Code: "X"}), tx.AddComplaint(flows.Complaint{TicketID: job.ID}),
			tx.DeleteTimer("keep"), tx.PutTimer(flows.Timer{Key: "new", Due: T0, Kind: "sla"}),
			tx.PutHandover(&flows.Handover{Day: "20261127", TechID: "tg:2"}), tx.PutDailyList(&flows.DailyList{Day: "20261127"}),
			tx.PutDutyOverride(flows.DutyOverride{PersonID: "tg:2"}), tx.PutSOPVersion(flows.SOPVersion{Number: 1}),
			tx.PutAck(flows.Ack{Version: 1, PersonID: "tg:2"}), tx.PutReview(&flows.Review{ID: "R-1"}),
			tx.AddPendingSuggestion(flows.Suggestion{Text: "x"}),
			tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "2"}, Kind: flows.KindSend, Text: "lost"}),
		)
		if err != nil {
			return err
		}
		return fmt.Errorf("handler: %w", errFail)
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	view(t, s, func(tx flows.Tx) error {
		if seen, _ := tx.Seen("tg:u:8"); seen {
			t.Error("dedupe mark committed")
		}
		if v, _ := tx.Cursor("tg.offset"); v != "7" {
			t.Errorf("cursor = %q, want 7", v)
		}
		for _, id := range []string{"tg:3"} {
			if _, err := tx.Person(id); !errors.Is(err, flows.ErrNotFound) {
				t.Errorf("person %s committed", id)
			}
		}
		if p, err := tx.Person("tg:2"); err != nil || p.Role != flows.RoleTechnician {
			t.Errorf("person tg:2 changed: %+v %v", p, err)
		}
		techs, _ := tx.PeopleByRole(flows.RoleTechnician)
		leads, _ := tx.PeopleByRole(flows.RoleLead)
		wantIDs(t, "technicians", personIDs(techs), "tg:2")
		wantIDs(t, "leads", personIDs(leads), "")
		open, _ := tx.OpenTickets()
		wantIDs(t, "open tickets", ticketIDs(open), job.ID)
		jobs, _ := tx.TicketsByAssignee("tg:2")
		wantIDs(t, "jobs", ticketIDs(jobs), job.ID)
		mine, _ := tx.TicketsByResident("tg:100", 0)
		wantIDs(t, "resident's tickets", ticketIDs(mine), job.ID)
		if evs, _ := tx.TicketEvents(job.ID); len(evs) != 0 {
			t.Errorf("events committed: %+v", evs)
		}
		n := 0
		_ = tx.EachTicketTouched(T0.Add(time.Minute), T0.AddDate(0, 0, 1), func(*flows.Ticket) error { n++; return nil })
		if n != 0 {
			t.Errorf("a rolled-back change touched %d tickets", n)
		}
		if d, err := tx.Dialogue("tg:2"); err != nil || d.Step != "desc" {
			t.Errorf("dialogue tg:2: %+v %v", d, err)
		}
		for what, err := range map[string]error{
			"dialogue": second(tx.Dialogue("tg:3")), "invite": second(tx.Invite("X")), "handover": second(tx.Handover("20261127", "tg:2")),
			"daily list": second(tx.DailyList("20261127")), "review": second(tx.Review("R-1")),
		} {
			if !errors.Is(err, flows.ErrNotFound) {
				t.Errorf("%s committed (%v)", what, err)
			}
		}
		due, _ := tx.DueTimers(T0, 0)
		wantIDs(t, "timers", timerKeys(due), "keep")
		for what, n := range map[string]int{
			"complaints": count(tx.Complaints()), "duty overrides": count(tx.DutyOverrides()), "sop versions": count(tx.SOPVersions()),
			"acks": count(tx.Acks(1)), "reviews": count(tx.Reviews()), "suggestions": count(tx.PendingSuggestions()),
		} {
			if n != 0 {
				t.Errorf("%d %s committed", n, what)
			}
		}
		return nil
	})
	update(t, s, func(tx flows.Tx) error {
		if n, err := tx.NextTicketSeq("20261127"); err != nil || n != 1 {
			t.Errorf("ticket number after the rollback: %d, %v; want 1", n, err)
		}
		if n, err := tx.NextSeq("review"); err != nil || n != 1 {
			t.Errorf("sequence after the rollback: %d, %v; want 1", n, err)
		}
		return nil
	})
	if o.Queue != nil {
		rows, err := o.Queue.Pending(0)
		if err != nil || len(rows) != pendingBefore {
			t.Fatalf("outbox after the rollback: %d rows, %v; want %d", len(rows), err, pendingBefore)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func count[T any](v []T, err error) int {
	if err != nil {
		return -1
	}
	return len(v)
}

// testOwnWrites: a transaction reads what it wrote, through every index.
func testOwnWrites(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	update(t, o.Store, func(tx flows.Tx) error {
		tk := ticket("BX-20261127-0001", "tg:100", T0, flows.StateAccepted)
		tk.AssigneeID = "tg:2"
		err := errors.Join(tx.PutPerson(person("tg:2", flows.RoleTechnician)), tx.PutTicket(tk),
			tx.AppendTicketEvent(tk.ID, flows.TicketEvent{At: T0, Action: "accepted"}), tx.MarkSeen("k", T0),
			tx.SetCursor("c", "1"), tx.PutTimer(flows.Timer{Key: "t", Due: T0}), tx.PutDialogue(&flows.Dialogue{PersonID: "tg:2", Kind: "x"}))
		if err != nil {
			return err
		}
		techs, _ := tx.PeopleByRole(flows.RoleTechnician)
		wantIDs(t, "technicians", personIDs(techs), "tg:2")
		open, _ := tx.OpenTickets()
		wantIDs(t, "open", ticketIDs(open), tk.ID)
		jobs, _ := tx.TicketsByAssignee("tg:2")
		wantIDs(t, "jobs", ticketIDs(jobs), tk.ID)
		mine, _ := tx.TicketsByResident("tg:100", 0)
		wantIDs(t, "resident's", ticketIDs(mine), tk.ID)
		var touched []*flows.Ticket
		_ = tx.EachTicketTouched(T0, T0.Add(time.Second), func(t *flows.Ticket) error { touched = append(touched, t); return nil })
		wantIDs(t, "touched", ticketIDs(touched), tk.ID)
		if evs, _ := tx.TicketEvents(tk.ID); len(evs) != 1 {
			t.Errorf("events %+v", evs)
		}
		if seen, _ := tx.Seen("k"); !seen {
			t.Error("own dedupe mark not seen")
		}
		if v, _ := tx.Cursor("c"); v != "1" {
			t.Errorf("own cursor %q", v)
		}
		due, _ := tx.DueTimers(T0, 0)
		wantIDs(t, "due", timerKeys(due), "t")
		if _, err := tx.Dialogue("tg:2"); err != nil {
			t.Errorf("own dialogue: %v", err)
		}

		closed := *tk
		closed.State = flows.StateClosed
		if err := errors.Join(tx.PutTicket(&closed), tx.DeleteTimer("t"), tx.DeleteDialogue("tg:2")); err != nil {
			return err
		}
		open, _ = tx.OpenTickets()
		wantIDs(t, "open after closing", ticketIDs(open), "")
		jobs, _ = tx.TicketsByAssignee("tg:2")
		wantIDs(t, "jobs after closing", ticketIDs(jobs), "")
		due, _ = tx.DueTimers(T0, 0)
		wantIDs(t, "due after delete", timerKeys(due), "")
		if _, err := tx.Dialogue("tg:2"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("deleted own dialogue: %v", err)
		}
		return nil
	})
}

// testBatch: concurrent Batch calls each land exactly once, though fn may
// run more than once (as of its last run: every number a caller saw in
// the run that committed is distinct, and together they are 1..n); calls
// whose fn fails commit nothing, get their error, and stop no one else.
func testBatch(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	const n, failing = 40, 8
	var runs atomic.Int64
	got := make([]int, n)
	errs := make([]error, n+failing)
	var wg sync.WaitGroup
	for i := 0; i < n+failing; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Batch(context.Background(), func(tx flows.Tx) error {
				runs.Add(1)
				seq, err := tx.NextSeq("batch")
				if err != nil {
					return err
				}
				if i >= n {
					if err := tx.PutPerson(person(fmt.Sprintf("tg:fail:%d", i), flows.RoleResident)); err != nil {
						return err
					}
					return fmt.Errorf("call %d: %w", i, errFail)
				}
				got[i] = seq // the last run is the one that committed
				p := person(fmt.Sprintf("tg:%03d", i), flows.RoleResident)
				p.Name = fmt.Sprint(seq)
				if err := tx.PutPerson(p); err != nil {
					return err
				}
				return tx.AppendTicketEvent("BX-20261127-0001", flows.TicketEvent{At: T0, Action: "call", Note: fmt.Sprint(i)})
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i < n && err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if i >= n && !errors.Is(err, errFail) {
			t.Fatalf("failing call %d returned %v, want its error", i, err)
		}
	}
	seen := make([]bool, n+1)
	for i, seq := range got {
		if seq < 1 || seq > n || seen[seq] {
			t.Fatalf("call %d committed sequence number %d (all: %v)", i, seq, got)
		}
		seen[seq] = true
	}
	view(t, s, func(tx flows.Tx) error {
		people, err := tx.PeopleByRole(flows.RoleResident)
		if err != nil {
			return err
		}
		if len(people) != n {
			t.Errorf("%d people committed, want %d: %s", len(people), n, personIDs(people))
		}
		for _, p := range people {
			var i int
			if _, err := fmt.Sscanf(p.ID, "tg:%d", &i); err != nil || p.Name != fmt.Sprint(got[i]) {
				t.Errorf("person %s carries number %s, its call saw %d", p.ID, p.Name, got[i])
			}
		}
		evs, err := tx.TicketEvents("BX-20261127-0001")
		if err != nil {
			return err
		}
		calls := map[string]int{}
		for _, e := range evs {
			calls[e.Note]++
		}
		if len(evs) != n || len(calls) != n {
			t.Errorf("%d events from %d calls, want one from each of %d", len(evs), len(calls), n)
		}
		return nil
	})
	update(t, s, func(tx flows.Tx) error {
		if next, err := tx.NextSeq("batch"); err != nil || next != n+1 {
			t.Errorf("next number after the batch: %d, %v; want %d", next, err, n+1)
		}
		return nil
	})
	t.Logf("%d calls, %d runs of fn", n+failing, runs.Load())
}

// testView: a View cannot write (the write fails, or it is never
// visible), and it reads a snapshot: a commit that lands while the View
// is open is not visible inside it. A store that holds writers back while
// a View is open passes too (the check is then made after the View).
func testView(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	t.Run("read only", func(t *testing.T) {
		writes := map[string]func(tx flows.Tx) error{
			"PutPerson":         func(tx flows.Tx) error { return tx.PutPerson(person("tg:9", flows.RoleLead)) },
			"MarkSeen":          func(tx flows.Tx) error { return tx.MarkSeen("view", T0) },
			"SetCursor":         func(tx flows.Tx) error { return tx.SetCursor("view", "1") },
			"NextSeq":           func(tx flows.Tx) error { _, err := tx.NextSeq("view"); return err },
			"AppendTicketEvent": func(tx flows.Tx) error { return tx.AppendTicketEvent("BX-view", flows.TicketEvent{Action: "x"}) },
			"Enqueue": func(tx flows.Tx) error {
				return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "9"}, Kind: flows.KindSend, Text: "view"})
			},
		}
		for name, w := range writes {
			var werr error
			_ = s.View(t.Context(), func(tx flows.Tx) error { werr = w(tx); return nil })
			t.Logf("%s in a View: %v", name, werr)
		}
		view(t, s, func(tx flows.Tx) error {
			if _, err := tx.Person("tg:9"); !errors.Is(err, flows.ErrNotFound) {
				t.Error("PutPerson in a View was committed")
			}
			if seen, _ := tx.Seen("view"); seen {
				t.Error("MarkSeen in a View was committed")
			}
			if v, _ := tx.Cursor("view"); v != "" {
				t.Error("SetCursor in a View was committed")
			}
			if evs, _ := tx.TicketEvents("BX-view"); len(evs) != 0 {
				t.Error("AppendTicketEvent in a View was committed")
			}
			return nil
		})
		update(t, s, func(tx flows.Tx) error {
			if n, _ := tx.NextSeq("view"); n != 1 {
				t.Errorf("NextSeq in a View was committed: next is %d", n)
			}
			return nil
		})
		if o.Queue != nil {
			if rows, _ := o.Queue.Pending(0); len(rows) != 0 {
				t.Errorf("Enqueue in a View was committed: %d rows", len(rows))
			}
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		// Grow the store and free the space again first, so the write
		// below has room without remapping (bbolt remaps a growing file
		// only when no read transaction is open).
		big := strings.Repeat("x", 4000)
		update(t, s, func(tx flows.Tx) error {
			for i := 0; i < 500; i++ {
				if err := tx.PutDialogue(&flows.Dialogue{PersonID: fmt.Sprintf("warm:%d", i), Description: big}); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, s, func(tx flows.Tx) error {
			for i := 0; i < 500; i++ {
				if err := tx.DeleteDialogue(fmt.Sprintf("warm:%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		v1 := person("tg:7", flows.RoleTechnician)
		update(t, s, func(tx flows.Tx) error { return tx.PutPerson(v1) })
		update(t, s, func(tx flows.Tx) error { return tx.SetCursor("warm", "done") })

		v2 := person("tg:7", flows.RoleTechnician)
		v2.Name = "v2"
		done := make(chan error, 1)
		var landed bool
		view(t, s, func(tx flows.Tx) error {
			if p, err := tx.Person("tg:7"); err != nil || p.Name != v1.Name {
				t.Fatalf("before: %+v %v", p, err)
			}
			go func() {
				done <- s.Update(context.Background(), func(tx flows.Tx) error {
					return errors.Join(tx.PutPerson(v2), tx.PutPerson(person("tg:8", flows.RoleTechnician)), tx.MarkSeen("snap", T0))
				})
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("concurrent update: %v", err)
				}
				landed = true
			case <-time.After(2 * time.Second):
				t.Log("the store holds writers back while a View is open; the snapshot is trivially kept")
			}
			p, err := tx.Person("tg:7")
			if err != nil || p.Name != v1.Name {
				t.Errorf("a View saw a later commit: %+v %v", p, err)
			}
			if _, err := tx.Person("tg:8"); !errors.Is(err, flows.ErrNotFound) {
				t.Errorf("a View saw a person committed after it began: %v", err)
			}
			if seen, _ := tx.Seen("snap"); seen {
				t.Error("a View saw a dedupe mark committed after it began")
			}
			techs, _ := tx.PeopleByRole(flows.RoleTechnician)
			wantIDs(t, "technicians inside the View", personIDs(techs), "tg:7")
			return nil
		})
		if !landed {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		wantSame(t, "after the View", read(t, s, func(tx flows.Tx) (*flows.Person, error) { return tx.Person("tg:7") }), v2)
	})
}

// testCanceled: Update, Batch and View on a canceled context return an
// error matching ctx.Err() and commit nothing.
func testCanceled(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	put := func(id string) func(tx flows.Tx) error {
		return func(tx flows.Tx) error { return tx.PutPerson(person(id, flows.RoleLead)) }
	}
	for name, err := range map[string]error{
		"Update": s.Update(ctx, put("tg:1")),
		"Batch":  s.Batch(ctx, put("tg:2")),
		"View":   s.View(ctx, func(flows.Tx) error { return nil }),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s on a canceled context: %v", name, err)
		}
	}
	wantIDs(t, "leads", personIDs(read(t, s, func(tx flows.Tx) ([]*flows.Person, error) { return tx.PeopleByRole(flows.RoleLead) })), "")
}

// testReopen: everything committed survives a close and an open, and the
// sequences continue where they were: the next ticket number, NextSeq,
// an event's Seq and the outbox ids never repeat one handed out before.
func testReopen(t *testing.T, open Open) {
	o, clock := fresh(t, open)
	if o.Reopen == nil {
		t.Skip("the constructor gives no Reopen")
	}
	w := newWorld()
	w.seed(t, o.Store)
	var lastID uint64
	if o.Queue != nil {
		lastID = w.seedOutbox(t, o, clock)
	}
	w.check(t, o.Store)
	for i := 0; i < 2; i++ {
		o = o.Reopen(t)
		w.check(t, o.Store)
		if o.Queue != nil {
			w.checkOutbox(t, o.Queue)
		}
	}
	update(t, o.Store, func(tx flows.Tx) error {
		if n, err := tx.NextTicketSeq("20261127"); err != nil || n != 3 {
			t.Errorf("ticket number after reopening: %d, %v; want 3", n, err)
		}
		if n, err := tx.NextSeq("review"); err != nil || n != 2 {
			t.Errorf("sequence after reopening: %d, %v; want 2", n, err)
		}
		if err := tx.AppendTicketEvent("BX-20261127-0001", flows.TicketEvent{At: T0, Action: "after"}); err != nil {
			return err
		}
		if o.Queue != nil {
			return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "1"}, Kind: flows.KindSend, Text: "after"})
		}
		return nil
	})
	evs := read(t, o.Store, func(tx flows.Tx) ([]flows.TicketEvent, error) { return tx.TicketEvents("BX-20261127-0001") })
	if last := evs[len(evs)-1]; last.Action != "after" || last.Seq != len(evs) {
		t.Errorf("event appended after reopening: %+v of %d", last, len(evs))
	}
	if o.Queue != nil {
		rows, err := o.Queue.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		if r := rows[len(rows)-1]; r.Msg.Text != "after" || r.ID <= lastID {
			t.Errorf("row enqueued after reopening has id %d, the last before was %d", r.ID, lastID)
		}
	}
}

// world is a store's worth of records in every area, for the reopen test.
type world struct {
	p1, p2  *flows.Person
	t1, t2  *flows.Ticket
	d       *flows.Dialogue
	inv     *flows.Invite
	h       *flows.Handover
	dl      *flows.DailyList
	r       *flows.Review
	tm      flows.Timer
	ov      flows.DutyOverride
	sv      flows.SOPVersion
	ack     flows.Ack
	c       flows.Complaint
	sg      flows.Suggestion
	ev      flows.TicketEvent
	outbox  []Row
	carded  CardRef
	failed  []Row
	deliver []Row
}

func newWorld() *world {
	w := &world{}
	w.p1, w.p2 = person("tg:1", flows.RoleResident), person("tg:2", flows.RoleTechnician)
	w.t1 = ticket("BX-20261127-0001", "tg:1", T0, flows.StateAccepted)
	w.t1.AssigneeID = "tg:2"
	w.t2 = ticket("BX-20261127-0002", "tg:1", T0.Add(time.Minute), flows.StateClosed)
	w.d = &flows.Dialogue{PersonID: "tg:1", Kind: "report", Step: "desc", Category: "water", Seq: 3}
	w.inv = &flows.Invite{Code: "K7Q2", Role: flows.RoleLead, Created: T0, Expires: T0.Add(time.Hour)}
	w.h = &flows.Handover{Day: "20261127", TechID: "tg:2", Status: "submitted", Tickets: []string{w.t1.ID}}
	w.dl = &flows.DailyList{Day: "20261127", Archived: T0, Missing: []string{"tg:9"}}
	w.r = &flows.Review{ID: "R-1", Trigger: "yearly", Opened: T0, Status: "open"}
	w.tm = flows.Timer{Key: "sla:BX-20261127-0001:1", Due: T0.Add(15 * time.Minute), Kind: "sla", Ticket: w.t1.ID, Rung: 1}
	w.ov = flows.DutyOverride{PersonID: "tg:2", Until: T0.Add(time.Hour), By: "tg:1"}
	w.sv = flows.SOPVersion{Number: 1, Label: "v1", Hash: "h", Created: T0}
	w.ack = flows.Ack{Version: 1, PersonID: "tg:2", At: T0, Quiz: 3}
	w.c = flows.Complaint{TicketID: w.t2.ID, At: T0, Score: 1, By: "tg:1"}
	w.sg = flows.Suggestion{By: "tg:2", At: T0, Text: "more gloves"}
	w.ev = flows.TicketEvent{Seq: 1, At: T0, Actor: "tg:1", Action: "reported", To: flows.StateNew}
	return w
}

func (w *world) seed(tb testing.TB, s flows.Store) {
	tb.Helper()
	update(tb, s, func(tx flows.Tx) error {
		_, e1 := tx.NextTicketSeq("20261127")
		_, e2 := tx.NextTicketSeq("20261127")
		_, e3 := tx.NextSeq("review")
		return errors.Join(e1, e2, e3, tx.MarkSeen("tg:u:7", T0), tx.SetCursor("tg.offset", "8"),
			tx.PutPerson(w.p1), tx.PutPerson(w.p2), tx.PutTicket(w.t1), tx.PutTicket(w.t2),
			tx.AppendTicketEvent(w.t1.ID, w.ev), tx.PutDialogue(w.d), tx.PutInvite(w.inv), tx.PutHandover(w.h),
			tx.PutDailyList(w.dl), tx.PutReview(w.r), tx.PutTimer(w.tm), tx.PutDutyOverride(w.ov), tx.PutSOPVersion(w.sv),
			tx.PutAck(w.ack), tx.AddComplaint(w.c), tx.AddPendingSuggestion(w.sg))
	})
}

func (w *world) check(tb testing.TB, s flows.Store) {
	tb.Helper()
	view(tb, s, func(tx flows.Tx) error {
		if seen, err := tx.Seen("tg:u:7"); err != nil || !seen {
			tb.Errorf("dedupe mark: %v %v", seen, err)
		}
		if v, err := tx.Cursor("tg.offset"); err != nil || v != "8" {
			tb.Errorf("cursor: %q %v", v, err)
		}
		get := func(what string, got any, err error, want any) {
			tb.Helper()
			if err != nil {
				tb.Errorf("%s: %v", what, err)
				return
			}
			wantSame(tb, what, got, want)
		}
		p, err := tx.Person("tg:1")
		get("person", p, err, w.p1)
		techs, err := tx.PeopleByRole(flows.RoleTechnician)
		get("technicians", techs, err, []*flows.Person{w.p2})
		tk, err := tx.Ticket(w.t2.ID)
		get("ticket", tk, err, w.t2)
		open, err := tx.OpenTickets()
		get("open tickets", open, err, []*flows.Ticket{w.t1})
		jobs, err := tx.TicketsByAssignee("tg:2")
		get("jobs", jobs, err, []*flows.Ticket{w.t1})
		mine, err := tx.TicketsByResident("tg:1", 0)
		get("resident's tickets", mine, err, []*flows.Ticket{w.t2, w.t1})
		var touched []*flows.Ticket
		err = tx.EachTicketTouched(T0, T0.Add(time.Hour), func(t *flows.Ticket) error { touched = append(touched, t); return nil })
		get("touched", touched, err, []*flows.Ticket{w.t1, w.t2})
		evs, err := tx.TicketEvents(w.t1.ID)
		if len(evs) > 1 {
			evs = evs[:1] // the reopen test appends one more at the end
		}
		get("events", evs, err, []flows.TicketEvent{w.ev})
		d, err := tx.Dialogue("tg:1")
		get("dialogue", d, err, w.d)
		inv, err := tx.Invite(w.inv.Code)
		get("invite", inv, err, w.inv)
		h, err := tx.Handover(w.h.Day, w.h.TechID)
		get("handover", h, err, w.h)
		hs, err := tx.Handovers(w.h.Day)
		get("handovers", hs, err, []*flows.Handover{w.h})
		dl, err := tx.DailyList(w.dl.Day)
		get("daily list", dl, err, w.dl)
		r, err := tx.Review(w.r.ID)
		get("review", r, err, w.r)
		rs, err := tx.Reviews()
		get("reviews", rs, err, []*flows.Review{w.r})
		due, err := tx.DueTimers(T0.Add(time.Hour), 0)
		get("timers", due, err, []flows.Timer{w.tm})
		ovs, err := tx.DutyOverrides()
		get("overrides", ovs, err, []flows.DutyOverride{w.ov})
		svs, err := tx.SOPVersions()
		get("versions", svs, err, []flows.SOPVersion{w.sv})
		acks, err := tx.Acks(1)
		get("acks", acks, err, []flows.Ack{w.ack})
		cs, err := tx.Complaints()
		get("complaints", cs, err, []flows.Complaint{w.c})
		sgs, err := tx.PendingSuggestions()
		get("suggestions", sgs, err, []flows.Suggestion{w.sg})
		return nil
	})
}
