package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// gateWorld is a world where electrical work needs 低压电工作业证 and a
// water leak needs the water skill, with a resident, two technicians, a
// lead and the admin.
func gateWorld(t *testing.T, opts ...flowstest.Option) *flowstest.World {
	t.Helper()
	opts = append([]flowstest.Option{flowstest.WithOptions(func(o *flows.Options) {
		o.Quals.Categories = map[string]flows.Requirement{"electricity": {Cert: "elec_low_voltage"}}
		o.Quals.Emergencies = map[string]flows.Requirement{"water_leak": {Skill: "water"}}
	})}, opts...)
	w := flowstest.New(t, opts...)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	w.Cmd(admin, "help", "")
	w.Drain()
	return w
}

// giveCert records a verified certificate for p as the admin would.
func giveCert(t *testing.T, w *flowstest.World, p flowstest.Person, typ string, issued, until flows.Date) *flows.Certificate {
	t.Helper()
	var c *flows.Certificate
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		var err error
		rules := w.Opts.Quals
		c, err = rules.SubmitCert(tx, admin.PID(), flows.Certificate{PersonID: p.PID(), Type: typ, Number: "T" + p.PID(),
			Authority: "上海市应急管理局", Issued: issued, ValidUntil: until}, true, w.Now, w.Opts.Location)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// giveSkill records p's level in a skill as the admin would.
func giveSkill(t *testing.T, w *flowstest.World, p flowstest.Person, skill, level string) {
	t.Helper()
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		rules := w.Opts.Quals
		return rules.SetSkill(tx, admin.PID(), flows.Skill{PersonID: p.PID(), Skill: skill, Level: level}, w.Now)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reportCat files a household ASAP ticket in the category whose button
// contains label and returns its id.
func reportCat(t *testing.T, w *flowstest.World, p flowstest.Person, label, desc string) string {
	t.Helper()
	id, _ := reportCatMsgs(t, w, p, label, desc)
	return id
}

// reportCatMsgs is reportCat returning the messages of the last step too
// (the group card among them).
func reportCatMsgs(t *testing.T, w *flowstest.World, p flowstest.Person, label, desc string) (string, []flows.Message) {
	t.Helper()
	first := func() string {
		m := w.Last(w.Drain(), p.Chat())
		if len(m.Buttons) == 0 {
			t.Fatalf("no buttons in %q", m.Text)
		}
		return m.Buttons[0][0].Data
	}
	w.Cmd(p, "report", "")
	w.Tap(p, w.ButtonData(w.Last(w.Drain(), p.Chat()), label), false)
	w.Text(p, desc)
	w.Tap(p, first(), false) // no more photos
	w.Tap(p, first(), false) // household
	w.Tap(p, first(), false) // as soon as possible
	msgs := w.Drain()
	m := w.Last(msgs, p.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket number in %q", m.Text)
	}
	return m.Text[i : i+len("BX-20261127-0001")], msgs
}

// TestAcceptGate: the accept is checked against what the job needs inside
// the transaction of the tap; the card says what it needs.
func TestAcceptGate(t *testing.T) {
	w := gateWorld(t)
	giveCert(t, w, tech2, "elec_low_voltage", day(2024, 3, 1), flows.Date{})
	id, msgs := reportCatMsgs(t, w, resident, "电路", "客厅插座没电")
	card := w.Last(msgs, flowstest.Group)
	contains(t, card.Text, "需要：低压电工作业证")
	accept := w.ButtonData(card, "接单")

	t.Run("unqualified technician refused with the reason", func(t *testing.T) {
		w.Refused(w.Tap(tech, accept, true), "这项工作需要低压电工作业证；你还没有登记这个证——请联系班长。")
		if tk := w.Ticket(id); tk.State != flows.StateNew || tk.AssigneeID != "" {
			t.Fatalf("ticket changed: %s %s", tk.State, tk.AssigneeID)
		}
		if msgs := w.Drain(); len(flowstest.To(msgs, flowstest.Group)) != 0 {
			t.Fatalf("the card changed on a refused accept: %+v", msgs)
		}
	})
	t.Run("in English for an English speaker", func(t *testing.T) {
		w.Cmd(tech, "lang", "en")
		w.Drain()
		w.Refused(w.Tap(tech, accept, true), "This job needs low-voltage electrician certificate; you have none recorded — ask your lead.")
	})
	t.Run("qualified technician accepted", func(t *testing.T) {
		w.Expect(w.Tap(tech2, accept, true))
		if tk := w.Ticket(id); tk.State != flows.StateAccepted || tk.AssigneeID != tech2.PID() {
			t.Fatalf("not accepted: %s %s", tk.State, tk.AssigneeID)
		}
	})
	t.Run("a category with no requirement is open to all", func(t *testing.T) {
		w.Drain()
		other := w.Report(resident, "厨房漏水")
		w.Expect(w.Tap(tech, flows.EncodePayload("acc", other), true))
	})
}

// TestExpiredCertStopsQualifyingTheDayAfter: a card valid until
// 2026-11-28 qualifies through the last second of that day in Shanghai and
// not from the first second of the next, on the pinned clock.
func TestExpiredCertStopsQualifyingTheDayAfter(t *testing.T) {
	w := gateWorld(t)
	giveCert(t, w, tech, "elec_low_voltage", day(2020, 11, 28), day(2026, 11, 28))
	a := reportCat(t, w, resident, "电路", "客厅插座没电")
	b := reportCat(t, w, resident, "电路", "卧室灯不亮")
	w.Drain()
	w.Now = sh(2026, 11, 28, 23, 59, 59)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", a), true))
	w.Now = sh(2026, 11, 29, 0, 0, 0)
	w.Refused(w.Tap(tech, flows.EncodePayload("acc", b), true), "你的证已于 2026-11-28 过期——请联系班长")
	if tk := w.Ticket(b); tk.State != flows.StateNew {
		t.Fatalf("accepted with an expired card: %s", tk.State)
	}
}

// TestLeadOverrideWithReason: a lead may still assign someone who does not
// qualify, with a reason that is recorded on the ticket, in its audit
// trail, told to the technician and flagged in the monthly audit.
func TestLeadOverrideWithReason(t *testing.T) {
	w := gateWorld(t, flowstest.WithOptions(func(o *flows.Options) {
		o.Quals.Categories["water"] = flows.Requirement{Skill: "water", Level: "intermediate"}
	}))
	w.Tick()
	giveSkill(t, w, tech, "water", "junior")
	id := w.Report(resident, "厨房漏水")
	w.Drain()
	w.Cmd(lead, "reassign", id)
	pick := w.Last(w.Drain(), lead.Chat())
	contains(t, pick.Text, "需要：水管/漏水（中级及以上）")
	w.Tap(lead, w.ButtonData(pick, "⚠️ 张师傅（资质不符）"), false)
	ask := w.Last(w.Drain(), lead.Chat())
	contains(t, ask.Text, "张师傅：水管/漏水技能是初级（需要中级及以上）")
	if tk := w.Ticket(id); tk.AssigneeID != "" {
		t.Fatalf("assigned before the reason: %s", tk.AssigneeID)
	}
	w.Text(lead, "其他人都在外地，他在旁边有人指导")
	msgs := w.Drain()
	tk := w.Ticket(id)
	if tk.AssigneeID != tech.PID() || tk.State != flows.StateAccepted || len(tk.QualOverrides) != 1 {
		t.Fatalf("not assigned with an override: %s %s %+v", tk.AssigneeID, tk.State, tk.QualOverrides)
	}
	if o := tk.QualOverrides[0]; o.Reason != "其他人都在外地，他在旁边有人指导" || o.By != lead.PID() || o.PersonID != tech.PID() {
		t.Fatalf("override %+v", o)
	}
	contains(t, strings.Join(w.Events(id), "\n"), "qual_override:"+tech.PID()+" 其他人都在外地")
	contains(t, w.Last(msgs, tech.Chat()).Text, "理由：其他人都在外地，他在旁边有人指导")
	contains(t, w.Last(msgs, lead.Chat()).Text, "已改派给 张师傅")

	w.WalkToSignoff(tech, resident, id)
	w.Tap(resident, flows.EncodePayload("fix", id), false)
	w.Tap(tech, flows.EncodePayload("bye", id), false)
	w.Tap(resident, flows.EncodePayload("sc", id, "5"), false)
	w.Drain()
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	w.Tick()
	audit := w.Last(w.Drain(), lead.Chat()).Text
	contains(t, audit, id+"（张师傅）：⚠️ 主管 陈主管 指派了不具备资质的 张师傅")
	contains(t, audit, "理由：其他人都在外地")
}

// TestOverrideRechecked: the reason dialogue checks everything again when
// the reason arrives; a technician who qualified meanwhile is assigned
// without an override, a ticket someone took meanwhile is not reassigned
// blindly.
func TestOverrideRechecked(t *testing.T) {
	w := gateWorld(t)
	id := reportCat(t, w, resident, "电路", "客厅插座没电")
	w.Drain()
	w.Cmd(lead, "reassign", id)
	w.Tap(lead, w.ButtonData(w.Last(w.Drain(), lead.Chat()), "张师傅"), false)
	w.Drain()
	giveCert(t, w, tech, "elec_low_voltage", day(2024, 3, 1), flows.Date{})
	w.Text(lead, "临时安排")
	w.Drain()
	if tk := w.Ticket(id); tk.AssigneeID != tech.PID() || len(tk.QualOverrides) != 0 {
		t.Fatalf("want a plain assignment, got %s %+v", tk.AssigneeID, tk.QualOverrides)
	}
}

// TestEmergencyPagesTheQualifiedOnDuty: with one qualified and one
// unqualified technician on duty, only the qualified one is paged; with
// only unqualified ones on duty the leads are paged and told why.
func TestEmergencyPagesTheQualifiedOnDuty(t *testing.T) {
	t.Run("one qualified, one not", func(t *testing.T) {
		w := gateWorld(t)
		giveSkill(t, w, tech2, "water", "junior")
		w.Roster = func(time.Time) []string { return []string{tech.PID(), tech2.PID()} }
		w.Cmd(resident, "report", "")
		w.Tap(resident, w.ButtonData(w.Last(w.Drain(), resident.Chat()), "🚨 跑水"), false)
		msgs := w.Drain()
		if count(msgs, tech2.Chat(), "🚨 紧急") != 1 {
			t.Fatalf("the qualified technician was not paged: %+v", flowstest.To(msgs, tech2.Chat()))
		}
		if n := len(flowstest.To(msgs, tech.Chat())); n != 0 {
			t.Fatalf("the unqualified technician got %d messages", n)
		}
		if count(msgs, lead.Chat(), "🚨") != 0 {
			t.Fatalf("the lead was paged although someone qualified is on duty")
		}
	})
	t.Run("nobody qualified on duty", func(t *testing.T) {
		w := gateWorld(t)
		w.Roster = func(time.Time) []string { return []string{tech.PID()} }
		w.Cmd(resident, "report", "")
		w.Tap(resident, w.ButtonData(w.Last(w.Drain(), resident.Chat()), "🚨 跑水"), false)
		msgs := w.Drain()
		page := w.Last(msgs, lead.Chat()).Text
		contains(t, page, "值班人员中没有具备资质的人")
		contains(t, page, "需要：水管/漏水（初级及以上）")
		contains(t, page, "张师傅：没有登记水管/漏水技能")
		if n := len(flowstest.To(msgs, tech.Chat())); n != 0 {
			t.Fatalf("the unqualified technician got %d messages", n)
		}
	})
}
