package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/sop"
)

// onSite files a report, has tech accept it and arrive; the ticket is at
// the door step.
func onSite(t *testing.T, kindLabel string) (*flowstest.World, string) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	id := w.Report(resident, "卫生间角阀漏水")
	if kindLabel == "public" {
		seedKind(t, w, id, flows.OrderPublic)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	w.Drain()
	return w, id
}

func seedKind(t *testing.T, w *flowstest.World, id string, k flows.OrderKind) {
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		tk.Kind = k
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// advanceTo walks the checklist until the current step has the kind.
func advanceTo(t *testing.T, w *flowstest.World, id string, k flows.StepKind) {
	t.Helper()
	for i := 0; i < 20 && w.StepKind(id) != k; i++ {
		switch w.StepKind(id) {
		case flows.StepDoor:
			w.Expect(w.Step(tech, id, "answered"))
		case flows.StepEntry:
			w.Expect(w.Step(tech, id, "verbal"))
		case flows.StepSurvey:
			w.Text(tech, "更换角阀")
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepQuote:
			w.Expect(w.Step(tech, id, "qty", "W02", "1"))
			w.Expect(w.Step(tech, id, "send"))
			w.Expect(w.Tap(resident, flows.EncodePayload("qa", id, fmt.Sprint(w.Ticket(id).Visit.Quote.Seq)), false))
		case flows.StepPhoto:
			w.Photo(tech, "P-"+w.Ticket(id).Step, "", 1000)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepWork:
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepCare:
			w.CareNote(tech, id)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepTests:
			for j := 0; j < 3; j++ {
				w.Expect(w.Step(tech, id, "pass"))
			}
			w.Expect(w.Step(tech, id, "next"))
		}
	}
	if w.StepKind(id) != k {
		t.Fatalf("never reached %s (at %s)", k, w.StepKind(id))
	}
	w.Drain()
}

// TestDoorRule: SOP 4.1.2 — ring at most 3 times, *or*, where there is no
// doorbell, knock gently at most 5 times. The step asks which it is, allows
// the one and refuses the other, and remembers the answer for the home.
func TestDoorRule(t *testing.T) {
	t.Run("doorbell", func(t *testing.T) {
		w, id := onSite(t, "household")
		ask := lastStepCard(t, w, id)
		contains(t, ask.Text, "有没有门铃")
		w.ButtonData(ask, "有门铃")
		w.ButtonData(ask, "没有门铃")
		w.Refused(w.Step(tech, id, "ring"), "先确认这户有没有门铃")
		w.Refused(w.Step(tech, id, "knock"), "先确认这户有没有门铃")
		w.Refused(w.Tap(tech, flows.EncodePayload("nh", id), false), "按门铃 3 次")
		w.Expect(w.Step(tech, id, "bell", "yes"))
		for i := 0; i < 3; i++ {
			w.Expect(w.Step(tech, id, "ring"))
		}
		w.Refused(w.Step(tech, id, "ring"), "不能再按")
		w.Refused(w.Step(tech, id, "knock"), "有门铃")
		w.Refused(w.Step(tech, id, "bell", "no"), "不能再更改")
		if v := w.Ticket(id).Visit; v.Rings != 3 || v.Knocks != 0 || v.Bell != "yes" {
			t.Fatalf("counters %+v", v)
		}
		w.Expect(w.Tap(tech, flows.EncodePayload("nh", id), false))
	})
	t.Run("no doorbell", func(t *testing.T) {
		w, id := onSite(t, "household")
		w.Expect(w.Step(tech, id, "bell", "no"))
		w.Refused(w.Step(tech, id, "ring"), "没有门铃")
		w.Refused(w.Tap(tech, flows.EncodePayload("nh", id), false), "敲门 5 次")
		for i := 0; i < 5; i++ {
			w.Expect(w.Step(tech, id, "knock"))
		}
		w.Refused(w.Step(tech, id, "knock"), "不能再敲")
		if v := w.Ticket(id).Visit; v.Rings != 0 || v.Knocks != 5 || v.Bell != "no" {
			t.Fatalf("counters %+v", v)
		}
		w.Expect(w.Tap(tech, flows.EncodePayload("nh", id), false))
	})
	t.Run("remembered per home", func(t *testing.T) {
		w, id := onSite(t, "household")
		w.Expect(w.Step(tech, id, "bell", "no"))
		w.Expect(w.Step(tech, id, "answered"))
		var home *flows.Person
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { home, _ = tx.Person(resident.PID()); return nil })
		if home.Doorbell == nil || home.Doorbell.Has || home.Doorbell.Home != "3栋 / 2单元 / 1502" || home.Doorbell.By != tech.PID() {
			t.Fatalf("the home's doorbell is not remembered on the resident's record: %+v", home.Doorbell)
		}
		// The next visit to the same home starts knocking, without asking.
		next := w.Report(resident, "又漏了")
		w.Expect(w.Tap(tech, flows.EncodePayload("acc", next), true))
		w.Expect(w.Tap(tech, flows.EncodePayload("arr", next), false))
		card := lastStepCard(t, w, next)
		if strings.Contains(card.Text, "有没有门铃") {
			t.Fatalf("asked again for a home it knows: %q", card.Text)
		}
		contains(t, card.Text, "没有门铃")
		w.Refused(w.Step(tech, next, "ring"), "没有门铃")
		// A wrong record can be corrected before the first knock, not after.
		w.Expect(w.Step(tech, next, "bell", "yes"))
		w.Expect(w.Step(tech, next, "ring"))
		w.Refused(w.Step(tech, next, "bell", "no"), "不能再更改")
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { home, _ = tx.Person(resident.PID()); return nil })
		if !home.Doorbell.Has {
			t.Fatalf("the correction is not remembered: %+v", home.Doorbell)
		}
	})
}

// lastStepCard is the newest step card of the ticket the technician got.
func lastStepCard(t *testing.T, w *flowstest.World, id string) flows.Message {
	t.Helper()
	rows, err := w.Store.Rows("delivered")
	if err != nil {
		t.Fatal(err)
	}
	pending := w.Drain()
	var card flows.Message
	for _, r := range rows {
		if r.Msg.To == tech.Chat() && r.Msg.Ticket == id && strings.Contains(r.Msg.Text, "第 ") {
			card = r.Msg
		}
	}
	for _, m := range pending {
		if m.To == tech.Chat() && m.Ticket == id && strings.Contains(m.Text, "第 ") {
			card = m
		}
	}
	if card.Text == "" {
		t.Fatalf("no step card for %s", id)
	}
	return card
}

func TestNoOneHomeRescheduledAndCompleted(t *testing.T) {
	w, id := onSite(t, "household")
	w.Expect(w.Step(tech, id, "bell", "yes"))
	for i := 0; i < 3; i++ {
		w.Expect(w.Step(tech, id, "ring"))
	}
	w.Drain()
	w.Expect(w.Tap(tech, flows.EncodePayload("nh", id), false))
	msgs := w.Drain()
	offer := w.Last(msgs, resident.Chat())
	contains(t, offer.Text, "家中无人应门")
	contains(t, w.Last(msgs, flowstest.Group).Text, "无人在家")
	if tk := w.Ticket(id); tk.State != flows.StateWaiting || tk.NoAnswer != 1 {
		t.Fatalf("%+v", tk)
	}
	w.Expect(w.Tap(resident, w.ButtonData(offer, "明天"), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "2026-11-28 09:00")
	if tk := w.Ticket(id); tk.AgreedTime == nil || tk.ASAP {
		t.Fatalf("no agreed time: %+v", tk)
	}
	// The second visit starts with a fresh door rule and goes to the end.
	w.WalkToSignoff(tech, resident, id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	if w.Ticket(id).State != flows.StateConfirmed {
		t.Fatal("not confirmed")
	}
}

func TestEntryConsentIsRecordedWithItsSource(t *testing.T) {
	for _, how := range []string{"resident", "verbal"} {
		t.Run(how, func(t *testing.T) {
			w, id := onSite(t, "household")
			w.Expect(w.Step(tech, id, "answered"))
			msgs := w.Drain()
			ask := w.Last(msgs, resident.Chat())
			contains(t, ask.Text, "同意入户")
			if how == "resident" {
				w.Expect(w.Tap(resident, w.ButtonData(ask, "同意入户"), false))
			} else {
				w.Expect(w.Step(tech, id, "verbal"))
				// The resident's button is stale once the technician recorded it.
				w.Refused(w.Tap(resident, w.ButtonData(ask, "同意入户"), false), "已过期")
			}
			if got := w.Ticket(id).Visit.Entry; got != how {
				t.Fatalf("entry recorded as %q", got)
			}
		})
	}
}

func TestQuoteConsentGuards(t *testing.T) {
	w, id := onSite(t, "household")
	w.Register(other, "13900139000")
	advanceTo(t, w, id, flows.StepSurvey)
	w.Refused(w.Step(tech, id, "next"), "诊断和维修方案")
	w.Text(tech, "角阀老化，需更换")
	w.Expect(w.Step(tech, id, "next"))
	// Build a quote: pick shows quantities; a typed quantity works too.
	w.Expect(w.Step(tech, id, "pick", "W02"))
	w.Drain()
	w.Text(tech, "2")
	if msgs := w.Drain(); len(msgs) == 0 || !strings.Contains(w.Last(msgs, tech.Chat()).Text, "W02") {
		t.Fatalf("typed quantity not taken: %+v", msgs)
	}
	w.Expect(w.Step(tech, id, "qty", "M01", "1"))
	w.Expect(w.Step(tech, id, "send"))
	msgs := w.Drain()
	card1 := w.Last(msgs, resident.Chat())
	contains(t, card1.Text, "合计：¥70.00")
	contains(t, card1.Text, "服务价目表")
	// Work before consent is refused: the repair step's buttons are not valid yet.
	w.Refused(w.Tap(tech, flows.EncodePayload("st", id, "work", "next"), false), "已过期")
	// The resident refuses; the technician revises; the old card is stale.
	w.Expect(w.Tap(resident, w.ButtonData(card1, "不同意"), false))
	msgs = w.Drain()
	w.ButtonData(w.Last(msgs, tech.Chat()), "修改报价")
	w.ButtonData(w.Last(msgs, tech.Chat()), "致歉结束")
	w.Refused(w.Tap(tech, flows.EncodePayload("st", id, "work", "next"), false), "已过期")
	w.Expect(w.Step(tech, id, "revise"))
	w.Expect(w.Step(tech, id, "undo"))
	w.Expect(w.Step(tech, id, "send"))
	card2 := w.Last(w.Drain(), resident.Chat())
	contains(t, card2.Text, "合计：¥50.00")
	w.Refused(w.Tap(resident, w.ButtonData(card1, "同意方案"), false), "已被新的报价取代")
	w.Refused(w.Tap(other, w.ButtonData(card2, "同意方案"), false), "不是您提交的")
	w.Refused(w.Tap(resident, flows.EncodePayload("st", id, "quote", "send"), false), "没有权限")
	w.Expect(w.Tap(resident, w.ButtonData(card2, "同意方案"), false))
	if v := w.Ticket(id).Visit; !v.QuoteOK || v.Quote.Total() != 5000 || w.StepKind(id) != flows.StepPhoto {
		t.Fatalf("after consent: %+v at %s", v, w.StepKind(id))
	}
	// A change of plan during work needs consent again before work goes on.
	w.Photo(tech, "PROTECT", "", 1000)
	w.Expect(w.Step(tech, id, "next"))
	w.Expect(w.Step(tech, id, "change"))
	if w.StepKind(id) != flows.StepQuote {
		t.Fatalf("change went to %s", w.StepKind(id))
	}
	w.Refused(w.Tap(tech, flows.EncodePayload("st", id, "work", "next"), false), "已过期")
	w.Expect(w.Step(tech, id, "qty", "W04", "1"))
	w.Expect(w.Step(tech, id, "send"))
	card3 := w.Last(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(card3, "同意方案"), false))
	if w.StepKind(id) != flows.StepWork {
		t.Fatalf("after the second consent the visit resumes at %s, not the repair", w.StepKind(id))
	}
}

func TestRefusedQuoteEndsWithApology(t *testing.T) {
	w, id := onSite(t, "household")
	advanceTo(t, w, id, flows.StepQuote)
	w.Expect(w.Step(tech, id, "qty", "W03", "1"))
	w.Expect(w.Step(tech, id, "send"))
	w.Expect(w.Tap(resident, flows.EncodePayload("qd", id, "1"), false))
	w.Drain()
	w.Expect(w.Tap(tech, flows.EncodePayload("end", id), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "很抱歉")
	contains(t, w.Last(msgs, resident.Chat()).Text, "400-800-1234")
	if tk := w.Ticket(id); tk.State != flows.StateUnresolved || tk.State.Open() {
		t.Fatalf("%+v", tk)
	}
}

func TestRequiredPhotosAndTests(t *testing.T) {
	w, id := onSite(t, "household")
	advanceTo(t, w, id, flows.StepPhoto)
	w.Refused(w.Step(tech, id, "next"), "需要先上传照片")
	// A lead may skip it with a reason; it is recorded.
	w.Cmd(lead, "skip", id+" 住户不同意拍照")
	if tk := w.Ticket(id); tk.Visit.Skipped["protect"] != "住户不同意拍照" || w.StepKind(id) != flows.StepWork {
		t.Fatalf("skip: %+v at %s", tk.Visit, w.StepKind(id))
	}
	w.Cmd(tech, "skip", id+" 我也想跳过")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管")
	w.Expect(w.Step(tech, id, "next"))
	// SOP 4.2.3: the cleanup is not done without its photo either.
	if w.StepKind(id) != flows.StepPhoto || w.Ticket(id).Step != "cleanup" {
		t.Fatalf("after the repair: %s", w.Ticket(id).Step)
	}
	w.Refused(w.Step(tech, id, "next"), "「清扫与复位（拍照）」需要先上传照片")
	w.Photo(tech, "CLEAN", "", 1000)
	w.Expect(w.Step(tech, id, "next"))
	// Tests: two passes are not enough; a failure returns to the repair.
	w.Text(tech, "水压 0.3 MPa，无渗漏")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "note:tests 水压 0.3 MPa，无渗漏") {
		t.Fatalf("a typed test note is not in the audit trail: %s", ev)
	}
	w.Expect(w.Step(tech, id, "pass"))
	w.Expect(w.Step(tech, id, "pass"))
	w.Refused(w.Step(tech, id, "next"), "至少 3 次")
	w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "已过期")
	w.Expect(w.Step(tech, id, "fail"))
	if w.StepKind(id) != flows.StepWork {
		t.Fatal("a failed test did not return to the repair")
	}
	// The repair is done again, so is the cleanup: its photo is needed anew.
	w.Expect(w.Step(tech, id, "next"))
	w.Refused(w.Step(tech, id, "next"), "需要先上传照片")
	advanceTo(t, w, id, flows.StepSignoff)
	w.Cmd(resident, "order", id)
	order := w.LastText(w.Drain(), resident.Chat()).Text
	contains(t, order, "物品防护（拍照） 未拍照（主管批准：住户不同意拍照）")
	contains(t, order, "现场试验：3 次通过")
}

func TestPublicOrderSkipsThePriceNotThePlan(t *testing.T) {
	w, id := onSite(t, "public")
	advanceTo(t, w, id, flows.StepSurvey)
	w.Refused(w.Step(tech, id, "next"), "诊断和维修方案")
	w.Text(tech, "楼道灯镇流器损坏")
	w.Expect(w.Step(tech, id, "next"))
	if w.StepKind(id) != flows.StepPhoto {
		t.Fatalf("public order went to %s after the plan", w.StepKind(id))
	}
	advanceTo(t, w, id, flows.StepSignoff)
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	card := w.Last(w.Drain(), resident.Chat())
	contains(t, card.Text, "维修工作单（公共部位）")
	if strings.Contains(card.Text, "合计") {
		t.Fatalf("public order shows a price: %s", card.Text)
	}
}

func TestFeeQuestionThenConfirm(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	id := w.Report(resident, "漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "400-800-1234")
	contains(t, w.Last(msgs, lead.Chat()).Text, "收费有疑问")
	if tk := w.Ticket(id); !tk.FeeQuery || tk.State != flows.StateDone {
		t.Fatalf("%+v", tk)
	}
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "2"), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "投诉")
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		cs, err := tx.Complaints()
		if err != nil || len(cs) != 1 || cs[0].TicketID != id || cs[0].Score != 2 {
			t.Errorf("complaints %+v %v", cs, err)
		}
		return nil
	})
}

func TestHelpReplyAndTakeOver(t *testing.T) {
	w, id := onSite(t, "household")
	advanceTo(t, w, id, flows.StepSurvey)
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	msgs := w.Drain()
	ping := w.Last(msgs, lead.Chat())
	contains(t, ping.Text, "请求支援")
	contains(t, ping.Text, "勘察与方案")
	contains(t, w.Last(msgs, flowstest.Group).Text, "求助中")
	contains(t, w.Last(msgs, flowstest.Group).Text, "已到场（10:00）· 勘察与方案") // the card mirrors the step
	w.Expect(w.Tap(lead, w.ButtonData(ping, "回复"), false))
	w.Text(lead, "先关总阀再拆")
	msgs = w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "先关总阀再拆")
	if w.Ticket(id).Visit.Help {
		t.Fatal("help flag not cleared by the reply")
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	w.Drain()
	w.Expect(w.Tap(lead, w.ButtonData(ping, "接手"), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "接手")
	if tk := w.Ticket(id); tk.AssigneeID != lead.PID() || w.StepKind(id) != flows.StepSurvey {
		t.Fatalf("take over: %+v", tk)
	}
	// The old technician's step buttons no longer work; the lead's do.
	w.Refused(w.Step(tech, id, "next"), "不是由您负责")
	w.Text(lead, "更换角阀")
	w.Expect(w.Step(lead, id, "next"))
}

// A restart at every step resumes at that step with what was recorded.
func TestRestartAtEveryStep(t *testing.T) {
	w, id := onSite(t, "household")
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		step := w.Ticket(id).Step
		if !seen[step] {
			seen[step] = true
			w.Reopen()
			if got := w.Ticket(id).Step; got != step {
				t.Fatalf("after restart at %s the ticket is at %s", step, got)
			}
		}
		if w.StepKind(id) == flows.StepSignoff {
			break
		}
		advanceOne(t, w, id)
	}
	if len(seen) != len(w.Opts.SOP.Steps) {
		t.Fatalf("visited %d steps of %d", len(seen), len(w.Opts.SOP.Steps))
	}
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	w.Reopen()
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
}

// advanceOne performs one step's work and moves on.
func advanceOne(t *testing.T, w *flowstest.World, id string) {
	t.Helper()
	before := w.Ticket(id).Step
	next := map[flows.StepKind]flows.StepKind{
		flows.StepDoor: flows.StepEntry, flows.StepEntry: flows.StepSurvey, flows.StepSurvey: flows.StepQuote,
		flows.StepQuote: flows.StepPhoto, flows.StepWork: flows.StepPhoto, flows.StepTests: flows.StepCare, flows.StepCare: flows.StepSignoff,
	}[w.StepKind(id)]
	if w.StepKind(id) == flows.StepPhoto {
		w.Photo(tech, "P-"+before, "", 1000)
		w.Expect(w.Step(tech, id, "next"))
	} else {
		advanceTo(t, w, id, next)
	}
	if w.Ticket(id).Step == before {
		t.Fatalf("stuck at %s", before)
	}
}

func TestOrderVisibility(t *testing.T) {
	w, id := onSite(t, "household")
	w.Register(other, "13900139000")
	for _, p := range []flowstest.Person{resident, tech, lead, admin} {
		w.Cmd(p, "order", id)
		contains(t, w.Last(w.Drain(), p.Chat()).Text, "维修工作单")
	}
	// Someone else's ticket and one that does not exist answer the same.
	w.Cmd(other, "order", id)
	theirs := w.Last(w.Drain(), other.Chat()).Text
	missing := "BX-20991231-9999"
	w.Cmd(other, "order", missing)
	none := w.Last(w.Drain(), other.Chat()).Text
	if strings.ReplaceAll(theirs, id, "<id>") != strings.ReplaceAll(none, missing, "<id>") || !strings.Contains(none, "找不到工单") {
		t.Fatalf("someone else's ticket answers %q, a missing one %q", theirs, none)
	}
}

func TestEnglishVisit(t *testing.T) {
	w := flowstest.New(t)
	en := flowstest.Person{ID: 150, Name: "Alice", Lang: "en"}
	ent := flowstest.Person{ID: 250, Name: "Bob", Lang: "en"}
	w.Register(en, "+447700900123")
	w.Staff(ent, "technician")
	w.Cmd(en, "lang", "en")
	id := w.Report(en, "leak")
	w.Tap(ent, flows.EncodePayload("acc", id), true)
	w.WalkToSignoff(ent, en, id)
	var card flows.Message
	rows0, _ := w.Store.Rows("delivered")
	for _, r := range rows0 {
		if r.Msg.To == ent.Chat() && strings.Contains(r.Msg.Text, "step 1/10") {
			card = r.Msg
		}
	}
	contains(t, card.Text, "step 1/10: Doorbell / knock")
	contains(t, card.Text, "Ring at most 3 times")
	w.ButtonData(card, "Need help")
	rows, _ := w.Store.Rows("delivered")
	last := rows[len(rows)-1].Msg
	for _, r := range rows {
		if r.Msg.To == en.Chat() {
			last = r.Msg
		}
	}
	contains(t, last.Text, "Work order (household)")
	contains(t, last.Text, "Tests on site: 3 passed")
}

// TestAnyStepMayRequirePhotos: the SOP file can require photos at any
// step the technician moves on (here the repair and the tests); a reload
// with the requirement is a new version naming the changed steps, and
// visits under it refuse to move on without the photos.
func TestAnyStepMayRequirePhotos(t *testing.T) {
	w, id := onSite(t, "household")
	changed := sop.Default()
	for i := range changed.Steps {
		switch changed.Steps[i].Kind {
		case flows.StepWork:
			changed.Steps[i].Photos = 1
		case flows.StepTests:
			changed.Steps[i].Photos = 2
		}
	}
	w.SOPFile = func() (*flows.SOP, error) { return changed, nil }
	w.Cmd(lead, "sop", "reload")
	notice := w.Last(w.Drain(), tech.Chat()).Text
	contains(t, notice, "规程已更新为 v2")
	contains(t, notice, "修改步骤 work")
	contains(t, notice, "修改步骤 tests")
	advanceTo(t, w, id, flows.StepWork)
	contains(t, lastStepCard(t, w, id).Text, "已上传 0/1 张")
	w.Refused(w.Step(tech, id, "next"), "需要先上传照片")
	w.Photo(tech, "REPAIRED", "", 1000)
	w.Expect(w.Step(tech, id, "next"))
	advanceTo(t, w, id, flows.StepTests)
	for i := 0; i < 3; i++ {
		w.Expect(w.Step(tech, id, "pass"))
	}
	w.Photo(tech, "TEST-1", "", 1000)
	w.Refused(w.Step(tech, id, "next"), "至少 2 张，已上传 1 张")
	// A lead may waive it with a reason, as at a photo step.
	w.Cmd(lead, "skip", id+" 相机坏了")
	if tk := w.Ticket(id); tk.Visit.Skipped["tests"] != "相机坏了" || w.StepKind(id) != flows.StepCare {
		t.Fatalf("skip at the tests: %+v at %s", tk.Visit.Skipped, w.StepKind(id))
	}
}

// TestCareNotesRequired: SOP 4.2.4 asks the technician to explain the care
// notes; the step needs at least one — a typical note of the ticket's
// category from the SOP file (a button) or typed text.
func TestCareNotesRequired(t *testing.T) {
	w, id := onSite(t, "household") // a water ticket
	advanceTo(t, w, id, flows.StepCare)
	card := lastStepCard(t, w, id)
	w.Refused(w.Step(tech, id, "next"), "至少讲解一条注意事项")
	// The typical notes of the category are buttons; another category's are not.
	note := w.ButtonData(card, "24 小时内")
	for _, row := range card.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, "大功率电器") {
				t.Fatalf("an electricity note on a water ticket: %q", b.Text)
			}
		}
	}
	w.Expect(w.Tap(tech, note, false))
	if v := w.Ticket(id).Visit; len(v.CareNotes) != 1 {
		t.Fatalf("care notes %+v", v.CareNotes)
	}
	// Tapping it again takes it back.
	w.Expect(w.Tap(tech, note, false))
	w.Refused(w.Step(tech, id, "next"), "至少讲解一条注意事项")
	w.Expect(w.Tap(tech, note, false))
	w.Text(tech, "冬天注意水管防冻")
	w.Expect(w.Step(tech, id, "next"))
	w.CodeFault(tech, id)
	w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	order := w.Last(w.Drain(), resident.Chat()).Text
	contains(t, order, "24 小时内")
	contains(t, order, "冬天注意水管防冻")
	// A note id the SOP does not have is refused.
	w2, id2 := onSite(t, "household")
	advanceTo(t, w2, id2, flows.StepCare)
	w2.Refused(w2.Step(tech, id2, "note", "nosuch"), "无法识别")
}

// TestHelpSendsEveryPhotoSoFar: SOP 4.1.3 2) — a technician reports a hard
// problem truthfully and in detail; the leads get the step, the address,
// the plan and every photo of the ticket so far (the report's and each
// step's), not only the current step's.
func TestHelpSendsEveryPhotoSoFar(t *testing.T) {
	w, id := onSite(t, "household")
	err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		tk.Photos = []flows.Photo{{FileID: "REPORTED"}}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	advanceTo(t, w, id, flows.StepSurvey)
	w.Photo(tech, "SURVEYED", "", 1000)
	advanceTo(t, w, id, flows.StepPhoto)
	w.Photo(tech, "PROTECTED", "", 1000)
	w.Expect(w.Step(tech, id, "next"))
	w.Photo(tech, "HALF-DONE", "", 1000) // at the repair, where help is asked
	w.Drain()
	w.Expect(w.Tap(tech, flows.EncodePayload("help", id), false))
	msgs := w.Drain()
	ping := w.Last(To(msgs, lead.Chat())[:1], lead.Chat())
	contains(t, ping.Text, "请求支援")
	contains(t, ping.Text, "维修")
	contains(t, ping.Text, "3栋 / 2单元 / 1502")
	contains(t, ping.Text, "更换角阀")
	contains(t, ping.Text, "照片 4 张")
	var got []string
	for _, m := range To(msgs, lead.Chat()) {
		if m.Kind == flows.KindPhoto {
			got = append(got, m.Photo+"@"+m.Text)
		}
	}
	want := []string{
		"REPORTED@" + id + " · 报修",
		"SURVEYED@" + id + " · 勘察与方案",
		"PROTECTED@" + id + " · 物品防护（拍照）",
		"HALF-DONE@" + id + " · 维修",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the lead got the photos\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEveryStepCardShowsItsReminder: the SOP's rules software cannot
// enforce (the code of conduct, the company's and the resident's
// interests, never pretending to know, no blind dismantling, low noise and
// no smoking, protecting belongings) are each step's reminder from the
// SOP file, shown on that step's card.
func TestEveryStepCardShowsItsReminder(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	rows, _ := w.Store.Rows("delivered")
	cards := map[string]string{}
	for _, r := range rows {
		if r.Msg.To == tech.Chat() && strings.Contains(r.Msg.Text, "第 ") {
			for _, st := range w.Eng.SOP().Steps {
				if strings.Contains(r.Msg.Text, "："+st.Title[flows.LangZH]) {
					cards[st.ID] = r.Msg.Text
				}
			}
		}
	}
	for _, st := range w.Eng.SOP().Steps {
		contains(t, cards[st.ID], "💡 "+st.Hint[flows.LangZH])
	}
	for step, rule := range map[string]string{
		"entry": "遵守《员工行为规范》", "survey": "不懂不要装懂", "work": "严禁在室内高声喧哗、吸烟",
		"protect": "遮盖、包扎", "door": "无门铃时轻敲门",
	} {
		contains(t, cards[step], rule)
	}
	contains(t, cards["entry"], "维护公司及住户的权益")
	contains(t, cards["survey"], "严禁盲目安装或乱拆乱换")
}
