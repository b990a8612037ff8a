package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/sop"
)

// The demo's cast and places. The token only has the right shape; it is
// never sent anywhere but the in-process fake.
const (
	demoToken = "123456789:DEMO-token-for-the-simulated-bot-API"
	demoGroup = int64(-1001234567890)
	// demoGroup2 is the second estate's technicians' group: the resident
	// lives in the first, so their reports never reach it.
	demoGroup2 = int64(-1001234567891)
)

// demoScript holds what the simulated people type in one language. What
// the bot says and shows (button labels, replies) is not here: the demo
// looks it up in the catalogs and the config (demoLabels), so a wording
// change there cannot break the demo.
type demoScript struct {
	lang                                string // the users' Telegram language_code
	bot                                 flows.Lang
	leadName, techName, resName         string
	building, unit, room, desc, comment string
	phone, plan, care, itemCode         string
	// The spare parts: the store, the catalog's two items (name, unit),
	// and the part the repair takes from stock.
	storeName, valve, valveUnit, tape, tapeUnit string
	// The electrical fault of the qualification scene, and the card the
	// lead records.
	elecDesc, certNumber, authority, issued string
	// The company's two estates (their names and technicians' groups);
	// the resident lives in the first, whose buildings are listed.
	area, area2, groupTitle, group2Title string
	buildings                            []string
}

var demoScripts = map[string]demoScript{
	"zh": {
		lang: "zh-hans", bot: flows.LangZH, leadName: "陈主管", techName: "张师傅", resName: "王芳",
		building: "3栋", unit: "2单元", room: "1502", desc: "厨房水槽下面的水管在滴水，地上有积水", comment: "师傅很专业，谢谢！",
		phone: "+8613800138000",
		plan:  "水槽下角阀老化漏水，关闭总阀后更换角阀", care: "新角阀一周内不要用力拧；如再渗水请立即报修", itemCode: "W02",
		storeName: "总仓", valve: "角阀", valveUnit: "个", tape: "生料带", tapeUnit: "卷",
		elecDesc: "客厅插座没电，空开跳了推不上去", certNumber: "T310110198001011234", authority: "上海市应急管理局", issued: "2024-03-01",
		area: "阳光花园", area2: "东湖苑", groupTitle: "阳光花园维修班组", group2Title: "东湖苑维修班组",
		buildings: []string{"1栋", "2栋", "3栋", "5栋"},
	},
	"en": {
		lang: "en", bot: flows.LangEN, leadName: "Lead Chen", techName: "Tech Zhang", resName: "Fang Wang",
		building: "Building 3", unit: "Unit 2", room: "1502", desc: "The pipe under the kitchen sink is dripping; water on the floor", comment: "Very professional, thank you!",
		phone: "+8613800138000",
		plan:  "The angle valve under the sink is worn and leaking; shut the main valve and replace it", care: "Do not force the new valve for a week; report at once if it seeps again", itemCode: "W02",
		storeName: "Main store", valve: "Angle valve", valveUnit: "each", tape: "PTFE tape", tapeUnit: "roll",
		elecDesc: "The living-room sockets are dead and the breaker will not stay up", certNumber: "T310110198001011234",
		authority: "Shanghai Emergency Management Bureau", issued: "2024-03-01",
		area: "Sunny Gardens", area2: "East Lake Court", groupTitle: "Sunny Gardens repair team", group2Title: "East Lake Court repair team",
		buildings: []string{"Building 1", "Building 2", "Building 3", "Building 5"},
	},
}

// demoLabels are the buttons the demo taps and the phrases it waits for,
// as the bot renders them.
type demoLabels struct {
	report, water, noMore, household, asap, accept, onWay, arrived, fixed  string
	ring, answered, entryOK, next, addItem, sendQuote, quoteOK, repairDone string
	testPass, careDone, signoff, goodbye, help, emergency, five            string
	wantTicket, wantAccepted, wantClosed                                   string
	usePart, countDone, countRoutine, wantImported, wantCounted            string
	// The qualification scene.
	electricity, elecCert, certRecord, untilAuto, reviewAuto, noPhoto, certSave string
	wantNeedsCert, wantRefused                                                  string
	hasBell                                                                     string
	// fault is the coding the technician taps: component, symptom, cause, action.
	fault []string
}

// labelsFor reads the labels from the catalog and the config. A label
// with placeholders (「🔔 按门铃 {n}/{max}」) is matched by its longest
// fixed part.
func labelsFor(texts *i18n.Catalog, l flows.Lang, cfg config.Config) demoLabels {
	t := func(key string) string { return literal(texts.T(l, key)) }
	label := func(zh, en string) string {
		if l == flows.LangEN {
			return en
		}
		return zh
	}
	def := sop.Default()
	var water, leak, electricity, elecCert string
	for _, c := range cfg.Categories {
		switch c.Key {
		case "water":
			water = label(c.ZH, c.EN)
		case "electricity":
			electricity = label(c.ZH, c.EN)
		}
	}
	if ct, ok := cfg.CertType("elec_low_voltage"); ok {
		elecCert = label(ct.ZH, ct.EN)
	}
	for _, e := range cfg.Emergencies {
		if e.Key == "water_leak" {
			leak = label(e.ZH, e.EN)
		}
	}
	return demoLabels{
		report: t("btn.report"), water: water, noMore: t("btn.no_more_photos"), household: t("btn.kind_household"),
		asap: t("btn.asap"), accept: t("btn.accept"), onWay: t("btn.on_the_way"), arrived: t("btn.arrived"),
		fixed: t("btn.fixed"), hasBell: t("btn.has_bell"), ring: t("btn.ring"), answered: t("btn.answered"), entryOK: t("btn.entry_ok"),
		next: t("btn.next"), addItem: t("btn.quote_add"), sendQuote: t("btn.quote_send"), quoteOK: t("btn.quote_ok"),
		repairDone: t("btn.repair_done"), testPass: t("btn.test_pass"), careDone: t("btn.care_done"),
		signoff: t("btn.signoff"), goodbye: t("btn.goodbye"), help: t("btn.help"), emergency: leak, five: "5⭐",
		wantTicket: t("report.created"), wantAccepted: t("card.status.accepted"), wantClosed: t("card.status.closed"),
		usePart: t("btn.parts.use"), countDone: t("btn.parts.count_done"), countRoutine: t("parts.why_count_routine"),
		wantImported: t("parts.xlsx.imported"), wantCounted: t("count.posted"),
		electricity: electricity, elecCert: elecCert, certRecord: t("btn.cert_record"), untilAuto: t("btn.cert_until_auto"),
		reviewAuto: t("btn.cert_review_auto"), noPhoto: t("btn.cert_no_photo"), certSave: t("btn.cert_save"),
		wantNeedsCert: t("quals.needs_cert"), wantRefused: t("quals.need_cert"),
		fault: []string{flows.FaultLabel(def, "water", flows.FaultComponentLevel, "VALVE", l), flows.FaultLabel(def, "water", flows.FaultSymptomLevel, "LEAK", l),
			flows.FaultLabel(def, "water", flows.FaultCauseLevel, "WEAR", l), flows.FaultLabel(def, "water", flows.FaultActionLevel, "REPLACE", l)},
	}
}

// literal is the longest part of a catalog text without a placeholder.
func literal(s string) string {
	best := ""
	for _, part := range strings.Split(s, "{") {
		if i := strings.IndexByte(part, '}'); i >= 0 {
			part = part[i+1:]
		}
		if line, _, _ := strings.Cut(part, "\n"); len(strings.TrimSpace(line)) > len(best) {
			best = strings.TrimSpace(line)
		}
	}
	return best
}

// runDemo starts the real bot against an in-process simulated Bot API and
// plays a whole repair, printing the conversation.
func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "zh", `transcript language: "zh" or "en"`)
	dataDir := fs.String("data", "demo-data", "directory for the demo's bbolt file (replaced on every run)")
	verbose := fs.Bool("v", false, "also print the bot's logs")
	console := fs.String("console", "", `also serve the office console on this local address (e.g. "127.0.0.1:8080") and keep running until Ctrl-C`)
	webDemo := fs.Bool("web", false, "serve the demo as a web page instead: phone panes for each person, the lead's console, a player for the script")
	listen := fs.String("listen", "127.0.0.1:8090", "with -web: the local address of the page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, ok := demoScripts[*lang]; !ok {
		return fmt.Errorf("demo: -lang must be zh or en (got %q)", *lang)
	}
	if *webDemo {
		return runDemoWeb(*listen, *lang, *dataDir, *verbose, stdout, stderr)
	}
	log := zerolog.New(stderr).Level(zerolog.WarnLevel)
	if *verbose {
		log = NewLogger(config.Log{Level: "debug", Format: "console"}, stderr)
	}
	public := ""
	if *console != "" {
		public = "http://" + *console
	}
	w, err := newDemoWorld(demoWorldOptions{lang: *lang, dataDir: *dataDir, consoleListen: *console, consolePublic: public, log: log})
	if err != nil {
		return err
	}
	defer w.Close()
	p := newPrinter(stdout, w.groupTitle)
	p.groups = map[int64]string{demoGroup2: w.sc.group2Title}
	w.fake.OnEntry(p.entry)
	p.names = map[int64]string{w.lead.ID: w.sc.leadName, w.tech.ID: w.sc.techName, w.res.ID: w.sc.resName}
	d := &director{fake: w.fake, out: p, st: w.m.Store}
	ticket, order, chart, book, err := w.scenes(d)
	if err != nil {
		return err
	}
	if d.err != nil {
		return d.err
	}
	p.flush()
	fake, cfg, lead := w.fake, w.cfg, w.lead
	files := filepath.Join(*dataDir, "files")
	var kept []string
	for _, id := range []string{order.DocumentFileID, chart.PhotoFileID, book.DocumentFileID} {
		if path, err := keepFile(fake, id, files, "kpi-chart.png"); err == nil {
			kept = append(kept, path)
		}
	}
	abs, _ := filepath.Abs(cfg.Store.Path)
	fmt.Fprintf(stdout, "\n%s %s\n%s %s\n", map[string]string{"zh": "✔ 演示完成，工单", "en": "✔ Demo complete, ticket"}[*lang], ticket,
		map[string]string{"zh": "数据库文件留在", "en": "The database is kept at"}[*lang], abs)
	if len(kept) > 0 {
		fmt.Fprintf(stdout, "%s\n  %s\n", map[string]string{"zh": "机器人发送的文件：", "en": "The files the bot sent:"}[*lang], strings.Join(kept, "\n  "))
	}
	if *console == "" {
		return nil
	}
	// The lead asks for a console link, as anyone in the office would.
	d.say(lead, lead.ID, "/console")
	msg := d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, "/login?t=") })
	if d.err != nil {
		return d.err
	}
	p.flush()
	link := ""
	for _, f := range strings.Fields(msg.Text) {
		if strings.Contains(f, "/login?t=") {
			link = f
		}
	}
	fmt.Fprintf(stdout, "\n%s\n  %s\n%s\n", map[string]string{"zh": "办公控制台：在浏览器中打开（10 分钟内有效，只能使用一次）", "en": "The office console: open this in a browser (valid 10 minutes, once)"}[*lang],
		link, map[string]string{"zh": "按 Ctrl-C 结束。", "en": "Press Ctrl-C to stop."}[*lang])
	return demoServe(link)
}

// demoWorldOptions says how to build a demo world.
type demoWorldOptions struct {
	lang, dataDir                string
	consoleListen, consolePublic string // the console's web.listen and web.public_url ("": no console)
	log                          zerolog.Logger
	// realLimits makes the fake Bot API enforce Telegram's flood limits and
	// keeps the outbox at the real budgets (the web demo); the transcript
	// lifts both so it takes seconds.
	realLimits bool
}

// demoWorld is the real bot on an empty store, against the simulated Bot
// API, with the script's cast: what `demo` prints and `demo -web` shows.
type demoWorld struct {
	lang            string
	sc              demoScript
	lb              demoLabels
	texts           *i18n.Catalog
	cfg             config.Config
	fake            *tgfake.Server
	m               *Main
	groupTitle      string
	lead, tech, res tgfake.User
}

// Close stops the bot and the fake Bot API.
func (w *demoWorld) Close() error {
	err := w.m.Close()
	w.fake.Close()
	return err
}

// newDemoWorld starts the bot on a fresh store in o.dataDir.
func newDemoWorld(o demoWorldOptions) (*demoWorld, error) {
	lang, dataDir := &o.lang, &o.dataDir
	sc := demoScripts[*lang]
	fake := tgfake.New(tgfake.Options{Token: demoToken, MaxLongPoll: 200 * time.Millisecond, EnforceLimits: o.realLimits})
	started := false
	defer func() {
		if !started {
			fake.Close()
		}
	}()
	groupTitle := sc.groupTitle
	fake.AddGroup(demoGroup, groupTitle)
	fake.AddGroup(demoGroup2, sc.group2Title)

	cfg := config.Default()
	cfg.Telegram.Token = demoToken
	cfg.Telegram.WebhookSecret = ""
	cfg.Telegram.APIURL = fake.URL()
	cfg.Telegram.GroupID = demoGroup
	cfg.Telegram.Admins = []int64{1001}
	// Two estates, each with its technicians' group: a report goes to the
	// group of the resident's estate (the first, the default one).
	cfg.Areas = []config.Area{
		{Key: "main", ZH: demoScripts["zh"].area, EN: demoScripts["en"].area, Buildings: sc.buildings, TelegramGroupID: demoGroup},
		{Key: "east", ZH: demoScripts["zh"].area2, EN: demoScripts["en"].area2, BuildingPattern: map[string]string{"zh": "{1..6}号楼", "en": "Block {1..6}"}[*lang],
			TelegramGroupID: demoGroup2, ServicePhone: "021-5555 0102"},
	}
	// The technician is on duty around the clock, so emergencies page them.
	cfg.Duty = []config.Shift{{Days: []string{"daily"}, From: "00:00", To: "00:00", People: []config.PersonID{"tg:2001"}}}
	// Electrical work needs the 低压电工作业证 by law (scene 8).
	for i := range cfg.Categories {
		if cfg.Categories[i].Key == "electricity" {
			cfg.Categories[i].NeedsCert = "elec_low_voltage"
		}
	}
	cfg.Telegram.PollTimeout = config.Duration{Duration: time.Second}
	cfg.Store.DataDir = *dataDir
	cfg.Store.Path = filepath.Join(*dataDir, "repair.db")
	if o.consoleListen != "" {
		cfg.Web.Listen, cfg.Web.PublicURL = o.consoleListen, o.consolePublic
	}
	if *lang == "en" {
		cfg.Org.DefaultLang = "en"
		cfg.Org.NameEN = "Sunny Gardens Property"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The fake does not rate-limit; lift the budgets (past what Validate
	// allows for the real Telegram) so the demo takes seconds instead of the
	// half minute a real group's 20 messages a minute would take.
	if !o.realLimits {
		cfg.Outbox.PerChatPerSecond, cfg.Outbox.GroupPerMinute, cfg.Outbox.GlobalPerSecond = 100, 6000, 100
	}
	if err := os.RemoveAll(cfg.Store.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_ = os.RemoveAll(filepath.Join(*dataDir, "files")) // the files the last run kept
	// No archive of "yesterday" in a store that starts empty.
	cfg.Records.Archive = false

	texts, err := i18n.Load(flows.Lang(cfg.Org.DefaultLang))
	if err != nil {
		return nil, err
	}
	lb := labelsFor(texts, sc.bot, cfg)

	m := NewMain(cfg)
	m.Log = o.log
	ctx := context.Background()
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return nil, err
	}
	started = true
	return &demoWorld{lang: *lang, sc: sc, lb: lb, texts: texts, cfg: cfg, fake: fake, m: m, groupTitle: groupTitle,
		lead: tgfake.User{ID: 1001, FirstName: sc.leadName, LanguageCode: sc.lang},
		tech: tgfake.User{ID: 2001, FirstName: sc.techName, LanguageCode: sc.lang},
		res:  tgfake.User{ID: 3001, FirstName: sc.resName, LanguageCode: sc.lang}}, nil
}

// scenes plays the script (scenes 1 to 9) with d: the transcript's and the
// web player's one script. It returns the first ticket and the files the
// bot sent in scene 9; a failed step is in d.err.
func (w *demoWorld) scenes(d *director) (ticket string, order, chart, book tgfake.Message, err error) {
	fake, sc, lb, texts, p, lang := w.fake, w.sc, w.lb, w.texts, d.out, &w.lang
	lead, tech, res := w.lead, w.tech, w.res

	p.scene("1", map[string]string{"zh": "主管邀请维修人员", "en": "The lead invites a technician"}[*lang])
	d.say(lead, lead.ID, "/invite technician")
	inv := d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, "?start=") })
	code := strings.Fields(inv.Text[strings.Index(inv.Text, "?start=")+len("?start="):])[0]
	d.say(tech, tech.ID, "/start "+code)
	d.wait(tech.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, sc.techName) })

	p.scene("1b", map[string]string{"zh": "主管导入配件目录并盘点入库", "en": "The lead imports the parts catalog and counts the store"}[*lang])
	d.say(lead, lead.ID, "/parts store main "+sc.storeName)
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, sc.storeName) })
	d.say(lead, lead.ID, "/parts import")
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, ".xlsx") })
	catalog, err := demoCatalog(texts, sc)
	if err != nil {
		return ticket, order, chart, book, err
	}
	d.act(func() {
		fake.SendFile(lead, lead.ID, "parts.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", catalog)
	})
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, lb.wantImported) })
	d.say(lead, lead.ID, "/stock count")
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, "P-VALVE") })
	d.say(lead, lead.ID, "P-VALVE 10\nP-TAPE 20")
	d.tapWhen(lead, lead.ID, lb.countDone)
	d.tapWhen(lead, lead.ID, lb.countRoutine)
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, lb.wantCounted) })

	p.scene("2", map[string]string{"zh": "住户登记", "en": "A resident registers"}[*lang])
	d.say(res, res.ID, "/start")
	d.wait(res.ID, any)
	d.say(res, res.ID, sc.resName)
	d.wait(res.ID, func(m tgfake.Message) bool { return len(m.Reply) > 0 })
	d.act(func() { fake.SendContact(res, sc.phone, true) })
	d.wait(res.ID, hasButton(sc.area))
	d.tapWhen(res, res.ID, sc.area) // the estate, from the buttons of both
	d.say(res, res.ID, sc.building)
	d.waitN(res.ID, 5)
	d.say(res, res.ID, sc.unit)
	d.waitN(res.ID, 6)
	d.say(res, res.ID, sc.room)
	done := d.wait(res.ID, hasButton(lb.report))

	p.scene("3", map[string]string{"zh": "报修（带照片）", "en": "The resident reports a leak, with a photo"}[*lang])
	d.tap(res, res.ID, done, lb.report)
	cat := d.wait(res.ID, hasButton(lb.water))
	d.tap(res, res.ID, cat, lb.water)
	d.wait(res.ID, func(m tgfake.Message) bool { return m.ID > cat.ID })
	d.say(res, res.ID, sc.desc)
	photos := d.wait(res.ID, hasButton(lb.noMore))
	d.photo(res, res.ID, 180_000)
	photos = d.wait(res.ID, func(m tgfake.Message) bool { return m.ID > photos.ID && len(m.Inline) > 0 })
	d.tap(res, res.ID, photos, lb.noMore)
	kind := d.wait(res.ID, hasButton(lb.household))
	d.tap(res, res.ID, kind, lb.household)
	when := d.wait(res.ID, hasButton(lb.asap))
	d.tap(res, res.ID, when, lb.asap)
	ack := d.wait(res.ID, func(m tgfake.Message) bool {
		return strings.Contains(m.Text, lb.wantTicket) && strings.Contains(m.Text, "BX-")
	})
	ticket = ticketIn(ack.Text)

	p.scene("4", map[string]string{"zh": "群里派工，维修人员抢单", "en": "Dispatch card in the group; the technician accepts"}[*lang])
	card := d.wait(demoGroup, hasButton(lb.accept))
	d.tap(tech, demoGroup, card, lb.accept)
	job := d.wait(tech.ID, hasButton(lb.onWay))
	d.wait(demoGroup, func(m tgfake.Message) bool { return m.ID == card.ID && strings.Contains(m.Text, lb.wantAccepted) })
	d.say(lead, lead.ID, "/open")
	d.wait(lead.ID, func(m tgfake.Message) bool { return strings.Contains(m.Text, ticket) })

	p.scene("5", map[string]string{"zh": "上门：按规程逐步执行", "en": "On site, step by step as the SOP says"}[*lang])
	d.tap(tech, tech.ID, job, lb.onWay)
	next := d.wait(tech.ID, hasButton(lb.arrived))
	d.tap(tech, tech.ID, next, lb.arrived)
	d.tapWhen(tech, tech.ID, lb.hasBell)
	d.tapWhen(tech, tech.ID, lb.ring)
	d.tapWhen(tech, tech.ID, lb.answered)
	d.tapWhen(res, res.ID, lb.entryOK)
	d.wait(tech.ID, hasButton(lb.help))
	d.say(tech, tech.ID, sc.plan)
	d.photo(tech, tech.ID, 120_000)
	d.tapWhen(tech, tech.ID, lb.next)
	d.tapWhen(tech, tech.ID, lb.usePart) // one valve from the store, on the quote at its sale price
	d.say(tech, tech.ID, "P-VALVE")
	d.tapWhen(tech, tech.ID, "1")
	d.tapWhen(tech, tech.ID, lb.addItem)
	d.tapWhen(tech, tech.ID, sc.itemCode)
	d.tapWhen(tech, tech.ID, "1")
	d.tapWhen(tech, tech.ID, lb.sendQuote)
	d.tapWhen(res, res.ID, lb.quoteOK)
	d.wait(tech.ID, hasButton(lb.help))
	d.photo(tech, tech.ID, 150_000) // belongings covered
	d.tapWhen(tech, tech.ID, lb.next)
	d.tapWhen(tech, tech.ID, lb.repairDone)
	d.wait(tech.ID, hasButton(lb.help))
	d.photo(tech, tech.ID, 140_000) // cleaned up
	d.tapWhen(tech, tech.ID, lb.next)
	for i := 0; i < 3; i++ {
		d.tapWhen(tech, tech.ID, lb.testPass)
	}
	d.tapWhen(tech, tech.ID, lb.next)
	d.say(tech, tech.ID, sc.care)
	d.tapWhen(tech, tech.ID, lb.careDone)
	for _, label := range lb.fault { // the fault coding, before the sign-off
		d.tapWhen(tech, tech.ID, label)
	}
	d.tapWhen(tech, tech.ID, lb.signoff)

	p.scene("6", map[string]string{"zh": "住户签字确认、道别、评价", "en": "Sign-off, goodbye and the resident's score"}[*lang])
	d.tapWhen(res, res.ID, lb.fixed)
	d.tapWhen(tech, tech.ID, lb.goodbye)
	score := d.wait(res.ID, hasButton(lb.five))
	d.tap(res, res.ID, score, lb.five)
	thanks := d.wait(res.ID, func(m tgfake.Message) bool { return m.ID > score.ID && len(m.Inline) > 0 })
	d.say(res, res.ID, sc.comment)
	d.wait(res.ID, func(m tgfake.Message) bool { return m.ID > thanks.ID })
	d.wait(demoGroup, func(m tgfake.Message) bool { return m.ID == card.ID && strings.Contains(m.Text, lb.wantClosed) })

	p.scene("7", map[string]string{"zh": "紧急情况：跑水，一键报修并呼叫值班人员", "en": "An emergency: a burst pipe, one tap pages the technician on duty"}[*lang])
	d.say(res, res.ID, "/report")
	em := d.wait(res.ID, hasButton("🚨"))
	d.tap(res, res.ID, em, lb.emergency)
	page := d.wait(tech.ID, hasButton(lb.accept))
	d.tap(tech, tech.ID, page, lb.accept)
	d.tapWhen(tech, tech.ID, lb.arrived)

	p.scene("8", map[string]string{"zh": "电路故障需要低压电工作业证：无证抢单被拒，主管登记证书后再接单", "en": "Electrical work needs the electrician's certificate: the accept is refused; the lead records the card; the technician accepts"}[*lang])
	d.say(res, res.ID, "/report")
	cat = d.wait(res.ID, hasButton(lb.electricity))
	d.tap(res, res.ID, cat, lb.electricity)
	d.wait(res.ID, func(m tgfake.Message) bool { return m.ID > cat.ID })
	d.say(res, res.ID, sc.elecDesc)
	d.tapWhen(res, res.ID, lb.noMore)
	d.tapWhen(res, res.ID, lb.household)
	d.tapWhen(res, res.ID, lb.asap)
	elec := d.wait(demoGroup, func(m tgfake.Message) bool {
		return hasButton(lb.accept)(m) && strings.Contains(m.Text, lb.wantNeedsCert)
	})
	d.tap(tech, demoGroup, elec, lb.accept)
	d.expectAnswer(lb.wantRefused)
	d.say(lead, lead.ID, "/certs tg:2001")
	d.tapWhen(lead, lead.ID, lb.certRecord)
	d.tapWhen(lead, lead.ID, lb.elecCert)
	d.say(lead, lead.ID, sc.certNumber)
	d.say(lead, lead.ID, sc.authority)
	d.say(lead, lead.ID, sc.issued)
	d.tapWhen(lead, lead.ID, lb.untilAuto)
	d.tapWhen(lead, lead.ID, lb.reviewAuto)
	d.tapWhen(lead, lead.ID, lb.noPhoto)
	d.tapWhen(lead, lead.ID, lb.certSave)
	d.tap(tech, demoGroup, elec, lb.accept)
	d.wait(demoGroup, func(m tgfake.Message) bool { return m.ID == elec.ID && strings.Contains(m.Text, lb.wantAccepted) })

	p.scene("9", map[string]string{"zh": "记录与分析：工单 Excel 和指标图表", "en": "Records: the work order as Excel, KPIs with a chart"}[*lang])
	d.say(res, res.ID, "/order "+ticket)
	order = d.wait(res.ID, func(m tgfake.Message) bool { return m.DocumentFileID != "" })
	d.say(lead, lead.ID, "/stats week")
	chart = d.wait(lead.ID, func(m tgfake.Message) bool { return m.PhotoFileID != "" })
	book = d.wait(lead.ID, func(m tgfake.Message) bool { return m.DocumentFileID != "" })
	if d.err == nil && len(fake.Messages(demoGroup2)) > 0 {
		d.err = fmt.Errorf("demo: the other estate's group got %q", lastText(fake, demoGroup2))
	}
	return ticket, order, chart, book, nil
}

// demoServe keeps the demo's bot and console running until Ctrl-C (a test
// replaces it).
var demoServe = func(string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// demoCatalog is the catalog the demo's lead uploads: a valve charged to
// residents and tape that is not, headed in the script's language.
func demoCatalog(texts *i18n.Catalog, sc demoScript) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	head := []interface{}{}
	for _, col := range []string{"code", "name", "spec", "unit", "unit_cost", "sale_price", "billable", "min_stock", "reorder_qty", "stores"} {
		head = append(head, texts.T(sc.bot, "parts.col."+col))
	}
	yes, no := texts.T(sc.bot, "parts.xlsx.yes"), texts.T(sc.bot, "parts.xlsx.no")
	rows := [][]interface{}{head,
		{"P-VALVE", sc.valve, "DN15", sc.valveUnit, 12, 25, yes, 3, 10, "main"},
		{"P-TAPE", sc.tape, "", sc.tapeUnit, 1, 0, no, 5, 20, "main"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(f.GetSheetName(0), cell, &r); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	_, err := f.WriteTo(&buf)
	return buf.Bytes(), err
}

// expectAnswer checks that the last tap was answered with a toast
// containing want (a refusal the scene shows).
func (d *director) expectAnswer(want string) {
	if d.err != nil {
		return
	}
	answers := d.fake.CallbackAnswers()
	if len(answers) == 0 || !strings.Contains(answers[len(answers)-1].Text, want) {
		d.err = fmt.Errorf("demo: the tap was not answered with %q", want)
	}
}

// keepFile writes a file the bot sent (a document, or a photo named
// photoName) into dir and returns its path.
func keepFile(fake *tgfake.Server, id, dir, photoName string) (string, error) {
	name, data, ok := fake.File(id)
	if !ok {
		return "", errors.New("demo: no such file")
	}
	if name == "" {
		name = photoName
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(name))
	return path, os.WriteFile(path, data, 0o600)
}

// tapWhen waits for the newest bot message in chat with that button and taps it.
func (d *director) tapWhen(u tgfake.User, chat int64, label string) {
	if d.err != nil {
		return
	}
	var found tgfake.Message
	for _, m := range d.fake.Messages(chat) {
		if hasButton(label)(m) {
			found = m
		}
	}
	if found.ID == 0 {
		d.err = fmt.Errorf("demo: no %q button in chat %d (last: %q)", label, chat, lastText(d.fake, chat))
		return
	}
	d.tap(u, chat, found, label)
}

func hasButton(label string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool {
		for _, row := range m.Inline {
			for _, b := range row {
				if strings.Contains(b.Text, label) {
					return true
				}
			}
		}
		return false
	}
}

func any(tgfake.Message) bool { return true }

// director plays the people; the first failure stops the script.
type director struct {
	fake *tgfake.Server
	st   Database
	out  *printer
	err  error
	seen map[int64]int // last message id waited for, per chat
	// gate, when set, is asked before every action (the web player's
	// pause and step); an error stops the script. doing is the action
	// about to be taken ("" for a file or a photo).
	gate  func(doing string) error
	doing string
	// picture, when set, gives a real picture for a photo of that size
	// (the web player shows them); the transcript sends the fake's.
	picture func(size int) []byte
	// settle is how long an action may take to be answered, and a wait
	// for a message (15 s when 0).
	settle time.Duration
}

// timeout bounds each wait for the bot.
func (d *director) timeout() time.Duration {
	if d.settle == 0 {
		return 15 * time.Second
	}
	return d.settle
}

// photo sends a photo of size bytes from u in chat.
func (d *director) photo(u tgfake.User, chat int64, size int) {
	d.act(func() {
		if d.picture != nil {
			d.fake.SendPhotoData(u, chat, "", d.picture(size))
			return
		}
		d.fake.SendPhoto(u, chat, "", size)
	})
}

// ticketIn is the first ticket number in text ("" without one).
func ticketIn(text string) string {
	i := strings.Index(text, "BX-")
	if i < 0 || len(text) < i+len("BX-20261127-0001") {
		return ""
	}
	return text[i:][:len("BX-20261127-0001")]
}

// act performs one user action and waits until the bot has handled it and
// delivered everything it wanted to say, so the transcript reads in order.
func (d *director) act(fn func()) {
	if d.err != nil {
		return
	}
	if d.gate != nil {
		doing := d.doing
		d.doing = ""
		if err := d.gate(doing); err != nil {
			d.err = err
			return
		}
	}
	fn()
	settle := d.timeout()
	settled := d.fake.WaitFor(settle, func() bool {
		if d.fake.Pending() > 0 {
			return false
		}
		st, err := d.st.Stats()
		return err == nil && st.Pending == 0
	})
	if !settled {
		d.err = fmt.Errorf("demo: the bot did not settle within %s", settle)
	}
}

func (d *director) say(u tgfake.User, chat int64, text string) {
	d.doing = u.FirstName + ": " + text
	d.act(func() { d.fake.SendText(u, chat, text) })
}

func (d *director) tap(u tgfake.User, chat int64, m tgfake.Message, label string) {
	if d.err != nil {
		return
	}
	var err error
	d.doing = u.FirstName + ": 👆 " + label
	d.act(func() { _, err = d.fake.Tap(u, chat, m.ID, label) })
	if err != nil {
		d.err = fmt.Errorf("demo: %s could not tap %q: %w", u.FirstName, label, err)
	}
}

// wait returns the first bot message in chat, newer than the last one
// waited for there, matching pred.
func (d *director) wait(chat int64, pred func(tgfake.Message) bool) tgfake.Message {
	if d.err != nil {
		return tgfake.Message{}
	}
	if d.seen == nil {
		d.seen = map[int64]int{}
	}
	after := d.seen[chat]
	m, ok := d.fake.WaitMessage(chat, d.timeout(), func(m tgfake.Message) bool {
		return (m.ID > after || m.Edits > 0) && pred(m)
	})
	if !ok {
		d.err = fmt.Errorf("demo: the bot did not answer in chat %d as expected (last: %q)", chat, lastText(d.fake, chat))
		return m
	}
	if m.ID > d.seen[chat] {
		d.seen[chat] = m.ID
	}
	return m
}

// waitN waits until the chat has at least n bot messages.
func (d *director) waitN(chat int64, n int) {
	if d.err != nil {
		return
	}
	if !d.fake.WaitFor(d.timeout(), func() bool { return len(d.fake.Messages(chat)) >= n }) {
		d.err = fmt.Errorf("demo: expected %d messages in chat %d", n, chat)
	}
	if msgs := d.fake.Messages(chat); len(msgs) > 0 && msgs[len(msgs)-1].ID > d.seen[chat] {
		d.seen[chat] = msgs[len(msgs)-1].ID
	}
}

func lastText(f *tgfake.Server, chat int64) string {
	if m, ok := f.Last(chat); ok {
		return m.Text
	}
	return ""
}

// printer renders transcript entries as readable lines. An edit is
// printed as "✎ (edited)" with the message's new state, or as one line
// when only its buttons went away (a card a newer one replaced).
type printer struct {
	// onScene, when set, hears each scene's title (the web player).
	onScene func(n, title string)
	mu      sync.Mutex
	w       io.Writer
	group   string
	// groups names the groups other than the first (the other estates').
	groups map[int64]string
	names  map[int64]string
	texts  map[[2]int64]string // the text each bot message shows now, by chat and message id
}

func newPrinter(w io.Writer, group string) *printer {
	return &printer{w: w, group: group, texts: map[[2]int64]string{}}
}

func (p *printer) scene(n, title string) {
	if p.onScene != nil {
		p.onScene(n, title)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\n━━ %s · %s ━━\n", n, title)
}

func (p *printer) flush() {}

func (p *printer) where(chat int64) string {
	if chat < 0 {
		return "#" + p.groupName(chat)
	}
	if n, ok := p.names[chat]; ok {
		return n
	}
	return fmt.Sprint(chat)
}

func (p *printer) entry(e tgfake.Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	who := e.From.FirstName
	switch e.Kind {
	case "user_text":
		fmt.Fprintf(p.w, "%s%s: %s\n", who, p.in(e.ChatID), indent(e.Text))
	case "user_contact":
		fmt.Fprintf(p.w, "%s: 📱 [%s]\n", who, maskDigits(e.Text))
	case "user_photo":
		fmt.Fprintf(p.w, "%s: 🖼 [photo]\n", who)
	case "user_document":
		fmt.Fprintf(p.w, "%s: 📎 [%s]\n", who, e.Text)
	case "user_tap":
		fmt.Fprintf(p.w, "%s%s: 👆 [%s]\n", who, p.in(e.ChatID), e.Text)
	case "bot_send", "bot_photo", "bot_document":
		text := e.Text
		switch e.Kind {
		case "bot_photo":
			text = "🖼 [photo] " + text
		case "bot_document":
			text = "📄 [file] " + text
		}
		p.texts[[2]int64{e.ChatID, int64(e.MessageID)}] = e.Text
		fmt.Fprintf(p.w, "  🤖 → %s: %s%s\n", p.where(e.ChatID), indent(text), buttons(e.Buttons))
	case "bot_edit":
		key := [2]int64{e.ChatID, int64(e.MessageID)}
		before, known := p.texts[key]
		p.texts[key] = e.Text
		if known && before == e.Text && len(e.Buttons) == 0 {
			first, _, _ := strings.Cut(e.Text, "\n")
			fmt.Fprintf(p.w, "  🤖 ✎ %s (buttons removed: a newer card is below): %s\n", p.where(e.ChatID), first)
			return
		}
		fmt.Fprintf(p.w, "  🤖 ✎ %s (edited): %s%s\n", p.where(e.ChatID), indent(e.Text), buttons(e.Buttons))
	case "bot_answer":
		if e.Text != "" {
			fmt.Fprintf(p.w, "  🤖 (toast) %s\n", e.Text)
		}
	}
}

func (p *printer) in(chat int64) string {
	if chat < 0 {
		return " @#" + p.groupName(chat)
	}
	return ""
}

// groupName is a group chat's title in the transcript.
func (p *printer) groupName(chat int64) string {
	if n, ok := p.groups[chat]; ok {
		return n
	}
	return p.group
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n      ") }

func buttons(rows [][]tgfake.Button) string {
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n      ")
	for _, row := range rows {
		for _, btn := range row {
			b.WriteString("[" + btn.Text + "] ")
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// maskDigits keeps the phone number out of the transcript.
func maskDigits(s string) string {
	if len(s) < 7 {
		return "***"
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}
