package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestAreasScope: a lead sees their area's tickets in /open, /daily,
// /month and /stats, and the files those send cover their area
// (Export.Areas); the admin sees every area's, broken down by area.
func TestAreasScope(t *testing.T) {
	w := areaWorld(t)
	east := w.Report(eastRes, "东边漏水")
	west := w.Report(westRes, "西边漏水")
	w.Drain()
	var files []flows.Message
	answer := func(p flowstest.Person, cmd string) string {
		t.Helper()
		w.Cmd(p, cmd, "")
		msgs := w.Drain()
		files = flowstest.Files(msgs, p.Chat())
		return w.LastText(msgs, p.Chat()).Text
	}
	// exportsCover checks that every file of the last answer covers areas.
	exportsCover := func(cmd string, areas []string) {
		t.Helper()
		if len(files) == 0 {
			t.Errorf("/%s sent no file", cmd)
		}
		for _, f := range files {
			if f.Export == nil || fmt.Sprint(f.Export.Areas) != fmt.Sprint(areas) || (f.Export.Areas == nil) != (areas == nil) {
				t.Errorf("/%s's file %s covers %v, want %v", cmd, f.FileName, f.Export, areas)
			}
		}
	}
	for _, cmd := range []string{"open", "daily"} {
		for _, c := range []struct {
			who         flowstest.Person
			area        string
			sees, hides string
		}{{eastLead, "east", east, west}, {westLead, "west", west, east}} {
			got := answer(c.who, cmd)
			if !strings.Contains(got, c.sees) || strings.Contains(got, c.hides) {
				t.Errorf("/%s of %s: want %s and not %s in\n%s", cmd, c.who.Name, c.sees, c.hides, got)
			}
			if cmd == "daily" {
				exportsCover(cmd, []string{c.area})
			}
		}
		got := answer(admin, cmd)
		if !strings.Contains(got, east) || !strings.Contains(got, west) {
			t.Errorf("/%s of the admin misses an area:\n%s", cmd, got)
		}
		if cmd == "daily" {
			exportsCover(cmd, nil)
		}
	}
	if got := answer(admin, "open"); !strings.Contains(got, "按小区：东苑小区 1；西苑小区 1") {
		t.Errorf("the admin's /open has no breakdown by area:\n%s", got)
	}
	if got := answer(eastLead, "open"); strings.Contains(got, "按小区") {
		t.Errorf("a lead's /open is broken down by area:\n%s", got)
	}
	monthHas(t, w, answer(westLead, "month"), 1)
	exportsCover("month", []string{"west"})
	got := answer(admin, "month")
	monthHas(t, w, got, 2)
	exportsCover("month", nil)
	if !strings.Contains(got, "按小区：东苑小区 1；西苑小区 1") {
		t.Errorf("the admin's /month has no breakdown by area:\n%s", got)
	}
	// /stats: the KPIs of the lead's area (its charts and workbook too).
	got = answer(eastLead, "stats")
	if !strings.Contains(got, "报修 1 单") || strings.Contains(got, "按小区") {
		t.Errorf("the east lead's /stats:\n%s", got)
	}
	exportsCover("stats", []string{"east"})
	got = answer(admin, "stats")
	if !strings.Contains(got, "报修 2 单") || !strings.Contains(got, "按小区：东苑小区 1；西苑小区 1") {
		t.Errorf("the admin's /stats:\n%s", got)
	}
	exportsCover("stats", nil)
}

// TestAreasWeeklyReport: the weekly KPI report of an area's lead covers
// the area; the admin's every area, broken down by area.
func TestAreasWeeklyReport(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		twoAreas(o)
		o.Records.Weekly, o.Records.WeeklyDay, o.Records.WeeklyAt = true, time.Monday, 8*60+30
	}))
	registerIn(w, eastRes, "east", "3栋")
	registerIn(w, westRes, "west", "8号楼")
	staffIn(w, eastLead, "lead", "east")
	staffIn(w, westLead, "lead", "west")
	w.Report(eastRes, "东边漏水")
	w.Report(westRes, "西边漏水")
	w.Report(westRes, "西边又漏水")
	w.Tick()
	w.Drain()
	w.Now = time.Date(2026, 11, 30, 0, 31, 0, 0, time.UTC) // Monday 08:31
	w.Tick()
	msgs := w.Drain()
	for _, c := range []struct {
		who   flowstest.Person
		n     int
		areas string
	}{{eastLead, 1, "[east]"}, {westLead, 2, "[west]"}, {admin, 3, "[]"}} {
		var head *flows.Message
		for _, m := range flowstest.To(msgs, c.who.Chat()) {
			if strings.Contains(m.Text, "上周维修服务指标") {
				head = &m
			}
		}
		if head == nil {
			t.Fatalf("%s has no weekly report", c.who.Name)
		}
		if want := fmt.Sprintf("报修 %d 单", c.n); !strings.Contains(head.Text, want) {
			t.Errorf("%s's weekly report: want %q in\n%s", c.who.Name, want, head.Text)
		}
		if broken := strings.Contains(head.Text, "按小区：东苑小区 1；西苑小区 2"); broken != (c.who == admin) {
			t.Errorf("%s's weekly report broken down by area: %v\n%s", c.who.Name, broken, head.Text)
		}
		for _, f := range flowstest.Files(msgs, c.who.Chat()) {
			if f.Export == nil || fmt.Sprint(f.Export.Areas) != c.areas {
				t.Errorf("%s's weekly file %s covers %v, want %s", c.who.Name, f.FileName, f.Export, c.areas)
			}
		}
	}
}

// monthHas checks the month report's count of reported tickets.
func monthHas(t *testing.T, w *flowstest.World, report string, n int) {
	t.Helper()
	want := w.Opts.Texts.T(flows.LangZH, "month.reported", "n", n, "household", n, "public", 0, "emergencies", 0)
	if !strings.Contains(report, want) {
		t.Errorf("month report: want %q in\n%s", want, report)
	}
}

// TestAreasScopedButtons: a lead of another area is refused on a
// technician's handover and duty, the admin is not.
func TestAreasScopedButtons(t *testing.T) {
	w := areaWorld(t)
	day := w.Now.In(w.Opts.Location).Format("20060102")
	for _, data := range []string{
		flows.EncodePayload("du", eastTech.PID(), "on"),
		flows.EncodePayload("sx", eastTech.PID()),
		flows.EncodePayload("sr", eastTech.PID(), "lead"),
	} {
		w.Refused(w.Tap(westLead, data, false), "您不负责东苑小区")
		w.Drain()
	}
	// A submitted handover goes to the technician's area lead, whom
	// the other area's lead cannot stand in for.
	w.Tick() // schedules today's handover
	id := w.Report(eastRes, "漏水")
	w.Expect(w.Tap(eastTech, flows.EncodePayload("acc", id), true))
	w.Drain()
	w.Now = w.Now.Add(7 * time.Hour)
	w.Tick()
	w.Drain()
	w.Tap(eastTech, flows.EncodePayload("hs", day), false)
	msgs := w.Drain()
	if len(To(msgs, eastLead.Chat())) != 1 || len(To(msgs, westLead.Chat())) != 0 || len(To(msgs, admin.Chat())) != 1 {
		t.Fatalf("the handover went to east's lead %d, west's %d, the admin %d; want 1, 0, 1",
			len(To(msgs, eastLead.Chat())), len(To(msgs, westLead.Chat())), len(To(msgs, admin.Chat())))
	}
	w.Refused(w.Tap(westLead, flows.EncodePayload("hv", day, eastTech.PID(), "ok"), false), "您不负责东苑小区")
	w.Expect(w.Tap(eastLead, flows.EncodePayload("hv", day, eastTech.PID(), "ok"), false))
}
