package telegram_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
)

// poisonEngine fails every attempt at one command, as a handler that
// panics on one update does (the engine turns the panic into an error).
type poisonEngine struct {
	bot.Engine
	tries atomic.Int32
}

func (p *poisonEngine) Handle(ctx context.Context, ev flows.Event) (flows.Result, error) {
	if ev.Kind == flows.EvCommand && ev.Command == "poison" {
		p.tries.Add(1)
		return flows.Result{}, errors.New("flows: panic handling command event: runtime error: index out of range")
	}
	return p.Engine.Handle(ctx, ev)
}

// A poison update is parked after 5 attempts in webhook mode as in
// polling mode (webhook mode answered 500 for ever, so Telegram posted
// it again and again): it gets its dedupe mark, the log names it, and the
// person's next message is answered.
func TestE2EPoisonUpdateParked(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			pe := &poisonEngine{}
			r := newRig(t, rigOptions{Mode: mode, WrapEngine: func(e bot.Engine) bot.Engine { pe.Engine = e; return pe }})
			alice := tgfake.User{ID: 4401, FirstName: "Alice", LanguageCode: "en"}
			r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
			r.settle()
			mark := r.logMark()
			id := r.fake.SendText(alice, alice.ID, "/poison")
			r.waitLog(mark, "update skipped after repeated failures")
			if n := pe.tries.Load(); n != 5 {
				t.Errorf("%d attempts before parking, want 5", n)
			}
			r.say(alice, "/help", withText(r.T(alice, "help.intro.stranger")))
			r.settle()
			if !r.seen(id) {
				t.Error("the parked update has no dedupe mark")
			}
			if n := pe.tries.Load(); n != 5 {
				t.Errorf("the parked update was tried again (%d attempts)", n)
			}
		})
	}
}
