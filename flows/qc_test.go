package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

func qcWorld(t *testing.T, share int) *flowstest.World {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { o.Records.QC, o.Records.QCShare = true, share }))
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	return w
}

// closeScored takes a report to closed with the given score (and a rework
// before the confirmation when rework is set).
func closeScored(t *testing.T, w *flowstest.World, score string, rework bool) string {
	t.Helper()
	id := w.Report(resident, "厨房水管漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	if rework {
		w.Expect(w.Tap(resident, flows.EncodePayload("nfx", id), false))
		advanceTo(t, w, id, flows.StepSignoff)
		w.CodeFault(tech, id)
		w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
	}
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Drain()
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, score), false))
	return id
}

func qcOf(t *testing.T, w *flowstest.World, id string) *flows.QCReview {
	t.Helper()
	var r *flows.QCReview
	if err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		var err error
		r, err = tx.QCReview(id)
		return err
	}); err != nil {
		return nil
	}
	return r
}

// TestQCSampling: with a share of 0 only complaints and reworks are
// sampled; with 100 every closed ticket is; the leads are told with a
// button to start the review.
func TestQCSampling(t *testing.T) {
	w := qcWorld(t, 0)
	plain := closeScored(t, w, "5", false)
	if qcOf(t, w, plain) != nil {
		t.Fatal("a plain ticket was sampled at a share of 0")
	}
	// The resident complains after it closed: now it is reviewed.
	w.Cmd(resident, "complain", "师傅没有清理干净")
	if r := qcOf(t, w, plain); r == nil || r.Reason != "complaint" || r.Status != "pending" {
		t.Fatalf("a complaint after closing: %+v", r)
	}
	low := closeScored(t, w, "2", false)
	msgs := w.Drain()
	if r := qcOf(t, w, low); r == nil || r.Reason != "complaint" || r.Status != "pending" {
		t.Fatalf("complaint: %+v", r)
	}
	note := withText(t, msgs, lead.Chat(), "质检抽查：工单 "+low+"（投诉）")
	w.ButtonData(note, "开始质检")
	reworked := closeScored(t, w, "4", true)
	if r := qcOf(t, w, reworked); r == nil || r.Reason != "rework" {
		t.Fatalf("rework: %+v", r)
	}
	// A complaint about the latest ticket keeps its pending review.
	w.Cmd(resident, "complain", "师傅没有清理干净")
	if r := qcOf(t, w, reworked); r == nil || r.Reason != "rework" {
		t.Fatalf("a pending review was replaced: %+v", r)
	}
	all := qcWorld(t, 100)
	id := closeScored(t, all, "5", false)
	if r := qcOf(t, all, id); r == nil || r.Reason != "sample" {
		t.Fatalf("share 100: %+v", r)
	}
}

// TestQCReviewByButtons: a lead reviews a sampled ticket: the record, its
// photos and work order file come first, then the score, the findings
// (ticked on and off), a note and a spot check assigned to a technician,
// whose result closes the review; it survives a restart in the middle.
func TestQCReviewByButtons(t *testing.T) {
	w := qcWorld(t, 100)
	id := closeScored(t, w, "5", false)
	w.Drain()
	w.Cmd(lead, "qc", "")
	list := w.Last(w.Drain(), lead.Chat())
	contains(t, list.Text, "待质检 1 单")
	w.Expect(w.Tap(lead, w.ButtonData(list, id), false))
	msgs := flowstest.To(w.Drain(), lead.Chat())
	contains(t, msgs[0].Text, "质检 "+id+"（随机抽查）")
	contains(t, msgs[0].Text, "现场试验：3 次通过")
	photos, files := 0, 0
	for _, m := range msgs {
		if m.Kind == flows.KindPhoto {
			photos++
		}
		if m.Export != nil && m.Export.Form == flows.ExportWorkOrder {
			files++
		}
	}
	if photos != 2 || files != 1 {
		t.Fatalf("%d photos and %d work-order files with the record", photos, files)
	}
	ask := msgs[len(msgs)-1]
	contains(t, ask.Text, "打分")
	w.Text(lead, "四分")
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "请点击上一条消息中的按钮")
	w.Expect(w.Tap(lead, w.ButtonData(ask, "4"), false))
	ask = w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(ask, "照片缺失"), false))
	ask = w.Last(w.Drain(), lead.Chat())
	w.ButtonData(ask, "✅ 照片缺失")
	w.Expect(w.Tap(lead, w.ButtonData(ask, "试验不足"), false))
	ask = w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(ask, "✅ 试验不足"), false)) // untick
	w.Reopen()
	ask = w.Last(w.Drain(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(ask, "选好了"), false))
	w.Drain()
	w.Text(lead, "清扫后的照片看不清")
	ask = w.Last(w.Drain(), lead.Chat())
	contains(t, ask.Text, "现场复查")
	w.Expect(w.Tap(lead, w.ButtonData(ask, tech2.Name), false))
	msgs = w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "已记录工单 "+id+" 的质检：4 分；照片缺失 / 不清")
	contains(t, w.Last(msgs, tech.Chat()).Text, "质检结果：4 分；照片缺失 / 不清。清扫后的照片看不清")
	spot := w.Last(msgs, tech2.Chat())
	contains(t, spot.Text, "请您到现场复查工单 "+id)
	r := qcOf(t, w, id)
	if r.Score != 4 || strings.Join(r.Findings, ",") != "photos" || r.Note != "清扫后的照片看不清" || r.Status != "spot" ||
		r.Spot == nil || r.Spot.Assignee != tech2.PID() || r.Reviewer != lead.PID() {
		t.Fatalf("review %+v", r)
	}
	w.Refused(w.Tap(tech, w.ButtonData(spot, "复查合格"), false), "不是指派给您的")
	w.Expect(w.Tap(tech2, w.ButtonData(spot, "复查合格"), false))
	withText(t, w.Drain(), lead.Chat(), "现场复查（"+tech2.Name+"）：合格")
	if r := qcOf(t, w, id); r.Status != "done" || r.Spot.Result != "ok" || r.Spot.Done == nil {
		t.Fatalf("after the spot check %+v", r)
	}
	w.Refused(w.Tap(tech2, w.ButtonData(spot, "复查合格"), false), "已经完成")
	w.Refused(w.Tap(lead, flows.EncodePayload("qcr", id), false), "已经完成")
	if evs := w.Events(id); !containsStr(evs, "qc:score=4 findings=photos spot="+tech2.PID()) || !containsStr(evs, "spot_check:ok") {
		t.Fatalf("events %v", evs)
	}
	w.Cmd(lead, "qc", "")
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "没有待质检")
}

// TestQCRefusals: only leads review; a ticket never sampled has no review.
func TestQCRefusals(t *testing.T) {
	w := qcWorld(t, 0)
	id := closeScored(t, w, "5", false)
	w.Refused(w.Tap(lead, flows.EncodePayload("qcr", id), false), "没有被抽中")
	w.Refused(w.Tap(tech, flows.EncodePayload("qcr", id), false), "只有主管")
	w.Refused(w.Tap(lead, flows.EncodePayload("qcx", id, "ok"), false), "没有被抽中")
}
