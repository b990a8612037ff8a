package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// handoverDay sets up Friday 2026-11-27 (Shanghai): tech closes one ticket
// and works another, tech2 works a third, one ticket is never accepted.
// The handover fires at 17:00 local (09:00 UTC).
func handoverDay(t *testing.T) (*flowstest.World, []string) {
	w := emergencyWorld(t)
	w.Tick() // schedules the day's handover
	ids := []string{w.Report(resident, "门锁坏了"), w.Report(resident, "灯不亮"), w.Report(resident, "窗户漏风"), w.Report(resident, "下水道堵")}
	w.Tap(tech, flows.EncodePayload("acc", ids[0]), true)
	w.Tap(tech, flows.EncodePayload("acc", ids[1]), true)
	w.Tap(tech2, flows.EncodePayload("acc", ids[2]), true)
	w.Drain()
	w.Now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	w.Tick()
	return w, ids
}

func submitButton(t *testing.T, w *flowstest.World, msgs []flows.Message, p flowstest.Person) string {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == p.Chat() && len(msgs[i].Buttons) > 0 && strings.Contains(msgs[i].Buttons[0][0].Text, "提交今日工单") {
			return msgs[i].Buttons[0][0].Data
		}
	}
	t.Fatalf("%s got no submit button", p.Name)
	return ""
}

func TestHandoverApproveAndReturn(t *testing.T) {
	w, ids := handoverDay(t)
	msgs := w.Drain()
	ask := w.Last(msgs, tech.Chat())
	contains(t, ask.Text, "提交 2026-11-27 的《维修工作单》")
	contains(t, ask.Text, ids[0])
	contains(t, ask.Text, ids[1])
	if strings.Contains(ask.Text, ids[2]) {
		t.Fatal("tech got tech2's ticket")
	}
	// tech submits; the lead approves.
	w.Expect(w.Tap(tech, submitButton(t, w, msgs, tech), false))
	w.Refused(w.Tap(tech, submitButton(t, w, msgs, tech), false), "已经提交过")
	review := w.Last(w.Drain(), lead.Chat())
	contains(t, review.Text, "张师傅 提交了 2026-11-27 的 2 张工单")
	w.Refused(w.Tap(tech, w.ButtonData(review, "审核通过"), false), "只有主管")
	w.Expect(w.Tap(lead, w.ButtonData(review, "审核通过"), false))
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "已审核通过")
	w.Refused(w.Tap(lead, w.ButtonData(review, "退回"), false), "已经审核过")
	// tech2 submits; the lead returns it with a reason; tech2 submits again.
	w.Expect(w.Tap(tech2, submitButton(t, w, msgs, tech2), false))
	review2 := w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(review2, "退回"), false))
	w.Text(lead, "缺少住户签字")
	back := w.Drain()
	contains(t, w.Last(back, tech2.Chat()).Text, "缺少住户签字")
	w.Expect(w.Tap(tech2, submitButton(t, w, back, tech2), false))
	w.Expect(w.Tap(lead, w.ButtonData(w.Last(w.Drain(), lead.Chat()), "审核通过"), false))
	// End of day: nobody missing; the never-accepted ticket is the one mismatch.
	w.Now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, lead.Chat(), "仍未交单") != 0 {
		t.Fatal("chased although everyone submitted")
	}
	contains(t, w.Last(msgs, lead.Chat()).Text, ids[3]+"：无人接单")
	w.Cmd(lead, "daily", "2026-11-27")
	daily := w.LastText(w.Drain(), lead.Chat()).Text
	contains(t, daily, "已存档，4 项")
	contains(t, daily, ids[0])
	contains(t, daily, "交单：已审核")
}

func TestHandoverNonSubmitterChasedAndMismatchToDispatcher(t *testing.T) {
	w, ids := handoverDay(t)
	msgs := w.Drain()
	dispatcher := flowstest.Person{ID: 400, Name: "客服小刘"}
	w.Staff(dispatcher, "dispatcher")
	w.Expect(w.Tap(tech, submitButton(t, w, msgs, tech), false))
	// The lead has not reviewed tech's submission; tech2 never submits.
	w.Drain()
	w.Now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	w.Tick()
	msgs = w.Drain()
	contains(t, w.Last(msgs, tech2.Chat()).Text, "还没有提交")
	submitButton(t, w, msgs, tech2)
	if count(msgs, lead.Chat(), "仍未交单：赵师傅") != 1 {
		t.Fatalf("lead not told who is missing: %+v", msgs)
	}
	mm := w.Last(msgs, dispatcher.Chat()).Text
	contains(t, mm, ids[0]+"：张师傅 的交单尚未审核通过（待审核）")
	contains(t, mm, ids[2]+"：赵师傅 的交单尚未审核通过（未提交）")
	contains(t, mm, ids[3]+"：无人接单")
	if count(msgs, lead.Chat(), "核对") != 0 {
		t.Fatal("mismatches went to the lead although a dispatcher exists")
	}
	// The next working day's handover is scheduled (Saturday).
	w.Now = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	w.Tick()
	w.Drain()
	w.Now = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	if n := w.Tick(); n != 1 {
		t.Fatalf("Saturday's end of day fired %d timers", n)
	}
}

// TestDailyLiveBeforeTheArchive: SOP 4.2.8 — the lead files the day's task
// list (维修任务单). During the day /daily shows it live, as it stands;
// at the end of the day it is archived, and /daily shows the archive.
func TestDailyLiveBeforeTheArchive(t *testing.T) {
	w, ids := handoverDay(t) // 17:00 Shanghai: the handover has started, the day has not ended
	w.Drain()
	w.Cmd(lead, "daily", "")
	live := w.LastText(w.Drain(), lead.Chat()).Text
	contains(t, live, "维修任务单 2026-11-27（当日进行中，4 项）")
	for _, id := range ids {
		contains(t, live, id)
	}
	contains(t, live, ids[0]+"｜水管/漏水｜已接单｜张师傅｜交单：未提交")
	// Live means live: a submission shows at once.
	w.Expect(w.Tap(tech, flows.EncodePayload("hs", "20261127"), false))
	w.Drain()
	w.Cmd(lead, "daily", "2026-11-27")
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, ids[0]+"｜水管/漏水｜已接单｜张师傅｜交单：待审核")
	var archived bool
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error { _, err := tx.DailyList("20261127"); archived = err == nil; return nil })
	if archived {
		t.Fatal("archived before the end of the day")
	}
	w.Now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	w.Tick()
	w.Drain()
	w.Cmd(lead, "daily", "2026-11-27")
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "维修任务单 2026-11-27（已存档，4 项）")
}
