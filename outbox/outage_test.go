package outbox_test

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
	"github.com/repairbot/repairbot/outbox"
)

// fakePlatform is a platform that can be down (every send a transient
// error, as a 502 or a refused connection) and records what it got.
type fakePlatform struct {
	mu       sync.Mutex
	down     bool
	got      map[string][]string // texts by address, in arrival order
	attempts int                 // sends tried while down
	inflight int
	maxDown  int // the most sends in flight at once while down
}

func newFakePlatform() *fakePlatform { return &fakePlatform{got: map[string][]string{}} }

var errBadGateway = errors.New("HTTP 502 Bad Gateway")

func (f *fakePlatform) setDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *fakePlatform) send(_ context.Context, r outbox.Row) (string, error) {
	f.mu.Lock()
	if f.down {
		f.attempts++
		f.inflight++
		f.maxDown = max(f.maxDown, f.inflight)
		f.mu.Unlock()
		time.Sleep(time.Millisecond) // a moment on the wire, so overlapping sends show
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
		return "", errBadGateway
	}
	defer f.mu.Unlock()
	k := r.Msg.To.String()
	f.got[k] = append(f.got[k], r.Msg.Text)
	return fmt.Sprint(r.ID), nil
}

func (f *fakePlatform) texts(a flows.Address) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got[a.String()]...)
}

// A platform outage longer than every attempt the old limit allowed (12
// attempts of 1 ms doubling to 20 ms: about 170 ms) loses nothing: the
// rows wait with capped backoff while one probe at a time tries the
// platform, and once it answers every message arrives, in order, none
// failed. The outage is visible meanwhile (Unreachable) and ends with the
// first delivery.
func TestOutageNeverExhaustsRows(t *testing.T) {
	f := newFakePlatform()
	r := newRig(t, policy(f.send), outbox.Options{Workers: 4, BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	st, d := r.st, r.d
	addrs := []flows.Address{{Channel: "x", Chat: "a"}, {Channel: "x", Chat: "b"}, {Channel: "x", Chat: "c"}}
	var ms []flows.Message
	for i := range 5 {
		for _, a := range addrs {
			ms = append(ms, flows.Message{To: a, Kind: flows.KindSend, Text: fmt.Sprintf("%s-%d", a.Chat, i), Priority: flows.Priority(i % 4)})
		}
	}
	f.setDown(true)
	r.enqueue(ms...)
	r.start()
	start := time.Now()
	waitUntil(t, 5*time.Second, "the first failed attempt", func() bool { since, _ := d.Unreachable(); return !since.IsZero() })
	// The first sends went out together before anything had failed; from
	// now on one probe at a time.
	time.Sleep(10 * time.Millisecond)
	f.mu.Lock()
	f.maxDown = 0
	f.mu.Unlock()
	time.Sleep(600 * time.Millisecond) // far longer than 12 attempts took
	since, failures := d.Unreachable()
	if since.IsZero() || failures < 12 {
		t.Fatalf("during the outage: unreachable since %v after %d failures; want a spell of at least 12", since, failures)
	}
	if s, _ := st.Stats(); s.Failed != 0 || s.Pending != len(ms) {
		t.Fatalf("during the outage the queue is %+v; want all %d pending, none failed", s, len(ms))
	}
	f.mu.Lock()
	maxDown, attempts := f.maxDown, f.attempts
	f.mu.Unlock()
	if maxDown != 1 {
		t.Errorf("%d sends in flight at once while the platform was down; want one probe at a time", maxDown)
	}
	// One probe per backoff step of the spell, not one per row per step.
	if limit := int(time.Since(start)/(20*time.Millisecond)) + 12; attempts > limit {
		t.Errorf("%d attempts in %s of outage; want at most %d (one probe per capped backoff)", attempts, time.Since(start), limit)
	}
	f.setDown(false)
	waitUntil(t, 5*time.Second, "the queue to drain after the outage", r.drained)
	r.stop()
	for _, a := range addrs {
		want := []string{a.Chat + "-0", a.Chat + "-1", a.Chat + "-2", a.Chat + "-3", a.Chat + "-4"}
		if got := f.texts(a); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s got %v, want %v in order", a, got, want)
		}
	}
	if s, _ := st.Stats(); s.Failed != 0 || s.Delivered != len(ms) {
		t.Errorf("after the outage: %+v; want %d delivered, none failed", s, len(ms))
	}
	if since, _ := d.Unreachable(); !since.IsZero() {
		t.Errorf("still unreachable since %v after deliveries went through", since)
	}
	if d.Failed.Load() != 0 || d.GaveUp.Load() != 0 || d.Retried.Load() < 12 {
		t.Errorf("counters failed=%d gave_up=%d retried=%d", d.Failed.Load(), d.GaveUp.Load(), d.Retried.Load())
	}
}

// Rows put off by the outage go as soon as the platform answers, not when
// their own backoff (here a minute) runs out.
func TestOutageReleasesRowsOnRecovery(t *testing.T) {
	f := newFakePlatform()
	r := newRig(t, policy(f.send), outbox.Options{Workers: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: time.Minute})
	a, b := flows.Address{Channel: "x", Chat: "a"}, flows.Address{Channel: "x", Chat: "b"}
	f.setDown(true)
	r.enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "a1"}, flows.Message{To: b, Kind: flows.KindSend, Text: "b1"})
	r.start()
	// Both rows fail at least once (the second after the spell's first backoff).
	waitUntil(t, 5*time.Second, "both rows to fail", func() bool {
		rows, _ := r.st.Rows(outbox.StatusPending)
		n := 0
		for _, row := range rows {
			if row.Attempts > 0 {
				n++
			}
		}
		return n == 2
	})
	f.setDown(false)
	r.enqueue(flows.Message{To: flows.Address{Channel: "x", Chat: "c"}, Kind: flows.KindSend, Text: "c1"})
	waitUntil(t, 5*time.Second, "the put-off rows to go once the platform answers", r.drained)
	r.stop()
}

// A row still failing transiently when it is older than GiveUpAfter is
// given up: recorded as failed with the reason, counted, and reported
// (Recovered) with the spell once a delivery goes through again. A
// younger row of the same outage waits and is delivered.
func TestGiveUpAfterAge(t *testing.T) {
	// The clock runs (the dispatcher waits on it) and jumps 73 hours.
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())).UTC() }
	f := newFakePlatform()
	var mu sync.Mutex
	var reports []outbox.Outage
	r := newRig(t, policy(f.send), outbox.Options{Workers: 2, Now: now,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, GiveUpAfter: 72 * time.Hour,
		Recovered: func(o outbox.Outage) { mu.Lock(); reports = append(reports, o); mu.Unlock() }})
	st, d := r.st, r.d
	old1, old2 := flows.Address{Channel: "x", Chat: "old1"}, flows.Address{Channel: "x", Chat: "old2"}
	fresh := flows.Address{Channel: "x", Chat: "fresh"}
	r.enqueue(flows.Message{To: old1, Kind: flows.KindSend, Text: "stale 1", Ticket: "BX-1"},
		flows.Message{To: old2, Kind: flows.KindSend, Text: "stale 2", Ticket: "BX-2"})
	offset.Store(int64(73 * time.Hour))
	r.enqueue(flows.Message{To: fresh, Kind: flows.KindSend, Text: "fresh", Ticket: "BX-3"})
	f.setDown(true)
	r.start()
	waitUntil(t, 5*time.Second, "the two stale rows to be given up", func() bool { s, _ := st.Stats(); return s.Failed == 2 })
	time.Sleep(30 * time.Millisecond)
	mu.Lock()
	early := len(reports)
	mu.Unlock()
	if early != 0 {
		t.Errorf("reported while the platform was still down")
	}
	f.setDown(false)
	waitUntil(t, 5*time.Second, "the fresh row", r.drained)
	waitUntil(t, 5*time.Second, "the report", func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 })
	r.stop()
	if got := f.texts(fresh); len(got) != 1 {
		t.Errorf("fresh row delivered %v", got)
	}
	if len(f.texts(old1))+len(f.texts(old2)) != 0 {
		t.Errorf("a given-up row was delivered")
	}
	failed, _ := st.Rows(outbox.StatusFailed)
	for _, row := range failed {
		if !strings.Contains(row.LastError, "given up") || !strings.Contains(row.LastError, "502") {
			t.Errorf("row %d failed with %q; want the reason and the last error", row.ID, row.LastError)
		}
	}
	rep := reports[0]
	if rep.GaveUpN != 2 || len(rep.GaveUp) != 2 || rep.Since.IsZero() || !rep.Until.After(rep.Since.Add(-time.Nanosecond)) || rep.After != 72*time.Hour {
		t.Errorf("report %+v", rep)
	}
	if d.GaveUp.Load() != 2 || d.Failed.Load() != 0 {
		t.Errorf("gave_up=%d failed=%d; want 2 given up, 0 permanent", d.GaveUp.Load(), d.Failed.Load())
	}
}

// A permanent verdict still fails a row at once, and ends a spell (the
// platform answered).
func TestPermanentFailsAtOnce(t *testing.T) {
	errBlocked := errors.New("403 blocked")
	var calls atomic.Int32
	p := policy(func(context.Context, outbox.Row) (string, error) { calls.Add(1); return "", errBlocked })
	p.Judge = func(err error) outbox.Verdict { return outbox.Verdict{Permanent: errors.Is(err, errBlocked)} }
	r := newRig(t, p, outbox.Options{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	r.enqueue(flows.Message{To: flows.Address{Channel: "x", Chat: "a"}, Kind: flows.KindSend, Text: "hi"})
	r.start()
	waitUntil(t, 5*time.Second, "the row to fail", func() bool { s, _ := r.st.Stats(); return s.Failed == 1 })
	r.stop()
	if calls.Load() != 1 || r.d.Failed.Load() != 1 {
		t.Errorf("calls=%d failed=%d; want one attempt, failed", calls.Load(), r.d.Failed.Load())
	}
}
