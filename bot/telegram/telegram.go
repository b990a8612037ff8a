// Package telegram is the Telegram channel: it receives updates (its own
// long-polling loop or a webhook, both committing before confirming), maps
// them to flows events, and delivers the outbox through the Bot API with
// platform rate limits. It uses github.com/go-telegram/bot for sending and
// for its models, not for receiving (its receivers confirm updates before
// they are handled, so a crash would lose them).
package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	rbot "github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

// Options configure the channel.
type Options struct {
	Token       string
	APIURL      string // default https://api.telegram.org
	Mode        string // "polling" or "webhook"
	PollTimeout time.Duration
	// Webhook mode.
	WebhookListen string // address to listen on, ":0" in tests
	WebhookPath   string
	WebhookURL    string // public URL Telegram posts to
	WebhookSecret string
	// WebhookTimeouts bound the webhook server's connections; zero fields
	// take DefaultWebhookTimeouts.
	WebhookTimeouts WebhookTimeouts
	// BotUsername for deep links; asked with getMe when empty.
	BotUsername string

	// Deps are the engine, the store's read side, the outbox queue, the
	// media store (nil keeps only Telegram's file ids), the catalogs (the
	// command menus; DefaultLang for users whose language has none), the
	// logger and the clock.
	rbot.Deps

	MaxPhotoBytes int64
	Send          SendLimits
	// HTTPClient for sending; a client with a timeout is built when nil.
	HTTPClient *http.Client
}

// SendLimits shape outgoing traffic.
type SendLimits struct {
	PerChatPerSecond float64
	// PerChatBurst is how many messages one private chat may take at once
	// before PerChatPerSecond paces them (default 2): Telegram tolerates
	// short bursts, and a technician's tap that moves their step card to
	// the bottom (a new card, the old one's buttons retired) should not
	// make their next tap wait.
	PerChatBurst    int
	GroupPerMinute  float64
	GlobalPerSecond float64
	Workers         int
	// BaseBackoff doubles up to MaxBackoff between the attempts of a row
	// that fails transiently; it is retried until it is older than
	// GiveUpAfter (outbox.Options).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	GiveUpAfter time.Duration
	// NoDigest keeps every new card separate even when the group's budget
	// is spent (tests that count cards; the default folds a backlog).
	NoDigest bool
	// DigestAfter is how long a card waits before a backlog folds (10 s).
	DigestAfter time.Duration
}

// Channel is the running Telegram channel. Open starts it, Close stops it.
type Channel struct {
	o        Options
	api      *bot.Bot
	http     *http.Client
	user     atomic.Value // bot username
	sender   *Sender
	srv      *http.Server
	ln       net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	lastPoll atomic.Int64
	opened   atomic.Int64 // when Open started receiving, or this replica polling (unix ns)
	// unhandled is when an update arrived that none handled since (unix
	// ns, 0: every update that arrived was handled); the counters are
	// updates received and handled, and offset resets (belowOffset).
	unhandled           atomic.Int64
	nReceived, nHandled atomic.Int64
	resets              atomic.Int64
	// hookAttempts counts the webhook's failed attempts per update.
	hookAttempts attempts
}

// handleStall is how long updates may keep arriving with none handled
// before the channel reports itself unhealthy (telegram_handle).
const handleStall = time.Minute

// received notes n updates that arrived (a getUpdates batch, a webhook post).
func (c *Channel) received(now time.Time, n int) {
	c.nReceived.Add(int64(n))
	c.unhandled.CompareAndSwap(0, now.UnixNano())
}

// handled notes an update handled (committed, a duplicate included).
func (c *Channel) handled() {
	c.nHandled.Add(1)
	c.unhandled.Store(0)
}

// The channel contract (bot/doc.go) and the capabilities main and ops use.
var (
	_ rbot.Channel         = (*Channel)(nil)
	_ rbot.InviteLinker    = (*Channel)(nil)
	_ rbot.StatsReporter   = (*Channel)(nil)
	_ rbot.HealthChecker   = (*Channel)(nil)
	_ rbot.ReceiveReporter = (*Channel)(nil)
)

// ReceiveStats reads the receive counters, for metrics.
func (c *Channel) ReceiveStats() rbot.ReceiveStats {
	return rbot.ReceiveStats{Received: c.nReceived.Load(), Handled: c.nHandled.Load(), OffsetResets: c.resets.Load()}
}

// Name is "telegram"; its addresses and person ids use ChannelName ("tg").
func (c *Channel) Name() string { return "telegram" }

// New builds the channel; nothing talks to the network until Open.
func New(o Options) (*Channel, error) {
	if o.Token == "" || o.Engine == nil || o.Store == nil || o.Outbox == nil || o.Texts == nil {
		return nil, errors.New("telegram: token, engine, store, outbox and texts are required")
	}
	if o.APIURL == "" {
		o.APIURL = "https://api.telegram.org"
	}
	o.APIURL = strings.TrimRight(o.APIURL, "/")
	if o.Mode == "" {
		o.Mode = "polling"
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxPhotoBytes <= 0 {
		o.MaxPhotoBytes = 10 << 20
	}
	if o.DefaultLang == "" {
		o.DefaultLang = flows.LangZH
	}
	c := &Channel{o: o}
	c.http = o.HTTPClient
	if c.http == nil {
		// Long polls hold the connection for PollTimeout; sends are bounded
		// by per-request contexts in the sender.
		c.http = &http.Client{Timeout: o.PollTimeout + 15*time.Second}
	}
	api, err := bot.New(o.Token,
		bot.WithServerURL(o.APIURL),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(o.PollTimeout, c.http),
		bot.WithErrorsHandler(func(err error) { o.Log.Warn().Str("err", redact(err.Error(), o.Token)).Msg("telegram library") }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	c.api = api
	c.user.Store(o.BotUsername)
	c.sender = newSender(c)
	return c, nil
}

func (c *Channel) now() time.Time { return c.o.Now() }

func (c *Channel) username() string { s, _ := c.user.Load().(string); return s }

// InviteLink is the deep link that opens the bot with /start <code>, for
// a person on Telegram (addrChannel ChannelName).
func (c *Channel) InviteLink(addrChannel, code string) (string, bool) {
	if addrChannel != ChannelName {
		return "", false
	}
	return "https://t.me/" + c.username() + "?start=" + code, true
}

// WebhookAddr is the address the webhook server listens on (after Open).
func (c *Channel) WebhookAddr() string {
	if c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// LastPoll is when the last getUpdates returned (zero in webhook mode).
func (c *Channel) LastPoll() time.Time {
	n := c.lastPoll.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// pollMaxAge is how long the polling loop may go without an answer from
// getUpdates before the channel reports itself unhealthy: three poll
// timeouts (0 in webhook mode, where Telegram calls us).
func (c *Channel) pollMaxAge() time.Duration {
	if c.o.Mode == "webhook" {
		return 0
	}
	return 3 * c.o.PollTimeout
}

// Health is the "telegram_send" check (the Bot API answers the sender,
// bot.SendCheck), the "telegram_handle" check (updates that arrive are
// handled: it fails when they have kept arriving for handleStall with
// none handled, say every commit failing) and, in polling mode, the
// "telegram_poll" check:
// getUpdates answered within three poll timeouts (counted from Open
// before the first answer).
func (c *Channel) Health(now time.Time) []rbot.Check {
	since, failures := c.sender.Unreachable()
	checks := []rbot.Check{rbot.SendCheck(c.Name(), since, failures, now)}
	hc := rbot.Check{Name: "telegram_handle", OK: true}
	if n := c.unhandled.Load(); n != 0 {
		if stall := now.Sub(time.Unix(0, n)); stall >= handleStall {
			hc.OK = false
			hc.Detail = fmt.Sprintf("updates arrive but none was handled for %s (the log says why: \"update not handled\")", stall.Round(time.Second))
		}
	}
	checks = append(checks, hc)
	limit := c.pollMaxAge()
	if limit <= 0 || !c.o.Leads() {
		return checks // a replica that does not lead does not poll
	}
	last := c.LastPoll()
	if opened := time.Unix(0, c.opened.Load()); last.Before(opened) {
		last = opened
	}
	age := max(now.Sub(last), 0)
	ch := rbot.Check{Name: "telegram_poll", OK: age <= limit, Poll: true, PollAge: age}
	if !ch.OK {
		ch.Detail = fmt.Sprintf("no getUpdates answer for %s (limit %s)", age.Round(time.Second), limit)
	}
	return append(checks, ch)
}

// Open learns the bot's name, publishes the command menus and starts
// receiving and sending.
func (c *Channel) Open(ctx context.Context) error {
	if c.username() == "" {
		me, err := c.api.GetMe(ctx)
		if err != nil {
			return fmt.Errorf("telegram: getMe: %s", redact(err.Error(), c.o.Token))
		}
		c.user.Store(me.Username)
	}
	if err := c.publishCommands(ctx); err != nil {
		// A menu is a convenience; the bot works without it.
		c.o.Log.Warn().Str("err", redact(err.Error(), c.o.Token)).Msg("setMyCommands failed")
	}
	if err := c.checkBot(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.opened.Store(c.now().UnixNano())
	switch c.o.Mode {
	case "webhook":
		if err := c.openWebhook(ctx); err != nil {
			cancel()
			return err
		}
	default:
		if _, err := c.api.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
			c.o.Log.Warn().Str("err", redact(err.Error(), c.o.Token)).Msg("deleteWebhook failed; polling may conflict with a webhook")
		}
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.pollWhileLeading(runCtx) }()
	}
	c.sender.Open(runCtx)
	return nil
}

// botCursor names the stored id of the bot the database belongs to.
const botCursor = "tg.bot"

// ErrOtherBot is returned by Open when the database belongs to another
// bot than the token's.
var ErrOtherBot = errors.New("telegram: the database belongs to another bot")

// checkBot compares the bot the token is for (its numeric prefix, the bot's
// user id) with the one stored beside the polling offset: a database
// another bot used holds its offset, its chats and its cards, and polling
// with that offset would drop this bot's updates. The first start stores
// it.
func (c *Channel) checkBot(ctx context.Context) error {
	id, _, ok := strings.Cut(c.o.Token, ":")
	if _, err := strconv.ParseInt(id, 10, 64); !ok || err != nil {
		return nil // not a Bot API token shape; nothing to compare
	}
	var stored string
	if err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		var err error
		stored, err = tx.Cursor(botCursor)
		return err
	}); err != nil {
		return fmt.Errorf("telegram: read the stored bot id: %w", err)
	}
	switch stored {
	case id:
		return nil
	case "":
		return c.o.Engine.SetCursor(ctx, botCursor, id)
	}
	return fmt.Errorf("%w: it was used by bot %s, and the token is for bot %s; its polling offset, chats and cards are "+
		"that bot's, and polling with them would drop this bot's updates. Use that bot's token, or give this bot a database "+
		"of its own ([store] data_dir)", ErrOtherBot, stored, id)
}

// Close stops receiving, lets in-flight work finish and stops the sender.
func (c *Channel) Close() error {
	if c.cancel == nil {
		return nil
	}
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.srv.Shutdown(ctx)
		cancel()
	}
	c.cancel()
	c.wg.Wait()
	c.sender.Close()
	return nil
}

// publishCommands sets the default command menu — the residents' and
// strangers' — in every catalog language and the default. Staff get their
// role's menu in their own chat (flows.KindMenu).
func (c *Channel) publishCommands(ctx context.Context) error {
	menu := func(l flows.Lang) []models.BotCommand {
		var cmds []models.BotCommand
		for _, k := range flows.MenuFor(flows.RoleResident) {
			cmds = append(cmds, models.BotCommand{Command: k.Name, Description: c.o.Texts.T(l, k.Key)})
		}
		return cmds
	}
	for _, v := range []struct {
		code string
		lang flows.Lang
	}{{"", c.o.DefaultLang}, {"zh", flows.LangZH}, {"en", flows.LangEN}} {
		if _, err := c.api.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: menu(v.lang), LanguageCode: v.code}); err != nil {
			return err
		}
	}
	return nil
}

// handle runs one update through the engine and answers a button tap.
func (c *Channel) handle(ctx context.Context, u *models.Update, cursor bool) error {
	ev := c.toEvent(u)
	if cursor {
		ev.Cursor = cursorAfter(u.ID)
	}
	if ev.Kind == flows.EvPhoto && ev.Photo != nil && !ev.TooLarge && c.o.Deps.FetchPhoto(ctx, ev.From.ID) {
		c.fetchPhoto(ctx, &ev)
	}
	if ev.Kind == flows.EvFile && ev.File != nil && !ev.TooLarge && c.o.Deps.FetchFile(ctx, ev.From.ID) {
		c.fetch(ctx, &ev, ev.File.FileID, func(r io.Reader) error { return c.o.Media.KeepFile(&ev, r) })
	}
	res, err := c.o.Engine.Handle(ctx, ev)
	if err != nil {
		return err
	}
	c.handled()
	if u.CallbackQuery != nil && !res.Duplicate {
		// Answer at once so the client stops spinning; the answer is
		// ephemeral, so it is not worth an outbox row. A redelivered tap is
		// not answered: the first delivery's answer (the real toast) must
		// be the one Telegram accepts.
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := c.api.AnswerCallbackQuery(actx, &bot.AnswerCallbackQueryParams{
			CallbackQueryID: u.CallbackQuery.ID, Text: clip16(res.Toast, 200), ShowAlert: res.Alert,
		}); err != nil {
			c.o.Log.Debug().Str("err", redact(err.Error(), c.o.Token)).Msg("answerCallbackQuery")
		}
	}
	c.o.Log.Debug().Int64("update", u.ID).Str("kind", string(ev.Kind)).Bool("dup", res.Duplicate).Msg("update handled")
	return nil
}

// redact removes the bot token from error texts (URLs in net errors carry it).
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}

// clip16 cuts a toast to Telegram's limit in UTF-16 units; an empty toast stays empty.
func clip16(s string, n int) string {
	if s == "" {
		return s
	}
	return clip(s, n)
}

// fetchPhoto keeps a content-addressed copy of a photo before the event is
// handled, so the engine can refuse a file that is not an image. A failed
// download keeps the file id only (it can still be fetched later); it
// never blocks the report.
func (c *Channel) fetchPhoto(ctx context.Context, ev *flows.Event) {
	c.fetch(ctx, ev, ev.Photo.FileID, func(r io.Reader) error { return c.o.Media.Keep(ev, r) })
}

// fetch downloads a file of the event and hands it to keep (the media
// store); a failure keeps the file id only.
func (c *Channel) fetch(ctx context.Context, ev *flows.Event, fileID string, keep func(io.Reader) error) {
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	f, err := c.api.GetFile(fctx, &bot.GetFileParams{FileID: fileID})
	if err != nil {
		if strings.Contains(err.Error(), "file is too big") {
			ev.TooLarge = true
			return
		}
		c.o.Log.Warn().Str("err", redact(err.Error(), c.o.Token)).Msg("getFile failed; keeping the file id only")
		return
	}
	if int64(f.FileSize) > c.o.MaxPhotoBytes {
		ev.TooLarge = true
		return
	}
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, c.api.FileDownloadLink(f), nil)
	if err != nil {
		return
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.o.Log.Warn().Str("err", redact(err.Error(), c.o.Token)).Msg("photo download failed; keeping the file id only")
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.o.Log.Warn().Int("status", resp.StatusCode).Msg("photo download failed; keeping the file id only")
		return
	}
	if err := keep(resp.Body); err != nil {
		c.o.Log.Warn().Err(err).Msg("file not stored; keeping the file id only")
	}
}
