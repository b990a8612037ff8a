package stockxlsx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/partsgen"
	"github.com/repairbot/repairbot/stockxlsx"
	"github.com/repairbot/repairbot/store"
)

var (
	texts = i18n.MustLoad(flows.LangZH)
	lead  = partsgen.Lead
	t0    = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

func openStore(tb testing.TB, stores ...string) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "parts.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	err = s.Update(context.Background(), func(tx flows.Tx) error {
		for _, id := range stores {
			if _, err := flows.SaveStockLocation(tx, flows.Posting{By: lead, At: t0}, flows.StockLocation{ID: id, Name: "仓 " + id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func catalog(tb testing.TB, s *store.Store) []flows.Part {
	tb.Helper()
	var out []flows.Part
	err := s.View(context.Background(), func(tx flows.Tx) error {
		return tx.EachPart(func(p *flows.Part) error {
			p.Created, p.Updated, p.UpdatedBy = time.Time{}, time.Time{}, ""
			out = append(out, *p)
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func importFile(tb testing.TB, s *store.Store, raw []byte) ([]stockxlsx.RowError, error) {
	tb.Helper()
	c := stockxlsx.ReadCatalog(bytes.NewReader(raw), texts)
	var errs []stockxlsx.RowError
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		var err error
		errs, _, err = c.Import(tx, flows.Posting{By: lead, At: t0.Add(time.Hour)})
		return err
	})
	return errs, err
}

// Export, then import into an empty store: the same catalog, in either
// language's headings; importing it again over itself changes nothing.
func TestCatalogRoundTrip(t *testing.T) {
	src := openStore(t, "main", "east")
	parts := []flows.Part{
		{Code: "P-001", Name: "水龙头", Spec: "DN15 铜，带软管", Unit: "个", UnitCost: 3550, SalePrice: 6000, Billable: true, MinStock: 2, ReorderQty: 10, Stores: []string{"main", "east"}},
		{Code: "P-002", Name: "生料带", Unit: "卷", UnitCost: 1, SalePrice: 0, Stores: []string{"east"}},
		{Code: "P-003.A", Name: "Angle valve \"big\"", Spec: "1/2\"", Unit: "pcs", UnitCost: flows.MaxPartCents, SalePrice: 999999, Billable: true, MinStock: flows.MaxStockQty, Stores: []string{"main"}, Retired: true},
	}
	err := src.Update(context.Background(), func(tx flows.Tx) error {
		probs, _, err := flows.ImportParts(tx, flows.Posting{By: lead, At: t0}, parts)
		if len(probs) > 0 {
			return probs[0].Err
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := catalog(t, src)
	for _, lang := range []flows.Lang{flows.LangZH, flows.LangEN} {
		t.Run(string(lang), func(t *testing.T) {
			var buf bytes.Buffer
			err := src.View(context.Background(), func(tx flows.Tx) error { return stockxlsx.WriteCatalog(&buf, tx, texts, lang) })
			if err != nil {
				t.Fatal(err)
			}
			dst := openStore(t, "main", "east")
			for round := 0; round < 2; round++ {
				errs, err := importFile(t, dst, buf.Bytes())
				if err != nil || len(errs) > 0 {
					t.Fatalf("round %d: %v %+v", round, err, errs)
				}
				if got := catalog(t, dst); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
					t.Fatalf("round %d:\n got %+v\nwant %+v", round, got, want)
				}
			}
		})
	}
}

// sheet builds a workbook from rows of cells.
func sheet(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var header = []any{"编码", "名称", "规格", "单位", "成本单价", "售价", "收费", "最低库存", "建议采购量", "存放仓库", "停用"}

// Every bad row is named with its row, column and why, in both languages,
// and nothing at all is imported — not even the good rows.
func TestCatalogBadRowsRefusedWhole(t *testing.T) {
	s := openStore(t, "main")
	good := []any{"P-OK", "好配件", "", "个", 10, 20, "是", 1, 5, "main", "否"}
	rows := [][]any{header, good,
		{"P-1", "配件", "", "个", "12.345", "", "", "", "", "main", ""},      // 3: money with three decimals
		{"P-2", "配件", "", "个", "", "", "也许", "-3", "", "main", ""},        // 4: yes/no, negative minimum
		{"P-3", "配件", "", "个", "", "", "", "", "", "west", ""},            // 5: unknown store
		{"P-OK", "重复", "", "个", "", "", "", "", "", "main", ""},           // 6: duplicate code
		{"P 4", "", "", "", "", "", "", "", "", "", ""},                   // 7: bad code, no name, no unit, no store
		{"P-5", "收费件", "", "个", "", "", "yes", "", "", "main", ""},        // 8: billable without a price
		{"P-6", "配件", "", "个", "abc", "", "", "2.5", "1e9", "main", "no"}, // 9: money, fraction, too many
	}
	errs, err := importFile(t, s, sheet(t, rows))
	if !errors.Is(err, stockxlsx.ErrRefused) {
		t.Fatalf("want ErrRefused, got %v", err)
	}
	want := []string{
		"3 E parts.xlsx.bad_money",
		"4 G parts.xlsx.bad_bool", "4 H parts.xlsx.bad_int",
		"5 J parts.unknown_store",
		"6 A parts.xlsx.dup_code",
		"7 A parts.bad_code", "7 B parts.bad_name", "7 D parts.bad_unit", "7 J parts.no_store",
		"8 F parts.billable_no_price",
		"9 E parts.xlsx.bad_money", "9 H parts.xlsx.bad_int", "9 I parts.xlsx.bad_int",
	}
	var got []string
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%d %s %s", e.Row, e.Col, e.Key))
		for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
			txt := e.Text(texts, l)
			if strings.Contains(txt, "⟦") || strings.Contains(txt, "{") || !strings.Contains(txt, strconv.Itoa(e.Row)) || !strings.Contains(txt, e.Col) {
				t.Errorf("%s text %q", l, txt)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if dup := errs[4]; dup.Text(texts, flows.LangEN) != "Row 6, column A (编码): Code P-OK is also on row 2." {
		t.Errorf("duplicate named as %q", dup.Text(texts, flows.LangEN))
	}
	if n := len(catalog(t, s)); n != 0 {
		t.Fatalf("%d parts imported from a refused file", n)
	}
}

// Problems of the file as a whole: not a workbook, no rows, headings.
func TestCatalogBadFiles(t *testing.T) {
	s := openStore(t, "main")
	cases := []struct {
		name string
		raw  []byte
		want []string
	}{
		{"not a workbook", []byte("code,name\nP-1,x\n"), []string{"0  parts.xlsx.unreadable"}},
		{"empty sheet", sheet(t, nil), []string{"0  parts.xlsx.empty"}},
		{"header only", sheet(t, [][]any{header}), []string{"0  parts.xlsx.empty"}},
		{"unknown and missing columns", sheet(t, [][]any{{"Code", "名称", "颜色", "Code"}, {"P-1", "x", "红", "P-1"}}),
			[]string{"1 C parts.xlsx.unknown_column", "1 D parts.xlsx.dup_column", "1  parts.xlsx.missing_column", "1  parts.xlsx.missing_column"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs, err := importFile(t, s, tc.raw)
			if !errors.Is(err, stockxlsx.ErrRefused) {
				t.Fatalf("want ErrRefused, got %v", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, fmt.Sprintf("%d %s %s", e.Row, e.Col, e.Key))
				if txt := e.Text(texts, flows.LangEN); strings.Contains(txt, "⟦") || strings.Contains(txt, "{") {
					t.Errorf("text %q", txt)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The report's sheet holds exactly flows.StockMonth's rows, in yuan, and
// each row closes: opening + received − issued + returned − scrapped +
// adjusted = closing; a month's closing is the next month's opening.
func TestMonthlyStockReport(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := partsgen.Setup(ctx, s, 11, 2, 6, 5, t0.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for d.Now.Before(t0.AddDate(0, 2, 0)) { // September to November
		if err := d.Step(ctx, s); err != nil {
			t.Fatal(err)
		}
		d.Now = d.Now.Add(3 * time.Hour)
	}
	var rows, next []flows.StockMonthRow
	var buf bytes.Buffer
	err = s.View(ctx, func(tx flows.Tx) error {
		var err error
		if rows, err = flows.StockMonth(tx, t0, t0.AddDate(0, 1, 0)); err != nil {
			return err
		}
		if next, err = flows.StockMonth(tx, t0.AddDate(0, 1, 0), t0.AddDate(0, 2, 0)); err != nil {
			return err
		}
		return stockxlsx.WriteMonthlyStock(&buf, tx, t0, t0.AddDate(0, 1, 0), "2026-10", texts, flows.LangZH)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 6 {
		t.Fatalf("only %d rows", len(rows))
	}
	opening := map[[2]string]flows.StockAmount{}
	for _, r := range next {
		opening[[2]string{r.Part, r.Store}] = r.Opening
	}
	var moved bool
	for _, r := range rows {
		for _, x := range []func(flows.StockAmount) int64{func(a flows.StockAmount) int64 { return a.Qty }, func(a flows.StockAmount) int64 { return a.Value }} {
			if x(r.Opening)+x(r.Received)-x(r.Issued)+x(r.Returned)-x(r.Scrapped)+x(r.Adjusted) != x(r.Closing) {
				t.Errorf("row does not close: %+v", r)
			}
		}
		if r.Closing != opening[[2]string{r.Part, r.Store}] {
			t.Errorf("October closes %+v, November opens %+v", r.Closing, opening[[2]string{r.Part, r.Store}])
		}
		moved = moved || r.Issued.Qty > 0 && r.Received.Qty > 0 && r.Opening.Qty > 0
	}
	if !moved {
		t.Fatalf("no row with an opening, receipts and issues: %+v", rows)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells, err := f.GetRows("库存月报", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if cells[0][0] != "库存月报 2026-10" || cells[1][4] != "期初数量" || cells[1][17] != "期末金额" || len(cells) != len(rows)+2 {
		t.Fatalf("sheet head %q %q, %d rows", cells[0], cells[1], len(cells))
	}
	for i, r := range rows {
		c := cells[i+2]
		want := []string{r.Part, r.Name, r.Unit, r.Store}
		for _, a := range []flows.StockAmount{r.Opening, r.Received, r.Issued, r.Returned, r.Scrapped, r.Adjusted, r.Closing} {
			want = append(want, strconv.FormatInt(a.Qty, 10), strconv.FormatFloat(float64(a.Value)/100, 'f', -1, 64))
		}
		if strings.Join(c, "|") != strings.Join(want, "|") {
			t.Fatalf("row %d: %q, want %q", i+3, c, want)
		}
	}
}

// Every catalog key this package names exists in both languages.
func TestKeysExist(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`"(parts\.[a-z_.]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			var keys []string
			switch k := m[1]; {
			case k == "parts.col.":
				for _, c := range []string{"code", "name", "spec", "unit", "unit_cost", "sale_price", "billable", "min_stock", "reorder_qty", "stores", "retired"} {
					keys = append(keys, k+c)
				}
			case k == "parts.report.":
				for _, c := range []string{"opening", "received", "issued", "returned", "scrapped", "adjusted", "closing"} {
					keys = append(keys, k+c+"_qty", k+c+"_value")
				}
			default:
				keys = []string{k}
			}
			for _, k := range keys {
				n++
				for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
					if !texts.Has(l, k) {
						t.Errorf("%s: %q missing in %s", f, k, l)
					}
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("found only %d keys: the scan is broken", n)
	}
}
