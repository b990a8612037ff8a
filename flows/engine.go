package flows

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Texts renders catalog strings. kv are name/value pairs that fill {name}
// placeholders. The i18n package implements it.
type Texts interface {
	T(lang Lang, key string, kv ...any) string
}

// Category is a fault category offered to residents as a button.
type Category struct {
	Key    string
	Labels map[Lang]string
	// Emergency makes every report in this category that emergency type.
	Emergency string
}

// Options configure an Engine. Zero values get safe defaults in NewEngine.
type Options struct {
	Store    Store
	Texts    Texts
	Now      func() time.Time
	Location *time.Location
	// DefaultLang is used when a person's platform language has no catalog.
	DefaultLang Lang
	// Profile is "property" or "rental"; it picks role titles in the catalog.
	Profile      string
	TicketPrefix string
	// Group is the technicians' group, where dispatch cards go.
	Group Address
	// Admins are person ids ("tg:123") with the admin role by configuration.
	Admins         map[string]bool
	Categories     []Category
	MaxDescription int
	MaxPhotos      int
	MaxNameLen     int
	MaxAddressPart int
	MaxPhotoBytes  int64
	InviteTTL      time.Duration
	// InviteLink turns an invite code into a link for the channel of the
	// person who asked for it (Telegram: https://t.me/<bot>?start=<code>).
	InviteLink func(channel, code string) string
	// Console configures the office console's login links (console.go);
	// without a ConsoleLink, /console answers that there is no console.
	Console      ConsoleOptions
	ServicePhone string
	// PublicAssets are the listed public facilities a public-facility
	// report can name (lifts, gates, pumps...), besides a typed place.
	PublicAssets []PublicAsset
	// PublicSignoff is who signs a public work order off: SignoffReporter
	// (default) or SignoffLead.
	PublicSignoff string
	// OrgName greets new residents; OrgNameEN, when set, is the name
	// English readers see.
	OrgName   string
	OrgNameEN string
	// SOP is the on-site procedure (package sop loads it); required.
	SOP *SOP
	// Emergencies are the emergency plan's types, offered when reporting.
	Emergencies []EmergencyType
	// OnDuty lists person ids on duty at a time from outside the bot (an
	// external roster; tests), besides the weekly pattern kept in the store.
	OnDuty func(time.Time) []string
	// DutySeed is the weekly duty pattern the store starts with (the
	// configuration's [[duty]]): stored once, at the first tick, and from
	// then on edited in chat (/duty).
	DutySeed []RosterShift
	// Quals are the qualification rules (技术人员资质): skill levels, the
	// certificate types and what each category and emergency type needs.
	// Zero value: the default levels, a skill per category, no certificate
	// types, nothing needed.
	Quals QualRules
	// SweepAt is the time of the daily certificate sweep (reminders,
	// lapses), in minutes after local midnight.
	SweepAt    int
	SLA        SLAOptions
	Work       WorkOptions
	Governance GovernanceOptions
	// Records configure the weekly report, repeats, QC and callbacks.
	Records RecordsOptions
	// Parts configure the spare-parts area in chat (parts_chat.go).
	Parts PartsOptions
	// Observe, when set, receives each event's kind and handling time
	// (the transaction included), for a latency histogram.
	Observe func(kind EventKind, d time.Duration)
	// GroupCommit commits concurrent events together (one fsync for many);
	// channels that handle events concurrently gain throughput from it.
	GroupCommit bool
	// Rand feeds invite codes; crypto/rand when nil.
	Rand io.Reader
	// Areas are the estates or districts served (areas.go), the first the
	// default; none is one area made of Group and ServicePhone.
	Areas []Area
	// PosterKey signs the codes of the buildings' QR posters (posters.go);
	// empty: no posters.
	PosterKey []byte
}

// Engine is the domain: it turns events into state changes and messages.
// It is safe for concurrent use; the store serialises writers.
type Engine struct {
	o    Options
	cats map[string]Category
	// sop is the procedure in force; /sop reload swaps it while running.
	sop atomic.Pointer[SOP]
	// sopNum is its version number under governance (0 before InstallSOP).
	sopNum atomic.Int64
	stats  EngineStats
	// menusChecked: a tick has given every staff member their menu.
	menusChecked atomic.Bool
	// watchers are told of every commit (Subscribe).
	watchMu  sync.Mutex
	watchers map[chan struct{}]struct{}
	// areas are the estates served (areas.go): the configuration's
	// (areaSeed) with the admins' stored edits (areas_edit.go), swapped
	// whole after an edit commits.
	areas    atomic.Pointer[areaSet]
	areaSeed areaSet
}

// EngineStats count what the engine did since start, for metrics. They
// are approximate across rolled-back transactions (a retried event may
// count twice); the store holds the truth.
type EngineStats struct {
	Events, Duplicates, Mistakes, Failures, Breaches, Timers atomic.Int64
	// LastCommit is when an event last committed (unix ns, the engine's
	// clock; duplicates and mistakes included); FailingSince when the
	// events began failing that none has committed since (0: the last one
	// committed). Health checks read them: a store that takes a tiny write
	// can still refuse every real one (a full disk).
	LastCommit, FailingSince atomic.Int64
}

// Stats returns the live counters.
func (e *Engine) Stats() *EngineStats { return &e.stats }

// NewEngine checks options and fills defaults.
func NewEngine(o Options) (*Engine, error) {
	if o.Store == nil || o.Texts == nil {
		return nil, errors.New("flows: Store and Texts are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.DefaultLang == "" {
		o.DefaultLang = LangZH
	}
	if o.Profile == "" {
		o.Profile = "property"
	}
	if o.TicketPrefix == "" {
		o.TicketPrefix = "BX"
	}
	if o.MaxDescription <= 0 {
		o.MaxDescription = 1000
	}
	if o.MaxPhotos < 0 {
		o.MaxPhotos = 0
	}
	if o.MaxNameLen <= 0 {
		o.MaxNameLen = 40
	}
	if o.MaxAddressPart <= 0 {
		o.MaxAddressPart = defaultMaxAddressPart
	}
	if o.MaxPhotoBytes <= 0 {
		o.MaxPhotoBytes = 10 << 20
	}
	if o.InviteTTL <= 0 {
		o.InviteTTL = 72 * time.Hour
	}
	if o.InviteLink == nil {
		o.InviteLink = func(_, code string) string { return "/start " + code }
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	o.Console.defaults()
	if len(o.Categories) == 0 {
		return nil, errors.New("flows: at least one category is required")
	}
	switch o.PublicSignoff {
	case "":
		o.PublicSignoff = SignoffReporter
	case SignoffReporter, SignoffLead:
	default:
		return nil, fmt.Errorf("flows: PublicSignoff %q is neither %q nor %q", o.PublicSignoff, SignoffReporter, SignoffLead)
	}
	o.Governance.defaults()
	if err := o.Quals.defaults(o.Categories); err != nil {
		return nil, err
	}
	if o.SweepAt < 0 || o.SweepAt >= 24*60 {
		return nil, errors.New("flows: SweepAt must be a time of day in minutes (0..1439)")
	}
	if o.SOP == nil {
		return nil, errors.New("flows: an SOP definition is required")
	}
	if err := o.SOP.Validate(); err != nil {
		return nil, err
	}
	areas, err := buildAreas(&o)
	if err != nil {
		return nil, err
	}
	e := &Engine{o: o, cats: map[string]Category{}, areaSeed: areas}
	e.areas.Store(&areas)
	e.sop.Store(o.SOP)
	for _, c := range o.Categories {
		e.cats[c.Key] = c
	}
	return e, nil
}

// errUserMistake rolls back a transaction whose handler found a user
// mistake after it had started writing; the answer goes out in a second,
// clean transaction with only the dedupe mark and the reply.
var errUserMistake = errors.New("flows: user mistake")

// SOP is the procedure the engine runs.
func (e *Engine) SOP() *SOP { return e.sop.Load() }

// Handle processes one event in one store transaction: dedupe mark, cursor,
// state change and outgoing messages commit together or not at all. A
// returned error is internal (store failure); user mistakes become replies.
func (e *Engine) Handle(ctx context.Context, ev Event) (res Result, err error) {
	start := time.Now()
	defer func() {
		now := e.o.Now().UnixNano()
		switch {
		case err != nil:
			e.stats.Failures.Add(1)
			e.stats.FailingSince.CompareAndSwap(0, now)
		case res.Duplicate:
			e.stats.Duplicates.Add(1)
		default:
			e.stats.Events.Add(1)
		}
		if err == nil {
			e.stats.LastCommit.Store(now)
			e.stats.FailingSince.Store(0)
		}
		if e.o.Observe != nil {
			e.o.Observe(ev.Kind, time.Since(start))
		}
	}()
	if ev.At.IsZero() {
		ev.At = e.o.Now()
	}
	if !ev.Chat.IsZero() {
		ctx = WithSerialKey(ctx, ev.Chat.String())
	}
	ctx = WithFirstReads(ctx, FirstReads{Seen: ev.Key, Sender: ev.From.ID})
	ahead := e.readAhead(ctx, ev)
	var mistake *Error
	var areasEdited bool
	write := e.o.Store.Update
	if e.o.GroupCommit {
		write = e.o.Store.Batch
	}
	err = write(ctx, func(tx Tx) error {
		res, mistake, areasEdited = Result{}, nil, false // the function may run again (bbolt Batch)
		dup, err := e.prepare(tx, ev)
		if err != nil || dup {
			res.Duplicate = dup
			return err
		}
		c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC(), ahead: ahead}
		err = c.safeRun()
		if errors.As(err, &mistake) {
			return errUserMistake
		}
		if err != nil {
			return err
		}
		res.Toast, res.Alert, res.Ticket = c.toast, c.alert, c.created
		areasEdited = c.areasEdited
		return c.flush()
	})
	if err == nil && areasEdited {
		err = e.reloadAreas(ctx)
	}
	if err == nil && !res.Duplicate && ev.Kind != EvNone {
		e.changed()
	}
	if errors.Is(err, errUserMistake) {
		e.stats.Mistakes.Add(1)
		err = write(ctx, func(tx Tx) error {
			res = Result{}
			if dup, err := e.prepare(tx, ev); err != nil || dup {
				return err
			}
			c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC()}
			if err := c.identify(); err != nil {
				return err
			}
			c.fail(mistake)
			res.Toast, res.Alert, res.Refused = c.toast, c.alert, mistake.Code
			return c.flush()
		})
	}
	return res, err
}

// Subscribe returns a channel that receives a signal after an event or a
// tick committed a change (several commits may share one signal; it never
// blocks the engine), and a function that stops it. The office console
// refreshes its live board on it.
func (e *Engine) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	e.watchMu.Lock()
	if e.watchers == nil {
		e.watchers = map[chan struct{}]struct{}{}
	}
	e.watchers[ch] = struct{}{}
	e.watchMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			e.watchMu.Lock()
			delete(e.watchers, ch)
			e.watchMu.Unlock()
		})
	}
}

// Changed tells the subscribers that something changed elsewhere: another
// process sharing the database committed (store/postgres replicas).
func (e *Engine) Changed() { e.changed() }

// changed signals every subscriber without waiting for any.
func (e *Engine) changed() {
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	for ch := range e.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// SetCursor stores a channel cursor on its own (after a batch of events
// committed without one; their dedupe marks make a replay harmless).
func (e *Engine) SetCursor(ctx context.Context, name, value string) error {
	return e.o.Store.Update(ctx, func(tx Tx) error { return tx.SetCursor(name, value) })
}

// prepare advances the channel cursor and marks the event seen; dup is true
// when it was seen before (a redelivery), in which case nothing else happens.
func (e *Engine) prepare(tx Tx, ev Event) (dup bool, err error) {
	if ev.Cursor != nil {
		if err := tx.SetCursor(ev.Cursor.Name, ev.Cursor.Value); err != nil {
			return false, err
		}
	}
	if ev.Key == "" {
		return false, nil
	}
	seen, err := tx.Seen(ev.Key)
	if err != nil || seen {
		return seen, err
	}
	return false, tx.MarkSeen(ev.Key, ev.At)
}

// call is the working state of one event.
type call struct {
	e     *Engine
	tx    Tx
	ev    Event
	now   time.Time
	me    *Person // the sender's profile, nil for strangers
	lang  Lang
	out   []Message
	dirty []*Ticket // tickets whose card fingerprint changed after they were saved
	toast string
	alert bool
	// ahead is what readAhead computed for this event before the write
	// transaction (nil when nothing was), e.g. a month's report.
	ahead any
	// created is the ticket a console action created (Result.Ticket).
	created string
	// areasEdited: an admin changed an area; the engine reloads its areas
	// once the transaction has committed (areas_edit.go).
	areasEdited bool
}

func (c *call) t(key string, kv ...any) string { return c.e.o.Texts.T(c.lang, key, kv...) }

// tl renders a key in another person's language.
func (c *call) tl(lang Lang, key string, kv ...any) string { return c.e.o.Texts.T(lang, key, kv...) }

// send queues a message.
func (c *call) send(m Message) {
	if m.Kind == "" {
		m.Kind = KindSend
	}
	c.out = append(c.out, m)
}

// reply answers the sender in their private chat; a console action is
// answered in its Result instead (the console shows it), never in chat.
func (c *call) reply(text string, buttons ...[]Button) {
	if c.ev.Kind == EvConsole {
		c.toast = text
		return
	}
	c.send(Message{To: c.replyTo(), Text: text, Buttons: buttons, Priority: PrioNormal})
}

func (c *call) replyTo() Address {
	if c.ev.InGroup {
		return c.ev.Chat
	}
	return c.ev.From.Chat
}

// fail turns a user-safe error into the one answer the user sees: a toast
// for a button, a message otherwise.
func (c *call) fail(fe *Error) {
	text := c.t(fe.Key, fe.Args...)
	if c.ev.Kind == EvCallback || c.ev.Kind == EvConsole {
		c.toast, c.alert = text, true
		return
	}
	c.reply(text)
}

// langFor picks a catalog language from a platform language code.
func (e *Engine) langFor(code string) Lang {
	code = strings.ToLower(code)
	switch {
	case strings.HasPrefix(code, "zh"):
		return LangZH
	case strings.HasPrefix(code, "en"):
		return LangEN
	}
	return e.o.DefaultLang
}

// safeRun runs the handler and turns a panic (a bug) into an internal
// error: the transaction rolls back, the channel retries or parks the
// update, and the process keeps serving everyone else.
func (c *call) safeRun() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("flows: panic handling %s event: %v", c.ev.Kind, r)
		}
	}()
	return c.run()
}

// flush writes the queued messages to the outbox.
func (c *call) flush() error {
	for _, t := range c.dirty {
		if err := c.tx.PutTicket(t); err != nil {
			return err
		}
	}
	if len(c.out) == 0 {
		return nil
	}
	return c.tx.Enqueue(c.out...)
}

// identify loads the sender's profile and picks their language.
func (c *call) identify() error {
	me, err := c.tx.Person(c.ev.From.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if errors.Is(err, ErrNotFound) {
		me = nil
	}
	c.e.legacyPerson(me)
	c.me = me
	switch {
	case me != nil && me.Lang != "":
		c.lang = me.Lang
	case c.ev.From.LangCode != "":
		c.lang = c.e.langFor(c.ev.From.LangCode)
	default:
		c.lang = c.e.o.DefaultLang
	}
	return nil
}

func (c *call) run() error {
	if c.ev.Kind == EvNone {
		return nil
	}
	if err := c.identify(); err != nil {
		return err
	}
	me := c.me
	if c.e.o.Admins[c.ev.From.ID] && (me == nil || me.Role != RoleAdmin || !me.Registered) {
		if err := c.ensureAdmin(); err != nil {
			return err
		}
	}
	if err := c.ensureAreaLeads(); err != nil {
		return err
	}
	switch c.ev.Kind {
	case EvCommand:
		return c.command()
	case EvCallback:
		return c.callback()
	case EvConsole:
		return c.console()
	default:
		if c.ev.InGroup {
			return nil // people talk in the group; the bot only listens to its buttons and commands there
		}
		return c.input()
	}
}

// ensureAdmin gives a configured admin their profile without an invite.
func (c *call) ensureAdmin() error {
	p := c.me
	if p == nil {
		p = &Person{ID: c.ev.From.ID, Created: c.now, Lang: c.lang}
	}
	p.Role = RoleAdmin
	p.Registered = true
	if p.Name == "" {
		p.Name = cleanText(c.ev.From.Name, c.e.o.MaxNameLen)
	}
	if p.Chat.IsZero() {
		p.Chat = c.ev.From.Chat
	}
	p.Updated = c.now
	c.ensureMenu(p)
	c.me = p
	return c.tx.PutPerson(p)
}

// bump gives a dialogue a fresh prompt number (its buttons carry it, so an
// older prompt's buttons are recognised as stale) and stamps the change.
func (c *call) bump(d *Dialogue) {
	d.Seq++
	d.Updated = c.now
}

func (c *call) mustTicket(id string) (*Ticket, error) {
	t, err := c.tx.Ticket(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "err.no_ticket", "ticket", id)
	}
	c.e.legacyTicket(t)
	return t, err
}

func (c *call) person(id string) (*Person, error) {
	p, err := c.tx.Person(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// event appends to a ticket's audit trail.
func (c *call) event(t *Ticket, action string, from, to State, note string, photos ...Photo) error {
	return c.tx.AppendTicketEvent(t.ID, TicketEvent{At: c.now, Actor: c.ev.From.ID, Action: action, From: from, To: to, Note: note, Photos: photos})
}

// randomCode returns an invite code of 10 characters from an unambiguous alphabet.
func (e *Engine) randomCode() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 10)
	if _, err := io.ReadFull(e.o.Rand, b); err != nil {
		return "", fmt.Errorf("invite code: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}
