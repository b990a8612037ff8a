package forms

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// WorkOrder writes one ticket's work order: 有偿服务维修单 (zc-qr-010) for a
// household order, 公共设施设备维修单 (zc-qr-009) for a public-facility
// one, titled as the profile names them, on one A4 page.
func WorkOrder(w io.Writer, o Options, t *flows.Ticket, events []flows.TicketEvent) error {
	if err := o.defaults(); err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("forms: no ticket")
	}
	f := excelize.NewFile()
	st, err := newStyles(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	code, kind := CodePaidOrder, flows.OrderHousehold
	if t.Kind == flows.OrderPublic {
		code, kind = CodePublicOrder, flows.OrderPublic
	}
	title := o.t("order.form." + string(kind) + "." + o.Profile)
	sheet := sheetName(t.ID)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		_ = f.Close()
		return err
	}
	g := &grid{f: f, sheet: sheet, st: st}
	if err := g.layout(&o, t, events, code, title); err != nil {
		_ = f.Close()
		return err
	}
	if err := pageSetup(f, sheet, false, o.t("forms.code", "code", code)+"  "+t.ID, o.pageFooter()); err != nil {
		_ = f.Close()
		return err
	}
	if err := printArea(f, sheet, "H", g.row-1, ""); err != nil {
		_ = f.Close()
		return err
	}
	_ = f.SetDocProps(&excelize.DocProperties{Title: title + " " + t.ID, Creator: o.OrgName, Subject: code})
	return writeFile(f, w)
}

// grid lays a form out on columns A–H: a number, a label and a value
// across the rest (full), or two such fields side by side (pair).
type grid struct {
	f     *excelize.File
	sheet string
	st    *styles
	row   int
	no    int
	err   error
}

// Column widths of a work order, in character units (A4 portrait).
var orderCols = []float64{4.5, 12, 14, 14, 4.5, 12, 14, 14}

const orderValueWidth = 14 + 14 + 4.5 + 12 + 14 + 14 // C:H

func (g *grid) set(c string, v any, style int) {
	if g.err != nil {
		return
	}
	if g.err = g.f.SetCellValue(g.sheet, c, v); g.err == nil {
		g.err = g.f.SetCellStyle(g.sheet, c, c, style)
	}
}

func (g *grid) merge(from, to string, style int) {
	if g.err != nil {
		return
	}
	if from != to {
		if g.err = g.f.MergeCell(g.sheet, from, to); g.err != nil {
			return
		}
	}
	g.err = g.f.SetCellStyle(g.sheet, from, to, style)
}

func (g *grid) height(h float64) {
	h = min(h, maxRowHeight)
	if g.err == nil {
		g.err = g.f.SetRowHeight(g.sheet, g.row, h)
	}
}

// maxRowHeight is Excel's limit for a row, in points.
const maxRowHeight = 409

// lines estimates how many lines text takes in a cell width units wide
// (a CJK character is two units).
func lines(text string, width float64) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		w := 0.0
		for _, r := range line {
			if r < 0x2E80 {
				w++
			} else {
				w += 2
			}
		}
		n += max(1, int(math.Ceil(w/(width+0.5))))
	}
	return n
}

func (g *grid) fit(text string, width, min float64) {
	g.height(max(min, float64(lines(text, width))*13.5+4))
}

// full is a numbered field whose value spans C:H.
func (g *grid) full(label, value string, minHeight float64) {
	g.no++
	g.set(cell("A", g.row), g.no, g.st.no)
	g.set(cell("B", g.row), label, g.st.label)
	g.merge(cell("C", g.row), cell("H", g.row), g.st.cell)
	g.set(cell("C", g.row), value, g.st.cell)
	g.fit(value, orderValueWidth, minHeight)
	g.row++
}

// pair is two numbered fields on one row.
func (g *grid) pair(l1, v1, l2, v2 string) {
	g.no++
	g.set(cell("A", g.row), g.no, g.st.no)
	g.set(cell("B", g.row), l1, g.st.label)
	g.merge(cell("C", g.row), cell("D", g.row), g.st.cell)
	g.set(cell("C", g.row), v1, g.st.cell)
	g.no++
	g.set(cell("E", g.row), g.no, g.st.no)
	g.set(cell("F", g.row), l2, g.st.label)
	g.merge(cell("G", g.row), cell("H", g.row), g.st.cell)
	g.set(cell("G", g.row), v2, g.st.cell)
	g.fit(longer(v1, v2, l1, l2), 28, 20)
	g.row++
}

func longer(ss ...string) string {
	best := ""
	for _, s := range ss {
		if utf8.RuneCountInString(s) > utf8.RuneCountInString(best) {
			best = s
		}
	}
	return best
}

func (g *grid) layout(o *Options, t *flows.Ticket, events []flows.TicketEvent, code, title string) error {
	f, sheet, st := g.f, g.sheet, g.st
	for i, w := range orderCols {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return err
		}
	}
	g.row = 1
	g.merge("A1", "H1", st.org)
	g.set("A1", o.OrgName, st.org)
	g.height(20)
	g.row = 2
	g.merge("A2", "H2", st.title)
	g.set("A2", title, st.title)
	g.height(30)
	g.row = 3
	g.merge("A3", "D3", st.meta)
	g.set("A3", o.t("forms.code", "code", code), st.meta)
	g.merge("E3", "H3", st.meta)
	g.set("E3", o.t("forms.ticket", "ticket", t.ID), st.meta)
	g.row = 4

	v := t.Visit
	if v == nil {
		v = &flows.Visit{}
	}
	none := o.t("forms.value.none")
	or := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return none
		}
		return s
	}
	resident := o.role(flows.RoleResident)
	techRole := o.role(flows.RoleTechnician)
	g.pair(o.t("forms.field.reported"), o.stamp(t.Created), o.t("forms.field.accepted"), or(o.optStamp(t.Accepted)))
	g.pair(resident, or(o.name(t.ResidentID)), o.t("forms.field.phone"), or(o.phone(t.ResidentID)))
	if t.Kind == flows.OrderPublic {
		g.full(o.t("forms.field.location"), or(address(t)), 20)
	} else {
		g.full(o.t("forms.field.address"), or(address(t)), 20)
	}
	g.pair(o.t("forms.field.category"), o.category(t.Category), o.t("forms.field.urgency"), o.urgency(t))
	g.pair(o.t("forms.field.when"), o.when(t), techRole, or(t.Assignee))
	g.full(o.t("forms.field.desc"), or(t.Description), 34)
	if v.Entry != "" {
		how := o.t("order.entry_" + v.Entry)
		if at := lastEvent(events, "entry"); at != nil {
			how = o.t("forms.value.entry", "how", how, "time", o.stamp(*at))
		}
		g.full(o.t("forms.field.entry"), how, 20)
	}
	g.full(o.t("forms.field.plan"), or(v.Plan), 34)
	g.full(o.t("forms.field.fault"), or(o.fault(t)), 20)
	if t.Kind != flows.OrderPublic {
		g.charges(o, t, events)
	}
	g.full(o.t("forms.field.parts"), or(o.partsUsed(t)), 34)
	passes := flows.LastTestPasses(events)
	tests := none
	if len(passes) > 0 {
		var ts []string
		for _, at := range passes {
			ts = append(ts, o.clock(at))
		}
		tests = o.t("forms.value.tests", "n", len(passes), "times", strings.Join(ts, ", "))
	}
	g.full(o.t("forms.field.tests"), tests, 20)
	g.full(o.t("forms.field.care"), or(v.Care), 20)
	g.photos(o, t)
	g.pair(o.t("forms.field.arrived"), or(o.optStamp(t.Arrived)), o.t("forms.field.finished"), or(o.optStamp(t.Finished)))
	score := none
	if t.Score > 0 {
		score = o.t("forms.value.score", "score", t.Score)
	}
	g.pair(o.t("forms.field.reworks"), fmt.Sprint(t.Reworks), o.t("forms.field.score"), score)

	// The signature boxes: the resident's confirmation in chat stands for
	// the signature; the lead's review stays for a pen.
	confirm := o.confirmText(t, events)
	if t.FeeQuery {
		confirm += "\n" + o.t("order.fee_query")
	}
	g.full(o.t("forms.field.confirm", "role", resident), confirm, 44)
	tech := none
	if at := lastEvent(events, string(flows.ActDone)); at != nil && t.Assignee != "" {
		tech = o.t("forms.value.tech_done", "name", t.Assignee, "time", o.stamp(*at))
	}
	g.pair(o.t("forms.field.sign", "role", techRole), tech, o.t("forms.field.review", "role", o.role(flows.RoleLead)), "")
	g.height(44)

	// The footer lines, inside the print area.
	g.row++
	foot := o.t("forms.value.sop", "version", or(t.SOPVersion), "state", o.state(t.State)) + "\n" +
		o.t("forms.generated", "time", o.stamp(o.Now))
	g.merge(cell("A", g.row), cell("H", g.row), st.foot)
	g.set(cell("A", g.row), foot, st.foot)
	g.height(26)
	g.row++
	return g.err
}

// charges is the quote as a small table inside the form: item, quantity,
// unit, unit price, subtotal, and the total with the resident's answer.
func (g *grid) charges(o *Options, t *flows.Ticket, events []flows.TicketEvent) {
	st := g.st
	q := (*flows.Quote)(nil)
	if t.Visit != nil {
		q = t.Visit.Quote
	}
	top := g.row
	g.no++
	head := []string{o.t("forms.value.item"), "", o.t("forms.value.qty"), o.t("forms.value.unit"), o.t("forms.value.price"), o.t("forms.value.subtotal")}
	g.merge(cell("C", g.row), cell("D", g.row), st.header)
	for i, col := range []string{"C", "D", "E", "F", "G", "H"} {
		if head[i] != "" {
			g.set(cell(col, g.row), head[i], st.header)
		}
	}
	g.row++
	var lines []flows.QuoteLine
	if q != nil {
		lines = q.Lines
	}
	for _, l := range lines {
		name, unit := l.Code, ""
		if l.Part != "" { // a part from stock carries its name and unit
			name, unit = l.Part+" "+l.Name, l.Unit
		} else if o.SOP != nil {
			for _, p := range o.SOP.Prices {
				if p.Code == l.Code {
					name, unit = l.Code+" "+p.Name[o.Lang], p.Unit[o.Lang]
				}
			}
		}
		g.merge(cell("C", g.row), cell("D", g.row), st.cell)
		g.set(cell("C", g.row), name, st.cell)
		g.set(cell("E", g.row), l.Qty, st.int)
		g.set(cell("F", g.row), unit, st.cell)
		g.set(cell("G", g.row), yuan(l.Cents), st.money)
		g.set(cell("H", g.row), yuan(int64(l.Qty)*l.Cents), st.money)
		g.height(20)
		g.row++
	}
	status := o.t("forms.value.none")
	if q != nil {
		status = o.t("order.quote_" + q.Status)
		if at := lastEvent(events, "quote_agreed"); at != nil && q.Status == "agreed" {
			status = o.t("forms.value.quote_agreed_at", "status", status, "time", o.stamp(*at))
		}
	}
	g.merge(cell("C", g.row), cell("F", g.row), st.cell)
	g.set(cell("C", g.row), status, st.cell)
	g.set(cell("G", g.row), o.t("forms.value.total"), st.total)
	g.set(cell("H", g.row), yuan(q.Total()), st.total)
	g.height(20)
	g.merge(cell("A", top), cell("A", g.row), st.no)
	g.set(cell("A", top), g.no, st.no)
	g.merge(cell("B", top), cell("B", g.row), st.label)
	g.set(cell("B", top), o.t("forms.field.charges"), st.label)
	g.row++
}

// partsUsed lists the parts the job holds ("" for none).
func (o *Options) partsUsed(t *flows.Ticket) string {
	if o.JobParts == nil {
		return ""
	}
	var out []string
	for _, jp := range o.JobParts(t.ID) {
		out = append(out, o.t("parts.job_line", "part", jp.Part.Code, "name", jp.Part.Name, "qty", jp.Qty, "unit", jp.Part.Unit))
	}
	return strings.Join(out, o.t("order.sep"))
}

// yuan is cents as a number of yuan, for cells formatted as money.
func yuan(cents int64) float64 { return float64(cents) / 100 }

// maxEmbedded photos fit the work order's photo row.
const maxEmbedded = 3

// photos lists the photos (the report's and each checklist step's, with
// the steps a lead let skip) and embeds the first few when it can.
func (g *grid) photos(o *Options, t *flows.Ticket) {
	var list []string
	var all []flows.Photo
	if n := len(t.Photos); n > 0 {
		list = append(list, o.t("forms.value.report_photos", "n", n))
		all = append(all, t.Photos...)
	}
	v := t.Visit
	if v != nil && o.SOP != nil {
		for _, s := range o.SOP.Steps {
			if n := len(v.Photos[s.ID]); n > 0 {
				list = append(list, o.t("order.photos_step", "step", s.Title[o.Lang], "n", n))
				all = append(all, v.Photos[s.ID]...)
			}
			if r := v.Skipped[s.ID]; r != "" {
				list = append(list, o.t("order.photos_skipped", "step", s.Title[o.Lang], "reason", r))
			}
		}
	}
	text := o.t("forms.value.none")
	if len(list) > 0 {
		text = strings.Join(list, o.t("order.sep"))
	}
	var imgs [][]byte
	if o.Photo != nil {
		for _, p := range all {
			if len(imgs) == maxEmbedded {
				break
			}
			if b, err := o.Photo(p); err == nil && imageExt(b) != "" {
				imgs = append(imgs, b)
			}
		}
	}
	if len(imgs) == 0 {
		g.full(o.t("forms.field.photos"), text, 20)
		return
	}
	st := g.st
	g.no++
	top := g.row
	g.merge(cell("C", g.row), cell("H", g.row), st.cell)
	g.set(cell("C", g.row), text, st.cell)
	g.fit(text, orderValueWidth, 20)
	g.row++
	g.height(120)
	for i, b := range imgs {
		from, to := []string{"C", "E", "G"}[i], []string{"D", "F", "H"}[i]
		g.merge(cell(from, g.row), cell(to, g.row), st.cell)
		if g.err == nil {
			// A copy that does not decode (truncated, mislabelled) stays
			// listed only: a photo never stops the work order.
			_ = g.f.AddPictureFromBytes(g.sheet, cell(from, g.row), &excelize.Picture{Extension: imageExt(b), File: b,
				Format: &excelize.GraphicOptions{AutoFit: true, LockAspectRatio: true, OffsetX: 4, OffsetY: 4}})
		}
	}
	for i := len(imgs); i < maxEmbedded; i++ {
		g.merge(cell([]string{"C", "E", "G"}[i], g.row), cell([]string{"D", "F", "H"}[i], g.row), st.cell)
	}
	g.merge(cell("A", top), cell("A", g.row), st.no)
	g.set(cell("A", top), g.no, st.no)
	g.merge(cell("B", top), cell("B", g.row), st.label)
	g.set(cell("B", top), o.t("forms.field.photos"), st.label)
	g.row++
}
