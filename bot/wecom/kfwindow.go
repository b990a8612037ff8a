package wecom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// 微信客服's rule for kf/send_msg: "仅当微信客户在主动发送消息给客服后的48小时内,
// 企业可发送消息给客户,最多可发送5条消息;若用户继续发送消息,企业可再次下发消息".
const (
	kfQuota     = 5
	kfWindowLen = 48 * time.Hour
	// kfRecheck is how often a held customer's queue is looked at again;
	// the customer's next message wakes the sender at once anyway.
	kfRecheck = time.Minute
	// errKfLimit is the platform's answer beyond the quota or the 48 hours.
	errKfLimit = 95001
)

// kfWindow is one customer's allowance: an outbox.Budget that holds rows
// (they stay pending, never dropped) while the window is closed — five
// messages sent since the customer's last message, or 48 hours passed, or
// the platform said so — until the customer writes again. It starts
// unknown after a restart (open until the platform refuses).
type kfWindow struct {
	s    *Sender
	chat string

	mu     sync.Mutex
	known  bool
	lastIn time.Time
	sent   int
	closed bool // refused by the platform: wait for the customer
}

// open reports whether another message may go now, and how many slots
// are left (-1: unknown).
func (w *kfWindow) open(now time.Time) (bool, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return false, 0
	case !w.known:
		return true, -1
	case now.Sub(w.lastIn) >= kfWindowLen || w.sent >= kfQuota:
		return false, 0
	}
	return true, kfQuota - w.sent
}

// lastSlot reports that the message being sent (already counted by
// TakeAt) is the window's last.
func (w *kfWindow) lastSlot(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.known && !w.closed && w.sent == kfQuota && now.Sub(w.lastIn) < kfWindowLen
}

// WaitAt is 0 while the window is open (or a welcome code is waiting to
// be used, which send_msg_on_event does not count).
func (w *kfWindow) WaitAt(now time.Time) time.Duration {
	if ok, _ := w.open(now); ok || w.s.hasWelcome(w.chat) {
		return 0
	}
	return kfRecheck
}

// TakeAt counts a message.
func (w *kfWindow) TakeAt(now time.Time) {
	if w.s.hasWelcome(w.chat) {
		return
	}
	w.mu.Lock()
	w.sent++
	w.mu.Unlock()
}

// inbound reopens the window: the customer wrote at t.
func (w *kfWindow) inbound(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.known || t.After(w.lastIn) {
		w.lastIn = t
	}
	w.known, w.sent, w.closed = true, 0, false
}

// refused closes the window until the customer writes.
func (w *kfWindow) refused() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// kfWin returns the customer's window (created open-unknown).
func (s *Sender) kfWin(chat string) *kfWindow {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.kfWindows[chat]
	if w == nil {
		w = &kfWindow{s: s, chat: chat}
		s.kfWindows[chat] = w
	}
	return w
}

// kfInbound notes a customer message (before it is handled, so the
// replies it causes find the window open) and wakes held rows.
func (s *Sender) kfInbound(chat string, at time.Time) {
	s.kfWin(chat).inbound(at)
	s.Poke()
}

// KfHeld is how many customers have messages held until they write again
// (their 48-hour window closed or its five messages used); the rows stay
// pending and count in the outbox depth.
func (s *Sender) KfHeld() int {
	now := s.c.now()
	s.mu.Lock()
	wins := make([]*kfWindow, 0, len(s.kfWindows))
	for _, w := range s.kfWindows {
		wins = append(wins, w)
	}
	s.mu.Unlock()
	rows, err := s.c.o.Outbox.Pending(2000)
	if err != nil {
		return 0
	}
	waiting := map[string]bool{}
	for _, r := range rows {
		if r.Msg.To.Channel == KfChannel {
			waiting[r.Msg.To.Chat] = true
		}
	}
	n := 0
	for _, w := range wins {
		if ok, _ := w.open(now); !ok && waiting[w.chat] {
			n++
		}
	}
	return n
}

// errKfClosed defers a row the platform refused for the kf rule; the
// window holds it from now on.
type errKfClosed struct{ err error }

func (e *errKfClosed) Error() string {
	return fmt.Sprintf("kf: the customer's window is closed (%v); held until they write again", e.err)
}

// kfFold makes the last message of a window count: when it is the last
// slot, the texts queued behind it for the same customer go with it as
// one message (a menu among them keeps its choices, the latest wins), and
// those rows are recorded as delivered with it.
func (s *Sender) kfFold(r outbox.Row) (flows.Message, []uint64) {
	m := r.Msg
	if m.Kind == flows.KindPhoto || m.Kind == flows.KindFile {
		return m, nil
	}
	if !s.kfWin(m.To.Chat).lastSlot(s.c.now()) || s.hasWelcome(m.To.Chat) {
		return m, nil
	}
	rows, err := s.c.o.Outbox.Pending(2000)
	if err != nil {
		return m, nil
	}
	var ids []uint64
	texts := []string{m.Text}
	buttons := m.Buttons
	for _, o := range rows {
		if o.ID <= r.ID || o.Msg.To != m.To {
			continue
		}
		if o.Msg.Kind == flows.KindPhoto || o.Msg.Kind == flows.KindFile {
			break // it goes after what is folded, in its turn
		}
		b := buttons
		if len(o.Msg.Buttons) > 0 {
			b = o.Msg.Buttons
		}
		// What does not fit in one message stays queued: a folded row is
		// recorded as delivered, so clipping it would lose it.
		limit := maxKfText
		if len(b) > 0 {
			limit = maxKfMenuHead
		}
		if len(strings.Join(append(texts, o.Msg.Text), "\n\n")) > limit {
			break
		}
		ids = append(ids, o.ID)
		texts = append(texts, o.Msg.Text)
		buttons = b
	}
	if len(ids) == 0 {
		return m, nil
	}
	m.Text, m.Buttons = strings.Join(texts, "\n\n"), buttons
	return m, ids
}

// sendKfLimited sends within the customer's window: a refusal for the kf
// rule closes it (the row waits for the customer, never dropped or
// failed); the last slot carries everything queued behind it.
func (s *Sender) sendKfLimited(ctx context.Context, r outbox.Row) (string, error) {
	msg, folded := s.kfFold(r)
	rr := r
	rr.Msg = msg
	id, err := s.sendKf(ctx, rr)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == errKfLimit {
		s.kfWin(r.Msg.To.Chat).refused()
		s.KfRefused.Add(1)
		return "", &errKfClosed{err: err}
	}
	if err == nil && len(folded) > 0 {
		if merr := s.c.o.Outbox.MarkDigest(folded, id, s.c.now()); merr != nil {
			s.c.o.Log.Error().Err(merr).Msg("wecom kf: mark folded rows delivered")
		}
		s.KfFolded.Add(int64(len(folded)))
	}
	return id, err
}
