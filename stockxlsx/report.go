package stockxlsx

import (
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// reportColumns are the monthly report's headings after part, name, unit
// and store: a quantity and a value for each.
var reportColumns = []string{"opening", "received", "issued", "returned", "scrapped", "adjusted", "closing"}

// WriteMonthlyStock writes the stock report for [from, to) — per part and
// store: opening, received, issued, returned, scrapped, adjusted and
// closing, quantities and values — titled with month ("2026-10"). It reads
// the period's moves once, in order (flows.StockMonth), and streams the
// rows (excelize's StreamWriter), so a large store costs its moves' time,
// not a sheet held in memory. Run it in a read transaction.
func WriteMonthlyStock(w io.Writer, tx flows.PartsTx, from, to time.Time, month string, t flows.Texts, lang flows.Lang) error {
	rows, err := flows.StockMonth(tx, from, to)
	if err != nil {
		return err
	}
	return writeStockRows(w, rows, month, t, lang)
}

func writeStockRows(w io.Writer, rows []flows.StockMonthRow, month string, t flows.Texts, lang flows.Lang) error {
	f := excelize.NewFile()
	defer f.Close()
	name := t.T(lang, "parts.report.sheet")
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 4+2*len(reportColumns), 12); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: bold, Value: t.T(lang, "parts.report.title", "month", month)}}); err != nil {
		return err
	}
	head := []any{t.T(lang, "parts.report.part"), t.T(lang, "parts.report.name"), t.T(lang, "parts.report.unit"), t.T(lang, "parts.report.store")}
	for _, c := range reportColumns {
		head = append(head, t.T(lang, "parts.report."+c+"_qty"), t.T(lang, "parts.report."+c+"_value"))
	}
	if err := sw.SetRow("A2", head); err != nil {
		return err
	}
	vals := make([]any, 0, len(head))
	for i, r := range rows {
		vals = append(vals[:0], r.Part, r.Name, r.Unit, r.Store)
		for _, a := range []flows.StockAmount{r.Opening, r.Received, r.Issued, r.Returned, r.Scrapped, r.Adjusted, r.Closing} {
			vals = append(vals, a.Qty, excelize.Cell{StyleID: money, Value: yuan(a.Value)})
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
