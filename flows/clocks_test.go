package flows_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var zeroMinutes = regexp.MustCompile(`(^|[^0-9])0 分钟`)

// No clock says "0 minutes": under a minute an age is in seconds and an
// overdue deadline is "less than a minute" over; the page at the report
// says it was just reported.
func TestClocksNeverSayZeroMinutes(t *testing.T) {
	w := emergencyWorld(t)
	t0 := w.Now
	var all []flows.Message
	drain := func() []flows.Message { m := w.Drain(); all = append(all, m...); return m }
	w.Cmd(resident, "report", "")
	prompt := w.Last(drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(prompt, "🚨 跑水"), false)
	contains(t, w.Last(drain(), tech.Chat()).Text, "刚刚报修")

	// 42 seconds later (say, a restart), the lead's list gives seconds.
	w.Now = t0.Add(42 * time.Second)
	w.Cmd(lead, "open", "")
	contains(t, w.Last(drain(), lead.Chat()).Text, "已 42 秒")

	// The deadline passes at T+5: the rung fires on time, and the card
	// says "less than a minute" over until a minute has passed.
	w.Now = t0.Add(5 * time.Minute)
	w.Tick()
	msgs := drain()
	card := w.Last(msgs, flowstest.Group)
	contains(t, card.Text, "已超时 不到 1 分钟")
	contains(t, w.Last(msgs, lead.Chat()).Text, "已报修 5 分钟")
	w.Now = t0.Add(6 * time.Minute)
	w.Tick()
	contains(t, w.Last(drain(), flowstest.Group).Text, "已超时 1 分钟")
	for _, m := range all {
		if zeroMinutes.MatchString(m.Text) {
			t.Errorf("%q says 0 minutes", m.Text)
		}
	}
}

// The group card's status line shows when the ticket entered its state:
// the arrival time on site, not the time of the latest step.
func TestGroupCardShowsTheArrivalTime(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "灯不亮")
	w.Now = w.Now.Add(2 * time.Minute) // 10:02
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	contains(t, w.Last(w.Drain(), flowstest.Group).Text, "已接单（10:02）")
	w.Now = w.Now.Add(20 * time.Minute) // 10:22
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	w.Drain()
	w.Now = w.Now.Add(3 * time.Minute) // 10:25
	w.Expect(w.Step(tech, id, "bell", "yes"))
	w.Expect(w.Step(tech, id, "ring"))
	w.Expect(w.Step(tech, id, "answered"))
	card := w.Last(w.Drain(), flowstest.Group).Text
	contains(t, card, "已到场（10:22）")
	contains(t, card, "到场 10:22")
	if strings.Contains(card, "10:25") {
		t.Fatalf("the card shows the latest step's time: %q", card)
	}
}
