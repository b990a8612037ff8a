package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Queue is the delivery side of the outbox: outbox.Queue (what the
// dispatcher and the channels call, Rows for inspection) plus the
// housekeeping jobs calls (Prune*).
type Queue interface {
	outbox.Queue
	PruneDelivered(before time.Time) (int, error)
	PruneSeen(before time.Time) (int, error)
}

// The outbox types, as the suite names them.
type (
	// Row is one outgoing message and its delivery record.
	Row = outbox.Row
	// CardRef is where a card was delivered.
	CardRef = outbox.CardRef
	// Stats is the queue's depth and counts.
	Stats = outbox.Stats
)

// Row statuses.
const (
	StatusPending    = outbox.StatusPending
	StatusDelivered  = outbox.StatusDelivered
	StatusFailed     = outbox.StatusFailed
	StatusSuperseded = outbox.StatusSuperseded
)

// RunOutbox runs the outbox rules; it skips when the store has no Queue.
// The outbox holds the rows Tx.Enqueue writes in the engine's
// transaction, read and acknowledged by the dispatcher. The rules, each
// checked by the subtest named after it:
//   - Enqueue: each message becomes a pending row with an id > 0, ids
//     increasing in enqueue order (within a transaction, and from one
//     committed transaction to the next), Created stamped by the store's
//     clock, no attempts, and the message exactly as given (Priority,
//     CardKey, Refresh, Buttons...).
//   - Pending: the pending rows in id order, at most limit (<= 0: all). Not
//     by priority: the dispatcher orders by priority itself, and needs id
//     order to keep each address's rows oldest first and to know a card's
//     latest edit.
//   - Delivered: MarkDelivered finishes a row (status delivered, Done, the
//     platform id, one more attempt, no error text); a send or an edit with
//     a CardKey and a platform id records where the card is (Card), and a
//     later delivery of the same card replaces it. Photos, menus and
//     deliveries without a platform id leave the card as it was.
//   - Retired: a delivered Retire edit forgets its card (Card: false): a
//     newer card replaced it and nothing edits it again, so a visit's
//     step cards do not pile up in the card index.
//   - Digest: MarkDigest finishes all its rows as one platform message;
//     their cards point at it, marked Digest. Ids not pending are skipped.
//   - Retry: MarkRetry keeps the row pending, in its place, with the next
//     attempt time and the error; it counts an attempt only when asked.
//   - Failed: MarkFailed finishes a row as failed (kept for inspection).
//   - Requeue (when the Queue is an outbox.Requeuer): failed rows go back
//     to pending under their own ids, so each takes its old place among
//     its address's rows, attempts and error cleared, Requeued stamped;
//     ids that are not failed rows are skipped; subscribers are woken.
//   - Superseded: MarkSuperseded finishes an edit replaced by a newer one of
//     the same card; when the old one was a real change and the newer only
//     a clock refresh, the newer stops being a refresh.
//   - Finished: a mark on a row that is not pending (already finished, or
//     unknown) is a no-op, not an error.
//   - Card: an unknown card is (zero, false, nil).
//   - Stats: pending count and the oldest pending row's Created (zero when
//     none), delivered and failed counts (until pruned).
//   - Rows: the rows of a status in id order; Rows(StatusDelivered) and
//     Rows(StatusSuperseded) may each list both (callers filter on Status).
//   - Prune: PruneDelivered forgets rows delivered (or superseded) strictly
//     before the cutoff and keeps failed rows and card references;
//     PruneSeen forgets dedupe keys marked strictly before the cutoff.
//   - Subscribe: every subscription is signalled after a commit that
//     enqueued (a spurious signal is harmless and allowed).
//
// Tx/Rollback (txn.go) checks that a failed transaction enqueues nothing.
func RunOutbox(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Opened, *Clock)
	}{
		{"Enqueue", testEnqueue},
		{"Pending", testPending},
		{"Delivered", testDelivered},
		{"Retired", testRetired},
		{"Digest", testDigest},
		{"Retry", testRetry},
		{"Failed", testFailed},
		{"Requeue", testRequeue},
		{"Superseded", testSuperseded},
		{"Finished", testFinished},
		{"Card", testCard},
		{"Stats", testStats},
		{"Rows", testRows},
		{"PruneDelivered", testPruneDelivered},
		{"PruneSeen", testPruneSeen},
		{"Subscribe", testSubscribe},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, clock := fresh(t, open)
			if o.Queue == nil {
				t.Skip("the constructor gives no Queue")
			}
			c.fn(t, o, clock)
		})
	}
}

var (
	chatA = flows.Address{Channel: "tg", Chat: "100"}
	chatB = flows.Address{Channel: "wecom", Chat: "appchat:ops"}
)

func msg(to flows.Address, kind flows.MsgKind, text, card string, prio flows.Priority) flows.Message {
	return flows.Message{To: to, Kind: kind, Text: text, CardKey: card, Priority: prio}
}

// enqueue commits msgs in one transaction and returns the pending rows
// they became.
func enqueue(tb testing.TB, o Opened, msgs ...flows.Message) []Row {
	tb.Helper()
	before := pending(tb, o.Queue)
	update(tb, o.Store, func(tx flows.Tx) error { return tx.Enqueue(msgs...) })
	after := pending(tb, o.Queue)
	if len(after) != len(before)+len(msgs) {
		tb.Fatalf("enqueued %d messages: %d pending rows, were %d", len(msgs), len(after), len(before))
	}
	return after[len(before):]
}

func pending(tb testing.TB, q Queue) []Row {
	tb.Helper()
	rows, err := q.Pending(0)
	if err != nil {
		tb.Fatalf("pending: %v", err)
	}
	return rows
}

func texts(rows []Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Msg.Text)
	}
	return strings.Join(out, " ")
}

// rowsIn returns the rows listed under status that are in that status.
func rowsIn(tb testing.TB, q Queue, status string) []Row {
	tb.Helper()
	rows, err := q.Rows(status)
	if err != nil {
		tb.Fatalf("rows %s: %v", status, err)
	}
	var out []Row
	for _, r := range rows {
		if r.Status == status {
			out = append(out, r)
		}
	}
	return out
}

func find(tb testing.TB, rows []Row, id uint64) Row {
	tb.Helper()
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	tb.Fatalf("row %d not among %d rows (%s)", id, len(rows), texts(rows))
	return Row{}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func card(tb testing.TB, q Queue, key string) (CardRef, bool) {
	tb.Helper()
	ref, ok, err := q.Card(key)
	if err != nil {
		tb.Fatalf("card %s: %v", key, err)
	}
	return ref, ok
}

func testEnqueue(t *testing.T, o Opened, clock *Clock) {
	var full flows.Message
	fill(&full, 1)
	m2, m3 := msg(chatB, flows.KindEdit, "two", "grp:A", flows.PrioEdit), msg(chatA, flows.KindSend, "three", "", flows.PrioUrgent)
	first := enqueue(t, o, full, m2, m3)
	for i, want := range []flows.Message{full, m2, m3} {
		r := first[i]
		wantSame(t, fmt.Sprintf("row %d's message", i), r.Msg, want)
		if r.ID == 0 || (i > 0 && r.ID <= first[i-1].ID) {
			t.Fatalf("row ids %d, %d: want > 0 and increasing", first[max(i-1, 0)].ID, r.ID)
		}
		if !r.Created.Equal(T0) || r.Status != StatusPending || r.Attempts != 0 || !r.NextAttempt.IsZero() || r.LastError != "" ||
			r.Done != nil || r.PlatformID != "" {
			t.Fatalf("new row %+v: want created at %v, pending, untouched", r, T0)
		}
	}
	clock.Set(T0.Add(time.Minute))
	later := enqueue(t, o, msg(chatA, flows.KindSend, "four", "", flows.PrioNormal))
	if later[0].ID <= first[2].ID || !later[0].Created.Equal(T0.Add(time.Minute)) {
		t.Fatalf("row of a later transaction: id %d (last was %d), created %v", later[0].ID, first[2].ID, later[0].Created)
	}
	update(t, o.Store, func(tx flows.Tx) error { return tx.Enqueue() })
	if n := len(pending(t, o.Queue)); n != 4 {
		t.Fatalf("enqueueing nothing changed the queue: %d rows", n)
	}
}

func testPending(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o,
		msg(chatA, flows.KindSend, "a1", "", flows.PrioReminder),
		msg(chatB, flows.KindSend, "b1", "", flows.PrioNormal),
		msg(chatA, flows.KindSend, "a2", "", flows.PrioUrgent),
	)
	rows = append(rows, enqueue(t, o, msg(chatB, flows.KindEdit, "b2", "grp:A", flows.PrioEdit), msg(chatA, flows.KindSend, "a3", "", flows.PrioUrgent))...)
	wantIDs(t, "pending", texts(pending(t, o.Queue)), "a1 b1 a2 b2 a3")
	for _, c := range []struct {
		limit int
		want  string
	}{{-1, "a1 b1 a2 b2 a3"}, {10, "a1 b1 a2 b2 a3"}, {2, "a1 b1"}, {1, "a1"}} {
		got, err := o.Queue.Pending(c.limit)
		must(t, err)
		wantIDs(t, fmt.Sprintf("Pending(%d)", c.limit), texts(got), c.want)
	}
	must(t, o.Queue.MarkDelivered(rows[0].ID, "1", T0))
	must(t, o.Queue.MarkFailed(rows[2].ID, "blocked", T0))
	got, err := o.Queue.Pending(2)
	must(t, err)
	wantIDs(t, "Pending(2) after two finished", texts(got), "b1 b2")
}

func testRetired(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o,
		msg(chatA, flows.KindSend, "card 1", "step:T:1", flows.PrioNormal),
		msg(chatA, flows.KindSend, "card 2", "step:T:2", flows.PrioNormal),
		flows.Message{To: chatA, Kind: flows.KindEdit, Text: "retired", CardKey: "step:T:1", Retire: true, Priority: flows.PrioEdit},
	)
	must(t, o.Queue.MarkDelivered(rows[0].ID, "41", T0))
	must(t, o.Queue.MarkDelivered(rows[1].ID, "42", T0))
	must(t, o.Queue.MarkDelivered(rows[2].ID, "41", T0))
	if ref, ok := card(t, o.Queue, "step:T:1"); ok {
		t.Fatalf("the retired card is still indexed: %+v", ref)
	}
	if ref, ok := card(t, o.Queue, "step:T:2"); !ok || ref.MessageID != "42" {
		t.Fatalf("the living card: %+v %v", ref, ok)
	}
	if r := find(t, rowsIn(t, o.Queue, StatusDelivered), rows[2].ID); r.Status != StatusDelivered {
		t.Fatalf("the retirement row: %+v", r)
	}
}

func testDelivered(t *testing.T, o Opened, clock *Clock) {
	rows := enqueue(t, o,
		msg(chatB, flows.KindSend, "card", "grp:A", flows.PrioNormal),
		msg(chatB, flows.KindEdit, "card v2", "grp:A", flows.PrioEdit),
		msg(chatA, flows.KindPhoto, "photo", "grp:A", flows.PrioNormal),
		msg(chatA, flows.KindMenu, "menu", "grp:A", flows.PrioReminder),
		msg(chatB, flows.KindEdit, "card v3", "grp:A", flows.PrioEdit),
		msg(chatA, flows.KindSend, "plain", "", flows.PrioNormal),
	)
	at := T0.Add(time.Second)
	must(t, o.Queue.MarkRetry(rows[0].ID, T0.Add(time.Second), "HTTP 502", true))
	must(t, o.Queue.MarkDelivered(rows[0].ID, "77", at))
	done := find(t, rowsIn(t, o.Queue, StatusDelivered), rows[0].ID)
	if done.Status != StatusDelivered || done.Done == nil || !done.Done.Equal(at) || done.PlatformID != "77" || done.Attempts != 2 ||
		done.LastError != "" {
		t.Fatalf("delivered row %+v: want delivered at %v as 77, 2 attempts, no error", done, at)
	}
	wantSame(t, "delivered row's message", done.Msg, rows[0].Msg)
	if ref, ok := card(t, o.Queue, "grp:A"); !ok || ref != (CardRef{Chat: chatB, MessageID: "77"}) {
		t.Fatalf("card after the send: %+v %v", ref, ok)
	}
	must(t, o.Queue.MarkDelivered(rows[1].ID, "78", at)) // a channel that re-posts an edit
	if ref, _ := card(t, o.Queue, "grp:A"); ref.MessageID != "78" {
		t.Fatalf("card after the edit: %+v, want 78", ref)
	}
	must(t, o.Queue.MarkDelivered(rows[2].ID, "p1", at))
	must(t, o.Queue.MarkDelivered(rows[3].ID, "", at))
	must(t, o.Queue.MarkDelivered(rows[4].ID, "", at))
	if ref, _ := card(t, o.Queue, "grp:A"); ref != (CardRef{Chat: chatB, MessageID: "78"}) {
		t.Fatalf("a photo, a menu or a delivery without an id moved the card: %+v", ref)
	}
	clock.Set(T0.Add(time.Hour))
	must(t, o.Queue.MarkDelivered(rows[5].ID, "80", at))
	wantIDs(t, "pending", texts(pending(t, o.Queue)), "")
	wantIDs(t, "delivered", texts(rowsIn(t, o.Queue, StatusDelivered)), "card card v2 photo menu card v3 plain")
	if _, ok := card(t, o.Queue, ""); ok {
		t.Fatal("a row without a card key recorded a card")
	}
}

func testDigest(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o,
		msg(chatB, flows.KindSend, "c1", "grp:1", flows.PrioNormal),
		msg(chatB, flows.KindSend, "c2", "grp:2", flows.PrioNormal),
		msg(chatB, flows.KindSend, "plain", "", flows.PrioNormal),
		msg(chatB, flows.KindSend, "c3", "grp:3", flows.PrioNormal),
	)
	at := T0.Add(time.Minute)
	must(t, o.Queue.MarkDigest([]uint64{rows[0].ID, rows[1].ID, rows[2].ID, 424242}, "D1", at))
	wantIDs(t, "pending", texts(pending(t, o.Queue)), "c3")
	delivered := rowsIn(t, o.Queue, StatusDelivered)
	wantIDs(t, "delivered", texts(delivered), "c1 c2 plain")
	for _, r := range delivered {
		if r.PlatformID != "D1" || r.Done == nil || !r.Done.Equal(at) || r.Attempts != 1 {
			t.Fatalf("digested row %+v", r)
		}
	}
	for _, key := range []string{"grp:1", "grp:2"} {
		if ref, ok := card(t, o.Queue, key); !ok || ref != (CardRef{Chat: chatB, MessageID: "D1", Digest: true}) {
			t.Fatalf("card %s after the digest: %+v %v", key, ref, ok)
		}
	}
	if _, ok := card(t, o.Queue, "grp:3"); ok {
		t.Fatal("a card outside the digest was recorded")
	}
}

func testRetry(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o, msg(chatA, flows.KindSend, "first", "", flows.PrioNormal), msg(chatA, flows.KindSend, "second", "", flows.PrioNormal))
	next := T0.Add(2 * time.Second)
	must(t, o.Queue.MarkRetry(rows[0].ID, next, "HTTP 502", true))
	got := pending(t, o.Queue)
	wantIDs(t, "pending after a retry", texts(got), "first second")
	if r := got[0]; r.Status != StatusPending || r.Attempts != 1 || r.LastError != "HTTP 502" || !r.NextAttempt.Equal(next) || r.Done != nil {
		t.Fatalf("row after a counted retry: %+v", r)
	}
	wantSame(t, "retried row's message", got[0].Msg, rows[0].Msg)
	later := T0.Add(time.Minute)
	must(t, o.Queue.MarkRetry(rows[0].ID, later, "429 retry after 58", false))
	if r := pending(t, o.Queue)[0]; r.Attempts != 1 || r.LastError != "429 retry after 58" || !r.NextAttempt.Equal(later) {
		t.Fatalf("row after an uncounted retry: %+v", r)
	}
}

func testFailed(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o, msg(chatA, flows.KindSend, "to a blocked user", "", flows.PrioNormal), msg(chatA, flows.KindSend, "next", "", flows.PrioNormal))
	at := T0.Add(time.Minute)
	must(t, o.Queue.MarkFailed(rows[0].ID, "Forbidden: bot was blocked by the user", at))
	wantIDs(t, "pending", texts(pending(t, o.Queue)), "next")
	failed := rowsIn(t, o.Queue, StatusFailed)
	if len(failed) != 1 {
		t.Fatalf("failed rows: %+v", failed)
	}
	if r := failed[0]; r.ID != rows[0].ID || r.LastError != "Forbidden: bot was blocked by the user" || r.Attempts != 1 ||
		r.Done == nil || !r.Done.Equal(at) {
		t.Fatalf("failed row %+v", r)
	}
	if d := rowsIn(t, o.Queue, StatusDelivered); len(d) != 0 {
		t.Fatalf("a failed row is listed as delivered: %+v", d)
	}
}

func testRequeue(t *testing.T, o Opened, _ *Clock) {
	rq, ok := o.Queue.(outbox.Requeuer)
	if !ok {
		t.Skip("the Queue is not an outbox.Requeuer")
	}
	rows := enqueue(t, o, msg(chatA, flows.KindSend, "first", "", flows.PrioNormal), msg(chatA, flows.KindSend, "second", "", flows.PrioNormal),
		msg(chatB, flows.KindSend, "other", "", flows.PrioNormal))
	at := T0.Add(time.Hour)
	must(t, o.Queue.MarkRetry(rows[0].ID, at, "HTTP 502", true))
	must(t, o.Queue.MarkFailed(rows[0].ID, "given up: HTTP 502", at))
	must(t, o.Queue.MarkFailed(rows[2].ID, "Forbidden: bot was blocked by the user", at))
	sub := o.Queue.Subscribe()
	drain(sub)
	done, err := rq.Requeue([]uint64{rows[0].ID, rows[1].ID, 999999}, at.Add(time.Minute))
	must(t, err)
	if len(done) != 1 || done[0].ID != rows[0].ID {
		t.Fatalf("requeued %+v; want only the failed row %d (a pending and an unknown id are skipped)", done, rows[0].ID)
	}
	got := pending(t, o.Queue)
	wantIDs(t, "pending after requeue", texts(got), "first second")
	if r := got[0]; r.ID != rows[0].ID || r.Status != StatusPending || r.Attempts != 0 || r.LastError != "" || r.Done != nil ||
		!r.NextAttempt.IsZero() || !r.Requeued.Equal(at.Add(time.Minute)) || !r.Created.Equal(rows[0].Created) {
		t.Fatalf("requeued row %+v", r)
	}
	wantIDs(t, "still failed", texts(rowsIn(t, o.Queue, StatusFailed)), "other")
	select {
	case <-sub:
	case <-time.After(time.Second):
		t.Fatal("Requeue woke no subscriber")
	}
}

// drain empties a subscription.
func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func testSuperseded(t *testing.T, o Opened, _ *Clock) {
	refresh := func(m flows.Message) flows.Message { m.Refresh = true; return m }
	rows := enqueue(t, o,
		refresh(msg(chatB, flows.KindEdit, "clock 1", "grp:A", flows.PrioEdit)),
		refresh(msg(chatB, flows.KindEdit, "clock 2", "grp:A", flows.PrioEdit)),
		msg(chatB, flows.KindEdit, "accepted", "grp:A", flows.PrioEdit),
		refresh(msg(chatB, flows.KindEdit, "accepted, clock 3", "grp:A", flows.PrioEdit)),
	)
	at := T0.Add(time.Minute)
	must(t, o.Queue.MarkSuperseded(rows[0].ID, rows[1].ID, at))
	got := pending(t, o.Queue)
	if !got[0].Msg.Refresh {
		t.Fatal("a refresh superseding a refresh became a real change")
	}
	must(t, o.Queue.MarkSuperseded(rows[1].ID, rows[2].ID, at))
	must(t, o.Queue.MarkSuperseded(rows[2].ID, rows[3].ID, at))
	got = pending(t, o.Queue)
	if len(got) != 1 || got[0].ID != rows[3].ID || got[0].Msg.Refresh {
		t.Fatalf("after a real edit was superseded by a refresh: %+v; want the refresh, no longer one", got)
	}
	sup := rowsIn(t, o.Queue, StatusSuperseded)
	wantIDs(t, "superseded", texts(sup), "clock 1 clock 2 accepted")
	for _, r := range sup {
		if r.Done == nil || !r.Done.Equal(at) {
			t.Fatalf("superseded row %+v", r)
		}
	}
	if f := rowsIn(t, o.Queue, StatusFailed); len(f) != 0 {
		t.Fatalf("superseded rows are listed as failed: %+v", f)
	}
}

func testFinished(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o, msg(chatB, flows.KindSend, "card", "grp:A", flows.PrioNormal), msg(chatB, flows.KindEdit, "edit", "grp:A", flows.PrioEdit))
	must(t, o.Queue.MarkDelivered(rows[0].ID, "77", T0))
	want := find(t, rowsIn(t, o.Queue, StatusDelivered), rows[0].ID)
	for name, err := range map[string]error{
		"MarkDelivered again":    o.Queue.MarkDelivered(rows[0].ID, "99", T0.Add(time.Hour)),
		"MarkRetry":              o.Queue.MarkRetry(rows[0].ID, T0.Add(time.Hour), "late", true),
		"MarkFailed":             o.Queue.MarkFailed(rows[0].ID, "late", T0.Add(time.Hour)),
		"MarkSuperseded":         o.Queue.MarkSuperseded(rows[0].ID, rows[1].ID, T0.Add(time.Hour)),
		"MarkDigest":             o.Queue.MarkDigest([]uint64{rows[0].ID}, "D9", T0.Add(time.Hour)),
		"MarkDelivered unknown":  o.Queue.MarkDelivered(424242, "1", T0),
		"MarkRetry unknown":      o.Queue.MarkRetry(424242, T0, "x", true),
		"MarkFailed unknown":     o.Queue.MarkFailed(424242, "x", T0),
		"MarkSuperseded unknown": o.Queue.MarkSuperseded(424242, rows[1].ID, T0),
	} {
		if err != nil {
			t.Errorf("%s on a row that is not pending: %v", name, err)
		}
	}
	delivered := rowsIn(t, o.Queue, StatusDelivered)
	if len(delivered) != 1 {
		t.Fatalf("delivered rows %+v", delivered)
	}
	wantSame(t, "finished row", delivered[0], want)
	if f := rowsIn(t, o.Queue, StatusFailed); len(f) != 0 {
		t.Fatalf("failed rows %+v", f)
	}
	if ref, _ := card(t, o.Queue, "grp:A"); ref.MessageID != "77" {
		t.Fatalf("card moved by a mark on a finished row: %+v", ref)
	}
	wantIDs(t, "pending", texts(pending(t, o.Queue)), "edit")
}

func testCard(t *testing.T, o Opened, _ *Clock) {
	ref, ok, err := o.Queue.Card("grp:nope")
	if err != nil || ok || ref != (CardRef{}) {
		t.Fatalf("unknown card: %+v %v %v", ref, ok, err)
	}
}

func testStats(t *testing.T, o Opened, clock *Clock) {
	stats := func() Stats {
		st, err := o.Queue.Stats()
		must(t, err)
		return st
	}
	if st := stats(); st.Pending != 0 || !st.Oldest.IsZero() || st.Delivered != 0 || st.Failed != 0 {
		t.Fatalf("empty queue: %+v", st)
	}
	first := enqueue(t, o, msg(chatA, flows.KindSend, "a", "", flows.PrioNormal))
	clock.Set(T0.Add(time.Minute))
	second := enqueue(t, o, msg(chatB, flows.KindSend, "b", "", flows.PrioNormal), msg(chatB, flows.KindSend, "c", "", flows.PrioNormal))
	if st := stats(); st.Pending != 3 || !st.Oldest.Equal(T0) || st.Delivered != 0 || st.Failed != 0 {
		t.Fatalf("three pending: %+v", st)
	}
	must(t, o.Queue.MarkDelivered(first[0].ID, "1", T0))
	must(t, o.Queue.MarkFailed(second[0].ID, "x", T0))
	if st := stats(); st.Pending != 1 || !st.Oldest.Equal(T0.Add(time.Minute)) || st.Delivered != 1 || st.Failed != 1 {
		t.Fatalf("after a delivery and a failure: %+v", st)
	}
	must(t, o.Queue.MarkDelivered(second[1].ID, "2", T0))
	if st := stats(); st.Pending != 0 || !st.Oldest.IsZero() || st.Delivered != 2 || st.Failed != 1 {
		t.Fatalf("nothing pending: %+v", st)
	}
}

func testRows(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o, msg(chatA, flows.KindSend, "a", "", flows.PrioNormal), msg(chatB, flows.KindSend, "b", "", flows.PrioNormal),
		msg(chatA, flows.KindSend, "c", "", flows.PrioNormal), msg(chatB, flows.KindSend, "d", "", flows.PrioNormal))
	must(t, o.Queue.MarkDelivered(rows[2].ID, "3", T0))
	must(t, o.Queue.MarkDelivered(rows[0].ID, "1", T0))
	must(t, o.Queue.MarkFailed(rows[3].ID, "x", T0))
	wantIDs(t, "pending rows", texts(rowsIn(t, o.Queue, StatusPending)), "b")
	wantSame(t, "Rows(pending) and Pending(0)", rowsIn(t, o.Queue, StatusPending), pending(t, o.Queue))
	wantIDs(t, "delivered rows", texts(rowsIn(t, o.Queue, StatusDelivered)), "a c")
	wantIDs(t, "failed rows", texts(rowsIn(t, o.Queue, StatusFailed)), "d")
}

func testPruneDelivered(t *testing.T, o Opened, _ *Clock) {
	rows := enqueue(t, o,
		msg(chatB, flows.KindSend, "old card", "grp:A", flows.PrioNormal),
		msg(chatB, flows.KindSend, "new", "", flows.PrioNormal),
		msg(chatB, flows.KindSend, "failed", "", flows.PrioNormal),
		msg(chatB, flows.KindEdit, "old edit", "grp:A", flows.PrioEdit),
		msg(chatB, flows.KindEdit, "latest edit", "grp:A", flows.PrioEdit),
		msg(chatB, flows.KindSend, "pending", "", flows.PrioNormal),
	)
	must(t, o.Queue.MarkDelivered(rows[0].ID, "77", T0))
	must(t, o.Queue.MarkDelivered(rows[1].ID, "78", T0.Add(time.Hour)))
	must(t, o.Queue.MarkFailed(rows[2].ID, "x", T0))
	must(t, o.Queue.MarkSuperseded(rows[3].ID, rows[4].ID, T0))
	must(t, o.Queue.MarkDelivered(rows[4].ID, "", T0.Add(time.Hour)))
	for _, c := range []struct {
		before time.Time
		n      int
		left   string
	}{
		{T0, 0, "old card new latest edit"},
		{T0.Add(time.Second), 2, "new latest edit"},
		{T0.Add(time.Hour), 0, "new latest edit"},
		{T0.Add(2 * time.Hour), 2, ""},
	} {
		n, err := o.Queue.PruneDelivered(c.before)
		if err != nil || n != c.n {
			t.Fatalf("PruneDelivered(%v) = %d, %v; want %d", c.before, n, err, c.n)
		}
		wantIDs(t, fmt.Sprintf("delivered after PruneDelivered(%v)", c.before), texts(rowsIn(t, o.Queue, StatusDelivered)), c.left)
	}
	if sup := rowsIn(t, o.Queue, StatusSuperseded); len(sup) != 0 {
		t.Fatalf("superseded rows outlived the prune: %+v", sup)
	}
	wantIDs(t, "failed rows after pruning", texts(rowsIn(t, o.Queue, StatusFailed)), "failed")
	wantIDs(t, "pending after pruning", texts(pending(t, o.Queue)), "pending")
	if ref, ok := card(t, o.Queue, "grp:A"); !ok || ref.MessageID != "77" {
		t.Fatalf("pruning forgot the card: %+v %v", ref, ok)
	}
	if st, err := o.Queue.Stats(); err != nil || st.Delivered != 0 || st.Failed != 1 || st.Pending != 1 {
		t.Fatalf("stats after pruning: %+v %v", st, err)
	}
}

func testPruneSeen(t *testing.T, o Opened, _ *Clock) {
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(tx.MarkSeen("old", T0.Add(-48*time.Hour)), tx.MarkSeen("cutoff", T0.Add(-24*time.Hour)),
			tx.MarkSeen("new", T0), tx.MarkSeen("older", T0.Add(-72*time.Hour)))
	})
	n, err := o.Queue.PruneSeen(T0.Add(-24 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneSeen = %d, %v; want 2", n, err)
	}
	view(t, o.Store, func(tx flows.Tx) error {
		for k, want := range map[string]bool{"old": false, "older": false, "cutoff": true, "new": true} {
			if seen, err := tx.Seen(k); err != nil || seen != want {
				t.Errorf("Seen(%q) after pruning = %v, %v; want %v", k, seen, err, want)
			}
		}
		return nil
	})
	if n, err := o.Queue.PruneSeen(T0.Add(-24 * time.Hour)); err != nil || n != 0 {
		t.Fatalf("second PruneSeen = %d, %v; want 0", n, err)
	}
}

func testSubscribe(t *testing.T, o Opened, _ *Clock) {
	a, b := o.Queue.Subscribe(), o.Queue.Subscribe()
	drain := func(ch <-chan struct{}) {
		for {
			select {
			case <-ch:
			default:
				return
			}
		}
	}
	drain(a)
	drain(b)
	update(t, o.Store, func(tx flows.Tx) error { return tx.Enqueue(msg(chatA, flows.KindSend, "wake", "", flows.PrioNormal)) })
	for name, ch := range map[string]<-chan struct{}{"first": a, "second": b} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("the %s subscription was not signalled after a commit that enqueued", name)
		}
	}
}

// seedOutbox leaves rows in every state for the reopen test and returns
// the highest id.
func (w *world) seedOutbox(tb testing.TB, o Opened, clock *Clock) uint64 {
	tb.Helper()
	rows := enqueue(tb, o,
		msg(chatB, flows.KindSend, "card", "grp:A", flows.PrioNormal),
		msg(chatA, flows.KindSend, "blocked", "", flows.PrioNormal),
		msg(chatA, flows.KindSend, "waiting", "", flows.PrioUrgent),
	)
	must(tb, o.Queue.MarkDelivered(rows[0].ID, "77", T0))
	must(tb, o.Queue.MarkFailed(rows[1].ID, "blocked", T0))
	must(tb, o.Queue.MarkRetry(rows[2].ID, T0.Add(time.Minute), "HTTP 502", true))
	w.deliver = rowsIn(tb, o.Queue, StatusDelivered)
	w.failed = rowsIn(tb, o.Queue, StatusFailed)
	w.outbox = pending(tb, o.Queue)
	w.carded, _ = card(tb, o.Queue, "grp:A")
	return rows[2].ID
}

func (w *world) checkOutbox(tb testing.TB, q Queue) {
	tb.Helper()
	wantSame(tb, "pending rows after reopening", pending(tb, q), w.outbox)
	wantSame(tb, "delivered rows after reopening", rowsIn(tb, q, StatusDelivered), w.deliver)
	wantSame(tb, "failed rows after reopening", rowsIn(tb, q, StatusFailed), w.failed)
	if ref, ok := card(tb, q, "grp:A"); !ok || ref != w.carded {
		tb.Errorf("card after reopening: %+v %v, want %+v", ref, ok, w.carded)
	}
}
