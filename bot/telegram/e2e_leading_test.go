package telegram_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

// TestPollsOnlyWhileLeading: a replica in polling mode calls getUpdates
// only while it leads (one poller per bot; a second would get 409), so a
// message sent meanwhile waits at Telegram; once it leads it polls from
// the stored offset and answers; when it loses the lead it stops polling.
func TestPollsOnlyWhileLeading(t *testing.T) {
	var leading atomic.Bool
	r := newRig(t, rigOptions{Leading: leading.Load})
	res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
	time.Sleep(time.Second)
	if n := r.fake.Calls("getUpdates"); n != 0 {
		t.Fatalf("a replica that does not lead called getUpdates %d times", n)
	}
	before := r.top(res.ID)
	r.fake.SendText(res, res.ID, "/help")
	time.Sleep(500 * time.Millisecond)
	if n := r.top(res.ID); n != before {
		t.Fatalf("the bot wrote %d messages before it led, want none", n-before)
	}
	leading.Store(true)
	r.next(res.ID, before, "the answer to /help once the replica leads", func(tgfake.Message) bool { return true })
	leading.Store(false)
	time.Sleep(time.Second) // the poll in progress ends with the lead
	n := r.fake.Calls("getUpdates")
	time.Sleep(2 * time.Second)
	if m := r.fake.Calls("getUpdates"); m != n {
		t.Fatalf("getUpdates called %d more times after the lead was lost", m-n)
	}
}
