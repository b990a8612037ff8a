package bot

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/outbox"
)

// Channel is one chat platform wired to the engine: it turns the
// platform's updates into flows events and delivers the outbox rows of the
// addresses it owns. main builds the configured channels, opens them in
// order and closes them in reverse.
type Channel interface {
	// Name names the channel in logs, metrics and /healthz ("telegram",
	// "wecom"). It is not an address channel: one Channel may own several
	// (WeCom owns "wecom" and "wxkf").
	Name() string
	// Open starts receiving and sending. ctx bounds the start-up only
	// (asking the platform who the bot is, publishing menus); the loops run
	// until Close.
	Open(ctx context.Context) error
	// Close stops receiving, lets in-flight work finish (an event being
	// handled commits or rolls back, a send in flight is recorded) and stops
	// the sender. Close without Open, or twice, is a no-op.
	Close() error
}

// Engine is what a channel asks of flows.Engine (which implements it):
// handle one event in one transaction (state, dedupe mark, cursor and
// outgoing rows together), or move a cursor on its own after a batch of
// updates that produced no event.
type Engine interface {
	Handle(ctx context.Context, ev flows.Event) (flows.Result, error)
	SetCursor(ctx context.Context, name, value string) error
}

// Deps is what every channel is given: the engine, the store's read side
// and the outbox's delivery side (both interfaces: a channel never imports
// a concrete store), the media store, the catalogs, a logger and the clock.
type Deps struct {
	// Engine handles events; required.
	Engine Engine
	// Store is read for what a channel needs outside an event (its cursor,
	// the people it renders or lists); writes go through Engine. Required.
	Store flows.Store
	// Outbox is the delivery side of the outbox: the channel's sender
	// (an outbox.Dispatcher) claims and acknowledges rows through it, and
	// looks up where a card was delivered. Required.
	Outbox outbox.Queue
	// Media keeps a copy of every photo; nil keeps only the platform's
	// file ids (which may expire).
	Media *media.Store
	// Texts are the catalogs, for what the channel itself renders (command
	// menus, digests, hints); flows renders everything else.
	Texts flows.Texts
	// DefaultLang is the catalog for people whose language has none.
	DefaultLang flows.Lang
	// Log is the channel's sub-logger (component=<name>).
	Log zerolog.Logger
	// Now is the clock (time.Now unless a test pins it).
	Now func() time.Time
	// Exports renders the forms and charts messages carry (Message.Export)
	// when they are sent; nil sends their caption as text.
	Exports Exporter
}

// Exporter renders an export (flows.Message.Export) at send time: a form
// as an xlsx read from the store, a chart as a PNG drawn from the figures
// the message carries (package records implements it). An error matching
// flows.ErrExportInvalid or flows.ErrNotFound is permanent (the message
// goes out as its caption with a note); any other is retried.
type Exporter interface {
	Export(ctx context.Context, x flows.Export) ([]byte, error)
}

// InviteLinker is a channel that turns an invite code into a link that
// opens the bot with "/start <code>" (Telegram's t.me deep link). The
// engine asks it for the invites it renders; channels without links get
// the plain "/start <code>".
type InviteLinker interface {
	// InviteLink returns the link for a person whose private chat is on
	// the address channel addrChannel (flows.Address.Channel); ok is
	// false when that address channel is not this Channel's.
	InviteLink(addrChannel, code string) (link string, ok bool)
}

// SendStats are a channel sender's counters since the process started.
type SendStats struct {
	Sent    int64 // messages delivered (sends, edits, photos, digests)
	Retried int64 // transient failures scheduled for another attempt
	Paused  int64 // the platform asked to slow down (Telegram 429, WeCom frequency limits)
	Failed  int64 // permanent failures (rows kept with outbox.StatusFailed)
}

// StatsReporter is a channel whose sender counts its deliveries (ops
// exports them as metrics).
type StatsReporter interface {
	SendStats() SendStats
}

// Check is one of a channel's own health checks.
type Check struct {
	// Name names the check in /healthz "failing" ("telegram_poll").
	Name string
	// OK is false when the check fails; Detail then says why, for the
	// operator (no secrets, no personal data).
	OK     bool
	Detail string
	// Poll marks a check of a polling receive loop; PollAge is then how
	// long ago the platform last answered (counted from Open before the
	// first answer). /healthz shows it as last_poll_age_s.
	Poll    bool
	PollAge time.Duration
}

// HealthChecker is a channel that checks itself: cheap, no network (ops
// calls it on every /healthz and scrape). A channel with nothing to watch
// in its current mode returns no checks.
type HealthChecker interface {
	Health(now time.Time) []Check
}
