package telegram

import (
	"context"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// maxText is Telegram's message length limit in UTF-16 code units.
const maxText = 4096

// maxCaption is Telegram's caption limit.
const maxCaption = 1024

// Sender delivers Telegram outbox rows: the oldest row of each chat first
// (per-chat order), urgent rows before others across chats, within the
// per-chat, per-group and global budgets. A 429 pauses only that chat.
type Sender struct {
	c        *Channel
	lim      SendLimits
	global   *rate.Limiter
	mu       sync.Mutex
	chats    map[string]*chatState
	inflight map[uint64]bool
	sem      chan struct{}
	wake     chan struct{}
	notify   <-chan struct{} // the store's commit signal, a subscription of our own
	wg       sync.WaitGroup
	done     chan struct{}

	// Counters for health and metrics.
	Sent, Retried, TooMany, Failed atomic.Int64
}

type chatState struct {
	lim          *rate.Limiter
	busy         bool
	blockedUntil time.Time
}

func newSender(c *Channel) *Sender {
	l := c.o.Send
	if l.PerChatPerSecond <= 0 {
		l.PerChatPerSecond = 1
	}
	if l.GroupPerMinute <= 0 {
		l.GroupPerMinute = 20
	}
	if l.GlobalPerSecond <= 0 {
		l.GlobalPerSecond = 30
	}
	if l.Workers <= 0 {
		l.Workers = 4
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = 12
	}
	if l.BaseBackoff <= 0 {
		l.BaseBackoff = time.Second
	}
	if l.MaxBackoff < l.BaseBackoff {
		l.MaxBackoff = 5 * time.Minute
	}
	return &Sender{
		c:        c,
		lim:      l,
		global:   rate.NewLimiter(strictRate(l.GlobalPerSecond), 1),
		chats:    map[string]*chatState{},
		inflight: map[uint64]bool{},
		sem:      make(chan struct{}, l.Workers),
		wake:     make(chan struct{}, 1),
		notify:   c.o.Store.Subscribe(),
	}
}

// strictRate turns "n per second" into a token rate that, with a burst of
// one, never exceeds n in any one-second window (n-1 refills plus the burst).
func strictRate(perSecond float64) rate.Limit {
	if perSecond > 1 {
		return rate.Limit(perSecond - 1)
	}
	return rate.Limit(perSecond)
}

func (s *Sender) chat(id string) *chatState {
	cs := s.chats[id]
	if cs == nil {
		var lim rate.Limit
		if strings.HasPrefix(id, "-") { // groups and supergroups have negative ids
			lim = strictRate(s.lim.GroupPerMinute) / 60
		} else {
			lim = rate.Limit(s.lim.PerChatPerSecond)
		}
		cs = &chatState{lim: rate.NewLimiter(lim, 1)}
		s.chats[id] = cs
	}
	return cs
}

// Open starts the delivery loop.
func (s *Sender) Open(ctx context.Context) {
	s.done = make(chan struct{})
	go s.loop(ctx)
}

// Close waits for the loop and in-flight deliveries to end (the context
// given to Open must be cancelled first).
func (s *Sender) Close() {
	if s.done != nil {
		<-s.done
	}
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) loop(ctx context.Context) {
	defer close(s.done)
	defer s.wg.Wait()
	for {
		wait := s.dispatch(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.notify:
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// dispatch starts every delivery that is allowed now and says how long to
// sleep before something else may become allowed.
func (s *Sender) dispatch(ctx context.Context) time.Duration {
	const idle = 2 * time.Second
	rows, err := s.c.o.Store.Pending(2000)
	if err != nil {
		s.c.o.Log.Error().Err(err).Msg("outbox: read pending")
		return time.Second
	}
	now := s.c.now()
	wait := idle
	soon := func(d time.Duration) {
		if d < time.Millisecond {
			d = time.Millisecond
		}
		if d < wait {
			wait = d
		}
	}
	latestEdit := map[string]uint64{}
	for _, r := range rows {
		if r.Msg.To.Channel == ChannelName && r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" {
			latestEdit[r.Msg.CardKey] = r.ID
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	head := map[string]bool{}
	var cands []store.OutboxRow
	for _, r := range rows {
		if r.Msg.To.Channel != ChannelName {
			continue
		}
		chat := r.Msg.To.Chat
		if head[chat] {
			continue
		}
		if s.inflight[r.ID] {
			head[chat] = true
			continue
		}
		if r.Msg.Kind == flows.KindEdit && r.Msg.CardKey != "" && latestEdit[r.Msg.CardKey] != r.ID {
			// Only a card's latest state matters: drop the older edit.
			if err := s.c.o.Store.MarkSuperseded(r.ID, now); err != nil {
				s.c.o.Log.Error().Err(err).Uint64("row", r.ID).Msg("outbox: supersede")
				head[chat] = true
			}
			continue
		}
		head[chat] = true
		cs := s.chat(chat)
		switch {
		case cs.busy:
		case r.NextAttempt.After(now):
			soon(r.NextAttempt.Sub(now))
		case cs.blockedUntil.After(now):
			soon(cs.blockedUntil.Sub(now))
		default:
			cands = append(cands, r)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].Msg.Priority != cands[j].Msg.Priority {
			return cands[i].Msg.Priority < cands[j].Msg.Priority
		}
		return cands[i].ID < cands[j].ID
	})
	for _, r := range cands {
		cs := s.chat(r.Msg.To.Chat)
		if len(s.sem) == cap(s.sem) {
			break // a finishing worker wakes the loop
		}
		if tok := cs.lim.TokensAt(now); tok < 1 {
			soon(time.Duration((1 - tok) / float64(cs.lim.Limit()) * float64(time.Second)))
			continue
		}
		if tok := s.global.TokensAt(now); tok < 1 {
			soon(time.Duration((1 - tok) / float64(s.global.Limit()) * float64(time.Second)))
			break
		}
		cs.lim.AllowN(now, 1)
		s.global.AllowN(now, 1)
		cs.busy = true
		s.inflight[r.ID] = true
		s.sem <- struct{}{}
		s.wg.Add(1)
		go s.deliver(ctx, r, cs)
	}
	return wait
}

func (s *Sender) deliver(ctx context.Context, r store.OutboxRow, cs *chatState) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		cs.busy = false
		delete(s.inflight, r.ID)
		s.mu.Unlock()
		<-s.sem
		s.poke()
	}()
	// A send that started finishes even when Close cancels ctx: cutting it
	// off would leave a message Telegram may already have accepted pending,
	// and it would go out a second time after the restart.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := s.c.o.Log.With().Uint64("row", r.ID).Str("chat", r.Msg.To.Chat).Str("kind", string(r.Msg.Kind)).Str("ticket", r.Msg.Ticket).Logger()
	id, err := s.send(sctx, r)
	now := s.c.now()
	st := s.c.o.Store
	if err == nil {
		s.Sent.Add(1)
		if err := st.MarkDelivered(r.ID, id, now); err != nil {
			log.Error().Err(err).Msg("outbox: mark delivered")
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the row stays pending and goes out after restart
	}
	msg := redact(err.Error(), s.c.o.Token)
	var tm *bot.TooManyRequestsError
	if errors.As(err, &tm) {
		s.TooMany.Add(1)
		retry := time.Duration(max(tm.RetryAfter, 1)) * time.Second
		s.mu.Lock()
		cs.blockedUntil = now.Add(retry)
		s.mu.Unlock()
		log.Warn().Int("retry_after", tm.RetryAfter).Msg("outbox: 429, pausing this chat")
		if err := st.MarkRetry(r.ID, now.Add(retry), msg, false); err != nil {
			log.Error().Err(err).Msg("outbox: mark retry")
		}
		return
	}
	if permanent(err) || r.Attempts+1 >= s.lim.MaxAttempts {
		s.Failed.Add(1)
		log.Error().Str("err", msg).Int("attempts", r.Attempts+1).Msg("outbox: delivery failed permanently")
		if err := st.MarkFailed(r.ID, msg, now); err != nil {
			log.Error().Err(err).Msg("outbox: mark failed")
		}
		return
	}
	s.Retried.Add(1)
	back := time.Duration(float64(s.lim.BaseBackoff) * math.Pow(2, float64(r.Attempts)))
	if back > s.lim.MaxBackoff || back <= 0 {
		back = s.lim.MaxBackoff
	}
	log.Warn().Str("err", msg).Dur("retry_in", back).Msg("outbox: transient failure")
	if err := st.MarkRetry(r.ID, now.Add(back), msg, true); err != nil {
		log.Error().Err(err).Msg("outbox: mark retry")
	}
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
func (s *Sender) send(ctx context.Context, r store.OutboxRow) (string, error) {
	m := r.Msg
	chatID, err := strconv.ParseInt(m.To.Chat, 10, 64)
	if err != nil {
		return "", &permanentError{"bad chat id " + m.To.Chat}
	}
	switch m.Kind {
	case flows.KindFile:
		msg, err := s.c.api.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID,
			Document: &models.InputFileUpload{Filename: m.FileName, Data: strings.NewReader(m.Text)}})
		if err != nil {
			return "", err
		}
		return strconv.Itoa(msg.ID), nil
	case flows.KindPhoto:
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
		ref, ok, err := s.c.o.Store.Card(m.CardKey)
		if err != nil {
			return "", err
		}
		if ok {
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
		// The card never arrived (its send failed) or was deleted: send it anew.
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
