package tgfake_test

import (
	"context"
	"testing"

	"github.com/go-telegram/bot"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

// Redeliver serves confirmed updates again to a poll with an older offset
// (a bot whose stored offset went back); Hold keeps newer updates out of
// the answers until Release.
func TestRedeliverAndHold(t *testing.T) {
	s, _ := start(t, tgfake.Options{})
	var ids []int64
	for _, text := range []string{"one", "two", "three", "four"} {
		ids = append(ids, s.SendText(alice, alice.ID, text))
	}
	if ups := getUpdates(t, s, 0, 0); len(ups) != 4 {
		t.Fatalf("first poll: %d updates", len(ups))
	}
	getUpdates(t, s, ids[3]+1, 0) // confirms all four
	if s.Pending() != 0 || s.Confirmed() != ids[3]+1 {
		t.Fatalf("pending %d, confirmed %d", s.Pending(), s.Confirmed())
	}
	// Without Redeliver, an older offset gets nothing: they were confirmed.
	if ups := getUpdates(t, s, ids[1], 0); len(ups) != 0 {
		t.Fatalf("confirmed updates served again without Redeliver: %d", len(ups))
	}

	later := s.SendText(bob, bob.ID, "five") // queued after the rewind point
	s.Hold(later)
	if n := s.Redeliver(ids[1]); n != 3 {
		t.Fatalf("Redeliver made %d updates pending again, want 3 (two, three, four)", n)
	}
	ups := getUpdates(t, s, ids[1], 0)
	if len(ups) != 3 || ups[0].ID != ids[1] || ups[0].Message.Text != "two" || ups[2].ID != ids[3] {
		t.Fatalf("redelivered: %+v", ups)
	}
	if s.Delivered(ids[1]) != 2 || s.Delivered(ids[0]) != 1 {
		t.Fatalf("delivered counts %d %d", s.Delivered(ids[1]), s.Delivered(ids[0]))
	}
	// Confirmed again by the next offset; the held update stays back.
	if ups := getUpdates(t, s, ids[3]+1, 0); len(ups) != 0 || s.Confirmed() != ids[3]+1 {
		t.Fatalf("held update served: %+v (confirmed %d)", ups, s.Confirmed())
	}
	s.Release()
	if ups := getUpdates(t, s, ids[3]+1, 0); len(ups) != 1 || ups[0].ID != later {
		t.Fatalf("after Release: %+v", ups)
	}
}

// AnswerCalls counts every answerCallbackQuery, the refused second one too.
func TestAnswerCalls(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	uid := s.TapData(alice, alice.ID, 5, "x")
	ups := getUpdates(t, s, 0, 0)
	if len(ups) != 1 || ups[0].ID != uid {
		t.Fatalf("updates %+v", ups)
	}
	id := ups[0].CallbackQuery.ID
	if s.AnswerCalls(id) != 0 {
		t.Fatal("answered before any call")
	}
	ctx := context.Background()
	for range 2 {
		_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: id})
	}
	if n := s.AnswerCalls(id); n != 2 {
		t.Fatalf("AnswerCalls = %d, want 2", n)
	}
}
