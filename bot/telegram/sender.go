package telegram

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// maxText is Telegram's message length limit in UTF-16 code units.
const maxText = 4096

// maxCaption is Telegram's caption limit.
const maxCaption = 1024

// Sender delivers Telegram outbox rows through an outbox.Dispatcher: the
// oldest row of each chat first, urgent rows first across chats, within
// the per-chat (≈1/s), per-group (20/min) and global (30/s) budgets. A 429
// pauses only that chat.
type Sender struct {
	c     *Channel
	chats map[string]*rate.Limiter // guarded by the dispatcher's lock
	kept  int                      // chats left by the last sweep
	*outbox.Dispatcher
}

func newSender(c *Channel) *Sender {
	l := c.o.Send
	if l.PerChatPerSecond <= 0 {
		l.PerChatPerSecond = 1
	}
	if l.PerChatBurst <= 0 {
		l.PerChatBurst = 2
	}
	if l.GroupPerMinute <= 0 {
		l.GroupPerMinute = 20
	}
	if l.GlobalPerSecond <= 0 {
		l.GlobalPerSecond = 30
	}
	s := &Sender{c: c, chats: map[string]*rate.Limiter{}}
	digest := s.digest
	if l.NoDigest {
		digest = nil
	}
	s.Dispatcher = outbox.New(outbox.Policy{
		Name:        ChannelName,
		Owns:        func(a flows.Address) bool { return a.Channel == ChannelName },
		Budgets:     func(m flows.Message) []outbox.Budget { return []outbox.Budget{outbox.Rate(s.chat(m.To.Chat, l))} },
		Global:      rate.NewLimiter(strictRate(l.GlobalPerSecond), 1),
		Send:        s.send,
		Judge:       judge,
		Redact:      func(msg string) string { return redact(msg, c.o.Token) },
		DelayNotice: 5 * time.Second,
		Digest:      digest,
		DigestAfter: l.DigestAfter,
	}, outbox.Options{Queue: c.o.Outbox, Log: c.o.Log, Now: c.o.Now, Workers: l.Workers,
		BaseBackoff: l.BaseBackoff, MaxBackoff: l.MaxBackoff, GiveUpAfter: l.GiveUpAfter,
		Recovered: c.o.Deps.Recovered(c.Name()), Leading: c.o.Leading})
	return s
}

// digest folds new cards waiting for a group whose budget is spent into
// one message: a line per ticket and its Accept button, labelled with the
// ticket so one tap takes the right job.
func (s *Sender) digest(rows []outbox.Row) flows.Message {
	l := s.c.o.DefaultLang
	var b strings.Builder
	b.WriteString(s.c.o.Texts.T(l, "card.digest_head", "n", len(rows)))
	var buttons [][]flows.Button
	for _, r := range rows {
		lines := strings.SplitN(r.Msg.Text, "\n", 4)
		b.WriteString("\n\n" + strings.Join(lines[:min(3, len(lines))], "\n"))
		for _, row := range r.Msg.Buttons {
			var out []flows.Button
			for _, btn := range row {
				out = append(out, flows.Button{Text: btn.Text + " " + shortTicket(r.Msg.Ticket), Data: btn.Data})
			}
			buttons = append(buttons, out)
		}
	}
	return flows.Message{Text: b.String(), Buttons: buttons, Priority: flows.PrioNormal}
}

// shortTicket is the day's sequence of a ticket number (BX-20261127-0007 → 0007).
func shortTicket(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// strictRate turns "n per second" into a token rate that, with a burst of
// one, never exceeds n in any one-second window (n-1 refills plus the burst).
func strictRate(perSecond float64) rate.Limit {
	if perSecond > 1 {
		return rate.Limit(perSecond - 1)
	}
	return rate.Limit(perSecond)
}

// chat is the budget of one chat: groups (negative ids) 20 a minute,
// private chats about one a second after a short burst.
func (s *Sender) chat(id string, l SendLimits) *rate.Limiter {
	lim := s.chats[id]
	if lim == nil {
		if len(s.chats) >= max(outbox.MaxTracked, 2*s.kept) {
			// A full bucket allows what a new one does: forget those.
			now := s.c.now()
			for k, b := range s.chats {
				if b.TokensAt(now) >= float64(b.Burst()) {
					delete(s.chats, k)
				}
			}
			s.kept = len(s.chats)
		}
		if strings.HasPrefix(id, "-") {
			lim = rate.NewLimiter(strictRate(l.GroupPerMinute)/60, 1)
		} else {
			lim = rate.NewLimiter(rate.Limit(l.PerChatPerSecond), l.PerChatBurst)
		}
		s.chats[id] = lim
	}
	return lim
}

// judge classifies a failed send: 429 pauses the chat for retry_after,
// errors retrying cannot fix fail the row, the rest are retried.
func judge(err error) outbox.Verdict {
	var tm *bot.TooManyRequestsError
	if errors.As(err, &tm) {
		return outbox.Verdict{Pause: time.Duration(max(tm.RetryAfter, 1)) * time.Second}
	}
	return outbox.Verdict{Permanent: permanent(err)}
}

// permanent reports errors that retrying cannot fix: the user blocked the
// bot, the chat is gone, the request itself is invalid.
func permanent(err error) bool {
	var mig *bot.MigrateError
	var perm *permanentError
	return errors.Is(err, bot.ErrorForbidden) || errors.Is(err, bot.ErrorBadRequest) || errors.As(err, &mig) || errors.As(err, &perm)
}

func badRequest(err error, fragment string) bool {
	return errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), fragment)
}

// send performs one row and returns the platform message id.
func (s *Sender) send(ctx context.Context, r outbox.Row) (string, error) {
	m := r.Msg
	chatID, err := strconv.ParseInt(m.To.Chat, 10, 64)
	if err != nil {
		return "", &permanentError{"bad chat id " + m.To.Chat}
	}
	switch m.Kind {
	case flows.KindMenu:
		// The person's own command menu (their role's), for their chat.
		var cmds []models.BotCommand
		for _, row := range m.Buttons {
			for _, b := range row {
				cmds = append(cmds, models.BotCommand{Command: b.Data, Description: clip(b.Text, 256)})
			}
		}
		if _, err := s.c.api.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds, Scope: &models.BotCommandScopeChat{ChatID: chatID}}); err != nil {
			return "", err
		}
		return "", nil
	case flows.KindFile:
		if m.Export != nil {
			return s.sendExport(ctx, chatID, m)
		}
		msg, err := s.c.api.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID,
			Document: &models.InputFileUpload{Filename: m.FileName, Data: strings.NewReader(m.Text)}})
		if err != nil {
			return "", err
		}
		return strconv.Itoa(msg.ID), nil
	case flows.KindPhoto:
		if m.Export != nil {
			return s.sendExport(ctx, chatID, m)
		}
		if m.Document {
			msg, err := s.c.api.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID, Document: &models.InputFileString{Data: m.Photo}, Caption: clip(m.Text, maxCaption)})
			if err != nil {
				return "", err
			}
			return strconv.Itoa(msg.ID), nil
		}
		msg, err := s.c.api.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chatID, Photo: &models.InputFileString{Data: m.Photo}, Caption: clip(m.Text, maxCaption)})
		if err != nil {
			return "", err
		}
		return strconv.Itoa(msg.ID), nil
	case flows.KindEdit:
		ref, ok, err := s.c.o.Outbox.Card(m.CardKey)
		if err != nil {
			return "", err
		}
		if m.Retire {
			return s.retire(ctx, chatID, ref, ok)
		}
		if ok && !ref.Digest {
			msgID, _ := strconv.Atoi(ref.MessageID)
			_, err := s.c.api.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: msgID, Text: clip(m.Text, maxText), ReplyMarkup: inline(m.Buttons)})
			switch {
			case err == nil, badRequest(err, "message is not modified"):
				return ref.MessageID, nil
			case badRequest(err, "message to edit not found"), badRequest(err, "MESSAGE_ID_INVALID"):
				// Someone deleted the card: post it again so the group still sees it.
			default:
				return "", err
			}
		}
		// The card never arrived (its send failed), was deleted, or went out
		// folded into a digest (editing that would overwrite the others):
		// post it as a card of its own, which later edits then target.
	}
	p := &bot.SendMessageParams{ChatID: chatID, Text: clip(m.Text, maxText)}
	switch {
	case len(m.Buttons) > 0:
		p.ReplyMarkup = inline(m.Buttons)
	case m.RequestContact != "":
		p.ReplyMarkup = &models.ReplyKeyboardMarkup{
			Keyboard:       [][]models.KeyboardButton{{{Text: m.RequestContact, RequestContact: true}}},
			ResizeKeyboard: true, OneTimeKeyboard: true,
		}
	case m.RemoveKeyboard:
		p.ReplyMarkup = &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	msg, err := s.c.api.SendMessage(ctx, p)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(msg.ID), nil
}

// retire takes the buttons off a card a newer one replaced, keeping its
// text (editMessageReplyMarkup without a keyboard). A card that never
// arrived, went out in a digest or was deleted is left alone: a retired
// card is never posted anew.
func (s *Sender) retire(ctx context.Context, chatID int64, ref outbox.CardRef, ok bool) (string, error) {
	if !ok || ref.Digest {
		return "", nil
	}
	msgID, err := strconv.Atoi(ref.MessageID)
	if err != nil {
		return "", nil
	}
	_, err = s.c.api.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: msgID})
	switch {
	case err == nil, badRequest(err, "message is not modified"):
		return ref.MessageID, nil
	case badRequest(err, "message to edit not found"), badRequest(err, "MESSAGE_ID_INVALID"):
		return "", nil
	}
	return "", err
}

// Telegram's upload limits: sendPhoto takes images up to 10 MB, sendDocument
// files up to 50 MB.
const (
	maxUploadPhoto    = 10 << 20
	maxUploadDocument = 50 << 20
)

// sendExport renders the form or chart a message carries and uploads it:
// a chart as a photo (or a document when it is over the photo limit), a
// form as a document with the message's text as caption. What cannot be
// a file (no renderer, a spec that names nothing, a file over 50 MB) goes
// as the text with a note; a failure to read the store is retried.
func (s *Sender) sendExport(ctx context.Context, chatID int64, m flows.Message) (string, error) {
	exp := s.c.o.Exports
	if exp == nil {
		return s.sendText(ctx, chatID, m.Text)
	}
	note := func(key string, kv ...any) string {
		if s.c.o.Texts == nil {
			return ""
		}
		return "\n" + s.c.o.Texts.T(m.Export.Lang, key, kv...)
	}
	data, err := exp.Export(ctx, *m.Export)
	switch {
	case errors.Is(err, flows.ErrExportInvalid), errors.Is(err, flows.ErrNotFound):
		return s.sendText(ctx, chatID, m.Text+note("export.failed"))
	case err != nil:
		return "", err
	case len(data) > maxUploadDocument:
		return s.sendText(ctx, chatID, m.Text+note("export.too_large", "mb", len(data)>>20))
	}
	name := m.FileName
	if name == "" {
		name = m.Export.Form
	}
	upload := &models.InputFileUpload{Filename: name, Data: bytes.NewReader(data)}
	var msg *models.Message
	if m.Kind == flows.KindPhoto && len(data) <= maxUploadPhoto {
		msg, err = s.c.api.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chatID, Photo: upload, Caption: clip(m.Text, maxCaption)})
	} else {
		msg, err = s.c.api.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID, Document: upload, Caption: clip(m.Text, maxCaption)})
	}
	if err != nil {
		return "", err
	}
	return strconv.Itoa(msg.ID), nil
}

// sendText sends a plain message.
func (s *Sender) sendText(ctx context.Context, chatID int64, text string) (string, error) {
	msg, err := s.c.api.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: clip(text, maxText)})
	if err != nil {
		return "", err
	}
	return strconv.Itoa(msg.ID), nil
}

type permanentError struct{ s string }

func (e *permanentError) Error() string { return e.s }

// inlineButton is our own wire type: the library's InlineKeyboardButton
// always serialises an empty copy_text object, which the API may reject.
type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

// inline renders buttons; nil (no reply_markup) makes an edit remove them.
func inline(rows [][]flows.Button) models.ReplyMarkup {
	if len(rows) == 0 {
		return nil
	}
	out := inlineMarkup{}
	for _, row := range rows {
		var r []inlineButton
		for _, b := range row {
			r = append(r, inlineButton{Text: clip(b.Text, 64), CallbackData: b.Data})
		}
		out.InlineKeyboard = append(out.InlineKeyboard, r)
	}
	return out
}

// clip cuts s to at most n UTF-16 code units (how Telegram counts), on a
// rune boundary, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if s == "" {
		return "…"
	}
	if len(s) <= n { // bytes ≥ UTF-16 units, so short strings pass quickly
		return s
	}
	if utf16Len(s) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if units+w > n-1 { // keep one unit for the ellipsis
			return s[:i] + "…"
		}
		units += w
	}
	return s
}

// utf16Len counts UTF-16 code units, as Telegram measures text.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// TrackedChats is how many chat budgets the sender keeps (bounded by
// outbox.MaxTracked plus the chats busy within a second or a group's 3 s).
func (s *Sender) TrackedChats() int {
	n := 0
	s.Dispatcher.WithLock(func() { n = len(s.chats) })
	return n
}
