package flows_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// commandDesign is who may use each command, written from the roles table
// in the README (not from the code). "registered" is everyone who has
// completed registration or joined as staff.
var commandDesign = map[string][]string{
	"start":        {"stranger", "resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	"help":         {"stranger", "resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	"cancel":       {"stranger", "resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	"lang":         {"stranger", "resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	"report":       {"resident", "other"},
	"complain":     {"resident", "other"},
	"mytickets":    {"resident", "other", "tech", "tech2", "lead", "dispatcher", "admin"},
	"open":         {"lead", "admin"},
	"reassign":     {"lead", "admin"},
	"skip":         {"lead", "admin"},
	"duty":         {"lead", "admin"},
	"daily":        {"lead", "dispatcher", "admin"},
	"month":        {"lead", "dispatcher", "admin"},
	"stats":        {"lead", "dispatcher", "admin"},
	"qc":           {"lead", "admin"},
	"callbacks":    {"lead", "dispatcher", "admin"}, // customer service's phone-callback list
	"invite":       {"lead", "admin"},               // /invite technician
	"sop":          {"tech", "tech2", "lead", "dispatcher", "admin"},
	"sop reload":   {"lead", "admin"},
	"suggest":      {"tech", "tech2", "lead", "dispatcher", "admin"},
	"review":       {"tech", "tech2", "lead", "dispatcher", "admin"},
	"actions":      {"tech", "tech2", "lead", "dispatcher", "admin"},
	"order":        {"resident", "tech", "lead", "dispatcher", "admin"}, // the ticket's resident and assignee, and the office
	"staff":        {"lead", "admin"},
	"skills":       {"tech", "tech2", "lead", "admin"}, // their own; a lead anyone's
	"certs":        {"tech", "tech2", "lead", "admin"}, // their own; a lead anyone's
	"training":     {"tech", "tech2", "lead", "dispatcher", "admin"},
	"training new": {"lead", "admin"},
	// The office console: leads and customer service (a technician's chat
	// has no list of all tickets either).
	"console":        {"lead", "dispatcher", "admin"},
	"console logout": {"lead", "dispatcher", "admin"},
	"manage":         {"lead", "admin"},
	"fault":          {"lead", "admin"},
	"fees":           {"lead", "dispatcher", "admin"},
	// Spare parts: everyone on staff sees the stock; the repair team
	// requests purchases and scrap, records deliveries and returns; leads
	// count, keep the catalog and decide.
	"stock":         {"tech", "tech2", "lead", "dispatcher", "admin"},
	"stock buy":     {"tech", "tech2", "lead", "admin"},
	"stock receive": {"tech", "tech2", "lead", "admin"},
	"stock scrap":   {"tech", "tech2", "lead", "admin"},
	"stock return":  {"tech", "tech2", "lead", "admin"},
	"stock count":   {"lead", "admin"},
	"parts":         {"lead", "admin"},
	"parts add":     {"lead", "admin"},
	"parts import":  {"lead", "admin"},
	"parts export":  {"lead", "admin"},
	// A building's QR poster (areas): the leads of its area.
	"poster": {"lead", "admin"},
	// Editing the areas: the admins only.
	"area": {"admin"},
}

// commandArgs are harmless arguments that reach each command's checks.
func commandArgs(cmd, ticket string) (string, string) {
	switch cmd {
	case "lang":
		return "lang", "zh"
	case "reassign":
		return "reassign", ticket
	case "manage":
		return "manage", ticket
	case "fault":
		return "fault", "小区外线停电"
	case "skip":
		return "skip", ticket + " 相机坏了"
	case "invite":
		return "invite", "technician"
	case "sop reload":
		return "sop", "reload"
	case "stock buy", "stock receive", "stock scrap", "stock return", "stock count", "parts add", "parts import", "parts export":
		name, arg, _ := strings.Cut(cmd, " ")
		return name, arg
	case "training new":
		return "training", "new"
	case "poster":
		return "poster", "3栋"
	case "order":
		return "order", ticket
	case "console logout":
		return "console", "logout"
	case "suggest":
		return "suggest", "门铃规则写得不够清楚"
	case "complain":
		return "complain", "师傅迟到"
	}
	return cmd, ""
}

// TestEveryCommandByRole runs every command of the menu as every kind of
// person and checks it is refused, with an answer, exactly where the
// design says — never silently, never with an internal error (the world
// fails the test on any).
func TestEveryCommandByRole(t *testing.T) {
	dispatcher := flowstest.Person{ID: 400, Name: "刘客服"}
	actors := map[string]flowstest.Person{
		"stranger": stranger, "resident": resident, "other": other, "tech": tech, "tech2": tech2,
		"lead": lead, "dispatcher": dispatcher, "admin": admin,
	}
	for _, c := range flows.Commands {
		if _, ok := commandDesign[c.Name]; !ok {
			t.Errorf("/%s is in the menu but not in the design table", c.Name)
		}
	}
	texts := flowstest.New(t).Opts.Texts
	// A refusal is one of the catalog's refusals, placeholders filled in.
	pattern := func(key string) *regexp.Regexp {
		tmpl := texts.T(flows.LangZH, key)
		return regexp.MustCompile(regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), ".*"))
	}
	var refusals []*regexp.Regexp
	for _, k := range []string{"err.leads_only", "err.role", "err.residents_only", "err.invite_forbidden", "err.not_your_ticket", "err.not_your_job", "err.no_ticket", "areas.admins_only"} {
		refusals = append(refusals, pattern(k))
	}
	// To residents, a command only staff may use does not exist.
	unknown := pattern("err.unknown_command")
	staffOnly := func(who []string) bool { return !in(who, "resident") && !in(who, "stranger") }
	for cmd, who := range commandDesign {
		for name, p := range actors {
			t.Run(fmt.Sprintf("%s/%s", strings.ReplaceAll(cmd, " ", "_"), name), func(t *testing.T) {
				w := flowstest.New(t)
				w.Register(resident, "13800138000")
				w.Register(other, "13900139000")
				w.Staff(tech, "technician")
				w.Staff(tech2, "technician")
				w.Staff(lead, "lead")
				w.Staff(dispatcher, "dispatcher")
				id := w.Report(resident, "厨房水管漏水")
				w.Tap(tech, flows.EncodePayload("acc", id), true)
				w.Drain()
				cname, args := commandArgs(cmd, id)
				w.Cmd(p, cname, args)
				msgs := To(w.Drain(), p.Chat())
				if len(msgs) == 0 {
					t.Fatalf("/%s %s got no answer", cname, args)
				}
				reply := msgs[0].Text
				refused := false
				for _, r := range refusals {
					refused = refused || r.MatchString(reply)
				}
				if p == stranger && !in(who, "stranger") {
					// Strangers are sent to registration instead.
					refused = !strings.Contains(reply, "/start") && !strings.Contains(reply, "登记") && !strings.Contains(reply, "姓名")
					if refused {
						t.Fatalf("a stranger's /%s was not sent to registration: %q", cname, reply)
					}
					return
				}
				if name == "resident" || name == "other" {
					if isUnknown := unknown.MatchString(reply); isUnknown != staffOnly(who) {
						t.Fatalf("/%s %s by a resident: unknown command %v, want %v (reply %q)", cname, args, isUnknown, staffOnly(who), reply)
					}
					refused = refused || unknown.MatchString(reply)
				}
				if want := in(who, name); want == refused {
					t.Fatalf("/%s %s by %s: design says allowed=%v, reply %q", cname, args, name, want, reply)
				}
			})
		}
	}
}

// TestStaffMenus: staff get their role's command menu in their own chat
// when they join and when they change language; staff who joined before
// (no menu recorded) get it at the next tick, once; residents keep the
// default menu.
func TestStaffMenus(t *testing.T) {
	w := flowstest.New(t)
	menuOf := func(msgs []flows.Message, p flowstest.Person) []string {
		t.Helper()
		var names []string
		n := 0
		for _, m := range msgs {
			if m.To == p.Chat() && m.Kind == flows.KindMenu {
				n++
				names = names[:0]
				for _, b := range m.Buttons[0] {
					names = append(names, b.Data+"="+b.Text)
				}
			}
		}
		if n > 1 {
			t.Fatalf("%s got %d menus at once", p.Name, n)
		}
		return names
	}
	w.Cmd(admin, "invite", "lead")
	msgs := w.Drain()
	m := w.Last(msgs, admin.Chat())
	code := strings.Fields(m.Text[strings.Index(m.Text, "start=")+len("start="):])[0]
	w.Cmd(lead, "start", code)
	got := strings.Join(menuOf(w.Drain(), lead), " ")
	for _, want := range []string{"open=未完成工单（主管）", "month=维修月报（主管）", "help=帮助"} {
		contains(t, got, want)
	}
	if strings.Contains(got, "report=") || strings.Contains(got, "complain=") {
		t.Fatalf("a lead's menu has residents' commands: %s", got)
	}
	w.Cmd(lead, "lang", "en")
	contains(t, strings.Join(menuOf(w.Drain(), lead), " "), "month=Monthly repair report (leads)")
	w.Register(resident, "13800138000")
	if got := menuOf(w.Drain(), resident); len(got) != 0 {
		t.Fatalf("a resident got a menu of their own: %v", got)
	}
	// A technician from before per-role menus: the next tick sends theirs.
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		return tx.PutPerson(&flows.Person{ID: tech.PID(), Role: flows.RoleTechnician, Name: tech.Name, Lang: flows.LangZH, Chat: tech.Chat(), Registered: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := w.Opts
	eng, err := flows.NewEngine(opts) // a restarted process
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	got = strings.Join(menuOf(w.Drain(), tech), " ")
	contains(t, got, "sop=当前规程版本")
	if strings.Contains(got, "open=") {
		t.Fatalf("a technician's menu offers /open: %s", got)
	}
	if _, err := eng.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again := menuOf(w.Drain(), tech); len(again) != 0 {
		t.Fatalf("the menu went twice: %v", again)
	}
}
