//go:build postgres

package postgres_test

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
	"github.com/repairbot/repairbot/internal/pgtest"
	"github.com/repairbot/repairbot/store/postgres"
)

var errFail = errors.New("fn failed on purpose")

// writeAll writes one of everything a handler writes, so a rollback test
// sees whether any of it survived.
func writeAll(tx flows.Tx, key string) error {
	n, err := tx.NextTicketSeq("20261127")
	if err != nil {
		return err
	}
	id := fmt.Sprintf("BX-20261127-%04d", n)
	for _, err := range []error{
		tx.MarkSeen(key, t0),
		tx.SetCursor("tg.offset", key),
		tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, ResidentID: "tg:5", Created: t0, Updated: t0}),
		tx.AppendTicketEvent(id, flows.TicketEvent{At: t0, Action: "reported"}),
		tx.PutTimer(flows.Timer{Key: "accept:" + id, Due: t0, Kind: "accept", Ticket: id}),
		tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "5"}, Kind: flows.KindSend, Text: id}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestUpdateRollsBack(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		if err := writeAll(tx, "tg:u:1"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errFail)
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	for _, table := range []string{"tickets", "ticket_touches", "ticket_events", "seen", "cursors", "timers", "outbox", "counters"} {
		if n := count(t, s, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after a rollback", table, n)
		}
	}
	// The rolled back number is not used up.
	update(t, s, func(tx flows.Tx) error { return writeAll(tx, "tg:u:2") })
	view(t, s, func(tx flows.Tx) error {
		_, err := tx.Ticket("BX-20261127-0001")
		return err
	})
}

// TestUpdatePanic: a panicking fn panics Update's caller, commits nothing,
// and leaves the connection usable.
func TestUpdatePanic(t *testing.T) {
	s := MustOpen(t, postgres.Options{MaxConns: 1})
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want boom", p)
			}
		}()
		_ = s.Update(context.Background(), func(tx flows.Tx) error {
			if err := writeAll(tx, "tg:u:1"); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	update(t, s, func(tx flows.Tx) error { return tx.MarkSeen("tg:u:2", t0) })
	if n := count(t, s, "SELECT count(*) FROM seen"); n != 1 {
		t.Fatalf("seen rows = %d, want only the second transaction's", n)
	}
}

func TestCanceledContext(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(tx flows.Tx) error { ran = true; return tx.MarkSeen("k", t0) }
	for name, run := range map[string]func(context.Context, func(flows.Tx) error) error{"Update": s.Update, "Batch": s.Batch, "View": s.View} {
		if err := run(ctx, fn); !errors.Is(err, context.Canceled) {
			t.Errorf("%s on a canceled context returned %v", name, err)
		}
	}
	if ran || count(t, s, "SELECT count(*) FROM seen") != 0 {
		t.Fatal("a canceled call ran or committed")
	}
}

// TestViewSnapshotReadOnly: a View sees one snapshot while writers commit
// around it, and cannot write.
func TestViewSnapshotReadOnly(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	update(t, s, func(tx flows.Tx) error { return tx.SetCursor("c", "1") })
	view(t, s, func(tx flows.Tx) error {
		before, err := tx.Cursor("c")
		if err != nil {
			return err
		}
		update(t, s, func(tx flows.Tx) error { return tx.SetCursor("c", "2") })
		after, err := tx.Cursor("c")
		if err != nil {
			return err
		}
		if before != "1" || after != "1" {
			t.Errorf("view read %q then %q, want its snapshot's 1 twice", before, after)
		}
		if err := tx.SetCursor("c", "3"); err == nil {
			t.Error("a View wrote")
		}
		return nil
	})
	view(t, s, func(tx flows.Tx) error {
		if v, _ := tx.Cursor("c"); v != "2" {
			t.Errorf("cursor = %q, want 2", v)
		}
		return nil
	})
}

// TestConcurrentAccept: two technicians accept one card at the same
// moment. Both transactions read "new" before either writes; SERIALIZABLE
// fails one, which runs again, sees the ticket taken and answers so.
func TestConcurrentAccept(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	const id = "BX-20261127-0001"
	update(t, s, func(tx flows.Tx) error {
		return tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, ResidentID: "tg:5", Created: t0, Updated: t0})
	})
	errTaken := errors.New("taken")
	var read sync.WaitGroup
	read.Add(2)
	var firstRuns atomic.Int32
	accept := func(tech string) error {
		return s.Update(context.Background(), func(tx flows.Tx) error {
			tk, err := tx.Ticket(id)
			if err != nil {
				return err
			}
			if firstRuns.Add(1) <= 2 {
				read.Done()
				read.Wait() // both have read the ticket as new
			}
			if tk.State != flows.StateNew {
				return errTaken
			}
			tk.State, tk.AssigneeID, tk.Updated = flows.StateAccepted, tech, t0.Add(time.Minute)
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			return tx.AppendTicketEvent(id, flows.TicketEvent{At: tk.Updated, Actor: tech, Action: "accepted"})
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, tech := range []string{"tg:10", "tg:20"} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = accept(tech) }()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errTaken):
			t.Fatalf("accept: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d technicians won the card (errors %v), want exactly 1", won, errs)
	}
	view(t, s, func(tx flows.Tx) error {
		evs, err := tx.TicketEvents(id)
		if len(evs) != 1 || evs[0].Seq != 1 {
			t.Errorf("audit trail %+v, want one acceptance", evs)
		}
		return err
	})
	if st := s.Stats(); st.Retries == 0 {
		t.Errorf("no transaction was retried: %+v", st)
	}
}

// TestNextTicketSeqUnderContention: many concurrent Updates (each its own
// transaction, on their own connections) number tickets of one day: the
// numbers are 1..N, each once, and each ticket is stored under its number.
func TestNextTicketSeqUnderContention(t *testing.T) {
	s := MustOpen(t, postgres.Options{MaxConns: 8, MaxRetries: 1000})
	const workers, each = 8, 25
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var n int
				err := s.Update(context.Background(), func(tx flows.Tx) error {
					var err error
					if n, err = tx.NextTicketSeq("20261127"); err != nil {
						return err
					}
					id := fmt.Sprintf("BX-20261127-%04d", n)
					return tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, ResidentID: fmt.Sprint("tg:", w), Created: t0, Updated: t0})
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[n]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for n := 1; n <= workers*each; n++ {
		if got[n] != 1 {
			t.Errorf("number %d handed out %d times", n, got[n])
		}
	}
	if len(got) != workers*each {
		t.Errorf("%d distinct numbers, want %d", len(got), workers*each)
	}
	if n := count(t, s, "SELECT count(*) FROM tickets"); n != workers*each {
		t.Errorf("%d tickets stored, want %d", n, workers*each)
	}
	t.Logf("stats %+v", s.Stats())
}

// TestBatch: concurrent Batch calls share transactions; a call whose fn
// fails or panics commits nothing and gets its error or panic back, and
// does not stop the others, whose effects are committed exactly once.
func TestBatch(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	const workers, each = 32, 20
	type outcome struct {
		key   string
		err   error
		panic any
	}
	results := make(chan outcome, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("tg:u:%d:%d", w, i)
				o := outcome{key: key}
				func() {
					defer func() { o.panic = recover() }()
					o.err = s.Batch(context.Background(), func(tx flows.Tx) error {
						if err := writeAll(tx, key); err != nil {
							return err
						}
						switch (w*each + i) % 11 {
						case 3:
							return errFail
						case 7:
							panic("boom " + key)
						}
						return nil
					})
				}()
				results <- o
			}
		}()
	}
	wg.Wait()
	close(results)
	var committed []string
	for o := range results {
		var w, i int
		if _, err := fmt.Sscanf(o.key, "tg:u:%d:%d", &w, &i); err != nil {
			t.Fatal(err)
		}
		n := (w*each + i) % 11
		seen := count(t, s, "SELECT count(*) FROM seen WHERE key = $1", o.key)
		switch n {
		case 3:
			if !errors.Is(o.err, errFail) || o.panic != nil || seen != 0 {
				t.Errorf("%s: failing call returned %v (panic %v), committed %d", o.key, o.err, o.panic, seen)
			}
		case 7:
			if o.panic != "boom "+o.key || seen != 0 {
				t.Errorf("%s: panicking call: panic %v, committed %d", o.key, o.panic, seen)
			}
		default:
			if o.err != nil || o.panic != nil || seen != 1 {
				t.Errorf("%s: returned %v (panic %v), committed %d", o.key, o.err, o.panic, seen)
			}
			committed = append(committed, o.key)
		}
	}
	ok := len(committed)
	for table, want := range map[string]int{"tickets": ok, "ticket_events": ok, "timers": ok, "outbox": ok, "seen": ok} {
		if n := count(t, s, "SELECT count(*) FROM "+table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	// Ticket numbers: 1..ok without a gap (failed calls rolled theirs back).
	if n := count(t, s, "SELECT n FROM counters WHERE name = 'ticket:20261127'"); n != ok {
		t.Errorf("counter at %d, want %d", n, ok)
	}
	if n := count(t, s, "SELECT count(*) FROM tickets WHERE id = ANY(SELECT format('BX-20261127-%s', lpad(g::text, 4, '0')) FROM generate_series(1, $1) g)", ok); n != ok {
		t.Errorf("%d of tickets 1..%d exist", n, ok)
	}
	st := s.Stats()
	if st.Batches == 0 || st.BatchCalls <= st.Batches {
		t.Errorf("no call shared a transaction: %+v", st)
	}
	t.Logf("stats %+v", st)
}

// TestBatchAndUpdateContend: Batch calls and Updates write the same row
// (the day's counter) at once; every call gets its own number.
func TestBatchAndUpdateContend(t *testing.T) {
	s := MustOpen(t, postgres.Options{MaxRetries: 1000})
	const workers, each = 8, 20
	var mu sync.Mutex
	nums := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := s.Batch
			if w%2 == 0 {
				run = s.Update
			}
			for i := 0; i < each; i++ {
				var n int
				if err := run(context.Background(), func(tx flows.Tx) (err error) {
					n, err = tx.NextSeq("review")
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				nums[n]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for n := 1; n <= workers*each; n++ {
		if nums[n] != 1 {
			t.Errorf("number %d handed out %d times", n, nums[n])
		}
	}
	t.Logf("stats %+v", s.Stats())
}

// TestBatchLanesUnderConflict: batches running side by side that all write
// one row (the day's ticket counter) lose conflicts to each other and run
// again; every call commits once, with its own number.
func TestBatchLanesUnderConflict(t *testing.T) {
	s := MustOpen(t, postgres.Options{BatchLanes: 3, MaxBatch: 8})
	const workers, each = 48, 10
	var mu sync.Mutex
	nums := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var n int
				err := s.Batch(context.Background(), func(tx flows.Tx) error {
					var err error
					if n, err = tx.NextTicketSeq("20261127"); err != nil {
						return err
					}
					id := fmt.Sprintf("BX-20261127-%04d", n)
					return errors.Join(tx.MarkSeen(fmt.Sprint("k:", w, ":", i), t0),
						tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, ResidentID: fmt.Sprint("tg:", w), Created: t0, Updated: t0}))
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				nums[n]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for n := 1; n <= workers*each; n++ {
		if nums[n] != 1 {
			t.Fatalf("number %d handed out %d times", n, nums[n])
		}
	}
	if got := count(t, s, "SELECT count(*) FROM tickets"); got != workers*each {
		t.Fatalf("%d tickets, want %d", got, workers*each)
	}
	t.Logf("stats %+v", s.Stats())
}

// TestEachTicketTouched: more tickets than a page, touched in an order
// unlike their ids, some several times: each is handed out once, in the
// order of its first change within the range; fn may use the transaction;
// its error stops the walk.
func TestEachTicketTouched(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	const n = 1200
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	id := func(i int) string { return fmt.Sprintf("BX-20261127-%04d", i) }
	// Ticket i is created at second (n-i): the newest id changed first.
	update(t, s, func(tx flows.Tx) error {
		for i := 1; i <= n; i++ {
			if err := tx.PutTicket(&flows.Ticket{ID: id(i), State: flows.StateNew, Created: at(n - i), Updated: at(n - i)}); err != nil {
				return err
			}
		}
		// Every third ticket changes again later, after all creations.
		for i := 3; i <= n; i += 3 {
			tk := &flows.Ticket{ID: id(i), State: flows.StateAccepted, Created: at(n - i), Updated: at(n + i)}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			if err := tx.AppendTicketEvent(id(i), flows.TicketEvent{At: tk.Updated, Action: "accepted"}); err != nil {
				return err
			}
		}
		return nil
	})
	walk := func(from, to time.Time) []string {
		var out []string
		view(t, s, func(tx flows.Tx) error {
			return tx.EachTicketTouched(from, to, func(tk *flows.Ticket) error {
				evs, err := tx.TicketEvents(tk.ID) // the transaction is usable mid-walk
				if err != nil {
					return err
				}
				if (tk.State == flows.StateAccepted) != (len(evs) == 1) {
					return fmt.Errorf("%s: state %s with %d events", tk.ID, tk.State, len(evs))
				}
				out = append(out, tk.ID)
				return nil
			})
		})
		return out
	}
	all := walk(t0, at(3*n))
	if len(all) != n {
		t.Fatalf("walked %d tickets, want %d", len(all), n)
	}
	for k, got := range all {
		if want := id(n - k); got != want {
			t.Fatalf("ticket %d of the walk is %s, want %s (the order of first change)", k, got, want)
		}
	}
	// Only the later changes: every third ticket, in the order of those changes.
	later := walk(at(n+1), at(3*n))
	if len(later) != n/3 || later[0] != id(3) || later[len(later)-1] != id(n) {
		t.Fatalf("later changes: %d tickets, %v ... %v", len(later), later[:1], later[len(later)-1:])
	}
	stop := errors.New("stop")
	calls := 0
	view(t, s, func(tx flows.Tx) error {
		err := tx.EachTicketTouched(t0, at(3*n), func(*flows.Ticket) error {
			if calls++; calls == 700 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("walk returned %v, want fn's error", err)
		}
		return nil
	})
	if calls != 700 {
		t.Errorf("fn called %d times after returning an error on the 700th", calls)
	}
}

// TestUnstorableCharacters: PostgreSQL's text holds neither NUL nor
// invalid UTF-8; a record or key carrying them is stored (as U+FFFD), not
// refused, so one odd character cannot fail a whole batch of events.
func TestUnstorableCharacters(t *testing.T) {
	s := MustOpen(t, postgres.Options{Now: func() time.Time { return t0 }})
	badID := "tg:\xff\x00x"
	desc := "leak\x00 under \\u0000 the sink"
	update(t, s, func(tx flows.Tx) error {
		if err := tx.PutPerson(&flows.Person{ID: badID, Role: flows.RoleResident, Name: "a\x00b"}); err != nil {
			return err
		}
		if err := tx.PutTicket(&flows.Ticket{ID: "BX-1", State: flows.StateNew, ResidentID: badID, Description: desc, Created: t0, Updated: t0}); err != nil {
			return err
		}
		return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "5"}, Kind: flows.KindSend, Text: desc})
	})
	view(t, s, func(tx flows.Tx) error {
		p, err := tx.Person(badID)
		if err != nil {
			return err
		}
		if p.Name != "a\uFFFDb" {
			t.Errorf("name %q", p.Name)
		}
		tk, err := tx.Ticket("BX-1")
		if err != nil {
			return err
		}
		if want := "leak\uFFFD under \\u0000 the sink"; tk.Description != want {
			t.Errorf("description %q, want %q", tk.Description, want)
		}
		mine, err := tx.TicketsByResident(badID, 0)
		if len(mine) != 1 {
			t.Errorf("by resident: %d tickets", len(mine))
		}
		return err
	})
	var msg string
	if err := s.Pool().QueryRow(context.Background(), "SELECT msg->>'text' FROM outbox").Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if msg != "leak\uFFFD under \\u0000 the sink" {
		t.Errorf("outbox text %q", msg)
	}
}

// TestEnqueueOrder: rows of one transaction get increasing ids in the
// order given, with their address and the store's clock.
func TestEnqueueOrder(t *testing.T) {
	s := MustOpen(t, postgres.Options{Now: func() time.Time { return t0 }})
	notified := s.Subscribe()
	update(t, s, func(tx flows.Tx) error {
		var msgs []flows.Message
		for i := 0; i < 5; i++ {
			msgs = append(msgs, flows.Message{To: flows.Address{Channel: "tg", Chat: fmt.Sprint(i % 2)}, Kind: flows.KindSend, Text: fmt.Sprint(i), Priority: flows.Priority(i)})
		}
		if err := tx.Enqueue(msgs[:2]...); err != nil {
			return err
		}
		return tx.Enqueue(msgs[2:]...)
	})
	select {
	case <-notified:
	default:
		t.Error("no notification after a commit with outbox rows")
	}
	rows, err := s.Pool().Query(context.Background(), "SELECT chat, prio, created, msg->>'text', status FROM outbox ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var chat, text, status string
		var prio int
		var created time.Time
		if err := rows.Scan(&chat, &prio, &created, &text, &status); err != nil {
			t.Fatal(err)
		}
		if !created.Equal(t0) {
			t.Errorf("created %v", created)
		}
		got = append(got, fmt.Sprintf("%s/%d/%s/%s", chat, prio, text, status))
	}
	if want := "tg:0/0/0/pending tg:1/1/1/pending tg:0/2/2/pending tg:1/3/3/pending tg:0/4/4/pending"; strings.Join(got, " ") != want {
		t.Errorf("outbox\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

// TestReopenContinues: committed state and every sequence survive closing
// and opening the database again.
func TestReopenContinues(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := mustOpenDSN(t, dsn, postgres.Options{})
	update(t, s, func(tx flows.Tx) error { return writeAll(tx, "tg:u:1") })
	s.Close()
	s = mustOpenDSN(t, dsn, postgres.Options{})
	var got []int
	update(t, s, func(tx flows.Tx) error {
		n, err := tx.NextTicketSeq("20261127")
		got = append(got, n)
		if err := tx.AppendTicketEvent("BX-20261127-0001", flows.TicketEvent{Action: "again"}); err != nil {
			return err
		}
		evs, err2 := tx.TicketEvents("BX-20261127-0001")
		got = append(got, len(evs), evs[len(evs)-1].Seq)
		return errors.Join(err, err2)
	})
	if fmt.Sprint(got) != "[2 2 2]" {
		t.Errorf("after reopening: next number, events, last seq = %v, want [2 2 2]", got)
	}
}

// TestOpenMigrations: the schema is created once; replicas opening a new
// database together all succeed; a database from a newer program, or with
// a step that did not finish, is refused with a clear message.
func TestOpenMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	s := mustOpenDSN(t, dsn, postgres.Options{})
	if s.Schema() < 1 {
		t.Fatalf("schema %d", s.Schema())
	}
	if n := count(t, s, "SELECT count(*) FROM "+postgres.MigrationsTable); n != 1 {
		t.Fatalf("%d version rows", n)
	}
	for _, c := range []struct {
		name, set, want string
	}{
		{"newer", "UPDATE schema_migrations SET version = 999", "newer than this program"},
		{"dirty", "UPDATE schema_migrations SET version = 1, dirty = true", "did not finish"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Pool().Exec(context.Background(), c.set); err != nil {
				t.Fatal(err)
			}
			_, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open returned %v, want %q", err, c.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	// A real serialization failure from the server, and errors that are not.
	_, err := s.Pool().Exec(context.Background(), `DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$`)
	if !postgres.Retryable(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("40001 %v is not retryable", err)
	}
	_, err = s.Pool().Exec(context.Background(), `SELECT 1/0`)
	for _, e := range []error{err, errFail, context.Canceled, nil} {
		if postgres.Retryable(e) {
			t.Errorf("%v is retryable", e)
		}
	}
}
