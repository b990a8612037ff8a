package wecom

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// KfCursor names the stored kf/sync_msg cursor.
const KfCursor = "wxkf.cursor"

// KfMessageKey is the inbound dedupe key of a kf message or event.
func KfMessageKey(msgID string) string { return KfChannel + ":m:" + msgID }

// kf message origins (sync_msg "origin").
const (
	originCustomer = 3
	originSystem   = 4
)

type kfText struct {
	Content string `json:"content"`
	MenuID  string `json:"menu_id"`
}

type kfMedia struct {
	MediaID string `json:"media_id"`
}

type kfEvent struct {
	EventType      string `json:"event_type"`
	OpenKfID       string `json:"open_kfid"`
	ExternalUserID string `json:"external_userid"`
	Scene          string `json:"scene"`
	SceneParam     string `json:"scene_param"`
	WelcomeCode    string `json:"welcome_code"`
}

// kfMsg is one entry of sync_msg's msg_list.
type kfMsg struct {
	MsgID          string   `json:"msgid"`
	OpenKfID       string   `json:"open_kfid"`
	ExternalUserID string   `json:"external_userid"`
	SendTime       int64    `json:"send_time"`
	Origin         int      `json:"origin"`
	MsgType        string   `json:"msgtype"`
	Text           *kfText  `json:"text,omitempty"`
	Image          *kfMedia `json:"image,omitempty"`
	Event          *kfEvent `json:"event,omitempty"`
}

type syncPage struct {
	NextCursor string  `json:"next_cursor"`
	HasMore    int     `json:"has_more"`
	MsgList    []kfMsg `json:"msg_list"`
}

// kfSyncer pulls kf messages: a callback only says that something is new.
// One goroutine syncs, so messages are handled in order; the cursor is
// committed with the last message of each page, so a crash re-fetches at
// most one page, whose messages the msgid dedupe marks skip.
type kfSyncer struct {
	c    *Channel
	wake chan struct{}
	mu   sync.Mutex
	tok  string // the latest callback's token (raises sync_msg's limits)
	kfID string
	// Syncs counts completed sync rounds (for tests).
	syncs int
}

func newKfSyncer(c *Channel) *kfSyncer { return &kfSyncer{c: c, wake: make(chan struct{}, 1)} }

func (k *kfSyncer) poke(token string) {
	k.mu.Lock()
	if token != "" {
		k.tok = token
	}
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

func (k *kfSyncer) loop(ctx context.Context) {
	log := k.c.o.Log.With().Str("loop", "kf").Logger()
	var backoff time.Duration
	for {
		err := k.syncAll(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := k.c.o.KfPollInterval
		if err != nil {
			backoff = min(max(backoff*2, 500*time.Millisecond), 30*time.Second)
			wait = backoff
			log.Warn().Err(err).Dur("retry_in", wait).Msg("wecom kf: sync failed")
		} else {
			backoff = 0
		}
		var tick <-chan time.Time
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-k.wake:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
	}
}

func (k *kfSyncer) readCursor(ctx context.Context) (string, error) {
	var cur string
	err := k.c.o.Store.View(ctx, func(tx flows.Tx) error {
		var err error
		cur, err = tx.Cursor(KfCursor)
		return err
	})
	return cur, err
}

// syncAll fetches and handles pages until has_more is 0.
func (k *kfSyncer) syncAll(ctx context.Context) error {
	for range 1000 {
		cur, err := k.readCursor(ctx)
		if err != nil {
			return err
		}
		k.mu.Lock()
		body := map[string]any{"cursor": cur, "limit": 1000}
		if k.tok != "" {
			body["token"] = k.tok
		}
		k.mu.Unlock()
		var page syncPage
		sctx, cancel := context.WithTimeout(ctx, k.c.o.HTTPTimeout)
		err = k.c.api.call(sctx, k.c.o.KfSecret, "POST", "/cgi-bin/kf/sync_msg", nil, body, &page)
		cancel()
		if err != nil {
			return err
		}
		if len(page.MsgList) == 0 && page.NextCursor != "" && page.NextCursor != cur {
			// Nothing to handle, but the position moved: commit it alone.
			if _, err := k.c.o.Engine.Handle(ctx, flows.Event{Kind: flows.EvNone, Cursor: &flows.Cursor{Name: KfCursor, Value: page.NextCursor}}); err != nil {
				return err
			}
		}
		for i := range page.MsgList {
			var cursor *flows.Cursor
			if i == len(page.MsgList)-1 && page.NextCursor != "" {
				cursor = &flows.Cursor{Name: KfCursor, Value: page.NextCursor}
			}
			if err := k.c.handleKf(ctx, &page.MsgList[i], cursor); err != nil {
				return err
			}
		}
		if page.HasMore == 0 {
			k.mu.Lock()
			k.syncs++
			k.mu.Unlock()
			return nil
		}
	}
	return nil
}

// KfSyncs is how many kf sync rounds completed (tests wait on it).
func (c *Channel) KfSyncs() int {
	c.kf.mu.Lock()
	defer c.kf.mu.Unlock()
	return c.kf.syncs
}

// phoneText matches a message that is only a phone number: kf has no
// contact sharing, so a resident types theirs.
var phoneText = regexp.MustCompile(`^(\+?86[ -]?)?1[3-9][0-9]{9}$|^0[0-9]{2,3}-?[0-9]{7,8}$`)

func (c *Channel) kfEvent(m *kfMsg) flows.Event {
	kfID, ext := m.OpenKfID, m.ExternalUserID
	if m.Event != nil {
		if m.Event.OpenKfID != "" {
			kfID = m.Event.OpenKfID
		}
		if m.Event.ExternalUserID != "" {
			ext = m.Event.ExternalUserID
		}
	}
	from := flows.Sender{ID: KfPersonID(ext), Chat: KfAddress(kfID, ext), LangCode: "zh", TypesPhone: true}
	ev := flows.Event{Key: KfMessageKey(m.MsgID), Kind: flows.EvNone, At: c.now(), From: from, Chat: from.Chat}
	if ext == "" || kfID == "" {
		return ev
	}
	switch m.Origin {
	case originCustomer:
		switch m.MsgType {
		case "text":
			if m.Text == nil {
				return ev
			}
			if m.Text.MenuID != "" {
				ev.Kind, ev.Data = flows.EvCallback, m.Text.MenuID
				return ev
			}
			// People type numbers in groups: "138 0013 8000", "138-0013-8000".
			t := strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(m.Text.Content))
			if phoneText.MatchString(t) {
				ev.Kind, ev.Phone, ev.ContactIsOwn = flows.EvContact, t, true
				return ev
			}
			textEvent(&ev, m.Text.Content)
		case "image":
			if m.Image == nil {
				return ev
			}
			ev.Kind = flows.EvPhoto
			ev.Photo = &flows.Photo{FileID: kfMediaPrefix + m.Image.MediaID, UniqueID: m.MsgID}
		case "location":
			ev.Kind, ev.What = flows.EvUnsupported, "location"
		case "voice", "video", "file", "link", "business_card", "miniprogram", "channels", "channels_shop_product", "channels_shop_order", "merged_msg", "note":
			ev.Kind, ev.What = flows.EvUnsupported, m.MsgType
		default:
			ev.Kind, ev.What = flows.EvUnsupported, "message"
		}
	case originSystem:
		if m.Event != nil && m.Event.EventType == "enter_session" {
			// The customer opened the chat: greet them and, for a stranger,
			// start registration.
			ev.Kind, ev.Command = flows.EvCommand, "start"
		}
	}
	return ev
}

// sentAt is when the platform stamped a kf message (now when it did not).
func sentAt(m *kfMsg, now time.Time) time.Time {
	if m.SendTime <= 0 {
		return now
	}
	return time.Unix(m.SendTime, 0)
}

// handleKf runs one kf message through the engine.
func (c *Channel) handleKf(ctx context.Context, m *kfMsg, cursor *flows.Cursor) error {
	ev := c.kfEvent(m)
	ev.Cursor = cursor
	if m.Origin == originSystem && m.Event != nil && m.Event.EventType == "enter_session" && m.Event.WelcomeCode != "" && ev.Kind != flows.EvNone {
		// Before the commit, so the greeting it produces finds the code.
		c.sender.setWelcome(ev.From.Chat.Chat, m.Event.WelcomeCode, sentAt(m, c.now()))
	}
	if m.Origin == originCustomer && ev.From.Chat.Chat != "" && ev.Kind != flows.EvNone {
		// The customer wrote: five more messages within 48 hours.
		c.sender.kfInbound(ev.From.Chat.Chat, sentAt(m, c.now()))
	}
	if ev.Kind == flows.EvPhoto && c.o.Deps.FetchPhoto(ctx, ev.From.ID) {
		c.fetchPhoto(ctx, &ev, c.o.KfSecret, strings.TrimPrefix(ev.Photo.FileID, kfMediaPrefix), syncFetch)
	}
	res, err := c.o.Engine.Handle(ctx, ev)
	if err != nil {
		return err
	}
	if ev.Kind == flows.EvCallback && res.Alert && res.Toast != "" && !res.Duplicate {
		// A refused menu click: kf has no toast, so say it in the chat
		// (ephemeral, like the toast, hence not through the outbox).
		c.sender.kfNotice(ctx, ev.From.Chat.Chat, res.Toast)
	}
	c.o.Log.Debug().Str("key", ev.Key).Str("kind", string(ev.Kind)).Bool("dup", res.Duplicate).Msg("wecom kf: message handled")
	return nil
}
