package web_test

// The rig of the console's HTTP tests: a real store (internal/testkit),
// the real engine with the flows test world's options on a clock the
// tests move, and the console served by httptest. People act in chat by
// handing the engine events, as a channel would; the outbox is drained
// by hand, like a perfect sender.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/records"
)

// person is someone in the rig: the flows test world's person (a
// Telegram-style id and name).
type person = flowstest.Person

var (
	admin      = person{ID: 1, Name: "管理员"}
	resident   = person{ID: 100, Name: "王芳"}
	other      = person{ID: 101, Name: "李雷"}
	tech       = person{ID: 200, Name: "张师傅"}
	tech2      = person{ID: 201, Name: "赵师傅"}
	lead       = person{ID: 300, Name: "陈主管"}
	dispatcher = person{ID: 400, Name: "刘客服"}
	stranger   = person{ID: 999, Name: "路人"}
)

var ticketRE = regexp.MustCompile(`BX-\d{8}-\d{4}`)

// clock is the rig's time, safe to move while the server reads it.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type rig struct {
	t     *testing.T
	clk   *clock
	st    testkit.Store
	eng   *flows.Engine
	opts  flows.Options
	texts *i18n.Catalog
	con   *web.Channel
	srv   *httptest.Server
	media *media.Store
	http  *http.Client
	seq   int
}

type rigOptions struct {
	// PublicURL of the console; "http://console.test" by default.
	PublicURL string
	// Blobs, when set, keeps the media store's copies instead of files
	// (as the database does for replicas).
	Blobs media.Blobs
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	if o.PublicURL == "" {
		o.PublicURL = "http://console.test"
	}
	clk := &clock{}
	clk.Set(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	st := testkit.MustOpen(t, filepath.Join(dir, "repair.db"), testkit.Options{Now: clk.Now, NoSync: true})
	t.Cleanup(func() { _ = st.Close() })
	r := &rig{t: t, clk: clk, st: st, texts: i18n.MustLoad(flows.LangZH),
		media: &media.Store{Dir: filepath.Join(dir, "photos"), Max: 10 << 20, Blobs: o.Blobs}}
	r.opts = flowstest.Options(t, st, clk.Now)
	var con *web.Channel
	r.opts.Console.Link = func(token string) (string, bool) { return con.LoginLink(token) }
	eng, err := flows.NewEngine(r.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.InstallSOP(context.Background(), r.opts.SOP, "system"); err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	// The files are rendered by the renderer main gives every channel.
	ro := eng.RecordOptions()
	rec, err := records.New(records.Options{Store: st, Texts: r.texts, Profile: ro.Profile, OrgName: ro.OrgName,
		Location: ro.Location, Categories: ro.Categories, Emergencies: ro.Emergencies, SOP: eng.SOP,
		OpenMedia: r.media.Open, Daily: eng.DailyList, Parts: ro.Parts, CacheFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	con, err = web.New(web.Options{Listen: "127.0.0.1:0", PublicURL: o.PublicURL,
		Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Texts: r.texts, DefaultLang: flows.LangZH, Domain: eng,
			Media: r.media, Now: clk.Now, Log: zerolog.Nop(), Exports: rec}})
	if err != nil {
		t.Fatal(err)
	}
	r.con = con
	r.srv = httptest.NewServer(con.Handler())
	t.Cleanup(r.srv.Close)
	r.http = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() { _ = con.Close() })
	return r
}

// ---- chat ----

func (r *rig) event(p person, kind flows.EventKind) flows.Event {
	r.seq++
	lang := p.Lang
	if lang == "" {
		lang = "zh-hans"
	}
	return flows.Event{Key: fmt.Sprintf("test:%d", r.seq), Kind: kind, At: r.clk.Now(),
		From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: lang}, Chat: p.Chat()}
}

func (r *rig) do(ev flows.Event) flows.Result {
	r.t.Helper()
	res, err := r.eng.Handle(context.Background(), ev)
	if err != nil {
		r.t.Fatalf("handle %+v: %v", ev, err)
	}
	return res
}

func (r *rig) text(p person, text string) flows.Result {
	ev := r.event(p, flows.EvText)
	ev.Text = text
	return r.do(ev)
}

func (r *rig) cmd(p person, name, args string) flows.Result {
	ev := r.event(p, flows.EvCommand)
	ev.Command, ev.Text = name, args
	return r.do(ev)
}

func (r *rig) tap(p person, data string, inGroup bool) flows.Result {
	ev := r.event(p, flows.EvCallback)
	ev.Data = data
	if inGroup {
		ev.Chat, ev.InGroup = flowstest.Group, true
	}
	return r.do(ev)
}

// drain returns the pending outbox messages and marks them delivered.
func (r *rig) drain() []flows.Message {
	r.t.Helper()
	rows, err := r.st.Pending(0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []flows.Message
	for _, row := range rows {
		out = append(out, row.Msg)
		if err := r.st.MarkDelivered(row.ID, fmt.Sprint(row.ID), r.clk.Now()); err != nil {
			r.t.Fatal(err)
		}
	}
	return out
}

func to(msgs []flows.Message, a flows.Address) []flows.Message {
	var out []flows.Message
	for _, m := range msgs {
		if m.To == a {
			out = append(out, m)
		}
	}
	return out
}

func (r *rig) last(msgs []flows.Message, a flows.Address) flows.Message {
	r.t.Helper()
	got := to(msgs, a)
	if len(got) == 0 {
		r.t.Fatalf("no message to %v in %d messages", a, len(msgs))
	}
	return got[len(got)-1]
}

// register runs a resident's registration.
func (r *rig) register(p person, phone string) {
	r.t.Helper()
	r.cmd(p, "start", "")
	r.text(p, p.Name)
	ev := r.event(p, flows.EvContact)
	ev.Phone, ev.ContactIsOwn = phone, true
	r.do(ev)
	r.text(p, "3栋")
	r.text(p, "2单元")
	r.text(p, "1502")
	r.drain()
}

// staff joins p in a role with an invite from the admin.
func (r *rig) staff(p person, role string) {
	r.t.Helper()
	r.cmd(admin, "invite", role)
	m := r.last(r.drain(), admin.Chat())
	i := strings.Index(m.Text, "start=")
	if i < 0 {
		r.t.Fatalf("no invite link in %q", m.Text)
	}
	r.cmd(p, "start", strings.Fields(m.Text[i+len("start="):])[0])
	r.drain()
}

// report files a ticket (first category, household, as soon as possible).
func (r *rig) report(p person, desc string) string {
	r.t.Helper()
	first := func() string {
		m := r.last(r.drain(), p.Chat())
		if len(m.Buttons) == 0 {
			r.t.Fatalf("no buttons in %q", m.Text)
		}
		return m.Buttons[0][0].Data
	}
	r.cmd(p, "report", "")
	r.tap(p, first(), false)
	r.text(p, desc)
	r.tap(p, first(), false)
	r.tap(p, first(), false)
	r.tap(p, first(), false)
	m := r.last(r.drain(), p.Chat())
	id := ticketRE.FindString(m.Text)
	if id == "" {
		r.t.Fatalf("no ticket number in %q", m.Text)
	}
	return id
}

// world registers everyone: two residents, two technicians, a lead,
// customer service and the admin.
func (r *rig) world() {
	r.t.Helper()
	r.register(resident, "13800138000")
	r.register(other, "13900139000")
	r.staff(tech, "technician")
	r.staff(tech2, "technician")
	r.staff(lead, "lead")
	r.staff(dispatcher, "dispatcher")
	r.cmd(admin, "help", "")
	r.drain()
}

// ---- the store ----

func (r *rig) ticket(id string) *flows.Ticket {
	r.t.Helper()
	var t *flows.Ticket
	if err := r.st.View(context.Background(), func(tx flows.Tx) error {
		var err error
		t, err = tx.Ticket(id)
		return err
	}); err != nil {
		r.t.Fatalf("ticket %s: %v", id, err)
	}
	return t
}

func (r *rig) events(id string) int {
	r.t.Helper()
	n := 0
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		evs, err := tx.TicketEvents(id)
		n = len(evs)
		return err
	})
	return n
}

func (r *rig) update(fn func(tx flows.Tx) error) {
	r.t.Helper()
	if err := r.st.Update(context.Background(), fn); err != nil {
		r.t.Fatal(err)
	}
}

// snapshot is what a refused request must leave as it was: every open
// ticket's state, revision, assignee and trail length, and the outbox.
func (r *rig) snapshot() string {
	r.t.Helper()
	var b strings.Builder
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		open, err := tx.OpenTickets()
		for _, t := range open {
			evs, _ := tx.TicketEvents(t.ID)
			fmt.Fprintf(&b, "%s %s r%d %s e%d\n", t.ID, t.State, t.Rev, t.AssigneeID, len(evs))
		}
		return err
	})
	rows, _ := r.st.Pending(0)
	fmt.Fprintf(&b, "outbox %d\n", len(rows))
	return b.String()
}

// ---- the console ----

// linkToken asks the bot for a console link as p and returns its token.
func (r *rig) linkToken(p person) string {
	r.t.Helper()
	r.cmd(p, "console", "")
	m := r.last(r.drain(), p.Chat())
	i := strings.Index(m.Text, "/login?t=")
	if i < 0 {
		r.t.Fatalf("no login link in %q", m.Text)
	}
	tok, err := url.QueryUnescape(strings.Fields(m.Text[i+len("/login?t="):])[0])
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

// session logs p in and returns the visitor.
func (r *rig) session(p person) *browser {
	r.t.Helper()
	b := &browser{r: r}
	resp := b.post("/login", url.Values{"t": {r.linkToken(p)}})
	if resp.status != http.StatusSeeOther || b.cookie == "" {
		r.t.Fatalf("login as %s: %d %s", p.Name, resp.status, resp.body)
	}
	return b
}

// browser is an HTTP client with the console's session cookie.
type browser struct {
	r      *rig
	cookie string
	origin string
	site   string // Sec-Fetch-Site
	// flash is the answer cookie a redirect left for the next page.
	flash string
}

type response struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) response {
	b.r.t.Helper()
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "rb_session", Value: b.cookie})
	}
	if b.flash != "" {
		req.AddCookie(&http.Cookie{Name: "rb_flash", Value: b.flash})
	}
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	if b.site != "" {
		req.Header.Set("Sec-Fetch-Site", b.site)
	}
	resp, err := b.r.http.Do(req)
	if err != nil {
		b.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		switch {
		case c.Name == "rb_session" && c.MaxAge < 0:
			b.cookie = ""
		case c.Name == "rb_session":
			b.cookie = c.Value
		case c.Name == "rb_flash" && c.MaxAge < 0:
			b.flash = ""
		case c.Name == "rb_flash":
			b.flash = c.Value
		}
	}
	return response{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (b *browser) get(path string) response {
	b.r.t.Helper()
	req, err := http.NewRequest("GET", b.r.srv.URL+path, nil)
	if err != nil {
		b.r.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) response {
	b.r.t.Helper()
	req, err := http.NewRequest("POST", b.r.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	keyRE  = regexp.MustCompile(`name="k" value="([0-9a-f]{32})"`)
)

// form returns the CSRF token and a form key from a page of the session.
func (b *browser) form(path string) (csrf, key string) {
	b.r.t.Helper()
	page := b.get(path)
	if m := csrfRE.FindStringSubmatch(page.body); m != nil {
		csrf = m[1]
	}
	if m := keyRE.FindStringSubmatch(page.body); m != nil {
		key = m[1]
	}
	if csrf == "" {
		b.r.t.Fatalf("%s (%d) has no CSRF token:\n%s", path, page.status, page.body)
	}
	return csrf, key
}

// act posts a ticket action with a fresh CSRF token and form key.
func (b *browser) act(id, action string, fields url.Values) response {
	b.r.t.Helper()
	csrf, _ := b.form("/")
	if fields == nil {
		fields = url.Values{}
	}
	fields.Set("csrf", csrf)
	if fields.Get("k") == "" {
		fields.Set("k", newKey())
	}
	if _, ok := fields["ticket"]; !ok {
		fields.Set("ticket", id)
	}
	return b.post("/t/"+id+"/act/"+action, fields)
}

var keySeq atomic.Int64

func newKey() string { return fmt.Sprintf("%032x", keySeq.Add(1)) }
