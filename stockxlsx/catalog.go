// Package stockxlsx reads and writes the spare-parts spreadsheets: the
// catalog (export, and an import that checks every row and imports nothing
// if any is bad) and the monthly stock report. It works on flows' types and
// flows.PartsTx; the rules stay in flows.
package stockxlsx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// MaxRows is the most catalog rows one import takes.
const MaxRows = 20_000

// maxFileBytes bounds what an uploaded workbook may unpack to.
const maxFileBytes = 64 << 20

// column is one catalog column: its field (Part's JSON name, which is also
// its catalog key under parts.col) and whether an import needs it.
type column struct {
	field    string
	required bool
}

// columns in export order.
var columns = []column{
	{"code", true}, {"name", true}, {"spec", false}, {"unit", true}, {"unit_cost", false}, {"sale_price", false},
	{"billable", false}, {"min_stock", false}, {"reorder_qty", false}, {"stores", true}, {"retired", false},
}

var langs = []flows.Lang{flows.LangZH, flows.LangEN}

// RowError is one problem of an uploaded catalog: a row (1 is the header,
// 0 the file as a whole), a column letter and its header, and why, as a
// catalog key with arguments.
type RowError struct {
	Row    int
	Col    string
	Header string
	Key    string
	Args   []any
}

// Text renders the problem for a person.
func (e RowError) Text(t flows.Texts, l flows.Lang) string {
	why := t.T(l, e.Key, e.Args...)
	if e.Row == 0 {
		return why
	}
	return t.T(l, "parts.xlsx.row", "row", e.Row, "col", e.Col, "header", e.Header, "why", why)
}

// WriteCatalog writes every part, one row each, headed in lang, with
// prices in yuan. What it writes, ReadCatalog reads back unchanged.
func WriteCatalog(w io.Writer, tx flows.PartsTx, t flows.Texts, lang flows.Lang) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return err
	}
	head := make([]any, len(columns))
	for i, c := range columns {
		head[i] = t.T(lang, "parts.col."+c.field)
	}
	if err := sw.SetColWidth(1, len(columns), 14); err != nil {
		return err
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	yes, no := t.T(lang, "parts.xlsx.yes"), t.T(lang, "parts.xlsx.no")
	yn := func(b bool) string {
		if b {
			return yes
		}
		return no
	}
	row := 1
	err = tx.EachPart(func(p *flows.Part) error {
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, []any{p.Code, p.Name, p.Spec, p.Unit,
			excelize.Cell{StyleID: money, Value: yuan(p.UnitCost)}, excelize.Cell{StyleID: money, Value: yuan(p.SalePrice)},
			yn(p.Billable), p.MinStock, p.ReorderQty, strings.Join(p.Stores, ","), yn(p.Retired)})
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

func yuan(cents int64) float64 { return float64(cents) / 100 }

// Catalog is an uploaded catalog, read and checked for what the file alone
// can tell (headers, numbers, yes/no); Import checks the rest against the
// store and writes it, or nothing.
type Catalog struct {
	Parts []flows.Part
	rows  []int                // spreadsheet row of each part
	cols  map[string][2]string // field → column letter, header text
	bad   map[[2]int]bool      // (part index, column) that did not parse
	errs  []RowError           // the file's own problems
	index map[string]int       // field → column index
	t     flows.Texts
}

// ReadCatalog reads an uploaded workbook's first sheet; t recognises the
// headings in either language. Problems are collected, not stopped at:
// the person gets them all at once.
func ReadCatalog(r io.Reader, t flows.Texts) *Catalog {
	c := &Catalog{cols: map[string][2]string{}, bad: map[[2]int]bool{}, index: map[string]int{}, t: t}
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxFileBytes, UnzipXMLSizeLimit: maxFileBytes})
	if err != nil {
		c.errs = append(c.errs, RowError{Key: "parts.xlsx.unreadable"})
		return c
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		c.errs = append(c.errs, RowError{Key: "parts.xlsx.unreadable"})
		return c
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			c.errs = append(c.errs, RowError{Key: "parts.xlsx.unreadable"})
			return c
		}
		if n == 1 {
			if !c.header(cells) {
				return c
			}
			continue
		}
		if blank(cells) {
			continue
		}
		if len(c.Parts) == MaxRows {
			c.errs = append(c.errs, RowError{Key: "parts.xlsx.too_many", Args: []any{"max", MaxRows}})
			return c
		}
		c.row(n, cells)
	}
	if rows.Error() != nil {
		c.errs = append(c.errs, RowError{Key: "parts.xlsx.unreadable"})
	} else if n <= 1 || len(c.Parts) == 0 && len(c.errs) == 0 {
		c.errs = append(c.errs, RowError{Key: "parts.xlsx.empty"})
	}
	return c
}

// Errors are the problems found so far (the file's own, before Import).
func (c *Catalog) Errors() []RowError { return c.errs }

func blank(cells []string) bool {
	for _, s := range cells {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// header maps the header row's cells to fields, by either language's
// heading or the field's own name.
func (c *Catalog) header(cells []string) bool {
	names := map[string]string{}
	for _, col := range columns {
		names[col.field] = col.field
		for _, l := range langs {
			names[strings.ToLower(c.t.T(l, "parts.col."+col.field))] = col.field
		}
	}
	ok := true
	for i, raw := range cells {
		h := strings.TrimSpace(raw)
		if h == "" {
			continue
		}
		letter, _ := excelize.ColumnNumberToName(i + 1)
		field, known := names[strings.ToLower(h)]
		switch {
		case !known:
			c.errs = append(c.errs, RowError{Row: 1, Col: letter, Header: h, Key: "parts.xlsx.unknown_column", Args: []any{"text", h}})
			ok = false
		case c.cols[field] != [2]string{}:
			c.errs = append(c.errs, RowError{Row: 1, Col: letter, Header: h, Key: "parts.xlsx.dup_column", Args: []any{"col", h}})
			ok = false
		default:
			c.cols[field] = [2]string{letter, h}
			c.index[field] = i
		}
	}
	for _, col := range columns {
		if col.required && c.cols[col.field] == [2]string{} {
			c.errs = append(c.errs, RowError{Row: 1, Key: "parts.xlsx.missing_column", Args: []any{"col", c.t.T(flows.LangZH, "parts.col."+col.field) + " / " + c.t.T(flows.LangEN, "parts.col."+col.field)}})
			ok = false
		}
	}
	return ok
}

func (c *Catalog) row(n int, cells []string) {
	idx := len(c.Parts)
	var p flows.Part
	get := func(field string) (string, bool) {
		i, ok := c.index[field]
		if !ok || i >= len(cells) {
			return "", ok
		}
		return strings.TrimSpace(cells[i]), true
	}
	fail := func(field, key string, args ...any) {
		col := c.cols[field]
		c.errs = append(c.errs, RowError{Row: n, Col: col[0], Header: col[1], Key: key, Args: args})
		c.bad[[2]int{idx, c.index[field]}] = true
	}
	p.Code, _ = get("code")
	p.Name, _ = get("name")
	p.Spec, _ = get("spec")
	p.Unit, _ = get("unit")
	for _, m := range []struct {
		field string
		dst   *int64
	}{{"unit_cost", &p.UnitCost}, {"sale_price", &p.SalePrice}} {
		if s, _ := get(m.field); s != "" {
			v, ok := parseCents(s)
			if !ok {
				fail(m.field, "parts.xlsx.bad_money")
			}
			*m.dst = v
		}
	}
	for _, m := range []struct {
		field string
		dst   *int64
	}{{"min_stock", &p.MinStock}, {"reorder_qty", &p.ReorderQty}} {
		if s, _ := get(m.field); s != "" {
			v, ok := parseInt(s)
			if !ok {
				fail(m.field, "parts.xlsx.bad_int", "max", flows.MaxStockQty)
			}
			*m.dst = v
		}
	}
	for _, m := range []struct {
		field string
		dst   *bool
	}{{"billable", &p.Billable}, {"retired", &p.Retired}} {
		s, _ := get(m.field)
		v, ok := parseBool(s)
		if !ok {
			fail(m.field, "parts.xlsx.bad_bool")
		}
		*m.dst = v
	}
	if s, _ := get("stores"); s != "" {
		p.Stores = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == ' ' })
	}
	c.Parts = append(c.Parts, p)
	c.rows = append(c.rows, n)
}

// parseCents reads an amount in yuan with at most two decimals.
func parseCents(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "￥")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return 0, false
	}
	c := math.Round(f * 100)
	if math.Abs(f*100-c) > 1e-6 {
		return 0, false // more than two decimals
	}
	return int64(c), true
}

func parseInt(s string) (int64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > flows.MaxStockQty || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "否", "no", "n", "false", "0":
		return false, true
	case "是", "yes", "y", "true", "1":
		return true, true
	}
	return false, false
}

// ErrRefused is returned by Import when any row is bad; nothing was written.
var ErrRefused = errors.New("stockxlsx: the catalog has bad rows; nothing was imported")

// Import checks every part against the store as well (unknown stores,
// duplicate codes, a store given up while it holds stock, the catalog's
// own rules) and, only if no row of the file has any problem, writes them
// all. It returns every problem, row by row, and ErrRefused when there is
// any. Run it inside the write transaction; ReadCatalog before it.
func (c *Catalog) Import(tx flows.PartsTx, p flows.Posting) ([]RowError, flows.StockResult, error) {
	var res flows.StockResult
	if err := flows.AuthorizeParts(flows.PartsEditCatalog, p.By); err != nil {
		return nil, res, err
	}
	errs := append([]RowError(nil), c.errs...)
	if len(c.Parts) > 0 {
		probs, err := flows.CheckParts(tx, c.Parts)
		if err != nil {
			return nil, res, err
		}
		for _, pr := range probs {
			if c.bad[[2]int{pr.Index, c.index[pr.Field]}] {
				continue // already said: it did not parse
			}
			col := c.cols[pr.Field]
			e := RowError{Row: c.rows[pr.Index], Col: col[0], Header: col[1], Key: pr.Err.Key, Args: pr.Err.Args}
			if e.Key == "parts.dup_code" { // name the first row, not the item number
				first := c.rows[pr.Index]
				for i, q := range c.Parts {
					if i < pr.Index && q.Code == c.Parts[pr.Index].Code {
						first = c.rows[i]
						break
					}
				}
				e.Key, e.Args = "parts.xlsx.dup_code", []any{"code", c.Parts[pr.Index].Code, "row", first}
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return errs, res, ErrRefused
	}
	probs, res, err := flows.ImportParts(tx, p, c.Parts)
	if err == nil && len(probs) > 0 {
		err = fmt.Errorf("stockxlsx: checked catalog refused on import: %v", probs[0].Err)
	}
	return nil, res, err
}

func sortErrors(errs []RowError) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		if (a.Col == "") != (b.Col == "") {
			return b.Col == "" // the row's cells first, then what it lacks
		}
		if len(a.Col) != len(b.Col) {
			return len(a.Col) < len(b.Col)
		}
		return a.Col < b.Col
	})
}
