package flows

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The monthly fault report (the framework's "fault records and analysis"):
// what was reported, how fast it was reached and fixed, first-time fixes,
// satisfaction, the categories that dominate, places that keep failing
// and who did the work. It streams the month through the touched index,
// so a month of a large store is never held in memory: only counters, one
// minute value per ticket for the percentiles and a count per place.

// MonthReport is the computed report for one calendar month (org time).
type MonthReport struct {
	Month                      string // "2026-10"
	Reported, Household        int
	Public, Emergencies        int
	Closed, Cancelled, Open    int
	Reworked, FirstTime        int
	Rated, LowScores, ScoreSum int
	Breached                   int
	EmergencyFast              int // emergencies accepted within the emergency window
	AcceptMin, ArriveMin       []int32
	FixMin                     []int32
	Categories                 []Count
	Repeats                    []Count // places with the same category reported ≥ 2 times
	RepeatPlaces               int
	Technicians                []TechCount
	Parts                      MonthParts // parts cost per category and technician (parts_report.go)
	// Areas are the areas the report covers (nil: every area), ByArea the
	// tickets reported in each (areas_scope.go).
	Areas  []string
	ByArea map[string]int
}

// Count is a label with how often it occurred.
type Count struct {
	Key, Label string
	N          int
}

// TechCount is one technician's finished jobs in the month.
type TechCount struct {
	Name            string
	Done, ScoreSum  int
	Rated, Reworked int
}

// defaultEmergencyWindow is the SOP's "reached within 5 minutes", for an
// emergency type no longer configured.
const defaultEmergencyWindow = 5 * time.Minute

// monthReportTop bounds the lists in the report, so it fits one message.
const monthReportTop = 8

func (c *call) cmdMonth(arg string) error {
	start, err := c.monthStart(arg)
	if err != nil {
		return err
	}
	r, ok := c.ahead.(*MonthReport)
	if !ok || r.Month != start.Format("2006-01") || !slices.Equal(r.Areas, c.e.scopeOf(c.me)) {
		if r, err = c.monthReport(start); err != nil {
			return err
		}
	}
	c.reply(c.renderMonth(r, c.lang))
	c.repairLogFile(c.replyTo(), c.lang, start, start.AddDate(0, 1, 0))
	return nil
}

// monthStart is the local midnight of the 1st of the month /month names
// (this month without an argument).
func (c *call) monthStart(arg string) (time.Time, error) {
	arg = strings.TrimSpace(arg)
	local := c.now.In(c.e.o.Location)
	start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, c.e.o.Location)
	if arg != "" {
		t, err := time.ParseInLocation("2006-01", strings.ReplaceAll(arg, "/", "-"), c.e.o.Location)
		if err != nil {
			if t, err = time.ParseInLocation("200601", arg, c.e.o.Location); err != nil {
				return time.Time{}, Errorf(CodeInvalid, "month.usage")
			}
		}
		start = t
	}
	if start.After(c.now) {
		return time.Time{}, Errorf(CodeInvalid, "month.future")
	}
	return start, nil
}

// readAhead computes, in a read transaction before the event's write
// transaction, an answer that means a long read: /month scans a month of
// tickets (a second on a million-ticket store), and holding bbolt's single
// writer that long would stall every other event. The write transaction
// still checks who asks and uses the result only if it fits; a report a
// moment older than the transaction is fine.
func (e *Engine) readAhead(ctx context.Context, ev Event) any {
	if ev.Kind == EvCommand && ev.Command == "stats" && !ev.InGroup {
		return e.statsAheadFor(ctx, ev)
	}
	if a := e.partsAhead(ctx, ev); a != nil {
		return a
	}
	if r := e.staffAhead(ctx, ev); r != nil {
		return r
	}
	if ev.Kind != EvCommand || ev.Command != "month" || ev.InGroup {
		return nil
	}
	var r *MonthReport
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC()}
		month, _ := findCommand("month", "")
		p, err := tx.Person(ev.From.ID)
		if err != nil || !month.Allows(p) {
			return nil // not theirs to read: the write transaction refuses it
		}
		e.legacyPerson(p)
		c.me = p // the report covers their areas (areas_scope.go)
		start, err := c.monthStart(ev.Text)
		if err != nil {
			return nil
		}
		r, _ = c.monthReport(start)
		return nil
	})
	if r == nil {
		return nil
	}
	return r
}

// monthReport computes the report for the month starting at start (local
// midnight of the 1st). Tickets count in the month they were reported.
func (c *call) monthReport(start time.Time) (*MonthReport, error) {
	end := start.AddDate(0, 1, 0)
	r := &MonthReport{Month: start.Format("2006-01"), Areas: c.e.scopeOf(c.me), ByArea: map[string]int{}}
	cats := map[string]int{}
	places := map[string]int{}
	techs := map[string]*TechCount{}
	err := c.tx.EachTicketTouched(start.UTC(), end.UTC(), func(t *Ticket) error {
		if t.Created.Before(start) || !t.Created.Before(end) || !c.e.inScope(r.Areas, t) {
			return nil
		}
		r.Reported++
		r.ByArea[c.e.areaOf(t)]++
		if err := r.Parts.add(c.tx, t); err != nil {
			return err
		}
		if t.Kind == OrderPublic {
			r.Public++
		} else {
			r.Household++
		}
		cats[t.Category]++
		if isPublicPlace(t) {
			places[t.Category+"\x00"+t.Place]++
		} else {
			places[t.Category+"\x00"+t.Building+"\x00"+t.Unit+"\x00"+t.Room]++
		}
		if len(t.Breaches) > 0 {
			r.Breached++
		}
		if t.Accepted != nil {
			r.AcceptMin = append(r.AcceptMin, minutes(t.Accepted.Sub(t.Created)))
		}
		if t.Arrived != nil {
			r.ArriveMin = append(r.ArriveMin, minutes(t.Arrived.Sub(t.Created)))
			if t.Finished != nil {
				r.FixMin = append(r.FixMin, minutes(t.Finished.Sub(*t.Arrived)))
			}
		}
		if t.Emergency != "" {
			r.Emergencies++
			window := defaultEmergencyWindow
			if em, ok := c.e.emergency(t.Emergency); ok && em.AcceptWithin > 0 {
				window = em.AcceptWithin
			}
			if t.Accepted != nil && t.Accepted.Sub(t.Created) <= window {
				r.EmergencyFast++
			}
		}
		switch {
		case t.State == StateCancelled:
			r.Cancelled++
			return nil
		case t.State.Open():
			r.Open++
			return nil
		}
		r.Closed++
		if t.Reworks > 0 {
			r.Reworked++
		} else {
			r.FirstTime++
		}
		if t.Score > 0 {
			r.Rated++
			r.ScoreSum += t.Score
			if t.Score <= 2 {
				r.LowScores++
			}
		}
		if t.AssigneeID != "" {
			tc := techs[t.AssigneeID]
			if tc == nil {
				tc = &TechCount{Name: t.Assignee}
				techs[t.AssigneeID] = tc
			}
			tc.Done++
			if t.Score > 0 {
				tc.Rated++
				tc.ScoreSum += t.Score
			}
			if t.Reworks > 0 {
				tc.Reworked++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Parts.finish()
	for k, n := range cats {
		r.Categories = append(r.Categories, Count{Key: k, N: n})
	}
	sortCounts(r.Categories)
	for k, n := range places {
		if n < 2 {
			continue
		}
		r.RepeatPlaces++
		p := strings.Split(k, "\x00")
		r.Repeats = append(r.Repeats, Count{Key: p[0], Label: strings.Join(p[1:], " / "), N: n})
	}
	sortCounts(r.Repeats)
	if len(r.Repeats) > monthReportTop {
		r.Repeats = r.Repeats[:monthReportTop]
	}
	for _, tc := range techs {
		r.Technicians = append(r.Technicians, *tc)
	}
	sort.Slice(r.Technicians, func(i, j int) bool {
		a, b := r.Technicians[i], r.Technicians[j]
		if a.Done != b.Done {
			return a.Done > b.Done
		}
		return a.Name < b.Name
	})
	if len(r.Technicians) > monthReportTop {
		r.Technicians = r.Technicians[:monthReportTop]
	}
	return r, nil
}

func minutes(d time.Duration) int32 {
	if d < 0 {
		return 0
	}
	return int32(d / time.Minute)
}

// sortCounts orders by count, then key and label, so the report is stable.
func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].N != cs[j].N {
			return cs[i].N > cs[j].N
		}
		if cs[i].Label != cs[j].Label {
			return cs[i].Label < cs[j].Label
		}
		return cs[i].Key < cs[j].Key
	})
}

// percentile is the p-th percentile (nearest rank) of vs; it sorts vs.
func percentile(vs []int32, p int) int32 {
	if len(vs) == 0 {
		return 0
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	rank := (p*len(vs) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return vs[rank-1]
}

func pct(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(of))
}

func (c *call) renderMonth(r *MonthReport, l Lang) string {
	var b strings.Builder
	b.WriteString(c.tl(l, "month.head", "month", r.Month))
	if r.Reported == 0 {
		b.WriteString("\n" + c.tl(l, "month.empty"))
		return b.String()
	}
	line := func(key string, kv ...any) { b.WriteString("\n" + c.tl(l, key, kv...)) }
	line("month.reported", "n", r.Reported, "household", r.Household, "public", r.Public, "emergencies", r.Emergencies)
	if r.Areas == nil && c.e.multiArea() {
		b.WriteString(c.areaCounts(r.ByArea, l)) // every area's: broken down by area
	}
	line("month.states", "closed", r.Closed, "cancelled", r.Cancelled, "open", r.Open)
	line("month.accept", "p50", percentile(r.AcceptMin, 50), "p90", percentile(r.AcceptMin, 90))
	line("month.arrive", "p50", percentile(r.ArriveMin, 50), "p90", percentile(r.ArriveMin, 90))
	line("month.fix", "p50", percentile(r.FixMin, 50), "p90", percentile(r.FixMin, 90))
	if r.Emergencies > 0 {
		line("month.emergency", "pct", pct(r.EmergencyFast, r.Emergencies), "n", r.EmergencyFast, "of", r.Emergencies)
	}
	line("month.first_time", "pct", pct(r.FirstTime, r.Closed), "reworked", r.Reworked)
	avg := "—"
	if r.Rated > 0 {
		avg = fmt.Sprintf("%.2f", float64(r.ScoreSum)/float64(r.Rated))
	}
	line("month.score", "avg", avg, "rated", r.Rated, "low", r.LowScores)
	line("month.breaches", "n", r.Breached)
	var cats []string
	for _, ct := range r.Categories {
		cats = append(cats, c.tl(l, "month.category", "category", c.categoryLabel(ct.Key, l), "n", ct.N, "pct", pct(ct.N, r.Reported)))
	}
	line("month.categories", "list", strings.Join(cats, c.tl(l, "order.sep")))
	if r.RepeatPlaces == 0 {
		line("month.repeats_none")
	} else {
		line("month.repeats", "n", r.RepeatPlaces)
		for _, p := range r.Repeats {
			line("month.repeat", "address", p.Label, "category", c.categoryLabel(p.Key, l), "n", p.N)
		}
	}
	if len(r.Technicians) > 0 {
		line("month.techs")
		for _, tc := range r.Technicians {
			avg := "—"
			if tc.Rated > 0 {
				avg = fmt.Sprintf("%.2f", float64(tc.ScoreSum)/float64(tc.Rated))
			}
			line("month.tech", "name", tc.Name, "done", tc.Done, "avg", avg, "reworked", tc.Reworked)
		}
	}
	b.WriteString(c.monthPartsText(&r.Parts, l))
	return b.String()
}
