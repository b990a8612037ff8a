package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// loadKPIFixture writes the KPI fixture (kpi_test.go) into w's store: the
// tickets and their audit trails, as the bot would have left them.
func loadKPIFixture(t *testing.T, w *flowstest.World) {
	t.Helper()
	err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		for _, c := range kpiFixture() {
			tk := *c.t
			tk.Updated = tk.Created
			if err := tx.PutTicket(&tk); err != nil {
				return err
			}
			for _, e := range c.ev {
				if err := tx.AppendTicketEvent(tk.ID, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatsCommand: /stats 2026-11 on the KPI fixture answers with the
// numbers worked out by hand in TestKPIFixture, then the two charts (from
// the same figures) and the KPI workbook.
func TestStatsCommand(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Drain()
	loadKPIFixture(t, w)
	w.Expect(w.Cmd(lead, "stats", "2026-11"))
	msgs := flowstest.To(w.Drain(), lead.Chat())
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want the summary, two charts and the workbook", len(msgs))
	}
	text := msgs[0].Text
	for _, want := range []string{
		"📊 维修服务指标 期间：2026-11-01 至 2026-11-27",
		// T1..T6 and T9; T0 is October, T8 December.
		"报修 7 单（住户 6，公共 1，紧急 1）；已关闭 4，未完成 1，取消 1",
		"接单用时：平均 14.0 分钟，中位 10.0，90% 以内 30.0（6 单）",
		"到场用时：平均 49.8 分钟，中位 40.0，90% 以内 90.0（4 单）",
		"维修用时：平均 48.0 分钟，中位 60.0，90% 以内 60.0（5 单）",
		// SLA 4/6, FTF 3/5, two reworks in five, callbacks T3 held and T5 not held.
		"按时率 66.7%；一次修好率 60.0%；返工率 40.0%；回访修复有效率 50.0%",
		"满意度 3.50（4 单评分，满意率 50.0%，低分 1 单）",
		"有偿收费 ¥80.00（1 单）；配件成本 ¥0.00（0 单）",
		"重复报修 1 单",
		"报修最多的类别：水管/漏水 4",
		"接单最多的维修人员：师傅甲 3 单（3.67 分）",
		// The riser hint needs October's T0 (603), which only the look-back over the briefs sees.
		"3栋 2单元 03 号位立管",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	for i, form := range []string{flows.ExportChartCategory, flows.ExportChartAccept} {
		m := msgs[1+i]
		if m.Kind != flows.KindPhoto || m.Export == nil || m.Export.Form != form || m.Export.KPI == nil {
			t.Fatalf("chart %d: %+v", i, m)
		}
		fig := m.Export.KPI
		if len(fig.ByCategory) != 4 || fig.ByCategory[0].Key != "water" || fig.ByCategory[0].Reported != 4 || len(fig.Days) != 27 {
			t.Errorf("chart %d figures: %d categories (%+v), %d days", i, len(fig.ByCategory), fig.ByCategory[0], len(fig.Days))
		}
		if len(fig.ByTechnician) != 0 {
			t.Errorf("chart %d carries the technicians' groups", i)
		}
	}
	book := msgs[3]
	if book.Kind != flows.KindFile || book.Export == nil || book.Export.Form != flows.ExportKPI ||
		!book.Export.From.Equal(*at("2026-10-31T16:00:00Z")) || !book.Export.To.Equal(*at("2026-11-27T16:00:00Z")) {
		t.Fatalf("workbook %+v", book.Export)
	}
}

// TestStatsPeriods: week, month and a named month; a bad or future month
// is refused with the usage.
func TestStatsPeriods(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Drain()
	for _, c := range []struct {
		arg, want string
	}{
		{"", "期间：2026-11-01 至 2026-11-27"},
		{"month", "期间：2026-11-01 至 2026-11-27"},
		{"week", "期间：2026-11-21 至 2026-11-27"},
		{"2026-10", "期间：2026-10-01 至 2026-10-31"},
		{"2026/09", "期间：2026-09-01 至 2026-09-30"},
		{"2026-13", "用法：/stats"},
		{"yesterday", "用法：/stats"},
		{"2027-01", "这个月还没有开始。用法：/stats"},
	} {
		t.Run(c.arg, func(t *testing.T) {
			w.Cmd(lead, "stats", c.arg)
			contains(t, w.LastText(w.Drain(), lead.Chat()).Text, c.want)
		})
	}
	// An empty period says so and sends no charts.
	w.Cmd(lead, "stats", "2026-10")
	if msgs := flowstest.To(w.Drain(), lead.Chat()); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "没有报修记录") {
		t.Fatalf("empty period: %+v", msgs)
	}
}

type reportedSpy struct {
	flows.Tx
	n *int
}

// EachTicketReported counts the walks of a period (with trails; the
// hints' look-back is another, lighter walk).
func (t reportedSpy) EachTicketReported(from, to time.Time, trails bool, fn func(flows.TicketBrief) error) error {
	if trails {
		*t.n++
	}
	return t.Tx.EachTicketReported(from, to, trails, fn)
}

type reportedSpyStore struct {
	flows.Store
	inWrite, inRead *int
}

func (s reportedSpyStore) Update(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.Update(ctx, func(tx flows.Tx) error { return fn(reportedSpy{tx, s.inWrite}) })
}

func (s reportedSpyStore) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.Batch(ctx, func(tx flows.Tx) error { return fn(reportedSpy{tx, s.inWrite}) })
}

func (s reportedSpyStore) View(ctx context.Context, fn func(flows.Tx) error) error {
	return s.Store.View(ctx, func(tx flows.Tx) error { return fn(reportedSpy{tx, s.inRead}) })
}

// TestStatsReadsOutsideTheWriter: /stats walks its period in a read
// transaction before the write one, and the weekly report ahead of the
// tick's; a refused /stats reads nothing.
func TestStatsReadsOutsideTheWriter(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		o.Records.Weekly, o.Records.WeeklyDay, o.Records.WeeklyAt = true, time.Monday, 8*60+30
	}))
	w.Staff(lead, "lead")
	w.Register(resident, "13800138000")
	w.Drain()
	loadKPIFixture(t, w)
	inWrite, inRead := new(int), new(int)
	opts := w.Opts
	opts.Store = reportedSpyStore{Store: w.Store, inWrite: inWrite, inRead: inRead}
	eng, err := flows.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(p flowstest.Person, key string) {
		t.Helper()
		ev := flows.Event{Key: key, Kind: flows.EvCommand, Command: "stats", Text: "2026-11", At: w.Now,
			From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: "zh-hans"}, Chat: p.Chat()}
		if _, err := eng.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	ask(lead, "spy:1")
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("/stats walks: %d in read transactions, %d in the write one", *inRead, *inWrite)
	}
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "报修 7 单")
	ask(resident, "spy:2")
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("a refused /stats walked: %d read, %d write", *inRead, *inWrite)
	}
	// The weekly report: scheduled by a tick, walked ahead of the tick that fires it.
	if _, err := eng.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Now = time.Date(2026, 11, 30, 0, 31, 0, 0, time.UTC) // Monday 08:31 Shanghai
	*inRead, *inWrite = 0, 0
	if _, err := eng.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if *inRead != 1 || *inWrite != 0 {
		t.Fatalf("weekly report walks: %d read, %d write", *inRead, *inWrite)
	}
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "上周维修服务指标 期间：2026-11-23 至 2026-11-29")
}

// TestWeeklyReport: on Monday morning every lead (and admin) gets last
// week's report with its charts and workbook, once, even across a restart
// between scheduling and firing; the week is Monday to Sunday.
func TestWeeklyReport(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		o.Records.Weekly, o.Records.WeeklyDay, o.Records.WeeklyAt = true, time.Monday, 8*60+30
	}))
	w.Staff(lead, "lead")
	w.Register(resident, "13800138000")
	w.Drain()
	id := w.Report(resident, "水管漏水") // Friday 11-27, in the week 11-23..11-29
	w.Tick()
	w.Now = w.Now.Add(time.Hour) // past its acceptance deadline: the leads are told now, not on Monday
	w.Tick()
	w.Drain()
	w.Reopen()
	w.Now = time.Date(2026, 11, 30, 0, 29, 0, 0, time.UTC) // 08:29: not yet
	w.Tick()
	if n := len(flowstest.To(w.Drain(), lead.Chat())); n != 0 {
		t.Fatalf("%d messages to the lead before the report's time", n)
	}
	w.Now = w.Now.Add(2 * time.Minute)
	w.Tick()
	msgs := w.Drain()
	for _, p := range []flowstest.Person{lead, admin} {
		got := flowstest.To(msgs, p.Chat())
		for len(got) > 0 && !strings.Contains(got[0].Text, "上周维修服务指标") {
			got = got[1:] // Friday's end-of-day messages, due since
		}
		if len(got) != 4 || !strings.Contains(got[0].Text, "上周维修服务指标 期间：2026-11-23 至 2026-11-29") ||
			!strings.Contains(got[0].Text, "报修 1 单") || len(flowstest.Files(got, p.Chat())) != 3 {
			t.Fatalf("%s got %d messages: %+v", p.Name, len(got), got)
		}
	}
	w.Now = w.Now.Add(time.Hour)
	w.Tick()
	if n := len(flowstest.To(w.Drain(), lead.Chat())); n != 0 {
		t.Fatalf("the weekly report came twice (%d more)", n)
	}
	_ = id
}
