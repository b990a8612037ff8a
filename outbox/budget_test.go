package outbox_test

import (
	"math/rand"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/outbox"
)

// TestWindowFullAllowance: N sends at once, the N+1st waits exactly until
// the first leaves the window, then goes.
func TestWindowFullAllowance(t *testing.T) {
	w := outbox.NewWindow(30, time.Minute)
	t0 := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 30; i++ {
		if d := w.WaitAt(t0); d != 0 {
			t.Fatalf("send %d waits %s within the allowance", i, d)
		}
		w.TakeAt(t0)
	}
	if d := w.WaitAt(t0.Add(10 * time.Second)); d != 50*time.Second {
		t.Fatalf("31st waits %s, want 50s", d)
	}
	if d := w.WaitAt(t0.Add(time.Minute)); d != 0 {
		t.Fatalf("a window later still waits %s", d)
	}
}

// TestWindowNeverExceeds: sends whenever allowed at random moments; no
// window of length Per ever holds more than N of them, and the allowance
// is used (a long run sends close to N per window).
func TestWindowNeverExceeds(t *testing.T) {
	const n, per = 7, time.Second
	w := outbox.NewWindow(n, per)
	rng := rand.New(rand.NewSource(1))
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	var sent []time.Time
	end := now.Add(100 * per)
	for now.Before(end) {
		if w.WaitAt(now) == 0 {
			w.TakeAt(now)
			sent = append(sent, now)
		}
		now = now.Add(time.Duration(rng.Intn(40)) * time.Millisecond)
	}
	for i := range sent {
		j := i
		for j < len(sent) && sent[j].Sub(sent[i]) < per {
			j++
		}
		if j-i > n {
			t.Fatalf("%d sends within one window starting at %d", j-i, i)
		}
	}
	if got := float64(len(sent)) / 100; got < 0.95*n {
		t.Fatalf("%.2f sends per window, want close to %d", got, n)
	}
}

// TestRateAdapter: the token bucket behind the Budget interface.
func TestRateAdapter(t *testing.T) {
	now := time.Now()
	b := outbox.Rate(rate.NewLimiter(rate.Every(time.Second), 1))
	if b.WaitAt(now) != 0 {
		t.Fatal("a full bucket waits")
	}
	b.TakeAt(now)
	if d := b.WaitAt(now); d < 900*time.Millisecond || d > time.Second {
		t.Fatalf("empty bucket waits %s, want ~1s", d)
	}
	if outbox.Rate(nil).WaitAt(now) != 0 || outbox.WaitFor(now, nil, outbox.NewWindow(0, 0)) != 0 {
		t.Fatal("no limit waits")
	}
}
