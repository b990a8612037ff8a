package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// The Bot API is down (every call answers 502 with a proxy's HTML page)
// for far longer than all the attempts a message used to get (12, here
// 5 ms doubling to 20 ms: about 0.2 s), then comes back: every message
// queued meanwhile arrives, in order, none failed; meanwhile the channel
// says since when the platform is unreachable (SendStats, the
// telegram_send check once outbox.UnreachableAfter has passed).
func TestE2EOutageLosesNothing(t *testing.T) {
	lim := defaultLimits()
	lim.BaseBackoff, lim.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	r := newRig(t, rigOptions{Send: &lim})
	u := tgfake.User{ID: 5101, FirstName: "王芳", LanguageCode: "zh-hans"}
	r.seedResident(u, zhHome)
	r.fake.SendText(u, u.ID, "/help") // opens the private chat
	r.settle()
	before := len(r.fake.Messages(u.ID))

	r.fake.Outage(http.StatusBadGateway)
	var ms []flows.Message
	for i := range 8 {
		ms = append(ms, flows.Message{To: telegram.ChatAddress(u.ID), Kind: flows.KindSend, Text: fmt.Sprintf("私信 %d", i), Priority: flows.Priority(i % 4)})
		if i%2 == 0 {
			ms = append(ms, flows.Message{To: telegram.ChatAddress(e2eGroup), Kind: flows.KindSend, Text: fmt.Sprintf("群消息 %d", i)})
		}
	}
	if err := r.store().Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(ms...) }); err != nil {
		t.Fatal(err)
	}
	if !r.fake.WaitFor(e2eWait, func() bool { return !r.channel().SendStats().UnreachableSince.IsZero() }) {
		t.Fatal("the sender never noticed the outage")
	}
	time.Sleep(1500 * time.Millisecond)
	st := r.channel().SendStats()
	if st.Retried < 12 || st.Failed != 0 || st.GaveUp != 0 {
		t.Fatalf("during the outage: %+v; want at least 12 retries, nothing failed", st)
	}
	if s, _ := r.store().Stats(); s.Pending != len(ms) || s.Failed != 0 {
		t.Fatalf("during the outage the outbox holds %+v; want all %d pending", s, len(ms))
	}
	checks := r.channel().Health(r.now().Add(outbox.UnreachableAfter))
	if len(checks) == 0 || checks[0].Name != "telegram_send" || checks[0].OK || !strings.Contains(checks[0].Detail, "platform unreachable since") {
		t.Fatalf("health during the outage: %+v", checks)
	}

	r.fake.Outage(0)
	r.settleWithin(20 * time.Second)
	r.noFailedRows()
	var private, group []string
	for _, m := range r.fake.Messages(u.ID)[before:] {
		private = append(private, m.Text)
	}
	for _, m := range r.fake.Messages(e2eGroup) {
		group = append(group, m.Text)
	}
	wantP := "私信 0|私信 1|私信 2|私信 3|私信 4|私信 5|私信 6|私信 7"
	wantG := "群消息 0|群消息 2|群消息 4|群消息 6"
	if strings.Join(private, "|") != wantP || strings.Join(group, "|") != wantG {
		t.Fatalf("after the outage the resident got %q and the group %q; want %q and %q", private, group, wantP, wantG)
	}
	if !r.channel().SendStats().UnreachableSince.IsZero() {
		t.Error("still unreachable after the platform answered")
	}
	if checks := r.channel().Health(r.now()); !checks[0].OK {
		t.Errorf("health after the outage: %+v", checks)
	}
	if r.fake.OutageCalls() < 12 {
		t.Errorf("the fake refused only %d calls", r.fake.OutageCalls())
	}
}
