package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestFeeQuestionGoesToCustomerService: SOP 4.2.5 / 3.3 — a resident who
// questions the fee is referred to customer service, and customer service
// (the dispatcher role) gets the question: in their chat, and in a queue
// (/fees) where they answer it (the resident hears back in chat) and close it.
func TestFeeQuestionGoesToCustomerService(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	cs := flowstest.Person{ID: 400, Name: "客服小刘"}
	w.Staff(cs, "dispatcher")
	id := w.Report(resident, "漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	msgs := w.Drain()
	told := w.Last(msgs, cs.Chat())
	contains(t, told.Text, id)
	contains(t, told.Text, "¥25.00")
	w.ButtonData(told, "回复住户")
	contains(t, w.Last(msgs, lead.Chat()).Text, "收费有疑问")
	contains(t, w.Last(msgs, resident.Chat()).Text, "400-800-1234")
	// Asked twice, it is still one question.
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	if n := count(w.Drain(), cs.Chat(), "收费有疑问"); n != 0 {
		t.Fatalf("customer service told again of an open question (%d)", n)
	}

	w.Cmd(cs, "fees", "")
	queue := w.Last(w.Drain(), cs.Chat())
	contains(t, queue.Text, "待处理的收费疑问（1）")
	contains(t, queue.Text, id+"｜¥25.00｜王芳")
	w.Expect(w.Tap(cs, w.ButtonData(queue, "回复住户 "+id), false))
	w.Drain()
	w.Text(cs, "角阀更换按价目表 W02 收费 25 元，不含材料。")
	msgs = w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "客服 客服小刘 答复您对工单 "+id+" 收费的疑问：角阀更换按价目表 W02 收费 25 元")
	w.Cmd(cs, "fees", "")
	queue = w.Last(w.Drain(), cs.Chat())
	contains(t, queue.Text, "已回复 1 次")

	// Who may not: a technician's /fees, a forged answer button.
	w.Cmd(tech, "fees", "")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管")
	w.Refused(w.Tap(tech, flows.EncodePayload("fa", id), false), "只有主管")
	w.Refused(w.Tap(resident, flows.EncodePayload("fc", id), false), "只有主管")

	w.Expect(w.Tap(cs, w.ButtonData(queue, "关闭 "+id), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "已由客服处理完毕")
	w.Cmd(cs, "fees", "")
	contains(t, w.Last(w.Drain(), cs.Chat()).Text, "没有待处理的收费疑问")
	w.Refused(w.Tap(cs, w.ButtonData(queue, "回复住户 "+id), false), "已经关闭")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "fee_query:") || !strings.Contains(ev, "fee_answer:角阀更换") || !strings.Contains(ev, "fee_closed:") {
		t.Fatalf("the audit trail lacks the question's life: %s", ev)
	}
	w.Cmd(resident, "order", id)
	contains(t, w.LastText(w.Drain(), resident.Chat()).Text, "已由客服处理")
	// The work itself is confirmed as before.
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
}
