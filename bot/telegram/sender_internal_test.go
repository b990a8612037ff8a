package telegram

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	rbot "github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/outbox"
)

// The per-chat budgets are bounded: a chat whose bucket has refilled
// allows what a new one would and is forgotten once outbox.MaxTracked
// chats are kept; a chat that just sent is kept.
func TestChatBudgetsForgetIdleChats(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixNano())
	c := &Channel{o: Options{Deps: rbot.Deps{Now: func() time.Time { return time.Unix(0, clock.Load()) }}}}
	s := &Sender{c: c, chats: map[string]*rate.Limiter{}}
	l := SendLimits{PerChatPerSecond: 1, GroupPerMinute: 20}
	for i := range 3 * outbox.MaxTracked {
		s.chat(fmt.Sprint(i), l).AllowN(c.now(), 1) // each sends once
		clock.Add(int64(10 * time.Millisecond))
	}
	// 30 s have passed: every private chat's bucket is full again but
	// the last second's.
	if n := len(s.chats); n > outbox.MaxTracked+200 {
		t.Fatalf("%d chat budgets kept for %d chats; want about %d at most", n, 3*outbox.MaxTracked, outbox.MaxTracked)
	}
	last := fmt.Sprint(3*outbox.MaxTracked - 1)
	if _, ok := s.chats[last]; !ok {
		t.Fatal("the chat that just sent was forgotten")
	}
}
