package flows_test

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestSweepRemindsOnceAcrossRestart: the daily sweep (09:00) sends each
// reminder of a certificate once to the holder and once to the lead, even
// when the bot restarts and sweeps again; the day after it expires the
// holder's open job that needs it goes back to the group.
func TestSweepRemindsOnceAcrossRestart(t *testing.T) {
	w := gateWorld(t)
	giveCert(t, w, tech, "elec_low_voltage", day(2020, 12, 27), day(2026, 12, 27))
	holder, leads := "⏰ 你的低压电工作业证", "⏰ 张师傅的低压电工作业证"
	sent := map[string]int{}
	tick := func(restart bool) {
		t.Helper()
		if restart {
			w.Reopen()
		}
		w.Tick()
		msgs := w.Drain()
		sent["holder"] += count(msgs, tech.Chat(), holder)
		sent["lead"] += count(msgs, lead.Chat(), leads)
		sent["admin"] += count(msgs, admin.Chat(), leads)
	}
	for _, c := range []struct {
		name string
		at   []int // y, m, d, h, min
		days string
	}{
		{"30 days before, at the first tick after 09:00", []int{2026, 11, 27, 10, 0}, "还有 30 天"},
		{"7 days before, at the sweep", []int{2026, 12, 20, 9, 0}, "还有 7 天"},
		{"1 day before, after a day the bot was down", []int{2026, 12, 26, 9, 30}, "还有 1 天"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.Now = sh(c.at[0], time.Month(c.at[1]), c.at[2], c.at[3], c.at[4], 0)
			before := sent["holder"]
			w.Tick()
			msgs := w.Drain()
			contains(t, w.Last(msgs, tech.Chat()).Text, c.days)
			sent["holder"] += count(msgs, tech.Chat(), holder)
			sent["lead"] += count(msgs, lead.Chat(), leads)
			sent["admin"] += count(msgs, admin.Chat(), leads)
			tick(true) // a restart sweeps again: nothing new
			tick(false)
			if sent["holder"] != before+1 || sent["lead"] != sent["holder"] || sent["admin"] != sent["holder"] {
				t.Fatalf("sent %v", sent)
			}
		})
	}

	t.Run("the day after the expiry the job goes back to the group", func(t *testing.T) {
		w.Now = sh(2026, 12, 27, 15, 0, 0)
		id := reportCat(t, w, resident, "电路", "客厅插座没电")
		w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
		w.Drain()
		w.Now = sh(2026, 12, 28, 9, 0, 0)
		w.Tick()
		msgs := w.Drain()
		contains(t, w.Last(msgs, tech.Chat()).Text, "已退回抢单群")
		lapse := w.Last(msgs, lead.Chat()).Text
		contains(t, lapse, "⛔ 张师傅的低压电工作业证（编号 Ttg:200）已于 2026-12-27 过期")
		contains(t, lapse, "已退回抢单群："+id)
		if tk := w.Ticket(id); tk.State != flows.StateNew || tk.AssigneeID != "" {
			t.Fatalf("not back in the group: %s %s", tk.State, tk.AssigneeID)
		}
		card := w.Last(msgs, flowstest.Group)
		if card.Kind != flows.KindSend {
			t.Fatalf("the card was not re-posted: %s", card.Kind)
		}
		w.Refused(w.Tap(tech, w.ButtonData(card, "接单"), true), "已于 2026-12-27 过期")
		tick(true)
		if n := count(w.Drain(), lead.Chat(), "⛔"); n != 0 {
			t.Fatalf("the lapse was told again after a restart (%d)", n)
		}
	})
}
