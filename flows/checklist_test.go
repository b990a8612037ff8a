package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
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
		case flows.StepWork, flows.StepCare:
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

func TestDoorRule(t *testing.T) {
	w, id := onSite(t, "household")
	w.Refused(w.Tap(tech, flows.EncodePayload("nh", id), false), "按门铃 3 次")
	for i := 0; i < 3; i++ {
		w.Expect(w.Step(tech, id, "ring"))
	}
	w.Refused(w.Step(tech, id, "ring"), "不能再按")
	for i := 0; i < 5; i++ {
		w.Expect(w.Step(tech, id, "knock"))
	}
	w.Refused(w.Step(tech, id, "knock"), "不能再敲")
	if v := w.Ticket(id).Visit; v.Rings != 3 || v.Knocks != 5 {
		t.Fatalf("counters %+v", v)
	}
}

func TestNoOneHomeRescheduledAndCompleted(t *testing.T) {
	w, id := onSite(t, "household")
	for i := 0; i < 3; i++ {
		w.Step(tech, id, "ring")
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
	w.Photo(tech, "CLEAN", "", 1000)
	w.Expect(w.Step(tech, id, "next"))
	// Tests: two passes are not enough; a failure returns to the repair.
	w.Expect(w.Step(tech, id, "pass"))
	w.Expect(w.Step(tech, id, "pass"))
	w.Refused(w.Step(tech, id, "next"), "至少 3 次")
	w.Refused(w.Tap(tech, flows.EncodePayload("done", id), false), "已过期")
	w.Expect(w.Step(tech, id, "fail"))
	if w.StepKind(id) != flows.StepWork {
		t.Fatal("a failed test did not return to the repair")
	}
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
	w.Cmd(other, "order", id)
	contains(t, w.Last(w.Drain(), other.Chat()).Text, "不是您提交的")
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
