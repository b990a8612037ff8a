// Package storetest is the contract suite every implementation of the
// flows store passes: bbolt (package store) today, PostgreSQL next. An
// implementation's own tests call Run with a constructor:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(tb testing.TB, now func() time.Time) storetest.Opened {
//			path := filepath.Join(tb.TempDir(), "repair.db")
//			...open the store at path, stamping outbox rows with now...
//			return storetest.Opened{Store: s, Queue: s, Reopen: ...}
//		})
//	}
//
// The suite pins what flows and the outbox dispatcher rely on, and only
// that: what bbolt happens to do (key order of ties, the bucket layout,
// second-resolution index keys) is left free, so a server database can
// meet the same contract. The rules, each checked by the subtest named
// after it:
//
// Transactions (txn.go)
//   - Rollback: when fn returns an error, Update commits nothing of what fn
//     did — records, indexes, dedupe marks, cursors, sequence numbers,
//     outbox rows — and returns fn's error (errors.Is).
//   - OwnWrites: a transaction reads its own writes, indexes included.
//   - Batch: Batch is Update shared with concurrent callers; fn may run more
//     than once, so it derives everything from the Tx. Every call that
//     returned nil has its effects committed exactly once (as of its last
//     run); a call whose fn failed commits nothing and gets its error back,
//     and does not stop the others.
//   - View: a View cannot write (the write method fails, or the write is
//     never visible), and it reads a snapshot: nothing committed after it
//     began is visible inside it (bbolt read transactions; REPEATABLE READ
//     READ ONLY on PostgreSQL).
//   - Canceled: Update, Batch and View on a canceled context return an
//     error matching ctx.Err() and commit nothing.
//   - Reopen: everything committed survives Close and Open; sequences
//     (ticket numbers, NextSeq, event Seq, outbox ids) continue where they
//     were.
//
// Records (tx.go)
//   - NotFound: Person, Ticket, Dialogue, Invite, Handover, DailyList and
//     Review return an error matching flows.ErrNotFound for a missing
//     record; lists of nothing are empty without an error; an unset
//     cursor reads "", the events of an unknown ticket are empty.
//   - RoundTrip: every field of every record is read back as written (times
//     as the same instant; nil and empty slices and maps are the same).
//     Put of an existing key replaces the record.
//   - Seen: a key is seen once marked, in the marking transaction and
//     after; keys are independent (no prefix matches).
//   - Cursor: SetCursor replaces; names are independent.
//   - People: PeopleByRole lists the people whose current role is the role,
//     ordered by id; a change of role moves a person between lists.
//   - TicketSeq: NextTicketSeq counts per day from 1 and never repeats;
//     days are independent of each other and of NextSeq.
//   - TicketsByResident: the tickets whose current ResidentID is the
//     person, in any state, newest Created first, at most limit.
//   - TicketsByAssignee: the open tickets whose current AssigneeID is the
//     person, oldest Created first.
//   - OpenTickets: every ticket whose State.Open(), oldest Created first; a
//     ticket leaves when it closes, is cancelled or ends unresolved.
//   - TicketEvents: events are numbered 1, 2, 3... per ticket in append order
//     (the Seq the caller set is ignored) and listed in that order.
//   - Dialogues: one per person; deleting a missing one is not an error.
//   - Invites: read by code; a put replaces (the redemption).
//   - Complaints: listed in the order added.
//   - Timers: PutTimer replaces by key (the old due time is forgotten);
//     deleting a missing timer is not an error; reading does not consume.
//   - DueTimers: the timers due at or before now, earliest due first (to
//     the sub-second), at most limit; none skipped.
//   - EachTicketTouched: a ticket is touched when PutTicket stores it with
//     that Updated time; fn gets each ticket touched in [from, to) once, in
//     the order of its first touch in the range, in its latest version; an
//     error from fn stops the walk and is returned. The engine passes
//     whole-second bounds.
//   - Handovers: one per (day, technician); Handovers(day) lists that day's,
//     ordered by technician id.
//   - DailyLists: one per day.
//   - DutyOverrides: one per person, ordered by person id.
//   - AreaEdits: one per area, ordered by area key.
//   - SOPVersions: one per number, ascending number.
//   - Acks: one per (version, person); Acks(v) lists v's, ordered by person id.
//   - Reviews: newest Opened first.
//   - Suggestions: listed in the order added; a clear empties the list.
//   - NextSeq: per name from 1, never repeating; names are independent.
//   - Console (console.go): links and sessions by hash, a person's
//     sessions ordered by hash, PruneConsole drops what expired before t.
//   - FeeQuestions (fees.go): one per ticket, a put replaces; a missing one
//     is flows.ErrNotFound; OpenFeeQuestions lists those not closed, oldest
//     Asked first, and a closed one leaves the list until reopened.
//
// Records (records.go)
//   - EachTicketReported: fn gets the brief (flows.TicketBrief, as of the
//     ticket's latest PutTicket) of each ticket whose Created is in
//     [from, to), once, oldest Created first to the sub-second; with
//     trails, Trail is the ticket's events folded (flows.FoldTrail) as of
//     the last append, nil for a ticket without events; an error from fn
//     stops the walk and is returned.
//   - TicketsAtPlace: the tickets whose flows.PlaceKey is the place,
//     whoever reported them, newest Created first, at most limit; a ticket
//     whose place changes leaves the old one.
//   - QCReviews: one review per ticket, replaced by a put; OpenQCReviews
//     lists those whose Status is not "done", oldest Created first.
//   - PhoneCallbacks: one line per ticket, an add replaces it; listed
//     oldest Since first; removing a missing line is not an error.
//
// A limit <= 0 means no limit. "Ordered by id" compares ids as bytes
// ("tg:10" before "tg:3"; COLLATE "C" on PostgreSQL). The orders of
// handovers, overrides and acks are pinned although flows does not sort
// them itself, so what it derives (who is paged first, the daily list) is
// the same on every store. Where two records tie on the ordering field
// (two tickets created in the same second), their order is not part of
// the contract.
//
// Spare parts (parts.go): PartsTx — the catalog, the stock ledger and its
// levels, purchases, scraps, stocktakes and low-stock alerts — has its
// rules listed at runParts.
//
// The qualifications area and the weekly duty pattern are RunQuals
// (quals.go); the outbox, the delivery side of the same store, is
// RunOutbox (outbox.go).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Opened is one store under test, as its constructor opened it.
type Opened struct {
	// Store is the store under test.
	Store flows.Store
	// Queue is the same store's outbox delivery side; nil skips the
	// outbox part of the contract.
	Queue Queue
	// Reopen closes the store and opens the same data again, as a restart
	// does, with the same clock; nil skips the reopen tests.
	Reopen func(tb testing.TB) Opened
}

// Open is an implementation's constructor: a fresh, empty store that
// stamps the outbox rows it enqueues with now, closed by a tb.Cleanup it
// registers itself (closing twice must be harmless).
type Open func(tb testing.TB, now func() time.Time) Opened

// T0 is the suite's starting time (2026-11-27 10:00 Shanghai), whole
// seconds in UTC like the rest of the suite's times.
var T0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// Run runs the whole contract against open: the transactions, every
// flows.Tx method (the qualifications area's too), and the outbox when
// the store has one.
func Run(t *testing.T, open Open) {
	t.Run("Tx", func(t *testing.T) { RunTx(t, open) })
	t.Run("Quals", func(t *testing.T) { RunQuals(t, open) })
	t.Run("Outbox", func(t *testing.T) { RunOutbox(t, open) })
	t.Run("MediaRefs", func(t *testing.T) { RunMediaRefs(t, open) })
}

// RunTx runs the transaction rules and every flows.Tx method.
func RunTx(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"Rollback", testRollback},
		{"OwnWrites", testOwnWrites},
		{"Batch", testBatch},
		{"View", testView},
		{"Canceled", testCanceled},
		{"Reopen", testReopen},
		{"NotFound", testNotFound},
		{"RoundTrip", testRoundTrip},
		{"Seen", testSeen},
		{"Cursor", testCursor},
		{"People", testPeople},
		{"TicketSeq", testTicketSeq},
		{"TicketsByResident", testTicketsByResident},
		{"TicketsByAssignee", testTicketsByAssignee},
		{"OpenTickets", testOpenTickets},
		{"TicketEvents", testTicketEvents},
		{"Dialogues", testDialogues},
		{"Invites", testInvites},
		{"Complaints", testComplaints},
		{"Timers", testTimers},
		{"DueTimers", testDueTimers},
		{"EachTicketTouched", testEachTicketTouched},
		{"Handovers", testHandovers},
		{"DailyLists", testDailyLists},
		{"DutyOverrides", testDutyOverrides},
		{"AreaEdits", testAreaEdits},
		{"SOPVersions", testSOPVersions},
		{"Acks", testAcks},
		{"Reviews", testReviews},
		{"Suggestions", testSuggestions},
		{"NextSeq", testNextSeq},
		{"Parts", runParts},
		{"Console", testConsole},
		{"FeeQuestions", testFeeQuestions},
		{"EachTicketReported", testEachTicketReported},
		{"TicketsAtPlace", testTicketsAtPlace},
		{"QCReviews", testQCReviews},
		{"PhoneCallbacks", testPhoneCallbacks},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// Clock is a settable clock for the store under test (safe for
// concurrent use).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fresh opens a new store at T0 and returns it with its clock.
func fresh(tb testing.TB, open Open) (Opened, *Clock) {
	tb.Helper()
	c := NewClock(T0)
	o := open(tb, c.Now)
	if o.Store == nil {
		tb.Fatal("storetest: the constructor returned no Store")
	}
	return o, c
}

// update runs fn in an Update and fails the test on an error.
func update(tb testing.TB, s flows.Store, fn func(flows.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("update: %v", err)
	}
}

// view runs fn in a View and fails the test on an error.
func view(tb testing.TB, s flows.Store, fn func(flows.Tx) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatalf("view: %v", err)
	}
}

// read returns what fn reads in a View.
func read[T any](tb testing.TB, s flows.Store, fn func(flows.Tx) (T, error)) T {
	tb.Helper()
	var out T
	view(tb, s, func(tx flows.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out
}

// errFail is what a failing fn returns in the rollback tests.
var errFail = errors.New("storetest: deliberate failure")

// wantSame fails unless got and want are the same records (see same).
func wantSame(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !same(reflect.ValueOf(got), reflect.ValueOf(want)) {
		tb.Fatalf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		s := "["
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				s += " "
			}
			s += show(rv.Index(i).Interface())
		}
		return s + "]"
	}
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return "&" + show(rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}

var timeType = reflect.TypeOf(time.Time{})

// same is reflect.DeepEqual as a store sees records: times are equal when
// they are the same instant (a store may hand them back in another
// location), and a nil slice or map equals an empty one (JSON's omitempty,
// or a NULL column, does not keep the difference).
func same(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == timeType && a.CanInterface() && b.CanInterface() {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !same(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !same(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.Func, reflect.Chan:
		return a.IsNil() && b.IsNil()
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}

// fill sets every exported field of *v (recursively, a few levels deep)
// to a value that is not zero and depends on seed, so a round trip checks
// every field a record has, including fields added after this suite was
// written: a store that forgets a column fails RoundTrip.
func fill(v any, seed int) {
	fillValue(reflect.ValueOf(v).Elem(), seed, "", 0)
}

func fillValue(v reflect.Value, seed int, name string, depth int) {
	if depth > 10 || !v.CanSet() {
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(T0.Add(time.Duration(seed)*time.Hour + time.Duration(depth)*time.Minute)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed%100 + depth + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed%100 + depth + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(seed) + 0.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), seed, name, depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fillValue(v.Field(i), seed, f.Name, depth+1)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fillValue(s.Index(i), seed+i, name, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillValue(k, seed, name+"Key", depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fillValue(e, seed, name, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}
