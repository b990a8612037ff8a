package telegram_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot"
)

// named picks the checks of one name.
func named(cs []bot.Check, name string) []bot.Check {
	var out []bot.Check
	for _, c := range cs {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// The channel checks its own receive loop: in polling mode getUpdates must
// answer within three poll timeouts (the rig polls every second, so 3 s);
// in webhook mode Telegram calls the bot and there is no poll to watch.
// Either way the sender's telegram_send check is there, passing while the
// Bot API answers.
func TestHealthWatchesThePollingLoop(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, mode string
		checks     bool
	}{
		{"polling", "polling", true},
		{"webhook", "webhook", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{Mode: c.mode, NoPhotos: true})
			ch := r.channel()
			if send := named(ch.Health(r.now()), "telegram_send"); len(send) != 1 || !send[0].OK {
				t.Fatalf("send check: %+v", ch.Health(r.now()))
			}
			if !c.checks {
				if got := named(ch.Health(r.now()), "telegram_poll"); len(got) != 0 {
					t.Fatalf("webhook mode: %+v, want no poll check", got)
				}
				return
			}
			deadline := time.Now().Add(e2eWait)
			for ch.LastPoll().IsZero() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if ch.LastPoll().IsZero() {
				t.Fatal("getUpdates never answered")
			}
			// The loop keeps polling: a later answer only makes the age smaller.
			last := ch.LastPoll()
			got := named(ch.Health(last.Add(2*time.Second)), "telegram_poll")
			if len(got) != 1 || got[0].Name != "telegram_poll" || !got[0].OK || !got[0].Poll || got[0].PollAge > 2*time.Second || got[0].Detail != "" {
				t.Fatalf("fresh poll: %+v", got)
			}
			got = named(ch.Health(last.Add(10*time.Second)), "telegram_poll")
			if len(got) != 1 || got[0].OK || got[0].PollAge <= 3*time.Second ||
				!strings.Contains(got[0].Detail, "no getUpdates answer") || !strings.Contains(got[0].Detail, "(limit 3s)") {
				t.Fatalf("stale poll: %+v", got)
			}
		})
	}
}
