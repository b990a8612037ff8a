package wecom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Platform limits on what one message may carry.
const (
	maxTextBytes   = 2048 // message/send and appchat/send text content
	maxCardButtons = 6    // template_card button_list
	maxCardTitle   = 36   // main_title.title, characters
	maxCardSub     = 112  // sub_title_text, characters
	maxButtonText  = 10   // button text, characters (longer is cut by the client)
	maxKfText      = 2048 // kf/send_msg text content, bytes
	maxKfMenuHead  = 1024 // kf/send_msg msgmenu head_content, bytes
	maxMenuItems   = 10   // msgmenu list
)

// sendAnswer is message/send's reply.
type sendAnswer struct {
	InvalidUser string `json:"invaliduser"`
	MsgID       string `json:"msgid"`
	// ResponseCode comes with a template card: it updates the card once,
	// for every member it went to, within 72 hours.
	ResponseCode string `json:"response_code"`
}

// cardCodePrefix marks a group card's delivery record (outbox.CardRef) as
// the response code of its member cards, not a message id.
const cardCodePrefix = "rc:"

// send renders and delivers one row; it returns the platform message id.
// WeCom cannot edit a sent message (a template card only once, through
// the response code of a click), so an edit is sent as a new message.
func (s *Sender) send(ctx context.Context, r outbox.Row) (string, error) {
	m := r.Msg
	if m.Kind == flows.KindMenu {
		// The app's menu is set in the WeCom console, 微信客服 has none:
		// nothing to send.
		return "", nil
	}
	if m.Kind == flows.KindEdit && m.Retire {
		// Only a card's buttons can change once it is sent: a group card's
		// through its response code; a member's card keeps its buttons
		// (a tap on them is answered as outdated).
		if strings.HasPrefix(m.To.Chat, appchatPrefix) || m.To.Chat == robotChat {
			m.Buttons = nil
			s.retireButtons(ctx, m)
		}
		return "", nil
	}
	if m.Kind == flows.KindEdit && m.Refresh {
		// A clock refresh (an emergency's countdown) would be a new post
		// to the group and a new card to every member each minute; the
		// outbox turns it into a real edit when it replaced one.
		return "", nil
	}
	switch {
	case m.To.Channel == KfChannel:
		return s.sendKfLimited(ctx, r)
	case strings.HasPrefix(m.To.Chat, appchatPrefix):
		s.retireButtons(ctx, m)
		return s.sendGroup(ctx, r)
	case m.To.Chat == robotChat:
		s.retireButtons(ctx, m)
		return s.sendRobot(ctx, r)
	}
	return s.sendMembers(ctx, r, m.To.Chat)
}

// sendMembers delivers to one member or a "|"-joined list.
func (s *Sender) sendMembers(ctx context.Context, r outbox.Row, touser string) (string, error) {
	m := r.Msg
	if touser == "" {
		return "", &permanentError{"empty recipient"}
	}
	switch {
	case len(m.Buttons) > 0:
		id, _, err := s.sendCards(ctx, r, touser)
		return id, err
	case m.Export != nil && (m.Kind == flows.KindPhoto || m.Kind == flows.KindFile):
		return s.sendExport(ctx, touser, m)
	case m.Kind == flows.KindPhoto:
		if data, name, ok := s.localPhoto(ctx, m); ok {
			// The kept copy, uploaded now: works for photos from any
			// channel and after the original media id expired.
			mid, err := s.upload(ctx, "image", name, data)
			if err != nil {
				return "", err
			}
			return s.appSend(ctx, touser, "image", map[string]any{"media_id": mid})
		}
		return s.sendPhotoByID(ctx, touser, m)
	case m.Kind == flows.KindFile:
		if id, ok, err := s.sendFile(ctx, touser, m); ok {
			return id, err
		}
		return s.appSend(ctx, touser, "text", map[string]any{"content": clipBytes(fileText(m), maxTextBytes)})
	}
	return s.appSend(ctx, touser, "text", map[string]any{"content": clipBytes(m.Text, maxTextBytes)})
}

// sendPhotoByID forwards a photo without a kept copy by its WeCom media id
// (a caption when it expired or came from another platform).
func (s *Sender) sendPhotoByID(ctx context.Context, touser string, m flows.Message) (string, error) {
	switch {
	case strings.HasPrefix(m.Photo, mediaPrefix):
		id, err := s.appSend(ctx, touser, "image", map[string]any{"media_id": strings.TrimPrefix(m.Photo, mediaPrefix)})
		if ae, ok := err.(*APIError); ok && ae.Code == errInvalidMedia {
			// The media id expired (3 days): say what it was instead.
			return s.appSend(ctx, touser, "text", map[string]any{"content": photoText(m)})
		}
		return id, err
	}
	return s.appSend(ctx, touser, "text", map[string]any{"content": photoText(m)})
}

func photoText(m flows.Message) string {
	if m.Text == "" {
		return "📷"
	}
	return "📷 " + m.Text
}

// plainText is a message as text, for a place that takes only text (a
// group chat, the robot): a photo or a file becomes its caption.
func plainText(m flows.Message) string {
	switch m.Kind {
	case flows.KindPhoto:
		return photoText(m)
	case flows.KindFile:
		return fileText(m)
	}
	return m.Text
}

func fileText(m flows.Message) string { return "📄 " + m.FileName + "\n\n" + m.Text }

// appSend calls message/send; a single recipient refused as invalid is a
// permanent failure (errcode 0 but "invaliduser").
func (s *Sender) appSend(ctx context.Context, touser, msgtype string, content any) (string, error) {
	return s.appSendBody(ctx, touser, msgtype, content, false)
}

// appSendBody is appSend; dedupe asks for WeCom's duplicate check
// (enable_duplicate_check, duplicate_check_interval): "the same content
// (request JSON) within the interval is not received again". It compares
// the whole request, so it is only asked for template cards, whose JSON
// carries the row's unique task_id and can only match a retry of the same
// row (maps marshal with sorted keys: the retry is byte-identical). Two
// rows with the same text are two messages and must both arrive, so texts
// go without it. Past the interval a retried card is refused with 42014
// because its task_id exists — see sendCards.
func (s *Sender) appSendBody(ctx context.Context, touser, msgtype string, content any, dedupe bool) (string, error) {
	a, err := s.appSendAnswer(ctx, touser, msgtype, content, dedupe)
	return a.MsgID, err
}

// appSendAnswer is message/send with the whole answer.
func (s *Sender) appSendAnswer(ctx context.Context, touser, msgtype string, content any, dedupe bool) (sendAnswer, error) {
	body := map[string]any{"touser": touser, "msgtype": msgtype, "agentid": s.c.o.AgentID, msgtype: content}
	if iv := s.c.o.DuplicateCheckInterval; dedupe && iv > 0 {
		body["enable_duplicate_check"] = 1
		body["duplicate_check_interval"] = int(iv / time.Second)
	}
	var a sendAnswer
	if err := s.c.api.call(ctx, s.c.o.Secret, "POST", "/cgi-bin/message/send", nil, body, &a); err != nil {
		return a, err
	}
	if a.InvalidUser != "" && !strings.Contains(touser, "|") {
		return a, &permanentError{fmt.Sprintf("wecom message/send: invalid user %s (not in the app's visible range?)", a.InvalidUser)}
	}
	return a, nil
}

// cardButton is one template_card button.
type cardButton struct {
	Text  string `json:"text"`
	Style int    `json:"style"`
	Key   string `json:"key"`
}

// sendCards sends a message with buttons as button_interaction template
// cards, six buttons a card; a text too long for a card goes first as a
// text message. Each card's task_id is unique: "r<row>-<created>[-n]".
func (s *Sender) sendCards(ctx context.Context, r outbox.Row, touser string) (first, code string, err error) {
	m := r.Msg
	title, rest, _ := strings.Cut(strings.TrimSpace(m.Text), "\n")
	rest = strings.TrimSpace(rest)
	long := utf8.RuneCountInString(title) > maxCardTitle || utf8.RuneCountInString(rest) > maxCardSub
	if long {
		if _, err := s.appSend(ctx, touser, "text", map[string]any{"content": clipBytes(m.Text, maxTextBytes)}); err != nil {
			return "", "", err
		}
		rest = ""
	}
	if title == "" {
		title = "…"
	}
	var buttons []cardButton
	for _, row := range m.Buttons {
		for _, b := range row {
			buttons = append(buttons, cardButton{Text: clipRunes(b.Text, maxButtonText), Style: 1, Key: b.Data})
		}
	}
	for i := 0; i < len(buttons); i += maxCardButtons {
		chunk := buttons[i:min(i+maxCardButtons, len(buttons))]
		task := TaskID(r, i/maxCardButtons)
		card := map[string]any{
			"card_type":   "button_interaction",
			"main_title":  map[string]any{"title": clipRunes(title, maxCardTitle)},
			"task_id":     task,
			"button_list": chunk,
		}
		if i == 0 && rest != "" {
			card["sub_title_text"] = clipRunes(rest, maxCardSub)
		}
		if i > 0 {
			card["main_title"] = map[string]any{"title": clipRunes(title, maxCardTitle-4) + " (" + fmt.Sprint(i/maxCardButtons+1) + ")"}
		}
		a, err := s.appSendAnswer(ctx, touser, "template_card", card, true)
		id := a.MsgID
		if i == 0 && a.ResponseCode != "" {
			code = a.ResponseCode
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == errTaskIDExists {
			// Task ids are unique per outbox row ("r<row>-<created>"), so an
			// existing one means an earlier attempt of this very row was
			// accepted and its answer lost: the card arrived. Count it as
			// delivered rather than failing a row the member can see.
			s.Redelivered.Add(1)
			s.c.o.Log.Info().Uint64("row", r.ID).Str("task_id", task).Msg("wecom: card already delivered by an earlier attempt")
			err = nil
		}
		if err != nil {
			return "", "", err
		}
		if i == 0 {
			first = id
		}
	}
	return first, code, nil
}

// TaskID is the template card task id of an outbox row's n-th card: unique
// per app (WeCom refuses a reused one), even across a recreated database.
func TaskID(r outbox.Row, n int) string {
	id := fmt.Sprintf("r%d-%d", r.ID, r.Created.Unix())
	if n > 0 {
		id += fmt.Sprintf("-%d", n+1)
	}
	return id
}

// sendGroup delivers to an appchat. Group chats cannot carry buttons, so
// a message with buttons goes to every member as an interactive card.
func (s *Sender) sendGroup(ctx context.Context, r outbox.Row) (string, error) {
	m := r.Msg
	chatID := strings.TrimPrefix(m.To.Chat, appchatPrefix)
	if len(m.Buttons) > 0 {
		ids, err := s.groupMembers(ctx, chatID)
		if err != nil {
			return "", err
		}
		if len(ids) == 0 {
			return "", &permanentError{"appchat " + chatID + " has no members"}
		}
		if err := s.chargeMembers(ids); err != nil {
			return "", err
		}
		return cardCode(s.sendCards(ctx, r, strings.Join(ids, "|")))
	}
	text := plainText(m)
	body := map[string]any{"chatid": chatID, "msgtype": "text", "text": map[string]any{"content": clipBytes(text, maxTextBytes)}}
	if err := s.c.api.call(ctx, s.c.o.Secret, "POST", "/cgi-bin/appchat/send", nil, body, nil); err != nil {
		return "", err
	}
	return postedText, nil
}

// maxReplaceName bounds a retired button's text: twice a button's
// recommended 10 characters, so "✅ 张师傅 已接单（10:05）" fits; the client
// cuts what it cannot show.
const maxReplaceName = 20

// postedText is the delivery record of a group post without buttons: it
// replaces the card's response code, which the post has used or outlived.
const postedText = "text"

// cardCode turns sendCards' answer into the delivery record of a group
// card: the response code that can later retire its buttons.
func cardCode(_, code string, err error) (string, error) {
	if err != nil || code == "" {
		return postedText, err
	}
	return cardCodePrefix + code, nil
}

// retireButtons replaces the buttons of a group card's member cards, for
// everyone it went to, with the card's new state (update_template_card,
// atall, with the code its send returned), once the card has no buttons
// any more: the other technicians' Accept turns into "✅ 张师傅 已接单"
// instead of waiting to be refused. The code works once, for 72 hours; a
// failure only means the old buttons stay (a tap is then refused).
func (s *Sender) retireButtons(ctx context.Context, m flows.Message) {
	if m.Kind != flows.KindEdit || m.CardKey == "" || len(m.Buttons) > 0 || s.c.o.Outbox == nil {
		return
	}
	ref, ok, err := s.c.o.Outbox.Card(m.CardKey)
	if err != nil || !ok || !strings.HasPrefix(ref.MessageID, cardCodePrefix) {
		return
	}
	name := m.Status
	if name == "" {
		name, _, _ = strings.Cut(strings.TrimSpace(m.Text), "\n")
	}
	body := map[string]any{
		"atall":         1,
		"agentid":       s.c.o.AgentID,
		"response_code": strings.TrimPrefix(ref.MessageID, cardCodePrefix),
		"button":        map[string]any{"replace_name": clipRunes(name, maxReplaceName)},
	}
	if err := s.c.api.call(ctx, s.c.o.Secret, "POST", "/cgi-bin/message/update_template_card", nil, body, nil); err != nil {
		s.c.o.Log.Info().Err(err).Str("card", m.CardKey).Msg("wecom: could not retire the old card's buttons")
		return
	}
	s.Retired.Add(1)
}

// menuItem is one msgmenu click item.
type menuItem struct {
	Type  string `json:"type"`
	Click struct {
		ID      string `json:"id"`
		Content string `json:"content"`
	} `json:"click"`
}

// sendKf delivers to a WeChat customer with kf/send_msg. Buttons become a
// msgmenu whose click ids are the payloads; the msgid makes a retry of the
// same row idempotent.
func (s *Sender) sendKf(ctx context.Context, r outbox.Row) (string, error) {
	m := r.Msg
	kfID, ext, ok := strings.Cut(m.To.Chat, "|")
	if !ok || kfID == "" || ext == "" {
		return "", &permanentError{"bad kf address " + m.To.Chat}
	}
	body := map[string]any{"touser": ext, "open_kfid": kfID, "msgid": fmt.Sprintf("r%d-%d", r.ID, r.Created.Unix())}
	switch {
	case len(m.Buttons) > 0:
		var items []menuItem
		for _, row := range m.Buttons {
			for _, b := range row {
				var it menuItem
				it.Type = "click"
				it.Click.ID, it.Click.Content = b.Data, clipRunes(b.Text, 64)
				items = append(items, it)
			}
		}
		if len(items) > maxMenuItems {
			items = items[:maxMenuItems]
		}
		body["msgtype"] = "msgmenu"
		body["msgmenu"] = map[string]any{"head_content": clipBytes(m.Text, maxKfMenuHead), "list": items}
	case m.Kind == flows.KindPhoto && strings.HasPrefix(m.Photo, kfMediaPrefix):
		body["msgtype"] = "image"
		body["image"] = map[string]any{"media_id": strings.TrimPrefix(m.Photo, kfMediaPrefix)}
	case m.Kind == flows.KindPhoto:
		body["msgtype"] = "text"
		body["text"] = map[string]any{"content": photoText(m)}
	case m.Kind == flows.KindFile:
		body["msgtype"] = "text"
		body["text"] = map[string]any{"content": clipBytes(fileText(m), maxKfText)}
	default:
		body["msgtype"] = "text"
		body["text"] = map[string]any{"content": clipBytes(m.Text, maxKfText)}
	}
	var a struct {
		MsgID string `json:"msgid"`
	}
	if mt := body["msgtype"]; mt == "text" || mt == "msgmenu" {
		if code := s.takeWelcome(m.To.Chat); code != "" {
			id, err := s.sendOnEvent(ctx, code, body)
			if err == nil {
				return id, nil
			}
			// Refused (used, expired, not a welcome any more) or lost:
			// the code is spent either way. send_msg with the same msgid
			// cannot deliver it twice.
			s.WelcomeFallbacks.Add(1)
			s.c.o.Log.Warn().Err(err).Msg("wecom kf: welcome code refused; sending with send_msg")
		}
	}
	if err := s.c.api.call(ctx, s.c.o.KfSecret, "POST", "/cgi-bin/kf/send_msg", nil, body, &a); err != nil {
		return "", err
	}
	return a.MsgID, nil
}

// welcomeTTL is how long a welcome_code works: "用户进入会话,用于发送客服欢迎语:
// 1条, 20秒" (kf/send_msg_on_event). A little is kept back for the request.
const welcomeTTL = 20*time.Second - 2*time.Second

// welcomeCode is the enter_session event's code for one customer.
type welcomeCode struct {
	code   string
	issued time.Time
}

// setWelcome remembers an enter_session welcome_code for the customer's
// chat. It lives in memory only: it is worth 20 seconds.
func (s *Sender) setWelcome(chat, code string, issued time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.welcome[chat] = welcomeCode{code: code, issued: issued}
}

// takeWelcome returns the chat's welcome code if it is still fresh and
// forgets it (a code works once).
func (s *Sender) takeWelcome(chat string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.welcome[chat]
	if !ok {
		return ""
	}
	delete(s.welcome, chat)
	if s.c.now().Sub(w.issued) >= welcomeTTL {
		return ""
	}
	return w.code
}

// hasWelcome reports a fresh welcome code for the chat.
func (s *Sender) hasWelcome(chat string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.welcome[chat]
	return ok && s.c.now().Sub(w.issued) < welcomeTTL
}

// sendOnEvent sends a kf text or menu with kf/send_msg_on_event, the
// only way to greet a customer who entered the chat but has not written
// (send_msg needs a customer message within 48 hours).
func (s *Sender) sendOnEvent(ctx context.Context, code string, sendBody map[string]any) (string, error) {
	mt, _ := sendBody["msgtype"].(string)
	body := map[string]any{"code": code, "msgid": sendBody["msgid"], "msgtype": mt, mt: sendBody[mt]}
	var a struct {
		MsgID string `json:"msgid"`
	}
	if err := s.c.api.call(ctx, s.c.o.KfSecret, "POST", "/cgi-bin/kf/send_msg_on_event", nil, body, &a); err != nil {
		return "", err
	}
	s.Welcomed.Add(1)
	return a.MsgID, nil
}

// kfNotice tells a customer something at once, outside the outbox (the
// kf equivalent of a toast); a failure is only logged.
func (s *Sender) kfNotice(ctx context.Context, chat, text string) {
	kfID, ext, ok := strings.Cut(chat, "|")
	if !ok {
		return
	}
	nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := map[string]any{"touser": ext, "open_kfid": kfID, "msgtype": "text", "text": map[string]any{"content": clipBytes(text, maxKfText)}}
	w := s.kfWin(chat)
	if ok, _ := w.open(s.c.now()); !ok {
		return // the notice is ephemeral; it never takes a slot it does not have
	}
	w.TakeAt(s.c.now())
	if err := s.c.api.call(nctx, s.c.o.KfSecret, "POST", "/cgi-bin/kf/send_msg", nil, body, nil); err != nil {
		s.c.o.Log.Warn().Err(err).Msg("wecom kf: notice not sent")
	}
}

// clipBytes cuts s to at most n bytes on a rune boundary, marking the cut.
func clipBytes(s string, n int) string {
	if s == "" {
		return "…"
	}
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
