package tgfake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

const token = "123456:TEST-token"

var (
	alice = tgfake.User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "ru"}
	bob   = tgfake.User{ID: 1002, FirstName: "Bob", LanguageCode: "en"}
)

func start(t *testing.T, opts tgfake.Options) (*tgfake.Server, *bot.Bot) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.MaxLongPoll == 0 {
		opts.MaxLongPoll = 200 * time.Millisecond
	}
	s := tgfake.New(opts)
	t.Cleanup(s.Close)
	b, err := bot.New(opts.Token, bot.WithServerURL(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

type apiResp struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func decode(t *testing.T, resp *http.Response) (int, apiResp) {
	t.Helper()
	defer resp.Body.Close()
	var r apiResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, r
}

func postJSON(t *testing.T, s *tgfake.Server, method string, body any) (int, apiResp) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+"/bot"+token+"/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func getUpdates(t *testing.T, s *tgfake.Server, offset int64, timeout int) []models.Update {
	t.Helper()
	code, r := postJSON(t, s, "getUpdates", map[string]any{
		"offset": offset, "timeout": timeout, "limit": 100, "allowed_updates": []string{"message", "callback_query"},
	})
	if code != 200 || !r.OK {
		t.Fatalf("getUpdates: %d %s", code, r.Description)
	}
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func wantBadRequest(t *testing.T, err error, substr string) {
	t.Helper()
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), substr) {
		t.Fatalf("want 400 %q, got %v", substr, err)
	}
}

func kb(rows ...[]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func TestGetMeTokenAndUnknownMethod(t *testing.T) {
	s, _ := start(t, tgfake.Options{BotUsername: "x_bot"})
	b, err := bot.New(token, bot.WithServerURL(s.URL())) // calls getMe
	if err != nil {
		t.Fatal(err)
	}
	me, err := b.GetMe(context.Background())
	if err != nil || me.ID != tgfake.DefaultBotID || !me.IsBot || me.Username != "x_bot" || me.FirstName != "Repair Bot" {
		t.Fatalf("getMe: %+v %v", me, err)
	}

	resp, err := http.Get(s.URL() + "/bot999:wrong/getMe")
	if err != nil {
		t.Fatal(err)
	}
	code, r := decode(t, resp)
	if code != 401 || r.OK || r.ErrorCode != 401 || r.Description != "Unauthorized" {
		t.Fatalf("wrong token: %d %+v", code, r)
	}
	if _, err := bot.New("999:wrong", bot.WithServerURL(s.URL())); !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("bot.New with wrong token: %v", err)
	}

	code, r = postJSON(t, s, "sendTelepathy", map[string]any{})
	if code != 404 || r.ErrorCode != 404 || r.Description != "Not Found" {
		t.Fatalf("unknown method: %d %+v", code, r)
	}
	if s.Calls("getme") != 3 {
		t.Fatalf("Calls(getMe) = %d", s.Calls("getMe"))
	}
}

func TestLongPollConfirmAndRedelivery(t *testing.T) {
	s, _ := start(t, tgfake.Options{})
	id1 := s.SendText(alice, alice.ID, "/start payload")
	id2 := s.SendText(alice, alice.ID, "hello")
	if id2 != id1+1 {
		t.Fatalf("ids %d %d", id1, id2)
	}

	ups := getUpdates(t, s, 0, 0)
	if len(ups) != 2 || ups[0].ID != id1 || ups[1].Message.Text != "hello" {
		t.Fatalf("first poll: %+v", ups)
	}
	m := ups[0].Message
	if m.From.ID != alice.ID || m.Chat.ID != alice.ID || m.Chat.Type != models.ChatTypePrivate ||
		len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Length != 6 {
		t.Fatalf("message: %+v", m)
	}

	// Not confirmed: handed out again.
	ups = getUpdates(t, s, 0, 0)
	if len(ups) != 2 || s.Delivered(id1) != 2 || s.Pending() != 2 {
		t.Fatalf("redelivery: %d updates, delivered %d, pending %d", len(ups), s.Delivered(id1), s.Pending())
	}

	// Offset confirms id1 only.
	ups = getUpdates(t, s, id2, 0)
	if len(ups) != 1 || ups[0].ID != id2 || s.Pending() != 1 || s.Confirmed() != id2 {
		t.Fatalf("partial confirm: %+v pending %d confirmed %d", ups, s.Pending(), s.Confirmed())
	}

	// Confirm all; the long poll is capped by MaxLongPoll (200ms).
	t0 := time.Now()
	ups = getUpdates(t, s, id2+1, 30)
	if el := time.Since(t0); len(ups) != 0 || el < 150*time.Millisecond || el > 2*time.Second {
		t.Fatalf("empty long poll: %d updates after %v", len(ups), el)
	}
	if s.Pending() != 0 || s.Confirmed() != id2+1 {
		t.Fatalf("pending %d confirmed %d", s.Pending(), s.Confirmed())
	}

	// A waiting long poll wakes up as soon as an update arrives.
	go func() {
		time.Sleep(30 * time.Millisecond)
		s.SendText(bob, bob.ID, "late")
	}()
	t0 = time.Now()
	ups = getUpdates(t, s, id2+1, 30)
	if len(ups) != 1 || ups[0].Message.Text != "late" || time.Since(t0) > 150*time.Millisecond {
		t.Fatalf("wake: %+v after %v", ups, time.Since(t0))
	}
}

func TestLongPollClientCancel(t *testing.T) {
	s, _ := start(t, tgfake.Options{MaxLongPoll: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+token+"/getUpdates",
		strings.NewReader(`{"offset":0,"timeout":20}`))
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("expected client timeout")
	}
	// The handler must notice the disconnect, otherwise Close would block.
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked by an abandoned long poll")
	}
}

func TestBodyEncodings(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	s.SendText(alice, alice.ID, "hi")
	chat := "1001"

	// JSON with a nested (non-string) reply_markup.
	code, r := postJSON(t, s, "sendMessage", map[string]any{
		"chat_id": alice.ID, "text": "json",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "A", "callback_data": "a"}}}},
	})
	if code != 200 || !r.OK {
		t.Fatalf("json: %d %+v", code, r)
	}
	// urlencoded with reply_markup as a JSON string.
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{
		"chat_id": {chat}, "text": {"form"}, "reply_markup": {`{"keyboard":[[{"text":"Share","request_contact":true}]]}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, r := decode(t, resp); code != 200 || !r.OK {
		t.Fatalf("form: %d %+v", code, r)
	}
	// query string.
	resp, err = http.Get(s.URL() + "/bot" + token + "/sendMessage?chat_id=" + chat + "&text=query")
	if err != nil {
		t.Fatal(err)
	}
	if code, r := decode(t, resp); code != 200 || !r.OK {
		t.Fatalf("query: %d %+v", code, r)
	}
	// multipart via the real client.
	msg, err := b.SendMessage(context.Background(), &bot.SendMessageParams{
		ChatID: alice.ID, Text: "multi", ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "B", CallbackData: "b"}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ReplyMarkup == nil || msg.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "b" || msg.From.ID != tgfake.DefaultBotID || msg.Chat.ID != alice.ID {
		t.Fatalf("echo: %+v", msg)
	}

	msgs := s.Messages(alice.ID)
	if len(msgs) != 4 {
		t.Fatalf("messages: %+v", msgs)
	}
	if msgs[0].Inline[0][0].Data != "a" || msgs[1].Reply[0][0].Text != "Share" || !msgs[1].Reply[0][0].RequestContact ||
		msgs[2].Text != "query" || msgs[3].Text != "multi" {
		t.Fatalf("stored: %+v", msgs)
	}
	// user message "hi" took id 1; bot messages continue the per-chat sequence.
	if msgs[0].ID != 2 || msg.ID != 5 {
		t.Fatalf("ids: %d %d", msgs[0].ID, msg.ID)
	}
	if got := s.ReplyKeyboard(alice.ID); len(got) != 1 || got[0][0].Text != "Share" {
		t.Fatalf("reply keyboard: %+v", got)
	}
}

func TestChatAccess(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "can't initiate conversation") {
		t.Fatalf("unstarted user: %v", err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: -100500, Text: "hi"})
	wantBadRequest(t, err, "chat not found")

	s.AddGroup(-100500, "Techs")
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: -100500, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	s.SendText(alice, alice.ID, "/start")
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "   "})
	wantBadRequest(t, err, "message text is empty")

	s.Block(alice.ID)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("blocked: %v", err)
	}
	code, r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "x"})
	if code != 403 || r.Description != "Forbidden: bot was blocked by the user" {
		t.Fatalf("blocked raw: %d %+v", code, r)
	}
}

func TestTextLimit(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: strings.Repeat("я", 4096)}); err != nil {
		t.Fatal(err)
	}
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: strings.Repeat("я", 4097)})
	wantBadRequest(t, err, "message is too long")
	// Emoji outside the BMP count as two UTF-16 units.
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: strings.Repeat("🔧", 2049)})
	wantBadRequest(t, err, "message is too long")
	// Markup does not count.
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeHTML,
		Text: "<b>" + strings.Repeat("x", 4096) + "</b>"}); err != nil {
		t.Fatal(err)
	}
}

func TestParseModes(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeHTML, Text: "<b>Заявка</b> &lt;#12&gt; & <a href=\"https://x.y\">link</a>"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Заявка <#12> & link" || len(m.Entities) != 2 || m.Entities[0].Type != "bold" || m.Entities[0].Length != 6 || m.Entities[1].URL != "https://x.y" {
		t.Fatalf("html: %q %+v", m.Text, m.Entities)
	}
	if got, _ := s.Last(alice.ID); got.Text != m.Text || got.ParseMode != "HTML" || !strings.HasPrefix(got.Raw, "<b>") {
		t.Fatalf("stored: %+v", got)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeHTML, Text: "price < 5"})
	wantBadRequest(t, err, "can't parse entities")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeHTML, Text: "<b>open"})
	wantBadRequest(t, err, "Can't find end tag")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeMarkdown, Text: "Done."})
	wantBadRequest(t, err, "Character '.' is reserved")
	m, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, ParseMode: models.ParseModeMarkdown, Text: "*Done*\\. `a_b`"})
	if err != nil || m.Text != "Done. a_b" || len(m.Entities) != 2 {
		t.Fatalf("mdv2: %q %+v %v", m.Text, m.Entities, err)
	}
}

func TestKeyboardValidation(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	send := func(data string) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "k",
			ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "x", CallbackData: data}})})
		return err
	}
	if err := send(strings.Repeat("d", 64)); err != nil {
		t.Fatal(err)
	}
	wantBadRequest(t, send(strings.Repeat("d", 65)), "BUTTON_DATA_INVALID")
	wantBadRequest(t, send(strings.Repeat("ж", 33)), "BUTTON_DATA_INVALID") // 66 bytes
	// A button without any action (empty callback_data is omitted by the client).
	wantBadRequest(t, send(""), "Text buttons are unallowed")
	code, r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "k",
		"reply_markup": `{"inline_keyboard":[[{"text":"x","callback_data":""}]]}`})
	if code != 400 || r.Description != "Bad Request: BUTTON_DATA_INVALID" {
		t.Fatalf("empty data: %d %+v", code, r)
	}
}

func TestEdits(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	k := kb([]models.InlineKeyboardButton{{Text: "Accept", CallbackData: "acc:1"}})
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "card", ReplyMarkup: k})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "card", ReplyMarkup: k})
	wantBadRequest(t, err, "message is not modified")

	// Changing only the text while omitting reply_markup removes the keyboard.
	e, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "card v2"})
	if err != nil {
		t.Fatal(err)
	}
	if e.ReplyMarkup != nil || e.EditDate == 0 || e.Text != "card v2" {
		t.Fatalf("edit result: %+v", e)
	}
	got, _ := s.Message(alice.ID, m.ID)
	if got.Inline != nil || got.Edits != 1 || got.Text != "card v2" {
		t.Fatalf("after edit: %+v", got)
	}
	if _, err := s.Tap(alice, alice.ID, m.ID, "Accept"); err == nil {
		t.Fatal("tap on removed keyboard should fail")
	}
	// Same text, no keyboard before or after: not modified.
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "card v2"})
	wantBadRequest(t, err, "message is not modified")

	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: m.ID, ReplyMarkup: k}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Message(alice.ID, m.ID); len(got.Inline) != 1 || got.Edits != 2 {
		t.Fatalf("markup edit: %+v", got)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: 999, Text: "x"})
	wantBadRequest(t, err, "message to edit not found")
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: strings.Repeat("x", 4097)})
	wantBadRequest(t, err, "message is too long")
}

func TestTapAndAnswer(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.AddGroup(-4001, "Technicians")
	card, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: -4001, Text: "New request #7",
		ReplyMarkup: kb(
			[]models.InlineKeyboardButton{{Text: "✅ Accept", CallbackData: "accept:7"}},
			[]models.InlineKeyboardButton{{Text: "Map", URL: "https://maps.example/7"}},
		)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tap(bob, -4001, card.ID, "Decline"); err == nil {
		t.Fatal("missing button must fail")
	}
	if _, err := s.Tap(bob, -4001, card.ID, "Map"); err == nil {
		t.Fatal("URL button has no callback")
	}
	uid, err := s.Tap(bob, -4001, card.ID, "Accept") // substring match
	if err != nil {
		t.Fatal(err)
	}
	ups := getUpdates(t, s, 0, 0)
	if len(ups) != 1 || ups[0].ID != uid || ups[0].CallbackQuery == nil {
		t.Fatalf("updates: %+v", ups)
	}
	cq := ups[0].CallbackQuery
	if cq.Data != "accept:7" || cq.From.ID != bob.ID || cq.ID == "" || cq.ChatInstance == "" ||
		cq.Message.Message == nil || cq.Message.Message.ID != card.ID || cq.Message.Message.Chat.ID != -4001 ||
		cq.Message.Message.Text != "New request #7" || cq.Message.Message.ReplyMarkup == nil {
		t.Fatalf("callback: %+v", cq)
	}
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: strings.Repeat("x", 201)})
	wantBadRequest(t, err, "MESSAGE_TOO_LONG")
	if ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: "Taken", ShowAlert: true}); !ok || err != nil {
		t.Fatalf("answer: %v %v", ok, err)
	}
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID})
	wantBadRequest(t, err, "query is too old")
	if a, ok := s.CallbackAnswer(cq.ID); !ok || a.Text != "Taken" || !a.ShowAlert {
		t.Fatalf("recorded answer: %+v", a)
	}

	// Stale/forged callback on a message that does not exist.
	uid = s.TapData(alice, alice.ID, 77, "accept:999")
	ups = getUpdates(t, s, ups[0].ID+1, 0)
	if len(ups) != 1 || ups[0].ID != uid || ups[0].CallbackQuery.Message.InaccessibleMessage == nil {
		t.Fatalf("forged: %+v", ups)
	}

	kinds := []string{}
	for _, e := range s.Entries() {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "bot_send,user_tap,bot_answer,user_tap" {
		t.Fatalf("transcript: %s", got)
	}
}

func TestRateLimit(t *testing.T) {
	s, b := start(t, tgfake.Options{EnforceLimits: true})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "spam"})
	}
	var tm *bot.TooManyRequestsError
	if !errors.As(err, &tm) || tm.RetryAfter <= 0 {
		t.Fatalf("want TooManyRequestsError, got %v", err)
	}
	if s.TooMany() != 1 || len(s.Messages(alice.ID)) != 3 {
		t.Fatalf("TooMany %d, messages %d", s.TooMany(), len(s.Messages(alice.ID)))
	}
	code, r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "x"})
	if code != 429 || r.ErrorCode != 429 || r.Parameters.RetryAfter < 1 || !strings.HasPrefix(r.Description, "Too Many Requests: retry after ") {
		t.Fatalf("raw 429: %d %+v", code, r)
	}
	// Other chats are not affected.
	s.SendText(bob, bob.ID, "hi")
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: bob.ID, Text: "ok"}); err != nil {
		t.Fatal(err)
	}
}

func TestFailNext(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendText(alice, alice.ID, "hi")
	s.FailNext("sendMessage", 429, "Too Many Requests: retry after 7", 7)
	s.FailNext("sendMessage", 500, "Internal Server Error", 0)
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "a"})
	var tm *bot.TooManyRequestsError
	if !errors.As(err, &tm) || tm.RetryAfter != 7 {
		t.Fatalf("first: %v", err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "a"}); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("second: %v", err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "a"}); err != nil {
		t.Fatal(err)
	}
	if s.Calls("sendMessage") != 3 || len(s.Messages(alice.ID)) != 1 || s.TooMany() != 1 {
		t.Fatalf("calls %d messages %d", s.Calls("sendMessage"), len(s.Messages(alice.ID)))
	}
}

func TestWebhook(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	var mu sync.Mutex
	var secrets []string
	var bodies []models.Update
	attempts := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if attempts == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var u models.Update
		_ = json.NewDecoder(r.Body).Decode(&u)
		bodies = append(bodies, u)
	}))
	defer recv.Close()

	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: recv.URL + "/hook", SecretToken: "s3cr3t"})
	if !ok || err != nil {
		t.Fatalf("setWebhook: %v %v", ok, err)
	}
	code, r := postJSON(t, s, "getUpdates", map[string]any{})
	if code != 409 || !strings.Contains(r.Description, "webhook is active") {
		t.Fatalf("getUpdates with webhook: %d %+v", code, r)
	}
	id1 := s.SendText(alice, alice.ID, "one")
	id2 := s.SendText(alice, alice.ID, "two")
	if !s.WaitFor(3*time.Second, func() bool { return s.Pending() == 0 }) {
		t.Fatal("webhook did not deliver")
	}
	mu.Lock()
	if attempts != 3 || len(bodies) != 2 || bodies[0].ID != id1 || bodies[1].Message.Text != "two" {
		t.Fatalf("attempts %d bodies %+v", attempts, bodies)
	}
	for _, sec := range secrets {
		if sec != "s3cr3t" {
			t.Fatalf("secret header %q", sec)
		}
	}
	mu.Unlock()
	if s.Delivered(id1) != 2 || s.Delivered(id2) != 1 || s.Confirmed() != id2+1 {
		t.Fatalf("delivered %d/%d confirmed %d", s.Delivered(id1), s.Delivered(id2), s.Confirmed())
	}
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != recv.URL+"/hook" || info.LastErrorMessage == "" {
		t.Fatalf("info: %+v %v", info, err)
	}
	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); !ok || err != nil {
		t.Fatalf("deleteWebhook: %v", err)
	}
	id3 := s.SendText(alice, alice.ID, "three")
	if ups := getUpdates(t, s, 0, 0); len(ups) != 1 || ups[0].ID != id3 {
		t.Fatalf("polling after deleteWebhook: %+v", ups)
	}
}

// With WebhookConnections, several posts are in flight at once: a slow
// update does not hold the others back, a failing one is retried while the
// others are confirmed, and Confirmed counts up to the oldest unconfirmed.
func TestWebhookParallel(t *testing.T) {
	s, b := start(t, tgfake.Options{WebhookConnections: 4})
	ctx := context.Background()
	release := make(chan struct{})
	var mu sync.Mutex
	got := map[string]int{}
	failed := false
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u models.Update
		_ = json.NewDecoder(r.Body).Decode(&u)
		text := u.Message.Text
		mu.Lock()
		got[text]++
		fail := text == "flaky" && !failed
		if fail {
			failed = true
		}
		mu.Unlock()
		switch {
		case text == "slow":
			<-release // answered only once the others are through
		case fail:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer recv.Close()
	defer close(release)
	if ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: recv.URL + "/hook", SecretToken: "s3cr3t"}); !ok || err != nil {
		t.Fatalf("setWebhook: %v %v", ok, err)
	}
	slow := s.SendText(alice, alice.ID, "slow")
	flaky := s.SendText(bob, bob.ID, "flaky")
	last := s.SendText(alice, alice.ID, "after the slow one, same chat")
	if !s.WaitFor(5*time.Second, func() bool { return s.Pending() == 1 }) {
		t.Fatalf("the updates behind a slow one were not delivered meanwhile: %d pending", s.Pending())
	}
	if s.Confirmed() > slow {
		t.Errorf("Confirmed() = %d while update %d is unanswered", s.Confirmed(), slow)
	}
	if s.Delivered(flaky) != 2 || s.Delivered(last) != 1 || s.Delivered(slow) != 1 {
		t.Errorf("delivered %d/%d/%d times, want 1/2/1", s.Delivered(slow), s.Delivered(flaky), s.Delivered(last))
	}
	release <- struct{}{}
	if !s.WaitFor(5*time.Second, func() bool { return s.Pending() == 0 }) {
		t.Fatal("the slow update was not confirmed once answered")
	}
	if s.Confirmed() != last+1 {
		t.Errorf("Confirmed() = %d, want %d", s.Confirmed(), last+1)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["slow"] != 1 || got["flaky"] != 2 || got["after the slow one, same chat"] != 1 {
		t.Errorf("posts: %v", got)
	}
}

func TestFiles(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	s.SendPhoto(alice, alice.ID, "broken tap", 12345)
	s.SendDocument(alice, alice.ID, "huge.pdf", "application/pdf", 25<<20)
	ups := getUpdates(t, s, 0, 0)
	if len(ups) != 2 {
		t.Fatalf("updates: %+v", ups)
	}
	photo := ups[0].Message.Photo
	if len(photo) != 2 || photo[1].FileSize != 12345 || photo[0].FileID == photo[1].FileID || photo[0].FileUniqueID == photo[1].FileUniqueID || ups[0].Message.Caption != "broken tap" {
		t.Fatalf("photo: %+v", ups[0].Message)
	}
	f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: photo[1].FileID})
	if err != nil || f.FileSize != 12345 || !strings.HasPrefix(f.FilePath, "photos/") {
		t.Fatalf("getFile: %+v %v", f, err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(data) != 12345 || resp.ContentLength != 12345 || !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
		t.Fatalf("download: %d len %d cl %d", resp.StatusCode, len(data), resp.ContentLength)
	}
	_, err = b.GetFile(ctx, &bot.GetFileParams{FileID: ups[1].Message.Document.FileID})
	wantBadRequest(t, err, "file is too big")
	_, err = b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"})
	wantBadRequest(t, err, "invalid file_id")

	// The bot forwards the photo to a group by file_id.
	s.AddGroup(-5, "Techs")
	m, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: -5, Photo: &models.InputFileString{Data: photo[1].FileID}, Caption: "from client"})
	if err != nil || len(m.Photo) != 2 {
		t.Fatalf("sendPhoto: %+v %v", m, err)
	}
	if got, _ := s.Last(-5); got.PhotoFileID != photo[1].FileID || got.Caption != "from client" {
		t.Fatalf("stored photo: %+v", got)
	}
	_, err = b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: -5, Photo: &models.InputFileString{Data: "bogus"}})
	wantBadRequest(t, err, "wrong file identifier/HTTP URL specified")
	_, err = b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: -5, Photo: &models.InputFileString{Data: photo[1].FileID}, Caption: strings.Repeat("c", 1025)})
	wantBadRequest(t, err, "message caption is too long")
	// Uploading real bytes creates a new file.
	up, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: -5, Photo: &models.InputFileUpload{Filename: "a.jpg", Data: bytes.NewReader([]byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3})}})
	if err != nil || len(up.Photo) == 0 || up.Photo[len(up.Photo)-1].FileSize != 7 {
		t.Fatalf("upload: %+v %v", up, err)
	}
}

func TestCommands(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	cmds := []models.BotCommand{{Command: "start", Description: "Начать"}, {Command: "new_request", Description: "Новая заявка"}}
	if ok, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds, LanguageCode: "ru"}); !ok || err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}
	if ok, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds[:1]}); !ok || err != nil {
		t.Fatalf("setMyCommands default: %v", err)
	}
	_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad-Name", Description: "x"}}})
	wantBadRequest(t, err, "BOT_COMMAND_INVALID")
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "ok", Description: ""}}})
	wantBadRequest(t, err, "BOT_COMMAND_INVALID")
	got := s.Commands()
	if len(got["ru"]) != 2 || got["ru"][1].Command != "new_request" || len(got[""]) != 1 {
		t.Fatalf("commands: %+v", got)
	}
}

func TestContactAndEntries(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	ctx := context.Background()
	var mu sync.Mutex
	var seen []string
	s.OnEntry(func(e tgfake.Entry) {
		mu.Lock()
		seen = append(seen, e.Kind)
		mu.Unlock()
	})
	s.SendText(alice, alice.ID, "/start")
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Share your phone",
		ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "📱 Share", RequestContact: true}}}, OneTimeKeyboard: true}})
	if err != nil {
		t.Fatal(err)
	}
	s.SendContact(alice, "+79990001122", true)
	s.SendContact(alice, "+70000000000", false)
	s.SendSticker(alice, alice.ID)
	ups := getUpdates(t, s, 0, 0)
	if len(ups) != 4 || ups[1].Message.Contact.UserID != alice.ID || ups[2].Message.Contact.UserID == alice.ID || ups[3].Message.Sticker == nil {
		t.Fatalf("updates: %+v", ups)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Thanks",
		ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}}); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.Last(alice.ID); !last.RemoveKeyboard || s.ReplyKeyboard(alice.ID) != nil {
		t.Fatalf("remove keyboard: %+v", last)
	}
	m, ok := s.WaitMessage(alice.ID, time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "phone") })
	if !ok || len(m.Reply) != 1 || !m.Reply[0][0].RequestContact {
		t.Fatalf("WaitMessage: %+v", m)
	}
	want := "user_text,bot_send,user_contact,user_contact,user_sticker,bot_send"
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("OnEntry: %s", got)
	}
}

func TestWaitMessageFuture(t *testing.T) {
	s, b := start(t, tgfake.Options{})
	s.SendText(alice, alice.ID, "hi")
	go func() {
		time.Sleep(20 * time.Millisecond)
		m, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "draft"})
		if err == nil {
			time.Sleep(20 * time.Millisecond)
			_, _ = b.EditMessageText(context.Background(), &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "final"})
		}
	}()
	m, ok := s.WaitMessage(alice.ID, 2*time.Second, func(m tgfake.Message) bool { return m.Text == "final" })
	if !ok || m.Edits != 1 {
		t.Fatalf("WaitMessage: %+v %v", m, ok)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	s := tgfake.New(tgfake.Options{Token: token, MaxLongPoll: 5 * time.Second})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway) // keeps the webhook retrying
	}))
	code, r := postJSON(t, s, "setWebhook", map[string]any{"url": recv.URL})
	if code != 200 || r.Description != "Webhook was set" {
		t.Fatalf("setWebhook: %d %+v", code, r)
	}
	id := s.SendText(alice, alice.ID, "x")
	if !s.WaitFor(2*time.Second, func() bool { return s.Delivered(id) >= 2 }) {
		t.Fatal("webhook is not retrying")
	}
	s.Close()
	recv.Close()
	http.DefaultClient.CloseIdleConnections()
	var now int
	for i := 0; i < 100; i++ {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: %d before, %d after Close\n%s", before, now, buf[:runtime.Stack(buf, true)])
}

// TestEndToEndWithBotStart runs the go-telegram polling loop (multipart
// getUpdates) against the fake and simulates a user conversation.
func TestEndToEndWithBotStart(t *testing.T) {
	s := tgfake.New(tgfake.Options{Token: token, MaxLongPoll: 100 * time.Millisecond})
	defer s.Close()
	s.AddGroup(-42, "Techs")
	b, err := bot.New(token, bot.WithServerURL(s.URL()), bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
		switch {
		case u.Message != nil:
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: -42, Text: "Request from " + u.Message.From.FirstName + ": " + u.Message.Text,
				ReplyMarkup: kb([]models.InlineKeyboardButton{{Text: "Accept", CallbackData: "acc"}})})
		case u.CallbackQuery != nil:
			cq := u.CallbackQuery
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: "Yours"})
			_, _ = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: cq.Message.Message.Chat.ID, MessageID: cq.Message.Message.ID,
				Text: cq.Message.Message.Text + "\nTaken by " + cq.From.FirstName})
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	s.SendText(alice, alice.ID, "leaking tap")
	card, ok := s.WaitMessage(-42, 3*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "leaking tap") })
	if !ok {
		t.Fatal("no card in group")
	}
	if _, err := s.Tap(bob, -42, card.ID, "Accept"); err != nil {
		t.Fatal(err)
	}
	got, ok := s.WaitMessage(-42, 3*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "Taken by Bob") })
	if !ok || got.Inline != nil || len(s.CallbackAnswers()) != 1 {
		t.Fatalf("after tap: %+v answers %d", got, len(s.CallbackAnswers()))
	}
	if !s.WaitFor(2*time.Second, func() bool { return s.Pending() == 0 }) {
		t.Fatalf("updates not confirmed: pending %d", s.Pending())
	}
}
