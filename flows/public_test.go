package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// publicAssets are the listed public assets of the test estate.
func publicAssets(o *flows.Options) {
	o.PublicAssets = []flows.PublicAsset{
		{Key: "lift_1", Labels: map[flows.Lang]string{flows.LangZH: "1号楼电梯", flows.LangEN: "Lift, building 1"}},
		{Key: "gate", Labels: map[flows.Lang]string{flows.LangZH: "小区东门门禁", flows.LangEN: "East gate access control"}},
	}
}

func publicWorld(t *testing.T, opts ...flowstest.Option) *flowstest.World {
	w := flowstest.New(t, append([]flowstest.Option{flowstest.WithOptions(publicAssets)}, opts...)...)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	return w
}

// reportPublic files a public-facility report up to the question where;
// answer answers it (a tap or a text) and the report is finished ASAP.
func reportPublic(t *testing.T, w *flowstest.World, answer func(prompt flows.Message)) string {
	t.Helper()
	w.Cmd(resident, "report", "")
	m := w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(m, "其他"), false))
	w.Text(resident, "楼道灯不亮")
	m = w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(m, "没有更多"), false))
	m = w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(m, "公共区域"), false))
	where := w.Last(w.Drain(), resident.Chat())
	contains(t, where.Text, "在哪里")
	answer(where)
	m = w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(m, "尽快"), false))
	m = w.Last(w.Drain(), resident.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket in %q", m.Text)
	}
	return m.Text[i : i+len("BX-20261127-0001")]
}

// TestPublicReportAsksWhere: SOP 4.3 / 2.0 — a public-facility report asks
// where (a building, floor or area typed, or a listed public asset), not
// the reporter's home, and the group and the technician see that place.
func TestPublicReportAsksWhere(t *testing.T) {
	t.Run("typed", func(t *testing.T) {
		w := publicWorld(t)
		id := reportPublic(t, w, func(where flows.Message) {
			w.Text(resident, " \u200b ")
			contains(t, w.Last(w.Drain(), resident.Chat()).Text, "内容不能为空")
			w.Text(resident, strings.Repeat("楼", 101))
			contains(t, w.Last(w.Drain(), resident.Chat()).Text, "最多 100 字")
			w.Text(resident, "5栋 3楼 电梯厅")
		})
		tk := w.Ticket(id)
		if tk.Kind != flows.OrderPublic || tk.Place != "5栋 3楼 电梯厅" || tk.Asset != "" || tk.Room != "" || tk.Building != "" {
			t.Fatalf("public ticket %+v", tk)
		}
		rows, _ := w.Store.Rows("delivered")
		var card flows.Message
		for _, r := range rows {
			if r.Msg.To == flowstest.Group {
				card = r.Msg
			}
		}
		contains(t, card.Text, "5栋 3楼 电梯厅")
		if strings.Contains(card.Text, "1502") || strings.Contains(card.Text, "3栋 / 2单元") {
			t.Fatalf("the card shows the reporter's home: %q", card.Text)
		}
		w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "地址：5栋 3楼 电梯厅")
	})
	t.Run("listed asset", func(t *testing.T) {
		w := publicWorld(t)
		id := reportPublic(t, w, func(where flows.Message) {
			lift := w.ButtonData(where, "1号楼电梯")
			w.Refused(w.Tap(resident, strings.Replace(lift, "asset:lift_1", "asset:nosuch", 1), false), "无法识别")
			w.Expect(w.Tap(resident, lift, false))
		})
		if tk := w.Ticket(id); tk.Asset != "lift_1" || tk.Place != "1号楼电梯" {
			t.Fatalf("asset ticket %+v", tk)
		}
	})
}

// TestPublicVisitHasNoDoorOrEntry: a corridor light needs no doorbell and
// no consent to enter a home; the visit starts at the survey, and the
// reporter signs off a public work order without a fee question.
func TestPublicVisitHasNoDoorOrEntry(t *testing.T) {
	w := publicWorld(t)
	id := reportPublic(t, w, func(flows.Message) { w.Text(resident, "3栋 1楼大堂") })
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	msgs := w.Drain()
	if w.StepKind(id) != flows.StepSurvey {
		t.Fatalf("a public visit starts at %s", w.StepKind(id))
	}
	if count(msgs, resident.Chat(), "同意入户") != 0 {
		t.Fatal("the reporter was asked to agree to entry for a public area")
	}
	contains(t, w.Last(msgs, tech.Chat()).Text, "第 1/7 步")
	advanceTo(t, w, id, flows.StepSignoff)
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	card := w.Last(w.Drain(), resident.Chat())
	contains(t, card.Text, "维修工作单（公共部位）")
	contains(t, card.Text, "3栋 1楼大堂")
	if strings.Contains(card.Text, "入户") {
		t.Fatalf("the public work order speaks of entry: %q", card.Text)
	}
	for _, row := range card.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, "收费") {
				t.Fatalf("a public work order asks about a fee: %v", card.Buttons)
			}
		}
	}
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
}

// TestPublicSignoffByLead: with public sign-off by a lead (config), the
// lead, not the reporter, confirms a public work order.
func TestPublicSignoffByLead(t *testing.T) {
	w := publicWorld(t, flowstest.WithOptions(func(o *flows.Options) { o.PublicSignoff = flows.SignoffLead }))
	id := reportPublic(t, w, func(where flows.Message) { w.Expect(w.Tap(resident, w.ButtonData(where, "东门"), false)) })
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	advanceTo(t, w, id, flows.StepSignoff)
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	msgs := w.Drain()
	card := w.Last(msgs, lead.Chat())
	contains(t, card.Text, "维修工作单（公共部位）")
	w.ButtonData(card, "确认，已修好")
	contains(t, w.Last(msgs, resident.Chat()).Text, "主管验收")
	contains(t, w.Last(msgs, flowstest.Group).Text, "等待主管验收")
	if tk := w.Ticket(id); tk.Signer != flows.SignoffLead {
		t.Fatalf("signer %q", tk.Signer)
	}
	w.Refused(w.Tap(resident, flows.EncodePayload("fix", id), false), "没有权限")
	w.Refused(w.Tap(tech, flows.EncodePayload("fix", id), false), "没有权限")
	w.Expect(w.Tap(lead, w.ButtonData(card, "确认，已修好"), false))
	if tk := w.Ticket(id); tk.State != flows.StateConfirmed {
		t.Fatalf("state %s", tk.State)
	}
	if ev := w.Events(id); !strings.Contains(strings.Join(ev, ","), "fix:lead") {
		t.Fatalf("the lead's sign-off is not in the audit trail: %v", ev)
	}
}

// TestListedAssetTypedOrTapped: a typed place that is a listed asset's
// name, in either language (spaces and letter case aside), names that
// asset; so a report made with the asset's button meets it, and a second
// open report of it asks whether to follow the first instead.
func TestListedAssetTypedOrTapped(t *testing.T) {
	for _, typed := range []string{"1号楼 电梯", "LIFT, Building 1"} {
		t.Run(typed, func(t *testing.T) {
			w := publicWorld(t)
			id := reportPublic(t, w, func(flows.Message) { w.Text(resident, typed) })
			if tk := w.Ticket(id); tk.Asset != "lift_1" || tk.Place != typed {
				t.Fatalf("typed %q: asset %q place %q", typed, tk.Asset, tk.Place)
			}
			registerAt(w, other, "13900139000", "1602")
			w.Cmd(other, "report", "")
			m := w.Last(w.Drain(), other.Chat())
			w.Expect(w.Tap(other, w.ButtonData(m, "其他"), false))
			w.Text(other, "电梯按钮失灵")
			m = w.Last(w.Drain(), other.Chat())
			w.Expect(w.Tap(other, w.ButtonData(m, "没有更多"), false))
			m = w.Last(w.Drain(), other.Chat())
			w.Expect(w.Tap(other, w.ButtonData(m, "公共区域"), false))
			where := w.Last(w.Drain(), other.Chat())
			w.Expect(w.Tap(other, w.ButtonData(where, "1号楼电梯"), false))
			q := w.Last(w.Drain(), other.Chat())
			contains(t, q.Text, "已有人报修")
			contains(t, q.Text, id)
		})
	}
}
