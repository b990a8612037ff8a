package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// A message the bot cannot read (a sticker, a voice message, a PDF) is
// answered in plain words with what the bot can take at that moment, never
// with the platform's name or MIME type of what came.
func TestUnsupportedSaysWhatTheBotTakesNow(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T) (*flowstest.World, flowstest.Person)
		want string
	}{
		{"a resident with nothing open", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w := flowstest.New(t)
			w.Register(resident, "13800138000")
			return w, resident
		}, "可以发文字，或点按钮操作；需要报修请发送 /report。"},
		{"a resident at the entry consent", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w, id := onSite(t, "household")
			w.Expect(w.Step(tech, id, "answered"))
			return w, resident
		}, "请点上面消息里的「✅ 同意入户」按钮"},
		{"a report's photos", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w := flowstest.New(t)
			p := startReport(t, w)
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Text(resident, "漏水")
			return w, resident
		}, "请发送照片，或点击「没有更多照片了」。"},
		{"an emergency's details", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w := emergencyWorld(t)
			reportLeak(t, w)
			return w, resident
		}, "可以发文字说明或照片，发完点「✅ 补充完毕」。"},
		{"the technician at the door", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w, _ := onSite(t, "household")
			return w, tech
		}, "这一步请点卡片上的按钮。"},
		{"the technician at a photo step", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w, id := onSite(t, "household")
			advanceTo(t, w, id, flows.StepPhoto)
			return w, tech
		}, "这一步请发照片。"},
		{"the technician at the survey", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w, id := onSite(t, "household")
			advanceTo(t, w, id, flows.StepSurvey)
			return w, tech
		}, "这一步请发文字（诊断和方案）或照片。"},
		{"a lead", func(t *testing.T) (*flowstest.World, flowstest.Person) {
			w := flowstest.New(t)
			w.Staff(lead, "lead")
			return w, lead
		}, "发送 /help 查看可用命令。"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, p := tc.do(t)
			w.Drain()
			for _, what := range []string{"sticker", "file application/pdf", "voice"} {
				w.Unsupported(p, what)
				got := w.Last(w.Drain(), p.Chat()).Text
				if !strings.HasPrefix(got, "这种消息我看不了。") || !strings.Contains(got, tc.want) {
					t.Errorf("%s: %q, want %q", what, got, tc.want)
				}
				if strings.Contains(got, what) || strings.Contains(got, "⟦") {
					t.Errorf("%s: the answer names it or shows jargon: %q", what, got)
				}
			}
		})
	}
}

// The kind of order is asked in the resident's words; the form names stay
// on the cards and forms.
func TestOrderKindInResidentsWords(t *testing.T) {
	for _, tc := range []struct {
		lang, home, public string
	}{
		{"zh-hans", "我家里的问题", "公共区域的问题"},
		{"en", "Something in my home", "A shared area"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			w := flowstest.New(t)
			res := flowstest.Person{ID: 100, Name: "王芳", Lang: tc.lang}
			w.Register(res, "13800138000")
			w.Cmd(res, "report", "")
			w.Tap(res, w.Last(w.Drain(), res.Chat()).Buttons[0][0].Data, false)
			w.Text(res, "漏水")
			w.Tap(res, w.Last(w.Drain(), res.Chat()).Buttons[0][0].Data, false) // no more photos
			ask := w.Last(w.Drain(), res.Chat())
			if len(ask.Buttons) != 2 || !strings.Contains(ask.Buttons[0][0].Text, tc.home) || !strings.Contains(ask.Buttons[1][0].Text, tc.public) {
				t.Fatalf("kind buttons %v", ask.Buttons)
			}
			for _, row := range ask.Buttons {
				if strings.Contains(row[0].Text, "维修单") || strings.Contains(row[0].Text, "work order") {
					t.Errorf("a form name on a resident's button: %q", row[0].Text)
				}
			}
			w.Tap(res, ask.Buttons[0][0].Data, false)
			w.Tap(res, w.Last(w.Drain(), res.Chat()).Buttons[0][0].Data, false) // as soon as possible
			contains(t, w.Last(w.Drain(), flowstest.Group).Text, "有偿服务维修单")     // the group's language
		})
	}
}

// An English quote line says "each" once: "× 2, unit price ¥15.00 (each)".
func TestEnglishQuoteLineSaysEachOnce(t *testing.T) {
	w := flowstest.New(t)
	res := flowstest.Person{ID: 100, Name: "Fang Wang", Lang: "en"}
	tc := flowstest.Person{ID: 200, Name: "Tech Zhang", Lang: "en"}
	w.Register(res, "13800138000")
	w.Staff(tc, "technician")
	id := w.Report(res, "the hose leaks")
	w.Expect(w.Tap(tc, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tc, flows.EncodePayload("arr", id), false))
	w.Expect(w.Step(tc, id, "answered"))
	w.Expect(w.Step(tc, id, "verbal"))
	w.Text(tc, "replace the hose")
	w.Expect(w.Step(tc, id, "next"))
	w.Expect(w.Step(tc, id, "qty", "W04", "2"))
	w.Expect(w.Step(tc, id, "send"))
	consent := w.Last(w.Drain(), res.Chat()).Text
	var line string
	for _, l := range strings.Split(consent, "\n") {
		if strings.HasPrefix(l, "• W04") {
			line = l
		}
	}
	if !strings.Contains(line, "× 2, unit price ¥15.00 (each), subtotal ¥30.00") || strings.Count(line, "each") != 1 {
		t.Fatalf("quote line %q", line)
	}
}

// English readers see the organisation's English name when there is one.
func TestOrgNameForEnglishReaders(t *testing.T) {
	w := flowstest.New(t)
	zh := flowstest.Person{ID: 500, Name: "新住户"}
	en := flowstest.Person{ID: 501, Name: "New Resident", Lang: "en"}
	w.Cmd(zh, "start", "")
	contains(t, w.Last(w.Drain(), zh.Chat()).Text, "欢迎使用测试物业报修服务")
	w.Cmd(en, "start", "")
	got := w.Last(w.Drain(), en.Chat()).Text
	contains(t, got, "Test Property")
	if strings.Contains(got, "测试物业") {
		t.Fatalf("the Chinese name for an English reader: %q", got)
	}
}

// An emergency is paged at once as the resident's home; the resident can
// then say it is in a public area (a burst pipe in the corridor), until
// the technician is on site.
func TestEmergencyAsksWhereAfterThePage(t *testing.T) {
	w := emergencyWorld(t)
	w.Cmd(resident, "report", "")
	prompt := w.Last(w.Drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(prompt, "🚨 跑水"), false)
	msgs := w.Drain()
	ack := w.Last(msgs, resident.Chat())
	contains(t, ack.Text, "如果是公共区域")
	page := w.Last(msgs, tech.Chat())
	contains(t, page.Text, "紧急工单") // paged before anyone asked where
	id := page.Text[strings.Index(page.Text, "BX-") : strings.Index(page.Text, "BX-")+len("BX-20261127-0001")]
	if tk := w.Ticket(id); tk.Kind != flows.OrderHousehold {
		t.Fatalf("filed as %s", tk.Kind)
	}
	w.Expect(w.Tap(resident, w.ButtonData(ack, "公共区域"), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "已记为「🏢 公共区域的问题」")
	contains(t, w.Last(msgs, flowstest.Group).Text, "公共设施设备报修")
	if tk := w.Ticket(id); tk.Kind != flows.OrderPublic {
		t.Fatalf("kind after the answer: %s", tk.Kind)
	}
	if evs := strings.Join(w.Events(id), ","); !strings.Contains(evs, "kind:public") {
		t.Fatalf("not in the audit trail: %s", evs)
	}
	// The technician who took it is told when it changes.
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), false))
	w.Drain()
	w.Expect(w.Tap(resident, w.ButtonData(ack, "我家里"), false))
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "住户说明：紧急工单 "+id+" 是住户报修")
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	w.Drain()
	w.Refused(w.Tap(resident, w.ButtonData(ack, "公共区域"), false), "已经到场")
	if tk := w.Ticket(id); tk.Kind != flows.OrderHousehold {
		t.Fatalf("changed on site: %s", tk.Kind)
	}
	w.Expect(w.Tap(resident, w.ButtonData(ack, "补充完毕"), false))
}

// /help is generated from the command table, as the menus are: every role
// sees exactly its menu's commands, with their arguments; /invite's
// arguments are whom the role may invite.
func TestHelpMatchesTheMenus(t *testing.T) {
	w := flowstest.New(t)
	dispatcher := flowstest.Person{ID: 400, Name: "刘客服"}
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	w.Staff(dispatcher, "dispatcher")
	w.Cmd(admin, "help", "")
	w.Drain()
	for _, tc := range []struct {
		name string
		p    flowstest.Person
		role flows.Role
		want []string
	}{
		{"stranger", stranger, flows.RoleNone, []string{"发送 /start 登记"}},
		{"resident", resident, flows.RoleResident, []string{"/complain — 投诉", "/lang zh|en — 切换语言", "直接发文字即可"}},
		{"technician", tech, flows.RoleTechnician, []string{"/order <工单号> — 查看维修工作单", "接单", "技能或证书", "\n/skills — ", "\n/certs — "}},
		{"lead", lead, flows.RoleLead, []string{"/invite technician — 邀请员工", "/skip <工单号> <原因>", "/manage <工单号> — ",
			"/skills [人员编号] — ", "/certs [人员编号] — ", "/duty [week|mon…] — ", "/fault [工单号] <情况说明> — "}},
		{"dispatcher", dispatcher, flows.RoleDispatcher, []string{"/daily [日期", "/month [月份"}},
		{"admin", admin, flows.RoleAdmin, []string{"/invite technician|lead|dispatcher — 邀请员工"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.Cmd(tc.p, "help", "")
			help := w.Last(w.Drain(), tc.p.Chat()).Text
			menu := map[string]bool{}
			for _, c := range flows.MenuFor(tc.role) {
				menu[c.Name] = true
				if !strings.Contains(help, "\n/"+c.Name+" ") {
					t.Errorf("/%s is in the menu but not in /help:\n%s", c.Name, help)
				}
			}
			for _, c := range flows.Commands {
				if c.Arg == "" && !menu[c.Name] && strings.Contains(help, "\n/"+c.Name+" ") {
					t.Errorf("/%s is in /help but not in the menu", c.Name)
				}
			}
			for _, want := range tc.want {
				contains(t, help, want)
			}
		})
	}
	// /invite's usage names the roles one may invite.
	w.Cmd(admin, "invite", "plumber")
	contains(t, w.Last(w.Drain(), admin.Chat()).Text, "technician（维修人员）、lead（维修组主管）、dispatcher（客服）")
	w.Cmd(lead, "invite", "")
	got := w.Last(w.Drain(), lead.Chat()).Text
	contains(t, got, "technician（维修人员）")
	if strings.Contains(got, "dispatcher") {
		t.Errorf("a lead's usage offers what a lead may not invite: %q", got)
	}
	// In English too.
	en := flowstest.Person{ID: 600, Name: "Amy", Lang: "en"}
	w.Register(en, "13700137000")
	w.Cmd(en, "help", "")
	contains(t, w.Last(w.Drain(), en.Chat()).Text, "/complain — Make a complaint")
}
