package forms_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/repairbot/repairbot/charts"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/forms"
	"github.com/repairbot/repairbot/internal/scalegen"
)

func configCategories() []flows.Category {
	var cats []flows.Category
	for _, c := range config.DefaultCategories() {
		cats = append(cats, flows.Category{Key: c.Key, Labels: map[flows.Lang]string{flows.LangZH: c.ZH, flows.LangEN: c.EN}})
	}
	return cats
}

// TestMonthReport runs the /stats pieces on a generated month (a tenth of
// the estate's): one walk feeds the KPIs and the workbook's ticket list,
// the charts draw, and the workbook holds every ticket and the charts.
// With -out it keeps the charts (docs/img/kpi-by-category.png comes from here).
func TestMonthReport(t *testing.T) {
	const n = 4_200
	from, to, loc := benchMonth()
	o := benchOptions(loc)
	o.Categories = configCategories()
	k := flows.KPIOptions{From: from, To: to, Location: loc}
	acc := flows.NewKPI(k)
	book, err := forms.NewKPIBook(o, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := scalegen.Month(from, n, func(tk *flows.Ticket, evs []flows.TicketEvent) error {
		acc.Add(tk, evs)
		return book.Add(tk, evs)
	}); err != nil {
		t.Fatal(err)
	}
	r := acc.Result()
	// One in a thousand generated tickets is still open (ticket 0, 1000, …, 4000).
	if r.Total.Reported != n || r.Total.Open != 5 || r.Total.Resolved != n-5 || r.Approximate != 0 {
		t.Fatalf("reported %d open %d resolved %d approximate %d", r.Total.Reported, r.Total.Open, r.Total.Resolved, r.Approximate)
	}
	pngs, err := charts.KPI(r, charts.Labels{Texts: o.Texts, Categories: o.Categories, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"kpi-by-category.png", "kpi-accept-by-week.png"} {
		if _, err := png.Decode(bytes.NewReader(pngs[i])); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		keep(t, name, pngs[i])
	}
	var buf bytes.Buffer
	if err := book.Write(&buf, r, pngs...); err != nil {
		t.Fatal(err)
	}
	keep(t, "kpi-month.xlsx", buf.Bytes())
	f := open(t, buf.Bytes())
	rows, err := f.GetRows("工单明细")
	if err != nil {
		t.Fatal(err)
	}
	// Four head rows, the tickets, the count line.
	if len(rows) != 4+n+1 {
		t.Fatalf("%d rows in the ticket list, want %d", len(rows), 4+n+1)
	}
	if cells, err := f.GetPictureCells("图表"); err != nil || len(cells) != 2 {
		t.Fatalf("charts in the workbook: %v %v", cells, err)
	}
}
