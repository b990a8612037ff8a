package flows_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// putTickets writes tickets straight into the store, as months of history.
func putTickets(t *testing.T, w *flowstest.World, ts ...*flows.Ticket) {
	t.Helper()
	err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		for _, tk := range ts {
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// historyTicket is a closed ticket reported at created (UTC) and accepted,
// arrived and finished the given minutes after it.
func historyTicket(id, created, category, room, who string, acc, arr, fix, score, reworks int) *flows.Ticket {
	c := *at(created)
	a, r, f := c.Add(time.Duration(acc)*time.Minute), c.Add(time.Duration(arr)*time.Minute), c.Add(time.Duration(arr+fix)*time.Minute)
	closed := f.Add(time.Hour)
	return &flows.Ticket{ID: id, State: flows.StateClosed, Category: category, Kind: flows.OrderHousehold,
		ResidentID: resident.PID(), Building: "3栋", Unit: "2单元", Room: room,
		AssigneeID: "tg:" + who, Assignee: "师傅" + who, Score: score, Reworks: reworks,
		Created: c, Updated: closed, Accepted: &a, Arrived: &r, Finished: &f, Closed: &closed}
}

func TestMonthReport(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	w.Drain()
	leak := historyTicket("BX-20261103-0001", "2026-11-03T01:00:00Z", "water", "1502", "7", 2, 30, 60, 5, 0)
	leak.Emergency = "water_leak"
	public := historyTicket("BX-20261104-0001", "2026-11-04T01:00:00Z", "electricity", "大堂", "7", 10, 40, 20, 4, 0)
	public.Kind = flows.OrderPublic
	breached := historyTicket("BX-20261105-0001", "2026-11-05T01:00:00Z", "water", "1502", "8", 50, 120, 90, 2, 1)
	breached.Breaches = []string{"accept"}
	cancelled := &flows.Ticket{ID: "BX-20261106-0001", State: flows.StateCancelled, Category: "door", Kind: flows.OrderHousehold,
		ResidentID: resident.PID(), Building: "3栋", Unit: "2单元", Room: "1502", Created: *at("2026-11-06T01:00:00Z"), Updated: *at("2026-11-06T02:00:00Z")}
	// October's ticket closed in November counts in October, not here.
	october := historyTicket("BX-20261031-0001", "2026-10-31T10:00:00Z", "water", "1502", "8", 5, 20, 30, 5, 0)
	october.Updated, october.Closed = *at("2026-11-01T03:00:00Z"), at("2026-11-01T03:00:00Z")
	reported := *october
	reported.State, reported.Updated, reported.Closed = flows.StateNew, reported.Created, nil
	putTickets(t, w, &reported) // as it was on the day it was reported
	putTickets(t, w, leak, public, breached, cancelled, october)
	// One more reported today through the bot, still open.
	open := w.Report(resident, "灯不亮")

	res := w.Cmd(lead, "month", "")
	w.Expect(res)
	got := w.LastText(w.Drain(), lead.Chat()).Text
	for _, want := range []string{
		"📊 维修月报 2026-11",
		"报修 5 单：有偿 4，公共 1，其中紧急 1",
		"已完成 3，已取消 1，未完成 1",
		"接单用时：中位 10 分钟，90% 在 50 分钟内",
		"到场用时：中位 40 分钟，90% 在 120 分钟内",
		"修复用时（到场→完工）：中位 60 分钟，90% 在 90 分钟内",
		"紧急报修按时接单：100.0%（1/1）",
		"一次修好率：66.7%（返工 1 单）",
		"满意度：平均 3.67 分（3 单评价），差评（≤2 分）1 单",
		"超时（SLA）工单：1 单",
		"水管/漏水 3（60.0%）；门窗/门锁 1（20.0%）；电路/停电 1（20.0%）",
		"重复报修（同一地点同一类别 ≥ 2 次）：1 处",
		"3栋 / 2单元 / 1502｜水管/漏水｜3 次",
		"师傅7：2 单，平均 4.50 分，返工 0",
		"师傅8：1 单，平均 2.00 分，返工 1",
	} {
		contains(t, got, want)
	}
	if strings.Contains(got, "BX-20261031") || strings.Contains(got, open) {
		t.Fatalf("the report lists tickets by id: %s", got)
	}

	// October: one ticket, found although it changed again in November.
	w.Expect(w.Cmd(lead, "month", "2026-10"))
	oct := w.LastText(w.Drain(), lead.Chat()).Text
	contains(t, oct, "报修 1 单")
	contains(t, oct, "重复报修：无")
	w.Expect(w.Cmd(lead, "month", "202609"))
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "本月没有报修记录")

	// English for a lead who reads English.
	w.Expect(w.Cmd(lead, "lang", "en"))
	w.Drain()
	w.Expect(w.Cmd(lead, "month", "2026-11"))
	en := w.LastText(w.Drain(), lead.Chat()).Text
	contains(t, en, "Monthly repair report 2026-11")
	contains(t, en, "First-time fix rate: 66.7% (1 reworked)")

	// Who may not, and what is not a month.
	refused := func(p flowstest.Person, arg, want string) {
		t.Helper()
		w.Cmd(p, "month", arg)
		contains(t, w.LastText(w.Drain(), p.Chat()).Text, want)
	}
	refused(resident, "", "没有 /month 这个命令") // a staff command does not exist for residents
	refused(tech, "", "只有主管")
	refused(lead, "November", "Usage: /month")
	refused(lead, "2026-13", "Usage: /month")
	refused(lead, "2027-01", "has not started")
}

// TestMonthAuditSampleStreams: the monthly audit keeps the same sample it
// would pick from a sorted list, now chosen while streaming the month.
func TestMonthAuditSampleStreams(t *testing.T) {
	w := emergencyWorld(t)
	var ts []*flows.Ticket
	for i := 1; i <= 40; i++ {
		tk := historyTicket(fmt.Sprintf("BX-20261102-%04d", i), "2026-11-02T01:00:00Z", "water", fmt.Sprint(100+i), "7", 5, 20, 30, 5, 0)
		tk.Visit = &flows.Visit{Tests: 3, Entry: "resident", QuoteOK: true}
		if i%2 == 0 {
			tk.Visit.Tests = 1
		}
		ts = append(ts, tk)
	}
	putTickets(t, w, ts...)
	w.Tick()                                             // schedules November's audit
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 Shanghai on the 1st
	w.Tick()
	var audit string
	for _, m := range w.Drain() {
		if m.To == lead.Chat() && strings.Contains(m.Text, "2026-11") && strings.Contains(m.Text, "BX-20261102-") {
			audit = m.Text
		}
	}
	if audit == "" {
		t.Fatal("no audit for November")
	}
	lines := strings.Count(audit, "BX-20261102-")
	if lines != w.Opts.Governance.AuditCount {
		t.Fatalf("audit lists %d tickets, want %d:\n%s", lines, w.Opts.Governance.AuditCount, audit)
	}
}

// TestOpenPages: with more open tickets than one message holds, /open
// answers with a summary by state and the oldest page, and pages on.
func TestOpenPages(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Staff(tech, "technician")
	w.Drain()
	var ts []*flows.Ticket
	for i := 0; i < 65; i++ {
		c := w.Now.Add(-time.Duration(100-i) * time.Hour)
		tk := &flows.Ticket{ID: fmt.Sprintf("BX-20261120-%04d", i+1), State: flows.StateNew, Category: "water",
			Building: "3栋", Unit: "2单元", Room: "1502", Created: c, Updated: c}
		if i%5 == 0 {
			tk.State, tk.AssigneeID, tk.Assignee = flows.StateAccepted, tech.PID(), "张师傅"
		}
		ts = append(ts, tk)
	}
	putTickets(t, w, ts...)
	w.Expect(w.Cmd(lead, "open", ""))
	firstMsg := w.Last(w.Drain(), lead.Chat())
	first := firstMsg.Text
	contains(t, first, "未完成工单（65）")
	contains(t, first, "待接单 52；已接单 13")
	contains(t, first, "BX-20261120-0001")
	contains(t, first, "BX-20261120-0030")
	contains(t, first, "第 1/3 页（最早的在前）。下一页：/open 2")
	if strings.Contains(first, "BX-20261120-0031") || len([]rune(first)) > 4000 {
		t.Fatalf("page 1 runs over (%d chars): %s", len([]rune(first)), first)
	}
	// The buttons page on, and run /open as the person who taps them.
	w.Expect(w.Tap(lead, w.ButtonData(firstMsg, "下一页"), false))
	page2 := w.Last(w.Drain(), lead.Chat())
	contains(t, page2.Text, "第 2/3 页")
	contains(t, page2.Text, "BX-20261120-0031")
	if w.ButtonData(page2, "上一页") == "" {
		t.Fatal("page 2 has no way back")
	}
	w.Refused(w.Tap(tech, w.ButtonData(page2, "下一页"), false), "只有主管")
	w.Expect(w.Cmd(lead, "open", "3"))
	lastMsg := w.Last(w.Drain(), lead.Chat())
	last := lastMsg.Text
	for _, row := range lastMsg.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, "下一页") {
				t.Fatal("the last page offers a next page")
			}
		}
	}
	contains(t, last, "BX-20261120-0065")
	contains(t, last, "第 3/3 页，已是最后一页")
	if strings.Contains(last, "BX-20261120-0060") {
		t.Fatalf("page 3 repeats page 2: %s", last)
	}
	for arg, want := range map[string]string{"4": "共 3 页", "0": "用法：/open", "x": "用法：/open"} {
		w.Cmd(lead, "open", arg)
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, want)
	}
}

// spyStore counts month-long scans in write and in read transactions.
type spyStore struct {
	flows.Store
	inWrite, inRead *int
}

type spyTx struct {
	flows.Tx
	n *int
}

func (t spyTx) EachTicketTouched(from, to time.Time, fn func(*flows.Ticket) error) error {
	if to.Sub(from) > 7*24*time.Hour { // a month, not a day's handover
		*t.n++
	}
	return t.Tx.EachTicketTouched(from, to, fn)
}

func (s spyStore) Update(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.Update(ctx, func(tx flows.Tx) error { return fn(spyTx{tx, s.inWrite}) })
}

func (s spyStore) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.Batch(ctx, func(tx flows.Tx) error { return fn(spyTx{tx, s.inWrite}) })
}

func (s spyStore) View(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.View(ctx, func(tx flows.Tx) error { return fn(spyTx{tx, s.inRead}) })
}

// spyEngine is a second engine on w's store that counts month-long scans
// in write and in read transactions.
func spyEngine(t *testing.T, w *flowstest.World) (eng *flows.Engine, inWrite, inRead *int) {
	t.Helper()
	inWrite, inRead = new(int), new(int)
	opts := w.Opts
	opts.Store = spyStore{Store: w.Store, inWrite: inWrite, inRead: inRead}
	eng, err := flows.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng, inWrite, inRead
}

// TestMonthReadsOutsideTheWriter: /month's scan runs in a read transaction
// before the event's write transaction, so bbolt's single writer is not
// held for the length of a month's read; a refused /month reads nothing.
func TestMonthReadsOutsideTheWriter(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Register(resident, "13800138000")
	w.Drain()
	putTickets(t, w, historyTicket("BX-20261103-0001", "2026-11-03T01:00:00Z", "water", "1502", "7", 2, 30, 60, 5, 0))
	eng, inWrite, inRead := spyEngine(t, w)
	ask := func(p flowstest.Person, key string) {
		t.Helper()
		ev := flows.Event{Key: key, Kind: flows.EvCommand, Command: "month", At: w.Now,
			From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: "zh-hans"}, Chat: p.Chat()}
		if _, err := eng.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	ask(lead, "spy:1")
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("month scans: %d in read transactions, %d in the write one", *inRead, *inWrite)
	}
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "报修 1 单")
	ask(resident, "spy:2")
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("a refused /month scanned: %d read, %d write", *inRead, *inWrite)
	}
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "没有 /month 这个命令")
}

// TestAuditReadsOutsideTheWriter: the monthly audit's scan runs in a read
// transaction before the tick's write transaction.
func TestAuditReadsOutsideTheWriter(t *testing.T) {
	w := emergencyWorld(t)
	tk := historyTicket("BX-20261102-0001", "2026-11-02T01:00:00Z", "water", "101", "7", 5, 20, 30, 5, 0)
	tk.Visit = &flows.Visit{Tests: 1, Entry: "resident", QuoteOK: true}
	putTickets(t, w, tk)
	w.Tick() // schedules November's audit
	eng, inWrite, inRead := spyEngine(t, w)
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	if _, err := eng.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("audit scans: %d in read transactions, %d in the write one", *inRead, *inWrite)
	}
	found := false
	for _, m := range w.Drain() {
		found = found || (m.To == lead.Chat() && strings.Contains(m.Text, "BX-20261102-0001"))
	}
	if !found {
		t.Fatal("the audit did not reach the lead")
	}
}
