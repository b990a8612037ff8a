package forms_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/forms"
	"github.com/repairbot/repairbot/i18n"
)

// -out keeps the workbooks the tests write (for a look, or a screenshot).
var out = flag.String("out", "", "directory to keep the generated workbooks in")

var (
	resident = flowstest.Person{ID: 100, Name: "王芳"}
	tech     = flowstest.Person{ID: 200, Name: "张师傅"}
)

func keep(t *testing.T, name string, b []byte) {
	t.Helper()
	if *out == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func value(t *testing.T, f *excelize.File, sheet, c string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func raw(t *testing.T, f *excelize.File, sheet, c string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, c, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// find returns the first cell (in reading order) whose value contains s.
func find(t *testing.T, f *excelize.File, sheet, s string) (string, bool) {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			if strings.Contains(v, s) {
				name, _ := excelize.CoordinatesToCellName(c+1, r+1)
				return name, true
			}
		}
	}
	return "", false
}

func mustFind(t *testing.T, f *excelize.File, sheet, s string) string {
	t.Helper()
	c, ok := find(t, f, sheet, s)
	if !ok {
		rows, _ := f.GetRows(sheet)
		t.Fatalf("no cell of %s contains %q; rows: %q", sheet, s, rows)
	}
	return c
}

// right is the cell n columns right of c.
func right(c string, n int) string {
	col, row, _ := excelize.CellNameToCoordinates(c)
	name, _ := excelize.CoordinatesToCellName(col+n, row)
	return name
}

func below(c string, n int) string {
	col, row, _ := excelize.CellNameToCoordinates(c)
	name, _ := excelize.CoordinatesToCellName(col, row+n)
	return name
}

func options(w *flowstest.World) forms.Options {
	return forms.Options{Texts: w.Opts.Texts, Profile: "property", OrgName: "测试物业", Location: w.Opts.Location,
		Categories: w.Opts.Categories, Emergencies: w.Opts.Emergencies, SOP: w.Opts.SOP, Now: w.Now,
		Person: func(id string) *flows.Person {
			var p *flows.Person
			_ = w.Store.View(context.Background(), func(tx flows.Tx) error {
				p, _ = tx.Person(id)
				return nil
			})
			return p
		}}
}

// repaired walks a real ticket from report to the resident's
// confirmation: accepted at 10:02, on site and signed off at 10:30, the
// resident confirms at 10:41 (Shanghai time), one quote item agreed.
func repaired(t *testing.T) (*flowstest.World, *flows.Ticket, []flows.TicketEvent) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "+86 138-0013-8000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "厨房水管漏水，地上有积水")
	w.Now = w.Now.Add(2 * time.Minute)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Now = w.Now.Add(28 * time.Minute)
	w.WalkToSignoff(tech, resident, id)
	w.Now = w.Now.Add(11 * time.Minute)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Drain()
	return w, w.Ticket(id), events(t, w, id)
}

func events(t *testing.T, w *flowstest.World, id string) []flows.TicketEvent {
	t.Helper()
	var evs []flows.TicketEvent
	if err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		evs, err = tx.TicketEvents(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestWorkOrderFromTheEngine(t *testing.T) {
	w, tk, evs := repaired(t)
	var buf bytes.Buffer
	if err := forms.WorkOrder(&buf, options(w), tk, evs); err != nil {
		t.Fatal(err)
	}
	keep(t, "work-order.xlsx", buf.Bytes())
	f := open(t, buf.Bytes())
	sh := f.GetSheetName(0)
	if sh != tk.ID {
		t.Fatalf("sheet %q, want the ticket number", sh)
	}
	for c, want := range map[string]string{
		"A1": "测试物业",
		"A2": "维修工作单（住户）", // the property profile's title (order.form.household.property)
		"A3": "表单编号：zc-qr-010",
		"E3": "工单号：" + tk.ID,
	} {
		if got := value(t, f, sh, c); got != want {
			t.Errorf("%s = %q, want %q", c, got, want)
		}
	}
	// The quote: W02 × 1 and its total, as money.
	total := right(mustFind(t, f, sh, "合计"), 1)
	if got, want := raw(t, f, sh, total), fmt.Sprint(float64(tk.Visit.Quote.Total())/100); got != want || tk.Visit.Quote.Total() == 0 {
		t.Errorf("quote total %s = %q, want %q", total, got, want)
	}
	if got := value(t, f, sh, total); got != flows.Money(tk.Visit.Quote.Total()) {
		t.Errorf("quote total shows %q, want %q", got, flows.Money(tk.Visit.Quote.Total()))
	}
	// The signature box holds the resident's confirmation in chat with its time (10:41 Shanghai).
	confirm := right(mustFind(t, f, sh, "住户确认"), 1)
	if got := value(t, f, sh, confirm); got != "王芳 已于 2026-11-27 10:41 在 Telegram 中确认维修完成" {
		t.Errorf("confirmation %q", got)
	}
	// Numbered fields, the phone masked, the tests and the technician's sign-off.
	if got := value(t, f, sh, "A4"); got != "1" {
		t.Errorf("first field number %q", got)
	}
	if got := value(t, f, sh, right(mustFind(t, f, sh, "联系电话"), 1)); got != "138****8000" {
		t.Errorf("phone %q, want it masked", got)
	}
	mustFind(t, f, sh, "3 次通过（10:30, 10:30, 10:30）")
	mustFind(t, f, sh, "张师傅，2026-11-27 10:30 完工")
	mustFind(t, f, sh, "住户已同意（2026-11-27 10:30）")
	// The fault as the technician coded it before the sign-off (the first option of each level).
	if got := value(t, f, sh, right(mustFind(t, f, sh, "故障编码"), 1)); got != "水龙头 → 漏水 / 渗漏 → 老化磨损 → 更换部件（TAP·LEAK·WEAR·REPLACE）" {
		t.Errorf("fault %q", got)
	}
	// Photos taken at the photo steps are listed by step.
	mustFind(t, f, sh, "张")
	// A4 portrait, one page wide, with a print area.
	lay, err := f.GetPageLayout(sh)
	if err != nil || lay.Size == nil || *lay.Size != 9 || lay.Orientation == nil || *lay.Orientation != "portrait" || lay.FitToWidth == nil || *lay.FitToWidth != 1 {
		t.Errorf("page layout %+v (%v)", lay, err)
	}
	if !hasDefinedName(f, "_xlnm.Print_Area", sh) {
		t.Errorf("no print area: %+v", f.GetDefinedName())
	}
}

func hasDefinedName(f *excelize.File, name, sheet string) bool {
	for _, d := range f.GetDefinedName() {
		if d.Name == name && d.Scope == sheet && strings.Contains(d.RefersTo, "$A$1") || d.Name == name && d.Scope == sheet && name == "_xlnm.Print_Titles" {
			return true
		}
	}
	return false
}

// TestWorkOrderTitles: the form code follows the order kind, the title
// the profile (the rental SOP's form names).
func TestWorkOrderTitles(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	created := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		profile string
		kind    flows.OrderKind
		lang    flows.Lang
		title   string
		code    string
		label   string
	}{
		{"property", flows.OrderHousehold, flows.LangZH, "维修工作单（住户）", "zc-qr-010", "地址"},
		{"property", flows.OrderPublic, flows.LangZH, "维修工作单（公共部位）", "zc-qr-009", "设施/位置"},
		{"rental", flows.OrderHousehold, flows.LangZH, "有偿服务维修单", "zc-qr-010", "租户"},
		{"rental", flows.OrderPublic, flows.LangZH, "公共设施设备维修单", "zc-qr-009", "更换配件/材料"},
		{"rental", flows.OrderHousehold, flows.LangEN, "Paid-service work order", "Form zc-qr-010", "Tenant"},
	} {
		t.Run(c.profile+"/"+string(c.kind)+"/"+string(c.lang), func(t *testing.T) {
			tk := &flows.Ticket{ID: "BX-20261102-0001", State: flows.StateNew, Kind: c.kind, Category: "water", Created: created,
				Building: "3栋", Unit: "2单元", Room: "1502", Description: "楼道灯不亮"}
			var buf bytes.Buffer
			if err := forms.WorkOrder(&buf, forms.Options{Texts: texts, Profile: c.profile, Lang: c.lang, OrgName: "某某公寓"}, tk, nil); err != nil {
				t.Fatal(err)
			}
			f := open(t, buf.Bytes())
			sh := f.GetSheetName(0)
			if got := value(t, f, sh, "A2"); got != c.title {
				t.Errorf("title %q, want %q", got, c.title)
			}
			if got := value(t, f, sh, "A3"); !strings.Contains(got, c.code) {
				t.Errorf("code line %q, want %q", got, c.code)
			}
			mustFind(t, f, sh, c.label)
		})
	}
}

// TestWorkOrderEmbedsPhotos: with a photo opener, the photos go into the
// form's photo row; a failing opener only lists them.
func TestWorkOrderEmbedsPhotos(t *testing.T) {
	w, tk, evs := repaired(t)
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		opener func(flows.Photo) ([]byte, error)
		want   int
	}{
		// The built-in SOP has two photo steps (protection, clean-up): one picture each.
		{"opened", func(flows.Photo) ([]byte, error) { return pngBuf.Bytes(), nil }, 2},
		{"not an image", func(flows.Photo) ([]byte, error) { return []byte("%PDF-1.4"), nil }, 0},
		// A JPEG's magic number on bytes that do not decode (a truncated copy).
		{"broken jpeg", func(flows.Photo) ([]byte, error) {
			return append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 64)...), nil
		}, 0},
		{"missing", func(flows.Photo) ([]byte, error) { return nil, os.ErrNotExist }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := options(w)
			o.Photo = c.opener
			var buf bytes.Buffer
			if err := forms.WorkOrder(&buf, o, tk, evs); err != nil {
				t.Fatal(err)
			}
			f := open(t, buf.Bytes())
			sh := f.GetSheetName(0)
			cells, err := f.GetPictureCells(sh)
			if err != nil {
				t.Fatal(err)
			}
			if len(cells) != c.want {
				t.Fatalf("%d pictures (%v), want %d", len(cells), cells, c.want)
			}
			mustFind(t, f, sh, "现场照片")
		})
	}
}

func TestRepairLog(t *testing.T) {
	w, tk, evs := repaired(t)
	o := options(w)
	loc := w.Opts.Location
	from := time.Date(2026, 11, 26, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 2)
	earlier := &flows.Ticket{ID: "BX-20261126-0001", State: flows.StateCancelled, Kind: flows.OrderPublic, Category: "door",
		Created: time.Date(2026, 11, 26, 9, 0, 0, 0, loc), Building: "5栋", Unit: "1单元", Room: "", Description: "单元门禁坏了", Reworks: 0}
	outside := &flows.Ticket{ID: "BX-20261125-0001", State: flows.StateClosed, Category: "water", Created: time.Date(2026, 11, 25, 9, 0, 0, 0, loc)}
	lg, err := forms.NewRepairLog(o, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t  *flows.Ticket
		ev []flows.TicketEvent
	}{{outside, nil}, {earlier, nil}, {tk, evs}} {
		if err := lg.Add(c.t, c.ev); err != nil {
			t.Fatal(err)
		}
	}
	if lg.Rows() != 2 {
		t.Fatalf("%d rows, want 2 (one ticket is outside the range)", lg.Rows())
	}
	var buf bytes.Buffer
	if err := lg.Write(&buf); err != nil {
		t.Fatal(err)
	}
	keep(t, "repair-log.xlsx", buf.Bytes())
	f := open(t, buf.Bytes())
	sh := f.GetSheetName(0)
	if sh != "报修记录表" {
		t.Fatalf("sheet %q", sh)
	}
	for c, want := range map[string]string{
		"A1": "测试物业", "A2": "报修记录表", "A3": "表单编号：zc-qr-030", "H3": "期间：2026-11-26 至 2026-11-27",
		"A4": "序号", "C4": "工单号", "M4": "住户确认",
		"A5": "1", "C5": "BX-20261126-0001", "L5": "已取消", "H5": "一般",
		"A6": "2", "C6": tk.ID, "D6": "王芳", "E6": "3栋 / 2单元 / 1502", "F6": "138****8000", "G6": "水管/漏水：厨房水管漏水，地上有积水",
		"I6": "张师傅", "J6": "10:02", "K6": "10:30", "M6": "10:41",
	} {
		if got := value(t, f, sh, c); got != want {
			t.Errorf("%s = %q, want %q", c, got, want)
		}
	}
	if got := value(t, f, sh, "A7"); !strings.HasPrefix(got, "共 2 单") {
		t.Errorf("count line %q", got)
	}
	if !hasDefinedName(f, "_xlnm.Print_Titles", sh) || !hasDefinedName(f, "_xlnm.Print_Area", sh) {
		t.Errorf("print titles or area missing: %+v", f.GetDefinedName())
	}
	lay, _ := f.GetPageLayout(sh)
	if lay.Orientation == nil || *lay.Orientation != "landscape" {
		t.Errorf("repair log not landscape: %+v", lay)
	}
}

// A day's log is headed with the date alone; an empty one says so.
func TestRepairLogOneEmptyDay(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	lg, err := forms.NewRepairLog(forms.Options{Texts: texts, Profile: "rental", OrgName: "某某公寓"}, day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := lg.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := lg.Write(&buf); err == nil {
		t.Fatal("a second Write succeeded")
	}
	f := open(t, buf.Bytes())
	sh := f.GetSheetName(0)
	if got := value(t, f, sh, "H3"); got != "日期：2026-11-27" {
		t.Errorf("H3 = %q", got)
	}
	if got := value(t, f, sh, "M4"); got != "租户确认" {
		t.Errorf("M4 = %q, want the rental profile's title", got)
	}
	if got := value(t, f, sh, "A5"); !strings.HasPrefix(got, "（本期间没有工单）") {
		t.Errorf("A5 = %q", got)
	}
}

func TestDailyTasks(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	list := &flows.DailyList{Day: "20261127", Lines: []flows.DailyLine{
		{Ticket: "BX-20261127-0001", Category: "water", Address: "3栋 / 2单元", Assignee: "张师傅", State: flows.StateClosed, Handed: "approved"},
		{Ticket: "BX-20261127-0002", Category: "door", Address: "5栋 / 1单元", State: flows.StateNew},
	}, Missing: []string{"李师傅"}, Mismatches: []string{"BX-20261127-0002：无人接单"}}
	tickets := map[string]*flows.Ticket{"BX-20261127-0001": {ID: "BX-20261127-0001", Created: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC),
		Description: "厨房水管漏水", Reworks: 1}}
	var buf bytes.Buffer
	err := forms.DailyTasks(&buf, forms.Options{Texts: texts, OrgName: "测试物业", Categories: flowstest.DefaultCategories},
		list, func(id string) *flows.Ticket { return tickets[id] })
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "daily.xlsx", buf.Bytes())
	f := open(t, buf.Bytes())
	sh := f.GetSheetName(0)
	for c, want := range map[string]string{
		"A2": "维修任务单（维修组联）", "A3": "日期：2026-11-27", "F3": "共 2 单",
		"B5": "BX-20261127-0001", "C5": "2026-11-27 01:00", "D5": "水管/漏水", "F5": "厨房水管漏水", "G5": "张师傅", "H5": "已完成", "I5": "已审核", "J5": "返工 1 次",
		"B6": "BX-20261127-0002", "G6": "未分配", "I6": "—",
		"A7": "未交单：李师傅",
	} {
		if got := value(t, f, sh, c); got != want {
			t.Errorf("%s = %q, want %q", c, got, want)
		}
	}
	mustFind(t, f, sh, "BX-20261127-0002：无人接单")
	mustFind(t, f, sh, "维修组主管签字")
	if err := forms.DailyTasks(&buf, forms.Options{Texts: texts}, &flows.DailyList{Day: "2026-11-27"}, nil); err == nil {
		t.Error("a list with a bad day was written")
	}
}

func TestKPIBook(t *testing.T) {
	w, tk, evs := repaired(t)
	o := options(w)
	loc := w.Opts.Location
	k := flows.KPIOptions{From: time.Date(2026, 11, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 12, 1, 0, 0, 0, 0, loc), Location: loc}
	acc := flows.NewKPI(k)
	book, err := forms.NewKPIBook(o, k)
	if err != nil {
		t.Fatal(err)
	}
	// The engine's ticket plus a cancelled one and one from October (not listed).
	other := &flows.Ticket{ID: "BX-20261102-0001", State: flows.StateCancelled, Category: "door", Created: time.Date(2026, 11, 2, 9, 0, 0, 0, loc), Building: "5栋"}
	october := &flows.Ticket{ID: "BX-20261030-0001", State: flows.StateClosed, Category: "water", Created: time.Date(2026, 10, 30, 9, 0, 0, 0, loc)}
	for _, c := range []struct {
		t  *flows.Ticket
		ev []flows.TicketEvent
	}{{october, nil}, {other, nil}, {tk, evs}} {
		acc.Add(c.t, c.ev)
		if err := book.Add(c.t, c.ev); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	pngBytes := tinyPNG(t)
	if err := book.Write(&buf, acc.Result(), pngBytes); err != nil {
		t.Fatal(err)
	}
	keep(t, "kpi.xlsx", buf.Bytes())
	f := open(t, buf.Bytes())
	if got := f.GetSheetList(); strings.Join(got, ",") != "指标,工单明细,图表" {
		t.Fatalf("sheets %v", got)
	}
	sum := "指标"
	totalRow := mustFind(t, f, sum, "合计")
	// Reported 2, resolved 1, open 1 (confirmed, not yet closed); accept 2 minutes (10:00 → 10:02);
	// SLA 1/1 = 100.
	for off, want := range map[int]string{1: "2", 2: "1", 3: "1", 4: "2", 9: "100"} {
		if got := raw(t, f, sum, right(totalRow, off)); got != want {
			t.Errorf("total column +%d = %q, want %q", off, got, want)
		}
	}
	mustFind(t, f, sum, "按故障类别")
	mustFind(t, f, sum, "水管/漏水")
	mustFind(t, f, sum, "配件成本：尚未接入配件记录")
	list := "工单明细"
	// The list: two tickets of November, in the order added, with their minutes.
	first := mustFind(t, f, list, "BX-20261102-0001")
	second := below(first, 1)
	if got := value(t, f, list, second); got != tk.ID {
		t.Fatalf("second ticket %q, want %q", got, tk.ID)
	}
	if got := raw(t, f, list, right(second, 6)); got != "2" {
		t.Errorf("accept minutes %q, want 2", got)
	}
	if got := value(t, f, list, right(second, 11)); got != "按时" {
		t.Errorf("SLA %q", got)
	}
	if _, ok := find(t, f, list, "BX-20261030-0001"); ok {
		t.Error("October's ticket is listed")
	}
	cells, err := f.GetPictureCells("图表")
	if err != nil || len(cells) != 1 {
		t.Fatalf("chart pictures %v (%v)", cells, err)
	}
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 60, 40))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOptionsRequired(t *testing.T) {
	if err := forms.WorkOrder(&bytes.Buffer{}, forms.Options{}, &flows.Ticket{}, nil); err == nil {
		t.Error("WorkOrder without texts succeeded")
	}
	if _, err := forms.NewRepairLog(forms.Options{}, time.Now(), time.Now()); err == nil {
		t.Error("NewRepairLog without texts succeeded")
	}
	if err := forms.WorkOrder(&bytes.Buffer{}, forms.Options{Texts: i18n.MustLoad(flows.LangZH)}, nil, nil); err == nil {
		t.Error("WorkOrder without a ticket succeeded")
	}
}

// TestEveryTextExists renders every form in both languages and both
// profiles: no cell may show a missing catalog key (⟦key⟧).
func TestEveryTextExists(t *testing.T) {
	w, tk, evs := repaired(t)
	public := *tk
	public.Kind, public.ID = flows.OrderPublic, "BX-20261127-0002"
	loc := w.Opts.Location
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	for _, lang := range []flows.Lang{flows.LangZH, flows.LangEN} {
		for _, profile := range []string{"property", "rental"} {
			t.Run(string(lang)+"/"+profile, func(t *testing.T) {
				o := options(w)
				o.Lang, o.Profile = lang, profile
				var books [][]byte
				for _, ticket := range []*flows.Ticket{tk, &public} {
					var b bytes.Buffer
					if err := forms.WorkOrder(&b, o, ticket, evs); err != nil {
						t.Fatal(err)
					}
					books = append(books, b.Bytes())
				}
				lg, err := forms.NewRepairLog(o, from, to)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := lg.Add(tk, evs); err != nil {
					t.Fatal(err)
				}
				if err := lg.Write(&b); err != nil {
					t.Fatal(err)
				}
				books = append(books, b.Bytes())
				b = bytes.Buffer{}
				list := &flows.DailyList{Day: "20261127", Lines: []flows.DailyLine{{Ticket: tk.ID, Category: "water", State: tk.State, Handed: "pending"}},
					Missing: []string{"李师傅"}, Mismatches: []string{"x"}}
				if err := forms.DailyTasks(&b, o, list, func(string) *flows.Ticket { return tk }); err != nil {
					t.Fatal(err)
				}
				books = append(books, b.Bytes())
				k := flows.KPIOptions{From: from, To: to, Location: loc}
				acc := flows.NewKPI(k)
				book, err := forms.NewKPIBook(o, k)
				if err != nil {
					t.Fatal(err)
				}
				// Three leaks up one riser for a hint text.
				for i, room := range []string{"1502", "1602", "1702"} {
					leak := *tk
					leak.ID, leak.Room = fmt.Sprintf("BX-2026112%d-0001", i+1), room
					acc.Add(&leak, evs)
					if err := book.Add(&leak, evs); err != nil {
						t.Fatal(err)
					}
				}
				r := acc.Result()
				if len(r.Hints) == 0 {
					t.Fatal("no hint to render")
				}
				b = bytes.Buffer{}
				if err := book.Write(&b, r); err != nil {
					t.Fatal(err)
				}
				books = append(books, b.Bytes())
				for i, x := range books {
					f := open(t, x)
					for _, sh := range f.GetSheetList() {
						if c, ok := find(t, f, sh, "⟦"); ok {
							v, _ := f.GetCellValue(sh, c)
							t.Errorf("workbook %d, sheet %s, %s: %q", i, sh, c, v)
						}
					}
				}
			})
		}
	}
}

// TestWorkOrderListsParts: the work order lists the parts the job used,
// and a part charged on the quote is named there as it was taken.
func TestWorkOrderListsParts(t *testing.T) {
	tk := &flows.Ticket{ID: "BX-20261127-0009", Kind: flows.OrderHousehold, State: flows.StateConfirmed, Category: "water",
		Created: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), Visit: &flows.Visit{Quote: &flows.Quote{Seq: 1, Status: "agreed",
			Lines: []flows.QuoteLine{{Part: "P-VALVE", Name: "角阀", Unit: "个", Qty: 1, Cents: 2500}, {Code: "W02", Qty: 1, Cents: 2500}}}}}
	valve := &flows.Part{Code: "P-VALVE", Name: "角阀", Unit: "个"}
	tape := &flows.Part{Code: "P-TAPE", Name: "生料带", Unit: "卷"}
	for _, c := range []struct {
		name  string
		parts func(string) []flows.JobPart
		want  string
	}{
		{"used", func(id string) []flows.JobPart {
			if id != tk.ID {
				return nil
			}
			return []flows.JobPart{{Part: tape, Qty: 2}, {Part: valve, Qty: 1}}
		}, "P-TAPE 生料带 ×2 卷；P-VALVE 角阀 ×1 个"},
		{"none", nil, "—"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := forms.Options{Texts: i18n.MustLoad(flows.LangZH), OrgName: "测试物业", JobParts: c.parts}
			if err := forms.WorkOrder(&buf, o, tk, nil); err != nil {
				t.Fatal(err)
			}
			f := open(t, buf.Bytes())
			sh := f.GetSheetName(0)
			if got := value(t, f, sh, right(mustFind(t, f, sh, "更换配件/材料"), 1)); got != c.want {
				t.Errorf("parts used %q, want %q", got, c.want)
			}
			mustFind(t, f, sh, "P-VALVE 角阀")
		})
	}
}
