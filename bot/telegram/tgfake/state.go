package tgfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// User is a simulated Telegram user. For a private chat the chat id equals
// the user's ID.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

func (u User) model() models.User {
	return models.User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

// Button is one keyboard button as the user sees it.
type Button struct {
	// Text is the button label.
	Text string
	// Data is the callback_data of an inline button.
	Data string
	// URL is the url of an inline URL button.
	URL string
	// RequestContact is set for reply-keyboard buttons that share the
	// user's phone number.
	RequestContact bool
}

// Message is the current state of a message sent by the bot.
type Message struct {
	// ID is the message_id, unique within the chat.
	ID int
	// ChatID is the chat the message is in.
	ChatID int64
	// Text is the text as the user sees it (parse_mode markup removed,
	// HTML entities decoded); empty for media messages.
	Text string
	// Raw is the text or caption exactly as the bot sent it (with markup).
	Raw string
	// Caption is the caption of a photo or document, as the user sees it.
	Caption string
	// PhotoFileID is the file_id of the largest photo size, if a photo.
	PhotoFileID string
	// DocumentFileID is the file_id of the document, if a document.
	DocumentFileID string
	// Inline is the current inline keyboard (after edits); nil when there is
	// none or it was removed.
	Inline [][]Button
	// Reply is the reply keyboard sent with the message, if any.
	Reply [][]Button
	// RemoveKeyboard is set when the message carried reply_markup
	// {"remove_keyboard":true}.
	RemoveKeyboard bool
	// Edits counts successful edits of text, caption or markup.
	Edits int
	// Date is when the message was sent.
	Date time.Time
	// ParseMode is the parse_mode of the last send or edit.
	ParseMode string
	// Deleted is set after the bot deleted the message with deleteMessage.
	Deleted bool
	// FromBot is set for the bot's messages; a user's message (listed by
	// [Server.Conversation] only) has From set instead.
	FromBot bool
	// From is the user who sent a user's message.
	From User
	// Contact is the phone number of a shared contact.
	Contact string
	// DocumentName is the file name of a document.
	DocumentName string
	// EditedAt is when the message was last edited (zero if never).
	EditedAt time.Time
}

// chatState holds every message of one chat (user's and bot's).
type chatState struct {
	nextID   int
	msgs     []*msgRec
	byID     map[int]*msgRec
	instance string
}

// msgRec is a stored message.
type msgRec struct {
	id        int
	chatID    int64
	fromBot   bool
	from      User
	date      time.Time
	editDate  time.Time
	text      string // rendered
	caption   string // rendered
	raw       string
	parseMode string
	entities  []models.MessageEntity
	photo     []models.PhotoSize
	document  *models.Document
	inline    *models.InlineKeyboardMarkup
	reply     [][]Button
	removeKB  bool
	contact   string // the phone number of a shared contact
	edits     int
	deleted   bool
}

func (s *Server) chatLocked(chatID int64) *chatState {
	c := s.chats[chatID]
	if c == nil {
		c = &chatState{nextID: 1, byID: map[int]*msgRec{}}
		c.instance = chatInstance(chatID)
		s.chats[chatID] = c
	}
	return c
}

func chatInstance(chatID int64) string {
	return strconv.FormatUint((uint64(chatID)*2654435761+0x5bd1e995)>>1, 10)
}

func (c *chatState) add(m *msgRec) {
	m.id = c.nextID
	c.nextID++
	c.msgs = append(c.msgs, m)
	c.byID[m.id] = m
}

// model converts a stored message to the Bot API representation.
func (s *Server) modelLocked(m *msgRec) models.Message {
	out := models.Message{
		ID:   m.id,
		Date: int(m.date.Unix()),
		Chat: s.chatObject(m.chatID),
	}
	if m.fromBot {
		b := s.bot
		out.From = &b
	} else {
		u := m.from.model()
		out.From = &u
	}
	if !m.editDate.IsZero() {
		out.EditDate = int(m.editDate.Unix())
	}
	if m.photo != nil || m.document != nil {
		out.Caption = m.caption
		out.CaptionEntities = cloneEntities(m.entities)
		out.Photo = append([]models.PhotoSize(nil), m.photo...)
		if m.document != nil {
			d := *m.document
			out.Document = &d
		}
	} else {
		out.Text = m.text
		out.Entities = cloneEntities(m.entities)
	}
	if m.inline != nil {
		out.ReplyMarkup = cloneMarkup(m.inline)
	}
	return out
}

func cloneEntities(e []models.MessageEntity) []models.MessageEntity {
	if len(e) == 0 {
		return nil
	}
	return append([]models.MessageEntity(nil), e...)
}

func cloneMarkup(k *models.InlineKeyboardMarkup) *models.InlineKeyboardMarkup {
	if k == nil {
		return nil
	}
	out := &models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, len(k.InlineKeyboard))}
	for i, row := range k.InlineKeyboard {
		out.InlineKeyboard[i] = append([]models.InlineKeyboardButton(nil), row...)
	}
	return out
}

func inlineButtons(k *models.InlineKeyboardMarkup) [][]Button {
	if k == nil {
		return nil
	}
	out := make([][]Button, len(k.InlineKeyboard))
	for i, row := range k.InlineKeyboard {
		out[i] = make([]Button, len(row))
		for j, b := range row {
			out[i][j] = Button{Text: b.Text, Data: b.CallbackData, URL: b.URL}
		}
	}
	return out
}

func cloneButtons(b [][]Button) [][]Button {
	if b == nil {
		return nil
	}
	out := make([][]Button, len(b))
	for i, row := range b {
		out[i] = append([]Button(nil), row...)
	}
	return out
}

func (m *msgRec) view() Message {
	v := Message{
		ID:             m.id,
		ChatID:         m.chatID,
		Raw:            m.raw,
		Inline:         inlineButtons(m.inline),
		Reply:          cloneButtons(m.reply),
		RemoveKeyboard: m.removeKB,
		Edits:          m.edits,
		Date:           m.date,
		ParseMode:      m.parseMode,
		Deleted:        m.deleted,
		FromBot:        m.fromBot,
		Contact:        m.contact,
		EditedAt:       m.editDate,
	}
	if !m.fromBot {
		v.From = m.from
	}
	if m.photo != nil || m.document != nil {
		v.Caption = m.caption
	} else {
		v.Text = m.text
	}
	if n := len(m.photo); n > 0 {
		v.PhotoFileID = m.photo[n-1].FileID
	}
	if m.document != nil {
		v.DocumentFileID = m.document.FileID
		v.DocumentName = m.document.FileName
	}
	return v
}

// File returns the name and bytes of a file the bot uploaded (a document
// or the full size of a photo), by the file id a Message shows.
func (s *Server) File(fileID string) (name string, data []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil || f.data == nil {
		return "", nil, false
	}
	return f.name, append([]byte(nil), f.data...), true
}

// Messages returns the messages the bot sent to chatID, oldest first, in
// their current state (after edits). Deleted messages are included with
// Deleted set. The result is a copy.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.msgs {
		if m.fromBot {
			out = append(out, m.view())
		}
	}
	return out
}

// Conversation returns every message of chatID, the users' and the
// bot's, oldest first, in their current state: what a Telegram client
// shows in that chat (FromBot tells them apart; a user's message has From).
// The bot's deleted messages are included with Deleted set. The result is
// a copy.
func (s *Server) Conversation(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		out = append(out, m.view())
	}
	return out
}

// Message returns the bot message id in chatID in its current state.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		if m := c.byID[id]; m != nil && m.fromBot {
			return m.view(), true
		}
	}
	return Message{}, false
}

// Last returns the most recent bot message in chatID that was not deleted.
func (s *Server) Last(chatID int64) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		for i := len(c.msgs) - 1; i >= 0; i-- {
			if m := c.msgs[i]; m.fromBot && !m.deleted {
				return m.view(), true
			}
		}
	}
	return Message{}, false
}

// ReplyKeyboard returns the reply keyboard the user currently sees in chatID:
// the keyboard of the latest bot message that set or removed one (nil when
// removed or never set).
func (s *Server) ReplyKeyboard(chatID int64) [][]Button {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		for i := len(c.msgs) - 1; i >= 0; i-- {
			m := c.msgs[i]
			if !m.fromBot {
				continue
			}
			if m.removeKB {
				return nil
			}
			if m.reply != nil {
				return cloneButtons(m.reply)
			}
		}
	}
	return nil
}

// WaitFor calls cond until it returns true or timeout passes; it reports
// whether cond became true. cond is evaluated every 5 ms and after every
// state change of the server, without any server lock held, so it may call
// Server methods.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
}

// WaitMessage waits until a bot message in chatID (already sent or future)
// satisfies pred, checking the current state including edits, and returns
// the first such message in chat order.
func (s *Server) WaitMessage(chatID int64, timeout time.Duration, pred func(Message) bool) (Message, bool) {
	var found Message
	ok := s.WaitFor(timeout, func() bool {
		for _, m := range s.Messages(chatID) {
			if pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, ok
}

// CallbackAnswer records one answerCallbackQuery call.
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
	At        time.Time
	// ChatID and MessageID are the tapped message; From is who tapped
	// (the person whose client shows the answer).
	ChatID    int64
	MessageID int
	From      User
}

type queryRec struct {
	chatID    int64
	messageID int
	from      User
	answered  bool
}

// FileData returns the bytes of a file by its id: what the bot uploaded
// (a document it sent) or what a user sent with SendFile.
func (s *Server) FileData(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[fileID]
	if !ok || f.data == nil {
		return nil, false
	}
	return append([]byte(nil), f.data...), true
}

// CallbackAnswers returns every successful answerCallbackQuery, in order.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// CallbackAnswer returns the answer given to the callback query queryID.
func (s *Server) CallbackAnswer(queryID string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.answers {
		if a.QueryID == queryID {
			return a, true
		}
	}
	return CallbackAnswer{}, false
}

// Commands returns the command lists set with setMyCommands, keyed by
// language_code ("" for the default list). Scopes are not distinguished.
func (s *Server) Commands() map[string][]models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]models.BotCommand, len(s.commands))
	for k, v := range s.commands {
		out[k] = append([]models.BotCommand(nil), v...)
	}
	return out
}

// Calls reports how many times method (case-insensitive) was called with the
// right token, whatever the outcome.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// TooMany reports how many 429 answers were given (flood limits and FailNext).
func (s *Server) TooMany() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// History returns a copy of every update ever queued, in id order, the
// confirmed ones included.
func (s *Server) History() []models.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.Update(nil), s.history...)
}

// AnswerCalls reports how many times the bot called answerCallbackQuery for
// the query, the refused calls for one already answered included: a bot
// that handles a tap once calls it once.
func (s *Server) AnswerCalls(queryID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answerCalls[queryID]
}

// Delivered reports how many times the update was handed out, by getUpdates
// or by a webhook attempt.
func (s *Server) Delivered(updateID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered[updateID]
}

// Confirmed returns the highest offset confirmed so far (Redeliver moves
// it back): every update with update_id < Confirmed() has been confirmed
// (by a getUpdates offset or a 2xx webhook answer). Zero means nothing was
// confirmed yet.
func (s *Server) Confirmed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending reports how many updates are queued and not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// FailNext makes the next call of method (case-insensitive) fail with the
// given error code and description, before any validation or side effect.
// A retryAfter > 0 is sent as parameters.retry_after. Calls queue up: each
// failure is used once, in order. A zero code means 500.
func (s *Server) FailNext(method string, code int, description string, retryAfter int) {
	if code == 0 {
		code = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.failures[m] = append(s.failures[m], apiError{code: code, desc: description, retryAfter: retryAfter})
}

// RestartIDs makes the next update's id next, as Telegram does after a
// week without updates (it then picks the next id at random, possibly
// below every id it handed out before). A bot that keeps polling with
// its old offset confirms — drops — the new updates.
func (s *Server) RestartIDs(next int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdateID = next
}

// Outage makes every Bot API call (getUpdates, sends, edits, file
// downloads excepted) answer the HTTP status (a 5xx) with an HTML page
// and change nothing, as when the API or the proxy in front of it is down,
// until Outage(0). Nothing sent meanwhile is recorded.
func (s *Server) Outage(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = status
	s.notifyLocked()
}

// OutageCalls counts the calls refused by Outage so far.
func (s *Server) OutageCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outageCalls
}

// Block makes further sends and edits to chatID fail with 403 "Forbidden:
// bot was blocked by the user" (for a group: "Forbidden: bot was kicked from
// the group chat"). A user who writes to the bot again in the private chat
// unblocks it, as on Telegram.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
	s.notifyLocked()
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
	s.notifyLocked()
}

// AddGroup registers a group (chatID < 0) the bot is a member of. Chat ids
// <= -1000000000000 are reported as supergroups.
func (s *Server) AddGroup(chatID int64, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[chatID] = title
	s.chatLocked(chatID)
	s.notifyLocked()
}

// Entry is one step of the conversation transcript.
type Entry struct {
	// At is when the step happened.
	At time.Time
	// Kind is one of "user_text", "user_contact", "user_photo",
	// "user_document", "user_sticker", "user_tap", "bot_send", "bot_edit",
	// "bot_answer", "bot_photo", "bot_document", "bot_delete".
	Kind string
	// ChatID is the chat (0 for bot_answer when the query had no message).
	ChatID int64
	// From is the acting user (the bot itself for bot_* entries).
	From User
	// MessageID is the message sent, edited, deleted or tapped.
	MessageID int
	// Text is the rendered text or caption; the phone number for
	// user_contact, the file name for user_document, the emoji for
	// user_sticker, the button text for user_tap and the answer text for
	// bot_answer.
	Text string
	// Buttons is the inline keyboard (or else the reply keyboard) of a
	// bot_send/bot_edit/bot_photo/bot_document.
	Buttons [][]Button
	// Data is the callback data for user_tap and the query id for
	// bot_answer.
	Data string
}

// OnEntry registers fn to be called for every future transcript entry, in
// order, one at a time, never with a server lock held (fn may call Server
// methods, including ones that add entries; those are delivered after fn
// returns). fn runs on the goroutine that produced the entry or on one that
// is already delivering earlier entries.
func (s *Server) OnEntry(fn func(Entry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryFns = append(s.entryFns, fn)
}

// Entries returns the whole transcript so far.
func (s *Server) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.entries))
	for i, e := range s.entries {
		e.Buttons = cloneButtons(e.Buttons)
		out[i] = e
	}
	return out
}

// addEntryLocked appends to the transcript and queues delivery. s.mu must be
// held; call flushEntries after unlocking.
func (s *Server) addEntryLocked(e Entry) {
	e.At = time.Now()
	e.Buttons = cloneButtons(e.Buttons)
	s.entries = append(s.entries, e)
	if len(s.entryFns) > 0 {
		e.Buttons = cloneButtons(e.Buttons)
		s.entryQ = append(s.entryQ, e)
	}
}

// flushEntries delivers queued entries to OnEntry callbacks in order. If
// another goroutine is already delivering, it will pick the entries up.
func (s *Server) flushEntries() {
	for {
		if !s.flushMu.TryLock() {
			return
		}
		for {
			s.mu.Lock()
			batch := s.entryQ
			s.entryQ = nil
			fns := slices.Clone(s.entryFns)
			s.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				for _, fn := range fns {
					fn(e)
				}
			}
		}
		s.flushMu.Unlock()
		s.mu.Lock()
		more := len(s.entryQ) > 0
		s.mu.Unlock()
		if !more {
			return
		}
	}
}

func keyboardEntryButtons(m *msgRec) [][]Button {
	if m.inline != nil {
		return inlineButtons(m.inline)
	}
	return m.reply
}
