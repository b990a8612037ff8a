package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestTrainingSession: a lead schedules a session on the SOP for those
// behind; invitees answer by buttons; reminders go out a day and an hour
// before, once each across a restart; the trainer records attendance and
// pass / fail by buttons; the hours count and the need is met.
func TestTrainingSession(t *testing.T) {
	w := gateWorld(t, flowstest.WithOptions(func(o *flows.Options) { o.Quals.SOPSessionRequired = true }))
	w.Cmd(lead, "training", "")
	page := lastTo(t, w, lead)
	contains(t, page.Text, "⏳ SOP v1")
	contains(t, page.Text, "• 张师傅：SOP v1")
	contains(t, page.Text, "• 赵师傅：SOP v1")

	w.Tap(lead, w.ButtonData(page, "安排培训"), false)
	w.Text(lead, "维修规程 v1 宣贯")
	for _, c := range []struct{ name, text, want string }{
		{"a time in the past", "2026-11-20 14:00", "培训时间已经过去"},
		{"an unreadable time", "下周四下午", "看不懂这个时间：下周四下午"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.Text(lead, c.text)
			contains(t, lastTo(t, w, lead).Text, c.want)
		})
	}
	w.Text(lead, "2026-12-03 14:00")
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "2 小时"), false)
	w.Text(lead, "二楼会议室")
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "我来讲"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "SOP v1"), false)
	covers := lastTo(t, w, lead)
	contains(t, buttonsText(covers), "✓ SOP v1")
	w.Tap(lead, w.ButtonData(covers, "下一步"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "邀请培训未完成的人"), false)
	invite := lastTo(t, w, lead)
	contains(t, invite.Text, "已选 4 人")                  // both technicians, the lead and the admin: everyone owes the v1 session
	w.Tap(lead, w.ButtonData(invite, "✓ Admin"), false) // toggled off
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "下一步"), false)
	confirm := lastTo(t, w, lead)
	contains(t, confirm.Text, "请确认：\n2026-12-03 14:00「维修规程 v1 宣贯」@二楼会议室，讲师 陈主管，2 小时\n内容：SOP v1\n邀请：张师傅；赵师傅；陈主管")
	w.Expect(w.Tap(lead, w.ButtonData(confirm, "✅ 安排"), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "培训 TR-0001 已安排")
	inv := w.Last(msgs, tech.Chat())
	contains(t, inv.Text, "陈主管 邀请你参加培训")
	if n := len(flowstest.To(msgs, admin.Chat())); n != 0 {
		t.Fatalf("the admin was invited after being taken off: %d messages", n)
	}
	w.Expect(w.Tap(tech, w.ButtonData(inv, "参加"), false))
	w.Expect(w.Tap(tech2, w.ButtonData(w.Last(msgs, tech2.Chat()), "不参加"), false))
	w.Refused(w.Tap(resident, w.ButtonData(inv, "参加"), false), "您没有权限")
	w.Drain()

	reminders := func(restart bool) (int, int) {
		t.Helper()
		if restart {
			w.Reopen()
		}
		w.Tick()
		msgs := w.Drain()
		return count(msgs, tech.Chat(), "⏰ 培训提醒"), count(msgs, tech2.Chat(), "⏰ 培训提醒")
	}
	for _, at := range []struct {
		name string
		h    int
		d    int
	}{{"a day before", 14, 2}, {"an hour before", 13, 3}} {
		t.Run(at.name, func(t *testing.T) {
			w.Now = sh(2026, 12, at.d, at.h, 0, 0)
			if a, b := reminders(false); a != 1 || b != 0 {
				t.Fatalf("reminded going %d times, not going %d times", a, b)
			}
			if a, b := reminders(true); a != 0 || b != 0 {
				t.Fatalf("reminded again after a restart: %d, %d", a, b)
			}
		})
	}

	w.Now = sh(2026, 12, 3, 14, 0, 0)
	w.Tick()
	call := lastTo(t, w, lead)
	contains(t, call.Text, "培训开始了")
	w.Tap(lead, w.ButtonData(call, "登记出勤"), false)
	card := lastTo(t, w, lead)
	w.Refused(w.Tap(tech2, flows.EncodePayload("tat", "TR-0001", tech2.PID(), "pass"), false), "只有这次培训的讲师或主管可以登记出勤")
	w.Now = sh(2026, 12, 3, 16, 5, 0)
	attend := func(name, label string) {
		t.Helper()
		for _, row := range card.Buttons {
			if strings.Contains(row[0].Text, name) {
				for _, b := range row {
					if b.Text == label {
						w.Expect(w.Tap(lead, b.Data, false))
						return
					}
				}
			}
		}
		t.Fatalf("no %s button for %s in %v", label, name, card.Buttons)
	}
	attend("张师傅", "通过")
	attend("赵师傅", "❌ 缺席")
	contains(t, lastTo(t, w, lead).Text, "• 张师傅：参加 · 出席，考核通过")

	w.Cmd(tech, "training", "")
	mine := lastTo(t, w, tech).Text
	contains(t, mine, "✅ SOP v1")
	contains(t, mine, "TR-0001 2026-12-03 14:00「维修规程 v1 宣贯」@二楼会议室，讲师 陈主管，2 小时：出席，考核通过，计 2 小时")
	contains(t, mine, "今年培训：2 小时")
	w.Cmd(lead, "training", "")
	behind := lastTo(t, w, lead).Text
	contains(t, behind, "• 赵师傅：SOP v1")
	if strings.Contains(behind, "• 张师傅：") {
		t.Fatalf("张师傅 is still behind: %s", behind)
	}
}

func buttonsText(m flows.Message) string {
	var out []string
	for _, row := range m.Buttons {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return strings.Join(out, " ")
}
