package web_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/media/mediatest"
)

func contains(t *testing.T, what, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("%s does not contain %q:\n%s", what, want, s)
	}
}

// TestLogin: the link's page changes nothing (a chat app's preview may
// fetch it); its button opens a session whose cookie is HttpOnly,
// SameSite=Strict and Secure behind https; a used, expired, unknown or
// malformed link is refused and opens nothing.
func TestLogin(t *testing.T) {
	r := newRig(t, rigOptions{PublicURL: "https://console.example.com"})
	r.world()
	tok := r.linkToken(lead)
	b := &browser{r: r}
	page := b.get("/login?t=" + url.QueryEscape(tok))
	if page.status != http.StatusOK {
		t.Fatalf("login page: %d", page.status)
	}
	contains(t, "login page", page.body, "陈主管")
	contains(t, "login page", page.body, `id="login"`)
	if page.header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("headers %v", page.header)
	}
	if again := b.get("/login?t=" + url.QueryEscape(tok)); again.status != http.StatusOK {
		t.Fatalf("opening the link twice used it: %d", again.status)
	}
	req, _ := http.NewRequest("POST", r.srv.URL+"/login", strings.NewReader(url.Values{"t": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "rb_session" {
			ck = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d, cookie %+v", resp.StatusCode, ck)
	}
	b.cookie = ck.Value
	board := b.get("/")
	if board.status != http.StatusOK {
		t.Fatalf("board with the new session: %d", board.status)
	}
	contains(t, "board", board.body, "陈主管 · 主管")

	for _, tc := range []struct {
		name, token, want string
		prep              func()
	}{
		{"used", tok, "已使用", nil},
		{"unknown", strings.Repeat("A", 43), "无效", nil},
		{"malformed", "x", "无效", nil},
		{"expired", "", "过期", func() {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if tc.prep != nil {
				token = r.linkToken(dispatcher)
				r.clk.Advance(10 * time.Minute)
			}
			before := r.sessions()
			g := &browser{r: r}
			if page := g.get("/login?t=" + url.QueryEscape(token)); page.status != http.StatusForbidden || !strings.Contains(page.body, tc.want) {
				t.Fatalf("link page: %d %s", page.status, page.body)
			}
			res := g.post("/login", url.Values{"t": {token}})
			if res.status != http.StatusForbidden || g.cookie != "" || !strings.Contains(res.body, tc.want) {
				t.Fatalf("login: %d, cookie %q, %s", res.status, g.cookie, res.body)
			}
			if after := r.sessions(); after != before {
				t.Fatalf("sessions %d → %d", before, after)
			}
		})
	}
}

// sessions counts the stored sessions of the office.
func (r *rig) sessions() int {
	n := 0
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		for _, p := range []person{lead, dispatcher, admin} {
			ss, err := tx.ConsoleSessions(p.PID())
			if err != nil {
				return err
			}
			n += len(ss)
		}
		return nil
	})
	return n
}

// TestRefusedRequests: no session, a forged cookie, a missing or foreign
// CSRF token, a cross-site post, a form of one ticket posted to another's
// address, another estate's ticket number, a replayed form: refused, and
// nothing changes.
func TestRefusedRequests(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	a := r.report(resident, "厨房水管漏水")
	bID := r.report(other, "客厅灯不亮")
	leadB := r.session(lead)
	other := r.session(dispatcher)
	csrf, _ := leadB.form("/")
	foreign, _ := other.form("/")
	assign := func(b *browser, path string, fields url.Values) response {
		return b.post(path, fields)
	}
	base := func(kv ...string) url.Values {
		v := url.Values{"technician": {tech.PID()}, "ticket": {a}, "k": {newKey()}, "csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		b      *browser
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"no session", &browser{r: r}, "/t/" + a + "/act/assign", base(), http.StatusUnauthorized, "/console"},
		{"forged cookie", &browser{r: r, cookie: strings.Repeat("Q", 43)}, "/t/" + a + "/act/assign", base(), http.StatusUnauthorized, "/console"},
		{"garbage cookie", &browser{r: r, cookie: "../../etc"}, "/t/" + a + "/act/assign", base(), http.StatusUnauthorized, "/console"},
		{"missing CSRF token", leadB, "/t/" + a + "/act/assign", base("csrf", ""), http.StatusForbidden, "表单已过期"},
		{"another session's CSRF token", leadB, "/t/" + a + "/act/assign", base("csrf", foreign), http.StatusForbidden, "表单已过期"},
		{"cross-site post", &browser{r: r, cookie: leadB.cookie, origin: "https://evil.example"}, "/t/" + a + "/act/assign", base(), http.StatusForbidden, "表单已过期"},
		{"cross-site, by Sec-Fetch-Site", &browser{r: r, cookie: leadB.cookie, site: "cross-site"}, "/t/" + a + "/act/assign", base(), http.StatusForbidden, "表单已过期"},
		{"a null origin without Sec-Fetch-Site", &browser{r: r, cookie: leadB.cookie, origin: "null"}, "/t/" + a + "/act/assign", base(), http.StatusForbidden, "表单已过期"},
		{"another ticket in the form", leadB, "/t/" + a + "/act/assign", base("ticket", bID), http.StatusBadRequest, "不符"},
		{"another estate's ticket", leadB, "/t/ZZ-20261127-0001/act/assign", base("ticket", "ZZ-20261127-0001"), http.StatusNotFound, "找不到"},
		{"no form key", leadB, "/t/" + a + "/act/assign", base("k", ""), http.StatusBadRequest, "请求无效"},
		{"an unknown action", leadB, "/t/" + a + "/act/delete", base(), http.StatusNotFound, "找不到"},
		{"login as an action", leadB, "/t/" + a + "/act/login", base(), http.StatusNotFound, "找不到"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.snapshot()
			res := assign(tc.b, tc.path, tc.form)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) {
				t.Fatalf("got %d, want %d with %q:\n%s", res.status, tc.status, tc.want, res.body)
			}
			if after := r.snapshot(); after != before {
				t.Fatalf("a refused request changed something:\n%s\n→\n%s", before, after)
			}
		})
	}
	t.Run("a null origin from this site is a browser's own form", func(t *testing.T) {
		b := &browser{r: r, cookie: leadB.cookie, origin: "null", site: "same-origin"}
		if res := b.post("/t/"+a+"/act/return", base()); res.status == http.StatusForbidden && strings.Contains(res.body, "表单已过期") {
			t.Fatalf("refused as cross-site: %d", res.status)
		}
	})
	t.Run("a replayed form acts once", func(t *testing.T) {
		form := base()
		if res := leadB.post("/t/"+a+"/act/assign", form); res.status != http.StatusSeeOther {
			t.Fatalf("assign: %d %s", res.status, res.body)
		}
		r.drain()
		before := r.snapshot()
		res := leadB.post("/t/"+a+"/act/assign", form)
		if res.status != http.StatusSeeOther || r.snapshot() != before {
			t.Fatalf("the replay acted again: %d", res.status)
		}
		contains(t, "page after the replay", leadB.get("/t/"+a).body, "已经提交过")
	})
	t.Run("pages of another estate's ticket", func(t *testing.T) {
		if res := leadB.get("/t/ZZ-20261127-0001"); res.status != http.StatusNotFound {
			t.Fatalf("%d", res.status)
		}
	})
}

// TestRolesPerRequest: a session has the role the person has now: a
// person who lost the office role, or a session seeded for someone who
// never had it, is refused on the next request; an expired session too.
func TestRolesPerRequest(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	b := r.session(dispatcher)
	if res := b.get("/"); res.status != http.StatusOK {
		t.Fatalf("board: %d", res.status)
	}
	r.update(func(tx flows.Tx) error {
		p, err := tx.Person(dispatcher.PID())
		if err != nil {
			return err
		}
		p.Role = flows.RoleTechnician
		return tx.PutPerson(p)
	})
	if res := b.get("/"); res.status != http.StatusUnauthorized {
		t.Fatalf("a demoted person's session: %d", res.status)
	}
	// A technician cannot get a link; a session written for one anyway
	// (an older version, a bug) still opens nothing.
	tok := strings.Repeat("T", 43)
	r.update(func(tx flows.Tx) error {
		return tx.PutConsoleSession(&flows.ConsoleSession{Hash: flows.ConsoleTokenHash(tok), PersonID: tech.PID(), Created: r.clk.Now(), Expires: r.clk.Now().Add(time.Hour)})
	})
	if res := (&browser{r: r, cookie: tok}).get("/"); res.status != http.StatusUnauthorized {
		t.Fatalf("a technician's session: %d", res.status)
	}
	l := r.session(lead)
	r.clk.Advance(12 * time.Hour)
	if res := l.get("/"); res.status != http.StatusUnauthorized {
		t.Fatalf("a session after 12 hours: %d", res.status)
	}
}

// TestLogout: the console's logout ends its session; "everywhere" and
// /console logout in chat end all of them.
func TestLogout(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	one, two := r.session(lead), r.session(lead)
	csrf, _ := one.form("/")
	res := one.post("/logout", url.Values{"csrf": {csrf}})
	if res.status != http.StatusOK || one.cookie != "" {
		t.Fatalf("logout: %d, cookie %q", res.status, one.cookie)
	}
	if one.get("/").status == http.StatusOK {
		t.Fatal("a logged-out session still works")
	}
	if two.get("/").status != http.StatusOK {
		t.Fatal("logout ended the other session")
	}
	three := r.session(lead)
	r.cmd(lead, "console", "logout")
	contains(t, "reply", r.last(r.drain(), lead.Chat()).Text, "2")
	for i, b := range []*browser{two, three} {
		if res := b.get("/"); res.status != http.StatusUnauthorized {
			t.Fatalf("session %d after /console logout: %d", i+2, res.status)
		}
	}
	four := r.session(lead)
	csrf, _ = four.form("/")
	if res := four.post("/logout", url.Values{"csrf": {csrf}, "all": {"1"}}); res.status != http.StatusOK {
		t.Fatalf("logout everywhere: %d", res.status)
	}
	if r.sessions() != 0 {
		t.Fatalf("%d sessions left", r.sessions())
	}
}

// TestActionsByRole takes every console ticket action in every state as
// every office role over HTTP: it does what it does exactly where the
// engine's rows allow it (flows.ConsoleAllows; the flows tests hold those
// rows to the chat's design table), and changes nothing elsewhere. Its
// offer on the ticket page agrees.
func TestActionsByRole(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	sessions := map[string]*browser{"lead": r.session(lead), "dispatcher": r.session(dispatcher), "admin": r.session(admin)}
	people := map[string]person{"lead": lead, "dispatcher": dispatcher, "admin": admin}
	// The design, spelled out for the console's doors: leads and admins
	// assign, return and cancel; customer service files phone reports.
	// Leads and admins close a stuck ticket, merge a duplicate and reopen.
	design := map[string][]string{"assign": {"lead", "admin"}, "return": {"lead", "admin"}, "cancel": {"lead", "admin"},
		"lead_close": {"lead", "admin"}, "merge": {"lead", "admin"}, "reopen": {"lead", "admin"}}
	into := r.seed("BX-20261119-0001", flows.StateNew).ID
	states := flows.AllStates
	n := 0
	for _, action := range []string{"assign", "return", "cancel", "lead_close", "merge", "reopen"} {
		for _, state := range states {
			for who, b := range sessions {
				n++
				id := fmt.Sprintf("BX-20261120-%04d", n)
				r.seed(id, state)
				t.Run(fmt.Sprintf("%s/%s/%s", action, state, who), func(t *testing.T) {
					var p *flows.Person
					_ = r.st.View(context.Background(), func(tx flows.Tx) error { p, _ = tx.Person(people[who].PID()); return nil })
					want := flows.ConsoleAllows(action, p, r.ticket(id)) == nil
					if want && !in(design[action], who) {
						t.Fatalf("the engine allows %s to %s", who, action)
					}
					page := b.get("/t/" + id)
					offered := strings.Contains(page.body, "/act/"+action+`"`)
					if offered != want {
						t.Fatalf("the page offers %s: %v, allowed: %v", action, offered, want)
					}
					before := r.snapshot()
					res := b.act(id, action, url.Values{"technician": {tech2.PID()}, "reason": {"住户已自行修好"}, "into": {into}})
					got := r.ticket(id)
					r.drain()
					if !want {
						if res.status < 400 {
							t.Fatalf("refused with %d", res.status)
						}
						if r.snapshot() != before {
							t.Fatal("a refused action changed something")
						}
						return
					}
					if res.status != http.StatusSeeOther {
						t.Fatalf("allowed, but %d: %s", res.status, res.body)
					}
					wantState := map[string]flows.State{"assign": flows.StateAccepted, "return": flows.StateNew, "cancel": flows.StateCancelled,
						"lead_close": flows.StateClosed, "merge": flows.StateCancelled, "reopen": flows.StateNew}[action]
					if got.State != wantState {
						t.Fatalf("went %s → %s, want %s", state, got.State, wantState)
					}
				})
			}
		}
	}
}

func in(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// seed writes a ticket directly in a state, assigned to tech where the
// state implies an assignee.
func (r *rig) seed(id string, s flows.State) *flows.Ticket {
	now := r.clk.Now()
	tk := &flows.Ticket{ID: id, State: s, Category: "water", Description: "seed", Kind: flows.OrderHousehold, ASAP: true,
		ResidentID: resident.PID(), Building: "3栋", Unit: "2单元", Room: "1502", Created: now, Updated: now, Rev: 1}
	if s != flows.StateNew && s != flows.StateCancelled {
		tk.AssigneeID, tk.Assignee, tk.Accepted = tech.PID(), tech.Name, &now
	}
	if s == flows.StateOnSite || s == flows.StateDone {
		tk.Step, tk.Visit = "door", &flows.Visit{}
	}
	r.update(func(tx flows.Tx) error { return tx.PutTicket(tk) })
	return tk
}

// TestBoard: every open ticket with its state, age, assignee and SLA
// colour, the most urgent first; filters and search (a phone is matched,
// never shown in full); the live refresh asks for the table alone.
func TestBoard(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	a := r.report(resident, "厨房水管漏水")
	b := r.report(other, "客厅灯不亮")
	r.tap(tech, flows.EncodePayload("acc", b), true)
	r.drain()
	r.clk.Advance(13 * time.Minute) // a is new for 13 of its 15 minutes: at risk
	s := r.session(lead)
	page := s.get("/")
	if page.status != http.StatusOK {
		t.Fatalf("board: %d", page.status)
	}
	for _, want := range []string{a, b, "待接单", "已接单", "张师傅", "未分配", "13 分钟", `class="s-at_risk"`, "即将超时", `class="s-on_time"`, "共 2 张未完成，显示 2 张"} {
		contains(t, "board", page.body, want)
	}
	if strings.Index(page.body, a) > strings.Index(page.body, `href="/t/`+b) {
		t.Fatal("the ticket at risk is not first")
	}
	r.clk.Advance(3 * time.Minute)
	contains(t, "board later", s.get("/").body, `class="s-breached"`)
	for _, tc := range []struct {
		query      string
		has, hasnt []string
	}{
		{"state=accepted", []string{b}, []string{a}},
		{"tech=none", []string{a}, []string{b}},
		{"tech=" + tech.PID(), []string{b}, []string{a}},
		{"q=13900", []string{b}, []string{a}},
		{"q=0013+8000", []string{a}, []string{b}},
		{"q=王芳", []string{a}, []string{b}},
		{"q=" + b[len(b)-4:], []string{b}, []string{a}},
		{"q=1502", []string{a, b}, nil},
		{"sla=breached", []string{a}, []string{b}},
		{"emergency=yes", nil, []string{a, b}},
		{"category=electricity", nil, []string{a, b}},
		{"building=9栋", nil, []string{a, b}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := s.get("/?" + tc.query)
			for _, id := range tc.has {
				contains(t, tc.query, p.body, `href="/t/`+id+`"`)
			}
			for _, id := range tc.hasnt {
				if strings.Contains(p.body, `href="/t/`+id+`"`) {
					t.Fatalf("%s lists %s", tc.query, id)
				}
			}
			if strings.Contains(p.body, "13900139000") || strings.Contains(p.body, "13800138000") {
				t.Fatal("a phone number is shown in full")
			}
		})
	}
	t.Run("escaped", func(t *testing.T) {
		x := r.seed("BX-20261126-0001", flows.StateNew)
		x.Building, x.Unit = `<img src=x onerror=alert(1)>`, `"&'`
		r.update(func(tx flows.Tx) error { return tx.PutTicket(x) })
		p := s.get("/")
		if strings.Contains(p.body, "<img src=x") || !strings.Contains(p.body, "&lt;img src=x onerror=alert(1)&gt; &#34;&amp;&#39;") {
			t.Fatalf("an address is not escaped:\n%s", p.body)
		}
		r.update(func(tx flows.Tx) error { x.State = flows.StateCancelled; return tx.PutTicket(x) })
	})
	partial := s.get("/?partial=1&tech=none")
	if strings.Contains(partial.body, "<html") || !strings.Contains(partial.body, a) || strings.Contains(partial.body, b) {
		t.Fatalf("partial: %s", partial.body)
	}
	if p := (&browser{r: r}).get("/?partial=1"); p.status != http.StatusUnauthorized || strings.Contains(p.body, a) {
		t.Fatalf("partial without a session: %d", p.status)
	}
	t.Run("english", func(t *testing.T) {
		r.cmd(lead, "lang", "en")
		r.drain()
		p := s.get("/")
		for _, want := range []string{"Open tickets", "breached", "unassigned", `lang="en"`} {
			contains(t, "English board", p.body, want)
		}
	})
}

// TestTicketPage: the details, the visit, the whole trail with times and
// actors, and the kept photos — only the ticket's own, by their hash —
// whether the media store keeps files or keeps its copies elsewhere (the
// database replicas share).
func TestTicketPage(t *testing.T) {
	t.Run("files", func(t *testing.T) { testTicketPage(t, rigOptions{}) })
	t.Run("blobs", func(t *testing.T) { testTicketPage(t, rigOptions{Blobs: &mediatest.Fake{}}) })
}

func testTicketPage(t *testing.T, o rigOptions) {
	r := newRig(t, o)
	r.world()
	a := r.report(resident, "厨房水管漏水")
	b := r.report(other, "客厅灯不亮")
	img := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	sum, rel, err := r.media.Put(strings.NewReader(string(img)))
	if err != nil {
		t.Fatal(err)
	}
	r.update(func(tx flows.Tx) error {
		tk, err := tx.Ticket(a)
		if err != nil {
			return err
		}
		tk.Photos = []flows.Photo{{FileID: "f1", SHA256: sum, Local: rel}}
		tk.Visit = &flows.Visit{Entry: "resident", Plan: "更换角阀", Tests: 3, QuoteOK: true,
			Quote: &flows.Quote{Seq: 1, Status: "agreed", Lines: []flows.QuoteLine{{Code: "W02", Qty: 1, Cents: 3500}}}}
		return tx.PutTicket(tk)
	})
	r.tap(tech, flows.EncodePayload("acc", a), true)
	r.drain()
	s := r.session(dispatcher)
	page := s.get("/t/" + a)
	for _, want := range []string{a, "厨房水管漏水", "王芳", "138****8000", "3栋 / 2单元 / 1502", "更换角阀", "¥35.00", "住户已同意",
		"测试：通过 3 次", "报修", "接单", "张师傅", "2026-11-27 10:00", "/t/" + a + "/photo/" + sum} {
		contains(t, "ticket page", page.body, want)
	}
	if strings.Contains(page.body, "13800138000") {
		t.Fatal("the phone is shown in full")
	}
	if strings.Contains(page.body, "/act/assign") {
		t.Fatal("customer service is offered a lead's action")
	}
	ph := s.get("/t/" + a + "/photo/" + sum)
	if ph.status != http.StatusOK || ph.header.Get("Content-Type") != "image/png" || ph.body != string(img) {
		t.Fatalf("photo: %d %s", ph.status, ph.header.Get("Content-Type"))
	}
	for name, path := range map[string]string{
		"another ticket's URL":    "/t/" + b + "/photo/" + sum,
		"a hash it does not have": "/t/" + a + "/photo/" + hex.EncodeToString(sha256.New().Sum(nil)),
		"a path":                  "/t/" + a + "/photo/..%2f..%2frepair.db",
	} {
		if res := s.get(path); res.status != http.StatusNotFound {
			t.Errorf("%s: %d", name, res.status)
		}
	}
	if res := (&browser{r: r}).get("/t/" + a + "/photo/" + sum); res.status != http.StatusUnauthorized {
		t.Fatalf("a photo without a session: %d", res.status)
	}
	if _, err := os.Stat(filepath.Join(r.media.Dir, rel)); (err != nil) != (o.Blobs != nil) {
		t.Fatalf("the copy as a file: %v (with Blobs it must not be one)", err)
	}
}

// TestPhoneTicket: customer service finds a resident by phone (masked in
// the list), files the report for them (they are told in chat), and
// registers a resident without a chat; a refusal brings the form back
// with what was typed.
func TestPhoneTicket(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	s := r.session(dispatcher)
	found := s.get("/new?q=0013+8000")
	contains(t, "search", found.body, "王芳")
	contains(t, "search", found.body, "138****8000")
	contains(t, "search", found.body, "/new?resident=tg%3a100")
	if strings.Contains(found.body, "13800138000") || strings.Contains(found.body, "李雷") {
		t.Fatal("the search shows a full phone or someone else")
	}
	picked := s.get("/new?resident=" + url.QueryEscape(resident.PID()))
	contains(t, "picked", picked.body, "已选择：王芳")
	csrf, key := s.form("/new?resident=" + url.QueryEscape(resident.PID()))
	res := s.post("/new", url.Values{"csrf": {csrf}, "k": {key}, "resident": {resident.PID()}, "category": {"water"},
		"description": {"卫生间下水慢"}, "kind": {"household"}, "when": {"asap"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/t/BX-") {
		t.Fatalf("phone report: %d %s", res.status, res.body)
	}
	id := strings.TrimPrefix(res.header.Get("Location"), "/t/")
	msgs := r.drain()
	contains(t, "resident's chat", r.last(msgs, resident.Chat()).Text, id)
	contains(t, "group card", r.last(msgs, flowstest.Group).Text, id)
	contains(t, "ticket page", s.get("/t/"+id).body, "客服电话登记")

	csrf, key = s.form("/new")
	bad := url.Values{"csrf": {csrf}, "k": {key}, "name": {"孙大爷"}, "phone": {"13800138000"}, "building": {"5栋"}, "unit": {"1单元"}, "room": {"302"},
		"category": {"water"}, "description": {"水龙头滴水"}, "kind": {"household"}, "when": {"asap"}}
	before := r.snapshot()
	res = s.post("/new", bad)
	if res.status != http.StatusConflict || !strings.Contains(res.body, "已登记为住户 王芳") || !strings.Contains(res.body, "水龙头滴水") {
		t.Fatalf("a registered phone: %d\n%s", res.status, res.body)
	}
	if r.snapshot() != before {
		t.Fatal("a refused report changed something")
	}
	bad.Set("phone", "137 0000 1111")
	bad.Set("k", newKey())
	res = s.post("/new", bad)
	if res.status != http.StatusSeeOther {
		t.Fatalf("a new resident: %d %s", res.status, res.body)
	}
	for _, m := range r.drain() {
		if m.To != flowstest.Group {
			t.Fatalf("a resident without a chat was sent %q", m.Text)
		}
	}
	lb := r.session(lead)
	if page := lb.get("/new"); page.status != http.StatusOK {
		t.Fatalf("a lead's phone report page: %d", page.status)
	}
}

// TestEvents: the stream says "change" after anything commits, in chat or
// in the console, and ends with the session.
func TestEvents(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	s := r.session(lead)
	req, _ := http.NewRequest("GET", r.srv.URL+"/events", nil)
	req.AddCookie(&http.Cookie{Name: "rb_session", Value: s.cookie})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", want)
				}
				if l == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q", want)
			}
		}
	}
	waitFor("retry: 3000")
	id := r.report(resident, "漏水")
	waitFor("event: change")
	if res := s.act(id, "assign", url.Values{"technician": {tech.PID()}}); res.status != http.StatusSeeOther {
		t.Fatalf("assign: %d", res.status)
	}
	waitFor("event: change")
	if (&browser{r: r}).get("/events").status != http.StatusUnauthorized {
		t.Fatal("a stream without a session")
	}
}

// TestConsoleCloses: Close ends open streams and stops the server.
func TestConsoleCloses(t *testing.T) {
	r := newRig(t, rigOptions{})
	if err := r.con.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := r.con.Addr()
	if addr == "" {
		t.Fatal("no address")
	}
	resp, err := http.Get("http://" + addr + "/login?t=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	done := make(chan error, 1)
	go func() { done <- r.con.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
	if err := r.con.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}
