package telegram_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

// logLines are the channel's JSON log lines with msg, from the mark on.
func (r *rig) logLines(mark int, msg string) []map[string]any {
	r.logs.mu.Lock()
	s := r.logs.b.String()
	r.logs.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s[mark:]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// waitLog waits for a log line with msg after the mark.
func (r *rig) waitLog(mark int, msg string) {
	r.t.Helper()
	for deadline := time.Now().Add(e2eWait); len(r.logLines(mark, msg)) == 0; {
		if time.Now().After(deadline) {
			r.t.Fatalf("no %q logged within %s", msg, e2eWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) logMark() int {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return r.logs.b.Len()
}

// getUpdates failing: the poll waits 200 ms, 400 ms, 800 ms, … between
// attempts (capped at 30 s), writes one error line for a streak of
// failures within 10 s, and on the first success says it recovered and
// starts over from 200 ms. A message sent meanwhile is answered.
func TestE2EPollBackoffOnGetUpdatesErrors(t *testing.T) {
	r := newRig(t, rigOptions{})
	alice := tgfake.User{ID: 4101, FirstName: "Alice", LanguageCode: "en"}
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
	r.settle()

	mark := r.logMark()
	for range 4 {
		r.fake.FailNext("getUpdates", http.StatusBadGateway, "Bad Gateway", 0)
	}
	r.waitLog(mark, "getUpdates failed")                               // the long poll in flight has ended; the outage is on
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger"))) // answered once getUpdates recovers
	fails := r.logLines(mark, "getUpdates failed")
	if len(fails) != 1 {
		t.Fatalf("%d error lines for 4 failures within 10 s, want 1: %v", len(fails), fails)
	}
	if fails[0]["retry_in"] != float64(200) {
		t.Errorf("first retry in %v ms, want 200", fails[0]["retry_in"])
	}
	// The reply can arrive before the poll loop, back from handling the
	// batch, writes its line: wait for it.
	r.waitLog(mark, "polling recovered")
	rec := r.logLines(mark, "polling recovered")
	if len(rec) != 1 {
		t.Fatalf("recovered lines: %v", rec)
	}
	// 200, 400, 800, 1600 ms: the delay doubled at every failure.
	if rec[0]["failures"] != float64(4) || rec[0]["suppressed"] != float64(3) || rec[0]["last_delay"] != float64(1600) {
		t.Errorf("recovered: %v, want 4 failures, 3 lines left out, last delay 1600 ms", rec[0])
	}

	// A new streak starts over: its first line is written at once, 200 ms.
	mark = r.logMark()
	r.fake.FailNext("getUpdates", http.StatusBadGateway, "Bad Gateway", 0)
	r.waitLog(mark, "getUpdates failed")
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
	if fails := r.logLines(mark, "getUpdates failed"); len(fails) != 1 || fails[0]["retry_in"] != float64(200) {
		t.Fatalf("second streak: %v, want one line, retry in 200 ms", fails)
	}
}

// Every commit failing (a full disk; here the store is closed under the
// running channel): getUpdates answers, handling fails. The poll backs off
// exponentially instead of every 200 ms, and the error lines are limited
// to one per 10 s (it wrote ≈ 200 a second on a full disk).
func TestE2EPollBackoffWhenHandlingFails(t *testing.T) {
	r := newRig(t, rigOptions{})
	users := r.seedResidents(3, 4201, "1380013")
	r.settle()
	mark := r.logMark()
	before := r.fake.Calls("getUpdates")
	if err := r.store().Close(); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		r.fake.SendText(u, u.ID, "/help")
	}
	time.Sleep(3 * time.Second)
	polls := r.fake.Calls("getUpdates") - before
	// 0, 0.2, 0.6, 1.4 s (then 3.0 s): at most 5 polls in 3 s; a fixed
	// 200 ms made 15.
	if polls > 6 {
		t.Errorf("%d getUpdates in 3 s while every commit fails, want at most 6 (exponential backoff)", polls)
	}
	if polls < 2 {
		t.Errorf("only %d getUpdates in 3 s: the poll stopped retrying", polls)
	}
	if lines := r.logLines(mark, "update not handled; will retry"); len(lines) != 1 {
		t.Errorf("%d error lines in 3 s for %d polls of 3 updates, want 1", len(lines), polls)
	}
}
