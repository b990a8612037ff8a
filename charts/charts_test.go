package charts_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/charts"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

func render(t *testing.T, draw func(*bytes.Buffer, charts.Spec) error, s charts.Spec) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := draw(&b, s); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	return img
}

func bar(b *bytes.Buffer, s charts.Spec) error  { return charts.Bar(b, s) }
func line(b *bytes.Buffer, s charts.Spec) error { return charts.Line(b, s) }

func same(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}

// inked counts the pixels of the top band (the title) that are not the background.
func inked(img image.Image, top int) int {
	bg := img.At(0, 0)
	n := 0
	for y := 0; y < top; y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			if !same(img.At(x, y), bg) {
				n++
			}
		}
	}
	return n
}

// titleBand is the height of the title area of an 800×450 chart.
const titleBand = 36

func spec(title string) charts.Spec {
	return charts.Spec{Title: title, Labels: []string{"水管/漏水", "电路/停电", "门窗/门锁"}, ValueTitle: "单",
		Series: []charts.Series{{Name: "报修", Values: []float64{3, 5, 2}}}}
}

func TestChartsRender(t *testing.T) {
	for _, c := range []struct {
		name string
		draw func(*bytes.Buffer, charts.Spec) error
	}{{"bar", bar}, {"line", line}} {
		t.Run(c.name, func(t *testing.T) {
			img := render(t, c.draw, spec("各类别报修数量"))
			if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 450 {
				t.Fatalf("size %v", b)
			}
			if n := inked(img, titleBand); n < 300 {
				t.Fatalf("the title area is blank (%d inked pixels)", n)
			}
		})
	}
}

// TestChineseRenders: two titles of four different Chinese characters
// draw different pixels. Rendered as tofu (the font has no such glyphs),
// every character is the same empty box and the two titles are identical.
func TestChineseRenders(t *testing.T) {
	for _, c := range []struct {
		name string
		draw func(*bytes.Buffer, charts.Spec) error
	}{{"bar", bar}, {"line", line}} {
		t.Run(c.name, func(t *testing.T) {
			a, b := render(t, c.draw, spec("水管漏水")), render(t, c.draw, spec("电路停电"))
			diff := 0
			for y := 0; y < titleBand; y++ {
				for x := 0; x < 800; x++ {
					if !same(a.At(x, y), b.At(x, y)) {
						diff++
					}
				}
			}
			if diff < 100 {
				t.Fatalf("the two Chinese titles differ in %d pixels: drawn as boxes", diff)
			}
		})
	}
}

// barHeights measures the bars of a one-series bar chart, left to right:
// runs of columns holding the series colour (the most common saturated
// colour), each as tall as its tallest column of that colour.
func barHeights(img image.Image) []int {
	counts := map[color.RGBA]int{}
	bounds := img.Bounds()
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	for y := titleBand; y < bounds.Dy(); y++ {
		for x := 0; x < bounds.Dx(); x++ {
			c := at(x, y)
			if max(c.R, c.G, c.B)-min(c.R, c.G, c.B) > 60 {
				counts[c]++
			}
		}
	}
	var series color.RGBA
	for c, n := range counts {
		if n > counts[series] {
			series = c
		}
	}
	var heights []int
	in := false
	for x := 0; x < bounds.Dx(); x++ {
		h := 0
		for y := titleBand; y < bounds.Dy(); y++ {
			if at(x, y) == series {
				h++
			}
		}
		switch {
		case h > 0 && !in:
			heights = append(heights, h)
		case h > 0:
			heights[len(heights)-1] = max(heights[len(heights)-1], h)
		}
		in = h > 0
	}
	return heights
}

// TestBarAxisStartsAtZero: bars are as tall as their values. The
// library's own axis starts near the smallest value, which draws the
// value-2 bar as a line and the others out of proportion.
func TestBarAxisStartsAtZero(t *testing.T) {
	s := charts.Spec{Title: "各楼栋报修", Labels: []string{"1栋", "2栋", "3栋", "4栋", "5栋"},
		Series: []charts.Series{{Name: "报修", Values: []float64{3, 5, 2, 7, 4}}}}
	h := barHeights(render(t, bar, s))
	if len(h) != 5 {
		t.Fatalf("%d bars for 5 values: %v", len(h), h)
	}
	for i, v := range s.Series[0].Values {
		// Each bar against the tallest (7): 3/7, 5/7, 2/7, 1, 4/7, within a few pixels.
		if want := float64(h[3]) * v / 7; math.Abs(float64(h[i])-want) > 4 {
			t.Errorf("bar %d (value %v) is %d px, want about %.0f (heights %v)", i, v, h[i], want, h)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for name, s := range map[string]charts.Spec{
		"no categories":     {Title: "x", Series: []charts.Series{{Name: "a"}}},
		"no series":         {Title: "x", Labels: []string{"a"}},
		"values mismatch":   {Title: "x", Labels: []string{"a", "b"}, Series: []charts.Series{{Name: "a", Values: []float64{1}}}},
		"an infinite value": {Title: "x", Labels: []string{"a"}, Series: []charts.Series{{Name: "a", Values: []float64{math.Inf(1)}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := charts.Bar(&bytes.Buffer{}, s); err == nil {
				t.Fatal("rendered")
			}
		})
	}
}

func kpiReport() *flows.KPIReport {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	acc := flows.NewKPI(flows.KPIOptions{From: from, To: from.AddDate(0, 1, 0), Location: loc})
	for i, cat := range []string{"water", "water", "door", "water", "electricity"} {
		at := from.Add(time.Duration(24*(i*4+1)) * time.Hour)
		accepted := at.Add(time.Duration(5*(i+1)) * time.Minute)
		acc.Add(&flows.Ticket{ID: "T" + string(rune('0'+i)), Category: cat, State: flows.StateAccepted, Created: at, Accepted: &accepted}, nil)
	}
	return acc.Result()
}

func TestKPICharts(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	cats := []flows.Category{{Key: "water", Labels: map[flows.Lang]string{flows.LangZH: "水管/漏水"}},
		{Key: "door", Labels: map[flows.Lang]string{flows.LangZH: "门窗/门锁"}}}
	l := charts.Labels{Texts: texts, Categories: cats, Location: time.UTC}
	r := kpiReport()
	s := charts.ByCategory(r, l)
	// water 3, then door and electricity (no label configured: its key) with 1.
	if got := s.Labels; len(got) != 3 || got[0] != "水管/漏水" || got[1] != "门窗/门锁" || got[2] != "electricity" {
		t.Fatalf("labels %v", got)
	}
	if v := s.Series[0].Values; v[0] != 3 || v[1] != 1 || s.Series[1].Values[0] != 0 {
		t.Fatalf("values %v / %v", v, s.Series[1].Values)
	}
	w := charts.AcceptByWeek(r, l)
	// Reported 11-02, 11-06, 11-10, 11-14, 11-18 (days 1, 5, 9, 13, 17 after the 1st), accepted after
	// 5, 10, 15, 20, 25 minutes. Weeks from Monday: 11-01 (Sunday alone), 11-02 (5, 10), 11-09
	// (15, 20), 11-16 (25), 11-23 (none: a gap), 11-30.
	want := []float64{math.NaN(), 7.5, 17.5, 25, math.NaN(), math.NaN()}
	if len(w.Series[0].Values) != len(want) {
		t.Fatalf("weeks %v %v", w.Labels, w.Series[0].Values)
	}
	for i, v := range w.Series[0].Values {
		if !(v == want[i] || math.IsNaN(v) && math.IsNaN(want[i])) {
			t.Fatalf("week %s: %v, want %v", w.Labels[i], v, want[i])
		}
	}
	if w.Labels[1] != "11-02 周" {
		t.Fatalf("week label %q", w.Labels[1])
	}
	pngs, err := charts.KPI(r, l)
	if err != nil || len(pngs) != 2 {
		t.Fatalf("%d charts, %v", len(pngs), err)
	}
	for _, b := range pngs {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if inked(img, titleBand) < 300 {
			t.Fatal("a KPI chart has a blank title")
		}
	}
	// An empty period still draws, saying so.
	empty := flows.NewKPI(flows.KPIOptions{From: r.From, To: r.To}).Result()
	if _, err := charts.KPI(empty, l); err != nil {
		t.Fatalf("empty period: %v", err)
	}
	if got := charts.ByCategory(empty, l).Labels; len(got) != 1 || got[0] != "无数据" {
		t.Fatalf("empty labels %v", got)
	}
}

// TestKPIChartTexts: every text of the KPI charts exists in both catalogs.
func TestKPIChartTexts(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	r := kpiReport()
	empty := flows.NewKPI(flows.KPIOptions{From: r.From, To: r.To}).Result()
	for _, lang := range []flows.Lang{flows.LangZH, flows.LangEN} {
		l := charts.Labels{Texts: texts, Lang: lang}
		for _, s := range []charts.Spec{charts.ByCategory(r, l), charts.AcceptByWeek(r, l), charts.ByCategory(empty, l)} {
			all := append([]string{s.Title, s.Subtitle, s.ValueTitle}, s.Labels...)
			for _, se := range s.Series {
				all = append(all, se.Name)
			}
			for _, x := range all {
				if x == "" || strings.Contains(x, "⟦") {
					t.Errorf("%s: text %q in %q", lang, x, s.Title)
				}
			}
		}
	}
}
