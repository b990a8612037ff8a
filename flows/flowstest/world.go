// Package flowstest drives a real engine on a real store with a pinned
// clock: the harness for flows tests and for tests of anything built on
// the engine. It runs on any store implementation: bbolt in a temporary
// directory by default (Open), another through WithStore or by setting
// Open in a TestMain.
package flowstest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/storetest"
)

// Group is the technicians' group address in a World.
var Group = flows.Address{Channel: "tg", Chat: "-100200"}

// Store is what a World needs of the store it runs on: the transactions
// and the outbox a perfect sender drains.
type Store interface {
	flows.Store
	storetest.Queue
}

// Open opens the store every World runs on unless WithStore says
// otherwise: OpenBolt by default. It is the contract suite's constructor
// type, so one function serves store/storetest and the flows suite. To
// run the flows tests on another store, set it in the package's TestMain:
//
//	func TestMain(m *testing.M) {
//		if dsn := os.Getenv("REPAIRBOT_TEST_POSTGRES"); dsn != "" {
//			flowstest.Open = postgrestest.Opener(dsn)
//		}
//		os.Exit(m.Run())
//	}
var Open storetest.Open = OpenBolt

// OpenBolt opens a fresh bbolt store in a temporary directory, closed
// when the test ends. Without fsync: these tests restart cleanly (Close),
// never crash, and fsync would only make them slow; crash safety is
// tested in store and bot/telegram.
func OpenBolt(tb testing.TB, now func() time.Time) storetest.Opened {
	tb.Helper()
	return openBolt(tb, filepath.Join(tb.TempDir(), "repair.db"), now)
}

func openBolt(tb testing.TB, path string, now func() time.Time) storetest.Opened {
	tb.Helper()
	st, err := store.Open(path, store.Options{Now: now, NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return storetest.Opened{Store: st, Queue: st, Reopen: func(tb testing.TB) storetest.Opened {
		if err := st.Close(); err != nil {
			tb.Fatal(err)
		}
		return openBolt(tb, path, now)
	}}
}

// Options is the engine configuration of every flows test world: the
// zh-CN catalog, Shanghai time, admin tg:1, the group Group, the default
// categories and SOP, one emergency type, and the SLA, working hours and
// governance the flows tests are written against, on st with the clock
// now. Nobody is on duty and /sop reload reads the built-in SOP; a World
// wires both to its Roster and SOPFile. A rig that needs another world
// (a channel's group, its invite links) changes fields of the result.
func Options(tb testing.TB, st flows.Store, now func() time.Time) flows.Options {
	tb.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	return flows.Options{
		Store: st, Texts: i18n.MustLoad(flows.LangZH), Now: now,
		Location: loc, Group: Group, Admins: map[string]bool{"tg:1": true},
		Categories: DefaultCategories, InviteLink: func(_, code string) string { return "https://t.me/test_bot?start=" + code },
		OrgName: "测试物业", OrgNameEN: "Test Property", MaxPhotos: 3, SOP: sop.Default(), ServicePhone: "400-800-1234",
		Emergencies: []flows.EmergencyType{{Key: "water_leak", Category: "water",
			Labels:       map[flows.Lang]string{flows.LangZH: "跑水/爆管", flows.LangEN: "Water leak / burst pipe"},
			AcceptWithin: 2 * time.Minute, ArriveWithin: 5 * time.Minute, ManagerAfter: 10 * time.Minute}},
		SLA: flows.SLAOptions{AcceptWithin: 15 * time.Minute, ArriveWithin: 2 * time.Hour, AgreedGrace: 15 * time.Minute,
			RemindBefore: 30 * time.Minute, WaitingChase: 24 * time.Hour, WaitingCloseAfter: 72 * time.Hour, LateAfter: time.Minute},
		Governance: flows.GovernanceOptions{Quiz: true, AuditCount: 3, SafetyTypes: []string{"safety", "gas", "fire"},
			LoadSOP: func() (*flows.SOP, error) { return sop.Default(), nil }},
		Work: flows.WorkOptions{Days: map[time.Weekday]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true,
			time.Thursday: true, time.Friday: true, time.Saturday: true}, Start: 8*60 + 30, End: 17*60 + 30, HandoverBefore: 30 * time.Minute},
	}
}

// World is an engine, its store and a clock.
type World struct {
	TB  testing.TB
	Eng *flows.Engine
	// Store is the store the engine runs on, whichever implementation.
	Store Store
	Now   time.Time
	Opts  flows.Options
	seq   int
	// opened is the store as its constructor returned it.
	opened storetest.Opened
	// Roster returns who is on duty; tests replace it (nobody by default).
	Roster func(time.Time) []string
	// SOPFile is what /sop reload reads; the built-in SOP by default.
	SOPFile func() (*flows.SOP, error)
}

// DefaultCategories mirror the config defaults.
var DefaultCategories = []flows.Category{
	{Key: "water", Labels: map[flows.Lang]string{flows.LangZH: "水管/漏水", flows.LangEN: "Water / leak"}},
	{Key: "electricity", Labels: map[flows.Lang]string{flows.LangZH: "电路/停电", flows.LangEN: "Electricity"}},
	{Key: "door", Labels: map[flows.Lang]string{flows.LangZH: "门窗/门锁", flows.LangEN: "Door / lock"}},
	{Key: "other", Labels: map[flows.Lang]string{flows.LangZH: "其他", flows.LangEN: "Other"}},
}

// An Option changes how New builds a World.
type Option func(*config)

type config struct{ open storetest.Open }

// WithStore runs the World on the store open returns instead of Open's.
func WithStore(open storetest.Open) Option { return func(c *config) { c.open = open } }

// New builds a world at 2026-11-27 10:00 Shanghai time with admin tg:1.
func New(tb testing.TB, opts ...Option) *World {
	tb.Helper()
	c := config{open: Open}
	for _, opt := range opts {
		opt(&c)
	}
	w := &World{TB: tb, Now: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}
	w.Roster = func(time.Time) []string { return nil }
	w.SOPFile = func() (*flows.SOP, error) { return sop.Default(), nil }
	w.start(c.open(tb, func() time.Time { return w.Now }))
	return w
}

// start builds the engine on a freshly opened store.
func (w *World) start(o storetest.Opened) {
	w.TB.Helper()
	if o.Store == nil || o.Queue == nil {
		w.TB.Fatal("flowstest: the store constructor must return a Store and its Queue")
	}
	w.opened = o
	w.Store = struct {
		flows.Store
		storetest.Queue
	}{o.Store, o.Queue}
	w.Opts = Options(w.TB, w.Store, func() time.Time { return w.Now })
	w.Opts.OnDuty = func(t time.Time) []string { return w.Roster(t) }
	w.Opts.Governance.LoadSOP = func() (*flows.SOP, error) { return w.SOPFile() }
	eng, err := flows.NewEngine(w.Opts)
	if err != nil {
		w.TB.Fatal(err)
	}
	if _, _, err := eng.InstallSOP(context.Background(), w.Opts.SOP, "system"); err != nil {
		w.TB.Fatal(err)
	}
	w.Eng = eng
}

// Reopen closes and reopens the store, as a restart would, and builds a
// new engine on it.
func (w *World) Reopen() {
	w.TB.Helper()
	if w.opened.Reopen == nil {
		w.TB.Fatal("flowstest: this store cannot be reopened")
	}
	w.start(w.opened.Reopen(w.TB))
}

// Bolt returns the bbolt store under the World, for tests of packages
// that still take *store.Store (jobs, a channel); it skips the test when
// the World runs on another implementation.
func (w *World) Bolt() *store.Store {
	w.TB.Helper()
	st, ok := w.opened.Store.(*store.Store)
	if !ok {
		w.TB.Skipf("flowstest: this test needs the bbolt store, the World runs on %T", w.opened.Store)
	}
	return st
}

// Person is a test identity.
type Person struct {
	ID   int64
	Name string
	Lang string
}

// PID is the flows person id.
func (p Person) PID() string { return fmt.Sprintf("tg:%d", p.ID) }

// Chat is the private chat address.
func (p Person) Chat() flows.Address { return flows.Address{Channel: "tg", Chat: fmt.Sprint(p.ID)} }

func (w *World) event(p Person, kind flows.EventKind) flows.Event {
	w.seq++
	lang := p.Lang
	if lang == "" {
		lang = "zh-hans"
	}
	return flows.Event{Key: fmt.Sprintf("test:%d", w.seq), Kind: kind, At: w.Now,
		From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: lang}, Chat: p.Chat()}
}

// Do handles an event and fails the test on an internal error.
func (w *World) Do(ev flows.Event) flows.Result {
	w.TB.Helper()
	res, err := w.Eng.Handle(context.Background(), ev)
	if err != nil {
		w.TB.Fatalf("handle %+v: %v", ev, err)
	}
	return res
}

// Text sends a private text message.
func (w *World) Text(p Person, text string) flows.Result {
	ev := w.event(p, flows.EvText)
	ev.Text = text
	return w.Do(ev)
}

// Cmd sends a command ("report", "open"...) with arguments.
func (w *World) Cmd(p Person, name, args string) flows.Result {
	ev := w.event(p, flows.EvCommand)
	ev.Command, ev.Text = name, args
	return w.Do(ev)
}

// Tap presses a button with that payload (from a private chat, or the group when inGroup).
func (w *World) Tap(p Person, data string, inGroup bool) flows.Result {
	ev := w.event(p, flows.EvCallback)
	ev.Data = data
	if inGroup {
		ev.Chat, ev.InGroup = Group, true
	}
	return w.Do(ev)
}

// Contact shares a phone number.
func (w *World) Contact(p Person, phone string, own bool) flows.Result {
	ev := w.event(p, flows.EvContact)
	ev.Phone, ev.ContactIsOwn = phone, own
	return w.Do(ev)
}

// Photo sends a photo with a caption.
func (w *World) Photo(p Person, fileID, caption string, size int64) flows.Result {
	ev := w.event(p, flows.EvPhoto)
	ev.Photo = &flows.Photo{FileID: fileID, Size: size}
	ev.Text = caption
	return w.Do(ev)
}

// Unsupported sends something the bot cannot take (a sticker...).
func (w *World) Unsupported(p Person, what string) flows.Result {
	ev := w.event(p, flows.EvUnsupported)
	ev.What = what
	return w.Do(ev)
}

// Drain returns the pending outbox messages and marks them delivered (with
// fake platform ids), like a perfect sender.
func (w *World) Drain() []flows.Message {
	w.TB.Helper()
	rows, err := w.Store.Pending(0)
	if err != nil {
		w.TB.Fatal(err)
	}
	var out []flows.Message
	for _, r := range rows {
		out = append(out, r.Msg)
		if err := w.Store.MarkDelivered(r.ID, fmt.Sprint(r.ID), w.Now); err != nil {
			w.TB.Fatal(err)
		}
	}
	return out
}

// To filters messages by recipient.
func To(msgs []flows.Message, a flows.Address) []flows.Message {
	var out []flows.Message
	for _, m := range msgs {
		if m.To == a {
			out = append(out, m)
		}
	}
	return out
}

// Last returns the last message to a, failing if none. The retirement of
// a card (Message.Retire) is not one: it only takes old buttons away.
func (w *World) Last(msgs []flows.Message, a flows.Address) flows.Message {
	w.TB.Helper()
	var got []flows.Message
	for _, m := range To(msgs, a) {
		if !m.Retire {
			got = append(got, m)
		}
	}
	if len(got) == 0 {
		w.TB.Fatalf("no message to %v in %d messages", a, len(msgs))
	}
	return got[len(got)-1]
}

// ButtonData finds the payload of the button whose text contains label.
func (w *World) ButtonData(m flows.Message, label string) string {
	w.TB.Helper()
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				return b.Data
			}
		}
	}
	w.TB.Fatalf("no button %q in %q (%v)", label, m.Text, m.Buttons)
	return ""
}

// Ticket reads a ticket.
func (w *World) Ticket(id string) *flows.Ticket {
	w.TB.Helper()
	var t *flows.Ticket
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		t, err = tx.Ticket(id)
		return err
	})
	if err != nil {
		w.TB.Fatal(err)
	}
	return t
}

// Register runs the resident registration dialogue to the end.
func (w *World) Register(p Person, phone string) {
	w.TB.Helper()
	w.Cmd(p, "start", "")
	w.Text(p, p.Name)
	w.Contact(p, phone, true)
	w.Text(p, "3栋")
	w.Text(p, "2单元")
	w.Text(p, "1502")
	w.Drain()
}

// Staff joins p with an invite from the admin (tg:1).
func (w *World) Staff(p Person, role string) {
	w.TB.Helper()
	admin := Person{ID: 1, Name: "Admin"}
	w.Cmd(admin, "invite", role)
	msgs := w.Drain()
	m := w.Last(msgs, admin.Chat())
	i := strings.Index(m.Text, "start=")
	if i < 0 {
		w.TB.Fatalf("no invite link in %q", m.Text)
	}
	code := strings.Fields(m.Text[i+len("start="):])[0]
	w.Cmd(p, "start", code)
	w.Drain()
}

// Report files a ticket (first category, household, ASAP) and returns its
// id; it taps buttons by position, so it works in every language.
func (w *World) Report(p Person, desc string) string {
	w.TB.Helper()
	first := func() string {
		m := w.Last(w.Drain(), p.Chat())
		if len(m.Buttons) == 0 {
			w.TB.Fatalf("no buttons in %q", m.Text)
		}
		return m.Buttons[0][0].Data
	}
	w.Cmd(p, "report", "")
	w.Tap(p, first(), false)
	w.Text(p, desc)
	w.Tap(p, first(), false) // no more photos
	w.Tap(p, first(), false) // household
	w.Tap(p, first(), false) // as soon as possible
	m := w.Last(w.Drain(), p.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		w.TB.Fatalf("no ticket number in %q", m.Text)
	}
	return m.Text[i : i+len("BX-20261127-0001")]
}

// Step taps a checklist button of the ticket's current step.
func (w *World) Step(tech Person, id string, op ...string) flows.Result {
	w.TB.Helper()
	t := w.Ticket(id)
	return w.Tap(tech, flows.EncodePayload("st", append([]string{id, t.Step}, op...)...), false)
}

// Expect fails unless the result was accepted (no alert toast).
func (w *World) Expect(res flows.Result) {
	w.TB.Helper()
	if res.Alert {
		w.TB.Fatalf("refused: %s", res.Toast)
	}
}

// Refused fails unless the result was refused with an answer containing want.
func (w *World) Refused(res flows.Result, want string) {
	w.TB.Helper()
	if !res.Alert || !strings.Contains(res.Toast, want) {
		w.TB.Fatalf("want a refusal containing %q, got %+v", want, res)
	}
}

// StepKind returns the kind of the ticket's current step.
func (w *World) StepKind(id string) flows.StepKind {
	t := w.Ticket(id)
	for _, st := range w.Opts.SOP.Steps {
		if st.ID == t.Step {
			return st.Kind
		}
	}
	return ""
}

// WalkToSignoff takes an accepted ticket from arrival to the sign-off
// request, doing every step the SOP requires (one quote item on household
// orders), and returns with the resident's sign-off card pending.
func (w *World) WalkToSignoff(tech, res Person, id string) {
	w.TB.Helper()
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	for i := 0; i < 30; i++ {
		switch w.StepKind(id) {
		case flows.StepDoor:
			w.Expect(w.Step(tech, id, "ring"))
			w.Expect(w.Step(tech, id, "answered"))
		case flows.StepEntry:
			w.Expect(w.Tap(res, flows.EncodePayload("ent", id), false))
		case flows.StepSurvey:
			w.Text(tech, "角阀老化漏水，更换角阀")
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepQuote:
			w.Expect(w.Step(tech, id, "qty", "W02", "1"))
			w.Expect(w.Step(tech, id, "send"))
			q := w.Ticket(id).Visit.Quote
			w.Expect(w.Tap(res, flows.EncodePayload("qa", id, fmt.Sprint(q.Seq)), false))
		case flows.StepPhoto:
			w.Photo(tech, "EVIDENCE-"+w.Ticket(id).Step, "", 50_000)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepWork:
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepTests:
			for j := 0; j < w.Opts.SOP.MinTests; j++ {
				w.Expect(w.Step(tech, id, "pass"))
			}
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepCare:
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepSignoff:
			w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
			w.Drain()
			return
		default:
			w.TB.Fatalf("ticket %s at unknown step %q (state %s)", id, w.Ticket(id).Step, w.Ticket(id).State)
		}
	}
	w.TB.Fatalf("ticket %s never reached the sign-off", id)
}

// Tick advances the clock to now and fires due timers, returning how many fired.
func (w *World) Tick() int {
	w.TB.Helper()
	n, err := w.Eng.Tick(context.Background())
	if err != nil {
		w.TB.Fatal(err)
	}
	return n
}

// Events lists a ticket's audit-trail actions with notes, "action:note".
func (w *World) Events(id string) []string {
	w.TB.Helper()
	var out []string
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		evs, err := tx.TicketEvents(id)
		for _, e := range evs {
			out = append(out, e.Action+":"+e.Note)
		}
		return err
	})
	if err != nil {
		w.TB.Fatal(err)
	}
	return out
}
