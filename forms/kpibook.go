package forms

import (
	"fmt"
	"io"
	"sort"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// KPIBook is the KPI workbook: a sheet of numbers (the total, by
// category, building and technician, the percentiles, the preventive
// hints), a sheet listing every ticket of the period with its own KPI
// values (streamed), and optionally the report's charts. Feed it the same
// walk as the KPI accumulator, then Write with the accumulator's result.
type KPIBook struct {
	o       Options
	k       flows.KPIOptions
	f       *excelize.File
	st      *styles
	summary string
	tb      *table
	n       int
	err     error
}

// kpiTicketCols are the ticket sheet's columns; the durations are minutes.
var kpiTicketCols = []struct {
	key   string
	width float64
}{
	{"forms.log.ticket", 17}, {"forms.log.reported", 16}, {"forms.daily.category", 12}, {"forms.log.address", 16},
	{"", 10}, {"forms.daily.state", 12}, {"forms.kpi.accept", 9}, {"forms.kpi.arrive", 9}, {"forms.kpi.repair", 9},
	{"forms.kpi.resolve", 10}, {"forms.kpi.close", 10}, {"forms.kpi.sla", 8}, {"forms.field.reworks", 7},
	{"forms.field.score", 7}, {"forms.kpi.quote", 10}, {"forms.kpi.parts", 10},
}

// NewKPIBook starts the workbook for the period of k (the options given
// to flows.NewKPI; its PartsCost fills the parts column).
func NewKPIBook(o Options, k flows.KPIOptions) (*KPIBook, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if k.Location == nil {
		k.Location = o.Location
	}
	f := excelize.NewFile()
	b := &KPIBook{o: o, k: k, f: f}
	st, err := newStyles(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	b.st = st
	b.summary = sheetName(o.t("forms.kpi.sheet_summary"))
	if err := f.SetSheetName("Sheet1", b.summary); err != nil {
		_ = f.Close()
		return nil, err
	}
	list := sheetName(o.t("forms.kpi.sheet_tickets"))
	if _, err := f.NewSheet(list); err != nil {
		_ = f.Close()
		return nil, err
	}
	title := o.title("forms.title.kpi")
	spec := tableSpec{sheet: list, landscape: true, footCode: title, footPage: o.pageFooter(), org: o.OrgName,
		title: o.t("forms.kpi.sheet_tickets"), metaL: title, metaR: o.period(k.From, k.To), freezeBelowHead: true,
		numeric: map[int]int{6: st.num, 7: st.num, 8: st.num, 9: st.num, 10: st.num, 12: st.int, 13: st.int, 14: st.money, 15: st.money}}
	for _, c := range kpiTicketCols {
		h := o.role(flows.RoleTechnician)
		if c.key != "" {
			h = o.t(c.key)
		}
		spec.head = append(spec.head, h)
		spec.widths = append(spec.widths, c.width)
	}
	if b.tb, err = newTable(f, st, spec); err != nil {
		_ = f.Close()
		return nil, err
	}
	_ = f.SetDocProps(&excelize.DocProperties{Title: title + " " + spec.metaR, Creator: o.OrgName})
	return b, nil
}

// Add lists one ticket if it was reported in the period (others are skipped).
func (b *KPIBook) Add(t *flows.Ticket, events []flows.TicketEvent) error {
	parts, partsOK := int64(0), false
	if b.k.PartsCost != nil && !t.Created.Before(b.k.From) && t.Created.Before(b.k.To) {
		parts, partsOK = b.k.PartsCost(t, events)
	}
	return b.add(t, flows.TicketKPI(t, events), t.AgreedQuoteCents(), parts, partsOK)
}

// AddBrief lists one ticket from its brief and folded trail (what
// flows.WalkKPI hands out without reading the ticket).
func (b *KPIBook) AddBrief(br flows.TicketBrief) error {
	t := br.Ticket()
	parts, partsOK := int64(0), false
	if b.k.PartsCost != nil && !t.Created.Before(b.k.From) && t.Created.Before(b.k.To) {
		parts, partsOK = b.k.PartsCost(t, nil)
	}
	return b.add(t, flows.TimesOf(t, br.Trail), br.Quote, parts, partsOK)
}

// Each is the workbook's feed for flows.WalkKPI: the ticket and its
// events when the walk read them, else the brief.
func (b *KPIBook) Each(br flows.TicketBrief, t *flows.Ticket, events []flows.TicketEvent) error {
	if t != nil {
		return b.Add(t, events)
	}
	return b.AddBrief(br)
}

func (b *KPIBook) add(t *flows.Ticket, tt flows.TicketTimes, quote, partsCents int64, partsOK bool) error {
	if b.err != nil || t.Created.Before(b.k.From) || !t.Created.Before(b.k.To) {
		return b.err
	}
	o := &b.o
	b.n++
	d, ok := tt.Spans()
	none := o.t("forms.value.none")
	row := []any{t.ID, o.stamp(t.Created), o.category(t.Category), address(t), t.Assignee, o.state(t.State)}
	for i := range d {
		if ok[i] {
			row = append(row, d[i].Minutes())
		} else {
			row = append(row, none)
		}
	}
	sla := none
	if met, decided := tt.SLAMet(); decided && met {
		sla = o.t("forms.kpi.sla_met")
	} else if decided {
		sla = o.t("forms.kpi.sla_breached")
	}
	row = append(row, sla, tt.Reworks)
	if tt.Score > 0 {
		row = append(row, tt.Score)
	} else {
		row = append(row, none)
	}
	if quote > 0 {
		row = append(row, yuan(quote))
	} else {
		row = append(row, none)
	}
	parts := any(none)
	if partsOK {
		parts = yuan(partsCents)
	}
	b.err = b.tb.add(append(row, parts))
	return b.err
}

// Rows is the number of tickets listed so far.
func (b *KPIBook) Rows() int { return b.n }

// Write fills the numbers from r (the accumulator's result for the same
// period), adds the chart images (PNG) on their own sheet, writes the
// workbook to w and releases it.
func (b *KPIBook) Write(w io.Writer, r *flows.KPIReport, charts ...[]byte) error {
	if b.f == nil {
		return fmt.Errorf("forms: KPI workbook already written")
	}
	defer b.Close()
	if b.err != nil {
		return b.err
	}
	if r == nil {
		return fmt.Errorf("forms: no KPI report")
	}
	o := &b.o
	if err := b.tb.line(o.t("forms.count", "n", b.n)+"　"+o.t("forms.generated", "time", o.stamp(o.Now)), b.st.foot, 18); err != nil {
		return err
	}
	if err := b.tb.finish(); err != nil {
		return err
	}
	if err := b.numbers(r); err != nil {
		return err
	}
	if len(charts) > 0 {
		if err := b.images(charts); err != nil {
			return err
		}
	}
	f := b.f
	b.f = nil
	return writeFile(f, w)
}

// Close releases the workbook's temporary files; safe after Write.
func (b *KPIBook) Close() error {
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	return err
}

// maxHints bounds the hints listed in the workbook (most tickets first).
const maxHints = 30

// kpiHead are the summary columns after the group's name.
var kpiHead = []string{"forms.kpi.reported", "forms.kpi.resolved", "forms.kpi.open", "forms.kpi.accept", "forms.kpi.arrive",
	"forms.kpi.repair", "forms.kpi.resolve", "forms.kpi.close", "forms.kpi.sla", "forms.kpi.ftf", "forms.kpi.rework",
	"forms.kpi.score", "forms.kpi.satisfied", "forms.kpi.held", "forms.kpi.quote", "forms.kpi.parts"}

// numbers fills the summary sheet.
func (b *KPIBook) numbers(r *flows.KPIReport) error {
	o, st, f, sh := &b.o, b.st, b.f, b.summary
	g := &grid{f: f, sheet: sh, st: st}
	last, _ := excelize.ColumnNumberToName(len(kpiHead) + 1)
	if err := f.SetColWidth(sh, "A", "A", 16); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "B", last, 9.5); err != nil {
		return err
	}
	full := func(text string, style int, h float64) {
		g.merge(cell("A", g.row), cell(last, g.row), style)
		g.set(cell("A", g.row), text, style)
		g.height(h)
		g.row++
	}
	g.row = 1
	full(o.OrgName, st.org, 20)
	full(o.title("forms.title.kpi"), st.title, 30)
	full(o.period(r.From, r.To)+"　"+o.t("forms.generated", "time", o.stamp(o.Now)), st.meta, 18)
	full(o.t("forms.kpi.definitions"), st.foot, 16)
	none := o.t("forms.value.none")
	value := func(v float64, ok bool) any {
		if !ok {
			return none
		}
		return v
	}
	header := func(first string) {
		g.set(cell("A", g.row), first, st.header)
		for i, k := range kpiHead {
			col, _ := excelize.ColumnNumberToName(i + 2)
			g.set(cell(col, g.row), o.t(k), st.header)
		}
		g.height(30)
		g.row++
	}
	statsRow := func(name string, s *flows.KPIStats) {
		g.set(cell("A", g.row), name, st.label)
		vals := []any{s.Reported, s.Resolved, s.Open}
		for i := range s.Times {
			vals = append(vals, value(s.Times[i].MeanMinutes()))
		}
		vals = append(vals, value(s.SLACompliance()), value(s.FirstTimeFix()), value(s.ReworkRate()), value(s.MeanScore()),
			value(s.SatisfiedShare()), value(s.FixHeld()), yuan(s.QuoteCents))
		if r.PartsTracked {
			vals = append(vals, yuan(s.PartsCents))
		} else {
			vals = append(vals, none)
		}
		for i, v := range vals {
			col, _ := excelize.ColumnNumberToName(i + 2)
			style := st.num
			switch v.(type) {
			case int:
				style = st.int
			case string:
				style = st.cell
			}
			if i >= len(vals)-2 {
				if _, ok := v.(float64); ok {
					style = st.money
				}
			}
			g.set(cell(col, g.row), v, style)
		}
		g.height(18)
		g.row++
	}
	g.row++
	header(o.t("forms.kpi.group"))
	statsRow(o.t("forms.kpi.total"), &r.Total)
	for _, sec := range []struct {
		key    string
		groups []flows.KPIGroup
		label  func(flows.KPIGroup) string
	}{
		{"forms.kpi.by_area", o.areaGroups(r), func(gr flows.KPIGroup) string { return o.AreaName(gr.Key) }},
		{"forms.kpi.by_category", r.ByCategory, func(gr flows.KPIGroup) string { return o.category(gr.Key) }},
		{"forms.kpi.by_building", r.ByBuilding, func(gr flows.KPIGroup) string { return o.inArea(r, gr.Area, gr.Label) }},
		{"forms.kpi.by_technician", r.ByTechnician, func(gr flows.KPIGroup) string { return gr.Label }},
		{"forms.kpi.by_fault", r.ByFault, func(gr flows.KPIGroup) string { return o.faultGroup(gr.Key, flows.FaultComponentLevel) }},
		{"forms.kpi.by_cause", r.ByCause, func(gr flows.KPIGroup) string { return o.faultGroup(gr.Key, flows.FaultCauseLevel) }},
	} {
		if len(sec.groups) == 0 && (sec.key == "forms.kpi.by_fault" || sec.key == "forms.kpi.by_cause" || sec.key == "forms.kpi.by_area") {
			continue // nothing coded in the period; one area
		}
		g.row++
		header(o.t(sec.key))
		for i := range sec.groups {
			name := sec.label(sec.groups[i])
			if name == "" {
				name = none
			}
			statsRow(name, &sec.groups[i].KPIStats)
		}
	}
	// The totals' distribution: mean, median, 90th percentile, in minutes.
	g.row++
	g.set(cell("A", g.row), o.t("forms.kpi.total"), st.header)
	for i, k := range []string{"forms.kpi.mean", "forms.kpi.p50", "forms.kpi.p90"} {
		col, _ := excelize.ColumnNumberToName(i + 2)
		g.set(cell(col, g.row), o.t(k), st.header)
	}
	g.height(30)
	g.row++
	for i, k := range []string{"forms.kpi.accept", "forms.kpi.arrive", "forms.kpi.repair", "forms.kpi.resolve", "forms.kpi.close"} {
		d := r.Total.Times[i]
		g.set(cell("A", g.row), o.t(k), st.label)
		mean, ok := d.MeanMinutes()
		g.set(cell("B", g.row), value(mean, ok), st.num)
		g.set(cell("C", g.row), value(d.P50.Minutes(), ok), st.num)
		g.set(cell("D", g.row), value(d.P90.Minutes(), ok), st.num)
		g.row++
	}
	// Preventive hints.
	g.row++
	g.set(cell("A", g.row), o.t("forms.kpi.hints"), st.header)
	g.merge(cell("A", g.row), cell(last, g.row), st.header)
	g.row++
	if len(r.Hints) == 0 {
		full(o.t("forms.kpi.hints_none"), st.left, 18)
	}
	for i, h := range r.Hints {
		if i == maxHints {
			full(o.t("forms.kpi.hints_more", "n", len(r.Hints)-maxHints, "shown", maxHints), st.foot, 16)
			break
		}
		text := o.inArea(r, h.Area, o.t(h.Key, h.KV(o.category(h.Category), o.Location)...))
		full(text, st.left, float64(lines(text, 160)*14+4))
	}
	if !r.PartsTracked {
		full(o.t("forms.kpi.parts_untracked"), st.foot, 16)
	}
	if g.err != nil {
		return g.err
	}
	if err := pageSetup(f, sh, true, o.title("forms.title.kpi"), o.pageFooter()); err != nil {
		return err
	}
	return printArea(f, sh, last, g.row-1, "")
}

// images puts the chart PNGs on their own sheet, one under the other.
func (b *KPIBook) images(charts [][]byte) error {
	sh := sheetName(b.o.t("forms.kpi.chart"))
	if _, err := b.f.NewSheet(sh); err != nil {
		return err
	}
	row := 1
	for _, png := range charts {
		if imageExt(png) == "" {
			continue
		}
		if err := b.f.AddPictureFromBytes(sh, cell("A", row), &excelize.Picture{Extension: imageExt(png), File: png,
			Format: &excelize.GraphicOptions{}}); err != nil {
			return err
		}
		row += 22 // a 400-pixel chart is about 21 default rows
	}
	if err := pageSetup(b.f, sh, false, b.o.title("forms.title.kpi"), b.o.pageFooter()); err != nil {
		return err
	}
	return nil
}

// areaGroups are a report's areas as groups (most tickets first), when it
// spans several and the options name areas; none otherwise.
func (o Options) areaGroups(r *flows.KPIReport) []flows.KPIGroup {
	if o.AreaName == nil || len(r.AreaTotals) < 2 {
		return nil
	}
	var out []flows.KPIGroup
	for k, s := range r.AreaTotals {
		out = append(out, flows.KPIGroup{Key: k, KPIStats: s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Reported != out[j].Reported {
			return out[i].Reported > out[j].Reported
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// inArea puts a building's or a hint's area before it when the report
// spans several areas (3栋 of one estate is not 3栋 of another).
func (o Options) inArea(r *flows.KPIReport, area, text string) string {
	if o.AreaName == nil || len(r.AreaTotals) < 2 || area == "" {
		return text
	}
	return o.AreaName(area) + " " + text
}
