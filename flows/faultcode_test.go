package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/sop"
)

// stepCard is the last step card the technician got (the message with a
// help button).
func stepCard(t *testing.T, w *flowstest.World, msgs []flows.Message) flows.Message {
	t.Helper()
	var card flows.Message
	for _, m := range flowstest.To(msgs, tech.Chat()) {
		for _, row := range m.Buttons {
			for _, b := range row {
				if strings.HasPrefix(flowstest.Inner(b.Data), "1|help|") {
					card = m
				}
			}
		}
	}
	if card.Text == "" {
		t.Fatalf("no step card to the technician in %d messages", len(msgs))
	}
	return card
}

// walkToSignoffStep walks to the sign-off step and returns what was sent on the way.
func walkToSignoffStep(t *testing.T, w *flowstest.World, id string) []flows.Message {
	t.Helper()
	var msgs []flows.Message
	w.OnDrain = func(ms []flows.Message) { msgs = append(msgs, ms...) }
	defer func() { w.OnDrain = nil }()
	advanceTo(t, w, id, flows.StepSignoff)
	return msgs
}

func fc(id string, args ...string) string {
	return flows.EncodePayload(string(flows.ActCode), append([]string{id}, args...)...)
}

// TestFaultCodingRequiredBeforeSignoff: at the sign-off step the card asks
// for the component, then the symptoms that component can show, the cause
// and the action, by buttons from the SOP's tree for the category; the
// sign-off is refused until the coding is complete, out-of-order or
// unknown codes are refused, and the coding reaches the ticket, its audit
// trail and the resident's work order.
func TestFaultCodingRequiredBeforeSignoff(t *testing.T) {
	w, id := onSite(t, "household")
	card := stepCard(t, w, walkToSignoffStep(t, w, id))
	contains(t, card.Text, "故障编码 1/4：请选择故障部件")
	w.ButtonData(card, "角阀 / 阀门")
	for _, row := range card.Buttons {
		for _, b := range row {
			if strings.HasPrefix(flowstest.Inner(b.Data), "1|done|") {
				t.Fatalf("the sign-off button is offered before the coding: %q", b.Text)
			}
		}
	}
	w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "请先完成工单 "+id+" 的故障编码")
	w.Refused(w.Tap(tech, fc(id, "s", "LEAK"), false), "已过期")        // a symptom before the component
	w.Refused(w.Tap(tech, fc(id, "c", "LIFT"), false), "无法识别")       // another category's component
	w.Refused(w.Tap(tech, fc(id, "c", "VALVE", "x"), false), "无法识别") // extra arguments (ValidPayload)
	w.Expect(w.Tap(tech, fc(id, "c", "VALVE"), false))
	card = stepCard(t, w, w.Drain())
	contains(t, card.Text, "🧩 故障编码：角阀 / 阀门")
	contains(t, card.Text, "2/4：请选择故障现象")
	w.ButtonData(card, "滴漏")
	for _, row := range card.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, "不出水") {
				t.Fatalf("a valve offers a symptom it cannot show: %q", b.Text)
			}
		}
	}
	w.Refused(w.Tap(tech, fc(id, "s", "NOFLOW"), false), "无法识别") // a tap's symptom, not a valve's
	w.Expect(w.Tap(tech, fc(id, "s", "LEAK"), false))
	w.Expect(w.Tap(tech, fc(id, "k", "WEAR"), false))
	w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "故障编码")
	w.Refused(w.Tap(resident, fc(id, "a", "REPLACE"), false), "")
	w.Expect(w.Tap(tech, fc(id, "a", "REPLACE"), false))
	card = stepCard(t, w, w.Drain())
	contains(t, card.Text, "🧩 故障编码：角阀 / 阀门 → 漏水 / 渗漏 → 老化磨损 → 更换部件")
	w.ButtonData(card, "请住户签字确认")
	tk := w.Ticket(id)
	if f := tk.Fault; f == nil || *f != (flows.FaultCode{Component: "VALVE", Symptom: "LEAK", Cause: "WEAR", Action: "REPLACE", By: tech.PID(), At: w.Now}) {
		t.Fatalf("fault %+v", tk.Fault)
	}
	if evs := w.Events(id); !containsStr(evs, "fault:signoff VALVE/LEAK/WEAR/REPLACE") {
		t.Fatalf("no fault event in %v", evs)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	contains(t, w.LastText(w.Drain(), resident.Chat()).Text, "🧩 故障：角阀 / 阀门 → 漏水 / 渗漏 → 老化磨损 → 更换部件")
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestFaultCodingRestart: "code again" clears the coding; a restart of the
// bot in the middle keeps what was coded.
func TestFaultCodingRestart(t *testing.T) {
	w, id := onSite(t, "household")
	advanceTo(t, w, id, flows.StepSignoff)
	w.Expect(w.Tap(tech, fc(id, "c", "TAP"), false))
	w.Expect(w.Tap(tech, fc(id, "s", "DRIP"), false))
	w.Reopen()
	if f := w.Ticket(id).Fault; f == nil || f.Component != "TAP" || f.Symptom != "DRIP" {
		t.Fatalf("after a restart: %+v", f)
	}
	w.Expect(w.Tap(tech, fc(id, "r"), false))
	if w.Ticket(id).Fault != nil {
		t.Fatal("code again did not clear the coding")
	}
	w.Refused(w.Tap(tech, fc(id, "s", "DRIP"), false), "已过期")
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
}

// TestFaultCodingPublicAsset: a public-facility order also names its asset
// or place, typed after the action; the sign-off waits for it, an empty or
// overlong name is refused, and the work order shows it.
func TestFaultCodingPublicAsset(t *testing.T) {
	w, id := onSite(t, "public")
	advanceTo(t, w, id, flows.StepSignoff)
	w.Drain()
	for _, a := range [][]string{{"c", "PIPE"}, {"s", "LEAK"}, {"k", "CORR"}, {"a", "REPAIR"}} {
		w.Expect(w.Tap(tech, fc(id, a...), false))
	}
	contains(t, w.LastText(w.Drain(), tech.Chat()).Text, "请输入工单 "+id+" 维修的设施或位置")
	w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "故障编码")
	w.Text(tech, " \u200b ")
	contains(t, w.LastText(w.Drain(), tech.Chat()).Text, "内容不能为空")
	w.Photo(tech, "P-ASSET", "", 1000)
	contains(t, w.LastText(w.Drain(), tech.Chat()).Text, "需要输入文字")
	w.Text(tech, strings.Repeat("长", 101))
	contains(t, w.LastText(w.Drain(), tech.Chat()).Text, "内容太长了（101 字，最多 100 字）")
	w.Text(tech, "地下车库 B2 排水泵")
	card := stepCard(t, w, w.Drain())
	contains(t, card.Text, "📍 设施/位置：地下车库 B2 排水泵")
	if tk := w.Ticket(id); tk.Place != "地下车库 B2 排水泵" || tk.Asset != "" || !tk.Fault.Complete() {
		t.Fatalf("ticket %q %q %+v", tk.Place, tk.Asset, tk.Fault)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	contains(t, w.LastText(w.Drain(), resident.Chat()).Text, "地下车库 B2 排水泵")
}

// TestFaultTreesByCategory: a category with a tree of its own codes from
// it, one without uses the default tree "*", and an SOP without trees
// asks for no coding.
func TestFaultTreesByCategory(t *testing.T) {
	w, id := onSite(t, "household")
	seedCategory(t, w, id, "other")
	advanceTo(t, w, id, flows.StepSignoff)
	w.Drain()
	w.Refused(w.Tap(tech, fc(id, "c", "VALVE"), false), "无法识别")
	w.Expect(w.Tap(tech, fc(id, "c", "FIXTURE"), false))

	noTrees := sop.Default()
	noTrees.Faults = nil
	w2 := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { o.SOP = noTrees }))
	w2.Register(resident, "13800138000")
	w2.Staff(tech, "technician")
	id2 := w2.Report(resident, "漏水")
	w2.Expect(w2.Tap(tech, flows.EncodePayload("acc", id2), true))
	w2.Expect(w2.Tap(tech, flows.EncodePayload("arr", id2), false))
	advanceTo(t, w2, id2, flows.StepSignoff)
	w2.Expect(w2.Tap(tech, flows.EncodePayload("done", id2), false))
	w2.Refused(w2.Tap(tech, fc(id2, "c", "VALVE"), false), "已过期")
}

func seedCategory(t *testing.T, w *flowstest.World, id, cat string) {
	t.Helper()
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		tk.Category = cat
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
}
