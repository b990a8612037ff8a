package telegram_test

// The end-to-end rig: a tgfake Bot API, a bbolt store in a temp dir, the
// real engine and the real channel, all talking HTTP. Helpers drive
// simulated people and wait (bounded) for what the bot says.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai without system zoneinfo
	"unicode/utf16"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/records"
	"github.com/repairbot/repairbot/stockxlsx"
)

const (
	e2eToken  = "123456789:E2E-token-for-the-fake-bot-API"
	e2eGroup  = int64(-1001234567890)
	e2eSecret = "e2e_webhook-secret_42"
	e2eHook   = "/tg"
	e2eWait   = 10 * time.Second
	adminID   = int64(1001)

	secretHeader = "X-Telegram-Bot-Api-Secret-Token"
	offsetCursor = "tg.offset" // bot/telegram/receive.go offsetCursor (unexported)
)

var (
	shanghai = mustLocation("Asia/Shanghai")
	ticketRE = regexp.MustCompile(`BX-\d{8}-\d{4}`)
)

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// skipBug skips a test that documents a known bug in non-test code, so the
// suite stays green; E2E_RUN_BUGS=1 runs it (and shows the failure).
func skipBug(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("E2E_RUN_BUGS") == "" {
		t.Skip("BUG: " + msg)
	}
}

// rigOptions shape one rig. Zero values give a polling zh-CN bot with
// generous send budgets (the fake does not rate-limit unless Enforce).
type rigOptions struct {
	Mode string     // "polling" (default) or "webhook"
	Lang flows.Lang // the organisation's language: default menu and group cards
	// Enforce turns on tgfake's flood limits (429 beyond Telegram's limits).
	Enforce bool
	// Send overrides the channel's budgets. The default lifts the group
	// budget to 1200/min: the fake does not limit unless Enforce, and the
	// real 20/min would make every card edit wait 3 s.
	Send           *telegram.SendLimits
	MaxDescription int
	// NoPhotos disables the photo step (engine MaxPhotos 0); otherwise 3.
	NoPhotos bool
	// WebhookTimeouts for the channel's webhook server (zero: its defaults).
	WebhookTimeouts telegram.WebhookTimeouts
	// WrapEngine, when set, stands between the channel and the engine
	// (a test that makes handling fail).
	WrapEngine func(bot.Engine) bot.Engine
	// WrapStore, when set, stands between the engine and the store (a
	// test that injects a full disk).
	WrapStore func(flows.Store) flows.Store
	// Leading, when set, is the channel's bot.Deps.Leading (a replica
	// that polls and sends only while it leads).
	Leading func() bool
	// PhotosPerHour is the media store's per-person allowance (0: none).
	PhotosPerHour int
}

func defaultLimits() telegram.SendLimits {
	return telegram.SendLimits{
		PerChatPerSecond: 30, GroupPerMinute: 1200, GlobalPerSecond: 30,
		BaseBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
	}
}

// env is the state shared by every view of a rig.
type env struct {
	o     rigOptions
	fake  *tgfake.Server
	texts *i18n.Catalog
	path  string
	logs  *lockedBuffer
	hook  *hookTransport
	http  *http.Client
	// offset shifts the clock of the engine, the channel and the store.
	offset atomic.Int64

	// openErr, when set, receives the error of a channel that fails to
	// open instead of failing the test (startErr).
	openErr *error

	mu  sync.Mutex // guards the fields a restart replaces
	st  testkit.Store
	eng *flows.Engine
	ch  *telegram.Channel

	// Webhook mode: Telegram (the fake) posts to front, which forwards to
	// the channel's own listener, or captures updates for a test to post.
	front     *httptest.Server
	fclient   *http.Client
	target    atomic.Value // string URL of the channel's listener, "" while down
	capturing atomic.Bool
	fmu       sync.Mutex
	captured  [][]byte
	forwarded map[int64][]byte
}

// rig is env seen from one (sub)test: helpers fail that test.
type rig struct {
	t testing.TB
	*env
}

// with returns a view of the rig that reports failures to t (for
// parallel subtests sharing one rig).
func (r *rig) with(t *testing.T) *rig { return &rig{t: t, env: r.env} }

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	if o.Mode == "" {
		o.Mode = "polling"
	}
	if o.Lang == "" {
		o.Lang = flows.LangZH
	}
	fake := tgfake.New(tgfake.Options{Token: e2eToken, EnforceLimits: o.Enforce})
	t.Cleanup(fake.Close)
	fake.AddGroup(e2eGroup, "维修班组")
	base := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Second}
	t.Cleanup(base.CloseIdleConnections)
	e := &env{
		o: o, fake: fake, texts: i18n.MustLoad(o.Lang),
		path: filepath.Join(t.TempDir(), "repair.db"), logs: &lockedBuffer{},
		hook:      &hookTransport{base: base, holds: map[string]*heldCall{}, detach: map[string]bool{}},
		forwarded: map[int64][]byte{},
	}
	e.http = &http.Client{Transport: e.hook, Timeout: 20 * time.Second}
	e.target.Store("")
	if o.Mode == "webhook" {
		ftr := &http.Transport{Proxy: nil}
		t.Cleanup(ftr.CloseIdleConnections)
		e.fclient = &http.Client{Transport: ftr, Timeout: e2eWait}
		e.front = httptest.NewServer(http.HandlerFunc(e.serveFront))
		t.Cleanup(e.front.Close)
	}
	r := &rig{t: t, env: e}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("channel log (tail):\n%s", e.logs.tail(48<<10))
		}
	})
	t.Cleanup(r.stop) // runs first: channel and store close before the fake
	r.start()
	return r
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

// advance moves the bot's clock (engine, channel, store) forward.
func (e *env) advance(d time.Duration) { e.offset.Add(int64(d)) }

func mustOpenStore(tb testing.TB, path string, now func() time.Time) testkit.Store {
	tb.Helper()
	return testkit.MustOpen(tb, path, testkit.Options{Now: now})
}

// start opens the store, builds the engine and opens the channel.
func (r *rig) start() {
	r.t.Helper()
	st := mustOpenStore(r.t, r.path, r.now)
	maxPhotos := 3
	if r.o.NoPhotos {
		maxPhotos = 0
	}
	var ch *telegram.Channel // invite links need the channel (bot name), as in main.go
	opts := flowstest.Base(r.t, st, r.now)
	opts.Texts, opts.Location, opts.DefaultLang = r.texts, shanghai, r.o.Lang
	opts.Group, opts.Admins = telegram.ChatAddress(e2eGroup), map[string]bool{telegram.PersonID(adminID): true}
	opts.OrgName, opts.MaxPhotos, opts.MaxDescription = "阳光花园物业", maxPhotos, r.o.MaxDescription
	if r.o.WrapStore != nil {
		opts.Store = r.o.WrapStore(st)
	}
	opts.InviteLink = func(channel, code string) string {
		if ch != nil {
			if link, ok := ch.InviteLink(channel, code); ok {
				return link
			}
		}
		return "/start " + code
	}
	kept := &media.Store{Dir: filepath.Join(filepath.Dir(r.path), "photos"), Max: 10 << 20, PerHour: r.o.PhotosPerHour}
	opts.Parts = flows.PartsOptions{ApprovalOver: flowstest.ApprovalOver, Files: stockxlsx.Files{Texts: r.texts},
		OpenFile: func(f flows.File) (io.ReadCloser, error) { return kept.Open(f.Local) }}
	eng, err := flows.NewEngine(opts)
	if err != nil {
		_ = st.Close()
		r.t.Fatalf("engine: %v", err)
	}
	rec, err := records.New(records.Options{Store: st, Texts: r.texts, OrgName: opts.OrgName, Location: shanghai,
		Categories: opts.Categories, SOP: eng.SOP, OpenMedia: kept.Open, Daily: eng.DailyList, Parts: opts.Parts.Files})
	if err != nil {
		_ = st.Close()
		r.t.Fatalf("records: %v", err)
	}
	limits := defaultLimits()
	if r.o.Send != nil {
		limits = *r.o.Send
	}
	var engine bot.Engine = eng
	if r.o.WrapEngine != nil {
		engine = r.o.WrapEngine(eng)
	}
	o := telegram.Options{
		Token: e2eToken, APIURL: r.fake.URL(), Mode: r.o.Mode, PollTimeout: time.Second,
		Deps: bot.Deps{Engine: engine, Store: st, Outbox: st, Texts: r.texts, DefaultLang: r.o.Lang,
			Log:   zerolog.New(r.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger(),
			Now:   r.now,
			Media: kept, Exports: rec, Leading: r.o.Leading},
		Send: limits, HTTPClient: r.http, MaxPhotoBytes: 10 << 20,
	}
	if r.o.Mode == "webhook" {
		o.WebhookListen, o.WebhookPath, o.WebhookSecret = "127.0.0.1:0", e2eHook, e2eSecret
		o.WebhookURL = r.front.URL + e2eHook
		o.WebhookTimeouts = r.o.WebhookTimeouts
	}
	ch, err = telegram.New(o)
	if err != nil {
		_ = st.Close()
		r.t.Fatalf("telegram.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := ch.Open(ctx); err != nil {
		_ = st.Close()
		if r.openErr != nil {
			*r.openErr = err
			return
		}
		r.t.Fatalf("open channel: %v", err)
	}
	r.mu.Lock()
	r.st, r.eng, r.ch = st, eng, ch
	r.mu.Unlock()
	if r.o.Mode == "webhook" {
		r.target.Store("http://" + ch.WebhookAddr() + e2eHook)
	}
}

// stop closes the channel (finishing in-flight work) and then the store.
func (r *rig) stop() {
	r.mu.Lock()
	ch, st := r.ch, r.st
	r.ch, r.st, r.eng = nil, nil, nil
	r.mu.Unlock()
	r.target.Store("")
	if ch != nil {
		if err := ch.Close(); err != nil {
			r.t.Errorf("close channel: %v", err)
		}
	}
	if st != nil {
		if err := st.Close(); err != nil {
			r.t.Errorf("close store: %v", err)
		}
	}
}

// startErr starts the bot and returns the channel's Open error (nil when
// it started).
func (r *rig) startErr() error {
	r.t.Helper()
	var err error
	r.openErr = &err
	defer func() { r.openErr = nil }()
	r.start()
	return err
}

// restart is a clean process restart on the same database file.
func (r *rig) restart() {
	r.t.Helper()
	r.stop()
	r.start()
}

func (r *rig) store() testkit.Store {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *rig) engine() *flows.Engine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng
}

func (r *rig) channel() *telegram.Channel {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ch
}

// ---- waiting ----

// quiet reports whether every update is confirmed and the outbox is empty.
func (r *rig) quiet() bool {
	if r.fake.Pending() > 0 {
		return false
	}
	st := r.store()
	if st == nil {
		return false
	}
	s, err := st.Stats()
	return err == nil && s.Pending == 0
}

// settle waits until the bot handled every update and delivered every reply.
func (r *rig) settle() { r.t.Helper(); r.settleWithin(e2eWait) }

func (r *rig) settleWithin(d time.Duration) {
	r.t.Helper()
	if !r.fake.WaitFor(d, r.quiet) {
		var s outbox.Stats
		if st := r.store(); st != nil {
			s, _ = st.Stats()
		}
		r.t.Fatalf("the bot did not settle within %s: %d updates unconfirmed, outbox %+v", d, r.fake.Pending(), s)
	}
}

// top is the id of the newest bot message in chat (0 if none).
func (r *rig) top(chat int64) int {
	ms := r.fake.Messages(chat)
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].ID
}

// next waits for the first bot message in chat newer than after that
// satisfies pred (nil: any).
func (r *rig) next(chat int64, after int, what string, pred func(tgfake.Message) bool) tgfake.Message {
	r.t.Helper()
	m, ok := r.fake.WaitMessage(chat, e2eWait, func(m tgfake.Message) bool {
		return m.ID > after && (pred == nil || pred(m))
	})
	if !ok {
		r.t.Fatalf("chat %d: no bot message after #%d: %s; messages now:\n%s", chat, after, what, dump(r.fake.Messages(chat)))
	}
	return m
}

func dump(ms []tgfake.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  #%d edits=%d %q buttons=%v reply=%v\n", m.ID, m.Edits, m.Text+m.Caption, m.Inline, m.Reply)
	}
	return b.String()
}

func withText(sub string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return strings.Contains(m.Text+m.Caption, sub) }
}

func withButton(label string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return buttonData(m, label) != "" }
}

func both(a, b func(tgfake.Message) bool) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return a(m) && b(m) }
}

// buttonData is the callback data of the inline button whose label contains label.
func buttonData(m tgfake.Message, label string) string {
	for _, row := range m.Inline {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.Data != "" {
				return b.Data
			}
		}
	}
	return ""
}

// count is how many bot messages in chat satisfy pred.
func (r *rig) count(chat int64, pred func(tgfake.Message) bool) int {
	n := 0
	for _, m := range r.fake.Messages(chat) {
		if pred(m) {
			n++
		}
	}
	return n
}

// answerAfter waits for the bot's answer to a query on (chat, msgID) among
// the transcript entries from index n on.
func (r *rig) answerAfter(n int, chat int64, msgID int) tgfake.Entry {
	r.t.Helper()
	var got tgfake.Entry
	ok := r.fake.WaitFor(e2eWait, func() bool {
		es := r.fake.Entries()
		for i := n; i < len(es); i++ {
			if e := es[i]; e.Kind == "bot_answer" && e.ChatID == chat && e.MessageID == msgID {
				got = e
				return true
			}
		}
		return false
	})
	if !ok {
		r.t.Fatalf("no answerCallbackQuery for a tap on message %d in chat %d", msgID, chat)
	}
	return got
}

// ---- people ----

type profile struct{ name, phone, building, unit, room string }

var (
	zhHome = profile{"王芳", "+8613800138000", "3栋", "2单元", "1502"}
	enHome = profile{"Fang Wang", "+8613800138000", "Building 3", "Unit 2", "1502"}
)

func userLang(u tgfake.User) flows.Lang {
	if strings.HasPrefix(strings.ToLower(u.LanguageCode), "en") {
		return flows.LangEN
	}
	return flows.LangZH
}

// T renders a catalog text in u's language.
func (r *rig) T(u tgfake.User, key string, kv ...any) string {
	return r.texts.T(userLang(u), key, kv...)
}

// G renders a catalog text in the group's (organisation's) language.
func (r *rig) G(key string, kv ...any) string { return r.texts.T(r.o.Lang, key, kv...) }

func categoryLabel(key string, l flows.Lang) string {
	for _, c := range flowstest.DefaultCategories {
		if c.Key == key {
			return c.Labels[l]
		}
	}
	return key
}

// say sends text in u's private chat and waits for the reply satisfying pred.
func (r *rig) say(u tgfake.User, text string, pred func(tgfake.Message) bool) tgfake.Message {
	r.t.Helper()
	before := r.top(u.ID)
	r.fake.SendText(u, u.ID, text)
	return r.next(u.ID, before, fmt.Sprintf("reply to %q", clipForLog(text)), pred)
}

func clipForLog(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// tap presses a button and returns the bot's answer to the query.
func (r *rig) tap(u tgfake.User, chat int64, m tgfake.Message, label string) tgfake.Entry {
	r.t.Helper()
	n := len(r.fake.Entries())
	if _, err := r.fake.Tap(u, chat, m.ID, label); err != nil {
		r.t.Fatal(err)
	}
	return r.answerAfter(n, chat, m.ID)
}

// tapThen presses a button and waits for the reply in u's private chat.
func (r *rig) tapThen(u tgfake.User, chat int64, m tgfake.Message, label string, pred func(tgfake.Message) bool) (tgfake.Entry, tgfake.Message) {
	r.t.Helper()
	before := r.top(u.ID)
	ans := r.tap(u, chat, m, label)
	return ans, r.next(u.ID, before, fmt.Sprintf("reply to tapping %q", label), pred)
}

// tapData sends a callback query with arbitrary data and returns the answer.
func (r *rig) tapData(u tgfake.User, chat int64, msgID int, data string) tgfake.Entry {
	r.t.Helper()
	n := len(r.fake.Entries())
	r.fake.TapData(u, chat, msgID, data)
	return r.answerAfter(n, chat, msgID)
}

// inviteCode has admin create a one-time invite and returns its code.
func (r *rig) inviteCode(admin tgfake.User, role string) string {
	r.t.Helper()
	m := r.say(admin, "/invite "+role, withText("?start="))
	link := "https://t.me/" + tgfake.DefaultBotUsername + "?start="
	i := strings.Index(m.Text, link)
	if i < 0 {
		r.t.Fatalf("invite without a deep link to the bot: %q", m.Text)
	}
	return strings.Fields(m.Text[i+len(link):])[0]
}

// hire invites staff as role and has them join with the link.
func (r *rig) hire(admin, staff tgfake.User, role string) {
	r.t.Helper()
	code := r.inviteCode(admin, role)
	adminTop := r.top(admin.ID)
	title := r.T(staff, "role."+role+".property")
	welcome := r.T(staff, "invite.welcome", "name", staff.FirstName, "role", title)
	r.say(staff, "/start "+code, withText(welcome))
	r.next(admin.ID, adminTop, "invite redeemed", withText(r.T(admin, "invite.redeemed", "name", staff.FirstName, "role", r.T(admin, "role."+role+".property"))))
}

// register runs the resident registration through the share-contact
// keyboard and returns the final "registered" message.
func (r *rig) register(u tgfake.User, p profile) tgfake.Message {
	r.t.Helper()
	r.say(u, "/start", withText(r.T(u, "register.ask_name")))
	ask := r.say(u, p.name, func(m tgfake.Message) bool { return len(m.Reply) > 0 })
	if ask.Text != r.T(u, "register.ask_phone", "name", p.name) {
		r.t.Fatalf("phone prompt %q", ask.Text)
	}
	kb := r.fake.ReplyKeyboard(u.ID)
	if len(kb) != 1 || len(kb[0]) != 1 || !kb[0][0].RequestContact || kb[0][0].Text != r.T(u, "btn.share_phone") {
		r.t.Fatalf("no share-contact keyboard: %+v", kb)
	}
	before := r.top(u.ID)
	r.fake.SendContact(u, p.phone, true)
	m := r.next(u.ID, before, "building prompt", func(m tgfake.Message) bool { return m.RemoveKeyboard })
	if m.Text != r.T(u, "register.ask_building") || r.fake.ReplyKeyboard(u.ID) != nil {
		r.t.Fatalf("after the contact: %q, keyboard %v", m.Text, r.fake.ReplyKeyboard(u.ID))
	}
	r.say(u, p.building, withText(r.T(u, "register.ask_unit")))
	r.say(u, p.unit, withText(r.T(u, "register.ask_room")))
	return r.say(u, p.room, both(withText(r.T(u, "register.done", "name", p.name, "address", p.building+" / "+p.unit+" / "+p.room)), withButton(r.T(u, "btn.report"))))
}

// seedResident stores a registered resident directly (for tests where the
// registration dialogue is not the point and messages are expensive).
// seedResidents registers n residents 住户1…住户n (ids from firstID, each
// in building i, unit 1, room 101, phone prefix+"10"…) straight in the store.
func (r *rig) seedResidents(n int, firstID int64, phonePrefix string) []tgfake.User {
	r.t.Helper()
	var out []tgfake.User
	for i := 0; i < n; i++ {
		u := tgfake.User{ID: firstID + int64(i), FirstName: fmt.Sprintf("住户%d", i+1), LanguageCode: "zh-hans"}
		r.seedResident(u, profile{u.FirstName, phonePrefix + strconv.Itoa(10+i), fmt.Sprintf("%d栋", i+1), "1单元", "101"})
		out = append(out, u)
	}
	return out
}

func (r *rig) seedResident(u tgfake.User, p profile) {
	r.t.Helper()
	now := r.now()
	err := r.store().Update(context.Background(), func(tx flows.Tx) error {
		return tx.PutPerson(&flows.Person{
			ID: telegram.PersonID(u.ID), Role: flows.RoleResident, Name: p.name, Phone: p.phone,
			Building: p.building, Unit: p.unit, Room: p.room, Lang: userLang(u),
			Chat: telegram.ChatAddress(u.ID), Registered: true, Created: now, Updated: now,
		})
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

type reportSpec struct {
	category string // key, "water" by default
	desc     string
	photos   int
	public   bool
	from     *tgfake.Message // tap its report button instead of sending /report
}

// openReport starts a report and returns the category prompt.
func (r *rig) openReport(u tgfake.User, from *tgfake.Message) tgfake.Message {
	r.t.Helper()
	water := categoryLabel("water", userLang(u))
	if from != nil {
		_, m := r.tapThen(u, u.ID, *from, r.T(u, "btn.report"), withButton(water))
		return m
	}
	return r.say(u, "/report", withButton(water))
}

// pickCategory taps a category and returns the description prompt.
func (r *rig) pickCategory(u tgfake.User, prompt tgfake.Message, key string) tgfake.Message {
	r.t.Helper()
	label := categoryLabel(key, userLang(u))
	ans, m := r.tapThen(u, u.ID, prompt, label, withText(r.T(u, "report.ask_desc", "category", label, "max", r.maxDesc())))
	if ans.Text != label {
		r.t.Errorf("category toast %q, want %q", ans.Text, label)
	}
	return m
}

func (r *rig) maxDesc() int {
	if r.o.MaxDescription > 0 {
		return r.o.MaxDescription
	}
	return 1000
}

// finishReport goes from the photo prompt (or the kind prompt without
// photos) to the ticket and returns its number and the acknowledgement.
func (r *rig) finishReport(u tgfake.User, afterDesc tgfake.Message, s reportSpec) (string, tgfake.Message) {
	r.t.Helper()
	kindKey := "btn.kind_household"
	if s.public {
		kindKey = "btn.kind_public"
	}
	kindLabel := r.T(u, kindKey)
	kind := afterDesc
	if !r.o.NoPhotos {
		noMore := r.T(u, "btn.no_more_photos")
		photos := afterDesc
		for i := 1; i <= s.photos; i++ {
			before := r.top(u.ID)
			r.fake.SendPhoto(u, u.ID, "", 180_000)
			photos = r.next(u.ID, before, "photo saved", both(withText(r.T(u, "report.photo_saved", "n", i, "max", 3)), withButton(noMore)))
		}
		_, kind = r.tapThen(u, u.ID, photos, noMore, withButton(kindLabel))
	}
	asap := r.T(u, "btn.asap")
	var when tgfake.Message
	if s.public {
		// A public report says where the fault is instead of the home; one
		// place per report: the same place twice would ask whether to follow
		// the first instead.
		r.tapThen(u, u.ID, kind, kindLabel, withText(r.T(u, "report.ask_place", "max", 100)))
		place := []rune("5栋 3楼 电梯厅 / lift lobby: " + s.desc)
		when = r.say(u, string(place[:min(len(place), 100)]), withButton(asap))
	} else {
		_, when = r.tapThen(u, u.ID, kind, kindLabel, withButton(asap))
	}
	_, ack := r.tapThen(u, u.ID, when, asap, withText("BX-"))
	id := ticketRE.FindString(ack.Text)
	if id == "" {
		r.t.Fatalf("no ticket number in %q", ack.Text)
	}
	return id, ack
}

// report files a ticket and returns its number and the acknowledgement.
func (r *rig) report(u tgfake.User, s reportSpec) (string, tgfake.Message) {
	r.t.Helper()
	if s.category == "" {
		s.category = "water"
	}
	prompt := r.openReport(u, s.from)
	r.pickCategory(u, prompt, s.category)
	pred := withButton(r.T(u, "btn.no_more_photos"))
	if r.o.NoPhotos {
		pred = withButton(r.T(u, "btn.kind_household"))
	}
	afterDesc := r.say(u, s.desc, pred)
	return r.finishReport(u, afterDesc, s)
}

// cancelTicket withdraws ticket id from its acknowledgement ack: the
// cancel button, then the confirmation's; it returns the answer.
func (r *rig) cancelTicket(u tgfake.User, ack tgfake.Message, id string) tgfake.Message {
	r.t.Helper()
	_, ask := r.tapThen(u, u.ID, ack, r.T(u, "btn.cancel_ticket", "ticket", id), withButton(r.T(u, "btn.cancel_confirm")))
	_, done := r.tapThen(u, u.ID, ask, r.T(u, "btn.cancel_confirm"), withText(r.T(u, "cancel.ticket_done", "ticket", id)))
	return done
}

// card waits for the dispatch card of a ticket in the group.
func (r *rig) card(id string) tgfake.Message {
	r.t.Helper()
	return r.next(e2eGroup, 0, "dispatch card of "+id, withText(id))
}

func (r *rig) ticket(id string) *flows.Ticket {
	r.t.Helper()
	var tk *flows.Ticket
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		var err error
		tk, err = tx.Ticket(id)
		return err
	})
	if err != nil {
		r.t.Fatalf("ticket %s: %v", id, err)
	}
	return tk
}

func (r *rig) rows(which string) []outbox.Row {
	r.t.Helper()
	rows, err := r.store().Rows(which)
	if err != nil {
		r.t.Fatal(err)
	}
	return rows
}

// noFailedRows checks that the platform accepted everything the bot sent.
func (r *rig) noFailedRows() {
	r.t.Helper()
	for _, row := range r.rows(outbox.StatusFailed) {
		r.t.Errorf("outbox row %d to %s failed: %s (text %q)", row.ID, row.Msg.To, row.LastError, clipForLog(row.Msg.Text))
	}
}

func (r *rig) seen(updateID int64) bool {
	r.t.Helper()
	var ok bool
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		var err error
		ok, err = tx.Seen(telegram.UpdateKey(updateID))
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return ok
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// ---- webhook plumbing ----

// serveFront is the public webhook URL: it forwards to the channel's
// listener (recording what was accepted) or captures updates for a test.
func (e *env) serveFront(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if e.capturing.Load() {
		e.fmu.Lock()
		e.captured = append(e.captured, body)
		e.fmu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	target, _ := e.target.Load().(string)
	if target == "" {
		http.Error(w, "bot is down", http.StatusBadGateway)
		return
	}
	fwd, err := http.NewRequestWithContext(req.Context(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy", http.StatusBadGateway)
		return
	}
	fwd.Header.Set("Content-Type", "application/json")
	fwd.Header.Set(secretHeader, req.Header.Get(secretHeader))
	resp, err := e.fclient.Do(fwd)
	if err != nil {
		http.Error(w, "bot unreachable", http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		var head struct {
			ID int64 `json:"update_id"`
		}
		_ = json.Unmarshal(body, &head)
		e.fmu.Lock()
		e.forwarded[head.ID] = body
		e.fmu.Unlock()
	}
	w.WriteHeader(resp.StatusCode)
}

// capture collects the next n updates Telegram delivers instead of
// handing them to the bot (the fake sees them confirmed).
func (r *rig) capture(n int, act func()) [][]byte {
	r.t.Helper()
	r.fmu.Lock()
	r.captured = nil
	r.fmu.Unlock()
	r.capturing.Store(true)
	defer r.capturing.Store(false)
	act()
	var out [][]byte
	ok := r.fake.WaitFor(e2eWait, func() bool {
		r.fmu.Lock()
		defer r.fmu.Unlock()
		out = append([][]byte(nil), r.captured...)
		return len(out) >= n && r.fake.Pending() == 0
	})
	if !ok || len(out) != n {
		r.t.Fatalf("captured %d updates, want %d", len(out), n)
	}
	return out
}

func (r *rig) forwardedBody(updateID int64) []byte {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	return r.forwarded[updateID]
}

// post sends body to the channel's webhook listener the way Telegram does.
// It may be called from any goroutine.
func (r *rig) post(body []byte, method string, secret *string) (int, error) {
	ch := r.channel()
	if ch == nil {
		return 0, fmt.Errorf("channel is down")
	}
	req, err := http.NewRequest(method, "http://"+ch.WebhookAddr()+e2eHook, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != nil {
		req.Header.Set(secretHeader, *secret)
	}
	resp, err := r.fclient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func (r *rig) mustPost(body []byte, secret string) int {
	r.t.Helper()
	code, err := r.post(body, http.MethodPost, &secret)
	if err != nil {
		r.t.Fatal(err)
	}
	return code
}

// ---- the channel's HTTP client, with hooks ----

// hookTransport sits between the channel and the fake. It can hold the
// next call of a method (before or after the server handled it) until the
// test releases it or the caller gives up, and can run calls to completion
// even when the caller's context is cancelled.
type hookTransport struct {
	base   *http.Transport
	mu     sync.Mutex
	holds  map[string]*heldCall
	detach map[string]bool
}

type heldCall struct {
	afterServer bool
	held        chan struct{}
	release     chan struct{}
	once        sync.Once
}

func (c *heldCall) Release() { c.once.Do(func() { close(c.release) }) }

// holdNext arms a hold for the next call of method (e.g. "sendMessage").
// With afterServer the server handles the call first and only the answer
// is held (a response lost in flight).
func (h *hookTransport) holdNext(method string, afterServer bool) *heldCall {
	c := &heldCall{afterServer: afterServer, held: make(chan struct{}), release: make(chan struct{})}
	h.mu.Lock()
	h.holds[method] = c
	h.mu.Unlock()
	return c
}

func (h *hookTransport) setDetach(on bool, methods ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range methods {
		h.detach[m] = on
	}
}

func (h *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := path.Base(req.URL.Path)
	h.mu.Lock()
	hc := h.holds[method]
	delete(h.holds, method)
	detach := h.detach[method]
	h.mu.Unlock()
	ctx := req.Context()
	switch {
	case hc != nil && hc.afterServer:
		resp, err := h.base.RoundTrip(req.Clone(context.WithoutCancel(ctx)))
		close(hc.held)
		select {
		case <-hc.release:
			return resp, err
		case <-ctx.Done():
			if resp != nil {
				_ = resp.Body.Close()
			}
			return nil, ctx.Err()
		}
	case hc != nil:
		close(hc.held)
		select {
		case <-hc.release:
			return h.base.RoundTrip(req)
		case <-ctx.Done():
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, ctx.Err()
		}
	case detach:
		return h.base.RoundTrip(req.Clone(context.WithoutCancel(ctx)))
	}
	return h.base.RoundTrip(req)
}

// waitHeld waits until an armed call is being held.
func waitHeld(t *testing.T, c *heldCall, what string) {
	t.Helper()
	select {
	case <-c.held:
	case <-time.After(e2eWait):
		t.Fatalf("%s was never called", what)
	}
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
