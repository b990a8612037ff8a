package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// What a resident types where a button is expected reaches someone: while
// a technician holds the job the words go to them and onto the ticket, and
// a card waiting for the resident gets a pointer to its buttons.
func TestResidentWordsWhereAButtonIsExpected(t *testing.T) {
	t.Run("at the entry consent", func(t *testing.T) {
		w, id := onSite(t, "household")
		w.Expect(w.Step(tech, id, "answered"))
		w.Drain()
		w.Text(resident, "好的，请进")
		msgs := w.Drain()
		reply := w.Last(msgs, resident.Chat()).Text
		contains(t, reply, "已把您的话转给维修人员 张师傅")
		contains(t, reply, "请点上面消息里的「✅ 同意入户」按钮")
		card := w.Last(msgs, tech.Chat())
		contains(t, card.Text, "住户 王芳（工单 "+id+"）说：好的，请进")
		if card.Kind != flows.KindSend || !strings.HasPrefix(card.CardKey, "step:") {
			t.Fatalf("the words do not head a new step card: %+v", card)
		}
		if evs := strings.Join(w.Events(id), ","); !strings.Contains(evs, "resident_note:entry 好的，请进") {
			t.Fatalf("not on the ticket: %s", evs)
		}
		if w.Ticket(id).Visit.Entry != "" {
			t.Fatal("typed words were taken as consent")
		}
	})
	t.Run("at the work order", func(t *testing.T) {
		w, id := accepted(t)
		w.WalkToSignoff(tech, resident, id)
		w.Text(resident, "灯还是有点闪")
		msgs := w.Drain()
		reply := w.Last(msgs, resident.Chat()).Text
		contains(t, reply, "已把您的话转给维修人员")
		contains(t, reply, "没修好点「👎 不满意」")
		contains(t, w.Last(msgs, tech.Chat()).Text, "说：灯还是有点闪")
		if w.Ticket(id).State != flows.StateDone {
			t.Fatal("typed words answered the sign-off")
		}
	})
	t.Run("before anyone took it", func(t *testing.T) {
		w := flowstest.New(t)
		w.Register(resident, "13800138000")
		id := w.Report(resident, "厨房水管漏水")
		w.Text(resident, "下午三点以后家里有人")
		msgs := w.Drain()
		contains(t, w.Last(msgs, resident.Chat()).Text, "已补充到报修单 "+id)
		contains(t, w.Last(msgs, flowstest.Group).Text, "下午三点以后家里有人")
		contains(t, w.Ticket(id).Description, "下午三点以后家里有人")
	})
	t.Run("at the score", func(t *testing.T) {
		w, id := accepted(t)
		w.WalkToSignoff(tech, resident, id)
		w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
		w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
		w.Drain()
		w.Text(resident, "挺好的")
		msgs := w.Drain()
		contains(t, w.Last(msgs, resident.Chat()).Text, "请点上面消息里的星级")
		if len(flowstest.To(msgs, tech.Chat())) != 0 {
			t.Fatal("words at the score went to the technician")
		}
	})
	t.Run("without an open ticket", func(t *testing.T) {
		w := flowstest.New(t)
		w.Register(resident, "13800138000")
		w.Text(resident, "你好")
		m := w.Last(w.Drain(), resident.Chat())
		contains(t, m.Text, "需要报修")
		w.ButtonData(m, "我要报修")
	})
}

// accepted files a report that tech accepted.
func accepted(t *testing.T) (*flowstest.World, string) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "卫生间角阀漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Drain()
	return w, id
}

// After a question about the fee the resident can still say it is fixed,
// or that it is not.
func TestFeeQuestionOffersBothAnswers(t *testing.T) {
	w, id := accepted(t)
	w.WalkToSignoff(tech, resident, id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	m := w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(m, "不满意"), false))
	if tk := w.Ticket(id); tk.State != flows.StateOnSite || tk.Reworks != 1 {
		t.Fatalf("not satisfied after the fee question: %s, %d reworks", tk.State, tk.Reworks)
	}
	w.ButtonData(m, "确认，已修好")
}

// Withdrawing a report asks first and says what happens; keeping it
// changes nothing.
func TestCancelAsksFirst(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	id := w.Report(resident, "灯不亮")
	rows, _ := w.Store.Rows("delivered")
	var ack flows.Message
	for _, r := range rows {
		if r.Msg.To == resident.Chat() && strings.Contains(r.Msg.Text, "报修已受理") {
			ack = r.Msg
		}
	}
	w.Expect(w.Tap(resident, w.ButtonData(ack, "取消工单"), false))
	ask := w.Last(w.Drain(), resident.Chat())
	contains(t, ask.Text, "确定要撤销报修 "+id)
	contains(t, ask.Text, "不会再派人上门")
	if w.Ticket(id).State != flows.StateNew {
		t.Fatal("cancelled without confirmation")
	}
	w.Expect(w.Tap(resident, w.ButtonData(ask, "不撤销"), false))
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "保留")
	if w.Ticket(id).State != flows.StateNew {
		t.Fatal("keeping it cancelled it")
	}
	w.Expect(w.Tap(resident, w.ButtonData(ask, "确定撤销"), false))
	msgs := w.Drain()
	done := w.Last(msgs, resident.Chat())
	contains(t, done.Text, "已撤销")
	w.ButtonData(done, "我要报修")
	contains(t, w.Last(msgs, flowstest.Group).Text, "住户已取消")
	if w.Ticket(id).State != flows.StateCancelled {
		t.Fatal("not cancelled")
	}
	w.Refused(w.Tap(resident, w.ButtonData(ask, "不撤销"), false), "已过期")
}

// A resident who types a staff command is told it does not exist, as for
// any unknown command; staff are told why they may not.
func TestStaffCommandsAreUnknownToResidents(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	for _, cmd := range []string{"invite", "skip", "open", "review", "sop"} {
		w.Cmd(resident, cmd, "")
		got := w.Last(w.Drain(), resident.Chat()).Text
		if want := "没有 /" + cmd + " 这个命令"; !strings.Contains(got, want) {
			t.Errorf("/%s by a resident: %q", cmd, got)
		}
	}
	w.Cmd(tech, "invite", "technician")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "您无权发出这种邀请")
}
