package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var lead2 = flowstest.Person{ID: 301, Name: "周班长"}

// TestStaffList: /staff shows each person with role, skills, certificate
// status, open jobs, this month's finished jobs and average score.
func TestStaffList(t *testing.T) {
	w := gateWorld(t)
	giveSkill(t, w, tech, "water", "intermediate")
	giveCert(t, w, tech, "elec_low_voltage", day(2024, 3, 1), flows.Date{})
	giveCert(t, w, tech2, "elec_low_voltage", day(2020, 12, 10), day(2026, 12, 10))
	done := w.Report(resident, "厨房漏水")
	w.Tap(tech, flows.EncodePayload("acc", done), true)
	w.WalkToSignoff(tech, resident, done)
	w.Tap(resident, flows.EncodePayload("fix", done), false)
	w.Tap(tech, flows.EncodePayload("bye", done), false)
	w.Tap(resident, flows.EncodePayload("sc", done, "4"), false)
	open := w.Report(resident, "卫生间漏水")
	w.Tap(tech, flows.EncodePayload("acc", open), true)
	w.Drain()

	w.Cmd(lead, "staff", "")
	list := w.Last(w.Drain(), lead.Chat())
	contains(t, list.Text, "• 张师傅 · 维修人员 · 技能：水管/漏水 中级 · 证书：低压电工作业证 ✅ 有效（至 2030-03-01，复审 2027-03-01） · 在办 1 · 本月完成 1 · 均分 4.00")
	contains(t, list.Text, "• 赵师傅 · 维修人员 · 技能：无 · 证书：低压电工作业证 ⚠️ 即将到期（2026-12-10） · 在办 0 · 本月完成 0 · 均分 —")
	contains(t, list.Text, "• 陈主管 · 维修组主管")

	w.Tap(lead, w.ButtonData(list, "张师傅"), false)
	card := w.Last(w.Drain(), lead.Chat())
	contains(t, card.Text, "👤 张师傅（tg:200）")
	contains(t, card.Text, "在办工单："+open)
	w.ButtonData(card, "🚪 停用")
	for _, row := range card.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, "改为") {
				t.Fatalf("a lead was offered a role change (%q): only admins appoint leads", b.Text)
			}
		}
	}

	w.Cmd(tech, "staff", "")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管可以使用这个命令")
}

// TestDeactivateLeaver: a lead deactivates a technician who leaves: their
// open job is back in the group with a new card, their old buttons and
// commands are refused inside the transaction, the history keeps their
// name; the invite codes of a lead who left die; a new invite rehires.
func TestDeactivateLeaver(t *testing.T) {
	w := gateWorld(t)
	w.Staff(lead2, "lead")
	id := w.Report(resident, "厨房漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	job := w.Last(w.Drain(), tech.Chat())
	onTheWay := w.ButtonData(job, "出发")

	w.Cmd(lead, "staff", tech.PID())
	card := w.Last(w.Drain(), lead.Chat())
	w.Tap(lead, w.ButtonData(card, "🚪 停用"), false)
	confirm := w.Last(w.Drain(), lead.Chat())
	contains(t, confirm.Text, "其 1 张在办工单会退回抢单群")
	if tk := w.Ticket(id); tk.AssigneeID != tech.PID() {
		t.Fatal("deactivated before the confirmation")
	}
	w.Expect(w.Tap(lead, w.ButtonData(confirm, "确认停用 张师傅"), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "张师傅 已停用。\n已退回抢单群："+id)
	contains(t, w.Last(msgs, tech.Chat()).Text, "账号已停用")
	tk := w.Ticket(id)
	if tk.State != flows.StateNew || tk.AssigneeID != "" {
		t.Fatalf("the job is not back in the group: %s %s", tk.State, tk.AssigneeID)
	}
	newCard := w.Last(msgs, flowstest.Group)
	if newCard.Kind != flows.KindSend || !strings.Contains(newCard.Text, id) {
		t.Fatalf("no new card: %+v", newCard)
	}

	t.Run("old buttons refused", func(t *testing.T) {
		w.Refused(w.Tap(tech, onTheWay, false), "您的账号已被停用")
		w.Refused(w.Tap(tech, w.ButtonData(newCard, "接单"), true), "您的账号已被停用")
		if tk := w.Ticket(id); tk.State != flows.StateNew {
			t.Fatalf("a leaver's tap changed the ticket: %s", tk.State)
		}
	})
	t.Run("commands and messages refused", func(t *testing.T) {
		w.Cmd(tech, "mytickets", "")
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "您的账号已被停用")
		w.Text(tech, "我到了")
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "您的账号已被停用")
	})
	t.Run("history keeps the name", func(t *testing.T) {
		w.Cmd(lead, "staff", "")
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "• 张师傅 · 维修人员")
		contains(t, strings.Join(w.Events(id), "\n"), "rg:deactivated")
	})
	t.Run("someone else takes the job", func(t *testing.T) {
		w.Expect(w.Tap(tech2, w.ButtonData(newCard, "接单"), true))
	})
	t.Run("a lead cannot deactivate a lead", func(t *testing.T) {
		w.Refused(w.Tap(lead, flows.EncodePayload("sxc", lead2.PID()), false), "您不能更改 周班长 的角色或停用此人")
	})
	t.Run("the invite codes of a lead who left die", func(t *testing.T) {
		w.Cmd(lead2, "invite", "technician")
		m := w.Last(w.Drain(), lead2.Chat())
		code := strings.Fields(m.Text[strings.Index(m.Text, "start=")+len("start="):])[0]
		w.Cmd(admin, "staff", lead2.PID())
		w.Tap(admin, w.ButtonData(w.Last(w.Drain(), admin.Chat()), "🚪 停用"), false)
		w.Tap(admin, w.ButtonData(w.Last(w.Drain(), admin.Chat()), "确认停用"), false)
		w.Drain()
		newbie := flowstest.Person{ID: 250, Name: "新师傅"}
		w.Cmd(newbie, "start", code)
		contains(t, w.Last(w.Drain(), newbie.Chat()).Text, "发出它的人已停用")
	})
	t.Run("a new invite rehires", func(t *testing.T) {
		w.Staff(tech, "technician")
		w.Cmd(tech, "mytickets", "")
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "您手上没有进行中的工单")
	})
}

// TestRoleChange: an admin changes a role (the menu follows); a lead may
// appoint only the roles they may invite.
func TestRoleChange(t *testing.T) {
	w := gateWorld(t)
	w.Cmd(admin, "staff", tech2.PID())
	card := w.Last(w.Drain(), admin.Chat())
	w.Expect(w.Tap(admin, w.ButtonData(card, "改为维修组主管"), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, admin.Chat()).Text, "已把 赵师傅 从维修人员改为维修组主管")
	contains(t, w.Last(msgs, tech2.Chat()).Text, "把您的角色改为维修组主管")
	menu := false
	for _, m := range flowstest.To(msgs, tech2.Chat()) {
		if m.Kind == flows.KindMenu && strings.Contains(m.Buttons[0][0].Data+" "+buttonsData(m), "open") {
			menu = true
		}
	}
	if !menu {
		t.Fatal("the new lead did not get the leads' menu")
	}
	w.Cmd(tech2, "open", "")
	contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "未完成")
	w.Refused(w.Tap(lead, flows.EncodePayload("sr", tech.PID(), "lead"), false), "您不能任命维修组主管")
}

func buttonsData(m flows.Message) string {
	var out []string
	for _, row := range m.Buttons {
		for _, b := range row {
			out = append(out, b.Data)
		}
	}
	return strings.Join(out, " ")
}
