package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/sop"
)

func reviews(t *testing.T, w *flowstest.World) []*flows.Review {
	t.Helper()
	var rs []*flows.Review
	err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		var err error
		rs, err = tx.Reviews()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// wantOneReview checks the world has exactly one review, of the trigger,
// linking the ticket, and that the participants were invited; it returns
// the review and the technician's invitation.
func wantOneReview(t *testing.T, w *flowstest.World, trigger, label, ticket string) (*flows.Review, flows.Message) {
	t.Helper()
	rs := reviews(t, w)
	if len(rs) != 1 || rs[0].Trigger != trigger || strings.Join(rs[0].Tickets, ",") != ticket {
		t.Fatalf("reviews %+v, want one %q linking %s", rs, trigger, ticket)
	}
	w.Drain()
	rows, err := w.Store.Rows("delivered")
	if err != nil {
		t.Fatal(err)
	}
	var invite flows.Message
	for _, r := range rows {
		if r.Msg.To == tech.Chat() && strings.Contains(r.Msg.Text, "规程复审 "+rs[0].ID) {
			invite = r.Msg
		}
	}
	contains(t, invite.Text, "规程复审 "+rs[0].ID+" 已启动（原因："+label)
	w.ButtonData(invite, "提交建议")
	return rs[0], invite
}

// TestReviewTriggers: review clause 2 — a major fault, a safety incident
// or a complaint opens a review at once. Besides complaints
// (governance_test.go), an emergency's SLA breach, a safety-type
// emergency and a repeat failure at the same home each open one.
func TestReviewTriggers(t *testing.T) {
	t.Run("emergency SLA breach", func(t *testing.T) {
		w := emergencyWorld(t)
		t0 := w.Now
		id := reportLeak(t, w)
		w.Drain()
		if rs := reviews(t, w); len(rs) != 0 {
			t.Fatalf("a water leak is no safety incident: %+v", rs)
		}
		w.Now = t0.Add(5 * time.Minute) // nobody on site by the arrival deadline
		w.Tick()
		wantOneReview(t, w, "sla", "紧急事件超时", id)
	})
	t.Run("safety-type emergency", func(t *testing.T) {
		w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
			o.Emergencies = append(o.Emergencies, flows.EmergencyType{Key: "gas", Category: "other",
				Labels:       map[flows.Lang]string{flows.LangZH: "燃气泄漏", flows.LangEN: "Gas leak"},
				AcceptWithin: time.Minute, ArriveWithin: 10 * time.Minute, ManagerAfter: 20 * time.Minute})
		}))
		w.Register(resident, "13800138000")
		w.Staff(tech, "technician")
		w.Staff(lead, "lead")
		w.Cmd(resident, "report", "")
		w.Tap(resident, w.ButtonData(w.Last(w.Drain(), resident.Chat()), "燃气泄漏"), false)
		id := ticketIn(t, w.Last(w.Drain(), resident.Chat()).Text)
		wantOneReview(t, w, "safety", "安全事故", id)
	})
	t.Run("repeat failure", func(t *testing.T) {
		w := govWorld(t)
		first := w.Report(resident, "漏水")
		w.Tap(tech, flows.EncodePayload("acc", first), true)
		w.WalkToSignoff(tech, resident, first)
		w.Tap(resident, flows.EncodePayload("fix", first), false)
		w.Tap(tech, flows.EncodePayload("bye", first), false)
		w.Expect(w.Tap(resident, flows.EncodePayload("sc", first, "5"), false))
		w.Drain()
		if rs := reviews(t, w); len(rs) != 0 {
			t.Fatalf("a good repair opened a review: %+v", rs)
		}
		w.Now = w.Now.Add(10 * 24 * time.Hour) // the same fault at the same home within 30 days
		again := w.Report(resident, "又漏水了")
		wantOneReview(t, w, "repeat", "重复故障", again)
		if ev := strings.Join(w.Events(again), ","); !strings.Contains(ev, "repeat:"+first) {
			t.Fatalf("the repeat is not in the audit trail: %s", ev)
		}
	})
}

func ticketIn(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket in %q", text)
	}
	return text[i : i+len("BX-20261127-0001")]
}

// TestLeadOpensAReviewForAMajorFault: review clause 2 — a major fault
// (重大故障) opens a review at once; a lead opens it by hand, with what
// happened and the ticket when there is one.
func TestLeadOpensAReviewForAMajorFault(t *testing.T) {
	w := govWorld(t)
	id := w.Report(resident, "漏水")
	w.Drain()
	w.Cmd(lead, "fault", id+" 地下室主水管爆裂，整栋停水 6 小时")
	r, invite := wantOneReview(t, w, "major", "重大故障", id)
	if r.Note != "地下室主水管爆裂，整栋停水 6 小时" || r.Owner != lead.PID() {
		t.Fatalf("review %+v", r)
	}
	contains(t, invite.Text, "地下室主水管爆裂")
	if ev := strings.Join(w.Events(id), ","); !strings.Contains(ev, "major_fault:"+r.ID) {
		t.Fatalf("the ticket's audit trail does not link the review: %s", ev)
	}
	// Without a ticket (a fault of the estate, not of a home) it opens too.
	w.Cmd(lead, "fault", "小区外线停电，两台电梯困人")
	w.Drain()
	rs := reviews(t, w)
	if len(rs) != 2 || rs[0].Trigger != "major" || rs[1].Trigger != "major" || len(rs[0].Tickets)+len(rs[1].Tickets) != 1 {
		t.Fatalf("reviews %+v %+v", rs[0], rs[len(rs)-1])
	}
	for _, tc := range []struct {
		p    flowstest.Person
		arg  string
		want string
	}{
		{tech, id + " 停水", "只有主管"},
		{lead, "", "用法：/fault"},
		{lead, "BX-20261127-0404 停水", "找不到工单"},
		{lead, id, "用法：/fault"},
	} {
		w.Cmd(tc.p, "fault", tc.arg)
		contains(t, w.Last(w.Drain(), tc.p.Chat()).Text, tc.want)
	}
}

// closeReview writes the report of review id up to the question whether
// its measures change the procedure, and returns that question.
func closeReview(t *testing.T, w *flowstest.World, id string) flows.Message {
	t.Helper()
	w.Cmd(lead, "review", id+" close")
	w.Text(lead, "主水管老化，巡检未覆盖地下室")
	w.Text(lead, "地下室水管纳入月度巡检；爆管应急流程补充关阀位置图")
	w.Text(lead, "补充关阀位置图；陈主管；2026-12-20")
	finish := w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(finish, "完成报告"), false))
	q := w.Last(w.Drain(), lead.Chat())
	contains(t, q.Text, "改变了规程吗")
	return q
}

// TestClosingAReviewRecordsItsChangeSet: review clause 4 — each review
// records its changes, raises the SOP version and notifies the people
// concerned. Closing asks whether the measures change the procedure:
// no; a version made since (linked); or the SOP file now (a new version).
// The review keeps the version and the change set, the version links the
// review, and everyone concerned is told.
func TestClosingAReviewRecordsItsChangeSet(t *testing.T) {
	open := func(t *testing.T) (*flowstest.World, string) {
		w := govWorld(t)
		w.Cmd(lead, "fault", "地下室主水管爆裂，整栋停水 6 小时")
		w.Drain()
		return w, reviews(t, w)[0].ID
	}
	changed := func() *flows.SOP {
		s := sop.Default()
		s.Prices[1].Cents = 3500 // W02 angle valve 25 → 35
		return s
	}
	t.Run("the SOP file now", func(t *testing.T) {
		w, id := open(t)
		q := closeReview(t, w, id)
		w.Refused(w.Tap(lead, w.ButtonData(q, "从规程文件"), false), "没有变化")
		w.SOPFile = func() (*flows.SOP, error) { return changed(), nil }
		w.Expect(w.Tap(lead, w.ButtonData(q, "从规程文件"), false))
		msgs := w.Drain()
		r := reviews(t, w)[0]
		if r.Status != "closed" || r.NewVersion != 2 || len(r.Changes) != 1 || r.Changes[0].Kind != "price_changed" {
			t.Fatalf("closed review %+v", r)
		}
		if v := sopVersion(t, w, 2); v.Review != id {
			t.Fatalf("version 2 does not link the review: %+v", v)
		}
		// Everyone who executes the SOP gets the new version to acknowledge,
		// and the participants the report with its change set.
		notice := w.Last(To(msgs, tech2.Chat())[:1], tech2.Chat())
		contains(t, notice.Text, "规程已更新为 v2")
		w.ButtonData(notice, "已阅读并理解")
		report := w.Last(msgs, tech2.Chat()).Text
		contains(t, report, "规程复审报告")
		contains(t, report, "规程更新为 v2")
		contains(t, report, "调整价格 W02")
	})
	t.Run("a version made since", func(t *testing.T) {
		w, id := open(t)
		w.SOPFile = func() (*flows.SOP, error) { return changed(), nil }
		w.Cmd(lead, "sop", "reload")
		w.Drain()
		q := closeReview(t, w, id)
		w.Expect(w.Tap(lead, w.ButtonData(q, "关联 v2"), false))
		msgs := w.Drain()
		r := reviews(t, w)[0]
		if r.NewVersion != 2 || len(r.Changes) != 1 || r.Changes[0].What != "W02 更换角阀（不含材料）" {
			t.Fatalf("closed review %+v", r)
		}
		if v := sopVersion(t, w, 2); v.Review != id {
			t.Fatalf("version 2 does not link the review: %+v", v)
		}
		// Those who have not acknowledged v2 are asked again.
		contains(t, w.Last(To(msgs, tech.Chat())[:1], tech.Chat()).Text, "规程已更新为 v2")
	})
	t.Run("no change", func(t *testing.T) {
		w, id := open(t)
		q := closeReview(t, w, id)
		w.Expect(w.Tap(lead, w.ButtonData(q, "不修改规程"), false))
		r := reviews(t, w)[0]
		if r.Status != "closed" || r.NewVersion != 0 || len(r.Changes) != 0 {
			t.Fatalf("closed review %+v", r)
		}
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "规程未修改")
	})
}

func sopVersion(t *testing.T, w *flowstest.World, n int) flows.SOPVersion {
	t.Helper()
	var out flows.SOPVersion
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		vs, err := tx.SOPVersions()
		for _, v := range vs {
			if v.Number == n {
				out = v
			}
		}
		return err
	})
	return out
}
