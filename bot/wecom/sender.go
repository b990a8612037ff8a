package wecom

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

	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// Budget is at most N messages in any window of length Per.
type Budget struct {
	N   int
	Per time.Duration
}

// limiter builds a token bucket that never exceeds the budget in any
// window: a burst B plus refills at r never exceed B + r·Per, and one
// message of margin absorbs network jitter between us and the platform.
func (b Budget) limiter() *rate.Limiter {
	if b.N <= 0 || b.Per <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	burst := max(1, b.N/3)
	margin := 0
	if b.N >= 10 {
		margin = 1
	}
	refill := float64(b.N-burst-margin) / b.Per.Seconds()
	if refill <= 0 {
		refill = float64(b.N) / b.Per.Seconds() / 10
	}
	return rate.NewLimiter(rate.Limit(refill), burst)
}

// SendLimits shape outgoing traffic. WeCom drops message/send beyond 30 a
// minute or 1,000 an hour per member without an error, so these are
// enforced here: an over-budget row waits, it is never sent to be lost.
type SendLimits struct {
	Member     Budget // per member, short window (default 30/min)
	MemberLong Budget // per member, long window (default 1000/h)
	AppChat    Budget // per group chat (default 200/min)
	Kf         Budget // per kf customer (default 30/min)
	// GlobalPerSecond bounds all API sends together (default 20).
	GlobalPerSecond float64
	Workers         int
	MaxAttempts     int
	BaseBackoff     time.Duration
	MaxBackoff      time.Duration
	// MembersTTL is how long an appchat's member list is cached (default 5m).
	MembersTTL time.Duration
}

// Sender delivers WeCom and kf outbox rows: the oldest row of each address
// first (per-address order), urgent rows before others across addresses,
// within per-member, per-chat and global budgets.
type Sender struct {
	c        *Channel
	lim      SendLimits
	global   *rate.Limiter
	mu       sync.Mutex
	addrs    map[string]*addrState
	members  map[string]*memberState
	inflight map[uint64]bool
	sem      chan struct{}
	wake     chan struct{}
	notify   <-chan struct{}
	wg       sync.WaitGroup
	done     chan struct{}

	groupMu sync.Mutex
	groups  map[string]groupMembers

	// Counters for health and metrics. Delayed counts rows held back
	// because a member's budget was spent (queued, never dropped).
	Sent, Retried, Failed, Delayed atomic.Int64
}

type addrState struct {
	lim          *rate.Limiter // appchat or kf budget; nil for members
	busy         bool
	blockedUntil time.Time
	delayedLog   time.Time
}

type memberState struct{ short, long *rate.Limiter }

type groupMembers struct {
	ids     []string
	fetched time.Time
}

func newSender(c *Channel) *Sender {
	l := c.o.Send
	if l.Member.N <= 0 {
		l.Member = Budget{30, time.Minute}
	}
	if l.MemberLong.N <= 0 {
		l.MemberLong = Budget{1000, time.Hour}
	}
	if l.AppChat.N <= 0 {
		l.AppChat = Budget{200, time.Minute}
	}
	if l.Kf.N <= 0 {
		l.Kf = Budget{30, time.Minute}
	}
	if l.GlobalPerSecond <= 0 {
		l.GlobalPerSecond = 20
	}
	if l.Workers <= 0 {
		l.Workers = 4
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = 12
	}
	if l.BaseBackoff <= 0 {
		l.BaseBackoff = time.Second
	}
	if l.MaxBackoff < l.BaseBackoff {
		l.MaxBackoff = 5 * time.Minute
	}
	if l.MembersTTL <= 0 {
		l.MembersTTL = 5 * time.Minute
	}
	return &Sender{
		c: c, lim: l,
		global:   rate.NewLimiter(rate.Limit(l.GlobalPerSecond), 1),
		addrs:    map[string]*addrState{},
		members:  map[string]*memberState{},
		inflight: map[uint64]bool{},
		sem:      make(chan struct{}, l.Workers),
		wake:     make(chan struct{}, 1),
		groups:   map[string]groupMembers{},
	}
}

func (s *Sender) addr(a flows.Address) *addrState {
	key := a.String()
	st := s.addrs[key]
	if st == nil {
		st = &addrState{}
		switch {
		case a.Channel == KfChannel:
			st.lim = s.lim.Kf.limiter()
		case strings.HasPrefix(a.Chat, appchatPrefix):
			st.lim = s.lim.AppChat.limiter()
		}
		s.addrs[key] = st
	}
	return st
}

func (s *Sender) member(id string) *memberState {
	m := s.members[id]
	if m == nil {
		m = &memberState{short: s.lim.Member.limiter(), long: s.lim.MemberLong.limiter()}
		s.members[id] = m
	}
	return m
}

// wait is how long until every limiter has a token (0: now).
func waitFor(now time.Time, lims ...*rate.Limiter) time.Duration {
	var w time.Duration
	for _, l := range lims {
		if l == nil || l.Limit() == rate.Inf {
			continue
		}
		if tok := l.TokensAt(now); tok < 1 {
			d := time.Duration((1 - tok) / float64(l.Limit()) * float64(time.Second))
			w = max(w, d)
		}
	}
	return w
}

func take(now time.Time, lims ...*rate.Limiter) {
	for _, l := range lims {
		if l != nil {
			l.AllowN(now, 1)
		}
	}
}

// recipients are the members a row is charged to; nil for a group chat
// (charged in deliver, once its member list is known) and for kf.
func recipients(m flows.Message) []string {
	if m.To.Channel != ChannelName || strings.HasPrefix(m.To.Chat, appchatPrefix) {
		return nil
	}
	return strings.Split(m.To.Chat, "|")
}

// Open starts the delivery loop.
func (s *Sender) Open(ctx context.Context) {
	s.done = make(chan struct{})
	s.notify = s.c.o.Store.Subscribe()
	go s.loop(ctx)
}

// Close waits for the loop and in-flight deliveries to end (the context
// given to Open must be cancelled first).
func (s *Sender) Close() {
	if s.done != nil {
		<-s.done
	}
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) loop(ctx context.Context) {
	defer close(s.done)
	defer s.wg.Wait()
	for {
		wait := s.dispatch(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.notify:
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func ours(a flows.Address) bool { return a.Channel == ChannelName || a.Channel == KfChannel }

// dispatch starts every delivery allowed now and says how long to sleep
// before something else may become allowed.
func (s *Sender) dispatch(ctx context.Context) time.Duration {
	const idle = 2 * time.Second
	rows, err := s.c.o.Store.Pending(2000)
	if err != nil {
		s.c.o.Log.Error().Err(err).Msg("wecom outbox: read pending")
		return time.Second
	}
	now := s.c.now()
	wait := idle
	soon := func(d time.Duration) {
		d = max(d, time.Millisecond)
		if d < wait {
			wait = d
		}
	}
	latestEdit := map[string]uint64{}
	for _, r := range rows {
		if ours(r.Msg.To) && r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" {
			latestEdit[r.Msg.CardKey] = r.ID
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	head := map[string]bool{}
	var cands []store.OutboxRow
	for _, r := range rows {
		if !ours(r.Msg.To) {
			continue
		}
		key := r.Msg.To.String()
		if head[key] {
			continue
		}
		if s.inflight[r.ID] {
			head[key] = true
			continue
		}
		if r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" && latestEdit[r.Msg.CardKey] != r.ID {
			// Only a card's latest state matters: drop the older edit.
			if err := s.c.o.Store.MarkSuperseded(r.ID, now); err != nil {
				s.c.o.Log.Error().Err(err).Uint64("row", r.ID).Msg("wecom outbox: supersede")
				head[key] = true
			}
			continue
		}
		head[key] = true
		st := s.addr(r.Msg.To)
		switch {
		case st.busy:
		case r.NextAttempt.After(now):
			soon(r.NextAttempt.Sub(now))
		case st.blockedUntil.After(now):
			soon(st.blockedUntil.Sub(now))
		default:
			cands = append(cands, r)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].Msg.Priority != cands[j].Msg.Priority {
			return cands[i].Msg.Priority < cands[j].Msg.Priority
		}
		return cands[i].ID < cands[j].ID
	})
	for _, r := range cands {
		if len(s.sem) == cap(s.sem) {
			break // a finishing worker wakes the loop
		}
		st := s.addr(r.Msg.To)
		lims := []*rate.Limiter{st.lim}
		for _, id := range recipients(r.Msg) {
			m := s.member(id)
			lims = append(lims, m.short, m.long)
		}
		if w := waitFor(now, lims...); w > 0 {
			s.delayed(r, st, now, w)
			soon(w)
			continue
		}
		if w := waitFor(now, s.global); w > 0 {
			soon(w)
			break
		}
		take(now, lims...)
		take(now, s.global)
		st.busy = true
		s.inflight[r.ID] = true
		s.sem <- struct{}{}
		s.wg.Add(1)
		go s.deliver(ctx, r, st)
	}
	return wait
}

// delayed reports a row held back by a spent budget, at most once a
// minute per address.
func (s *Sender) delayed(r store.OutboxRow, st *addrState, now time.Time, w time.Duration) {
	if now.Sub(st.delayedLog) < time.Minute {
		return
	}
	st.delayedLog = now
	s.Delayed.Add(1)
	s.c.o.Log.Warn().Uint64("row", r.ID).Str("to", r.Msg.To.String()).Dur("delay", w).
		Msg("wecom outbox: rate budget spent; message queued, not sent (WeCom would drop it silently)")
}

// errBudget defers a group card until every member has budget again.
type errBudget struct{ wait time.Duration }

func (e *errBudget) Error() string { return fmt.Sprintf("member budget spent; retry in %s", e.wait) }

type permanentError struct{ s string }

func (e *permanentError) Error() string { return e.s }

func (s *Sender) deliver(ctx context.Context, r store.OutboxRow, st *addrState) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		st.busy = false
		delete(s.inflight, r.ID)
		s.mu.Unlock()
		<-s.sem
		s.poke()
	}()
	// A send that started finishes even when Close cancels ctx: cutting it
	// off could leave a message WeCom accepted pending, to go out twice.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	log := s.c.o.Log.With().Uint64("row", r.ID).Str("to", r.Msg.To.String()).Str("kind", string(r.Msg.Kind)).Str("ticket", r.Msg.Ticket).Logger()
	id, err := s.send(sctx, r)
	now := s.c.now()
	stor := s.c.o.Store
	if err == nil {
		s.Sent.Add(1)
		if err := stor.MarkDelivered(r.ID, id, now); err != nil {
			log.Error().Err(err).Msg("wecom outbox: mark delivered")
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the row stays pending and goes out after restart
	}
	var eb *errBudget
	if errors.As(err, &eb) {
		s.mu.Lock()
		s.delayed(r, st, now, eb.wait)
		s.mu.Unlock()
		if err := stor.MarkRetry(r.ID, now.Add(eb.wait), err.Error(), false); err != nil {
			log.Error().Err(err).Msg("wecom outbox: mark retry")
		}
		return
	}
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == errFreqLimit || ae.Code == errFreqLimit2) {
		// The platform says slow down: pause this address only.
		pause := 10 * time.Second
		s.mu.Lock()
		st.blockedUntil = now.Add(pause)
		s.mu.Unlock()
		log.Warn().Int("errcode", ae.Code).Msg("wecom outbox: frequency limit, pausing this address")
		if err := stor.MarkRetry(r.ID, now.Add(pause), err.Error(), false); err != nil {
			log.Error().Err(err).Msg("wecom outbox: mark retry")
		}
		return
	}
	var perm *permanentError
	if errors.As(err, &perm) || permanentAPI(err) || r.Attempts+1 >= s.lim.MaxAttempts {
		s.Failed.Add(1)
		log.Error().Err(err).Int("attempts", r.Attempts+1).Msg("wecom outbox: delivery failed permanently")
		if err := stor.MarkFailed(r.ID, err.Error(), now); err != nil {
			log.Error().Err(err).Msg("wecom outbox: mark failed")
		}
		return
	}
	s.Retried.Add(1)
	back := time.Duration(float64(s.lim.BaseBackoff) * math.Pow(2, float64(r.Attempts)))
	if back > s.lim.MaxBackoff || back <= 0 {
		back = s.lim.MaxBackoff
	}
	log.Warn().Err(err).Dur("retry_in", back).Msg("wecom outbox: transient failure")
	if err := stor.MarkRetry(r.ID, now.Add(back), err.Error(), true); err != nil {
		log.Error().Err(err).Msg("wecom outbox: mark retry")
	}
}

// groupMembers returns an appchat's members (cached).
func (s *Sender) groupMembers(ctx context.Context, chatID string) ([]string, error) {
	s.groupMu.Lock()
	g, ok := s.groups[chatID]
	s.groupMu.Unlock()
	if ok && s.c.now().Sub(g.fetched) < s.lim.MembersTTL {
		return g.ids, nil
	}
	var r struct {
		ChatInfo struct {
			UserList []string `json:"userlist"`
		} `json:"chat_info"`
	}
	if err := s.c.api.call(ctx, s.c.o.Secret, "GET", "/cgi-bin/appchat/get", map[string][]string{"chatid": {chatID}}, nil, &r); err != nil {
		return nil, err
	}
	s.groupMu.Lock()
	s.groups[chatID] = groupMembers{ids: r.ChatInfo.UserList, fetched: s.c.now()}
	s.groupMu.Unlock()
	return r.ChatInfo.UserList, nil
}

// chargeMembers takes one message from each member's budget, or says how
// long to wait when any of them has none left (then nothing is taken).
func (s *Sender) chargeMembers(ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.c.now()
	var lims []*rate.Limiter
	for _, id := range ids {
		m := s.member(id)
		lims = append(lims, m.short, m.long)
	}
	if w := waitFor(now, lims...); w > 0 {
		return &errBudget{wait: w}
	}
	take(now, lims...)
	return nil
}
