package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/sop"
)

func govWorld(t *testing.T) *flowstest.World {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	w.Cmd(admin, "help", "")
	w.Drain()
	return w
}

func TestChangedPriceMakesANewVersion(t *testing.T) {
	w := govWorld(t)
	changed := sop.Default()
	changed.Prices[1].Cents = 3500 // W02 angle valve 25 → 35
	changed.MinTests = 4
	w.SOPFile = func() (*flows.SOP, error) { return changed, nil }
	w.Cmd(lead, "sop", "reload")
	msgs := w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "新版本 v2")
	notice := w.Last(msgs, tech.Chat())
	contains(t, notice.Text, "规程已更新为 v2")
	contains(t, notice.Text, "调整价格 W02 更换角阀（不含材料）：¥25.00 → ¥35.00")
	contains(t, notice.Text, "规则 min_tests：3 → 4")
	if strings.Count(notice.Text, "\n• ") != 2 {
		t.Fatalf("summary should list exactly two changes: %q", notice.Text)
	}
	// Reloading the same file is not a new version.
	w.Cmd(lead, "sop", "reload")
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "没有变化，仍为 v2")

	// The technician acknowledges through the quiz: rings, tests, the new price.
	w.Expect(w.Tap(tech, w.ButtonData(notice, "已阅读并理解"), false))
	q := w.Last(w.Drain(), tech.Chat())
	contains(t, q.Text, "最多按几次门铃")
	// Forged taps: a resident cannot acknowledge or answer; a technician
	// cannot skip to the last question without the earlier right answers.
	w.Refused(w.Tap(resident, flows.EncodePayload("ack", "2"), false), "没有权限")
	w.Refused(w.Tap(resident, flows.EncodePayload("qz", "2", "0", "", "3"), false), "没有权限")
	w.Refused(w.Tap(tech, flows.EncodePayload("qz", "2", "2", "", "35"), false), "无法识别")
	w.Refused(w.Tap(tech, flows.EncodePayload("qz", "2", "2", "3.9", "35"), false), "无法识别")
	w.Expect(w.Tap(tech, w.ButtonData(q, "3"), false))
	q = w.Last(w.Drain(), tech.Chat())
	contains(t, q.Text, "至少试验几次")
	w.Expect(w.Tap(tech, w.ButtonData(q, "4"), false))
	q = w.Last(w.Drain(), tech.Chat())
	contains(t, q.Text, "新价格")
	w.Expect(w.Tap(tech, w.ButtonData(q, "35"), false))
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "已确认阅读规程 v2")
	w.Refused(w.Tap(tech, w.ButtonData(notice, "已阅读并理解"), false), "已确认过")

	// A day later the others are reminded and the lead sees who is missing.
	w.Now = w.Now.Add(24 * time.Hour)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, tech.Chat(), "请阅读并确认") != 0 || count(msgs, tech2.Chat(), "请阅读并确认") != 1 {
		t.Fatalf("reminders: %+v", msgs)
	}
	missing := ""
	for _, m := range flowstest.To(msgs, lead.Chat()) {
		if strings.Contains(m.Text, "尚未确认") {
			missing = m.Text
		}
	}
	if !strings.Contains(missing, "赵师傅") || strings.Contains(missing, "张师傅") {
		t.Fatalf("missing list %q", missing)
	}
	// New visits follow v2 and record it.
	id := w.Report(resident, "漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.Tap(tech, flows.EncodePayload("arr", id), false)
	if got := w.Ticket(id).SOPVersion; got != "v2 (2026.2)" {
		t.Fatalf("ticket followed %q", got)
	}
	w.Cmd(lead, "sop", "")
	show := w.Last(w.Drain(), lead.Chat()).Text
	contains(t, show, "当前规程 v2")
	contains(t, show, "v1（2026.2）")
}

func complain(t *testing.T, w *flowstest.World, desc string) string {
	id := w.Report(resident, desc)
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.WalkToSignoff(tech, resident, id)
	w.Tap(resident, flows.EncodePayload("fix", id), false)
	w.Tap(tech, flows.EncodePayload("bye", id), false)
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "1"), false))
	w.Drain()
	return id
}

func TestThreeComplaintsOpenOneReview(t *testing.T) {
	w := govWorld(t)
	var ids []string
	for i := 0; i < 3; i++ {
		w.Now = w.Now.Add(15 * time.Minute)
		ids = append(ids, complain(t, w, "漏水"))
	}
	var reviews []*flows.Review
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		var err error
		reviews, err = tx.Reviews()
		return err
	})
	if len(reviews) != 1 {
		t.Fatalf("%d reviews", len(reviews))
	}
	r := reviews[0]
	if r.Trigger != "complaint" || strings.Join(r.Tickets, ",") != strings.Join(ids, ",") || r.Owner != lead.PID() {
		t.Fatalf("%+v", r)
	}
	w.Cmd(lead, "review", r.ID)
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "关联工单："+strings.Join(ids, ", "))
}

func TestReviewSuggestionsReportAndActions(t *testing.T) {
	w := govWorld(t)
	w.Cmd(tech2, "suggest", "报价单字太小，老人看不清")
	contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "纳入下一次规程复审")
	complain(t, w, "灯不亮")
	rows, _ := w.Store.Rows("delivered")
	var invite flows.Message
	for _, r := range rows {
		if r.Msg.To == tech.Chat() && strings.Contains(r.Msg.Text, "规程复审") {
			invite = r.Msg
		}
	}
	w.Expect(w.Tap(tech, w.ButtonData(invite, "提交建议"), false))
	w.Text(tech, "入户前增加鞋套检查")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "已加入复审")
	id := "RV-2026-001"
	// A day later, those who have not answered are reminded; tech is not.
	w.Now = w.Now.Add(24 * time.Hour)
	w.Tick()
	msgs := w.Drain()
	if count(msgs, tech.Chat(), "等待您的建议") != 0 || count(msgs, tech2.Chat(), "等待您的建议") != 1 {
		t.Fatalf("review reminders: %+v", msgs)
	}
	// Only the owner closes it, with reasons, measures and a plan.
	w.Cmd(tech, "review", id+" close")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有复审负责人")
	w.Cmd(lead, "review", id+" close")
	w.Text(lead, "报价沟通不充分导致投诉")
	w.Text(lead, "报价单改大字号；入户检查鞋套")
	w.Text(lead, "更新报价单模板；张师傅；2026-12-10")
	w.Text(lead, "培训鞋套规范；赵师傅；2026-12-05")
	w.Text(lead, "乱写一通")
	contains(t, w.Last(w.Drain(), lead.Chat()).Text, "格式")
	finish := w.Last(func() []flows.Message { w.Text(lead, "检查执行；陈主管；2026-12-20"); return w.Drain() }(), lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(finish, "完成报告"), false))
	w.Expect(w.Tap(lead, w.ButtonData(w.Last(w.Drain(), lead.Chat()), "不修改规程"), false))
	msgs = w.Drain()
	report := w.Last(msgs, tech2.Chat()).Text
	contains(t, report, "修改理由：报价沟通不充分导致投诉")
	contains(t, report, "报价单字太小") // the earlier frontline suggestion is part of it
	contains(t, report, "培训鞋套规范")
	// Actions: a reminder the day before, on the day, then escalation.
	w.Now = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	w.Tick()
	contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "将于 2026-12-05 到期")
	w.Now = time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	w.Tick()
	contains(t, w.Last(w.Drain(), tech2.Chat()).Text, "今天到期")
	w.Now = time.Date(2026, 12, 8, 10, 30, 0, 0, time.UTC)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, lead.Chat(), "已逾期 3 天") != 1 {
		t.Fatalf("no escalation: %+v", msgs)
	}
	// Everyone marks their action done; the review becomes effective.
	for _, p := range []flowstest.Person{tech2, tech, lead} {
		w.Cmd(p, "actions", "")
		list := w.Last(w.Drain(), p.Chat())
		w.Expect(w.Tap(p, list.Buttons[0][0].Data, false))
		w.Text(p, "已完成，见附件记录")
	}
	msgs = w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "已生效")
	w.Cmd(lead, "review", id+" export")
	file := w.Last(w.Drain(), lead.Chat())
	if file.Kind != flows.KindFile || file.FileName != id+".md" || !strings.Contains(file.Text, "# "+id) {
		t.Fatalf("export %+v", file)
	}
}

func TestYearlyReviewEveryYearRestartSafe(t *testing.T) {
	w := govWorld(t)
	w.Tick()
	w.Now = time.Date(2027, 1, 15, 0, 59, 0, 0, time.UTC) // 08:59 in Shanghai
	w.Tick()
	w.Reopen()
	w.Now = time.Date(2027, 1, 15, 1, 0, 0, 0, time.UTC) // 09:00
	w.Tick()
	w.Reopen()
	w.Tick()
	w.Now = time.Date(2028, 1, 15, 1, 0, 0, 0, time.UTC)
	w.Tick()
	var ids []string
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		rs, err := tx.Reviews()
		for _, r := range rs {
			if r.Trigger == "yearly" {
				ids = append(ids, r.ID)
			}
		}
		return err
	})
	if strings.Join(ids, ",") != "RV-2028-001,RV-2027-001" {
		t.Fatalf("yearly reviews %v", ids)
	}
	// Not closed by the deadline: the administrators are told.
	w.Drain()
	w.Now = time.Date(2028, 1, 29, 1, 1, 0, 0, time.UTC)
	w.Tick()
	if count(w.Drain(), admin.Chat(), "RV-2028-001 已超过截止时间") != 1 {
		t.Fatal("overdue review not escalated")
	}
}

func TestMonthlyAuditFlagsGaps(t *testing.T) {
	w := govWorld(t)
	w.Tick()
	id := w.Report(resident, "漏水")
	w.Tap(tech, flows.EncodePayload("acc", id), true)
	w.WalkToSignoff(tech, resident, id)
	w.Tap(resident, flows.EncodePayload("fix", id), false)
	w.Tap(tech, flows.EncodePayload("bye", id), false)
	w.Tap(resident, flows.EncodePayload("sc", id, "5"), false)
	w.Drain()
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	w.Tick()
	msgs := w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "2026-11 执行情况抽查（1 张工单）")
	contains(t, w.Last(msgs, lead.Chat()).Text, id+"（张师傅）：✅ 记录完整")
}

// TestMonthlyAuditFlagsEachGap: each of the audit's four flags (framework
// 5, method 7) on a ticket that lacks just that — a required photo, the
// minimum tests, the recorded consent to entry, the resident's consent to
// the quote — and none on a complete one; a public order needs neither
// entry consent nor a quote.
func TestMonthlyAuditFlagsEachGap(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { o.Governance.AuditCount = 10 }))
	w.Staff(lead, "lead")
	w.Tick() // schedules November's audit
	complete := func(id string) *flows.Ticket {
		tk := historyTicket(id, "2026-11-10T01:00:00Z", "water", "1502", "7", 5, 20, 30, 5, 0)
		tk.Visit = &flows.Visit{Tests: 3, Entry: "resident", QuoteOK: true, Photos: map[string][]flows.Photo{
			"protect": {{FileID: "P"}}, "cleanup": {{FileID: "C"}}}}
		return tk
	}
	ok, photo, tests, consent, quote, public := complete("BX-20261110-0001"), complete("BX-20261110-0002"),
		complete("BX-20261110-0003"), complete("BX-20261110-0004"), complete("BX-20261110-0005"), complete("BX-20261110-0006")
	delete(photo.Visit.Photos, "cleanup")
	tests.Visit.Tests = 2
	consent.Visit.Entry = ""
	quote.Visit.QuoteOK = false
	public.Kind, public.Visit.Entry, public.Visit.QuoteOK = flows.OrderPublic, "", false
	putTickets(t, w, ok, photo, tests, consent, quote, public)
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	w.Tick()
	audit := w.Last(w.Drain(), lead.Chat()).Text
	contains(t, audit, "2026-11 执行情况抽查（6 张工单）")
	flags := map[string]string{}
	for _, line := range strings.Split(audit, "\n") {
		if i := strings.Index(line, "BX-"); i >= 0 {
			flags[line[i:i+len("BX-20261110-0001")]] = line
		}
	}
	all := []string{"缺少「", "试验 ", "未记录入户同意", "报价未经住户同意"}
	for id, want := range map[string]string{
		ok.ID: "✅ 记录完整", photo.ID: "缺少「清扫与复位（拍照）」照片", tests.ID: "试验 2/3 次",
		consent.ID: "未记录入户同意", quote.ID: "报价未经住户同意", public.ID: "✅ 记录完整",
	} {
		line := flags[id]
		contains(t, line, want)
		for _, other := range all {
			if !strings.Contains(want, strings.TrimSuffix(other, " ")) && strings.Contains(line, other) {
				t.Errorf("%s is flagged %q too: %s", id, other, line)
			}
		}
	}
}

func TestExplicitComplaintTriggersReview(t *testing.T) {
	w := govWorld(t)
	id := w.Report(resident, "漏水")
	w.Cmd(resident, "complain", "")
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "请说明")
	w.Text(resident, "师傅迟到一个小时，态度不好")
	msgs := w.Drain()
	contains(t, w.Last(msgs, resident.Chat()).Text, "投诉已记录")
	if count(msgs, lead.Chat(), "师傅迟到一个小时") != 1 {
		t.Fatalf("lead not told: %+v", msgs)
	}
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		cs, _ := tx.Complaints()
		rs, _ := tx.Reviews()
		if len(cs) != 1 || cs[0].TicketID != id || len(rs) != 1 || rs[0].Trigger != "complaint" || rs[0].Tickets[0] != id {
			t.Errorf("complaints %+v reviews %+v", cs, rs)
		}
		return nil
	})
	w.Cmd(tech, "complain", "x")
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "供住户使用")
}
