package wecom

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// The WeCom sender's per-member, per-customer and per-address state is
// bounded: members whose windows saw no send for a window, customers 48
// hours past their last message are forgotten once outbox.MaxTracked are
// kept; a member who just got a message is kept.
func TestSenderForgetsIdleState(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	c := &Channel{o: Options{Deps: bot.Deps{Now: now}, Send: SendLimits{Member: Budget{30, time.Minute}, MemberLong: Budget{1000, time.Hour}}}}
	s := newSender(c)
	peak := 0
	for i := range 3 * outbox.MaxTracked {
		m := flows.Message{To: UserAddress(fmt.Sprintf("user%04d", i)), Kind: flows.KindSend, Text: "x"}
		if i%2 == 1 {
			m.To = KfAddress("wkKF", fmt.Sprintf("cust%04d", i))
			s.kfWin(m.To.Chat).inbound(now())
		}
		outbox.Take(now(), s.budgets(m)...)
		peak = max(peak, s.Tracked())
		clock.Add(int64(2 * time.Minute)) // past a member's minute; the hour window still counts
	}
	// Members of the last hour and customers of the last 48 hours are
	// busy (about 720 here); the rest is forgotten as the state grows.
	if peak > 2*outbox.MaxTracked+100 {
		t.Fatalf("the state reached %d entries for %d recipients", peak, 3*outbox.MaxTracked)
	}
	// Two days later all of it is idle: new members sweep it away.
	clock.Add(int64(49 * time.Hour))
	for i := range 2 * outbox.MaxTracked {
		outbox.Take(now(), s.budgets(flows.Message{To: UserAddress(fmt.Sprintf("late%04d", i)), Kind: flows.KindSend})...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.members {
		if len(k) > 4 && k[:4] == "user" {
			t.Fatalf("member %s, idle for two days, is still kept", k)
		}
	}
	for k := range s.kfWindows {
		t.Fatalf("customer %s, 48 hours past their last message, is still kept", k)
	}
	if _, ok := s.members[fmt.Sprintf("late%04d", 2*outbox.MaxTracked-1)]; !ok {
		t.Error("the member who just got a message was forgotten")
	}
}
