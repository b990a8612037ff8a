// Package flowstest drives a real engine on a real store with a pinned
// clock: the harness for flows tests and for tests of anything built on
// the engine. It runs on any store implementation: bbolt in a temporary
// directory by default (Open), another through WithStore or by setting
// Open in a TestMain.
package flowstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/records"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/stockxlsx"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/storetest"
)

// Group is the technicians' group address in a World.
var Group = flows.Address{Channel: "tg", Chat: "-100200"}

// ConsoleURL is where a World's /console links point.
const ConsoleURL = "https://console.test"

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
// categories and SOP, one emergency type, and the SLA (sign-off and survey
// reminded daily, closed after three days), working hours, governance and
// qualification rules (QualRules, nothing needed) the flows tests are
// written against, on st with the clock now. Nobody is on duty and /sop reload reads the built-in SOP; a World
// wires both to its Roster and SOPFile. A rig that needs another world
// (a channel's group, its invite links) changes fields of the result.
func Options(tb testing.TB, st flows.Store, now func() time.Time) flows.Options {
	tb.Helper()
	o := Base(tb, st, now)
	o.Group, o.Admins = Group, map[string]bool{"tg:1": true}
	o.InviteLink = func(_, code string) string { return "https://t.me/test_bot?start=" + code }
	o.OrgName, o.OrgNameEN = "测试物业", "Test Property"
	o.Console = flows.ConsoleOptions{Link: func(token string) (string, bool) { return ConsoleURL + "/login?t=" + token, true }}
	f := Full(tb)
	o.Emergencies, o.SLA, o.Governance, o.Work, o.Records = f.Emergencies, f.SLA, f.Governance, f.Work, f.Records
	o.Quals, o.SweepAt = f.Quals, f.SweepAt
	o.Parts = flows.PartsOptions{ApprovalOver: ApprovalOver, Files: stockxlsx.Files{Texts: o.Texts}}
	return o
}

// ApprovalOver is the requisition limit of a World: ¥500.00, the config default.
const ApprovalOver = 50000

// Base is the engine configuration every test world and channel rig
// starts from: the store, the catalogs, the clock, Shanghai time, the
// default categories and SOP, three photos a step. A rig sets its own
// group, admins, org name and invite links on top; Options adds the
// timers and governance the flows tests exercise.
func Base(tb testing.TB, st flows.Store, now func() time.Time) flows.Options {
	tb.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	return flows.Options{
		Store: st, Texts: i18n.MustLoad(flows.LangZH), Now: now, Location: loc,
		Categories: DefaultCategories, MaxPhotos: 3, SOP: sop.Default(), ServicePhone: "400-800-1234",
	}
}

// Full holds the emergency types, SLA clocks, governance, working hours,
// qualification rules and certificate sweep of Options, for rigs that want
// them on top of Base.
func Full(tb testing.TB) flows.Options {
	tb.Helper()
	return flows.Options{
		Emergencies: []flows.EmergencyType{{Key: "water_leak", Category: "water",
			Labels:       map[flows.Lang]string{flows.LangZH: "跑水/爆管", flows.LangEN: "Water leak / burst pipe"},
			AcceptWithin: 2 * time.Minute, ArriveWithin: 5 * time.Minute, ManagerAfter: 10 * time.Minute}},
		SLA: flows.SLAOptions{AcceptWithin: 15 * time.Minute, ArriveWithin: 2 * time.Hour, AgreedGrace: 15 * time.Minute,
			RemindBefore: 30 * time.Minute, WaitingChase: 24 * time.Hour, WaitingCloseAfter: 72 * time.Hour, LateAfter: time.Minute,
			SignoffRemind: 24 * time.Hour, SignoffCloseAfter: 72 * time.Hour, SurveyRemind: 24 * time.Hour, SurveyCloseAfter: 72 * time.Hour},
		Governance: flows.GovernanceOptions{Quiz: true, AuditCount: 3, SafetyTypes: []string{"safety", "gas", "fire"},
			LoadSOP: func() (*flows.SOP, error) { return sop.Default(), nil }},
		// Repeats as the bot has always found them (30 days); the offer to
		// the earlier technician, QC, callbacks and the weekly report are
		// off unless a test turns them on (WithOptions).
		Records: flows.RecordsOptions{RepeatWithin: 30 * 24 * time.Hour},
		Work: flows.WorkOptions{Days: map[time.Weekday]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true,
			time.Thursday: true, time.Friday: true, time.Saturday: true}, Start: 8*60 + 30, End: 17*60 + 30, HandoverBefore: 30 * time.Minute},
		Quals: QualRules(), SweepAt: 9 * 60,
	}
}

// QualRules are the qualification rules of a test world, as the
// configuration's defaults give them: the default ladder, a skill per
// category, the default certificate types (低压电工作业证 valid 6 years
// with a 复审 every 3, applied for 60 days ahead; the lift card 复审 every
// 4 years, 3 months ahead), and nothing needed by any category. A test
// that needs requirements sets Categories or Emergencies (WithOptions).
func QualRules() flows.QualRules {
	label := func(zh, en string) flows.Label { return flows.Label{flows.LangZH: zh, flows.LangEN: en} }
	op := func(key, zh, en string) flows.CertType {
		return flows.CertType{Key: key, Labels: label(zh, en), Class: flows.ClassSpecialOperation, ValidYears: 6, ReviewYears: 3, ApplyDays: 60, RefresherHours: 8}
	}
	r := flows.QualRules{Levels: flows.DefaultSkillLevels(), ReminderDays: flows.DefaultReminderDays(),
		CertTypes: []flows.CertType{
			op("elec_low_voltage", "低压电工作业证", "low-voltage electrician certificate"),
			{Key: "lift", Labels: label("特种设备作业人员证（电梯）", "special equipment operator certificate (lift)"), Class: flows.ClassSpecialEquipment, ReviewYears: 4, ApplyMonths: 3},
			op("hot_work", "焊接与热切割作业证", "welding and thermal cutting certificate"),
		}}
	for _, c := range DefaultCategories {
		r.Skills = append(r.Skills, flows.SkillDef{Key: c.Key, Labels: flows.Label(c.Labels)})
	}
	return r
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
	// adjust changes the engine's options at every start (WithOptions).
	adjust []func(*flows.Options)
	// Media keeps the files people send (File), as a channel's media
	// store does; the engine reads them through Opts.Parts.OpenFile.
	Media *media.Store
	// OnDrain, when set, sees every batch Drain hands out (the messages
	// of a helper that drains for itself, such as WalkToSignoff).
	OnDrain func([]flows.Message)
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

type config struct {
	open   storetest.Open
	adjust []func(*flows.Options)
}

// WithStore runs the World on the store open returns instead of Open's.
func WithStore(open storetest.Open) Option { return func(c *config) { c.open = open } }

// WithOptions changes the engine's options before it is built, at the
// start and after every Reopen (qualification requirements, a roster
// seed...).
func WithOptions(fn func(*flows.Options)) Option {
	return func(c *config) { c.adjust = append(c.adjust, fn) }
}

// New builds a world at 2026-11-27 10:00 Shanghai time with admin tg:1.
func New(tb testing.TB, opts ...Option) *World {
	tb.Helper()
	c := config{open: Open}
	for _, opt := range opts {
		opt(&c)
	}
	w := &World{TB: tb, Now: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), adjust: c.adjust}
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
	if w.Media == nil {
		w.Media = &media.Store{Dir: filepath.Join(w.TB.TempDir(), "media"), Max: 10 << 20}
	}
	w.Opts.Parts.OpenFile = func(f flows.File) (io.ReadCloser, error) { return w.Media.Open(f.Local) }
	w.Opts.Governance.LoadSOP = func() (*flows.SOP, error) { return w.SOPFile() }
	for _, fn := range w.adjust {
		fn(&w.Opts)
	}
	eng, err := flows.NewEngine(w.Opts)
	if err != nil {
		w.TB.Fatal(err)
	}
	// As main does: a file lacking the console's changes leaves them in force.
	var lacks *flows.SOPFileLacks
	if _, _, err := eng.InstallSOP(context.Background(), w.Opts.SOP, "system"); err != nil && !errors.As(err, &lacks) {
		w.TB.Fatal(err)
	}
	if err := eng.LoadAreas(context.Background()); err != nil {
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

// Console takes an office-console action as p: the EvConsole event
// bot/web sends (no chat: the answer is the Result).
func (w *World) Console(p Person, action, ticket string, args map[string]string) flows.Result {
	ev := w.event(p, flows.EvConsole)
	ev.Key = "web:" + ev.Key
	ev.Chat = flows.Address{}
	ev.Console = &flows.ConsoleRequest{Action: action, Ticket: ticket, Args: args}
	return w.Do(ev)
}

// ConsolePhoto is Console with a photo the console kept (an uploaded
// paper work order), as bot/web sends it.
func (w *World) ConsolePhoto(p Person, action, ticket string, args map[string]string, photo *flows.Photo) flows.Result {
	ev := w.event(p, flows.EvConsole)
	ev.Key = "web:" + ev.Key
	ev.Chat = flows.Address{}
	ev.Console = &flows.ConsoleRequest{Action: action, Ticket: ticket, Args: args}
	ev.Photo = photo
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

// KeptPhoto sends a photo whose bytes the channel kept in the World's
// media store first, as a channel does for a photo a dialogue waits for.
func (w *World) KeptPhoto(p Person, data []byte) flows.Result {
	w.TB.Helper()
	ev := w.event(p, flows.EvPhoto)
	ev.Photo = &flows.Photo{FileID: "photo-" + ev.Key, Size: int64(len(data))}
	if err := w.Media.Keep(&ev, bytes.NewReader(data)); err != nil {
		w.TB.Fatal(err)
	}
	return w.Do(ev)
}

// File sends a document (an .xlsx workbook) that the channel kept in the
// World's media store, as a channel does before handling it.
func (w *World) File(p Person, name string, data []byte) flows.Result {
	w.TB.Helper()
	ev := w.event(p, flows.EvFile)
	ev.What = "file"
	ev.File = &flows.File{FileID: "doc-" + ev.Key, Name: name, Size: int64(len(data))}
	if err := w.Media.KeepFile(&ev, bytes.NewReader(data)); err != nil {
		w.TB.Fatal(err)
	}
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
		checkButtons(w.TB, r.Msg)
		out = append(out, r.Msg)
		if err := w.Store.MarkDelivered(r.ID, fmt.Sprint(r.ID), w.Now); err != nil {
			w.TB.Fatal(err)
		}
	}
	if w.OnDrain != nil {
		w.OnDrain(out)
	}
	return out
}

// checkButtons fails the test when the engine sent a button whose payload
// it would itself refuse as unknown (flows.ValidPayload): the routing
// tables' argument formats must describe every button the bot builds.
func checkButtons(tb testing.TB, m flows.Message) {
	tb.Helper()
	if m.Kind == flows.KindMenu {
		return // a command menu's entries are command names, not payloads
	}
	for _, row := range m.Buttons {
		for _, b := range row {
			if !flows.ValidPayload(b.Data) {
				tb.Fatalf("the engine sent a button it refuses: %q (%q) in %q", b.Data, b.Text, m.Text)
			}
		}
	}
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

// LastText returns the last text message (a send or an edit, not a photo
// or a file) to a, failing if none.
func (w *World) LastText(msgs []flows.Message, a flows.Address) flows.Message {
	w.TB.Helper()
	var texts []flows.Message
	for _, m := range To(msgs, a) {
		if m.Kind == flows.KindSend || m.Kind == flows.KindEdit {
			texts = append(texts, m)
		}
	}
	if len(texts) == 0 {
		w.TB.Fatalf("no text message to %v in %d messages", a, len(msgs))
	}
	return texts[len(texts)-1]
}

// Files returns the messages to a that carry an export (a form or a chart).
func Files(msgs []flows.Message, a flows.Address) []flows.Message {
	var out []flows.Message
	for _, m := range To(msgs, a) {
		if m.Export != nil {
			out = append(out, m)
		}
	}
	return out
}

// Render renders the file a message carries (its Export) as the
// channels' senders do at send time, with the records renderer on the
// world's store; it fails the test when m carries none or it cannot be
// made.
func (w *World) Render(m flows.Message) []byte {
	w.TB.Helper()
	if m.Export == nil {
		w.TB.Fatalf("message %q carries no file", m.Text)
	}
	r, err := records.New(records.Options{Store: w.Store, Texts: w.Opts.Texts, Profile: w.Opts.Profile, OrgName: w.Opts.OrgName,
		Location: w.Opts.Location, Categories: w.Opts.Categories, Emergencies: w.Opts.Emergencies, SOP: w.Eng.SOP,
		Daily: w.Eng.DailyList, Parts: w.Opts.Parts.Files, CacheFor: -1, AreaName: w.Eng.AreaName})
	if err != nil {
		w.TB.Fatal(err)
	}
	data, err := r.Export(context.Background(), *m.Export)
	if err != nil {
		w.TB.Fatalf("render %s: %v", m.Export.Form, err)
	}
	return data
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
func (w *World) StepKind(id string) flows.StepKind { return w.CurrentStep(id).Kind }

// CurrentStep returns the ticket's current step in the procedure in force.
func (w *World) CurrentStep(id string) flows.Step {
	t := w.Ticket(id)
	for _, st := range w.Eng.SOP().Steps {
		if st.ID == t.Step {
			return st
		}
	}
	return flows.Step{}
}

// StepPhotos sends the photos the ticket's current step still needs.
func (w *World) StepPhotos(tech Person, id string) {
	w.TB.Helper()
	st := w.CurrentStep(id)
	for n := len(w.Ticket(id).Visit.Photos[st.ID]); n < st.MinPhotos(); n++ {
		w.Photo(tech, fmt.Sprintf("EVIDENCE-%s-%d", st.ID, n+1), "", 50_000)
	}
}

// WalkToSignoff takes an accepted ticket from arrival to the sign-off
// request, doing every step the SOP requires (one quote item on household
// orders), and returns with the resident's sign-off card pending.
func (w *World) WalkToSignoff(tech, res Person, id string) {
	w.TB.Helper()
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	for i := 0; i < 30; i++ {
		w.StepPhotos(tech, id)
		switch w.StepKind(id) {
		case flows.StepDoor:
			if w.Ticket(id).Visit.Bell == "" {
				w.Expect(w.Step(tech, id, "bell", "yes"))
			}
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
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepWork:
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepTests:
			for j := 0; j < w.Opts.SOP.MinTests; j++ {
				w.Expect(w.Step(tech, id, "pass"))
			}
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepCare:
			w.CareNote(tech, id)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepSignoff:
			w.CodeFault(tech, id)
			w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
			w.Drain()
			return
		default:
			w.TB.Fatalf("ticket %s at unknown step %q (state %s)", id, w.Ticket(id).Step, w.Ticket(id).State)
		}
	}
	w.TB.Fatalf("ticket %s never reached the sign-off", id)
}

// CareNote records a care note at the care step: the first typical note
// of the ticket's category in the SOP, or a typed one where it has none.
// A note recorded already (the care step walked again after a rework) is
// left as it is: tapping it again would take it back.
func (w *World) CareNote(tech Person, id string) {
	w.TB.Helper()
	t := w.Ticket(id)
	if t.Visit != nil && (len(t.Visit.CareNotes) > 0 || len(t.Visit.Care) > 0) {
		return
	}
	for _, n := range w.Eng.SOP().CareNotes {
		if n.Category == "" || n.Category == t.Category {
			w.Expect(w.Step(tech, id, "note", n.ID))
			return
		}
	}
	w.Text(tech, "已讲解使用注意事项")
}

// CodeFault codes the fault of a ticket at its sign-off step as the
// technician would: the first button of each level (component, symptom,
// cause, action) on the step card, then, for a public order without one,
// its place (PublicAsset). It drains the outbox to read the cards.
func (w *World) CodeFault(tech Person, id string) {
	w.TB.Helper()
	prefix := flows.EncodePayload(string(flows.ActCode), id) + "|"
	var last []flows.Message
	shown := false
	for i := 0; i < 8; i++ {
		t := w.Ticket(id)
		if t.Fault.Complete() {
			if t.Kind == flows.OrderPublic && t.Place == "" {
				w.Expect(w.Tap(tech, prefix+"p", false))
				w.Text(tech, PublicAsset)
			}
			return
		}
		if msgs := To(w.Drain(), tech.Chat()); len(msgs) > 0 {
			last = msgs
		}
		data := ""
		for j := len(last) - 1; j >= 0 && data == ""; j-- {
			for _, row := range last[j].Buttons {
				for _, b := range row {
					if in := Inner(b.Data); data == "" && strings.HasPrefix(in, prefix) && strings.Count(in, "|") == 4 {
						data = b.Data
					}
				}
			}
		}
		if data == "" && !shown && w.StepKind(id) == flows.StepSignoff {
			// The card was drained before: show it again (from the start).
			shown = true
			w.Tap(tech, prefix+"r", false)
			continue
		}
		if data == "" {
			return // this SOP codes nothing for the ticket
		}
		w.Expect(w.Tap(tech, data, false))
		last = nil
	}
	w.TB.Fatalf("ticket %s: the fault coding did not finish", id)
}

// Inner is the payload a step card's button carries inside its card's
// wrapper (cd|<card>|<payload>), or data itself for any other button.
func Inner(data string) string {
	p, ok := flows.DecodePayload(data)
	if !ok || p.Verb != "cd" || len(p.Args) < 2 {
		return data
	}
	return flows.EncodePayload(p.Args[1], p.Args[2:]...)
}

// PublicAsset is the place CodeFault names for a public order without one.
const PublicAsset = "3栋 电梯 2号"

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
