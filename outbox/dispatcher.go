// Package outbox delivers the durable outbox for one channel: the oldest
// row of each address first (per-address order; a card's Retire edit,
// which shows nothing new, waits behind the rows after it), urgent rows
// before others across addresses, within the channel's rate budgets, with
// retries and backoff, permanent errors recorded on the row, and card
// edits coalesced.
// An address's oldest row goes with the most urgent priority queued behind
// it (priority inheritance), and command menus, whose order among the
// other messages does not matter, keep a lane of their own: a backlog of
// reminders and menus never holds up a reply or an emergency page.
// Channels (bot/telegram, bot/wecom) supply a Policy: which addresses are
// theirs, which budgets a message spends, how to send it and how to judge
// a failure.
//
// The rows (Row, CardRef, Stats, the Status values) are this package's;
// a store keeps them and implements Queue, the delivery side of the
// outbox. outbox never imports a store: any implementation of Queue will
// do (the bbolt store says so with var _ outbox.Queue = (*Store)(nil)).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
)

// Verdict says what to do with a failed send.
type Verdict struct {
	// Pause: the platform said slow down; this address waits, the row is
	// retried without counting an attempt.
	Pause time.Duration
	// Defer: a budget of ours was spent during the delivery; the row waits,
	// not an attempt, and counts as delayed.
	Defer time.Duration
	// Permanent: retrying cannot help; the row is recorded as failed.
	Permanent bool
}

// Policy is what a channel tells the dispatcher.
type Policy struct {
	// Name appears in logs ("telegram", "wecom").
	Name string
	// Owns says which addresses this dispatcher delivers to.
	Owns func(flows.Address) bool
	// Budgets are what a message spends besides the global one
	// (its chat, its members...). Called with the dispatcher's lock held;
	// nil entries are ignored.
	Budgets func(m flows.Message) []Budget
	// Global bounds all sends together.
	Global *rate.Limiter
	// Send performs one row and returns the platform's message id.
	Send func(ctx context.Context, r Row) (string, error)
	// Judge classifies a failed send; the zero Verdict is a transient error.
	Judge func(err error) Verdict
	// Redact cleans error texts before they are stored or logged.
	Redact func(string) string
	// DelayNotice: a budget wait at least this long is counted and logged
	// as a delay (0: every wait). Short per-chat waits are normal pacing.
	DelayNotice time.Duration
	// Digest, when set, folds new dispatch cards (KindSend rows with a
	// flows.GroupCardKey, not urgent) that wait for the same address into
	// one message: their text and buttons. A busy group whose budget is
	// spent then gets one digest card instead of a queue of cards minutes
	// long (DESIGN.md, overflow).
	Digest func(rows []Row) flows.Message
	// DigestMax bounds the cards in one digest (default 8).
	DigestMax int
	// DigestAfter: cards fold only once the oldest has waited this long
	// (default 10 s) — a backlog, not two reports that came together.
	DigestAfter time.Duration
}

// Options tune delivery.
type Options struct {
	// Queue holds the rows (the store); required.
	Queue   Queue
	Log     zerolog.Logger
	Now     func() time.Time
	Workers int
	// BaseBackoff is the first retry delay after a transient failure; it
	// doubles with every attempt up to MaxBackoff, and a transient failure
	// is retried at that pace for as long as it lasts: it never exhausts a
	// row. Only a permanent verdict fails a row, or its age (GiveUpAfter).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// GiveUpAfter: a row that fails transiently when it is older than this
	// is given up (recorded as failed, logged, counted and reported
	// through Recovered); default 72 h, negative never.
	GiveUpAfter time.Duration
	// Recovered, when set, is told about the rows given up once a delivery
	// goes through again (the platform is back, so the admins can be told
	// on it). It runs on a delivery's goroutine, after the row is recorded.
	Recovered func(Outage)
	// SendTimeout bounds one send (default 30 s).
	SendTimeout time.Duration
	// Leading, when set, says whether this process may deliver: several
	// replicas share one database and only the leader sends, so the
	// platforms' budgets are spent by one process (store/postgres's
	// Campaign). While it is false the dispatcher claims nothing and looks
	// again every followerPoll. Nil is a process of its own (bbolt).
	Leading func() bool
}

// Outage is what Options.Recovered is told: the spell of transient
// failures that ended (Since is zero when the platform kept answering
// other chats meanwhile) and the rows given up since the last report.
type Outage struct {
	Since, Until time.Time
	// Failures counts the transient failures of the spell.
	Failures int
	// GaveUp are the rows given up (the first maxReported), GaveUpN all of them.
	GaveUp  []Row
	GaveUpN int
	// After is Options.GiveUpAfter.
	After time.Duration
}

// maxReported bounds the rows an Outage carries.
const maxReported = 50

// UnreachableAfter is how long transient failures must go on with no
// delivery between them before a channel reports its platform unreachable
// (a single 502 is not an outage).
const UnreachableAfter = time.Minute

// Dispatcher runs the delivery loop of one channel.
type Dispatcher struct {
	p        Policy
	o        Options
	mu       sync.Mutex
	addrs    map[string]*addrState
	busy     map[string]bool // lanes with a send in flight
	kept     int             // addresses left by the last sweep (the next waits for twice as many)
	inflight map[uint64]bool
	sem      chan struct{}
	wake     chan struct{}
	notify   <-chan struct{}
	wg       sync.WaitGroup
	done     chan struct{}

	// outage is the current spell of transient failures (guarded by mu);
	// during it one send at a time probes the platform, no sooner than
	// probeAt (the backoff of the spell, not of each row, so a queue of
	// thousands makes one attempt per MaxBackoff, not thousands).
	// retrying are the rows it put off, released at once when it ends
	// (release) instead of waiting out their own backoff.
	outage   Outage
	probeAt  time.Time
	retrying map[uint64]bool
	release  map[uint64]bool
	// report holds the rows given up and not yet reported (guarded by mu).
	report Outage
	// waiting and oldest are the channel's own pending rows and the oldest
	// one's creation, as of the last round (guarded by mu); lastSent is
	// when a delivery last went through (unix ns).
	waiting  int
	oldest   time.Time
	lastSent atomic.Int64

	// Counters since start: delivered, retried after a transient error,
	// paused by the platform (429, frequency limits), failed for good,
	// held back because a budget was spent (queued, never dropped), cards
	// folded into digests, and rows given up after GiveUpAfter.
	Sent, Retried, Paused, Failed, Delayed, Folded, GaveUp atomic.Int64
}

// addrState is what the dispatcher knows of one address: a pause the
// platform asked for and when a delay was last logged. Which of its lanes
// is busy is in Dispatcher.busy.
type addrState struct {
	blockedUntil time.Time
	delayedLog   time.Time
}

// lane is the order a row keeps: the rows of one address go one at a
// time, oldest first, except those whose order does not matter
// (orderless), which keep a lane of their own beside it, so a command
// menu never holds up a reply.
func lane(r Row) string {
	if orderless(r.Msg) {
		return r.Msg.To.String() + "\x00orderless"
	}
	return r.Msg.To.String()
}

// orderless reports a message whose order among its address's messages
// does not matter: a command menu (the latest one still lands last, as
// menus keep their own order).
func orderless(m flows.Message) bool { return m.Kind == flows.KindMenu }

// New builds a dispatcher; Open starts it.
func New(p Policy, o Options) *Dispatcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.GiveUpAfter == 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if p.Redact == nil {
		p.Redact = func(s string) string { return s }
	}
	if p.Judge == nil {
		p.Judge = func(error) Verdict { return Verdict{} }
	}
	if p.DigestMax <= 0 {
		p.DigestMax = 8
	}
	if p.DigestAfter <= 0 {
		p.DigestAfter = 10 * time.Second
	}
	if p.Budgets == nil {
		p.Budgets = func(flows.Message) []Budget { return nil }
	}
	return &Dispatcher{p: p, o: o, addrs: map[string]*addrState{}, busy: map[string]bool{}, inflight: map[uint64]bool{},
		retrying: map[uint64]bool{}, release: map[uint64]bool{},
		sem: make(chan struct{}, o.Workers), wake: make(chan struct{}, 1)}
}

// DefaultGiveUpAfter is how old a row that still fails transiently may
// grow before it is given up.
const DefaultGiveUpAfter = 72 * time.Hour

// Progress reports the channel's own pending rows as of the last round
// (how many, the oldest one's creation) and when a delivery last went
// through (zero: none since start), so a health check can tell a queue
// that moves from one that does not.
func (d *Dispatcher) Progress() (waiting int, oldest, lastSent time.Time) {
	d.mu.Lock()
	waiting, oldest = d.waiting, d.oldest
	d.mu.Unlock()
	if n := d.lastSent.Load(); n != 0 {
		lastSent = time.Unix(0, n)
	}
	return waiting, oldest, lastSent
}

// Unreachable reports the current spell of transient failures: since is
// the first failure after the last answer from the platform (zero while
// it answers), failures how many there were since.
func (d *Dispatcher) Unreachable() (since time.Time, failures int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.outage.Since, d.outage.Failures
}

// Open starts the delivery loop; cancelling ctx stops it.
func (d *Dispatcher) Open(ctx context.Context) {
	d.done = make(chan struct{})
	d.notify = d.o.Queue.Subscribe()
	go d.loop(ctx)
}

// Close waits for the loop and in-flight deliveries to end (the context
// given to Open must be cancelled first).
func (d *Dispatcher) Close() {
	if d.done != nil {
		<-d.done
	}
}

// Poke wakes the loop.
func (d *Dispatcher) Poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) loop(ctx context.Context) {
	defer close(d.done)
	defer d.wg.Wait()
	for {
		if d.o.Leading != nil && !d.o.Leading() {
			if !sleepCtx(ctx, followerPoll) {
				return
			}
			continue
		}
		start := time.Now()
		wait := d.dispatch(ctx)
		spent := time.Since(start)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.notify:
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
		// A pass reads every pending row. With a large backlog (after an
		// outage) that costs milliseconds, and every finished send wakes
		// the loop: a pass per send would spend a core decoding the same
		// rows and deliver a fraction of the platform's budget. Resting as
		// long as the pass took keeps the loop under half a core; sends
		// finishing meanwhile are picked up together by the next pass. A
		// short queue's pass takes microseconds and rests as little.
		if rest := min(spent, maxRest) - time.Since(start.Add(spent)); rest > 0 && !sleepCtx(ctx, rest) {
			return
		}
	}
}

// maxRest bounds the loop's rest between passes (see loop).
const maxRest = 100 * time.Millisecond

// followerPoll is how often a dispatcher that does not lead looks whether
// it leads now.
const followerPoll = 250 * time.Millisecond

func (d *Dispatcher) addr(a flows.Address) *addrState {
	k := a.String()
	st := d.addrs[k]
	if st == nil {
		if len(d.addrs) >= max(MaxTracked, 2*d.kept) {
			d.sweep(d.o.Now())
			d.kept = len(d.addrs)
		}
		st = &addrState{}
		d.addrs[k] = st
	}
	return st
}

// MaxTracked is how many addresses (or chats, members...) a sender keeps
// state of before it forgets the idle ones (no pause, no recent delay
// notice: they behave as new); after a sweep the next waits until the
// state has doubled, so a burst of busy addresses costs no quadratic
// sweeping. The channels' own per-chat budgets use it too.
const MaxTracked = 1000

// sweep forgets the idle addresses; called with the lock held.
func (d *Dispatcher) sweep(now time.Time) {
	for k, st := range d.addrs {
		if !st.blockedUntil.After(now) && now.Sub(st.delayedLog) >= time.Minute {
			delete(d.addrs, k)
		}
	}
}

// WithLock runs fn with the dispatcher's lock held: the lock Policy.Budgets
// runs under, so a channel can read state its budgets keep.
func (d *Dispatcher) WithLock(fn func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn()
}

// Tracked is how many addresses the dispatcher keeps state of.
func (d *Dispatcher) Tracked() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.addrs)
}

// WaitFor is how long until every budget allows one more send (0: now).
func WaitFor(now time.Time, bs ...Budget) time.Duration {
	var w time.Duration
	for _, b := range bs {
		if b != nil {
			w = max(w, b.WaitAt(now))
		}
	}
	return w
}

// Take spends one send of each budget.
func Take(now time.Time, bs ...Budget) {
	for _, b := range bs {
		if b != nil {
			b.TakeAt(now)
		}
	}
}

// dispatch starts every delivery allowed now and says how long to sleep
// before something else may become allowed.
func (d *Dispatcher) dispatch(ctx context.Context) time.Duration {
	const idle = 2 * time.Second
	// Read the pending rows with the lock held: a delivery that finishes
	// marks its row delivered before it takes the lock to leave the
	// in-flight set, so the snapshot either lacks the row or still sees it
	// in flight — never a delivered row that looks sendable again.
	d.mu.Lock()
	defer d.mu.Unlock()
	rows, err := d.o.Queue.Pending(2000)
	if err != nil {
		d.o.Log.Error().Err(err).Str("channel", d.p.Name).Msg("outbox: read pending")
		return time.Second
	}
	now := d.o.Now()
	wait := idle
	soon := func(w time.Duration) {
		w = max(w, time.Millisecond)
		if w < wait {
			wait = w
		}
	}
	latestEdit := map[string]uint64{}
	for _, r := range rows {
		if d.p.Owns(r.Msg.To) && r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" {
			latestEdit[r.Msg.CardKey] = r.ID
		}
	}
	// Priority inheritance: a lane's head goes with the most urgent
	// priority queued behind it, or an old reminder would hold an
	// emergency page to the same person behind every other reminder.
	inherit := map[string]flows.Priority{}
	d.waiting, d.oldest = 0, time.Time{}
	for _, r := range rows {
		if d.p.Owns(r.Msg.To) {
			if p, ok := inherit[lane(r)]; !ok || r.Msg.Priority < p {
				inherit[lane(r)] = r.Msg.Priority
			}
			if d.waiting++; d.oldest.IsZero() || r.Created.Before(d.oldest) {
				d.oldest = r.Created
			}
		}
	}
	head := map[string]bool{}
	retire := map[string]Row{}    // a lane's oldest Retire edit, held behind the row after it
	ready := map[string]bool{}    // lanes whose head is a candidate
	realEdit := map[string]bool{} // a superseded edit of the card was a real change
	var cands []Row
	for _, r := range rows {
		if !d.p.Owns(r.Msg.To) {
			continue
		}
		if r.Msg.Refresh && realEdit[r.Msg.CardKey] && latestEdit[r.Msg.CardKey] == r.ID {
			r.Msg.Refresh = false // as MarkSuperseded stored it
		}
		key := lane(r)
		if head[key] {
			continue // only the oldest row of a lane may go: per-address order
		}
		if d.inflight[r.ID] {
			head[key] = true
			continue
		}
		if r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" && latestEdit[r.Msg.CardKey] != r.ID {
			// Only a card's latest state matters: drop the older edit.
			if err := d.o.Queue.MarkSuperseded(r.ID, latestEdit[r.Msg.CardKey], now); err != nil {
				d.o.Log.Error().Err(err).Uint64("row", r.ID).Msg("outbox: supersede")
				head[key] = true
			} else if !r.Msg.Refresh {
				realEdit[r.Msg.CardKey] = true
			}
			continue
		}
		if r.Msg.Retire {
			// A retirement only takes old buttons away: the next row of
			// the lane (the technician's next answer) goes before it, and
			// it goes when nothing else of the lane is ready.
			if _, ok := retire[key]; !ok {
				retire[key] = r
			}
			continue
		}
		head[key] = true
		if d.ready(r, key, now, soon) {
			cands = append(cands, r)
			ready[key] = true
		}
	}
	for key, r := range retire {
		if !head[key] || !ready[key] {
			if d.ready(r, key, now, soon) {
				cands = append(cands, r)
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		pi, pj := inherit[lane(cands[i])], inherit[lane(cands[j])]
		if pi != pj {
			return pi < pj
		}
		return cands[i].ID < cands[j].ID
	})
	for _, r := range cands {
		if len(d.sem) == cap(d.sem) {
			break // a finishing worker wakes the loop
		}
		if !d.outage.Since.IsZero() {
			// The platform is not answering: one send at a time probes it,
			// at the spell's pace; the others wait rather than pile up
			// failures and timeouts.
			if len(d.sem) > 0 {
				break
			}
			if d.probeAt.After(now) {
				soon(d.probeAt.Sub(now))
				break
			}
		}
		lims := d.p.Budgets(r.Msg)
		st := d.addr(r.Msg.To)
		if w := WaitFor(now, lims...); w > 0 {
			d.delayed(r, st, now, w)
			soon(w)
			continue
		}
		// The global budget is reserved a little ahead: the worker waits
		// for its slot itself, so consecutive sends are spaced by the
		// limiter, not by this loop's wake-ups and pending reads.
		res := d.p.Global.ReserveN(now, 1)
		delay := res.DelayFrom(now)
		if !res.OK() || delay > reserveAhead {
			res.CancelAt(now)
			soon(delay)
			break
		}
		// The other budgets are spent when the send goes out, after the
		// global slot: spent now, a send that waited for its slot would
		// follow the previous one to its chat sooner than the budget
		// allows (and a WeCom window would count it early).
		at := now.Add(delay)
		if w := WaitFor(at, lims...); w > 0 {
			res.CancelAt(now)
			d.delayed(r, st, now, w)
			soon(w)
			continue
		}
		Take(at, lims...)
		d.busy[lane(r)] = true
		d.inflight[r.ID] = true
		delete(d.release, r.ID)
		d.sem <- struct{}{}
		d.wg.Add(1)
		if fold := d.foldable(rows, r, now); len(fold) > 1 {
			for _, f := range fold {
				d.inflight[f.ID] = true
			}
			go d.deliverDigest(ctx, fold, st, delay)
			continue
		}
		go d.deliver(ctx, r, st, delay)
	}
	return wait
}

// ready reports whether r, the row of lane key that may go next, can be
// sent now (its lane idle, its retry due, its address not paused);
// otherwise soon hears when to look again.
func (d *Dispatcher) ready(r Row, key string, now time.Time, soon func(time.Duration)) bool {
	st := d.addr(r.Msg.To)
	switch {
	case d.busy[key]:
	case r.NextAttempt.After(now) && !d.release[r.ID]:
		soon(r.NextAttempt.Sub(now))
	case st.blockedUntil.After(now):
		soon(st.blockedUntil.Sub(now))
	default:
		return true
	}
	return false
}

// reserveAhead is how far ahead a send may book the global budget.
const reserveAhead = 250 * time.Millisecond

// sleepCtx waits d or until ctx ends; it reports whether to go on.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// newCard reports a row the digest may fold: a new dispatch card, not
// urgent (never another card, such as a technician's step card).
func newCard(r Row) bool {
	return r.Msg.Kind == flows.KindSend && strings.HasPrefix(r.Msg.CardKey, dispatchCards) && r.Msg.Priority != flows.PrioUrgent
}

// dispatchCards is the card key prefix of the group's dispatch cards.
var dispatchCards = flows.GroupCardKey("")

// foldable lists the new cards waiting for head's address, head first,
// when the policy folds, head is one, and it has waited (a backlog).
// Called with the lock held.
func (d *Dispatcher) foldable(rows []Row, head Row, now time.Time) []Row {
	if d.p.Digest == nil || !newCard(head) || now.Sub(head.Created) < d.p.DigestAfter {
		return nil
	}
	out := []Row{head}
	for _, r := range rows {
		if len(out) >= d.p.DigestMax {
			break
		}
		if r.ID != head.ID && r.Msg.To == head.Msg.To && newCard(r) && !d.inflight[r.ID] && r.NextAttempt.IsZero() {
			out = append(out, r)
		}
	}
	return out
}

// deliverDigest sends several new cards as one message. A failure is
// judged as the first card's; the others stay pending and fold again.
func (d *Dispatcher) deliverDigest(ctx context.Context, rows []Row, st *addrState, delay time.Duration) {
	head := rows[0]
	digest := head
	digest.Msg = d.p.Digest(rows)
	digest.Msg.To, digest.Msg.Kind, digest.Msg.CardKey = head.Msg.To, flows.KindSend, ""
	defer func() {
		d.mu.Lock()
		for _, r := range rows[1:] {
			delete(d.inflight, r.ID)
		}
		d.mu.Unlock()
	}()
	if !sleepCtx(ctx, delay) {
		d.finish(ctx, head, st, "", ctx.Err()) // shutting down: stays pending
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
	id, err := d.p.Send(sctx, digest)
	cancel()
	if err != nil {
		d.finish(ctx, head, st, "", err) // judged and recorded on the first card
		return
	}
	ids := make([]uint64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	d.Sent.Add(1)
	d.Folded.Add(int64(len(rows)))
	if err := d.o.Queue.MarkDigest(ids, id, d.o.Now()); err != nil {
		d.o.Log.Error().Err(err).Msg("outbox: mark digest delivered")
	}
	d.lastSent.Store(d.o.Now().UnixNano())
	d.answered(d.o.Now())
	d.finish(ctx, head, st, id, errDigestDone)
}

// delayed notes a row held back by a spent budget (a wait of at least
// Policy.DelayNotice), at most once a minute per address.
func (d *Dispatcher) delayed(r Row, st *addrState, now time.Time, w time.Duration) {
	if w < d.p.DelayNotice || now.Sub(st.delayedLog) < time.Minute {
		return
	}
	st.delayedLog = now
	d.Delayed.Add(1)
	d.o.Log.Warn().Str("channel", d.p.Name).Uint64("row", r.ID).Str("to", r.Msg.To.String()).Dur("delay", w).
		Msg("outbox: rate budget spent; message queued, not sent")
}

func (d *Dispatcher) deliver(ctx context.Context, r Row, st *addrState, delay time.Duration) {
	if !sleepCtx(ctx, delay) {
		d.finish(ctx, r, st, "", ctx.Err()) // shutting down before its slot: stays pending
		return
	}
	// A send that started finishes even when Close cancels ctx: cutting it
	// off would leave a message the platform may already have accepted
	// pending, and it would go out a second time after the restart.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
	id, err := d.p.Send(sctx, r)
	cancel()
	d.finish(ctx, r, st, id, err)
}

// errDigestDone tells finish that the row was already recorded.
var errDigestDone = errors.New("delivered in a digest")

// finish records the outcome of a send and frees the address and the worker.
func (d *Dispatcher) finish(ctx context.Context, r Row, st *addrState, id string, err error) {
	defer d.wg.Done()
	defer func() {
		d.mu.Lock()
		delete(d.busy, lane(r))
		delete(d.inflight, r.ID)
		d.mu.Unlock()
		<-d.sem
		d.Poke()
	}()
	if errors.Is(err, errDigestDone) {
		return
	}
	log := d.o.Log.With().Str("channel", d.p.Name).Uint64("row", r.ID).Str("to", r.Msg.To.String()).
		Str("kind", string(r.Msg.Kind)).Str("ticket", r.Msg.Ticket).Logger()
	now := d.o.Now()
	q := d.o.Queue
	if err == nil {
		d.Sent.Add(1)
		if err := q.MarkDelivered(r.ID, id, now); err != nil {
			log.Error().Err(err).Msg("outbox: mark delivered")
		}
		d.lastSent.Store(now.UnixNano())
		d.answered(now)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the row stays pending and goes out after restart
	}
	msg := d.p.Redact(err.Error())
	v := d.p.Judge(err)
	switch {
	case v.Defer > 0:
		d.mu.Lock()
		d.delayed(r, st, now, max(v.Defer, d.p.DelayNotice))
		d.mu.Unlock()
		if err := q.MarkRetry(r.ID, now.Add(v.Defer), msg, false); err != nil {
			log.Error().Err(err).Msg("outbox: mark retry")
		}
	case v.Pause > 0:
		d.Paused.Add(1)
		d.mu.Lock()
		st.blockedUntil = now.Add(v.Pause)
		d.mu.Unlock()
		log.Warn().Dur("pause", v.Pause).Msg("outbox: the platform asked to slow down; pausing this address")
		if err := q.MarkRetry(r.ID, now.Add(v.Pause), msg, false); err != nil {
			log.Error().Err(err).Msg("outbox: mark retry")
		}
		d.answered(now)
	case v.Permanent:
		d.Failed.Add(1)
		log.Error().Str("err", msg).Int("attempts", r.Attempts+1).Msg("outbox: delivery failed permanently")
		if err := q.MarkFailed(r.ID, msg, now); err != nil {
			log.Error().Err(err).Msg("outbox: mark failed")
		}
		d.answered(now)
	case d.o.GiveUpAfter > 0 && r.Age(now) >= d.o.GiveUpAfter:
		// A transient failure never exhausts a row; only its age does.
		d.GaveUp.Add(1)
		d.unanswered(now, r.ID, false)
		text := fmt.Sprintf("given up: undelivered for %s (older than outbox.give_up_after %s); last error: %s",
			r.Age(now).Round(time.Minute), d.o.GiveUpAfter, msg)
		log.Error().Str("err", msg).Int("attempts", r.Attempts+1).Time("created", r.Created).
			Msg("outbox: message given up: still failing after outbox.give_up_after")
		if err := q.MarkFailed(r.ID, text, now); err != nil {
			log.Error().Err(err).Msg("outbox: mark failed")
			return
		}
		r.LastError = text
		d.mu.Lock()
		if len(d.report.GaveUp) < maxReported {
			d.report.GaveUp = append(d.report.GaveUp, r)
		}
		d.report.GaveUpN++
		d.mu.Unlock()
	default:
		d.Retried.Add(1)
		d.unanswered(now, r.ID, true)
		back := d.backoff(r.Attempts)
		log.Warn().Str("err", msg).Dur("retry_in", back).Int("attempt", r.Attempts+1).Msg("outbox: transient failure")
		if err := q.MarkRetry(r.ID, now.Add(back), msg, true); err != nil {
			log.Error().Err(err).Msg("outbox: mark retry")
		}
	}
}

// backoff is the delay after a row's attempts-th transient failure:
// BaseBackoff doubling, capped at MaxBackoff.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	back := time.Duration(float64(d.o.BaseBackoff) * math.Pow(2, float64(min(attempts, 62))))
	if back > d.o.MaxBackoff || back <= 0 {
		back = d.o.MaxBackoff
	}
	return back
}

// unanswered records a transient failure: the platform (or the way to it)
// did not answer. The spell starts at the first; a retried row is
// remembered so that it goes as soon as the spell ends.
func (d *Dispatcher) unanswered(now time.Time, id uint64, retry bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.outage.Since.IsZero() {
		d.outage.Since = now
		clear(d.release)
	}
	d.probeAt = now.Add(d.backoff(d.outage.Failures))
	d.outage.Failures++
	if retry {
		d.retrying[id] = true
	}
}

// answered records an answer from the platform (a delivery, a refusal, a
// "slow down"): a spell of transient failures ends, the rows it put off
// go at once, and rows given up are handed to Options.Recovered.
func (d *Dispatcher) answered(now time.Time) {
	d.mu.Lock()
	spell := d.outage
	if !spell.Since.IsZero() {
		d.outage = Outage{}
		for id := range d.retrying {
			d.release[id] = true
		}
		clear(d.retrying)
	}
	rep := d.report
	d.report = Outage{}
	d.mu.Unlock()
	if !spell.Since.IsZero() {
		d.o.Log.Info().Str("channel", d.p.Name).Time("since", spell.Since).Int("failures", spell.Failures).
			Dur("after", now.Sub(spell.Since).Round(time.Second)).Msg("outbox: the platform answers again")
		d.Poke()
	}
	if rep.GaveUpN == 0 {
		return
	}
	rep.Since, rep.Until, rep.Failures, rep.After = spell.Since, now, spell.Failures, d.o.GiveUpAfter
	if d.o.Recovered != nil {
		d.o.Recovered(rep)
	}
}
