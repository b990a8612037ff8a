package wecom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Budget is at most N messages in any window of length Per.
type Budget struct {
	N   int
	Per time.Duration
}

// budget is a sliding window of N sends in Per plus a little slack: the
// platform counts a send when it arrives, a moment after we count it, so
// our window is longer by the largest delay we expect (1/60 of the window,
// at least 200 ms). A token bucket would have to split N into a burst and a
// refill and delivered about two thirds of the allowance in a long burst
// (docs/BENCHMARKS.md); the window delivers N at once and N again a window
// later, and can still never put N+1 into any platform window.
func (b Budget) budget() outbox.Budget {
	if b.N <= 0 || b.Per <= 0 {
		return nil
	}
	return outbox.NewWindow(b.N, b.Per+max(b.Per/60, 200*time.Millisecond))
}

// SendLimits shape outgoing traffic. WeCom drops message/send beyond 30 a
// minute or 1,000 an hour per member without an error, so these are
// enforced here: an over-budget row waits, it is never sent to be lost.
type SendLimits struct {
	Member     Budget // per member, short window (default 30/min)
	MemberLong Budget // per member, long window (default 1000/h)
	AppChat    Budget // per group chat (default 200/min)
	Kf         Budget // per kf customer (default 30/min)
	Robot      Budget // per group robot (default 20/min)
	// GlobalPerSecond bounds all API sends together (default 20).
	GlobalPerSecond float64
	Workers         int
	// BaseBackoff doubles up to MaxBackoff between the attempts of a row
	// that fails transiently; it is retried until it is older than
	// GiveUpAfter (outbox.Options).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	GiveUpAfter time.Duration
	// MembersTTL is how long an appchat's member list is cached (default 5m).
	MembersTTL time.Duration
}

// Sender delivers WeCom and kf outbox rows through an outbox.Dispatcher:
// the oldest row of each address first, urgent rows first across
// addresses, within per-member, per-chat, per-customer and global budgets.
type Sender struct {
	c   *Channel
	lim SendLimits

	mu      sync.Mutex // guards addrs and members (the budgets themselves are safe)
	addrs   map[string]outbox.Budget
	members map[string]*memberState
	kept    int // state left by the last sweep (the next waits for twice as much)

	groupMu sync.Mutex
	groups  map[string]groupMembers

	// Redelivered counts retried cards WeCom already had (errcode 42014
	// for the row's own task_id): delivered by the attempt whose answer
	// was lost, so recorded as delivered, not failed.
	Redelivered atomic.Int64
	// Retired counts group cards whose members' buttons were replaced by
	// the card's new state (update_template_card, atall).
	Retired atomic.Int64
	// Welcomed counts greetings sent with a welcome code
	// (kf/send_msg_on_event); WelcomeFallbacks those whose code was
	// refused or lost, sent with kf/send_msg instead.
	Welcomed, WelcomeFallbacks atomic.Int64

	welcome map[string]welcomeCode // enter_session codes, by kf chat; guarded by mu
	// kfWindows are the customers' 5-in-48-hours allowances, by kf chat;
	// guarded by mu.
	kfWindows map[string]*kfWindow
	// KfRefused counts kf sends the platform refused for that rule (the
	// row then waits for the customer); KfFolded rows sent inside the
	// last message of a window.
	KfRefused, KfFolded atomic.Int64

	*outbox.Dispatcher
}

type memberState struct{ short, long outbox.Budget }

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
	if l.Robot.N <= 0 {
		l.Robot = Budget{20, time.Minute}
	}
	if l.GlobalPerSecond <= 0 {
		l.GlobalPerSecond = 20
	}
	if l.MembersTTL <= 0 {
		l.MembersTTL = 5 * time.Minute
	}
	s := &Sender{c: c, lim: l, addrs: map[string]outbox.Budget{}, members: map[string]*memberState{}, groups: map[string]groupMembers{},
		welcome: map[string]welcomeCode{}, kfWindows: map[string]*kfWindow{}}
	s.Dispatcher = outbox.New(outbox.Policy{
		Name:    ChannelName,
		Owns:    ours,
		Budgets: s.budgets,
		Global:  rate.NewLimiter(rate.Limit(l.GlobalPerSecond), 1),
		Send:    s.send,
		Judge:   judge,
	}, outbox.Options{Queue: c.o.Outbox, Log: c.o.Log, Now: c.o.Now, Workers: l.Workers,
		BaseBackoff: l.BaseBackoff, MaxBackoff: l.MaxBackoff, GiveUpAfter: l.GiveUpAfter, SendTimeout: 60 * time.Second,
		Recovered: c.o.Deps.Recovered(c.Name()), Leading: c.o.Leading})
	return s
}

// budgets are what a message spends: its group chat or kf
// customer, and every member it reaches (short and long window).
func (s *Sender) budgets(m flows.Message) []outbox.Budget {
	if m.Retire {
		return nil // sends no message (render.go): it must not spend a member's allowance
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.addrs) + len(s.members) + len(s.kfWindows) + len(s.welcome); n >= max(outbox.MaxTracked, 2*s.kept) {
		s.sweep(s.c.now())
		s.kept = len(s.addrs) + len(s.members) + len(s.kfWindows) + len(s.welcome)
	}
	var lims []outbox.Budget
	key := m.To.String()
	lim, ok := s.addrs[key]
	if !ok {
		switch {
		case m.To.Channel == KfChannel:
			lim = s.lim.Kf.budget()
		case strings.HasPrefix(m.To.Chat, appchatPrefix):
			lim = s.lim.AppChat.budget()
		case m.To.Chat == robotChat:
			lim = s.lim.Robot.budget()
		}
		s.addrs[key] = lim
	}
	lims = append(lims, lim)
	if m.To.Channel == KfChannel {
		w := s.kfWindows[m.To.Chat]
		if w == nil {
			w = &kfWindow{s: s, chat: m.To.Chat}
			s.kfWindows[m.To.Chat] = w
		}
		lims = append(lims, w)
	}
	for _, id := range recipients(m) {
		mm := s.member(id)
		lims = append(lims, mm.short, mm.long)
	}
	return lims
}

// sweep forgets the per-address, per-member and per-customer state that
// allows what new state would: windows with no send in their last window,
// kf windows 48 hours past the customer's last message, welcome codes long
// expired. s.mu is held.
func (s *Sender) sweep(now time.Time) {
	idle := func(b outbox.Budget) bool {
		w, ok := b.(*outbox.Window)
		return b == nil || (ok && w.Idle(now))
	}
	for k, b := range s.addrs {
		if idle(b) {
			delete(s.addrs, k)
		}
	}
	for k, m := range s.members {
		if idle(m.short) && idle(m.long) {
			delete(s.members, k)
		}
	}
	for k, w := range s.kfWindows {
		w.mu.Lock()
		stale := !w.known || now.Sub(w.lastIn) >= kfWindowLen
		w.mu.Unlock()
		if stale {
			delete(s.kfWindows, k)
		}
	}
	for k, w := range s.welcome {
		if now.Sub(w.issued) >= time.Hour {
			delete(s.welcome, k)
		}
	}
	s.groupMu.Lock()
	for k, g := range s.groups {
		if now.Sub(g.fetched) >= s.lim.MembersTTL {
			delete(s.groups, k)
		}
	}
	s.groupMu.Unlock()
}

// Tracked is how many addresses, members, kf customers and welcome codes
// the sender keeps state of.
func (s *Sender) Tracked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.addrs) + len(s.members) + len(s.kfWindows) + len(s.welcome)
}

func (s *Sender) member(id string) *memberState {
	m := s.members[id]
	if m == nil {
		m = &memberState{short: s.lim.Member.budget(), long: s.lim.MemberLong.budget()}
		s.members[id] = m
	}
	return m
}

// recipients are the members a row is charged to; nil for a group chat
// or the robot (charged in sendGroup / sendRobot, once the members are
// known) and for kf.
func recipients(m flows.Message) []string {
	if m.To.Channel != ChannelName || strings.HasPrefix(m.To.Chat, appchatPrefix) || m.To.Chat == robotChat {
		return nil
	}
	return strings.Split(m.To.Chat, "|")
}

func ours(a flows.Address) bool { return a.Channel == ChannelName || a.Channel == KfChannel }

// judge classifies a failed send: a spent member budget waits, WeCom's
// frequency limits pause the address, errors retrying cannot fix fail the
// row, the rest are retried with backoff.
func judge(err error) outbox.Verdict {
	var eb *errBudget
	if errors.As(err, &eb) {
		return outbox.Verdict{Defer: eb.wait}
	}
	var kc *errKfClosed
	if errors.As(err, &kc) {
		// Briefly: from now on the customer's window holds the row, and
		// their next message releases it at once.
		return outbox.Verdict{Defer: time.Second}
	}
	var rf *robotFull
	if errors.As(err, &rf) {
		return outbox.Verdict{Pause: rf.wait}
	}
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == errFreqLimit || ae.Code == errFreqLimit2) {
		return outbox.Verdict{Pause: 10 * time.Second}
	}
	var perm *permanentError
	return outbox.Verdict{Permanent: errors.As(err, &perm) || permanentAPI(err)}
}

// errBudget defers a group card until every member has budget again.
type errBudget struct{ wait time.Duration }

func (e *errBudget) Error() string { return fmt.Sprintf("member budget spent; retry in %s", e.wait) }

type permanentError struct{ s string }

func (e *permanentError) Error() string { return e.s }

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
	var lims []outbox.Budget
	for _, id := range ids {
		m := s.member(id)
		lims = append(lims, m.short, m.long)
	}
	if w := outbox.WaitFor(now, lims...); w > 0 {
		return &errBudget{wait: w}
	}
	outbox.Take(now, lims...)
	return nil
}
