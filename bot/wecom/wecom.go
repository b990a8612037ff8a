// Package wecom is the WeCom (企业微信) channel: staff on a self-built app
// (自建应用) and residents on WeChat through 微信客服 ("kf"). It verifies
// and decrypts callbacks, maps them to flows events that the engine commits
// (dedupe mark, kf cursor, state and outbox in one transaction) before the
// callback is answered, and delivers the outbox through the WeCom API within
// the platform's per-member limits (WeCom drops excess messages silently).
//
// silenceper/wechat/v2 has no receive server for self-built apps, no
// template cards and no update_template_card; only its util package is used
// (signature and AES-CBC message crypto). API calls go through this
// package's own client, which has a timeout on every request and drops the
// cached access token on errcode 40014/42001/42009.
package wecom

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

// Channel names of the flows addresses this package serves.
const (
	ChannelName = "wecom" // staff on the self-built app (userid)
	KfChannel   = "wxkf"  // residents on WeChat customer service
)

// appchatPrefix marks a group chat (appchat) address; userids cannot
// contain ':'.
const appchatPrefix = "appchat:"

// robotChat is the address of the group robot (群机器人) webhook.
const robotChat = "robot:group"

// PersonID is the flows identity of a WeCom member.
func PersonID(userID string) string { return ChannelName + ":" + userID }

// KfPersonID is the flows identity of a WeChat customer of the kf account.
func KfPersonID(externalUserID string) string { return KfChannel + ":" + externalUserID }

// UserAddress is the private chat with a member of the app.
func UserAddress(userID string) flows.Address {
	return flows.Address{Channel: ChannelName, Chat: userID}
}

// GroupAddress is an appchat (group chat) of the app.
func GroupAddress(chatID string) flows.Address {
	return flows.Address{Channel: ChannelName, Chat: appchatPrefix + chatID}
}

// RobotAddress is the technicians' group reached through its group robot
// webhook (群机器人): push-only, so a card with buttons also goes to every
// WeCom technician privately as an interactive card.
func RobotAddress() flows.Address {
	return flows.Address{Channel: ChannelName, Chat: robotChat}
}

// KfAddress is the conversation of a customer with a kf account.
func KfAddress(openKfID, externalUserID string) flows.Address {
	return flows.Address{Channel: KfChannel, Chat: openKfID + "|" + externalUserID}
}

// Options configure the channel.
type Options struct {
	CorpID  string
	AgentID int64
	Secret  string
	// Token and EncodingAESKey verify and decrypt callbacks.
	Token          string
	EncodingAESKey string
	// KfEnabled turns on 微信客服; KfSecret defaults to Secret.
	KfEnabled bool
	KfSecret  string
	// KfPollInterval is how often kf/sync_msg runs without a callback, a
	// safety net for lost callbacks (default 1m; negative disables).
	KfPollInterval time.Duration
	APIURL         string // default https://qyapi.weixin.qq.com
	// CallbackListen starts an HTTP server when set (":0" in tests);
	// otherwise mount Handler yourself.
	CallbackListen string
	CallbackPath   string // default /wecom/callback
	KfCallbackPath string // default CallbackPath
	// TimestampWindow refuses callbacks whose timestamp is further from now
	// (replays), default 5m.
	TimestampWindow time.Duration

	// Deps are the engine, the store's read side, the outbox queue, the
	// media store (nil keeps only the media ids, which expire after 3
	// days), the logger and the clock. Texts are not needed (RobotHint is
	// given rendered).
	bot.Deps

	MaxPhotoBytes int64
	Send          SendLimits
	// HTTPClient for API calls; a client with a timeout is built when nil.
	HTTPClient *http.Client
	// HTTPTimeout bounds every API call (default 15s).
	HTTPTimeout time.Duration
	// RobotKey is the group robot's webhook key (webhook/send?key=...);
	// it addresses RobotAddress. A secret: never logged.
	RobotKey string
	// RobotHint is added to a robot post whose card has buttons, which the
	// robot cannot carry: where to tap them (the catalog's
	// group.robot_hint, in the default language).
	RobotHint string
	// DuplicateCheckInterval is message/send's duplicate_check_interval:
	// the same request within it is not delivered twice, so a retry whose
	// answer was lost is harmless (default 30m, at most 4h, negative off).
	DuplicateCheckInterval time.Duration
}

// Channel is the running WeCom channel. Open starts it, Close stops it.
type Channel struct {
	o      Options
	aesKey []byte
	api    *client
	sender *Sender
	kf     *kfSyncer
	names  *names

	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	open   bool
}

var setDefaultClient sync.Once

// New checks the options and builds the channel; nothing talks to the
// network until Open.
func New(o Options) (*Channel, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"corp_id", o.CorpID}, {"secret", o.Secret}, {"token", o.Token}, {"encoding_aes_key", o.EncodingAESKey}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if o.AgentID <= 0 {
		missing = append(missing, "agent_id")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("wecom: missing %s", strings.Join(missing, ", "))
	}
	if o.Engine == nil || o.Store == nil || o.Outbox == nil {
		return nil, errors.New("wecom: engine, store and outbox are required")
	}
	key, err := decodeAESKey(o.EncodingAESKey)
	if err != nil {
		return nil, err
	}
	if o.APIURL == "" {
		o.APIURL = "https://qyapi.weixin.qq.com"
	}
	if o.CallbackPath == "" {
		o.CallbackPath = "/wecom/callback"
	}
	if o.KfCallbackPath == "" {
		o.KfCallbackPath = o.CallbackPath
	}
	if o.TimestampWindow <= 0 {
		o.TimestampWindow = 5 * time.Minute
	}
	if o.KfSecret == "" {
		o.KfSecret = o.Secret
	}
	if o.KfPollInterval == 0 {
		o.KfPollInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxPhotoBytes <= 0 {
		o.MaxPhotoBytes = 10 << 20
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 15 * time.Second
	}
	switch {
	case o.DuplicateCheckInterval == 0:
		o.DuplicateCheckInterval = 30 * time.Minute
	case o.DuplicateCheckInterval > 4*time.Hour:
		o.DuplicateCheckInterval = 4 * time.Hour // the API's maximum
	case o.DuplicateCheckInterval > 0 && o.DuplicateCheckInterval < time.Second:
		o.DuplicateCheckInterval = time.Second
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: o.HTTPTimeout}
	}
	// The SDK's util helpers use http.DefaultClient, which never times out;
	// nothing here calls them, but nothing that does may hang either.
	setDefaultClient.Do(func() {
		if util.DefaultHTTPClient == http.DefaultClient {
			util.DefaultHTTPClient = &http.Client{Timeout: o.HTTPTimeout}
		}
	})
	c := &Channel{o: o, aesKey: key}
	c.api = newClient(o.APIURL, o.CorpID, hc, o.Now)
	c.sender = newSender(c)
	c.kf = newKfSyncer(c)
	c.names = newNames(c)
	return c, nil
}

// decodeAESKey turns the 43-character EncodingAESKey into the AES-256 key.
func decodeAESKey(s string) ([]byte, error) {
	if len(s) != 43 {
		return nil, errors.New("wecom: encoding_aes_key must be 43 characters")
	}
	k, err := base64.StdEncoding.DecodeString(s + "=")
	if err != nil || len(k) != 32 {
		return nil, errors.New("wecom: encoding_aes_key is not a valid key")
	}
	return k, nil
}

func (c *Channel) now() time.Time { return c.o.Now() }

// The channel contract (bot/doc.go) and the capabilities ops uses.
var (
	_ bot.Channel       = (*Channel)(nil)
	_ bot.StatsReporter = (*Channel)(nil)
	_ bot.HealthChecker = (*Channel)(nil)
)

// Name is "wecom"; it owns the addresses of ChannelName and KfChannel.
func (c *Channel) Name() string { return ChannelName }

// SendStats reads the live sender counters (Paused counts the platform's
// frequency-limit answers), for metrics.
func (c *Channel) SendStats() bot.SendStats {
	return bot.StatsOf(c.sender.Dispatcher)
}

// Health is the "wecom_send" check: it fails while the WeCom API has not
// answered a send for outbox.UnreachableAfter.
func (c *Channel) Health(now time.Time) []bot.Check {
	since, failures := c.sender.Unreachable()
	return []bot.Check{bot.SendCheck(ChannelName, since, failures, now)}
}

// Sender is the outbox sender (for its counters).
func (c *Channel) Sender() *Sender { return c.sender }

// TokenRefreshes is how many access tokens were fetched so far.
func (c *Channel) TokenRefreshes() int { return c.api.refreshes() }

// CallbackAddr is the address the callback server listens on (after Open
// with CallbackListen set).
func (c *Channel) CallbackAddr() string {
	if c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// Open starts the callback server (when configured), the sender and the
// kf sync loop, which first catches up on what arrived while down.
func (c *Channel) Open(ctx context.Context) error {
	if c.open {
		return errors.New("wecom: already open")
	}
	runCtx, cancel := context.WithCancel(context.Background())
	if c.o.CallbackListen != "" {
		ln, err := net.Listen("tcp", c.o.CallbackListen)
		if err != nil {
			cancel()
			return fmt.Errorf("wecom: callback listen %s: %w", c.o.CallbackListen, err)
		}
		c.ln = ln
		mux := http.NewServeMux()
		mux.Handle(c.o.CallbackPath, c.Handler())
		if c.o.KfCallbackPath != c.o.CallbackPath {
			mux.Handle(c.o.KfCallbackPath, c.KfHandler())
		}
		c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				c.o.Log.Error().Err(err).Msg("wecom: callback server stopped")
			}
		}()
	}
	c.cancel = cancel
	c.open = true
	c.names.open(runCtx)
	c.sender.Open(runCtx)
	if c.o.KfEnabled {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.kf.loop(runCtx) }()
	}
	return nil
}

// Close stops receiving, lets in-flight work finish and stops the sender.
func (c *Channel) Close() error {
	if !c.open {
		return nil
	}
	c.open = false
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.srv.Shutdown(ctx)
		cancel()
	}
	c.cancel()
	c.wg.Wait()
	c.names.wait()
	c.sender.Close()
	return nil
}
