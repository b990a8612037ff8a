package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/pgtest"
)

var n0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func openTest(tb testing.TB, dsn string, o Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestNumbersQueueAcrossReplicas: while one replica's transaction holds the
// day's counter (it drew a number and has not committed), another
// replica's transaction that numbers a ticket waits for it, before its own
// snapshot, and gets the next number: it does not run beside it only to
// lose its serialization at the end (a retry), and no number is skipped.
func TestNumbersQueueAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openTest(t, dsn, Options{}), openTest(t, dsn, Options{})
	drawn, release := make(chan int), make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.Update(context.Background(), func(tx flows.Tx) error {
			n, err := tx.NextTicketSeq("20261127")
			if err != nil {
				return err
			}
			drawn <- n
			<-release
			return tx.PutTicket(&flows.Ticket{ID: fmt.Sprintf("A-%d", n), State: flows.StateNew, Created: n0, Updated: n0})
		})
	}()
	first := <-drawn
	var second int
	bDone := make(chan error, 1)
	go func() {
		bDone <- b.Update(context.Background(), func(tx flows.Tx) error {
			var err error
			if second, err = tx.NextTicketSeq("20261127"); err != nil {
				return err
			}
			return tx.PutTicket(&flows.Ticket{ID: fmt.Sprintf("B-%d", second), State: flows.StateNew, Created: n0, Updated: n0})
		})
	}()
	select {
	case err := <-bDone:
		t.Fatalf("the second replica numbered a ticket while the first held the counter: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if first != 1 || second != 2 {
		t.Errorf("numbers %d and %d, want 1 and 2", first, second)
	}
	if st := b.TxStats(); st.Retries != 0 {
		t.Errorf("the waiting replica lost %d conflicts: it ran beside the holder instead of after it", st.Retries)
	}
	if b.numbering.Load() <= 0 {
		t.Error("after drawing a number the replica does not take the numbers lock up front")
	}
	// The next transaction takes it up front and numbers at once.
	if err := b.Update(context.Background(), func(ftx flows.Tx) error {
		n, err := ftx.NextTicketSeq("20261127")
		if err == nil && n != 3 {
			err = fmt.Errorf("number %d, want 3", n)
		}
		if !ftx.(*tx).numbers {
			err = errors.Join(err, errors.New("the numbers lock was not taken before the transaction began"))
		}
		return err
	}); err != nil {
		t.Error(err)
	}
}

// TestCountersWrittenAtCommit: numbers drawn after the first in one
// transaction are counted in it and the row is written once, at the
// commit, with the last; a transaction that fails leaves it as it was.
func TestCountersWrittenAtCommit(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{})
	draw := func(k int, fail bool) error {
		return s.Update(context.Background(), func(tx flows.Tx) error {
			for i := 0; i < k; i++ {
				if _, err := tx.NextSeq("r"); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("fail")
			}
			return nil
		})
	}
	stored := func() (n int64) {
		if err := s.pool.QueryRow(context.Background(), `SELECT n FROM counters WHERE name = 'seq:r'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := draw(5, false); err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 5 {
		t.Fatalf("counter %d after five numbers, want 5", n)
	}
	if err := draw(3, true); err == nil {
		t.Fatal("the failing transaction succeeded")
	}
	if n := stored(); n != 5 {
		t.Fatalf("counter %d after a rolled-back transaction, want 5", n)
	}
	var got int
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		var err error
		got, err = tx.NextSeq("r")
		return err
	}); err != nil || got != 6 {
		t.Fatalf("next number %d (%v), want 6", got, err)
	}
}

// TestTicketStoredTwiceInOneCall: a ticket stored twice by one call (the
// engine does when its card changes after it was saved) keeps the last
// values and one touch per second; a later call of the same batch that
// stores it again and fails leaves the earlier call's values.
func TestTicketStoredTwiceInOneCall(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{BatchLanes: 1})
	ticket := func(st flows.State, assignee string, at time.Time) *flows.Ticket {
		return &flows.Ticket{ID: "R-1", State: st, ResidentID: "tg:5", AssigneeID: assignee, Created: n0, Updated: at}
	}
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return errors.Join(tx.PutTicket(ticket(flows.StateNew, "", n0)), tx.PutTicket(ticket(flows.StateAccepted, "tg:9", n0)))
	}); err != nil {
		t.Fatal(err)
	}
	check := func(wantState flows.State, wantAssignee string, touches int) {
		t.Helper()
		var tk *flows.Ticket
		var mine []*flows.Ticket
		if err := s.View(context.Background(), func(tx flows.Tx) error {
			var err error
			if tk, err = tx.Ticket("R-1"); err != nil {
				return err
			}
			mine, err = tx.TicketsByAssignee("tg:9")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if tk.State != wantState || tk.AssigneeID != wantAssignee {
			t.Errorf("ticket %s by %q, want %s by %q", tk.State, tk.AssigneeID, wantState, wantAssignee)
		}
		if wantOpen := wantAssignee == "tg:9"; (len(mine) == 1) != wantOpen {
			t.Errorf("assignee index lists %d tickets", len(mine))
		}
		var n int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM ticket_touches WHERE ticket_id = 'R-1'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != touches {
			t.Errorf("%d touches, want %d", n, touches)
		}
	}
	check(flows.StateAccepted, "tg:9", 1)

	// Another second: both touches are kept.
	later := n0.Add(2 * time.Second)
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return errors.Join(tx.PutTicket(ticket(flows.StateAccepted, "tg:9", n0.Add(time.Second))), tx.PutTicket(ticket(flows.StateOnSite, "tg:9", later)))
	}); err != nil {
		t.Fatal(err)
	}
	check(flows.StateOnSite, "tg:9", 3)

	// One batch: the first call stores it, the second stores it again
	// (same second) and fails.
	errFail := errors.New("fail")
	errs := inOneBatch(t, s,
		func(tx flows.Tx) error { return tx.PutTicket(ticket(flows.StateDone, "tg:9", later)) },
		func(tx flows.Tx) error {
			if err := tx.PutTicket(ticket(flows.StateNew, "", later)); err != nil {
				return err
			}
			return errFail
		})
	if errs[0] != nil || !errors.Is(errs[1], errFail) {
		t.Fatalf("calls returned %v", errs)
	}
	check(flows.StateDone, "tg:9", 3)
}

// TestUpdateFetchesFirstReads: a transaction that names its first reads
// (flows.WithFirstReads) gets the dedupe check, the sender's profile and
// dialogue in the round trip that begins it; what it reads is what is
// stored, a profile it wrote is read back as written, and an unknown
// sender is not found.
func TestUpdateFetchesFirstReads(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{})
	const who = "tg:5"
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return errors.Join(tx.PutPerson(&flows.Person{ID: who, Role: flows.RoleResident, Name: "Li"}),
			tx.PutDialogue(&flows.Dialogue{PersonID: who, Kind: "report", Step: "desc"}), tx.MarkSeen("u:1", n0))
	}); err != nil {
		t.Fatal(err)
	}
	ctx := flows.WithFirstReads(context.Background(), flows.FirstReads{Seen: "u:1", Sender: who})
	before := s.TxStats().RoundTrips
	if err := s.Update(ctx, func(tx flows.Tx) error {
		seen, err := tx.Seen("u:1")
		if err != nil || !seen {
			return fmt.Errorf("seen %v, %v", seen, err)
		}
		p, err := tx.Person(who)
		if err != nil || p.Name != "Li" {
			return fmt.Errorf("person %+v, %v", p, err)
		}
		d, err := tx.Dialogue(who)
		if err != nil || d.Step != "desc" {
			return fmt.Errorf("dialogue %+v, %v", d, err)
		}
		return tx.MarkSeen("u:2", n0)
	}); err != nil {
		t.Fatal(err)
	}
	if trips := s.TxStats().RoundTrips - before; trips != 2 {
		t.Errorf("%d round trips, want 2 (the reads, then the writes with the commit)", trips)
	}
	if err := s.Update(ctx, func(tx flows.Tx) error {
		if _, err := tx.Seen("u:3"); err != nil {
			return err
		}
		if err := tx.PutPerson(&flows.Person{ID: who, Role: flows.RoleResident, Name: "Wang"}); err != nil {
			return err
		}
		p, err := tx.Person(who)
		if err != nil || p.Name != "Wang" {
			return fmt.Errorf("after a write the profile reads %+v, %v", p, err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	stranger := flows.WithFirstReads(context.Background(), flows.FirstReads{Seen: "u:4", Sender: "tg:404"})
	if err := s.Update(stranger, func(tx flows.Tx) error {
		if seen, err := tx.Seen("u:4"); err != nil || seen {
			return fmt.Errorf("seen %v, %v", seen, err)
		}
		if _, err := tx.Person("tg:404"); !errors.Is(err, flows.ErrNotFound) {
			return fmt.Errorf("a stranger's profile: %v", err)
		}
		if _, err := tx.Dialogue("tg:404"); !errors.Is(err, flows.ErrNotFound) {
			return fmt.Errorf("a stranger's dialogue: %v", err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestBatchFirstReadsSeeEarlierCalls: a batch fetches every call's first
// reads when it begins, yet each call sees what the calls before it in the
// same transaction wrote: the same update delivered twice in one batch is
// handled once, a profile and a dialogue written by one call are what the
// next reads; and with nothing else to read the batch makes one round
// trip besides its commit.
func TestBatchFirstReadsSeeEarlierCalls(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{BatchLanes: 1})
	const who = "tg:7"
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return errors.Join(tx.PutPerson(&flows.Person{ID: who, Role: flows.RoleResident, Name: "Li"}),
			tx.PutDialogue(&flows.Dialogue{PersonID: who, Kind: "report", Step: "desc"}))
	}); err != nil {
		t.Fatal(err)
	}
	reads := flows.FirstReads{Seen: "u:9", Sender: who}
	ctx := flows.WithFirstReads(context.Background(), reads)
	var handled int
	var names, steps []string
	// read reads the sender's profile and dialogue and notes what it read.
	read := func(tx flows.Tx) (*flows.Person, *flows.Dialogue, error) {
		p, err := tx.Person(who)
		if err != nil {
			return nil, nil, err
		}
		d, err := tx.Dialogue(who)
		if err != nil {
			return nil, nil, err
		}
		names, steps = append(names, p.Name), append(steps, d.Step)
		return p, d, nil
	}
	handle := func(tx flows.Tx) error {
		dup, err := tx.Seen(reads.Seen)
		if err != nil || dup {
			return err
		}
		handled++
		if err := tx.MarkSeen(reads.Seen, n0); err != nil {
			return err
		}
		p, d, err := read(tx)
		if err != nil {
			return err
		}
		p.Name, d.Step = p.Name+"+", d.Step+"+"
		return errors.Join(tx.PutPerson(p), tx.PutDialogue(d))
	}
	other := flows.WithFirstReads(context.Background(), flows.FirstReads{Seen: "u:10", Sender: who})
	next := func(tx flows.Tx) error {
		if dup, err := tx.Seen("u:10"); err != nil || dup {
			return fmt.Errorf("seen %v, %v", dup, err)
		}
		_, _, err := read(tx)
		return err
	}
	before := s.TxStats()
	errs := inOneBatchWith(t, s, []context.Context{ctx, ctx, other}, handle, handle, next)
	after := s.TxStats()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if handled != 1 {
		t.Errorf("the update delivered twice in one batch was handled %d times", handled)
	}
	if fmt.Sprint(names, steps) != "[Li Li+] [desc desc+]" {
		t.Errorf("the calls read names %v and steps %v, want [Li Li+] [desc desc+]", names, steps)
	}
	// The batch after the holding call: its prefetch, then the commit.
	if n := after.Batches - before.Batches; n != 2 {
		t.Fatalf("%d batches, want the holder's and ours", n)
	}
	if trips := after.RoundTrips - before.RoundTrips; trips != 2 {
		t.Errorf("%d round trips, want 2: the first reads, then the writes with the commit (the holder's batch reached no server)", trips)
	}
}
