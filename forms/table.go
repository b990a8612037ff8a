package forms

import (
	"github.com/xuri/excelize/v2"
)

// table is a streamed list form: the organisation, the title, one line of
// form code and period, a header row repeated on every printed page, then
// one row per ticket, written as they come (excelize's StreamWriter keeps
// only a buffer in memory and spills to a temporary file).
type table struct {
	f       *excelize.File
	sw      *excelize.StreamWriter
	st      *styles
	sheet   string
	widths  []float64
	styles  []int // per column
	lastCol string
	row     int
	cells   []any    // reused by add
	texts   []string // reused by add
}

// tableSpec describes a list form's head.
type tableSpec struct {
	sheet           string
	landscape       bool
	footCode        string // the footer's left side
	footPage        string // the footer's right side
	org, title      string
	metaL, metaR    string
	head            []string
	widths          []float64
	numeric         map[int]int // column index → style for numbers
	freezeBelowHead bool
}

const headRow = 4

func newTable(f *excelize.File, st *styles, s tableSpec) (*table, error) {
	if err := pageSetup(f, s.sheet, s.landscape, s.footCode, s.footPage); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(s.sheet)
	if err != nil {
		return nil, err
	}
	t := &table{f: f, sw: sw, st: st, sheet: s.sheet, widths: s.widths}
	t.lastCol, _ = excelize.ColumnNumberToName(len(s.head))
	for i, w := range s.widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
		style := st.cell
		if ns, ok := s.numeric[i]; ok {
			style = ns
		}
		t.styles = append(t.styles, style)
	}
	if s.freezeBelowHead {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headRow, TopLeftCell: cell("A", headRow+1), ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
	}
	half, _ := excelize.ColumnNumberToName(len(s.head) / 2)
	next, _ := excelize.ColumnNumberToName(len(s.head)/2 + 1)
	rows := []struct {
		cells  []any
		height float64
		merges [][2]string
	}{
		{[]any{excelize.Cell{StyleID: st.org, Value: s.org}}, 20, [][2]string{{"A1", cell(t.lastCol, 1)}}},
		{[]any{excelize.Cell{StyleID: st.title, Value: s.title}}, 30, [][2]string{{"A2", cell(t.lastCol, 2)}}},
		{t.at(len(s.head)/2, excelize.Cell{StyleID: st.meta, Value: s.metaL}, excelize.Cell{StyleID: st.meta, Value: s.metaR}), 18,
			[][2]string{{"A3", cell(half, 3)}, {cell(next, 3), cell(t.lastCol, 3)}}},
	}
	for i, r := range rows {
		if err := sw.SetRow(cell("A", i+1), r.cells, excelize.RowOpts{Height: r.height}); err != nil {
			return nil, err
		}
		for _, m := range r.merges {
			if err := sw.MergeCell(m[0], m[1]); err != nil {
				return nil, err
			}
		}
	}
	head := make([]any, len(s.head))
	for i, h := range s.head {
		head[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow(cell("A", headRow), head, excelize.RowOpts{Height: float64(lineHeight(s.head, s.widths))}); err != nil {
		return nil, err
	}
	t.row = headRow + 1
	return t, nil
}

// at places the second cell at column index i (0-based) after the first at A.
func (t *table) at(i int, first, second excelize.Cell) []any {
	out := make([]any, i+1)
	out[0], out[i] = first, second
	return out
}

func lineHeight(values []string, widths []float64) int {
	n := 1
	for i, v := range values {
		if i < len(widths) {
			n = max(n, lines(v, widths[i]))
		}
	}
	return min(n*14+6, maxRowHeight)
}

// add writes one row; strings wrap, numbers take the column's style.
func (t *table) add(values []any) error {
	row, texts := t.cells[:0], t.texts[:0]
	for i, v := range values {
		row, texts = append(row, nil), append(texts, "")
		style := t.st.cell
		if i < len(t.styles) {
			style = t.styles[i]
		}
		if s, ok := v.(string); ok {
			texts[i] = s
			style = t.st.cell // text, also in a numeric column ("—")
		}
		row[i] = excelize.Cell{StyleID: style, Value: v}
	}
	t.cells, t.texts = row, texts
	if err := t.sw.SetRow(cell("A", t.row), row, excelize.RowOpts{Height: float64(lineHeight(texts, t.widths))}); err != nil {
		return err
	}
	t.row++
	return nil
}

// line writes a text across the whole width (totals, notes, signatures).
func (t *table) line(text string, style int, height float64) error {
	if err := t.sw.SetRow(cell("A", t.row), []any{excelize.Cell{StyleID: style, Value: text}}, excelize.RowOpts{Height: min(height, maxRowHeight)}); err != nil {
		return err
	}
	if err := t.sw.MergeCell(cell("A", t.row), cell(t.lastCol, t.row)); err != nil {
		return err
	}
	t.row++
	return nil
}

// finish ends the stream and sets the print area with the head repeated.
func (t *table) finish() error {
	if err := t.sw.Flush(); err != nil {
		return err
	}
	return printArea(t.f, t.sheet, t.lastCol, t.row-1, "$4:$4")
}
