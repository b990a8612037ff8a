package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var manager = admin // admins are the managers of the escalation ladder

// reportLeak files a water-leak emergency with one tap and returns its id.
func reportLeak(t *testing.T, w *flowstest.World) string {
	t.Helper()
	w.Cmd(resident, "report", "")
	prompt := w.Last(w.Drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(prompt, "🚨 跑水"), false)
	msgs := w.Drain()
	ack := w.Last(msgs, resident.Chat())
	contains(t, ack.Text, "紧急报修已受理")
	contains(t, ack.Text, "关闭户内总水阀") // the safety advice is in the same reply
	contains(t, ack.Text, "10:05 前到场")
	card := w.Last(msgs, flowstest.Group)
	contains(t, card.Text, "🚨 紧急")
	contains(t, card.Text, "须于 10:05 前到场")
	i := strings.Index(ack.Text, "BX-")
	return ack.Text[i : i+len("BX-20261127-0001")]
}

func emergencyWorld(t *testing.T) *flowstest.World {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	w.Cmd(admin, "help", "")
	w.Drain()
	w.Roster = func(time.Time) []string { return []string{tech.PID()} }
	return w
}

func count(msgs []flows.Message, to flows.Address, want string) int {
	n := 0
	for _, m := range msgs {
		if m.To == to && strings.Contains(m.Text, want) {
			n++
		}
	}
	return n
}

func TestWaterLeakNotAcceptedRepagesAtTwoMinutes(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := reportLeak(t, w)
	w.Now = t0.Add(119 * time.Second)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, flowstest.Group, "🚨 再次呼叫") != 0 {
		t.Fatal("re-paged before T+2")
	}
	contains(t, w.Last(msgs, flowstest.Group).Text, "还剩 4 分钟") // the countdown on the card
	w.Now = t0.Add(2 * time.Minute)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, flowstest.Group, "🚨 再次呼叫") != 1 || count(msgs, tech.Chat(), "🚨 再次呼叫") != 1 {
		t.Fatalf("rung 1 did not re-page the group and the on-duty technician: %+v", msgs)
	}
	if count(msgs, lead.Chat(), id) != 0 {
		t.Fatal("the lead was paged at rung 1")
	}
	// A second tick at the same time fires nothing: each rung once.
	if n := w.Tick(); n != 0 || len(w.Drain()) != 0 {
		t.Fatal("rung 1 fired twice")
	}
	if tk := w.Ticket(id); tk.Escalation != 1 || len(tk.Breaches) != 1 {
		t.Fatalf("%+v", tk)
	}
	w.Now = t0.Add(6 * time.Minute)
	w.Tick()
	contains(t, w.Last(w.Drain(), flowstest.Group).Text, "已超时 1 分钟")
}

func TestWaterLeakAcceptedNotArrivedGoesToLeadAtFive(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := reportLeak(t, w)
	w.Now = t0.Add(time.Minute)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), false)) // from the private page
	w.Drain()
	w.Now = t0.Add(2 * time.Minute)
	w.Tick()
	if msgs := w.Drain(); count(msgs, flowstest.Group, "🚨 再次呼叫") != 0 {
		t.Fatal("re-paged although accepted")
	}
	w.Now = t0.Add(5 * time.Minute)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, lead.Chat(), "仍未到场") != 1 || count(msgs, manager.Chat(), "升级") != 0 {
		t.Fatalf("rung 2: %+v", msgs)
	}
	contains(t, w.Last(msgs, flowstest.Group).Text, "已通知主管")
	w.Now = t0.Add(10 * time.Minute)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, manager.Chat(), "升级") != 1 {
		t.Fatalf("rung 3 did not reach the manager: %+v", msgs)
	}
}

func TestArrivalAtFourStopsTheClock(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := reportLeak(t, w)
	w.Now = t0.Add(time.Minute)
	w.Tap(tech, flows.EncodePayload("acc", id), false)
	w.Now = t0.Add(4 * time.Minute)
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	w.Drain()
	w.Now = t0.Add(30 * time.Minute)
	if n := w.Tick(); n != 0 {
		t.Fatalf("%d timers fired after arrival", n)
	}
	if tk := w.Ticket(id); tk.Escalation != 0 || len(tk.Breaches) != 0 {
		t.Fatalf("%+v", tk)
	}
}

// The process is down from T+4 to T+7: at start-up the T+5 rung fires
// exactly once, marked late; the T+10 rung waits for its time.
func TestRestartDuringTheLadderFiresOnceLate(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := reportLeak(t, w)
	w.Now = t0.Add(time.Minute)
	w.Tap(tech, flows.EncodePayload("acc", id), false)
	w.Now = t0.Add(4 * time.Minute)
	w.Tick()
	w.Drain()
	w.Reopen()
	w.Now = t0.Add(7 * time.Minute)
	w.Tick()
	w.Reopen() // a second start in a row fires nothing more
	if n := w.Tick(); n != 0 {
		t.Fatalf("%d fired again", n)
	}
	msgs := w.Drain()
	if count(msgs, lead.Chat(), "仍未到场") != 1 {
		t.Fatalf("lead paged %d times", count(msgs, lead.Chat(), "仍未到场"))
	}
	var rungs []string
	for _, e := range w.Events(id) {
		if strings.HasPrefix(e, "sla_rung") {
			rungs = append(rungs, e)
		}
	}
	if strings.Join(rungs, ",") != "sla_rung:2 late" {
		t.Fatalf("rungs %v", rungs)
	}
}

func TestNobodyOnDutyPagesTheLeadAndSaysWhy(t *testing.T) {
	w := emergencyWorld(t)
	w.Roster = func(time.Time) []string { return nil }
	reportLeak(t, w)
	rows, _ := w.Store.Rows("delivered")
	n := 0
	for _, r := range rows {
		if r.Msg.To == lead.Chat() && strings.Contains(r.Msg.Text, "当前无人值班") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("lead told %d times", n)
	}
}

func TestLeadPutsSomeoneOnDuty(t *testing.T) {
	w := emergencyWorld(t)
	w.Roster = func(time.Time) []string { return nil }
	w.Cmd(lead, "duty", "")
	m := w.Last(w.Drain(), lead.Chat())
	contains(t, m.Text, "（无人）")
	w.Expect(w.Tap(lead, w.ButtonData(m, "赵师傅 上值班"), false))
	w.Drain()
	reportLeak(t, w)
	rows, _ := w.Store.Rows("delivered")
	paged := false
	for _, r := range rows {
		if r.Msg.To == tech2.Chat() && strings.Contains(r.Msg.Text, "紧急工单") {
			paged = true
		}
	}
	if !paged {
		t.Fatal("the technician put on duty was not paged")
	}
	w.Refused(w.Tap(tech, flows.EncodePayload("du", tech.PID(), "on"), false), "只有主管")
}

func TestNormalTicketSLA(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := w.Report(resident, "门锁坏了")
	w.Now = t0.Add(15 * time.Minute)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, lead.Chat(), "仍无人接单") != 1 {
		t.Fatalf("not-accepted SLA: %+v", msgs)
	}
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Now = t0.Add(15*time.Minute + 2*time.Hour)
	w.Tick()
	if msgs := w.Drain(); count(msgs, lead.Chat(), "未按时到场") != 1 {
		t.Fatalf("not-arrived SLA: %+v", msgs)
	}
	if tk := w.Ticket(id); strings.Join(tk.Breaches, ",") != "accept,arrive" {
		t.Fatalf("breaches %v", tk.Breaches)
	}
}

func TestAgreedTimeReminder(t *testing.T) {
	w := emergencyWorld(t)
	w.Cmd(resident, "report", "")
	first := func() string { return w.Last(w.Drain(), resident.Chat()).Buttons[0][0].Data }
	w.Tap(resident, first(), false)
	w.Text(resident, "空调不制冷")
	w.Tap(resident, first(), false)
	w.Tap(resident, first(), false)
	timing := w.Last(w.Drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(timing, "明天下午"), false)
	id := "BX-20261127-0001"
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Drain()
	agreed := *w.Ticket(id).AgreedTime
	w.Now = agreed.Add(-31 * time.Minute)
	w.Tick()
	if len(w.Drain()) != 0 {
		t.Fatal("reminded too early")
	}
	w.Now = agreed.Add(-30 * time.Minute)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, tech.Chat(), "提醒") != 1 {
		t.Fatalf("no reminder: %+v", msgs)
	}
	w.Tap(tech, flows.EncodePayload("arr", id), false)
	w.Now = agreed.Add(time.Hour)
	w.Tick()
	if count(w.Drain(), lead.Chat(), "未按时到场") != 0 {
		t.Fatal("arrived but reported late")
	}
}

func TestWaitingResidentChasedThenClosed(t *testing.T) {
	w := emergencyWorld(t)
	id := w.Report(resident, "漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Tap(tech, flows.EncodePayload("arr", id), false)
	w.Expect(w.Step(tech, id, "bell", "yes"))
	for i := 0; i < 3; i++ {
		w.Expect(w.Step(tech, id, "ring"))
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("nh", id), false))
	w.Drain()
	t0 := w.Now
	for day := 1; day <= 2; day++ {
		w.Now = t0.Add(time.Duration(day) * 24 * time.Hour)
		w.Tick()
		if msgs := w.Drain(); count(msgs, resident.Chat(), "还在等您约定上门时间") != 1 {
			t.Fatalf("day %d: not chased: %+v", day, msgs)
		}
	}
	w.Now = t0.Add(72 * time.Hour)
	w.Tick()
	msgs := w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "已关闭")
	if tk := w.Ticket(id); tk.State != flows.StateUnresolved {
		t.Fatalf("%+v", tk)
	}
}

// overnight and daily shifts are config's job (config.OnDuty, tested
// there); the engine only asks the roster at the page time.
func TestRosterIsAskedAtPageTime(t *testing.T) {
	w := emergencyWorld(t)
	var asked []time.Time
	w.Roster = func(at time.Time) []string { asked = append(asked, at); return []string{tech.PID()} }
	reportLeak(t, w)
	if len(asked) != 1 || !asked[0].Equal(w.Now) {
		t.Fatalf("roster asked at %v", asked)
	}
}

// TestCountdownEditsAreRefreshes: the minute-by-minute countdown marks its
// card edits as refreshes (a channel that cannot edit in place skips
// them); the edit for the acceptance is a real one.
func TestCountdownEditsAreRefreshes(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	id := reportLeak(t, w)
	w.Now = t0.Add(time.Minute)
	w.Tick()
	card := w.Last(w.Drain(), flowstest.Group)
	if card.Kind != flows.KindEdit || card.CardKey != flows.GroupCardKey(id) || !card.Refresh {
		t.Fatalf("countdown edit: %+v", card)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	card = w.Last(w.Drain(), flowstest.Group)
	if card.Kind != flows.KindEdit || card.Refresh {
		t.Fatalf("acceptance edit: %+v", card)
	}
	contains(t, card.Text, "张师傅")
}
