package web_test

// The console in a real browser: headless Chromium (Debian's chromium
// package) driven by chromedp, against the whole bot — the fake Bot API
// (tgfake), the Telegram channel, the real engine and store, and the
// console listening on a port. The test skips without /usr/bin/chromium
// unless REPAIRBOT_BROWSER_REQUIRED=1 (CI sets it), which makes a missing
// browser a failure.
//
// REPAIRBOT_SCREENSHOTS=<dir> also saves the board (desktop and phone),
// a ticket's page, the price list and the KPI page there, as in docs/img:
//
//	REPAIRBOT_SCREENSHOTS=$PWD/docs/img go test -run TestBrowser ./bot/web/

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/browsertest"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/records"
)

const (
	tgToken   = "123456789:Browser-test-token-for-the-fake"
	tgGroup   = int64(-1001234567890)
	tgAdminID = int64(1001)
	wait      = 15 * time.Second
)

// stack is the whole bot with its console, on the fake Bot API.
type stack struct {
	t     *testing.T
	fake  *tgfake.Server
	st    testkit.Store
	eng   *flows.Engine
	tg    *telegram.Channel
	con   *web.Channel
	media *media.Store
}

func newStack(t *testing.T) *stack {
	t.Helper()
	fake := tgfake.New(tgfake.Options{Token: tgToken})
	t.Cleanup(fake.Close)
	fake.AddGroup(tgGroup, "维修班组")
	dir := t.TempDir()
	st := testkit.MustOpen(t, filepath.Join(dir, "repair.db"), testkit.Options{})
	texts := i18n.MustLoad(flows.LangZH)
	s := &stack{t: t, fake: fake, st: st}
	o := flowstest.Options(t, st, time.Now)
	o.Group = telegram.ChatAddress(tgGroup)
	o.Admins = map[string]bool{telegram.PersonID(tgAdminID): true}
	o.GroupCommit = true
	o.InviteLink = func(ch, code string) string {
		if link, ok := s.tg.InviteLink(ch, code); ok {
			return link
		}
		return "/start " + code
	}
	o.Console.Link = func(token string) (string, bool) { return s.con.LoginLink(token) }
	eng, err := flows.NewEngine(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.InstallSOP(context.Background(), o.SOP, "system"); err != nil {
		t.Fatal(err)
	}
	s.eng = eng
	s.media = &media.Store{Dir: filepath.Join(dir, "photos"), Max: 10 << 20}
	ro := eng.RecordOptions()
	rec, err := records.New(records.Options{Store: st, Texts: texts, Profile: ro.Profile, OrgName: ro.OrgName, Location: ro.Location,
		Categories: ro.Categories, Emergencies: ro.Emergencies, SOP: eng.SOP, OpenMedia: s.media.Open, Daily: eng.DailyList, Parts: ro.Parts})
	if err != nil {
		t.Fatal(err)
	}
	deps := bot.Deps{Engine: eng, Store: st, Outbox: st, Texts: texts, DefaultLang: flows.LangZH, Domain: eng, Now: time.Now,
		Media: s.media, Log: zerolog.Nop(), Exports: rec}
	s.tg, err = telegram.New(telegram.Options{Token: tgToken, APIURL: fake.URL(), Mode: "polling", PollTimeout: time.Second, Deps: deps,
		MaxPhotoBytes: 10 << 20, Send: telegram.SendLimits{PerChatPerSecond: 30, GroupPerMinute: 1200, GlobalPerSecond: 30,
			BaseBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	s.con, err = web.New(web.Options{Listen: "127.0.0.1:0", Deps: deps})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, ch := range []bot.Channel{s.tg, s.con} {
		if err := ch.Open(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ch.Close() })
	}
	t.Cleanup(func() { _ = st.Close() }) // after the channels (cleanups run in reverse)
	return s
}

// ---- people in the fake ----

func (s *stack) top(chat int64) int {
	if ms := s.fake.Messages(chat); len(ms) > 0 {
		return ms[len(ms)-1].ID
	}
	return 0
}

// say sends text in u's private chat and waits for a reply containing want.
func (s *stack) say(u tgfake.User, text, want string) tgfake.Message {
	s.t.Helper()
	before := s.top(u.ID)
	s.fake.SendText(u, u.ID, text)
	return s.next(u.ID, before, want)
}

func (s *stack) next(chat int64, after int, want string) tgfake.Message {
	s.t.Helper()
	m, ok := s.fake.WaitMessage(chat, wait, func(m tgfake.Message) bool { return m.ID > after && strings.Contains(m.Text+m.Caption, want) })
	if !ok {
		var b strings.Builder
		for _, m := range s.fake.Messages(chat) {
			fmt.Fprintf(&b, "  #%d %q\n", m.ID, m.Text)
		}
		s.t.Fatalf("chat %d: no message with %q after #%d:\n%s", chat, want, after, b.String())
	}
	return m
}

// tap presses a button of m and waits for a reply containing want in u's chat.
func (s *stack) tap(u tgfake.User, m tgfake.Message, label, want string) tgfake.Message {
	s.t.Helper()
	before := s.top(u.ID)
	if _, err := s.fake.Tap(u, m.ChatID, m.ID, label); err != nil {
		s.t.Fatal(err)
	}
	return s.next(u.ID, before, want)
}

func (s *stack) hire(admin, u tgfake.User, role string) {
	s.t.Helper()
	m := s.say(admin, "/invite "+role, "?start=")
	i := strings.Index(m.Text, "?start=")
	s.say(u, "/start "+strings.Fields(m.Text[i+len("?start="):])[0], u.FirstName)
}

func (s *stack) register(u tgfake.User, phone string) {
	s.t.Helper()
	s.say(u, "/start", "姓名")
	s.say(u, u.FirstName, "手机")
	before := s.top(u.ID)
	s.fake.SendContact(u, phone, true)
	s.next(u.ID, before, "楼")
	s.say(u, "3栋", "单元")
	s.say(u, "2单元", "房")
	s.say(u, "1502", u.FirstName)
}

// report files a water fault and returns its ticket number.
func (s *stack) report(u tgfake.User, desc string) string {
	s.t.Helper()
	m := s.say(u, "/report", "类别")
	m = s.tap(u, m, "水管/漏水", "描述")
	m = s.say(u, desc, "照片")
	m = s.tap(u, m, "没有更多照片", "家里的问题")
	m = s.tap(u, m, "我家里的问题", "上门")
	m = s.tap(u, m, "尽快", "BX-")
	id := ticketRE.FindString(m.Text)
	if id == "" {
		s.t.Fatalf("no ticket number in %q", m.Text)
	}
	return id
}

// consoleLink asks the bot for a login link as u.
func (s *stack) consoleLink(u tgfake.User) string {
	s.t.Helper()
	m := s.say(u, "/console", "/login?t=")
	for _, f := range strings.Fields(m.Text) {
		if strings.Contains(f, "/login?t=") {
			return f
		}
	}
	s.t.Fatalf("no link in %q", m.Text)
	return ""
}

// groupCard is the current text of the group's card of a ticket.
func (s *stack) groupCard(id string) string {
	for _, m := range s.fake.Messages(tgGroup) {
		if strings.Contains(m.Text, id) {
			return m.Text
		}
	}
	return ""
}

// seed writes open tickets straight to the store in every SLA state, for
// a board worth looking at.
func (s *stack) seed(resident string) {
	s.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	day := now.In(time.FixedZone("CST", 8*3600)).Format("20060102")
	at := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }
	seeds := []flows.Ticket{
		{ID: "BX-" + day + "-0901", State: flows.StateNew, Category: "door", Description: "单元门禁刷卡无反应", Building: "7栋", Unit: "1单元", Room: "0101", Created: now.Add(-40 * time.Minute), Breaches: []string{"accept"}},
		{ID: "BX-" + day + "-0902", State: flows.StateNew, Category: "electricity", Description: "厨房插座跳闸", Building: "5栋", Unit: "3单元", Room: "802", Created: now.Add(-12 * time.Minute)},
		{ID: "BX-" + day + "-0903", State: flows.StateAccepted, Category: "water", Description: "楼上漏水到卫生间吊顶", Building: "2栋", Unit: "1单元", Room: "1203", Created: now.Add(-2 * time.Minute),
			Emergency: "water_leak", AssigneeID: "tg:3002", Assignee: "李师傅", Accepted: at(time.Minute)},
		{ID: "BX-" + day + "-0904", State: flows.StateOnSite, Category: "water", Description: "卫生间洗手盆下角阀漏水，柜子里都是水", Building: "9栋", Unit: "2单元", Room: "601", Created: now.Add(-3 * time.Hour),
			AssigneeID: "tg:3002", Assignee: "李师傅", Accepted: at(170 * time.Minute), Arrived: at(2 * time.Hour), Step: "tests",
			Visit: &flows.Visit{Entry: "resident", Plan: "角阀老化开裂，更换角阀并重新缠生料带", Tests: 2, QuoteOK: true,
				Quote: &flows.Quote{Seq: 1, Status: "agreed", Lines: []flows.QuoteLine{{Code: "W02", Qty: 1, Cents: 2500}, {Code: "W04", Qty: 1, Cents: 1500}}}}},
		// Done two days ago and never signed off: stuck until a lead ends it.
		{ID: "BX-" + day + "-0905", State: flows.StateDone, Category: "electricity", Description: "客厅灯不亮，已更换灯座", Building: "4栋", Unit: "1单元", Room: "303", Created: now.Add(-50 * time.Hour),
			AssigneeID: "tg:3002", Assignee: "李师傅", Accepted: at(49 * time.Hour), Arrived: at(48 * time.Hour), Finished: at(47 * time.Hour), Step: "signoff", Visit: &flows.Visit{Entry: "resident", Tests: 2}},
	}
	photos := s.photos(3)
	seeds[3].Photos = photos[:1]
	seeds[3].Visit.Photos = map[string][]flows.Photo{"protect": photos[1:2], "cleanup": photos[2:3]}
	const techID = "tg:3002"
	trail := []flows.TicketEvent{
		{At: now.Add(-170 * time.Minute), Actor: techID, Action: "acc", From: flows.StateNew, To: flows.StateAccepted},
		{At: now.Add(-150 * time.Minute), Actor: techID, Action: "way", From: flows.StateAccepted, To: flows.StateOnTheWay},
		{At: now.Add(-120 * time.Minute), Actor: techID, Action: "arr", From: flows.StateOnTheWay, To: flows.StateOnSite},
		{At: now.Add(-118 * time.Minute), Actor: techID, Action: "answered", From: flows.StateOnSite, To: flows.StateOnSite, Note: "door"},
		{At: now.Add(-117 * time.Minute), Actor: resident, Action: "ent", From: flows.StateOnSite, To: flows.StateOnSite},
		{At: now.Add(-110 * time.Minute), Actor: techID, Action: "plan", From: flows.StateOnSite, To: flows.StateOnSite, Note: "survey 角阀老化开裂，更换角阀并重新缠生料带"},
		{At: now.Add(-105 * time.Minute), Actor: techID, Action: "quote_sent", From: flows.StateOnSite, To: flows.StateOnSite, Note: "quote ¥40.00"},
		{At: now.Add(-103 * time.Minute), Actor: resident, Action: "quote_agreed", From: flows.StateOnSite, To: flows.StateOnSite, Note: "quote 1"},
		{At: now.Add(-100 * time.Minute), Actor: techID, Action: "photo", From: flows.StateOnSite, To: flows.StateOnSite, Note: "protect", Photos: photos[1:2]},
		{At: now.Add(-80 * time.Minute), Actor: techID, Action: "repaired", From: flows.StateOnSite, To: flows.StateOnSite, Note: "work"},
		{At: now.Add(-75 * time.Minute), Actor: techID, Action: "photo", From: flows.StateOnSite, To: flows.StateOnSite, Note: "cleanup", Photos: photos[2:3]},
		{At: now.Add(-70 * time.Minute), Actor: techID, Action: "test_pass", From: flows.StateOnSite, To: flows.StateOnSite, Note: "tests"},
		{At: now.Add(-68 * time.Minute), Actor: techID, Action: "test_pass", From: flows.StateOnSite, To: flows.StateOnSite, Note: "tests"},
	}
	err := s.st.Update(context.Background(), func(tx flows.Tx) error {
		for i := range seeds {
			t := seeds[i]
			t.Kind, t.ASAP, t.ResidentID, t.Updated, t.Rev = flows.OrderHousehold, true, resident, now, 1
			if err := tx.PutTicket(&t); err != nil {
				return err
			}
			if err := tx.AppendTicketEvent(t.ID, flows.TicketEvent{At: t.Created, Actor: resident, Action: "reported", To: flows.StateNew, Photos: t.Photos}); err != nil {
				return err
			}
		}
		for _, e := range trail {
			if err := tx.AppendTicketEvent(seeds[3].ID, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// photos keeps n generated pictures in the media store, as a channel
// keeps the photos people send.
func (s *stack) photos(n int) []flows.Photo {
	s.t.Helper()
	var out []flows.Photo
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 320, 240))
		for y := 0; y < 240; y++ {
			for x := 0; x < 320; x++ {
				img.Set(x, y, color.RGBA{uint8(60 + 60*i + x/4), uint8(100 + y/3), uint8(180 - 40*i), 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			s.t.Fatal(err)
		}
		sum, rel, err := s.media.Put(&buf)
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, flows.Photo{FileID: fmt.Sprintf("seed-%d", i), SHA256: sum, Local: rel})
	}
	return out
}

// ---- the browser ----

// do runs browser steps, bounded; a failure shows the page.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		t.Fatalf("%s: %v\npage:\n%s", what, err, page(ctx))
	}
}

// get runs one browser action that returns a value, bounded.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	v, err := chromedp.Run(step, a)
	if err != nil {
		t.Fatalf("%s: %v\npage:\n%s", what, err, page(ctx))
	}
	return v
}

func page(ctx context.Context) string {
	step, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	html, _ := chromedp.Run(step, chromedp.OuterHTML(chromedp.CSS("body")))
	return html
}

// screenshot saves the page when REPAIRBOT_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("REPAIRBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowser plays a day's first hour in the console: a lead logs in
// with the link the bot sent them in Telegram, sees a ticket reported in
// Telegram appear on the board without reloading, opens it and assigns
// it (the group card in Telegram follows), logs out; customer service
// logs in and files a report for a resident who phoned (the resident gets
// the number in Telegram).
func TestBrowser(t *testing.T) {
	browsertest.Need(t)
	s := newStack(t)
	admin := tgfake.User{ID: tgAdminID, FirstName: "管理员", LanguageCode: "zh-hans"}
	lead := tgfake.User{ID: 3001, FirstName: "陈主管", LanguageCode: "zh-hans"}
	tech := tgfake.User{ID: 3002, FirstName: "李师傅", LanguageCode: "zh-hans"}
	clerk := tgfake.User{ID: 3003, FirstName: "刘客服", LanguageCode: "zh-hans"}
	res := tgfake.User{ID: 3100, FirstName: "王芳", LanguageCode: "zh-hans"}
	s.say(admin, "/help", "/invite")
	s.hire(admin, lead, "lead")
	s.hire(admin, tech, "technician")
	s.hire(admin, clerk, "dispatcher")
	s.register(res, "+8613800138000")
	s.seed(telegram.PersonID(res.ID))
	ctx := browsertest.Start(t, 1280, 900)

	// The lead logs in with the link from Telegram.
	link := s.consoleLink(lead)
	if !strings.HasPrefix(link, "http://"+s.con.Addr()+"/login?t=") {
		t.Fatalf("link %q is not on the console's address %s", link, s.con.Addr())
	}
	do(t, ctx, "log in",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS("table.board")),
	)
	if who := get(t, ctx, "who", chromedp.Text(chromedp.CSS("header .who span"))); !strings.Contains(who, "陈主管") {
		t.Fatalf("logged in as %q", who)
	}
	// Live: mark the page, report in Telegram, the row appears, the mark stays.
	do(t, ctx, "stream connected",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void]("window.__sameLoad = 1")(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.ID("st-live")),
	)
	id := s.report(res, "厨房水管漏水，地上有积水")
	do(t, ctx, "the new ticket appears without a reload", chromedp.WaitVisible(chromedp.CSS(`a[href="/t/`+id+`"]`)))
	if !get(t, ctx, "same page", chromedp.Evaluate[bool]("window.__sameLoad === 1")) {
		t.Fatal("the page reloaded instead of updating")
	}
	row := get(t, ctx, "row class", chromedp.AttributeValue(chromedp.Search(`//a[@href="/t/`+id+`"]/ancestor::tr`), "class"))
	if row.Value != "s-on_time" {
		t.Fatalf("a fresh ticket's row is %q", row.Value)
	}
	for _, cls := range []string{"s-breached", "s-at_risk", "s-emergency"} {
		do(t, ctx, "a row "+cls, chromedp.WaitVisible(chromedp.CSS("tr."+cls)))
	}
	screenshot(t, ctx, "console-board.png")

	// Open it and assign it to the technician; the group card follows.
	do(t, ctx, "assign",
		chromedp.Click(chromedp.CSS(`a[href="/t/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("assign")),
		chromedp.SetValue(chromedp.ID("technician"), telegram.PersonID(tech.ID)),
		chromedp.Click(chromedp.ID("assign")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if a := get(t, ctx, "assignee", chromedp.Text(chromedp.ID("assignee"))); a != "李师傅" {
		t.Fatalf("assignee on the page: %q", a)
	}
	if !s.fake.WaitFor(wait, func() bool { return strings.Contains(s.groupCard(id), "李师傅 已接单") }) {
		t.Fatalf("the group card did not follow: %q", s.groupCard(id))
	}
	s.next(tech.ID, 0, id)
	if trail := get(t, ctx, "trail", chromedp.Text(chromedp.ID("trail"))); !strings.Contains(trail, "派单 / 改派") || !strings.Contains(trail, "陈主管") {
		t.Fatalf("trail: %q", trail)
	}
	do(t, ctx, "a ticket with its visit",
		chromedp.Click(chromedp.CSS(`a[href="/"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.board")),
		chromedp.Click(chromedp.CSS(`a[href$="-0904"]`)),
		chromedp.WaitVisible(chromedp.CSS(".photos img")),
	)
	// The three kept copies load from the media store (polled: images load after the page).
	if !get(t, ctx, "photos loaded", chromedp.Poll[bool](`Array.from(document.querySelectorAll(".photos img")).filter(i => i.complete && i.naturalWidth === 320).length === 3`,
		chromedp.WithPollingTimeout(wait))) {
		t.Fatal("the kept photos did not load")
	}
	if visit := get(t, ctx, "visit", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(visit, "角阀老化开裂") || !strings.Contains(visit, "¥40.00") || !strings.Contains(visit, "住户已同意") {
		t.Fatalf("the visit is not shown: %q", visit)
	}
	screenshot(t, ctx, "console-ticket.png")
	if os.Getenv("REPAIRBOT_SCREENSHOTS") != "" {
		do(t, ctx, "phone-sized board",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
			chromedp.Navigate("http://"+s.con.Addr()+"/"),
			chromedp.WaitVisible(chromedp.CSS("table.board")))
		screenshot(t, ctx, "console-board-phone.png")
		do(t, ctx, "desktop again", chromedp.EmulateViewport(1280, 900))
	}

	// A ticket stuck at the sign-off for two days: the lead closes it with
	// a reason; the resident hears of it in Telegram, the trail keeps it.
	stuck := "BX-" + strings.Split(id, "-")[1] + "-0905"
	beforeRes := s.top(res.ID)
	do(t, ctx, "close a stuck ticket",
		chromedp.Navigate("http://"+s.con.Addr()+"/t/"+stuck),
		chromedp.WaitVisible(chromedp.ID("close-reason")),
		chromedp.SendKeys(chromedp.ID("close-reason"), "住户电话确认已修好，不会用手机签字"),
		chromedp.Click(chromedp.ID("lead-close")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if st, want := get(t, ctx, "state", chromedp.Text(chromedp.ID("state"))), i18n.MustLoad(flows.LangZH).T(flows.LangZH, "web.state.closed"); st != want {
		t.Fatalf("state after the close: %q", st)
	}
	if trail := get(t, ctx, "trail", chromedp.Text(chromedp.ID("trail"))); !strings.Contains(trail, "主管关闭工单") || !strings.Contains(trail, "不会用手机签字") {
		t.Fatalf("trail: %q", trail)
	}
	s.next(res.ID, beforeRes, stuck)

	// A management page: the lead changes a price; a new SOP version is in force.
	do(t, ctx, "change a price",
		chromedp.Click(chromedp.CSS(`a[href="/prices"]`)),
		chromedp.WaitVisible(chromedp.ID("price-W02")),
		chromedp.SetValue(chromedp.CSS(`#price-W02 input.price`), "30"),
		chromedp.Click(chromedp.CSS(`#price-W02 button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if fl := get(t, ctx, "flash", chromedp.Text(chromedp.ID("flash"))); !strings.Contains(fl, "¥30.00") || !strings.Contains(fl, "SOP") {
		t.Fatalf("flash after the price change: %q", fl)
	}
	if v := get(t, ctx, "W02", chromedp.Value(chromedp.CSS(`#price-W02 input.price`))); v != "30.00" {
		t.Fatalf("W02 on the page after the change: %q", v)
	}
	for _, p := range s.eng.SOP().Prices {
		if p.Code == "W02" && p.Cents != 3000 {
			t.Fatalf("the SOP in force has W02 at %d", p.Cents)
		}
	}
	s.next(tech.ID, 0, "¥25.00 → ¥30.00")
	screenshot(t, ctx, "console-prices.png")

	// The KPI page: the month's summary and its two charts, PNGs the
	// records renderer draws, loaded as images.
	do(t, ctx, "KPI page",
		chromedp.Click(chromedp.CSS(`a[href="/stats"]`)),
		chromedp.WaitVisible(chromedp.ID("stats-text")),
		chromedp.WaitVisible(chromedp.ID("chart-chart_category")),
	)
	if !get(t, ctx, "charts loaded", chromedp.Poll[bool](`Array.from(document.querySelectorAll("figure.chart img")).filter(i => i.complete && i.naturalWidth > 200).length === 2`,
		chromedp.WithPollingTimeout(wait))) {
		t.Fatal("the KPI charts did not load")
	}
	if txt := get(t, ctx, "summary", chromedp.Text(chromedp.ID("stats-text"))); !strings.Contains(txt, "维修服务指标") || !strings.Contains(txt, "报修 ") {
		t.Fatalf("KPI summary: %q", txt)
	}
	screenshot(t, ctx, "console-kpi.png")

	// The roster: the lead adds a Saturday shift with its hours, puts the
	// technician on it and changes its hours, all in the browser.
	do(t, ctx, "add a shift",
		chromedp.Click(chromedp.CSS(`a[href="/roster"]`)),
		chromedp.WaitVisible(chromedp.ID("shift-add")),
		chromedp.SetValue(chromedp.ID("shift-day"), "sat"),
		chromedp.SendKeys(chromedp.ID("shift-hours"), "09:00-17:00"),
		chromedp.Click(chromedp.ID("shift-add-button")),
		chromedp.WaitVisible(chromedp.ID("flash")),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[2][contains(., "09:00–17:00")]]`)),
	)
	shift := `//tr[td[2][contains(., "09:00–17:00")]]`
	do(t, ctx, "change its hours",
		chromedp.SetValue(chromedp.Search(shift+`//form[contains(@action, "roster_hours")]/input[@name="hours"]`), "10:00-18:30"),
		chromedp.Click(chromedp.Search(shift+`//form[contains(@action, "roster_hours")]/button`)),
		chromedp.WaitVisible(chromedp.ID("flash")),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[2][contains(., "10:00–18:30")]]`)),
	)

	// Training: the lead schedules a session for the technician in one
	// form; the technician is invited in Telegram.
	cst := time.FixedZone("CST", 8*3600)
	start := time.Now().In(cst).AddDate(0, 0, 7).Format("2006-01-02") + " 14:00"
	beforeTech := s.top(tech.ID)
	do(t, ctx, "schedule a session",
		chromedp.Click(chromedp.CSS(`a[href="/training"]`)),
		chromedp.WaitVisible(chromedp.ID("training-new")),
		chromedp.SendKeys(chromedp.ID("tr-topic"), "电梯困人应急演练"),
		chromedp.SendKeys(chromedp.ID("tr-start"), start),
		chromedp.SendKeys(chromedp.ID("tr-place"), "物业办公室"),
		chromedp.Click(chromedp.CSS(`#training-new input[name="invite"][value="`+telegram.PersonID(tech.ID)+`"]`)),
		chromedp.Click(chromedp.ID("tr-schedule")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if txt := get(t, ctx, "sessions", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(txt, "电梯困人应急演练") || !strings.Contains(txt, "物业办公室") {
		t.Fatalf("the session is not listed: %q", txt)
	}
	s.next(tech.ID, beforeTech, "电梯困人应急演练")

	// Log out; the clerk logs in and files a phone report.
	do(t, ctx, "log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("message")),
	)
	link = s.consoleLink(clerk)
	before := s.top(res.ID)
	do(t, ctx, "phone report",
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS("table.board")),
		chromedp.Click(chromedp.CSS(`a[href="/new"]`)),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "0013 8000"),
		chromedp.Click(chromedp.ID("find")),
		chromedp.WaitVisible(chromedp.CSS("a.pick")),
		chromedp.Click(chromedp.CSS("a.pick")),
		chromedp.WaitVisible(chromedp.CSS("p.selected")),
		chromedp.SendKeys(chromedp.ID("description"), "电话报修：卫生间下水慢"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("assignee")),
	)
	created := get(t, ctx, "location", chromedp.Location())
	u, _ := url.Parse(created)
	phoneID := strings.TrimPrefix(u.Path, "/t/")
	if !ticketRE.MatchString(phoneID) || phoneID == id {
		t.Fatalf("after the phone report the page is %q", created)
	}
	s.next(res.ID, before, phoneID)
	if facts := get(t, ctx, "facts", chromedp.Text(chromedp.CSS("dl.facts"))); strings.Contains(facts, "13800138000") || !strings.Contains(facts, "****") {
		t.Fatalf("facts show %q", facts)
	}
}
