// Package web is the office console: a web page for team leads and
// customer service, served by the bot itself. It is one more channel
// (bot.Channel, Name "web") that carries no conversation: it reads the
// state through the store's read interfaces (flows.Store.View and the
// flows.Tx getters) and changes it only by events through the engine
// (flows.EvConsole, bot.Engine.Handle), so authorisation, the audit trail
// and the chat cards are the same whichever door a change came through.
// It never imports a concrete store.
//
// A person logs in with a one-time link the bot answers /console with
// (flows/console.go); the link opens a session (an HttpOnly, SameSite=Strict
// cookie, Secure behind TLS) with the role the person has in chat, re-read
// on every request. Pages are server-rendered html/template with their
// assets embedded; the board updates live over server-sent events
// (bot.Domain.Subscribe). Every form carries the session's CSRF token and a
// one-time key that makes a resubmission a duplicate.
//
// The pages and actions are rows of the pages table (routes.go); another
// area's page is one more row, its template and its catalog keys.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the console.
type Options struct {
	// Listen is the address to serve on ("127.0.0.1:8080"; ":0" in tests).
	Listen string
	// PublicURL is the console's address as people open it, for the login
	// links: scheme, host and an optional path prefix the console is served
	// under (a reverse proxy passing the path through), no trailing slash.
	// Empty: http://<the listen address>.
	PublicURL string
	// SecureCookies marks the cookies Secure; they always are when
	// PublicURL is https or the request came over TLS.
	SecureCookies bool
	// Deps are the engine, the store's read side, the media store (the
	// kept photos), the catalogs, the log and the clock; Deps.Domain is
	// required.
	bot.Deps
}

// Channel is the running console.
type Channel struct {
	o    Options
	base string // the path prefix, "" or "/console"
	tpl  map[string]*template.Template
	mux  *http.ServeMux
	srv  *http.Server

	mu     sync.Mutex
	ln     net.Listener
	done   chan struct{}
	ctx    context.Context // cancelled by Close: ends the event streams
	cancel context.CancelFunc
}

var (
	_ bot.Channel     = (*Channel)(nil)
	_ bot.LoginLinker = (*Channel)(nil)
)

// New checks the options and builds the handler; nothing listens until
// Open.
func New(o Options) (*Channel, error) {
	if o.Engine == nil || o.Store == nil || o.Texts == nil || o.Domain == nil {
		return nil, errors.New("web: Engine, Store, Texts and Domain are required")
	}
	if o.Listen == "" {
		return nil, errors.New("web: Listen is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DefaultLang == "" {
		o.DefaultLang = flows.LangZH
	}
	c := &Channel{o: o}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("web: PublicURL %q must be an absolute http(s) URL without query", o.PublicURL)
		}
		c.base = strings.TrimSuffix(u.Path, "/")
		if u.Scheme == "https" {
			c.o.SecureCookies = true
		}
	}
	tpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	c.tpl = tpl
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.mux = c.routes()
	c.srv = &http.Server{
		Handler:           c.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The event stream clears its own deadline (events.go).
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    90 * time.Second,
		MaxHeaderBytes: 32 << 10,
		BaseContext:    func(net.Listener) context.Context { return c.ctx },
	}
	return c, nil
}

// Name implements bot.Channel.
func (c *Channel) Name() string { return "web" }

// Open starts listening.
func (c *Channel) Open(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", c.o.Listen)
	if err != nil {
		return fmt.Errorf("web.listen: %w", err)
	}
	c.ln, c.done = ln, make(chan struct{})
	go func() {
		defer close(c.done)
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.o.Log.Error().Err(err).Msg("console stopped")
		}
	}()
	c.o.Log.Info().Str("addr", ln.Addr().String()).Str("url", c.publicURL()).Msg("office console listening")
	return nil
}

// Close ends the event streams and stops the server, letting a request in
// flight finish. Close without Open, or twice, is a no-op.
func (c *Channel) Close() error {
	c.mu.Lock()
	ln, done := c.ln, c.done
	c.ln = nil
	c.mu.Unlock()
	c.cancel()
	if ln == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	<-done
	return err
}

// Addr is the address the console listens on ("" before Open).
func (c *Channel) Addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// Handler serves the console (tests drive it without a listener).
func (c *Channel) Handler() http.Handler { return c.mux }

// publicURL is where people open the console.
func (c *Channel) publicURL() string {
	if c.o.PublicURL != "" {
		return strings.TrimSuffix(c.o.PublicURL, "/")
	}
	addr := c.o.Listen
	if c.ln != nil {
		addr = c.ln.Addr().String()
	}
	return "http://" + addr
}

// LoginLink implements bot.LoginLinker: the page that redeems a login
// token.
func (c *Channel) LoginLink(token string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.publicURL() + "/login?t=" + url.QueryEscape(token), true
}
