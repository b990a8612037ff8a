package outbox_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
)

// rig is a dispatcher test's set-up: a store of the test's own and a
// dispatcher delivering its queue.
type rig struct {
	t      *testing.T
	st     *store.Store
	d      *outbox.Dispatcher
	cancel context.CancelFunc
}

// newRig opens a store (on o.Now's clock, when set) and builds a
// dispatcher on it with p and o (Queue and Log set here); start starts it.
func newRig(t *testing.T, p outbox.Policy, o outbox.Options) *rig {
	t.Helper()
	st := openStore(t, o.Now)
	o.Queue, o.Log = st, zerolog.Nop()
	return &rig{t: t, st: st, d: outbox.New(p, o)}
}

// start opens the dispatcher; stop, or at the latest the test's end
// (before the store closes), stops it.
func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.d.Open(ctx)
	r.t.Cleanup(r.stop)
}

// stop cancels the dispatcher's context and waits for it to end (again,
// it does nothing).
func (r *rig) stop() {
	r.cancel()
	r.d.Close()
}

func (r *rig) enqueue(ms ...flows.Message) {
	r.t.Helper()
	enqueue(r.t, r.st, ms...)
}

// drained says whether nothing is pending (a condition for waitUntil).
func (r *rig) drained() bool { s, _ := r.st.Stats(); return s.Pending == 0 }

// policy is the policy of channel "x" with no global limit that delivers
// through send; a test sets the rest.
func policy(send func(context.Context, outbox.Row) (string, error)) outbox.Policy {
	return outbox.Policy{Name: "test", Owns: func(a flows.Address) bool { return a.Channel == "x" },
		Global: rate.NewLimiter(rate.Inf, 1), Send: send}
}

// sentTexts is a platform that takes every send and records its text.
type sentTexts struct {
	mu    sync.Mutex
	texts []string
}

// send records the row's text and returns it as the message's ID.
func (s *sentTexts) send(_ context.Context, r outbox.Row) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, r.Msg.Text)
	return r.Msg.Text, nil
}

// got is a copy of the texts sent so far, in order.
func (s *sentTexts) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

func openStore(t *testing.T, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "o.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func enqueue(t *testing.T, st *store.Store, ms ...flows.Message) {
	t.Helper()
	if err := st.Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(ms...) }); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
