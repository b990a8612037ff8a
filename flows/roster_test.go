package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// rosterWorld seeds the weekly pattern as the configuration would: 张师傅
// on the Friday night shift (2026-11-27 is a Friday).
func rosterWorld(t *testing.T) *flowstest.World {
	t.Helper()
	return gateWorld(t, flowstest.WithOptions(func(o *flows.Options) {
		o.Quals.Emergencies = nil
		o.DutySeed = []flows.RosterShift{{Day: time.Friday, From: 20 * 60, To: 8 * 60, People: []string{tech.PID()}}}
	}))
}

// leak reports a water leak and returns the messages it caused.
func leak(t *testing.T, w *flowstest.World) []flows.Message {
	t.Helper()
	w.Cmd(resident, "report", "")
	w.Tap(resident, w.ButtonData(w.Last(w.Drain(), resident.Chat()), "🚨 跑水"), false)
	return w.Drain()
}

// TestRosterEditedInChat: the configured roster seeds the pattern; a lead
// adds a shift and a person in chat; the change pages the right person
// and survives a restart; the temporary /duty changes still apply.
func TestRosterEditedInChat(t *testing.T) {
	w := rosterWorld(t)
	w.Tick() // the seed is stored once
	w.Cmd(lead, "duty", "week")
	week := lastTo(t, w, lead)
	contains(t, week.Text, "周五：#1 20:00–08:00：张师傅")
	contains(t, week.Text, "来自配置文件")
	w.Tap(lead, w.ButtonData(week, "周五"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "加一个班次"), false)
	t.Run("unreadable hours", func(t *testing.T) {
		w.Text(lead, "8点到20点")
		contains(t, lastTo(t, w, lead).Text, "看不懂这个时间段：8点到20点")
	})
	w.Text(lead, "08:00-20:00")
	shift := lastTo(t, w, lead)
	contains(t, shift.Text, "#2 08:00–20:00：（无人）")
	w.Expect(w.Tap(lead, w.ButtonData(shift, "➕ 赵师傅"), false))
	contains(t, lastTo(t, w, lead).Text, "#2 08:00–20:00：赵师傅")

	paged := func(msgs []flows.Message) string {
		var who []string
		for _, p := range []flowstest.Person{tech, tech2} {
			if count(msgs, p.Chat(), "🚨 紧急") > 0 {
				who = append(who, p.Name)
			}
		}
		return strings.Join(who, ",")
	}
	if got := paged(leak(t, w)); got != "赵师傅" {
		t.Fatalf("paged %q, want 赵师傅", got)
	}
	w.Reopen()
	w.Tick()
	w.Cmd(lead, "duty", "week")
	contains(t, lastTo(t, w, lead).Text, "周五：#2 08:00–20:00：赵师傅；#1 20:00–08:00：张师傅")
	if got := paged(leak(t, w)); got != "赵师傅" {
		t.Fatalf("after a restart paged %q, want 赵师傅", got)
	}
	w.Now = sh(2026, 11, 28, 7, 0, 0) // Saturday morning: the Friday night shift
	if got := paged(leak(t, w)); got != "张师傅" {
		t.Fatalf("overnight paged %q, want 张师傅", got)
	}
	w.Cmd(lead, "duty", "")
	now := lastTo(t, w, lead)
	w.Expect(w.Tap(lead, w.ButtonData(now, "赵师傅"), false)) // temporarily on duty
	if got := paged(leak(t, w)); got != "张师傅,赵师傅" {
		t.Fatalf("with the temporary change paged %q", got)
	}
	var trail []string
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		evs, err := tx.PersonEvents(tech2.PID())
		for _, e := range evs {
			trail = append(trail, e.Action+" "+e.Actor+" "+e.Ref+" "+e.Note)
		}
		return err
	})
	contains(t, strings.Join(trail, "\n"), "duty_added tg:300 shift:2 fri 08:00-20:00")

	t.Run("forged and refused buttons", func(t *testing.T) {
		w.Refused(w.Tap(lead, flows.EncodePayload("rsp", "9", tech.PID(), "on"), false), "没有 #9 这个班次")
		w.Refused(w.Tap(tech, flows.EncodePayload("rsp", "2", tech.PID(), "on"), false), "只有主管可以使用这个命令")
		w.Refused(w.Tap(lead, flows.EncodePayload("rsp", "2", tech2.PID(), "on"), false), "赵师傅 的值班已经是这样了")
	})
}

// TestWeComPersonOnDuty: someone who joined on WeCom is put on a shift by
// their person id and paged on WeCom.
func TestWeComPersonOnDuty(t *testing.T) {
	w := rosterWorld(t)
	w.Cmd(admin, "invite", "technician")
	m := lastTo(t, w, admin)
	code := strings.Fields(m.Text[strings.Index(m.Text, "start=")+len("start="):])[0]
	zhang := flows.Address{Channel: "wecom", Chat: "zhangsan"}
	w.Do(flows.Event{Key: "wecom:join", Kind: flows.EvCommand, Command: "start", Text: code, At: w.Now,
		From: flows.Sender{ID: "wecom:zhangsan", Chat: zhang, Name: "张三", LangCode: "zh"}, Chat: zhang})
	w.Drain()
	w.Cmd(lead, "duty", "fri")
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "#1"), false)
	w.Expect(w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "➕ 张三"), false))
	w.Tap(lead, flows.EncodePayload("rse", "1"), false)
	w.Text(lead, "00:00-00:00") // all day
	contains(t, lastTo(t, w, lead).Text, "#1 00:00–00:00：张师傅、张三")
	msgs := leak(t, w)
	if count(msgs, zhang, "🚨 紧急") != 1 {
		t.Fatalf("the WeCom technician was not paged on WeCom: %+v", flowstest.To(msgs, zhang))
	}
}
