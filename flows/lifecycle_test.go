package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// To filters messages by recipient.
var To = flowstest.To

var (
	admin    = flowstest.Person{ID: 1, Name: "管理员"}
	resident = flowstest.Person{ID: 100, Name: "王芳"}
	other    = flowstest.Person{ID: 101, Name: "李雷"}
	tech     = flowstest.Person{ID: 200, Name: "张师傅"}
	tech2    = flowstest.Person{ID: 201, Name: "赵师傅"}
	lead     = flowstest.Person{ID: 300, Name: "陈主管"}
	stranger = flowstest.Person{ID: 999, Name: "路人"}
)

func contains(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("%q does not contain %q", s, want)
	}
}

func TestFullRepair(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "+86 138-0013-8000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")

	id := w.Report(resident, "厨房水管漏水")
	if id != "BX-20261127-0001" {
		t.Fatalf("ticket id %s", id)
	}
	// The card went to the group with an Accept button and no room or phone.
	rows, _ := w.Store.Rows("delivered")
	var card flows.Message
	for _, r := range rows {
		if r.Msg.To == flowstest.Group {
			card = r.Msg
		}
	}
	contains(t, card.Text, id)
	contains(t, card.Text, "3栋 / 2单元")
	if strings.Contains(card.Text, "1502") || strings.Contains(card.Text, "138") {
		t.Fatalf("group card leaks room or phone: %q", card.Text)
	}
	accept := w.ButtonData(card, "接单")

	w.Now = w.Now.Add(2 * time.Minute)
	res := w.Tap(tech, accept, true)
	contains(t, res.Toast, "接单成功")
	msgs := w.Drain()
	edit := w.Last(msgs, flowstest.Group)
	if edit.Kind != flows.KindEdit || len(edit.Buttons) != 0 {
		t.Fatalf("card not edited without buttons: %+v", edit)
	}
	contains(t, edit.Text, "张师傅 已接单")
	job := w.Last(msgs, tech.Chat())
	contains(t, job.Text, "1502")
	contains(t, job.Text, "+8613800138000")
	contains(t, w.Last(msgs, resident.Chat()).Text, "张师傅 已接单")

	// A second technician is told politely.
	res = w.Tap(tech2, accept, true)
	contains(t, res.Toast, "/start") // tech2 is not registered yet: refused
	w.Staff(tech2, "technician")
	res = w.Tap(tech2, accept, true)
	contains(t, res.Toast, "已被 张师傅 接单")

	w.Tap(tech, w.ButtonData(job, "出发"), false)
	msgs = w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "正在前往")
	w.Now = w.Now.Add(20 * time.Minute)
	w.WalkToSignoff(tech, resident, id)
	if tk := w.Ticket(id); tk.State != flows.StateDone || tk.Arrived == nil || tk.SOPVersion != "v1 (2026.2)" {
		t.Fatalf("after the checklist: %+v", tk)
	}
	rows, _ = w.Store.Rows("delivered")
	var signoff flows.Message
	for _, r := range rows {
		if r.Msg.To == resident.Chat() && strings.Contains(r.Msg.Text, "维修工作单") {
			signoff = r.Msg
		}
	}
	contains(t, signoff.Text, "现场试验：3 次通过")
	contains(t, signoff.Text, "合计：¥25.00")
	contains(t, signoff.Text, "住户在手机上确认同意")
	w.Tap(resident, w.ButtonData(signoff, "确认，已修好"), false)
	msgs = w.Drain()
	w.Tap(tech, w.ButtonData(w.Last(msgs, tech.Chat()), "道别"), false)
	msgs = w.Drain()
	w.Tap(resident, w.ButtonData(w.Last(msgs, resident.Chat()), "5⭐"), false)
	msgs = w.Drain()
	contains(t, w.Last(msgs, flowstest.Group).Text, "满意度 5/5")
	w.Text(resident, "师傅很专业")
	tk := w.Ticket(id)
	if tk.State != flows.StateClosed || tk.Score != 5 || tk.Comment != "师傅很专业" || tk.Arrived == nil {
		t.Fatalf("ticket at the end: %+v", tk)
	}
	// Every step is in the audit trail, in order.
	var actions []string
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		evs, err := tx.TicketEvents(id)
		for _, e := range evs {
			actions = append(actions, e.Action)
		}
		return err
	})
	want := "reported,acc,way,arr,step,doorbell,ring,answered,step,entry,step,plan,step,quote_sent,quote_agreed,step,photo,step,repaired,step,photo,step,test_pass,test_pass,test_pass,step,care_note_added,care,step,fault,done,fix,bye,sc,comment"
	if got := strings.Join(actions, ","); got != want {
		t.Fatalf("audit trail\n got %s\nwant %s", got, want)
	}
}

func TestNotFixedGoesBackToTheTechnician(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "灯不亮")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.WalkToSignoff(tech, resident, id)
	for round := 1; round <= 2; round++ {
		w.Expect(w.Tap(resident, flows.EncodePayload("nfx", id), false))
		msgs := w.Drain()
		// The rework heads a new step card at the repair step.
		card := w.Last(msgs, tech.Chat())
		contains(t, card.Text, fmt.Sprintf("第 %d 次返工", round))
		contains(t, card.Text, "维修")
		if card.Kind != flows.KindSend {
			t.Fatalf("round %d: the rework came as a %s, not a new card", round, card.Kind)
		}
		w.Text(resident, "还是不亮")
		msgs = w.Drain()
		contains(t, w.Last(msgs, tech.Chat()).Text, "还是不亮")
		tk := w.Ticket(id)
		if tk.State != flows.StateOnSite || tk.Reworks != round || w.StepKind(id) != flows.StepWork || tk.Visit.Tests != 0 {
			t.Fatalf("round %d: %+v", round, tk)
		}
		// The cleanup needs a fresh photo, and the tests must be done again,
		// before the next sign-off: nothing of the round before counts.
		w.Expect(w.Step(tech, id, "next"))
		if got := len(w.Ticket(id).Visit.Photos["cleanup"]); got != 0 {
			t.Fatalf("round %d: the cleanup starts with %d photos of the round before", round, got)
		}
		w.Refused(w.Step(tech, id, "next"), "需要先上传照片")
		w.Photo(tech, fmt.Sprintf("CLEAN-%d", round), "", 1000)
		w.Expect(w.Step(tech, id, "next"))
		w.Refused(w.Step(tech, id, "next"), "至少 3 次")
		w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "已过期")
		for i := 0; i < 3; i++ {
			w.Expect(w.Step(tech, id, "pass"))
		}
		w.Expect(w.Step(tech, id, "next"))
		w.Expect(w.Step(tech, id, "next"))
		w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
		w.Drain()
	}
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "4"), false))
	if tk := w.Ticket(id); tk.State != flows.StateClosed || tk.Score != 4 || tk.Reworks != 2 {
		t.Fatalf("%+v", tk)
	}
}

func TestCancelOnlyBeforeAcceptance(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	a := w.Report(resident, "门锁坏了")
	b := w.Report(resident, "窗户关不上")
	if b != "BX-20261127-0002" {
		t.Fatalf("second ticket %s", b)
	}
	w.Tap(resident, flows.EncodePayload("cx", a), false)
	if w.Ticket(a).State != flows.StateCancelled {
		t.Fatal("not cancelled")
	}
	msgs := w.Drain()
	contains(t, w.Last(msgs, flowstest.Group).Text, "已取消")
	w.Tap(tech, flows.EncodePayload("acc", b), true)
	res := w.Tap(resident, flows.EncodePayload("cx", b), false)
	contains(t, res.Toast, "已过期")
	if w.Ticket(b).State != flows.StateAccepted {
		t.Fatal("cancelled after acceptance")
	}
	// /mytickets lists both, newest first.
	w.Drain()
	w.Cmd(resident, "mytickets", "")
	m := w.Last(w.Drain(), resident.Chat())
	if strings.Index(m.Text, b) > strings.Index(m.Text, a) {
		t.Fatalf("not newest first: %q", m.Text)
	}
}

func TestLeadOpenAndReassign(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	id := w.Report(resident, "漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Now = w.Now.Add(90 * time.Minute)
	w.Drain()
	w.Cmd(lead, "open", "")
	m := w.Last(w.Drain(), lead.Chat())
	contains(t, m.Text, id)
	contains(t, m.Text, "1 小时 30 分")
	contains(t, m.Text, "张师傅")

	w.Cmd(tech, "open", "")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管")

	w.Cmd(lead, "reassign", strings.ToLower(id))
	pick := w.Last(w.Drain(), lead.Chat())
	w.Tap(lead, w.ButtonData(pick, "赵师傅"), false)
	msgs := w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "改派")
	contains(t, w.Last(msgs, tech2.Chat()).Text, id)
	if tk := w.Ticket(id); tk.AssigneeID != tech2.PID() {
		t.Fatalf("%+v", tk)
	}
	// The old assignee's buttons no longer work.
	res := w.Tap(tech, flows.EncodePayload("arr", id), false)
	contains(t, res.Toast, "不是由您负责")
	// Back to the group: the card gets its Accept button again.
	w.Tap(lead, flows.EncodePayload("rg", id), false)
	card := w.Last(w.Drain(), flowstest.Group)
	w.ButtonData(card, "接单")
}

func TestInvites(t *testing.T) {
	w := flowstest.New(t)
	w.Cmd(admin, "invite", "technician")
	m := w.Last(w.Drain(), admin.Chat())
	contains(t, m.Text, "https://t.me/test_bot?start=")
	code := strings.Fields(m.Text[strings.Index(m.Text, "start=")+6:])[0]
	w.Cmd(tech, "start", code)
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "维修人员")
	w.Cmd(tech2, "start", code)
	contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "已经被使用")
	w.Cmd(stranger, "start", "NOSUCHCODE")
	contains(t, w.Last(w.Drain(), stranger.Chat()).Text, "无效")

	w.Cmd(admin, "invite", "lead")
	m = w.Last(w.Drain(), admin.Chat())
	code = strings.Fields(m.Text[strings.Index(m.Text, "start=")+6:])[0]
	w.Now = w.Now.Add(73 * time.Hour)
	w.Cmd(lead, "start", code)
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "过期")

	// Technicians cannot invite; residents cannot either.
	w.Cmd(tech, "invite", "technician")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "无权")
}

func TestEnglishResident(t *testing.T) {
	w := flowstest.New(t)
	en := flowstest.Person{ID: 150, Name: "Alice", Lang: "en-US"}
	w.Cmd(en, "start", "")
	contains(t, w.Last(w.Drain(), en.Chat()).Text, "Your name")
	w.Text(en, "Alice")
	m := w.Last(w.Drain(), en.Chat())
	if m.RequestContact == "" {
		t.Fatal("no share-contact keyboard")
	}
	contains(t, m.RequestContact, "Share my phone")
}
