package telegram_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
)

// Telegram picks a random id for the next update after a week without
// any, possibly below every id it handed out before. Polling with the
// stored offset would confirm — drop — every such update: the bot would
// go deaf with /healthz green. The bot polls without an offset when it
// has nothing to confirm, sees the lower ids, answers them, moves its
// offset back, and counts and logs the reset.
func TestE2EUpdateIDsRestart(t *testing.T) {
	r := newRig(t, rigOptions{})
	alice := tgfake.User{ID: 4301, FirstName: "Alice", LanguageCode: "en"}
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
	r.settle()
	mark := r.logMark()
	r.fake.RestartIDs(5000)
	for i := range 3 {
		top := r.top(alice.ID)
		id := r.fake.SendText(alice, alice.ID, "/help")
		if id != 5000+int64(i) {
			t.Fatalf("the fake gave update id %d", id)
		}
		r.next(alice.ID, top, "the answer to an update with a restarted id", withText(r.T(alice, "help.intro.stranger")))
	}
	r.settle()
	if n := r.channel().ReceiveStats().OffsetResets; n != 1 {
		t.Errorf("offset resets = %d, want 1 (the first lower id; the next follow it)", n)
	}
	if lines := r.logLines(mark, "getUpdates brought updates below the stored offset that were never handled: Telegram's ids restarted (a week without updates) or the offset came from another copy of the database; handling them and moving the offset back (dedupe keeps any repeat harmless)"); len(lines) != 1 {
		t.Errorf("%d reset lines logged, want 1", len(lines))
	}
	var off string
	_ = r.store().View(context.Background(), func(tx flows.Tx) error { off, _ = tx.Cursor(offsetCursor); return nil })
	if off != "5003" {
		t.Errorf("stored offset %q, want 5003", off)
	}
}

// A stored offset far ahead of Telegram's ids (a database from another
// copy): at start-up the bot polls without it, answers the updates it has
// never seen and moves the offset back.
func TestE2EOffsetAheadAtStart(t *testing.T) {
	r := newRig(t, rigOptions{})
	alice := tgfake.User{ID: 4302, FirstName: "Alice", LanguageCode: "en"}
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
	r.settle()
	r.stop()
	st := mustOpenStore(t, r.path, r.now)
	if err := st.Update(context.Background(), func(tx flows.Tx) error { return tx.SetCursor(offsetCursor, "900000000") }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	id := r.fake.SendText(alice, alice.ID, "/help") // waits while the bot is down
	r.start()
	top := 0
	if ms := r.fake.Messages(alice.ID); len(ms) > 0 {
		top = ms[0].ID // the answer to the first /help
	}
	r.next(alice.ID, top, "the answer to the update below the stale offset", withText(r.T(alice, "help.intro.stranger")))
	r.settle()
	if !r.seen(id) || r.channel().ReceiveStats().OffsetResets != 1 {
		t.Errorf("seen=%v resets=%d", r.seen(id), r.channel().ReceiveStats().OffsetResets)
	}
}

// The database remembers the bot it belongs to, beside the offset: a
// token for another bot stops start-up with a message naming both, and
// polls nothing (its offset and chats are the other bot's).
func TestE2EDatabaseOfAnotherBot(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.settle()
	r.stop()
	var stored string
	st := mustOpenStore(t, r.path, r.now)
	_ = st.View(context.Background(), func(tx flows.Tx) error { stored, _ = tx.Cursor("tg.bot"); return nil })
	if want, _, _ := strings.Cut(e2eToken, ":"); stored != want {
		t.Fatalf("stored bot id %q, want %q (the token's)", stored, want)
	}
	if err := st.Update(context.Background(), func(tx flows.Tx) error { return tx.SetCursor("tg.bot", "987654321") }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	polls := r.fake.Calls("getUpdates")
	err := r.startErr()
	if !errors.Is(err, telegram.ErrOtherBot) || !strings.Contains(err.Error(), "used by bot 987654321") ||
		!strings.Contains(err.Error(), "the token is for bot 123456789") || !strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("open: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := r.fake.Calls("getUpdates"); n != polls {
		t.Errorf("%d polls by a bot that refused to start", n-polls)
	}
}

// failingEngine fails every Handle while fail is set, as an engine on a
// full disk does.
type failingEngine struct {
	bot.Engine
	fail atomic.Bool
}

func (f *failingEngine) Handle(ctx context.Context, ev flows.Event) (flows.Result, error) {
	if f.fail.Load() {
		return flows.Result{}, errors.New("write: no space left on device")
	}
	return f.Engine.Handle(ctx, ev)
}

// Updates that keep arriving with none handled fail telegram_handle
// once a minute has passed; the first update handled clears it.
func TestE2EHealthWhenNothingIsHandled(t *testing.T) {
	fe := &failingEngine{}
	r := newRig(t, rigOptions{WrapEngine: func(e bot.Engine) bot.Engine { fe.Engine = e; return fe }})
	alice := tgfake.User{ID: 4303, FirstName: "Alice", LanguageCode: "en"}
	r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
	r.settle()
	handle := func(at time.Time) bot.Check { return named(r.channel().Health(at), "telegram_handle")[0] }
	if c := handle(r.now().Add(time.Hour)); !c.OK {
		t.Fatalf("every update handled, yet %+v", c)
	}
	fe.fail.Store(true)
	mark := r.logMark()
	top := r.top(alice.ID)
	r.fake.SendText(alice, alice.ID, "/help")
	r.waitLog(mark, "update not handled; will retry")
	if c := handle(r.now()); !c.OK {
		t.Errorf("failing for a moment only, yet %+v", c)
	}
	c := handle(r.now().Add(2 * time.Minute))
	if c.OK || !strings.Contains(c.Detail, "updates arrive but none was handled for 2m") {
		t.Errorf("after two minutes of nothing handled: %+v", c)
	}
	st := r.channel().ReceiveStats()
	if st.Received <= st.Handled {
		t.Errorf("receive stats %+v", st)
	}
	fe.fail.Store(false)
	r.next(alice.ID, top, "the answer once handling works", withText(r.T(alice, "help.intro.stranger")))
	// The answer can reach the chat before the poll loop notes the update
	// handled; wait for that, boundedly.
	if !r.fake.WaitFor(e2eWait, func() bool { return handle(r.now().Add(2 * time.Minute)).OK }) {
		t.Errorf("handled again, yet %+v", handle(r.now().Add(2*time.Minute)))
	}
}
