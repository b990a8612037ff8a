package charts

import (
	"bytes"
	"math"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Labels are what the KPI charts need to name things.
type Labels struct {
	// Texts is the message catalog; required.
	Texts      flows.Texts
	Lang       flows.Lang
	Categories []flows.Category
	// Location is the organisation's time zone (the period's dates).
	Location *time.Location
}

func (l *Labels) t(key string, kv ...any) string {
	lang := l.Lang
	if lang == "" {
		lang = flows.LangZH
	}
	return l.Texts.T(lang, key, kv...)
}

func (l *Labels) period(r *flows.KPIReport) string {
	loc := l.Location
	if loc == nil {
		loc = time.UTC
	}
	from, to := r.From.In(loc), r.To.In(loc).Add(-time.Nanosecond)
	return l.t("forms.period", "from", from.Format("2006-01-02"), "to", to.Format("2006-01-02"))
}

// ByCategory is the bar chart of tickets reported and resolved per
// category, most reported first.
func ByCategory(r *flows.KPIReport, l Labels) Spec {
	s := Spec{Title: l.t("charts.by_category"), Subtitle: l.period(r), ValueTitle: l.t("charts.tickets"),
		Series: []Series{{Name: l.t("forms.kpi.reported")}, {Name: l.t("forms.kpi.resolved")}}}
	lang := l.Lang
	if lang == "" {
		lang = flows.LangZH
	}
	for _, g := range r.ByCategory {
		s.Labels = append(s.Labels, flows.CategoryLabel(l.Categories, g.Key, lang))
		s.Series[0].Values = append(s.Series[0].Values, float64(g.Reported))
		s.Series[1].Values = append(s.Series[1].Values, float64(g.Resolved))
	}
	if len(s.Labels) == 0 {
		s.Labels = []string{l.t("charts.none")}
		s.Series[0].Values, s.Series[1].Values = []float64{0}, []float64{0}
	}
	return s
}

// AcceptByWeek is the line chart of the mean time to accept per week
// (Monday to Sunday), in minutes; a week with no acceptance is a gap.
func AcceptByWeek(r *flows.KPIReport, l Labels) Spec {
	s := Spec{Title: l.t("charts.accept_week"), Subtitle: l.period(r), ValueTitle: l.t("charts.minutes"),
		Series: []Series{{Name: l.t("forms.kpi.accept")}}}
	for _, w := range r.ByWeek() {
		s.Labels = append(s.Labels, l.t("charts.week", "date", w.Start.Format("01-02")))
		v := math.NaN()
		if m, ok := w.Accept.MeanMinutes(); ok {
			v = math.Round(m*10) / 10
		}
		s.Series[0].Values = append(s.Series[0].Values, v)
	}
	if len(s.Labels) == 0 {
		s.Labels, s.Series[0].Values = []string{l.t("charts.none")}, []float64{0}
	}
	return s
}

// KPI renders the report's two charts as PNGs: tickets per category (bar)
// and the time to accept per week (line).
func KPI(r *flows.KPIReport, l Labels) ([][]byte, error) {
	var bar, line bytes.Buffer
	if err := Bar(&bar, ByCategory(r, l)); err != nil {
		return nil, err
	}
	if err := Line(&line, AcceptByWeek(r, l)); err != nil {
		return nil, err
	}
	return [][]byte{bar.Bytes(), line.Bytes()}, nil
}
