package main

// `demo -web` in a real browser: headless Chromium (Debian's chromium)
// driven by chromedp, against the whole page — the real bot on the fake
// Bot API, its console behind the page. Skipped without /usr/bin/chromium
// unless REPAIRBOT_BROWSER_REQUIRED=1 (CI sets it).
//
// REPAIRBOT_SCREENSHOTS=<dir> also saves the page after the scripted
// repair (docs/img/demo-web.png):
//
//	REPAIRBOT_SCREENSHOTS=$PWD/docs/img go test -run TestDemoWebScript .

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/demoweb"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/browsertest"
)

// webDemo is the page in a browser.
type webDemo struct {
	t   *testing.T
	srv *demoweb.Server
	ctx context.Context
	lb  demoLabels
}

func newWebDemo(t *testing.T) *webDemo {
	t.Helper()
	browsertest.Need(t)
	srv, err := newDemoWeb("127.0.0.1:0", "zh", t.TempDir(), zerolog.Nop(), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx := browsertest.Start(t, 1880, 820)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL())); err != nil {
		t.Fatalf("open %s: %v", srv.URL(), err)
	}
	texts := i18n.MustLoad(flows.LangZH)
	cfg := config.Default()
	for i := range cfg.Categories {
		if cfg.Categories[i].Key == "electricity" {
			cfg.Categories[i].NeedsCert = "elec_low_voltage"
		}
	}
	d := &webDemo{t: t, srv: srv, ctx: ctx, lb: labelsFor(texts, flows.LangZH, cfg)}
	d.until("the bot is ready", 60*time.Second, `document.querySelector('#status').dataset.status === 'ready'`)
	return d
}

// eval runs JavaScript in the page and decodes its value.
func eval[T interface{}](d *webDemo, js string) (T, error) {
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](js))
}

// until waits for the JavaScript condition to hold.
func (d *webDemo) until(what string, timeout time.Duration, cond string) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := eval[bool](d, "!!("+cond+")")
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := eval[string](d, `document.body.innerText`)
			d.t.Fatalf("%s: not within %s (%v)\npage:\n%s", what, timeout, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pane(id interface{}) string {
	return fmt.Sprintf(`document.querySelector('[data-pane="%v"]')`, id)
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// botCount is how many bot messages the pane shows.
func (d *webDemo) botCount(p interface{}) int {
	n, err := eval[int](d, pane(p)+`.querySelectorAll('.msg.bot').length`)
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// waitBot waits for a bot message after the first n in the pane that contains want.
func (d *webDemo) waitBot(p interface{}, n int, want string) {
	d.t.Helper()
	d.until(fmt.Sprintf("pane %v: a message with %q", p, want), 20*time.Second,
		fmt.Sprintf(`[...%s.querySelectorAll('.msg.bot')].slice(%d).some(m => m.innerText.includes(%s))`, pane(p), n, js(want)))
}

// say types text in the pane's box, sends it and waits for an answer containing want.
func (d *webDemo) say(p interface{}, text, want string) {
	d.t.Helper()
	n := d.botCount(p)
	if _, err := eval[bool](d, fmt.Sprintf(`(() => { const p = %s; p.querySelector('.compose input').value = %s; p.querySelector('.compose .send').click(); return true })()`, pane(p), js(text))); err != nil {
		d.t.Fatal(err)
	}
	d.waitBot(p, n, want)
}

// tap clicks the newest button of the pane whose label contains label
// (waiting for it to appear) and waits for a new bot message containing
// want ("": none awaited).
func (d *webDemo) tap(p interface{}, sel, label, want string) {
	d.t.Helper()
	n := d.botCount(p)
	d.until(fmt.Sprintf("pane %v: tap %q", p, label), 20*time.Second, fmt.Sprintf(
		`(() => { const bs = [...%s.querySelectorAll(%s)].filter(b => b.textContent.includes(%s)); if (!bs.length) return false; bs[bs.length-1].click(); return true })()`,
		pane(p), js(sel), js(label)))
	if want != "" {
		d.waitBot(p, n, want)
	}
}

func (d *webDemo) click(id string) {
	d.t.Helper()
	d.until("click #"+id, 20*time.Second, fmt.Sprintf(`(() => { const b = document.getElementById(%s); if (b.disabled) return false; b.click(); return true })()`, js(id)))
}

// view is the page's state as the server has it.
func (d *webDemo) view() (v struct {
	Player struct {
		State, Scene, Error string
		Steps               int
	}
	Chats map[string]struct {
		Messages []struct {
			Text    string
			Photo   string
			DocURL  string `json:"doc_url"`
			Buttons [][]struct{ Text string }
		}
	}
}) {
	d.t.Helper()
	resp, err := http.Get(d.srv.URL() + "/api/view")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		d.t.Fatal(err)
	}
	return v
}

func (d *webDemo) screenshot(name string) {
	dir := os.Getenv("REPAIRBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	// The picture without the last taps' toasts over the phones.
	if _, err := eval[bool](d, `(() => { document.querySelectorAll('.toast').forEach(t => t.classList.remove('show')); return true })()`); err != nil {
		d.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// register walks the resident through /start in their phone, the
// contact shared with the reply keyboard's button, the estate tapped.
func (d *webDemo) register(res int64, name string) {
	d.t.Helper()
	d.say(res, "/start", "")
	d.say(res, name, "")
	d.until("the share-contact button", 20*time.Second, pane(res)+`.querySelector('.replykb button.contact') !== null`)
	n := d.botCount(res)
	d.tap(res, ".replykb button.contact", "", "")
	d.waitBot(res, n, "")
	// The demo's company has two estates: the resident picks theirs.
	d.tap(res, ".kb button", demoScripts["zh"].area, demoScripts["zh"].area)
	d.say(res, "3栋", "")
	d.say(res, "2单元", "")
	d.say(res, "1502", d.lb.report)
}

// report files a water leak with a sample photo from the resident's phone.
func (d *webDemo) report(res int64) {
	d.t.Helper()
	d.say(res, "/report", d.lb.water)
	d.tap(res, ".kb button", d.lb.water, "")
	d.say(res, "厨房水槽下面的水管在滴水", d.lb.noMore)
	m := d.botCount(res)
	d.tap(res, ".compose .photo", "📷", "")
	d.until("the photo in the resident's phone", 20*time.Second, pane(res)+`.querySelector('.msg.me img') !== null && `+pane(res)+`.querySelector('.msg.me img').naturalWidth > 0`)
	d.waitBot(res, m, d.lb.noMore)
	d.tap(res, ".kb button", d.lb.noMore, d.lb.household)
	d.tap(res, ".kb button", d.lb.household, d.lb.asap)
	d.tap(res, ".kb button", d.lb.asap, "BX-")
}

// The scripted repair plays to the end in the phones: started by one
// step, stepped, continued; every scene's messages land in the panes.
func TestDemoWebScript(t *testing.T) {
	d := newWebDemo(t)
	d.click("step")
	d.until("paused after one step", 60*time.Second, `document.querySelector('#status').dataset.player === 'paused' && document.querySelector('#doing').textContent.includes('/invite')`)
	if v := d.view(); v.Player.Steps != 1 {
		t.Fatalf("one step let through, got %+v", v.Player)
	}
	d.click("step")
	d.until("the second step", 20*time.Second, `document.querySelector('#doing').textContent.includes('/start')`)
	if v := d.view(); v.Player.Steps != 2 || v.Player.State != "paused" {
		t.Fatalf("two steps, still paused: %+v", v.Player)
	}
	d.click("play") // continue
	d.until("the script's end", 3*time.Minute, `['done', 'failed'].includes(document.querySelector('#status').dataset.player)`)
	v := d.view()
	if v.Player.State != "done" {
		t.Fatalf("script: %+v", v.Player)
	}
	// What the phones show: the resident's ticket and photo, the closed
	// card in the group, the work order as a download.
	d.until("the closed card in the group", 10*time.Second, pane("group")+`.innerText.includes(`+js(d.lb.wantClosed)+`)`)
	d.until("the ticket in the resident's phone", 10*time.Second, pane(3001)+`.innerText.includes('BX-')`)
	d.until("a sample photo shown", 10*time.Second, `[...`+pane(3001)+`.querySelectorAll('.msg.me img')].some(i => i.naturalWidth > 0)`)
	href, err := eval[string](d, pane(3001)+`.querySelector('a.doc').getAttribute('href')`)
	if err != nil || href == "" {
		t.Fatalf("no work order download in the resident's phone: %v", err)
	}
	resp, err := http.Get(d.srv.URL() + href)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "PK") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("work order download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Disposition"), body[:min(len(body), 8)])
	}
	// The lead's console beside the phones, logged in with the bot's link.
	const console = `document.getElementById('console').contentDocument`
	d.until("the console's login page", 20*time.Second, console+` && `+console+`.getElementById('login')`)
	d.until("log in", 10*time.Second, `(() => { `+console+`.getElementById('login').click(); return true })()`)
	d.until("the console's board", 20*time.Second, console+`.querySelector('table.board') && `+console+`.body.innerText.includes('BX-')`)
	d.screenshot("demo-web.png")

	// Reset: a new, empty store; the phones stay, their chats empty.
	d.click("reset")
	d.until("the new world", 60*time.Second, `document.querySelector('#status').dataset.status === 'ready' && !`+pane("group")+`.querySelector('.msg')`)
	if v := d.view(); len(v.Chats["3001"].Messages) != 0 || v.Player.State != "idle" {
		t.Fatalf("after reset: %+v", v)
	}
}

// A person taps through a registration and a report in the resident's
// phone, and the technician accepts the card in the group by hand.
func TestDemoWebByHand(t *testing.T) {
	d := newWebDemo(t)
	d.waitBot(2001, 0, "") // the technician was hired when the bot started
	d.register(3001, "王芳")
	d.report(3001)
	d.tap(2001, ".tabs .tab-group", "", "")
	d.until("the card in the technician's view of the group", 20*time.Second, pane(2001)+`.dataset.chat === '-1001234567890' && `+pane(2001)+`.innerText.includes('BX-')`)
	d.tap(2001, ".kb button", d.lb.accept, "")
	d.until("the card edited in place: accepted", 20*time.Second, pane("group")+`.innerText.includes(`+js(literal(i18n.MustLoad(flows.LangZH).T(flows.LangZH, "card.status.accepted")))+`)`)
	d.tap(2001, ".tabs .tab-bot", "", "")
	d.until("the job in the technician's own chat", 20*time.Second, pane(2001)+`.querySelector('.kb') && `+pane(2001)+`.innerText.includes(`+js(d.lb.onWay)+`)`)
	cards, err := eval[int](d, `[...`+pane("group")+`.querySelectorAll('.msg.bot')].filter(m => m.innerText.includes('BX-')).length`)
	if err != nil || cards != 1 {
		t.Fatalf("the group shows %d cards (want the one card, edited): %v", cards, err)
	}

	// The technician's phone switches to English: its own words, and the
	// bot's (through /lang, as the technician would type it).
	d.until("switch to English", 10*time.Second, `(() => { const s = `+pane(2001)+`.querySelector('.pane-lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true })()`)
	d.waitBot(2001, 0, i18n.MustLoad(flows.LangZH).T(flows.LangEN, "lang.set"))
	d.until("the pane in English", 10*time.Second, pane(2001)+`.querySelector('.compose .send').textContent === 'Send' && `+pane(3001)+`.querySelector('.compose .send').textContent === '发送'`)
}

// Two technicians tap the same card at once: one wins, the other is told.
func TestDemoWebRace(t *testing.T) {
	d := newWebDemo(t)
	d.click("add-technician")
	d.until("a second technician, hired", 30*time.Second, pane(2002)+` && `+pane(2002)+`.querySelectorAll('.msg.bot').length > 0`)
	d.register(3001, "王芳")
	d.report(3001)
	for _, tech := range []int{2001, 2002} {
		d.tap(tech, ".tabs .tab-group", "", "")
		d.until("the card in the group", 20*time.Second, pane(tech)+`.dataset.chat === '-1001234567890' && `+pane(tech)+`.querySelector('.kb button')`)
	}
	ok, err := eval[bool](d, fmt.Sprintf(`(() => { const b = [2001, 2002].map(id => [...document.querySelectorAll('[data-pane="' + id + '"] .kb button')].find(x => x.textContent.includes(%s)));
		if (!b[0] || !b[1]) return false; b[0].click(); b[1].click(); return true })()`, js(d.lb.accept)))
	if err != nil || !ok {
		t.Fatalf("both accept buttons: %v %v", ok, err)
	}
	refusal := literal(i18n.MustLoad(flows.LangZH).T(flows.LangZH, "err.already_taken"))
	d.until("one refusal", 20*time.Second, `[2001, 2002].filter(id => document.querySelector('[data-pane="' + id + '"] .toast').textContent.includes(`+js(refusal)+`)).length === 1`)
	loser, err := eval[int](d, `[2001, 2002].find(id => document.querySelector('[data-pane="' + id + '"] .toast').textContent.includes(`+js(refusal)+`))`)
	if err != nil {
		t.Fatal(err)
	}
	winner := map[int]int{2001: 2002, 2002: 2001}[loser]
	v := d.view()
	jobs := map[int]bool{}
	for _, tech := range []int{2001, 2002} {
		for _, m := range v.Chats[fmt.Sprint(tech)].Messages {
			for _, row := range m.Buttons {
				for _, b := range row {
					if strings.Contains(b.Text, d.lb.onWay) {
						jobs[tech] = true
					}
				}
			}
		}
	}
	if !jobs[winner] || jobs[loser] {
		t.Fatalf("winner %d, loser %d: jobs %v", winner, loser, jobs)
	}
}

// `repairbot demo -web` prints the page's local address and serves it
// until Ctrl-C; it never listens beyond this machine.
func TestDemoWebCommand(t *testing.T) {
	served := false
	old := demoWebServe
	t.Cleanup(func() { demoWebServe = old })
	demoWebServe = func(srv *demoweb.Server) error {
		served = true
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(srv.URL() + "/api/view")
			if err != nil {
				return err
			}
			var v struct{ Status, Console string }
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err == nil && v.Status == "ready" && v.Console != "" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not ready: %+v %v", v, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		resp, err := http.Get(srv.URL() + "/")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "/static/demoweb.js") {
			t.Errorf("the page: %d\n%s", resp.StatusCode, body)
		}
		return nil
	}
	var out, errs strings.Builder
	if err := run([]string{"demo", "-web", "-listen", "127.0.0.1:0", "-data", t.TempDir()}, &out, &errs); err != nil {
		t.Fatalf("demo -web: %v\n%s", err, errs.String())
	}
	if !served || !strings.Contains(out.String(), "http://127.0.0.1:") {
		t.Fatalf("no address printed:\n%s", out.String())
	}
	served = false
	if err := run([]string{"demo", "-web", "-listen", "0.0.0.0:0", "-data", t.TempDir()}, &out, &errs); err == nil || served {
		t.Fatalf("served on every interface: %v", err)
	}
}
