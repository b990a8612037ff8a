package outbox

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budget is one allowance a send spends: how long until one more send is
// allowed (0: now), and spending it. Implementations are safe for
// concurrent use.
type Budget interface {
	WaitAt(now time.Time) time.Duration
	TakeAt(now time.Time)
}

// Rate adapts a token bucket (nil or rate.Inf: no limit).
func Rate(l *rate.Limiter) Budget { return rateBudget{l} }

type rateBudget struct{ l *rate.Limiter }

func (r rateBudget) WaitAt(now time.Time) time.Duration {
	if r.l == nil || r.l.Limit() == rate.Inf {
		return 0
	}
	if tok := r.l.TokensAt(now); tok < 1 {
		return time.Duration((1 - tok) / float64(r.l.Limit()) * float64(time.Second))
	}
	return 0
}

func (r rateBudget) TakeAt(now time.Time) {
	if r.l != nil {
		r.l.AllowN(now, 1)
	}
}

// Window allows at most N sends in any window of length Per, counted at
// the send times it was told about. Unlike a token bucket, whose burst plus
// refill must fit the window, it can use the whole allowance: N at once,
// then N again one window later. It suits platforms that drop sends beyond
// a rolling-window limit silently (WeCom), where the allowance is small and
// every unit matters. Memory: one timestamp per send in the last window.
type Window struct {
	n   int
	per time.Duration

	mu    sync.Mutex
	times []time.Time // sends within the last window, oldest first
}

// NewWindow: n <= 0 or per <= 0 means no limit.
func NewWindow(n int, per time.Duration) *Window { return &Window{n: n, per: per} }

// prune forgets sends that left the window; mu is held.
func (w *Window) prune(now time.Time) {
	i := 0
	for i < len(w.times) && now.Sub(w.times[i]) >= w.per {
		i++
	}
	if i > 0 {
		w.times = append(w.times[:0], w.times[i:]...)
	}
}

// WaitAt is 0 while fewer than N sends lie within the window ending now;
// otherwise the time until the oldest of the last N leaves it.
func (w *Window) WaitAt(now time.Time) time.Duration {
	if w == nil || w.n <= 0 || w.per <= 0 {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(now.Add(-keepBehind))
	i := 0
	for i < len(w.times) && now.Sub(w.times[i]) >= w.per {
		i++
	}
	if len(w.times)-i < w.n {
		return 0
	}
	return w.times[len(w.times)-w.n].Add(w.per).Sub(now)
}

// keepBehind is how much history beyond the window a Window keeps: the
// dispatcher asks about the moment a send will go out, a little ahead of
// now (the global budget's slot), and may then ask about an earlier
// moment for another send.
const keepBehind = time.Second

// Idle reports a window with no send in the last window (and none booked
// ahead): it allows what a new one would, so a sender may forget it.
func (w *Window) Idle(now time.Time) bool {
	if w == nil || w.n <= 0 || w.per <= 0 {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.times) == 0 || now.Sub(w.times[len(w.times)-1]) >= w.per+keepBehind
}

// TakeAt records a send at now. A send booked ahead (the dispatcher
// spends budgets at the time a send will go out) may be recorded before
// an earlier one: the times stay in order.
func (w *Window) TakeAt(now time.Time) {
	if w == nil || w.n <= 0 || w.per <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(now.Add(-keepBehind))
	i := len(w.times)
	for i > 0 && w.times[i-1].After(now) {
		i--
	}
	w.times = append(w.times, time.Time{})
	copy(w.times[i+1:], w.times[i:])
	w.times[i] = now
}
