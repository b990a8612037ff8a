package records_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/records"
)

var (
	resident = flowstest.Person{ID: 100, Name: "王芳"}
	tech     = flowstest.Person{ID: 200, Name: "张师傅"}
	lead     = flowstest.Person{ID: 300, Name: "陈主管"}
)

var _ bot.Exporter = (*records.Renderer)(nil)

func renderer(t *testing.T, w *flowstest.World) *records.Renderer {
	t.Helper()
	r, err := records.New(records.Options{Store: w.Store, Texts: w.Opts.Texts, Profile: "property", OrgName: "测试物业",
		Location: w.Opts.Location, Categories: w.Opts.Categories, Emergencies: w.Opts.Emergencies, SOP: w.Eng.SOP,
		Daily: w.Eng.DailyList, Now: func() time.Time { return w.Now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
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

// cellWith is the first cell of the first sheet whose value contains s.
func cellWith(t *testing.T, f *excelize.File, sheet, s string) (string, string) {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			if strings.Contains(v, s) {
				name, _ := excelize.CoordinatesToCellName(c+1, r+1)
				return name, v
			}
		}
	}
	t.Fatalf("no cell of %s contains %q; rows: %q", sheet, s, rows)
	return "", ""
}

func rightOf(t *testing.T, f *excelize.File, sheet, c string) string {
	t.Helper()
	col, row, _ := excelize.CellNameToCoordinates(c)
	name, _ := excelize.CoordinatesToCellName(col+1, row)
	v, err := f.GetCellValue(sheet, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// repaired walks a ticket to the resident's confirmation at 10:41.
func repaired(t *testing.T) (*flowstest.World, string) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	id := w.Report(resident, "厨房水管漏水")
	w.Now = w.Now.Add(2 * time.Minute)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Now = w.Now.Add(28 * time.Minute)
	w.WalkToSignoff(tech, resident, id)
	w.Now = w.Now.Add(11 * time.Minute)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Drain()
	return w, id
}

// fileTo is the one export message to a.
func fileTo(t *testing.T, msgs []flows.Message, a flows.Address, form string) flows.Message {
	t.Helper()
	for _, m := range flowstest.Files(msgs, a) {
		if m.Export.Form == form {
			return m
		}
	}
	t.Fatalf("no %s file to %v in %d messages", form, a, len(msgs))
	return flows.Message{}
}

// TestOrderFile: /order sends the work order as an xlsx; rendered from the
// message's spec it holds the form code, the ticket, the quote total and
// the resident's confirmation with its time.
func TestOrderFile(t *testing.T) {
	w, id := repaired(t)
	w.Cmd(resident, "order", id)
	m := fileTo(t, w.Drain(), resident.Chat(), flows.ExportWorkOrder)
	if m.Kind != flows.KindFile || !strings.HasSuffix(m.FileName, ".xlsx") || !strings.Contains(m.Text, id) {
		t.Fatalf("file message %+v", m)
	}
	data, err := renderer(t, w).Export(context.Background(), *m.Export)
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, data)
	sh := f.GetSheetName(0)
	cellWith(t, f, sh, "zc-qr-010")
	cellWith(t, f, sh, "工单号："+id)
	total, _ := cellWith(t, f, sh, "合计")
	tk := w.Ticket(id)
	if got := rightOf(t, f, sh, total); got != flows.Money(tk.Visit.Quote.Total()) || tk.Visit.Quote.Total() == 0 {
		t.Errorf("quote total %q, want %s", got, flows.Money(tk.Visit.Quote.Total()))
	}
	confirm, _ := cellWith(t, f, sh, "住户确认")
	if got := rightOf(t, f, sh, confirm); !strings.Contains(got, "2026-11-27 10:41") {
		t.Errorf("confirmation %q", got)
	}
}

// TestOrderFileButton: the sign-off card's button sends the file to the
// resident; someone else's tap is refused.
func TestOrderFileButton(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	other := flowstest.Person{ID: 101, Name: "李四"}
	w.Register(other, "13900139000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "门锁坏了")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Drain()
	var msgs []flows.Message
	w.OnDrain = func(ms []flows.Message) { msgs = append(msgs, ms...) }
	w.WalkToSignoff(tech, resident, id)
	w.OnDrain = nil
	var card flows.Message
	for _, m := range flowstest.To(msgs, resident.Chat()) {
		for _, row := range m.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, "1|xo|") {
					card = m
				}
			}
		}
	}
	if card.Text == "" {
		t.Fatal("no work-order button on the sign-off card")
	}
	data := w.ButtonData(card, "Excel")
	w.Refused(w.Tap(other, data, false), "找不到工单") // someone else's ticket is one that does not exist
	w.Expect(w.Tap(resident, data, false))
	fileTo(t, w.Drain(), resident.Chat(), flows.ExportWorkOrder)
}

// TestDailyFiles: /daily sends the task list and the day's repair log;
// both render with the day's ticket.
func TestDailyFiles(t *testing.T) {
	w, id := repaired(t)
	w.Cmd(lead, "daily", "")
	msgs := w.Drain()
	r := renderer(t, w)
	for _, form := range []string{flows.ExportDaily, flows.ExportRepairLog} {
		m := fileTo(t, msgs, lead.Chat(), form)
		data, err := r.Export(context.Background(), *m.Export)
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		f := open(t, data)
		cellWith(t, f, f.GetSheetName(0), id)
		if form == flows.ExportRepairLog {
			cellWith(t, f, f.GetSheetName(0), "zc-qr-030")
		}
	}
}

// TestExportErrors: a spec that names nothing is invalid, a missing ticket
// is not found; both are permanent for the senders.
func TestExportErrors(t *testing.T) {
	w := flowstest.New(t)
	r := renderer(t, w)
	for name, c := range map[string]struct {
		x    flows.Export
		want error
	}{
		"unknown form":   {flows.Export{Form: "nope"}, flows.ErrExportInvalid},
		"no ticket":      {flows.Export{Form: flows.ExportWorkOrder}, flows.ErrExportInvalid},
		"missing ticket": {flows.Export{Form: flows.ExportWorkOrder, Ticket: "BX-20261127-9999"}, flows.ErrNotFound},
		"empty range":    {flows.Export{Form: flows.ExportRepairLog, From: w.Now, To: w.Now}, flows.ErrExportInvalid},
		"bad day":        {flows.Export{Form: flows.ExportDaily, Day: "2026-13-01"}, flows.ErrExportInvalid},
		"chart, no data": {flows.Export{Form: flows.ExportChartCategory}, flows.ErrExportInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := r.Export(context.Background(), c.x); !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// TestStatsFiles: the charts /stats sends decode as PNG with ink in their
// title band (Chinese rendered, not blank), and its workbook opens with
// the period's tickets listed.
func TestStatsFiles(t *testing.T) {
	w, id := repaired(t)
	w.Cmd(lead, "stats", "week")
	msgs := w.Drain()
	r := renderer(t, w)
	for _, form := range []string{flows.ExportChartCategory, flows.ExportChartAccept} {
		m := fileTo(t, msgs, lead.Chat(), form)
		if m.Kind != flows.KindPhoto || !strings.HasSuffix(m.FileName, ".png") {
			t.Fatalf("%s message %+v", form, m)
		}
		data, err := r.Export(context.Background(), *m.Export)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s does not decode: %v", form, err)
		}
		bg, ink := img.At(0, 0), 0
		for y := 0; y < 36; y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				r1, g1, b1, _ := img.At(x, y).RGBA()
				r2, g2, b2, _ := bg.RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 {
					ink++
				}
			}
		}
		if ink < 200 {
			t.Errorf("%s: %d inked pixels in the title band", form, ink)
		}
	}
	data, err := r.Export(context.Background(), *fileTo(t, msgs, lead.Chat(), flows.ExportKPI).Export)
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, data)
	cellWith(t, f, "工单明细", id)
	if cells, err := f.GetPictureCells("图表"); err != nil || len(cells) != 2 {
		t.Fatalf("charts in the workbook: %v %v", cells, err)
	}
}

// TestRangeFormsRenderOnce: the same range form asked for by several
// people at once (the weekly report to every lead) is rendered once.
func TestRangeFormsRenderOnce(t *testing.T) {
	w, _ := repaired(t)
	walks := 0
	r, err := records.New(records.Options{Store: countingStore{Store: w.Store, n: &walks}, Texts: w.Opts.Texts,
		Location: w.Opts.Location, Categories: w.Opts.Categories})
	if err != nil {
		t.Fatal(err)
	}
	x := flows.Export{Form: flows.ExportRepairLog, From: w.Now.Add(-24 * time.Hour), To: w.Now.Add(time.Hour), Lang: flows.LangZH, At: w.Now}
	var first []byte
	for i := 0; i < 3; i++ {
		data, err := r.Export(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = data
		} else if !bytes.Equal(data, first) {
			t.Fatal("a cached file differs")
		}
	}
	if walks != 1 {
		t.Fatalf("%d renders, want 1", walks)
	}
}

type countingStore struct {
	flows.Store
	n *int
}

func (s countingStore) View(ctx context.Context, fn func(flows.Tx) error) error {
	*s.n++
	return s.Store.View(ctx, fn)
}

// TestAreaFiles: a range form, a daily list and a KPI workbook of some
// areas (Export.Areas, a lead's) hold only those areas' tickets; without
// areas, every one.
func TestAreaFiles(t *testing.T) {
	w, east := repaired(t)
	west := w.Report(resident, "阳台灯不亮")
	w.Drain()
	if err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(west)
		if err != nil {
			return err
		}
		tk.Area = "west"
		return tx.PutTicket(tk)
	}); err != nil {
		t.Fatal(err)
	}
	w.Cmd(lead, "daily", "")
	msgs := w.Drain()
	w.Cmd(lead, "stats", "")
	msgs = append(msgs, w.Drain()...)
	r := renderer(t, w)
	for _, form := range []string{flows.ExportDaily, flows.ExportRepairLog, flows.ExportKPI} {
		x := *fileTo(t, msgs, lead.Chat(), form).Export
		for _, c := range []struct {
			areas      []string
			has, hasnt []string
		}{
			{nil, []string{east, west}, nil},
			{[]string{"west"}, []string{west}, []string{east}},
			{[]string{flows.DefaultArea}, []string{east}, []string{west}},
		} {
			t.Run(form+"/"+strings.Join(c.areas, ","), func(t *testing.T) {
				x.Areas = c.areas
				data, err := r.Export(context.Background(), x)
				if err != nil {
					t.Fatal(err)
				}
				f := open(t, data)
				var all strings.Builder
				for _, sheet := range f.GetSheetList() {
					rows, _ := f.GetRows(sheet)
					for _, row := range rows {
						all.WriteString(strings.Join(row, "|") + "\n")
					}
				}
				for _, id := range c.has {
					if !strings.Contains(all.String(), id) {
						t.Errorf("%s misses %s", form, id)
					}
				}
				for _, id := range c.hasnt {
					if strings.Contains(all.String(), id) {
						t.Errorf("%s of %v holds %s of another area:\n%s", form, c.areas, id, all.String())
					}
				}
			})
		}
	}
}

// TestPosterExport: a poster is drawn by Options.Poster from the spec the
// message carries; without it, the export is invalid (permanent).
func TestPosterExport(t *testing.T) {
	w := flowstest.New(t)
	x := flows.Export{Form: flows.ExportPoster, Lang: flows.LangZH, Poster: &flows.PosterSpec{Area: "东苑", Building: "3栋", Link: "https://t.me/b?start=b_x"}}
	if _, err := renderer(t, w).Export(context.Background(), x); !errors.Is(err, flows.ErrExportInvalid) {
		t.Errorf("a poster without a drawer: %v", err)
	}
	r, err := records.New(records.Options{Store: w.Store, Texts: w.Opts.Texts,
		Poster: func(s flows.PosterSpec) ([]byte, error) { return []byte(s.Area + s.Building + s.Link), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Export(context.Background(), x); err != nil || string(got) != "东苑3栋https://t.me/b?start=b_x" {
		t.Errorf("the poster: %q, %v", got, err)
	}
	x.Poster = nil
	if _, err := r.Export(context.Background(), x); !errors.Is(err, flows.ErrExportInvalid) {
		t.Errorf("a poster export without its spec: %v", err)
	}
	// The PDF, by its own drawer.
	pdf := flows.Export{Form: flows.ExportPosterPDF, Lang: flows.LangZH, Poster: &flows.PosterSpec{Area: "东苑", Building: "3栋", Link: "https://t.me/b?start=b_x"}}
	if _, err := r.Export(context.Background(), pdf); !errors.Is(err, flows.ErrExportInvalid) {
		t.Errorf("a PDF poster without a PDF drawer: %v", err)
	}
	r, err = records.New(records.Options{Store: w.Store, Texts: w.Opts.Texts,
		PosterPDF: func(s flows.PosterSpec) ([]byte, error) { return []byte("%PDF " + s.Building), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Export(context.Background(), pdf); err != nil || string(got) != "%PDF 3栋" {
		t.Errorf("the PDF poster: %q, %v", got, err)
	}
}
