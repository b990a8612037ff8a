package wecom

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Media id prefixes in flows.Photo.FileID: the platform and the token that
// can fetch or send them.
const (
	mediaPrefix   = "wecom-media:"
	kfMediaPrefix = "wxkf-media:"
)

// MessageKey is the inbound dedupe key of an app message.
func MessageKey(msgID string) string { return ChannelName + ":m:" + msgID }

// EventKey is the inbound dedupe key of an app event: WeCom events carry no
// id, so sender, time and key (a card's task id, a menu's key) stand in.
func EventKey(from string, createTime int64, key string) string {
	return ChannelName + ":ev:" + from + ":" + strconv.FormatInt(createTime, 10) + ":" + key
}

func (c *Channel) appSender(userID string) flows.Sender {
	// Callbacks carry no display name; the userid stands in until
	// memberName finds the real one.
	return flows.Sender{ID: PersonID(userID), Chat: UserAddress(userID), Name: userID, LangCode: "zh"}
}

// appEvent maps an app callback to a flows event. Events the bot does not
// act on become EvNone, so their dedupe mark still commits.
func (c *Channel) appEvent(m *inbound) flows.Event {
	ev := flows.Event{Kind: flows.EvNone, At: c.now(), From: c.appSender(m.FromUserName)}
	ev.Chat = ev.From.Chat
	if m.MsgType != "event" {
		ev.Key = MessageKey(m.MsgID)
		if m.MsgID == "" {
			ev.Key = EventKey(m.FromUserName, m.CreateTime, m.MsgType)
		}
	}
	switch m.MsgType {
	case "text":
		textEvent(&ev, m.Content)
	case "image":
		ev.Kind = flows.EvPhoto
		ev.Photo = &flows.Photo{FileID: mediaPrefix + m.MediaID, UniqueID: m.MsgID}
	case "location":
		ev.Kind, ev.What = flows.EvUnsupported, "location"
	case "voice":
		ev.Kind, ev.What = flows.EvUnsupported, "voice"
	case "video":
		ev.Kind, ev.What = flows.EvUnsupported, "video"
	case "file":
		ev.Kind, ev.What = flows.EvUnsupported, "file"
	case "link":
		ev.Kind, ev.What = flows.EvUnsupported, "link"
	case "event":
		switch m.Event {
		case "template_card_event":
			ev.Key = EventKey(m.FromUserName, m.CreateTime, m.TaskID)
			ev.Kind, ev.Data = flows.EvCallback, m.EventKey
		case "click":
			ev.Key = EventKey(m.FromUserName, m.CreateTime, m.EventKey)
			menuEvent(&ev, m.EventKey)
		default:
			// subscribe, enter_agent, view, ...: nothing to do, but the
			// mark keeps a retried callback from being looked at again.
			ev.Key = EventKey(m.FromUserName, m.CreateTime, m.Event+":"+m.EventKey)
		}
	default:
		ev.Kind, ev.What = flows.EvUnsupported, "message"
	}
	return ev
}

// textEvent makes "/cmd args" a command and anything else text.
func textEvent(ev *flows.Event, text string) {
	if cmd, args, ok := command(text); ok {
		ev.Kind, ev.Command, ev.Text = flows.EvCommand, cmd, args
		return
	}
	ev.Kind, ev.Text = flows.EvText, text
}

// menuEvent maps an app menu click: its key is a command ("report",
// "/report") or a button payload ("1|c|report").
func menuEvent(ev *flows.Event, key string) {
	if _, ok := flows.DecodePayload(key); ok {
		ev.Kind, ev.Data = flows.EvCallback, key
		return
	}
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	textEvent(ev, key)
}

// command parses "/name args"; ok is false for plain text.
func command(s string) (name, args string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(s, " ")
	word = strings.TrimPrefix(word, "/")
	if word == "" {
		return "", "", false
	}
	return strings.ToLower(word), strings.TrimSpace(rest), true
}

// handleApp runs one app callback through the engine; after a card click
// it updates that card with the answer, outside the transaction (the
// answer is ephemeral, like Telegram's answerCallbackQuery).
func (c *Channel) handleApp(ctx context.Context, m *inbound) error {
	ev := c.appEvent(m)
	if name := c.names.cached(m.FromUserName); name != "" {
		ev.From.Name = name
	}
	if ev.Kind == flows.EvPhoto && c.o.Deps.FetchPhoto(ctx, ev.From.ID) {
		// The one platform call left before a callback commits, bounded
		// so the callback still answers within WeCom's 5 s: a photo not
		// fetched in time keeps its media id (valid 3 days).
		c.fetchPhoto(ctx, &ev, c.o.Secret, strings.TrimPrefix(ev.Photo.FileID, mediaPrefix), callbackFetch)
	}
	res, err := c.o.Engine.Handle(ctx, ev)
	if err != nil {
		return err
	}
	if ev.Kind != flows.EvNone && !res.Duplicate {
		// Committed: now, and never before, the address book may be asked
		// for the person's name.
		c.names.after(m.FromUserName)
	}
	if m.Event == "template_card_event" && m.ResponseCode != "" && !res.Duplicate {
		c.answerCard(ctx, m.FromUserName, m.ResponseCode, res)
	}
	c.o.Log.Debug().Str("key", ev.Key).Str("kind", string(ev.Kind)).Bool("dup", res.Duplicate).Msg("wecom: callback handled")
	return nil
}

// callbackFetch bounds the photo download inside an app callback; the kf
// sync loop, which answers nobody, allows syncFetch.
const (
	callbackFetch = 3 * time.Second
	syncFetch     = 60 * time.Second
)

// answerCard replaces the clicked card's buttons with the result. The
// response code works once, within 72 hours; a failure is only logged.
func (c *Channel) answerCard(ctx context.Context, userID, code string, res flows.Result) {
	text := res.Toast
	if text == "" {
		text = "✓"
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := map[string]any{
		"userids":       []string{userID},
		"agentid":       c.o.AgentID,
		"response_code": code,
		"button":        map[string]any{"replace_name": clipRunes(text, 40)},
	}
	if err := c.api.call(actx, c.o.Secret, "POST", "/cgi-bin/message/update_template_card", nil, body, nil); err != nil {
		c.o.Log.Warn().Err(err).Msg("wecom: update_template_card failed")
	}
}

// fetchPhoto keeps a content-addressed copy of a photo before the event is
// handled (media ids expire after 3 days). A failed download keeps the
// media id only; it never blocks the report.
func (c *Channel) fetchPhoto(ctx context.Context, ev *flows.Event, secret, mediaID string, limit time.Duration) {
	fctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	data, err := c.api.download(fctx, secret, mediaID, c.o.MaxPhotoBytes)
	if err != nil {
		c.o.Log.Warn().Err(err).Msg("wecom: media/get failed; keeping the media id only")
		return
	}
	if int64(len(data)) > c.o.MaxPhotoBytes {
		ev.TooLarge = true
		return
	}
	ev.Photo.Size = int64(len(data))
	if err := c.o.Media.Keep(ev, bytes.NewReader(data)); err != nil {
		c.o.Log.Warn().Err(err).Msg("wecom: photo not stored; keeping the media id only")
	}
}

// clipRunes cuts s to n runes, marking a cut with an ellipsis.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
