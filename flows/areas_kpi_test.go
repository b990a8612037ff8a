package flows_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestAreasKPIPlaces: the KPIs keep each area's figures, and a building or
// a home is a place within its area — 3栋 of one estate is not 3栋 of
// another, for the by-building split and for the preventive hints.
func TestAreasKPIPlaces(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	acc := flows.NewKPI(flows.KPIOptions{From: from, To: from.AddDate(0, 1, 0)})
	add := func(id, area string, day int) {
		acc.Add(&flows.Ticket{ID: id, Area: area, State: flows.StateNew, Category: "door", Kind: flows.OrderHousehold,
			Building: "3栋", Unit: "2单元", Room: "1502", Created: from.AddDate(0, 0, day)}, nil)
	}
	// Three reports at 3栋 2单元 1502 of east make a repeat-home hint; the
	// two of west at the same address do not.
	add("BX-1", "east", 1)
	add("BX-2", "east", 2)
	add("BX-3", "east", 3)
	add("BX-4", "west", 4)
	add("BX-5", "west", 5)
	r := acc.Result()
	if len(r.Hints) != 1 || r.Hints[0].Area != "east" || len(r.Hints[0].Tickets) != 3 {
		t.Errorf("hints %+v, want one of east's three tickets", r.Hints)
	}
	if len(r.ByBuilding) != 2 {
		t.Fatalf("by building %+v, want 3栋 of each area", r.ByBuilding)
	}
	for i, want := range []struct {
		area string
		n    int
	}{{"east", 3}, {"west", 2}} {
		if g := r.ByBuilding[i]; g.Key != "3栋" || g.Label != "3栋" || g.Area != want.area || g.Reported != want.n {
			t.Errorf("building group %d: %+v, want 3栋 of %s with %d", i, g, want.area, want.n)
		}
	}
	if r.AreaTotals["east"].Reported != 3 || r.AreaTotals["west"].Reported != 2 || r.Total.Reported != 5 {
		t.Errorf("area totals %+v, total %d", r.AreaTotals, r.Total.Reported)
	}
}

// TestAreasStatsBreakdown: an admin's /stats (and its KPI workbook) is
// broken down by area — each area's figures, the buildings named with
// their area — and a lead's is their area's alone, without the breakdown.
func TestAreasStatsBreakdown(t *testing.T) {
	w := areaWorld(t)
	west3 := flowstest.Person{ID: 121, Name: "西住户二"}
	registerIn(w, west3, "west", "3栋")
	w.Report(eastRes, "东边漏水")
	w.Report(westRes, "西边漏水")
	w.Report(west3, "西边三栋漏水")
	w.Drain()
	w.Cmd(admin, "stats", "")
	msgs := w.Drain()
	got := w.LastText(msgs, admin.Chat()).Text
	for _, want := range []string{"按小区：东苑小区 1；西苑小区 2", "【东苑小区】报修 1 单", "【西苑小区】报修 2 单",
		"东苑小区·3栋 1", "西苑小区·3栋 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("the admin's /stats lacks %q:\n%s", want, got)
		}
	}
	var book *flows.Message
	for _, f := range flowstest.Files(msgs, admin.Chat()) {
		if f.Export != nil && f.Export.Form == flows.ExportKPI {
			book = &f
		}
	}
	if book == nil {
		t.Fatal("the admin's /stats sent no KPI workbook")
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Render(*book)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all strings.Builder
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for _, row := range rows {
			all.WriteString(strings.Join(row, "|") + "\n")
		}
	}
	for _, want := range []string{"按区域", "东苑小区|1", "西苑小区|2", "东苑小区 3栋|1", "西苑小区 3栋|1"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the admin's KPI workbook lacks %q:\n%s", want, all.String())
		}
	}

	w.Cmd(westLead, "stats", "")
	got = w.LastText(w.Drain(), westLead.Chat()).Text
	if !strings.Contains(got, "报修 2 单") || strings.Contains(got, "【") || strings.Contains(got, "西苑小区·") {
		t.Errorf("the west lead's /stats:\n%s", got)
	}
}

// TestAreasStatsOfALeadOfTwoAreas: a lead of two of three areas gets the
// admin's breakdown in /stats, the weekly report and the console's KPI
// page — a section per area they lead, none of the third — while a lead
// of one area sees their area's figures alone, as before.
func TestAreasStatsOfALeadOfTwoAreas(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		twoAreas(o)
		o.Areas = append(o.Areas, flows.Area{Key: "north", Names: map[flows.Lang]string{flows.LangZH: "北苑小区", flows.LangEN: "North Garden"},
			Group: flows.Address{Channel: "tg", Chat: "-100203"}, ServicePhone: "0571-3333"})
		o.Records.Weekly, o.Records.WeeklyDay, o.Records.WeeklyAt = true, time.Monday, 8*60+30
	}))
	northRes := flowstest.Person{ID: 130, Name: "北住户"}
	west3 := flowstest.Person{ID: 121, Name: "西住户二"}
	registerIn(w, eastRes, "east", "3栋")
	registerIn(w, westRes, "west", "8号楼")
	registerIn(w, west3, "west", "9号楼")
	registerIn(w, northRes, "north", "1号楼")
	staffIn(w, eastLead, "lead", "east")
	staffIn(w, westLead, "lead", "west")
	w.Cmd(admin, "area", "west leads "+westLead.PID()+" "+eastLead.PID()) // the east lead is west's too
	w.Drain()
	w.Report(eastRes, "东边漏水") // Friday 11-27
	w.Report(westRes, "西边漏水")
	w.Report(west3, "西边九号楼漏水")
	w.Report(northRes, "北边漏水")
	w.Tick() // schedules the weekly report
	w.Drain()

	twoAreas := []string{"按小区：东苑小区 1；西苑小区 2", "【东苑小区】报修 1 单", "【西苑小区】报修 2 单"}
	check := func(what, got string) {
		t.Helper()
		if !strings.Contains(got, "报修 3 单") {
			t.Errorf("%s: not the two areas' 3 tickets:\n%s", what, got)
		}
		for _, want := range twoAreas {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", what, want, got)
			}
		}
		if strings.Contains(got, "北苑") {
			t.Errorf("%s names the third area:\n%s", what, got)
		}
	}
	w.Cmd(eastLead, "stats", "")
	chat := w.LastText(w.Drain(), eastLead.Chat()).Text
	check("the two-area lead's /stats", chat)

	// The console's KPI page shows the very text.
	var console string
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, w.Opts.Location)
	if err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		p := person(t, w, eastLead)
		r, err := w.Eng.KPIReport(tx, p, from, time.Date(2026, 11, 28, 0, 0, 0, 0, w.Opts.Location))
		if err == nil {
			console = w.Eng.StatsText(r, p, flows.LangZH)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check("the two-area lead's console KPI page", console)

	w.Cmd(westLead, "stats", "")
	got := w.LastText(w.Drain(), westLead.Chat()).Text
	if !strings.Contains(got, "报修 2 单") || strings.Contains(got, "【") || strings.Contains(got, "按小区") {
		t.Errorf("the one-area lead's /stats:\n%s", got)
	}

	w.Cmd(admin, "stats", "")
	got = w.LastText(w.Drain(), admin.Chat()).Text
	for _, want := range []string{"报修 4 单", "按小区：东苑小区 1；西苑小区 2；北苑小区 1", "【北苑小区】报修 1 单"} {
		if !strings.Contains(got, want) {
			t.Errorf("the admin's /stats lacks %q:\n%s", want, got)
		}
	}

	// Monday's weekly report: the same sections.
	w.Now = time.Date(2026, 11, 30, 0, 31, 0, 0, time.UTC) // 08:31
	w.Tick()
	msgs := w.Drain()
	check("the two-area lead's weekly report", textTo(msgs, eastLead, "上周维修服务指标"))
	if got := textTo(msgs, westLead, "上周维修服务指标"); !strings.Contains(got, "报修 2 单") || strings.Contains(got, "【") {
		t.Errorf("the one-area lead's weekly report:\n%s", got)
	}
}
