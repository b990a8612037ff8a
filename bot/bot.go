package bot

import (
	"context"
	"errors"
	"fmt"
	"syscall"
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
	// file ids (which may expire). A channel reads a copy back only with
	// Media.Open (its files, or the database the replicas share), never
	// from Media.Dir.
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
	// Exports renders the files messages carry (Message.Export: forms,
	// charts, spare-parts workbooks) when they are sent; nil sends their
	// caption as text.
	Exports Exporter
	// Domain is the engine's read side, for a channel that shows the
	// state rather than carrying conversations (the office console,
	// bot/web); nil for chat channels. main sets it to the engine.
	Domain Domain
	// Leading says whether this process leads the replicas that share a
	// database (store/postgres): only the leader delivers the outbox and
	// polls a platform (one getUpdates per bot); every replica receives
	// webhooks. Nil means a process of its own, always leading (bbolt).
	Leading func() bool
}

// Leads reports Deps.Leading, true when it is nil.
func (d Deps) Leads() bool { return d.Leading == nil || d.Leading() }

// Exporter renders an export (flows.Message.Export) at send time: a form
// or a spare-parts workbook as an xlsx read from the store, a chart as a
// PNG drawn from the figures the message carries (package records
// implements it). An error matching
// flows.ErrExportInvalid or flows.ErrNotFound is permanent (the message
// goes out as its caption with a note); any other is retried.
type Exporter interface {
	Export(ctx context.Context, x flows.Export) ([]byte, error)
}

// Domain is what a channel that shows the state reads of the engine
// beyond the store: when something committed, and what the engine derives
// for display. flows.Engine implements it.
type Domain interface {
	// Subscribe signals after every event or tick that committed; cancel
	// stops it.
	Subscribe() (changes <-chan struct{}, cancel func())
	// SLA is where an open ticket stands against its service levels.
	SLA(t *flows.Ticket, now time.Time) flows.SLAStatus
	// Categories are the fault categories, in the residents' order.
	Categories() []flows.Category
	// Emergencies are the emergency plan's types (their labels).
	Emergencies() []flows.EmergencyType
	// SOP is the procedure in force (its price list names quote lines).
	SOP() *flows.SOP
	// Location is the organisation's time zone.
	Location() *time.Location
}

var _ Domain = (*flows.Engine)(nil)

// LoginLinker is a channel that logs people in by a link (the office
// console): the engine asks it for the address of a one-time login token
// it hands out in chat (/console); ok is false when it has none.
type LoginLinker interface {
	LoginLink(token string) (link string, ok bool)
}

// Environmental reports an error of the machine rather than of the
// update: the disk full (or over quota), read-only or failing, a context
// ended. An update that failed so is retried for as long as it takes and
// never parked as a poison update: on a full disk the small transaction
// that parks an update can still fit where the update's own does not, and
// parking would lose it.
func Environmental(err error) bool {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
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
	// GaveUp counts rows given up after outbox.give_up_after of transient
	// failures (also kept with outbox.StatusFailed).
	GaveUp int64
	// UnreachableSince is when the current spell of transient failures
	// began (no answer from the platform since); zero while it answers.
	UnreachableSince time.Time
	// Waiting counts the channel's undelivered rows, Oldest is the oldest
	// one's creation, LastSent when a delivery last went through (zero:
	// none since start): a queue that holds rows and delivers nothing is
	// stuck (ops' "<name>_outbox" check).
	Waiting          int
	Oldest, LastSent time.Time
}

// StatsOf reads a channel sender's counters and progress from its
// dispatcher (both channels' SendStats).
func StatsOf(d *outbox.Dispatcher) SendStats {
	since, _ := d.Unreachable()
	waiting, oldest, last := d.Progress()
	return SendStats{Sent: d.Sent.Load(), Retried: d.Retried.Load(), Paused: d.Paused.Load(), Failed: d.Failed.Load(),
		GaveUp: d.GaveUp.Load(), UnreachableSince: since, Waiting: waiting, Oldest: oldest, LastSent: last}
}

// SendCheck is the "<name>_send" health check of a channel's sender: it
// fails once the platform has not answered a send for
// outbox.UnreachableAfter, saying since when.
func SendCheck(name string, since time.Time, failures int, now time.Time) Check {
	c := Check{Name: name + "_send", OK: true}
	if !since.IsZero() && now.Sub(since) >= outbox.UnreachableAfter {
		c.OK = false
		c.Detail = fmt.Sprintf("platform unreachable since %s (%d failed attempts; messages wait, none is dropped)",
			since.UTC().Format(time.RFC3339), failures)
	}
	return c
}

// NameSetter is an engine that writes a person's display name found on
// the platform after the event that created the profile (flows.Engine
// implements it): a channel never asks the platform for a name before
// committing an event, so a new person's profile first carries a
// placeholder (their platform id). The name replaces the placeholder only
// while the profile still carries it; changed is false otherwise.
type NameSetter interface {
	SetPlatformName(ctx context.Context, personID, placeholder, name string) (changed bool, err error)
}

// PhotoWanter is an engine that says whether a person's photo would be
// used now (flows.Engine implements it): a channel downloads a photo only
// then, and within the media store's per-person hourly allowance
// (FetchPhoto).
type PhotoWanter interface {
	WantsPhoto(ctx context.Context, personID string) (bool, error)
}

// FileWanter is an engine that says whether a person's document would be
// used now (flows.Engine implements it); see FetchFile.
type FileWanter interface {
	WantsFile(ctx context.Context, personID string) (bool, error)
}

// FetchPhoto says whether a channel should download the photo a person
// just sent: Media is set, the engine wants it (when it can say), and the
// person is within media.Store's allowance for the hour. Anything else
// keeps the platform's file id only, which the engine answers from.
func (d Deps) FetchPhoto(ctx context.Context, personID string) bool {
	var want func(context.Context, string) (bool, error)
	if pw, ok := d.Engine.(PhotoWanter); ok {
		want = pw.WantsPhoto
	}
	return d.fetch(ctx, personID, want)
}

// FetchFile is FetchPhoto for a document (FileWanter), within the same
// hourly allowance.
func (d Deps) FetchFile(ctx context.Context, personID string) bool {
	var want func(context.Context, string) (bool, error)
	if fw, ok := d.Engine.(FileWanter); ok {
		want = fw.WantsFile
	}
	return d.fetch(ctx, personID, want)
}

func (d Deps) fetch(ctx context.Context, personID string, wants func(context.Context, string) (bool, error)) bool {
	if d.Media == nil {
		return false
	}
	if wants != nil {
		want, err := wants(ctx, personID)
		if err != nil {
			d.Log.Warn().Err(err).Msg("cannot tell whether an upload is wanted; not downloading it")
			return false
		}
		if !want {
			return false
		}
	}
	if !d.Media.Allow(personID, d.now()) {
		d.Log.Warn().Str("person", personID).Int("per_hour", d.Media.PerHour).
			Msg("upload not downloaded: the person sent more than limits.max_photos_per_hour photos and files this hour")
		return false
	}
	return true
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// OutageReporter is an engine that tells the admins about messages given
// up (flows.Engine implements it); channels find it on Deps.Engine.
type OutageReporter interface {
	ReportUndelivered(ctx context.Context, r flows.UndeliveredReport) error
}

// Recovered returns the outbox.Options.Recovered hook of a channel's
// sender: the rows given up are reported to the admins through the engine
// (when it is an OutageReporter) and logged either way.
func (d Deps) Recovered(channel string) func(outbox.Outage) {
	return func(o outbox.Outage) {
		rep := flows.UndeliveredReport{Channel: channel, Since: o.Since, Until: o.Until, Count: o.GaveUpN, After: o.After}
		seen := map[string]bool{}
		for _, r := range o.GaveUp {
			if t := r.Msg.Ticket; t != "" && !seen[t] {
				seen[t] = true
				rep.Tickets = append(rep.Tickets, t)
			}
		}
		d.Log.Error().Int("given_up", o.GaveUpN).Time("since", o.Since).Strs("tickets", rep.Tickets).
			Msg("outbox: messages were given up (repairbot outbox list shows them, requeue sends them again)")
		er, ok := d.Engine.(OutageReporter)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := er.ReportUndelivered(ctx, rep); err != nil {
			d.Log.Error().Err(err).Msg("outbox: could not tell the admins about the messages given up")
		}
	}
}

// StatsReporter is a channel whose sender counts its deliveries (ops
// exports them as metrics).
type StatsReporter interface {
	SendStats() SendStats
}

// ReceiveStats are a channel's receive counters since the process started.
type ReceiveStats struct {
	Received int64 // updates that arrived (polled or posted)
	Handled  int64 // updates handled (committed; duplicates included)
	// OffsetResets counts the times the stored position in the platform's
	// stream was found ahead of the platform's ids and moved back.
	OffsetResets int64
}

// ReceiveReporter is a channel that counts what it receives (ops exports
// the counters as metrics).
type ReceiveReporter interface {
	ReceiveStats() ReceiveStats
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
