package tgfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

const (
	maxTextLen      = 4096
	maxCaptionLen   = 1024
	maxAnswerLen    = 200
	maxDownloadSize = 20 << 20

	descNotModified = "message is not modified: specified new message content and reply markup of the message are exactly the same as a current content and reply markup of the message"
)

func (s *Server) hGetMe(*call) (any, *apiError) {
	return s.bot, nil
}

// chatAccessLocked checks that the bot may post to chatID.
func (s *Server) chatAccessLocked(id int64) *apiError {
	switch {
	case id < 0:
		if _, ok := s.groups[id]; !ok {
			return badRequest("chat not found")
		}
		if s.blocked[id] {
			return forbidden("bot was kicked from the group chat")
		}
	case id == 0:
		return badRequest("chat not found")
	case id == s.bot.ID:
		return forbidden("bot can't send messages to bots")
	default:
		if !s.privateOK[id] {
			return forbidden("bot can't initiate conversation with a user")
		}
		if s.blocked[id] {
			return forbidden("bot was blocked by the user")
		}
	}
	return nil
}

// targetChatLocked parses chat_id and checks access.
func (s *Server) targetChatLocked(c *call) (int64, *apiError) {
	raw := strings.TrimSpace(c.str("chat_id"))
	if raw == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, badRequest("chat not found")
	}
	return id, s.chatAccessLocked(id)
}

// replyCheckLocked validates reply_to_message_id / reply_parameters.
func (s *Server) replyCheckLocked(c *call, chatID int64) *apiError {
	var mid int64
	allowMissing := c.boolean("allow_sending_without_reply")
	if v, ok, err := c.int64("reply_to_message_id"); ok && err == nil {
		mid = v
	}
	if raw := strings.TrimSpace(c.str("reply_parameters")); raw != "" {
		var rp struct {
			MessageID                int64 `json:"message_id"`
			ChatID                   any   `json:"chat_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(raw), &rp); err != nil {
			return badRequest("can't parse reply parameters JSON object")
		}
		if rp.ChatID != nil {
			return nil // replies to other chats are not modelled
		}
		mid = rp.MessageID
		allowMissing = allowMissing || rp.AllowSendingWithoutReply
	}
	if mid == 0 || allowMissing {
		return nil
	}
	if ch := s.chats[chatID]; ch != nil {
		if m := ch.byID[int(mid)]; m != nil && !m.deleted {
			return nil
		}
	}
	return badRequest("message to be replied not found")
}

// markup is a decoded reply_markup.
type markup struct {
	inline *models.InlineKeyboardMarkup
	reply  [][]Button
	remove bool
	force  bool
}

func (m markup) nonInline() bool { return m.reply != nil || m.remove || m.force }

// parseMarkup decodes reply_markup generically and validates it.
func parseMarkup(raw string) (markup, *apiError) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return markup{}, nil
	}
	errParse := badRequest("can't parse reply keyboard markup JSON object")
	var generic map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		return markup{}, errParse
	}
	if rows, ok := generic["inline_keyboard"]; ok {
		var genRows [][]map[string]json.RawMessage
		var typed [][]models.InlineKeyboardButton
		if json.Unmarshal(rows, &genRows) != nil || json.Unmarshal(rows, &typed) != nil {
			return markup{}, badRequest("can't parse inline keyboard button: object expected")
		}
		for i, row := range genRows {
			for j, b := range row {
				if e := checkInlineButton(b, typed[i][j]); e != nil {
					return markup{}, e
				}
			}
		}
		if typed == nil {
			typed = [][]models.InlineKeyboardButton{}
		}
		return markup{inline: &models.InlineKeyboardMarkup{InlineKeyboard: typed}}, nil
	}
	if rows, ok := generic["keyboard"]; ok {
		var genRows [][]json.RawMessage
		if json.Unmarshal(rows, &genRows) != nil {
			return markup{}, badRequest("can't parse keyboard button: object expected")
		}
		out := make([][]Button, len(genRows))
		for i, row := range genRows {
			out[i] = make([]Button, 0, len(row))
			for _, rb := range row {
				var b Button
				var str string
				if json.Unmarshal(rb, &str) == nil {
					b.Text = str
				} else {
					var kb models.KeyboardButton
					if json.Unmarshal(rb, &kb) != nil {
						return markup{}, badRequest("can't parse keyboard button: object expected")
					}
					b.Text, b.RequestContact = kb.Text, kb.RequestContact
				}
				if b.Text == "" {
					return markup{}, badRequest("can't parse keyboard button: Text must be non-empty")
				}
				out[i] = append(out[i], b)
			}
		}
		return markup{reply: out}, nil
	}
	if v, ok := generic["remove_keyboard"]; ok {
		if string(bytes.TrimSpace(v)) != "true" {
			return markup{}, badRequest("can't parse keyboard remove: field \"remove_keyboard\" must be true")
		}
		return markup{remove: true}, nil
	}
	if _, ok := generic["force_reply"]; ok {
		return markup{force: true}, nil
	}
	return markup{}, errParse
}

var inlineActions = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
	"copy_text", "callback_game", "pay",
}

func checkInlineButton(gen map[string]json.RawMessage, b models.InlineKeyboardButton) *apiError {
	if b.Text == "" {
		return badRequest("can't parse inline keyboard button: Text must be non-empty")
	}
	actions := 0
	for _, k := range inlineActions {
		v, ok := gen[k]
		if !ok {
			continue
		}
		switch t := string(bytes.TrimSpace(v)); {
		case t == "null" || t == "false":
			continue
		case k == "copy_text" && b.CopyText.Text == "":
			// go-telegram always sends "copy_text":{"text":""}; ignore it.
			continue
		}
		actions++
	}
	if actions == 0 {
		return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	}
	if _, ok := gen["callback_data"]; ok {
		if n := len(b.CallbackData); n < 1 || n > 64 {
			return badRequest("BUTTON_DATA_INVALID")
		}
	}
	if _, ok := gen["url"]; ok {
		u := strings.ToLower(b.URL)
		if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "tg://")) || len(u) < 8 {
			return badRequest("BUTTON_URL_INVALID")
		}
	}
	return nil
}

func markupKey(k *models.InlineKeyboardMarkup) string {
	if k == nil || len(k.InlineKeyboard) == 0 {
		return ""
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// renderChecked parses parse_mode markup and checks emptiness and length.
func renderChecked(raw, mode string, limit int, allowEmpty bool, tooLong string) (string, []models.MessageEntity, *apiError) {
	text, ents, e := render(raw, mode)
	if e != nil {
		return "", nil, e
	}
	if !allowEmpty && strings.TrimSpace(text) == "" {
		return "", nil, badRequest("message text is empty")
	}
	if utf16Len(text) > limit {
		return "", nil, badRequest(tooLong)
	}
	return text, ents, nil
}

// limiter implements the optional flood limits.
type limiter struct {
	buckets map[int64]*bucket
	groups  map[int64][]time.Time
	global  []time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

const (
	privateBurst  = 3
	privateRate   = 1.0 // messages per second
	groupLimit    = 20
	groupWindow   = time.Minute
	globalLimit   = 30
	globalWindow  = time.Second
	rateLimitText = "Too Many Requests: retry after %d"
)

func newLimiter() limiter {
	return limiter{buckets: map[int64]*bucket{}, groups: map[int64][]time.Time{}}
}

func prune(ts []time.Time, after time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(after) {
		i++
	}
	return ts[i:]
}

func tooManyRequests(d time.Duration) *apiError {
	n := int(math.Ceil(d.Seconds()))
	if n < 1 {
		n = 1
	}
	return &apiError{code: http.StatusTooManyRequests, desc: fmt.Sprintf(rateLimitText, n), retryAfter: n}
}

// rateTakeLocked checks the flood limits for one message to chatID and, if
// allowed, counts it.
func (s *Server) rateTakeLocked(chatID int64) *apiError {
	if !s.opts.EnforceLimits {
		return nil
	}
	now := time.Now()
	l := &s.limits
	l.global = prune(l.global, now.Add(-globalWindow))
	if len(l.global) >= globalLimit {
		return tooManyRequests(l.global[0].Add(globalWindow).Sub(now))
	}
	if chatID < 0 {
		w := prune(l.groups[chatID], now.Add(-groupWindow))
		l.groups[chatID] = w
		if len(w) >= groupLimit {
			return tooManyRequests(w[0].Add(groupWindow).Sub(now))
		}
		l.groups[chatID] = append(w, now)
	} else {
		b := l.buckets[chatID]
		if b == nil {
			b = &bucket{tokens: privateBurst, last: now}
			l.buckets[chatID] = b
		}
		b.tokens = math.Min(privateBurst, b.tokens+now.Sub(b.last).Seconds()*privateRate)
		b.last = now
		if b.tokens < 1 {
			return tooManyRequests(time.Duration((1 - b.tokens) / privateRate * float64(time.Second)))
		}
		b.tokens--
	}
	l.global = append(l.global, now)
	return nil
}

func (s *Server) hSendMessage(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, e := s.targetChatLocked(c)
	if e != nil {
		return nil, e
	}
	raw, mode := c.str("text"), c.str("parse_mode")
	text, ents, e := renderChecked(raw, mode, maxTextLen, false, "message is too long")
	if e != nil {
		return nil, e
	}
	mk, e := parseMarkup(c.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if e := s.replyCheckLocked(c, chatID); e != nil {
		return nil, e
	}
	if e := s.rateTakeLocked(chatID); e != nil {
		return nil, e
	}
	m := &msgRec{
		fromBot: true, chatID: chatID, date: time.Now(),
		text: text, raw: raw, parseMode: mode, entities: ents,
		inline: mk.inline, reply: mk.reply, removeKB: mk.remove,
	}
	s.chatLocked(chatID).add(m)
	s.addEntryLocked(Entry{Kind: "bot_send", ChatID: chatID, From: s.botUser(), MessageID: m.id, Text: text, Buttons: keyboardEntryButtons(m)})
	s.notifyLocked()
	return s.modelLocked(m), nil
}

// Upload limits of sendPhoto and sendDocument.
const (
	maxPhotoUpload    = 10 << 20
	maxDocumentUpload = 50 << 20
)

// mediaFileLocked resolves the photo/document parameter of a send call.
func (s *Server) mediaFileLocked(c *call, field, kind string) (*fileRec, *apiError) {
	up := c.files[field]
	val := strings.TrimSpace(c.str(field))
	if up == nil && strings.HasPrefix(val, "attach://") {
		up = c.files[strings.TrimPrefix(val, "attach://")]
	}
	if up != nil {
		// The Bot API's upload limits: photos 10 MB, other files 50 MB.
		if kind == kindPhoto && len(up.data) > maxPhotoUpload {
			return nil, badRequest("PHOTO_SAVE_FILE_INVALID")
		}
		if len(up.data) > maxDocumentUpload {
			return nil, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
		}
		if kind == kindPhoto {
			if !isImage(up.data) {
				return nil, badRequest("IMAGE_PROCESS_FAILED")
			}
			return s.newPhotoSetLocked(int64(len(up.data)), up.data), nil
		}
		return s.newFileLocked(kindDocument, up.name, "", int64(len(up.data)), up.data), nil
	}
	if val == "" {
		return nil, badRequest(fmt.Sprintf("there is no %s in the request", field))
	}
	lv := strings.ToLower(val)
	if strings.HasPrefix(lv, "http://") || strings.HasPrefix(lv, "https://") {
		// Offline: pretend the URL was fetched.
		if kind == kindPhoto {
			return s.newPhotoSetLocked(64<<10, nil), nil
		}
		name := val[strings.LastIndexByte(val, '/')+1:]
		return s.newFileLocked(kindDocument, name, "", 64<<10, nil), nil
	}
	f := s.files[val]
	if f == nil {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if kind == kindPhoto && f.kind != kindPhoto {
		return nil, badRequest(fmt.Sprintf("can't use file of type %s as Photo", kindTitle(f.kind)))
	}
	if kind == kindDocument && f.kind == kindSticker {
		return nil, badRequest("can't use file of type Sticker as Document")
	}
	return f, nil
}

func (s *Server) hSendPhoto(c *call) (any, *apiError) {
	return s.sendMedia(c, kindPhoto)
}

func (s *Server) hSendDocument(c *call) (any, *apiError) {
	return s.sendMedia(c, kindDocument)
}

func (s *Server) sendMedia(c *call, kind string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, e := s.targetChatLocked(c)
	if e != nil {
		return nil, e
	}
	raw, mode := c.str("caption"), c.str("parse_mode")
	caption, ents, e := renderChecked(raw, mode, maxCaptionLen, true, "message caption is too long")
	if e != nil {
		return nil, e
	}
	field := "photo"
	if kind == kindDocument {
		field = "document"
	}
	mk, e := parseMarkup(c.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if e := s.replyCheckLocked(c, chatID); e != nil {
		return nil, e
	}
	f, e := s.mediaFileLocked(c, field, kind)
	if e != nil {
		return nil, e
	}
	if e := s.rateTakeLocked(chatID); e != nil {
		return nil, e
	}
	m := &msgRec{
		fromBot: true, chatID: chatID, date: time.Now(),
		caption: caption, raw: raw, parseMode: mode, entities: ents,
		inline: mk.inline, reply: mk.reply, removeKB: mk.remove,
	}
	entryKind := "bot_photo"
	if kind == kindPhoto {
		m.photo = append([]models.PhotoSize(nil), f.set...)
	} else {
		entryKind = "bot_document"
		m.document = f.document()
	}
	s.chatLocked(chatID).add(m)
	s.addEntryLocked(Entry{Kind: entryKind, ChatID: chatID, From: s.botUser(), MessageID: m.id, Text: caption, Buttons: keyboardEntryButtons(m)})
	s.notifyLocked()
	return s.modelLocked(m), nil
}

// editTargetLocked finds the bot message addressed by chat_id+message_id.
func (s *Server) editTargetLocked(c *call) (*msgRec, *apiError) {
	if !c.has("chat_id") && c.has("inline_message_id") {
		return nil, badRequest("message to edit not found")
	}
	chatID, e := s.targetChatLocked(c)
	if e != nil {
		return nil, e
	}
	mid, ok, err := c.int64("message_id")
	if !ok || err != nil {
		return nil, badRequest("message identifier is not specified")
	}
	ch := s.chats[chatID]
	if ch == nil {
		return nil, badRequest("message to edit not found")
	}
	m := ch.byID[int(mid)]
	if m == nil || m.deleted {
		return nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

func (s *Server) editMarkup(c *call) (markup, *apiError) {
	mk, e := parseMarkup(c.str("reply_markup"))
	if e != nil {
		return mk, e
	}
	if mk.nonInline() {
		return mk, badRequest("inline keyboard expected")
	}
	return mk, nil
}

func (s *Server) finishEditLocked(m *msgRec, text string) models.Message {
	m.edits++
	m.editDate = time.Now()
	s.addEntryLocked(Entry{Kind: "bot_edit", ChatID: m.chatID, From: s.botUser(), MessageID: m.id, Text: text, Buttons: keyboardEntryButtons(m)})
	s.notifyLocked()
	return s.modelLocked(m)
}

func (s *Server) hEditMessageText(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(c)
	if e != nil {
		return nil, e
	}
	if m.photo != nil || m.document != nil {
		return nil, badRequest("there is no text in the message to edit")
	}
	raw, mode := c.str("text"), c.str("parse_mode")
	text, ents, e := renderChecked(raw, mode, maxTextLen, false, "message is too long")
	if e != nil {
		return nil, e
	}
	mk, e := s.editMarkup(c)
	if e != nil {
		return nil, e
	}
	if text == m.text && entitiesEqual(ents, m.entities) && markupKey(mk.inline) == markupKey(m.inline) {
		return nil, badRequest(descNotModified)
	}
	if e := s.rateTakeLocked(m.chatID); e != nil {
		return nil, e
	}
	m.text, m.raw, m.parseMode, m.entities, m.inline = text, raw, mode, ents, mk.inline
	return s.finishEditLocked(m, text), nil
}

func (s *Server) hEditMessageReplyMarkup(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(c)
	if e != nil {
		return nil, e
	}
	mk, e := s.editMarkup(c)
	if e != nil {
		return nil, e
	}
	if markupKey(mk.inline) == markupKey(m.inline) {
		return nil, badRequest(descNotModified)
	}
	if e := s.rateTakeLocked(m.chatID); e != nil {
		return nil, e
	}
	m.inline = mk.inline
	shown := m.text
	if m.photo != nil || m.document != nil {
		shown = m.caption
	}
	return s.finishEditLocked(m, shown), nil
}

func (s *Server) hEditMessageCaption(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(c)
	if e != nil {
		return nil, e
	}
	if m.photo == nil && m.document == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	raw, mode := c.str("caption"), c.str("parse_mode")
	caption, ents, e := renderChecked(raw, mode, maxCaptionLen, true, "message caption is too long")
	if e != nil {
		return nil, e
	}
	mk, e := s.editMarkup(c)
	if e != nil {
		return nil, e
	}
	if caption == m.caption && entitiesEqual(ents, m.entities) && markupKey(mk.inline) == markupKey(m.inline) {
		return nil, badRequest(descNotModified)
	}
	if e := s.rateTakeLocked(m.chatID); e != nil {
		return nil, e
	}
	m.caption, m.raw, m.parseMode, m.entities, m.inline = caption, raw, mode, ents, mk.inline
	return s.finishEditLocked(m, caption), nil
}

func entitiesEqual(a, b []models.MessageEntity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func (s *Server) hAnswerCallbackQuery(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.str("callback_query_id")
	s.answerCalls[id]++
	q := s.queries[id]
	if q == nil || q.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	text := c.str("text")
	if utf16Len(text) > maxAnswerLen {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	q.answered = true
	a := CallbackAnswer{QueryID: id, Text: text, ShowAlert: c.boolean("show_alert"), At: time.Now(),
		ChatID: q.chatID, MessageID: q.messageID, From: q.from}
	s.answers = append(s.answers, a)
	s.addEntryLocked(Entry{Kind: "bot_answer", ChatID: q.chatID, From: s.botUser(), MessageID: q.messageID, Text: text, Data: id})
	s.notifyLocked()
	return true, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// commandsKey builds the Commands() map key for a scope and language.
func commandsKey(c *call) (string, *apiError) {
	lang := c.str("language_code")
	raw := strings.TrimSpace(c.str("scope"))
	if raw == "" || raw == "null" {
		return lang, nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return "", badRequest("can't parse BotCommandScope JSON object")
	}
	switch sc.Type {
	case "", "default":
		return lang, nil
	case "all_private_chats", "all_group_chats", "all_chat_administrators":
		return sc.Type + "/" + lang, nil
	case "chat", "chat_administrators":
		return fmt.Sprintf("%s:%s/%s", sc.Type, strings.Trim(string(sc.ChatID), `"`), lang), nil
	case "chat_member":
		return fmt.Sprintf("chat_member:%s:%d/%s", strings.Trim(string(sc.ChatID), `"`), sc.UserID, lang), nil
	}
	return "", badRequest("wrong BotCommandScope type specified")
}

func (s *Server) hSetMyCommands(c *call) (any, *apiError) {
	key, e := commandsKey(c)
	if e != nil {
		return nil, e
	}
	var cmds []models.BotCommand
	if raw := strings.TrimSpace(c.str("commands")); raw != "" {
		if err := json.Unmarshal([]byte(raw), &cmds); err != nil {
			return nil, badRequest("can't parse commands JSON object")
		}
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, cmd := range cmds {
		n := utf8.RuneCountInString(cmd.Description)
		if !commandRE.MatchString(cmd.Command) || n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) hGetMyCommands(c *call) (any, *apiError) {
	key, e := commandsKey(c)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]models.BotCommand{}, s.commands[key]...)
	return out, nil
}

func (s *Server) hDeleteMyCommands(c *call) (any, *apiError) {
	key, e := commandsKey(c)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	s.notifyLocked()
	return true, nil
}

func (s *Server) hGetFile(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[strings.TrimSpace(c.str("file_id"))]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if f.size > maxDownloadSize {
		return nil, badRequest("file is too big")
	}
	return models.File{FileID: f.id, FileUniqueID: f.unique, FileSize: f.size, FilePath: f.path}, nil
}

func (s *Server) hDeleteMessage(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := strings.TrimSpace(c.str("chat_id"))
	chatID, err := strconv.ParseInt(raw, 10, 64)
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	if err != nil {
		return nil, badRequest("chat not found")
	}
	if chatID < 0 {
		if _, ok := s.groups[chatID]; !ok {
			return nil, badRequest("chat not found")
		}
	}
	mid, ok, perr := c.int64("message_id")
	if !ok || perr != nil {
		return nil, badRequest("message identifier is not specified")
	}
	var m *msgRec
	if ch := s.chats[chatID]; ch != nil {
		m = ch.byID[int(mid)]
	}
	if m == nil || m.deleted {
		return nil, badRequest("message to delete not found")
	}
	m.deleted = true
	s.addEntryLocked(Entry{Kind: "bot_delete", ChatID: chatID, From: s.botUser(), MessageID: m.id})
	s.notifyLocked()
	return true, nil
}

func (s *Server) hSendChatAction(*call) (any, *apiError) {
	return true, nil
}

func (s *Server) hGetChat(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := strconv.ParseInt(strings.TrimSpace(c.str("chat_id")), 10, 64)
	if err != nil {
		return nil, badRequest("chat not found")
	}
	_, isGroup := s.groups[id]
	if !isGroup && !s.privateOK[id] {
		return nil, badRequest("chat not found")
	}
	return s.chatObject(id), nil
}
