package tgfake_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

// What a chat client shows: every message of a chat, the user's and the
// bot's, in their current state, and who the answer to a tap is for.
func TestConversation(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.AddGroup(-4001, "Technicians")
	pic := []byte("\xFF\xD8\xFF\xE0 a small picture \xFF\xD9")

	s.SendText(alice, alice.ID, "hello")
	s.SendContact(alice, "+79990001122", true)
	s.SendPhotoData(alice, alice.ID, "the leak", pic)
	card, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Card v1",
		ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "OK", CallbackData: "ok:1"}})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: card.ID, Text: "Card v2",
		ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "Done", CallbackData: "done:1"}})}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: alice.ID,
		Document: &models.InputFileUpload{Filename: "order.xlsx", Data: bytes.NewReader([]byte("PK workbook"))}}); err != nil {
		t.Fatal(err)
	}

	got := s.Conversation(alice.ID)
	tests := []struct {
		name  string
		check func(tgfake.Message) bool
	}{
		{"the user's text", func(m tgfake.Message) bool { return !m.FromBot && m.From.ID == alice.ID && m.Text == "hello" }},
		{"the shared contact", func(m tgfake.Message) bool { return !m.FromBot && m.Contact == "+79990001122" }},
		{"the photo with its caption", func(m tgfake.Message) bool { return m.PhotoFileID != "" && m.Caption == "the leak" }},
		{"the card as edited, with its new buttons", func(m tgfake.Message) bool {
			return m.FromBot && m.Text == "Card v2" && m.Edits == 1 && !m.EditedAt.IsZero() && len(m.Inline) == 1 && m.Inline[0][0].Data == "done:1"
		}},
		{"the document with its name", func(m tgfake.Message) bool {
			return m.FromBot && m.DocumentName == "order.xlsx" && m.DocumentFileID != ""
		}},
	}
	if len(got) != len(tests) {
		t.Fatalf("conversation has %d messages, want %d: %+v", len(got), len(tests), got)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.check(got[i]) {
				t.Fatalf("message %d: %+v", i, got[i])
			}
		})
	}
	if n := len(s.Messages(alice.ID)); n != 2 {
		t.Fatalf("Messages lists the bot's only: %d", n)
	}

	t.Run("the photo's bytes are served as sent", func(t *testing.T) {
		data, ok := s.FileData(got[2].PhotoFileID)
		if !ok || !bytes.Equal(data, pic) {
			t.Fatalf("FileData: %v %q", ok, data)
		}
		f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: got[2].PhotoFileID})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(s.URL() + "/file/bot" + token + "/" + f.FilePath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, pic) {
			t.Fatalf("download: %q", body)
		}
	})

	t.Run("an answer names the tapper and the chat", func(t *testing.T) {
		grp, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: -4001, Text: "New request",
			ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "Accept", CallbackData: "acc:7"}})})
		if err != nil {
			t.Fatal(err)
		}
		s.TapData(bob, -4001, grp.ID, "acc:7")
		ups := getUpdates(t, s, 0, 0)
		var qid string
		for _, u := range ups {
			if u.CallbackQuery != nil {
				qid = u.CallbackQuery.ID
			}
		}
		if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: qid, Text: "Taken"}); err != nil {
			t.Fatal(err)
		}
		a, ok := s.CallbackAnswer(qid)
		if !ok || a.From.ID != bob.ID || a.ChatID != -4001 || a.MessageID != grp.ID || a.Text != "Taken" {
			t.Fatalf("answer: %+v", a)
		}
	})
}
