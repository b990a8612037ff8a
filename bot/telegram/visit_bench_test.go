package telegram_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/sop"
)

// BenchmarkVisit walks one household visit, from "arrived" to the sign-off
// request, through the fake Bot API with Telegram's limits enforced and
// the real budgets (≈1 message a second per private chat, 20 a minute in
// the group). The technician taps as soon as the previous answer is on
// screen (quick) or reads it for 1.5 s first (reading). It reports what
// the technician's and the resident's chats received (new messages,
// edits) and the time from a checklist tap to the updated step card on
// screen.
//
//	go test -run '^$' -bench Visit -benchtime 3x ./bot/telegram/
func BenchmarkVisit(b *testing.B) {
	for _, think := range []time.Duration{0, 1500 * time.Millisecond} {
		name := "quick"
		if think > 0 {
			name = "reading"
		}
		b.Run(name, func(b *testing.B) { benchVisit(b, think) })
	}
}

func benchVisit(b *testing.B, think time.Duration) {
	var lat []time.Duration
	var techMsgs, techEdits, resMsgs int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newRig(b, rigOptions{Enforce: true, Send: &telegram.SendLimits{
			PerChatPerSecond: 1, GroupPerMinute: 20, GlobalPerSecond: 30,
			BaseBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
		}})
		r.hire(zhAdmin, zhTech, "technician")
		r.seedResident(zhRes, zhHome)
		id, _ := r.report(zhRes, reportSpec{desc: "厨房水管漏水"})
		r.acceptJob2(zhTech, id)
		r.settleWithin(time.Minute)
		before := r.fake.Entries()
		b.StartTimer()
		v := &visitTimer{r: r, tech: zhTech, res: zhRes, ticket: id, think: think}
		v.walk()
		b.StopTimer()
		r.settleWithin(time.Minute)
		lat = append(lat, v.lat...)
		for _, e := range r.fake.Entries()[len(before):] {
			switch {
			case e.ChatID == zhTech.ID && (e.Kind == "bot_send" || e.Kind == "bot_photo"):
				techMsgs++
			case e.ChatID == zhTech.ID && e.Kind == "bot_edit":
				techEdits++
			case e.ChatID == zhRes.ID && (e.Kind == "bot_send" || e.Kind == "bot_photo"):
				resMsgs++
			}
		}
		if n := r.fake.TooMany(); n != 0 {
			b.Errorf("%d answers were 429", n)
		}
		r.stop()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Milliseconds())
	}
	n := float64(b.N)
	b.ReportMetric(float64(techMsgs)/n, "tech_msgs/visit")
	b.ReportMetric(float64(techEdits)/n, "tech_edits/visit")
	b.ReportMetric(float64(resMsgs)/n, "resident_msgs/visit")
	b.ReportMetric(pct(0.5), "tap_to_card_p50_ms")
	b.ReportMetric(pct(0.9), "tap_to_card_p90_ms")
	b.ReportMetric(pct(1), "tap_to_card_max_ms")
}

// visitTimer plays a visit and times each checklist tap until the step
// card shows its result.
type visitTimer struct {
	r         *rig
	tech, res tgfake.User
	ticket    string
	think     time.Duration // how long the person reads before acting
	lat       []time.Duration
}

// stepHead is how a step card begins (the catalog's step.head).
func (v *visitTimer) stepHead() string { return "🔧 " + v.ticket }

// await waits for the first bot message or edit in chat from transcript
// entry n on that satisfies pred.
func (v *visitTimer) await(n int, chat int64, what string, pred func(tgfake.Entry) bool) {
	v.r.t.Helper()
	ok := v.r.fake.WaitFor(e2eWait, func() bool {
		es := v.r.fake.Entries()
		for i := n; i < len(es); i++ {
			e := es[i]
			if e.ChatID == chat && (e.Kind == "bot_send" || e.Kind == "bot_edit") && pred(e) {
				return true
			}
		}
		return false
	})
	if !ok {
		v.r.t.Fatalf("%s: no answer in chat %d; messages:\n%s", what, chat, dump(v.r.fake.Messages(chat)))
	}
}

// card matches the step card showing a state with buttons (a notice may
// head it; an old card losing its buttons is not it).
func (v *visitTimer) card(e tgfake.Entry) bool {
	return strings.Contains(e.Text, v.stepHead()) && len(e.Buttons) > 0
}

func anyEntry(tgfake.Entry) bool { return true }

// press taps label on the newest message of chat that has it and waits
// until the technician's chat shows an answer satisfying pred; timed
// records the wait as a tap-to-card latency.
func (v *visitTimer) press(u tgfake.User, label string, timed bool, pred func(tgfake.Entry) bool) {
	v.r.t.Helper()
	var found tgfake.Message
	v.r.fake.WaitFor(e2eWait, func() bool {
		for _, m := range v.r.fake.Messages(u.ID) {
			if buttonData(m, label) != "" {
				found = m
			}
		}
		return found.ID != 0
	})
	if found.ID == 0 {
		v.r.t.Fatalf("no button %q in chat %d:\n%s", label, u.ID, dump(v.r.fake.Messages(u.ID)))
	}
	time.Sleep(v.think)
	n := len(v.r.fake.Entries())
	start := time.Now()
	if _, err := v.r.fake.Tap(u, u.ID, found.ID, label); err != nil {
		v.r.t.Fatal(err)
	}
	v.await(n, v.tech.ID, fmt.Sprintf("tap %q", label), pred)
	if timed {
		v.lat = append(v.lat, time.Since(start))
	}
	for _, e := range v.r.fake.Entries()[n:] {
		if e.Kind == "bot_answer" && e.MessageID == found.ID && strings.Contains(e.Text, "过期") {
			v.r.t.Fatalf("tap %q refused: %s", label, e.Text)
		}
	}
}

// input sends the technician's text or a photo and waits for the card.
func (v *visitTimer) input(text string) {
	v.r.t.Helper()
	time.Sleep(v.think)
	n := len(v.r.fake.Entries())
	if text == "" {
		v.r.fake.SendPhoto(v.tech, v.tech.ID, "", 90_000)
	} else {
		v.r.fake.SendText(v.tech, v.tech.ID, text)
	}
	v.await(n, v.tech.ID, "input "+text, v.card)
}

func (v *visitTimer) walk() {
	r, tech, res := v.r, v.tech, v.res
	v.press(tech, r.T(tech, "btn.arrived"), false, v.card)
	v.press(tech, r.T(tech, "btn.has_bell"), true, v.card) // the door rule asks first (SOP 4.1.2)
	v.press(tech, r.T(tech, "btn.ring", "n", 0, "max", 3), true, v.card)
	v.press(tech, r.T(tech, "btn.answered"), true, v.card)
	v.press(res, r.T(res, "btn.entry_ok"), false, v.card)
	v.input("角阀老化漏水，更换角阀")
	v.input("")
	v.press(tech, r.T(tech, "btn.next"), true, v.card)
	v.press(tech, r.T(tech, "btn.quote_add"), false, anyEntry)
	v.press(tech, "W02", false, anyEntry)
	v.press(tech, "1", false, v.card)
	v.press(tech, r.T(tech, "btn.quote_send"), true, v.card)
	v.press(res, r.T(res, "btn.quote_ok"), false, v.card)
	v.input("")
	v.press(tech, r.T(tech, "btn.next"), true, v.card)
	v.press(tech, r.T(tech, "btn.repair_done"), true, v.card)
	v.input("")
	v.press(tech, r.T(tech, "btn.next"), true, v.card)
	for i := 0; i < 3; i++ {
		v.press(tech, r.T(tech, "btn.test_pass", "n", i, "min", 3), true, v.card)
	}
	v.press(tech, r.T(tech, "btn.next"), true, v.card)
	v.press(tech, "▫️", true, v.card) // the first typical care note of the SOP: at least one is needed
	v.press(tech, r.T(tech, "btn.care_done"), true, v.card)
	// The fault coding at the sign-off step: four levels on the card.
	def := sop.Default()
	for _, c := range [][2]string{{flows.FaultComponentLevel, "TAP"}, {flows.FaultSymptomLevel, "LEAK"}, {flows.FaultCauseLevel, "WEAR"}, {flows.FaultActionLevel, "REPLACE"}} {
		v.press(tech, flows.FaultLabel(def, "water", c[0], c[1], flows.LangZH), true, v.card)
	}
	v.press(tech, r.T(tech, "btn.signoff"), false, anyEntry)
}
