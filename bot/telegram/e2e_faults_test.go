package telegram_test

// Restarts, redelivery and outbox faults, end to end.

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// sendMethods are the Bot API calls that deliver outbox rows.
var sendMethods = []string{"sendMessage", "sendPhoto", "editMessageText"}

// 4. Polling: updates handed out again after a stop are handled once.
func TestE2EPollingRedelivery(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	// This test is about inbound redelivery: let sends that are already on
	// the wire finish even when Close cancels them (see
	// TestE2ECloseFinishesInFlightSend for what happens otherwise).
	r.hook.setDetach(true, sendMethods...)
	alice := tgfake.User{ID: 4001, FirstName: "Alice", LanguageCode: "en"}
	bob := tgfake.User{ID: 4002, FirstName: "鲍勃", LanguageCode: "zh-hans"}
	help := map[int64]string{alice.ID: r.T(alice, "help.intro.stranger"), bob.ID: r.T(bob, "help.intro.stranger")}
	// Open both private chats; these /help replies are the baseline.
	r.say(alice, "/help", withText(help[alice.ID]))
	r.say(bob, "/help", withText(help[bob.ID]))
	r.settle()

	type sent struct {
		id   int64
		user tgfake.User
		cmd  string // unknown command whose reply names it; "" for a tap
	}
	var all []sent
	helps := map[int64]int{alice.ID: 1, bob.ID: 1} // expected /help-style replies per chat
	// queue adds, with the channel stopped, text updates and two taps of
	// the "help" command button: [a, tap, b, c, tap, d].
	queue := func(round int) []sent {
		var out []sent
		text := func(u tgfake.User, s string) {
			cmd := fmt.Sprintf("r%d%s", round, s)
			out = append(out, sent{r.fake.SendText(u, u.ID, "/"+cmd), u, cmd})
		}
		tap := func(u tgfake.User) {
			out = append(out, sent{r.fake.TapData(u, u.ID, r.top(u.ID), flows.EncodePayload("c", "help")), u, ""})
			helps[u.ID]++
		}
		text(alice, "a")
		tap(bob)
		text(bob, "b")
		text(alice, "c")
		tap(alice)
		text(bob, "d")
		all = append(all, out...)
		return out
	}
	// stopMidBatch starts the channel on the queued batch and stops it
	// while it answers the first tap: the first two updates are committed
	// but not yet confirmed to Telegram, the rest are not handled.
	stopMidBatch := func() {
		held := r.hook.holdNext("answerCallbackQuery", false)
		r.start()
		waitHeld(t, held, "answerCallbackQuery")
		r.stop()
		held.Release()
	}

	t.Run("stopped right after a commit", func(t *testing.T) {
		r := r.with(t)
		r.stop()
		r.supersedeStalePoll()
		batch := queue(1)
		stopMidBatch()
		if !r.fakeHasPending(batch[0].id) {
			t.Fatal("the committed updates were confirmed although the channel stopped before polling again")
		}
		r.start()
		r.settle()
		for i, s := range batch {
			got := r.fake.Delivered(s.id)
			switch {
			case i < 2 && got != 1 && got != 2:
				// #0 (alice) and #1 (bob) run in concurrent lanes: the stop
				// comes while #1 answers, when #0 may or may not have
				// committed with the offset. Either it is not fetched again,
				// or it comes back once and is handled once (checked below).
				t.Errorf("update %d (#%d in batch) delivered %d times, want 1 or 2", s.id, i, got)
			case i >= 2 && got != 2:
				t.Errorf("update %d (#%d in batch) delivered %d times, want 2", s.id, i, got)
			}
		}
	})

	t.Run("offset lost, dedupe marks absorb the redelivery", func(t *testing.T) {
		r := r.with(t)
		r.stop()
		r.supersedeStalePoll()
		batch := queue(2)
		stopMidBatch()
		// Rewind the stored offset, as if it had been lost: the two
		// committed, unconfirmed updates come back and must be recognised.
		st := mustOpenStore(t, r.path, r.now)
		if err := st.Update(context.Background(), func(tx flows.Tx) error {
			return tx.SetCursor(offsetCursor, strconv.FormatInt(batch[0].id, 10))
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		r.start()
		r.settle()
		for i, s := range batch {
			if got := r.fake.Delivered(s.id); got != 2 {
				t.Errorf("update %d (#%d in batch) delivered %d times, want 2", s.id, i, got)
			}
		}
	})

	t.Run("restarts while traffic flows", func(t *testing.T) {
		r := r.with(t)
		for i := 0; i < 24; i++ {
			u := alice
			if i%2 == 1 {
				u = bob
			}
			cmd := fmt.Sprintf("r3x%02d", i)
			all = append(all, sent{r.fake.SendText(u, u.ID, "/"+cmd), u, cmd})
			if i%6 == 5 {
				r.restart()
			}
		}
		r.settle()
	})

	// Every update had exactly one effect, however often it was handed out.
	redelivered := 0
	for _, s := range all {
		if !r.seen(s.id) {
			t.Errorf("update %d not marked seen", s.id)
		}
		if r.fake.Delivered(s.id) > 1 {
			redelivered++
		}
		if s.cmd == "" {
			continue
		}
		want := r.T(s.user, "err.unknown_command", "command", s.cmd)
		if n := r.count(s.user.ID, func(m tgfake.Message) bool { return m.Text == want }); n != 1 {
			t.Errorf("/%s: %d replies, want 1", s.cmd, n)
		}
	}
	for uid, want := range helps {
		if n := r.count(uid, withText(help[uid])); n != want {
			t.Errorf("chat %d: %d help replies, want %d", uid, n, want)
		}
	}
	if redelivered < 8 {
		t.Errorf("only %d updates were handed out more than once; the test did not exercise redelivery", redelivered)
	}
	// The store agrees: one delivered row per message the users saw.
	rows := r.rows(outbox.StatusDelivered)
	for _, u := range []tgfake.User{alice, bob} {
		n := 0
		for _, row := range rows {
			if row.Msg.To.Chat == strconv.FormatInt(u.ID, 10) {
				n++
			}
		}
		if m := len(r.fake.Messages(u.ID)); n != m {
			t.Errorf("chat %d: %d delivered rows, %d messages", u.ID, n, m)
		}
	}
	r.noFailedRows()
}

// supersedeStalePoll ends a long poll the stopped channel left behind at
// Telegram (its client is gone, but the server would still hand it the
// next updates and count them as delivered): a newer getUpdates, as a
// restarted bot would send, terminates it with 409.
func (r *rig) supersedeStalePoll() {
	r.t.Helper()
	resp, err := http.Post(r.fake.URL()+"/bot"+e2eToken+"/getUpdates", "application/json", strings.NewReader(`{"timeout":0,"limit":1,"offset":-1}`))
	if err != nil {
		r.t.Fatal(err)
	}
	_ = resp.Body.Close()
}

// fakeHasPending reports whether the fake still holds update id unconfirmed.
func (r *rig) fakeHasPending(id int64) bool { return r.fake.Confirmed() <= id }

// 5. A restart in the middle of a report resumes where the resident was.
func TestE2ERestartMidReport(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{Mode: mode})
			res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
			r.register(res, zhHome)
			prompt := r.openReport(res, nil)
			r.pickCategory(res, prompt, "water")
			r.settle()

			// Down while the resident types the description: it waits at
			// Telegram (polling) or is retried by Telegram (webhook).
			r.stop()
			before := r.top(res.ID)
			r.fake.SendText(res, res.ID, "卫生间漏水，天花板在滴水")
			r.start()
			noMore := r.T(res, "btn.no_more_photos")
			r.next(res.ID, before, "photo prompt after restart", both(withText(r.T(res, "report.ask_photos", "max", 3)), withButton(noMore)))

			before = r.top(res.ID)
			r.fake.SendPhoto(res, res.ID, "", 200_000)
			r.next(res.ID, before, "first photo", withText(r.T(res, "report.photo_saved", "n", 1, "max", 3)))
			r.settle()
			r.restart()
			before = r.top(res.ID)
			r.fake.SendPhoto(res, res.ID, "", 300_000)
			photos := r.next(res.ID, before, "second photo after restart", both(withText(r.T(res, "report.photo_saved", "n", 2, "max", 3)), withButton(noMore)))
			r.settle()
			r.restart()
			id, _ := r.finishReport(res, photos, reportSpec{public: true})
			tk := r.ticket(id)
			if tk.Description != "卫生间漏水，天花板在滴水" || len(tk.Photos) != 2 || tk.Kind != flows.OrderPublic || !tk.ASAP || tk.State != flows.StateNew {
				t.Errorf("ticket after restarts: %+v", tk)
			}
			card := r.card(id)
			if !strings.Contains(card.Text, r.G("card.body", "address", tk.Place, "summary", tk.Description, "photos", 2, "kind", r.G("kind.public"), "when", r.G("when.asap"))) { // a public report names its place
				t.Errorf("card %q", card.Text)
			}
			r.settle()
			r.noFailedRows()
		})
	}
}

// failedRow waits for exactly one failed outbox row and returns it.
func (r *rig) failedRow() outbox.Row {
	r.t.Helper()
	var rows []outbox.Row
	if !r.fake.WaitFor(e2eWait, func() bool {
		rows, _ = r.store().Rows(outbox.StatusFailed)
		return len(rows) > 0
	}) {
		r.t.Fatal("no outbox row failed")
	}
	r.settle()
	rows = r.rows(outbox.StatusFailed)
	if len(rows) != 1 {
		r.t.Fatalf("%d failed rows, want 1: %+v", len(rows), rows)
	}
	return rows[0]
}

// 6. Delivery under platform faults.
func TestE2EOutboxFaults(t *testing.T) {
	t.Parallel()
	stranger := tgfake.User{ID: 5001, FirstName: "Li Lei", LanguageCode: "en"}

	t.Run("429 waits retry_after", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{})
		r.fake.FailNext("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
		calls := r.fake.Calls("sendMessage")
		t0 := time.Now()
		m := r.say(stranger, "/help", withText(r.T(stranger, "help.intro.stranger")))
		if d := m.Date.Sub(t0); d < time.Second {
			t.Errorf("delivered %s after the 429 with retry_after 1", d)
		}
		r.settle()
		if got := r.fake.TooMany(); got != 1 {
			t.Errorf("TooMany %d, want 1", got)
		}
		if got := r.fake.Calls("sendMessage") - calls; got != 2 {
			t.Errorf("%d sendMessage calls, want 2 (the 429 and the retry)", got)
		}
		if n := len(r.fake.Messages(stranger.ID)); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
		rows := r.rows(outbox.StatusDelivered)
		if len(rows) != 1 || rows[0].Attempts != 1 || rows[0].LastError != "" || rows[0].PlatformID != strconv.Itoa(m.ID) {
			t.Errorf("delivered rows %+v, want one with 1 counted attempt (a 429 is not the message's fault)", rows)
		}
	})

	t.Run("500 is retried", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{})
		r.fake.FailNext("sendMessage", http.StatusInternalServerError, "Internal Server Error", 0)
		calls := r.fake.Calls("sendMessage")
		r.say(stranger, "/help", withText(r.T(stranger, "help.intro.stranger")))
		r.settle()
		if got := r.fake.Calls("sendMessage") - calls; got != 2 {
			t.Errorf("%d sendMessage calls, want 2", got)
		}
		rows := r.rows(outbox.StatusDelivered)
		if len(rows) != 1 || rows[0].Attempts != 2 {
			t.Errorf("delivered rows %+v, want one after 2 attempts", rows)
		}
		if n := len(r.fake.Messages(stranger.ID)); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
	})

	// assertNoRetry: after a permanent failure the sender keeps working
	// and never tries the failed row again.
	assertNoRetry := func(r *rig, who tgfake.User) {
		r.t.Helper()
		calls := r.fake.Calls("sendMessage")
		r.say(who, "/help", nil)
		r.settle()
		if got := r.fake.Calls("sendMessage") - calls; got != 1 {
			r.t.Errorf("%d sendMessage calls for one reply: the failed row was retried", got)
		}
		if n := len(r.rows(outbox.StatusFailed)); n != 1 {
			r.t.Errorf("%d failed rows", n)
		}
	}

	t.Run("bot kicked from the group", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{NoPhotos: true})
		res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
		r.register(res, zhHome)
		r.fake.Block(e2eGroup)
		id, _ := r.report(res, reportSpec{desc: "门锁坏了", category: "door"})
		row := r.failedRow()
		if row.Msg.Ticket != id || row.Msg.To.Chat != strconv.FormatInt(e2eGroup, 10) || row.Attempts != 1 ||
			!strings.Contains(row.LastError, "Forbidden: bot was kicked from the group chat") || strings.Contains(row.LastError, e2eToken) {
			t.Errorf("failed row %+v", row)
		}
		if n := len(r.fake.Messages(e2eGroup)); n != 0 {
			t.Errorf("%d group messages while kicked", n)
		}
		assertNoRetry(r, res)
	})

	t.Run("user blocked the bot", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{})
		admin := tgfake.User{ID: adminID, FirstName: "陈主管", LanguageCode: "zh-hans"}
		tech := tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: "zh-hans"}
		code := r.inviteCode(admin, "technician")
		r.fake.Block(admin.ID)
		// The technician joins; the admin's "joined with your invite" fails.
		r.say(tech, "/start "+code, withText(r.T(tech, "invite.welcome", "name", tech.FirstName, "role", r.T(tech, "role.technician.property"))))
		row := r.failedRow()
		if row.Msg.To.Chat != strconv.FormatInt(admin.ID, 10) || !strings.Contains(row.LastError, "Forbidden: bot was blocked by the user") || row.Attempts != 1 {
			t.Errorf("failed row %+v", row)
		}
		assertNoRetry(r, tech)
	})

	t.Run("flood limits enforced: no 429", func(t *testing.T) {
		t.Parallel()
		// Telegram's real budgets: the fake answers 429 beyond them.
		r := newRig(t, rigOptions{Enforce: true, Send: &telegram.SendLimits{
			PerChatPerSecond: 1, GroupPerMinute: 20, GlobalPerSecond: 30,
			BaseBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, NoDigest: true,
		}})
		// Four residents report and cancel at once: four cards and four
		// edits queue for the group (8 messages at ≤20/min, ≈25 s).
		residents := r.seedResidents(4, 3101, "+86138001380")
		ids := make([]string, len(residents))
		t.Run("residents", func(t *testing.T) {
			for i, u := range residents {
				t.Run(u.FirstName, func(t *testing.T) {
					t.Parallel()
					r := r.with(t)
					id, ack := r.report(u, reportSpec{desc: fmt.Sprintf("%s家漏水", u.FirstName)})
					ids[i] = id
					r.cancelTicket(u, ack, id)
				})
			}
		})
		if t.Failed() {
			return
		}
		r.settleWithin(60 * time.Second)
		if n := r.fake.TooMany(); n != 0 {
			t.Errorf("%d answers were 429", n)
		}
		group := r.fake.Messages(e2eGroup)
		if len(group) != len(ids) {
			t.Fatalf("%d group messages, want %d cards", len(group), len(ids))
		}
		cancelled := strings.Split(r.G("card.status.cancelled", "time", ""), "（")[0]
		for _, id := range ids {
			card := r.card(id)
			if card.Edits != 1 || card.Inline != nil || !strings.Contains(card.Text, cancelled) {
				t.Errorf("card %s: edits %d, buttons %v, %q", id, card.Edits, card.Inline, card.Text)
			}
		}
		// Order and pace in the group: each card is sent before it is
		// edited, and consecutive group messages are ≥3 s apart (20/min).
		sent := map[int]int{}
		var times []time.Time
		for i, e := range r.fake.Entries() {
			if e.ChatID != e2eGroup {
				continue
			}
			switch e.Kind {
			case "bot_send":
				sent[e.MessageID] = i + 1
				times = append(times, e.At)
			case "bot_edit":
				if sent[e.MessageID] == 0 {
					t.Errorf("card %d edited before it was sent", e.MessageID)
				}
				times = append(times, e.At)
			}
		}
		if len(times) != 2*len(ids) {
			t.Errorf("%d group sends and edits, want %d", len(times), 2*len(ids))
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d < 3*time.Second {
				t.Errorf("group messages %d and %d only %s apart", i, i+1, d)
			}
		}
		r.noFailedRows()
	})
}

// Close says it "lets in-flight work finish", but it cancels the context
// of sends already on the wire. When Telegram has accepted such a message
// and only the answer is lost, the row stays pending and the message is
// sent again after the restart: every deploy that hits a send duplicates it.
func TestE2ECloseFinishesInFlightSend(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	u := tgfake.User{ID: 5001, FirstName: "Li Lei", LanguageCode: "en"}
	r.say(u, "/help", nil)
	r.settle()

	held := r.hook.holdNext("sendMessage", true) // Telegram handles it; the answer is slow
	defer held.Release()
	r.fake.SendText(u, u.ID, "/ping")
	want := r.T(u, "err.unknown_command", "command", "ping")
	waitHeld(t, held, "sendMessage")
	r.next(u.ID, 0, "the reply, accepted by Telegram", withText(want))

	closed := make(chan struct{})
	go func() { r.stop(); close(closed) }()
	select {
	case <-closed:
		t.Log("Close returned while a send was still in flight: the send was abandoned")
	case <-time.After(3 * time.Second):
		// Close is waiting for the send, as it should; let the answer arrive.
	}
	held.Release()
	<-closed
	r.start()
	r.settle()
	if n := r.count(u.ID, withText(want)); n != 1 {
		t.Errorf("the reply arrived %d times across a clean restart, want 1", n)
	}
}

// A duplicate delivery of a callback query answers it with an empty text.
// When the duplicate overtakes the original (a webhook retry while the
// first request is still being handled), Telegram accepts the empty answer
// and rejects the real one: the technician never sees "you took …" /
// "too late, … already accepted".
func TestE2EDuplicateTapKeepsTheToast(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{Mode: "webhook", NoPhotos: true})
	admin := tgfake.User{ID: adminID, FirstName: "陈主管", LanguageCode: "zh-hans"}
	tech := tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: "zh-hans"}
	res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
	r.hire(admin, tech, "technician")
	r.register(res, zhHome)
	id, _ := r.report(res, reportSpec{desc: "漏水"})
	card := r.card(id)
	r.settle()
	body := r.capture(1, func() {
		if _, err := r.fake.Tap(tech, e2eGroup, card.ID, r.G("btn.accept")); err != nil {
			t.Fatal(err)
		}
	})[0]
	q := callbackOf(t, body)

	// The first delivery commits, then its answer is slow to go out.
	held := r.hook.holdNext("answerCallbackQuery", false)
	defer held.Release()
	first := make(chan int, 1)
	go func() { s := e2eSecret; code, _ := r.post(body, http.MethodPost, &s); first <- code }()
	waitHeld(t, held, "answerCallbackQuery")
	// Telegram retries meanwhile.
	if code := r.mustPost(body, e2eSecret); code != http.StatusOK {
		t.Fatalf("retry answered %d", code)
	}
	held.Release()
	if code := <-first; code != http.StatusOK {
		t.Fatalf("first delivery answered %d", code)
	}
	a, ok := r.fake.CallbackAnswer(q.ID)
	if want := r.T(tech, "accept.toast", "ticket", id); !ok || a.Text != want {
		t.Errorf("the technician saw %q, want %q", a.Text, want)
	}
}
