// Package charts draws the KPI report's charts as PNG images with
// go-analyze/charts: bar and line charts whose value axis starts at zero
// and whose Chinese text renders, with a CJK font (WenQuanYi Micro Hei)
// that ships inside the binary, so a chart looks the same on any machine
// without installing fonts.
package charts

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"

	gocharts "github.com/go-analyze/charts"
)

//go:embed fonts/wqy-microhei.ttc.gz
var wqyMicroHei []byte

// FontFamily is the name the embedded CJK font is installed under.
const FontFamily = "wqy-microhei"

var (
	fontOnce sync.Once
	fontErr  error
)

// UseCJKFont installs the embedded CJK font and makes it the charts'
// default (once per process; later calls return the first result). Bar
// and Line call it; a program may call it at start-up to fail early.
func UseCJKFont() error {
	fontOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(wqyMicroHei))
		if err != nil {
			fontErr = fmt.Errorf("charts: embedded font: %w", err)
			return
		}
		ttc, err := io.ReadAll(zr)
		if err != nil {
			fontErr = fmt.Errorf("charts: embedded font: %w", err)
			return
		}
		if err := gocharts.InstallFont(FontFamily, ttc); err != nil {
			fontErr = fmt.Errorf("charts: install font: %w", err)
			return
		}
		fontErr = gocharts.SetDefaultFont(FontFamily)
	})
	return fontErr
}

// Spec is one chart: categories along one axis, one or more series of
// values, a title.
type Spec struct {
	Title, Subtitle string
	// Labels name the categories (x axis); every series has one value per label.
	Labels []string
	Series []Series
	// ValueTitle names the value axis (its unit).
	ValueTitle string
	// Width and Height in pixels; 800 × 450 when zero.
	Width, Height int
}

// Series is one named row of values; NaN is "no value" (a gap in a line).
type Series struct {
	Name   string
	Values []float64
}

func (s *Spec) check() error {
	if len(s.Labels) == 0 {
		return errors.New("charts: no categories")
	}
	if len(s.Series) == 0 {
		return errors.New("charts: no series")
	}
	for _, se := range s.Series {
		if len(se.Values) != len(s.Labels) {
			return fmt.Errorf("charts: series %q has %d values for %d categories", se.Name, len(se.Values), len(s.Labels))
		}
		for _, v := range se.Values {
			if math.IsInf(v, 0) || v == math.MaxFloat64 {
				return fmt.Errorf("charts: series %q has an infinite value", se.Name)
			}
		}
	}
	return nil
}

func (s *Spec) painter() *gocharts.Painter {
	w, h := s.Width, s.Height
	if w <= 0 || h <= 0 {
		w, h = 800, 450
	}
	return gocharts.NewPainter(gocharts.PainterOptions{OutputFormat: gocharts.ChartOutputPNG, Width: w, Height: h,
		Font: gocharts.GetFont(FontFamily), Theme: gocharts.GetTheme(gocharts.ThemeLight)})
}

func (s *Spec) data() ([][]float64, []string) {
	var data [][]float64
	var names []string
	for _, se := range s.Series {
		vs := make([]float64, len(se.Values))
		for i, v := range se.Values {
			if math.IsNaN(v) {
				v = gocharts.GetNullValue()
			}
			vs[i] = v
		}
		data = append(data, vs)
		names = append(names, se.Name)
	}
	return data, names
}

// valueAxis starts at zero: the library otherwise starts a bar chart's
// axis near the smallest value, and a bar at that value vanishes.
func (s *Spec) valueAxis() []gocharts.ValueAxisOption {
	return []gocharts.ValueAxisOption{{Min: gocharts.Ptr(0.0), Title: s.ValueTitle}}
}

func (s *Spec) title() gocharts.TitleOption {
	return gocharts.TitleOption{Text: s.Title, Subtext: s.Subtitle, Offset: gocharts.OffsetCenter,
		FontStyle: gocharts.NewFontStyleWithSize(18), SubtextFontStyle: gocharts.NewFontStyleWithSize(12)}
}

func (s *Spec) legend(names []string) gocharts.LegendOption {
	return gocharts.LegendOption{SeriesNames: names, Offset: gocharts.OffsetRight, Show: gocharts.Ptr(len(names) > 1)}
}

// Bar writes a vertical bar chart as PNG.
func Bar(w io.Writer, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := UseCJKFont(); err != nil {
		return err
	}
	data, names := s.data()
	opt := gocharts.NewBarChartOptionWithData(data)
	opt.Title = s.title()
	opt.CategoryAxis.Labels = s.Labels
	opt.ValueAxis = s.valueAxis()
	opt.Legend = s.legend(names)
	opt.SeriesLabelPosition = gocharts.PositionTop
	opt.ValueFormatter = plain
	for i := range opt.SeriesList {
		opt.SeriesList[i].Label.Show = gocharts.Ptr(true)
		opt.SeriesList[i].Label.ValueFormatter = plain
	}
	p := s.painter()
	if err := p.BarChart(opt); err != nil {
		return fmt.Errorf("charts: bar chart: %w", err)
	}
	return write(w, p)
}

// Line writes a line chart as PNG.
func Line(w io.Writer, s Spec) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := UseCJKFont(); err != nil {
		return err
	}
	data, names := s.data()
	opt := gocharts.NewLineChartOptionWithData(data)
	opt.Title = s.title()
	opt.XAxis.Labels = s.Labels
	opt.XAxis.BoundaryGap = gocharts.Ptr(true)
	opt.YAxis = s.valueAxis()
	opt.Legend = s.legend(names)
	opt.ValueFormatter = plain
	for i := range opt.SeriesList {
		opt.SeriesList[i].Label.Show = gocharts.Ptr(true)
		opt.SeriesList[i].Label.ValueFormatter = plain
	}
	p := s.painter()
	if err := p.LineChart(opt); err != nil {
		return fmt.Errorf("charts: line chart: %w", err)
	}
	return write(w, p)
}

// plain shows whole numbers as they are (not "1.54k") and others with
// one decimal: the counts and minutes of a report.
func plain(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func write(w io.Writer, p *gocharts.Painter) error {
	b, err := p.Bytes()
	if err != nil {
		return fmt.Errorf("charts: render: %w", err)
	}
	_, err = w.Write(b)
	return err
}
