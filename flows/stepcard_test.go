package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// techView is what one event sent the technician: the living card's
// edit, a new card, the retirement of the card it replaced, and anything else.
type techView struct {
	edit, card *flows.Message
	retired    []string // card keys
	other      []flows.Message
}

func viewOf(t *testing.T, msgs []flows.Message) techView {
	t.Helper()
	var v techView
	for _, m := range flowstest.To(msgs, tech.Chat()) {
		m := m
		switch {
		case m.Retire:
			if m.Kind != flows.KindEdit || len(m.Buttons) != 0 {
				t.Fatalf("a retirement must be a buttonless edit: %+v", m)
			}
			v.retired = append(v.retired, m.CardKey)
		case strings.HasPrefix(m.CardKey, "step:") && m.Kind == flows.KindEdit:
			v.edit = &m
		case strings.HasPrefix(m.CardKey, "step:") && m.Kind == flows.KindSend:
			v.card = &m
		default:
			v.other = append(v.other, m)
		}
	}
	return v
}

// tapCard taps the button labelled label on card m as the technician.
func tapCard(w *flowstest.World, m *flows.Message, label string) flows.Result {
	w.TB.Helper()
	if m == nil {
		w.TB.Fatal("no card to tap")
	}
	return w.Tap(tech, w.ButtonData(*m, label), false)
}

// The technician's step card is one message edited in place while their
// own taps move the visit; it comes as a new message (the old one's buttons
// retired) only when the resident's consent needs their attention or their
// own text or photo pushed it up. An old card's buttons are answered as
// outdated.
func TestStepCardIsOneLivingMessage(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "卫生间角阀漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Drain()
	key := func(n int) string { return flows.StepCardKey(id, n) }

	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	v := viewOf(t, w.Drain())
	if v.card == nil || v.card.CardKey != key(1) || v.edit != nil || len(v.retired) != 0 || len(v.other) != 0 {
		t.Fatalf("arrival: want card 1 only, got %+v", v)
	}
	contains(t, v.card.Text, "第 1/10 步")
	card1 := v.card

	type want struct {
		edit    string // the living card edited, containing this
		card    string // a new card, containing this
		retired string // the card key retired
	}
	live := card1
	check := func(name string, w want, got techView) {
		t.Helper()
		switch {
		case w.edit != "":
			if got.edit == nil || got.card != nil || len(got.retired) != 0 || len(got.other) != 0 {
				t.Fatalf("%s: want only an edit of the living card, got %+v", name, got)
			}
			if got.edit.CardKey != live.CardKey {
				t.Fatalf("%s: edited %s, the living card is %s", name, got.edit.CardKey, live.CardKey)
			}
			contains(t, got.edit.Text, w.edit)
			live = got.edit
		case w.card != "":
			if got.card == nil || got.edit != nil || len(got.other) != 0 || len(got.retired) != 1 || got.retired[0] != w.retired {
				t.Fatalf("%s: want a new card retiring %s, got %+v", name, w.retired, got)
			}
			contains(t, got.card.Text, w.card)
			live = got.card
		}
	}

	w.Expect(tapCard(w, live, "有门铃"))
	check("doorbell", want{edit: "已按 0/3"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "按门铃"))
	check("ring", want{edit: "已按 1/3"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "住户已开门"))
	msgs := w.Drain()
	check("answered", want{edit: "第 2/10 步"}, viewOf(t, msgs))
	ask := w.Last(msgs, resident.Chat())

	// The resident's consent is news: a new card, headed by it.
	w.Expect(w.Tap(resident, w.ButtonData(ask, "同意入户"), false))
	check("consent", want{card: "住户已在手机上同意入户", retired: key(1)}, viewOf(t, w.Drain()))
	contains(t, live.Text, "第 3/10 步")
	if live.CardKey != key(2) {
		t.Fatalf("the consent card is %s", live.CardKey)
	}
	// The first card's buttons are outdated now.
	w.Refused(tapCard(w, card1, "求助"), "卡片已经更新过了")

	// The technician's own text pushes the card up: it moves to the bottom.
	w.Text(tech, "角阀老化漏水，更换角阀")
	check("plan", want{card: "方案：角阀老化漏水", retired: key(2)}, viewOf(t, w.Drain()))
	w.Photo(tech, "PLAN-1", "", 50_000)
	check("plan photo", want{card: "照片 1 张", retired: key(3)}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "下一步"))
	check("survey done", want{edit: "报价与住户同意"}, viewOf(t, w.Drain()))

	// The quote is built inside the card: price list, quantity, back.
	w.Expect(tapCard(w, live, "添加收费项目"))
	check("price list", want{edit: "服务价目表"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "W02"))
	check("quantity", want{edit: "数量"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "返回"))
	check("back", want{edit: "暂无收费项目"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "添加收费项目"))
	check("price list again", want{edit: "服务价目表"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "W02"))
	check("quantity again", want{edit: "数量"}, viewOf(t, w.Drain()))
	w.Expect(w.Tap(tech, w.ButtonData(*live, "1"), false))
	check("quantity 1", want{edit: "小计 ¥25.00"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "发送给住户确认"))
	msgs = w.Drain()
	check("quote sent", want{edit: "等待住户确认"}, viewOf(t, msgs))
	consent := w.Last(msgs, resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(consent, "同意方案和费用"), false))
	check("quote agreed", want{card: "住户已同意", retired: key(4)}, viewOf(t, w.Drain()))

	// Text at a photo step says a photo is needed, on a new card.
	w.Text(tech, "已经盖好了")
	check("text at a photo step", want{card: "这一步需要照片", retired: key(5)}, viewOf(t, w.Drain()))
	if evs := w.Events(id); !strings.Contains(strings.Join(evs, ","), "note:protect 已经盖好了") {
		t.Fatalf("the text is not kept as a note: %v", evs)
	}
	w.Photo(tech, "PROTECT-1", "", 50_000)
	check("protect photo", want{card: "已上传 1 张", retired: key(6)}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "下一步"))
	check("protected", want{edit: "维修"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "维修完成"))
	check("repaired", want{edit: "清扫"}, viewOf(t, w.Drain()))
	w.Photo(tech, "CLEAN-1", "", 50_000)
	check("clean photo", want{card: "已上传 1 张", retired: key(7)}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "下一步"))
	check("cleaned", want{edit: "试验通过 0/3"}, viewOf(t, w.Drain()))
	for i := 1; i <= 3; i++ {
		w.Expect(tapCard(w, live, "试验通过"))
		check(fmt.Sprintf("test %d", i), want{edit: fmt.Sprintf("试验通过 %d/3", i)}, viewOf(t, w.Drain()))
	}
	w.Expect(tapCard(w, live, "下一步"))
	check("tested", want{edit: "注意事项"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "▫️"))
	check("care note", want{edit: "已记录注意事项"}, viewOf(t, w.Drain()))
	w.Expect(tapCard(w, live, "已讲解注意事项"))
	check("care", want{edit: "故障编码 1/4"}, viewOf(t, w.Drain()))
	// The fault coding, level by level, inside the card.
	for i, level := range []string{"故障编码 2/4", "故障编码 3/4", "故障编码 4/4", "故障编码："} {
		w.Expect(w.Tap(tech, live.Buttons[0][0].Data, false))
		check(fmt.Sprintf("fault level %d", i+1), want{edit: level}, viewOf(t, w.Drain()))
	}
	// The sign-off request closes the card in place: what comes next, and
	// only the paper work order's button, which is not the card's (it
	// outlives the card, guarded by its state).
	w.Expect(tapCard(w, live, "请住户签字确认"))
	msgs = w.Drain()
	check("sign-off asked", want{edit: "等待住户签字确认"}, viewOf(t, msgs))
	signoff := w.Last(msgs, resident.Chat())
	if len(live.Buttons) != 1 || len(live.Buttons[0]) != 1 || live.Buttons[0][0].Data != flows.EncodePayload("ppt", id) {
		t.Fatalf("the closed card's buttons: %v", live.Buttons)
	}
	if tk := w.Ticket(id); tk.State != flows.StateDone || tk.Card == nil || tk.Card.N != 8 || tk.Card.Chat != tech.Chat() {
		t.Fatalf("after the sign-off request: %+v %+v", tk.State, tk.Card)
	}
	// The resident's sign-off takes the paper button away; the goodbye
	// comes as a message of its own.
	w.Expect(w.Tap(resident, w.ButtonData(signoff, "确认，已修好"), false))
	got := viewOf(t, w.Drain())
	if len(got.retired) != 1 || got.retired[0] != key(8) || got.card != nil || got.edit != nil {
		t.Fatalf("after the sign-off: want card 8 retired, got %+v", got)
	}
	if tk := w.Ticket(id); tk.State != flows.StateConfirmed || !tk.Card.Chat.IsZero() {
		t.Fatalf("after the sign-off: %+v %+v", tk.State, tk.Card)
	}
}

// Every button of a living step card says which card it is on, and the
// card is checked after who may tap and when: a forged card number is
// refused as outdated, a button of the living card from someone else as
// not theirs.
func TestStepCardButtonsAreCheckedInTheTransaction(t *testing.T) {
	w, id := onSite(t, "household")
	tk := w.Ticket(id)
	if tk.Card == nil || tk.Card.N != 1 {
		t.Fatalf("card after arrival: %+v", tk.Card)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("cd", "1", "st", id, tk.Step, "bell", "yes"), false))
	ring := flows.EncodePayload("cd", "1", "st", id, tk.Step, "ring")
	w.Expect(w.Tap(tech, ring, false))
	w.Refused(w.Tap(tech, flows.EncodePayload("cd", "2", "st", id, tk.Step, "ring"), false), "卡片已经更新过了")
	w.Refused(w.Tap(tech2, ring, false), "/start")
	w.Staff(tech2, "technician")
	w.Refused(w.Tap(tech2, ring, false), "不是由您负责")
	for _, bad := range []string{
		flows.EncodePayload("cd", "x", "st", id, tk.Step, "ring"),
		flows.EncodePayload("cd", "01", "st", id, tk.Step, "ring"),
		flows.EncodePayload("cd", "1", "c", "help"),
		flows.EncodePayload("cd", "1", "st"),
	} {
		w.Refused(w.Tap(tech, bad, false), "无法识别")
	}
	w.Refused(w.Tap(tech, ring, true), "无法识别") // step cards live in private chats
	if v := w.Ticket(id).Visit; v.Rings != 1 {
		t.Fatalf("rings %d after one valid tap", v.Rings)
	}
}

// When the job leaves its technician, their card's buttons are retired in
// their chat; the new assignee gets a card of their own when they arrive.
func TestStepCardRetiredWhenTheJobLeaves(t *testing.T) {
	w, id := onSite(t, "household")
	w.Staff(tech2, "technician")
	w.Cmd(lead, "reassign", id)
	pick := w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(pick, tech2.Name), false))
	msgs := w.Drain()
	v := viewOf(t, msgs)
	if len(v.retired) != 1 || v.retired[0] != flows.StepCardKey(id, 1) {
		t.Fatalf("the old technician's card was not retired: %+v", v)
	}
	w.Expect(w.Tap(tech2, flows.EncodePayload("arr", id), false))
	var card flows.Message
	for _, m := range flowstest.To(w.Drain(), tech2.Chat()) {
		if strings.HasPrefix(m.CardKey, "step:") {
			card = m
		}
	}
	if card.Kind != flows.KindSend || card.CardKey != flows.StepCardKey(id, 2) {
		t.Fatalf("the new technician's card: %+v", card)
	}
}

// The lead's answer to a help request heads a new card, under the
// technician's thumb; asking for help only edits the card.
func TestHelpIsOnTheCard(t *testing.T) {
	w, id := onSite(t, "household")
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	msgs := w.Drain()
	v := viewOf(t, msgs)
	if v.edit == nil || len(v.other) != 0 || v.card != nil {
		t.Fatalf("help: want only the card edited, got %+v", v)
	}
	contains(t, v.edit.Text, "已通知主管")
	ping := w.Last(msgs, lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(ping, "回复"), false))
	w.Text(lead, "先关总阀再拆")
	v = viewOf(t, w.Drain())
	if v.card == nil || len(v.retired) != 1 || len(v.other) != 0 {
		t.Fatalf("the answer: want a new card, got %+v", v)
	}
	contains(t, v.card.Text, "先关总阀再拆")
	if strings.Contains(v.card.Text, "已通知主管") {
		t.Fatalf("the answered card still waits for help: %q", v.card.Text)
	}
}

// The help request to the leads has the plan line only once there is a plan.
func TestHelpRequestPlanLine(t *testing.T) {
	w, id := onSite(t, "household")
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	ping := w.Last(w.Drain(), lead.Chat()).Text
	contains(t, ping, "请求支援")
	if strings.Contains(ping, "方案") {
		t.Fatalf("an empty plan line: %q", ping)
	}
	advanceTo(t, w, id, flows.StepQuote)
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "\n方案：更换角阀")
}
