package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StatsTx walks the tickets by when they were reported, for the KPI
// reports: what a period holds is the tickets reported in it (docs/KPI.md).
type StatsTx interface {
	// EachTicketReported calls fn with the brief of every ticket reported
	// (Created) in [from, to), oldest first, as of its last PutTicket; with
	// trails, each brief carries its folded trail (TicketBrief.Trail, nil
	// when the store has none for it). An error from fn stops the walk and
	// is returned. It reads an index of briefs, not the tickets, so a
	// month's report or a look-back over months stays cheap.
	EachTicketReported(from, to time.Time, trails bool, fn func(TicketBrief) error) error
}

// TicketBrief is what the reported index keeps of a ticket: what the KPI
// reports and the preventive hints read, and where to find the ticket.
type TicketBrief struct {
	ID         string     `json:"id"`
	Created    time.Time  `json:"created"`
	State      State      `json:"state"`
	Kind       OrderKind  `json:"kind,omitempty"`
	Category   string     `json:"category,omitempty"`
	Emergency  string     `json:"emergency,omitempty"`
	Building   string     `json:"building,omitempty"`
	Unit       string     `json:"unit,omitempty"`
	Room       string     `json:"room,omitempty"`
	Place      string     `json:"place,omitempty"`
	Asset      string     `json:"asset,omitempty"`
	AgreedTime *time.Time `json:"agreed_time,omitempty"`
	AssigneeID string     `json:"assignee_id,omitempty"`
	Assignee   string     `json:"assignee,omitempty"`
	// Area is the ticket's area (Ticket.Area).
	Area string `json:"area,omitempty"`
	// FaultComponent and FaultCause are the coded fault's (Ticket.Fault).
	FaultComponent string `json:"fault_component,omitempty"`
	FaultCause     string `json:"fault_cause,omitempty"`
	// Quote is the agreed quote's total in fen (Ticket.AgreedQuoteCents).
	Quote int64 `json:"quote,omitempty"`
	Score int   `json:"score,omitempty"`
	// Trail is the ticket's folded audit trail, when asked for (the
	// store's tickets.trail projection), else nil.
	Trail *TrailFold `json:"-"`
}

// Brief is the ticket's brief (without its trail).
func (t *Ticket) Brief() TicketBrief {
	b := TicketBrief{ID: t.ID, Created: t.Created, State: t.State, Kind: t.Kind, Category: t.Category, Emergency: t.Emergency,
		Building: t.Building, Unit: t.Unit, Room: t.Room, Place: t.Place, Asset: t.Asset, AgreedTime: t.AgreedTime,
		AssigneeID: t.AssigneeID, Assignee: t.Assignee, Quote: t.AgreedQuoteCents(), Score: t.Score, Area: t.Area}
	if t.Fault != nil {
		b.FaultComponent, b.FaultCause = t.Fault.Component, t.Fault.Cause
	}
	return b
}

// Ticket is a ticket holding only the brief's fields, as the KPI
// accumulator reads it (AddBrief).
func (b *TicketBrief) Ticket() *Ticket {
	t := &Ticket{ID: b.ID, Created: b.Created, State: b.State, Kind: b.Kind, Category: b.Category, Emergency: b.Emergency,
		Building: b.Building, Unit: b.Unit, Room: b.Room, Place: b.Place, Asset: b.Asset, AgreedTime: b.AgreedTime,
		AssigneeID: b.AssigneeID, Assignee: b.Assignee, Score: b.Score, Area: b.Area}
	if b.FaultComponent != "" || b.FaultCause != "" {
		t.Fault = &FaultCode{Component: b.FaultComponent, Cause: b.FaultCause}
	}
	return t
}

// WalkKPI feeds acc from one transaction: the hints' look-back as briefs,
// then the period's tickets as briefs with their folded trails — no ticket
// or trail is decoded, except for a ticket whose fold the store lacks (a
// record older than the projection); a parts-cost hook reads the job's
// stock level (JobPartsCost), not the ticket. each, when given, gets every
// ticket of the period (a workbook's ticket list): its brief with the
// trail folded, and the ticket and its events when they were read.
func WalkKPI(tx Tx, acc *KPIAcc, each func(b TicketBrief, t *Ticket, events []TicketEvent) error) error {
	if acc.HintFrom().Before(acc.o.From) {
		if err := tx.EachTicketReported(acc.HintFrom(), acc.o.From, false, func(b TicketBrief) error {
			acc.AddBrief(b)
			return nil
		}); err != nil {
			return err
		}
	}
	return tx.EachTicketReported(acc.o.From, acc.o.To, true, func(b TicketBrief) error {
		if !InAreas(acc.o.Areas, b.Ticket().AreaKey()) {
			return nil // another area's ticket: not in a lead's report
		}
		if b.Trail != nil {
			acc.AddBrief(b)
			if each != nil {
				return each(b, nil, nil)
			}
			return nil
		}
		t, err := tx.Ticket(b.ID)
		if err != nil {
			return err
		}
		events, err := tx.TicketEvents(t.ID)
		if err != nil {
			return err
		}
		acc.Add(t, events)
		if each != nil {
			b = t.Brief()
			b.Trail = FoldTrail(events)
			return each(b, t, events)
		}
		return nil
	})
}

// ---- /stats and the weekly report ----

// RecordsOptions configure the records areas: the weekly KPI report, the
// repeat faults, quality control and the callback visits. Zero values
// turn each off (config gives the defaults).
type RecordsOptions struct {
	// Weekly sends last week's KPI report to the leads on WeeklyDay at
	// WeeklyAt (minutes after local midnight).
	Weekly    bool
	WeeklyDay time.Weekday
	WeeklyAt  int
	// RepeatWithin: a report of the same home (any resident) or public
	// asset and category this soon after a ticket there closed is a repeat.
	RepeatWithin time.Duration
	// RepeatOffer is how long a repeat is offered to the technician of the
	// earlier ticket before it goes to the group (0: to the group at once).
	RepeatOffer time.Duration
	// QC samples closed tickets for the lead's quality-control review:
	// QCShare percent of them, and every complaint and every rework.
	QC      bool
	QCShare int
	// CallbackAfter is when after closing a household repair the resident
	// is asked whether the fix held (0: no callbacks); CallbackByCategory
	// overrides it per category key (0: none for that category), and
	// CallbackPublic includes public-facility orders.
	CallbackAfter      time.Duration
	CallbackByCategory map[string]time.Duration
	CallbackPublic     bool
	// CallbackAnswerWithin is how long the resident has to answer before
	// the ticket goes on customer service's phone-callback list (default 48h).
	CallbackAnswerWithin time.Duration
}

// statsAhead is the KPI report of a /stats or weekly report, computed in
// a read transaction before the write one.
type statsAhead struct {
	from, to time.Time
	areas    []string // the report's areas (nil: every area)
	r        *KPIReport
}

// kpiReport walks the tickets reported in [from, to) (and the hints'
// look-back) of the areas (nil: every area) in c's transaction.
func (c *call) kpiReport(from, to time.Time, areas []string) (*KPIReport, error) {
	acc := NewKPI(KPIOptions{From: from, To: to, Location: c.e.o.Location, PartsCost: JobPartsCost(c.tx), Areas: areas})
	if err := WalkKPI(c.tx, acc, nil); err != nil {
		return nil, err
	}
	return acc.Result(), nil
}

// reportFor is the read-ahead report of [from, to) of the areas (nil:
// every area), or one computed now.
func (c *call) reportFor(from, to time.Time, areas []string) (*KPIReport, error) {
	for _, a := range aheads(c.ahead) {
		if s, ok := a.(*statsAhead); ok && s.from.Equal(from) && s.to.Equal(to) && slices.Equal(s.areas, areas) && (s.areas == nil) == (areas == nil) {
			return s.r, nil
		}
	}
	r, err := c.kpiReport(from, to, areas)
	if err == nil {
		// Several leads of the same areas share it (the weekly report).
		c.ahead = append(multiAhead(aheads(c.ahead)), &statsAhead{from: from, to: to, areas: areas, r: r})
	}
	return r, err
}

// aheads lists what was read ahead for this call (one thing, or several).
func aheads(a any) []any {
	if m, ok := a.(multiAhead); ok {
		return m
	}
	if a == nil {
		return nil
	}
	return []any{a}
}

// multiAhead holds several read-ahead results (a tick's audit samples and
// its weekly report).
type multiAhead []any

// aheadOf returns the read-ahead result of type T, if any.
func aheadOf[T any](c *call) (T, bool) {
	for _, a := range aheads(c.ahead) {
		if v, ok := a.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// statsPeriod is the period /stats names: "week" the last seven days to
// the end of today, "month" (the default) this month so far, "YYYY-MM" a
// month.
func (c *call) statsPeriod(arg string) (time.Time, time.Time, error) {
	loc := c.e.o.Location
	local := c.now.In(loc)
	tomorrow := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	a := strings.ToLower(strings.TrimSpace(arg))
	if statsWords[a] == "week" {
		return tomorrow.AddDate(0, 0, -7), tomorrow, nil
	}
	if a == "" || statsWords[a] == "month" {
		return time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc), tomorrow, nil
	}
	start, err := c.monthStart(a)
	var fe *Error
	if errors.As(err, &fe) && fe.Key == "month.usage" {
		return time.Time{}, time.Time{}, Errorf(CodeInvalid, "stats.usage")
	}
	if errors.As(err, &fe) && fe.Key == "month.future" {
		return time.Time{}, time.Time{}, Errorf(CodeInvalid, "stats.future")
	}
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	end := start.AddDate(0, 1, 0)
	if end.After(tomorrow) {
		end = tomorrow
	}
	return start, end, nil
}

// statsWords are the periods /stats takes by name, in both languages.
var statsWords = map[string]string{"week": "week", "周": "week", "本周": "week", "month": "month", "月": "month", "本月": "month"}

// statsAheadFor reads /stats's report ahead of the write transaction, for
// someone who may ask for it.
func (e *Engine) statsAheadFor(ctx context.Context, ev Event) any {
	var out *statsAhead
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC()}
		stats, _ := findCommand("stats", "")
		p, err := tx.Person(ev.From.ID)
		if err != nil || !stats.Allows(p) {
			return nil
		}
		e.legacyPerson(p)
		from, to, err := c.statsPeriod(ev.Text)
		if err != nil {
			return nil
		}
		areas := e.scopeOf(p)
		if r, err := c.kpiReport(from, to, areas); err == nil {
			out = &statsAhead{from: from, to: to, areas: areas, r: r}
		}
		return nil
	})
	if out == nil {
		return nil
	}
	return out
}

func (c *call) cmdStats(arg string) error {
	from, to, err := c.statsPeriod(arg)
	if err != nil {
		return err
	}
	areas := c.e.scopeOf(c.me) // a lead's or a clerk's areas (areas_scope.go)
	r, err := c.reportFor(from, to, areas)
	if err != nil {
		return err
	}
	c.sendStats(c.replyTo(), c.lang, r, areas, "stats.head", PrioNormal)
	return nil
}

// sendStats queues the report's summary (statsText), its two charts and
// its workbook, of the areas (nil: every area).
func (c *call) sendStats(to Address, l Lang, r *KPIReport, areas []string, head string, prio Priority) {
	period := c.periodText(l, r.From, r.To)
	c.send(Message{To: to, Text: c.statsText(r, areas, l, head), Priority: prio})
	if r.Total.Reported == 0 {
		return
	}
	// The charts draw from the figures of this summary: the categories and
	// the daily series, not the per-technician groups.
	fig := ChartFigures(r)
	name := c.periodName(r.From, r.To)
	c.exportImage(to, "kpi_category_"+name+".png", c.tl(l, "export.chart_category", "period", period),
		Export{Form: ExportChartCategory, From: r.From, To: r.To, Lang: l, KPI: fig, Areas: exportAreas(areas)}, prio)
	c.exportImage(to, "kpi_accept_"+name+".png", c.tl(l, "export.chart_accept", "period", period),
		Export{Form: ExportChartAccept, From: r.From, To: r.To, Lang: l, KPI: fig, Areas: exportAreas(areas)}, prio)
	title := c.tl(l, "forms.title.kpi."+c.e.o.Profile)
	c.exportFile(to, title+"_"+name+".xlsx", c.tl(l, "export.kpi", "form", title, "period", period),
		Export{Form: ExportKPI, From: r.From.UTC(), To: r.To.UTC(), Lang: l, Areas: exportAreas(areas)}, "", prio)
}

// statsText is the summary of a report of the areas (nil: every area),
// broken down by area when it covers several: an admin's every area, a
// lead's (or a clerk's) of two or more their own — the same section each.
func (c *call) statsText(r *KPIReport, areas []string, l Lang, head string) string {
	text := c.renderStats(r, l, head)
	if c.e.multiArea() && (areas == nil || len(areas) > 1) {
		text += c.areaKPIs(r, areas, l)
	}
	return text
}

// statsTop is how many categories, buildings, technicians and faults the
// summary names; the workbook has them all.
const statsTop = 3

func minutesText(d time.Duration) string { return fmt.Sprintf("%.1f", d.Minutes()) }

func pctText(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", v)
}

func (c *call) renderStats(r *KPIReport, l Lang, head string) string {
	var b strings.Builder
	b.WriteString(c.tl(l, head, "period", c.periodText(l, r.From, r.To)))
	s := &r.Total
	if s.Reported == 0 {
		b.WriteString("\n" + c.tl(l, "stats.empty"))
		return b.String()
	}
	line := func(key string, kv ...any) { b.WriteString("\n" + c.tl(l, key, kv...)) }
	line("stats.counts", "n", s.Reported, "household", s.Household, "public", s.Public, "emergencies", s.Emergencies,
		"closed", s.Closed, "open", s.Open, "cancelled", s.Cancelled)
	for i, key := range []string{"forms.kpi.accept", "forms.kpi.arrive", "forms.kpi.repair", "forms.kpi.resolve", "forms.kpi.close"} {
		d := s.Times[i]
		if d.N == 0 {
			continue
		}
		line("stats.time", "name", c.tl(l, key), "mean", minutesText(d.Mean()), "p50", minutesText(d.P50), "p90", minutesText(d.P90), "n", d.N)
	}
	sla, okSLA := s.SLACompliance()
	ftf, okFTF := s.FirstTimeFix()
	rework, okRework := s.ReworkRate()
	held, okHeld := s.FixHeld()
	line("stats.rates", "sla", pctText(sla, okSLA), "ftf", pctText(ftf, okFTF), "rework", pctText(rework, okRework), "held", pctText(held, okHeld))
	avg, okAvg := s.MeanScore()
	avgText := "—"
	if okAvg {
		avgText = fmt.Sprintf("%.2f", avg)
	}
	sat, okSat := s.SatisfiedShare()
	line("stats.score", "avg", avgText, "rated", s.Rated, "satisfied", pctText(sat, okSat), "low", s.Low)
	parts := c.tl(l, "stats.parts_untracked")
	if r.PartsTracked {
		parts = c.tl(l, "stats.parts_cost", "money", Money(s.PartsCents), "n", s.PartsTickets)
	}
	line("stats.money", "quote", Money(s.QuoteCents), "quoted", s.Quoted, "parts", parts)
	if s.Repeats > 0 {
		line("stats.repeats", "n", s.Repeats)
	}
	var cats, builds, techs, faults []string
	for i, g := range r.ByCategory {
		if i == statsTop {
			break
		}
		cats = append(cats, c.tl(l, "stats.item", "name", c.categoryLabel(g.Key, l), "n", g.Reported))
	}
	for i, g := range r.ByBuilding {
		if i == statsTop {
			break
		}
		builds = append(builds, c.tl(l, "stats.item", "name", c.areaPlace(r, g.Area, g.Label, l), "n", g.Reported))
	}
	for i, g := range r.ByTechnician {
		if i == statsTop {
			break
		}
		score := "—"
		if v, ok := g.MeanScore(); ok {
			score = fmt.Sprintf("%.2f", v)
		}
		techs = append(techs, c.tl(l, "stats.tech", "name", g.Label, "n", g.Reported, "score", score))
	}
	for i, g := range r.ByFault {
		if i == statsTop {
			break
		}
		cat, comp, _ := strings.Cut(g.Key, "/")
		faults = append(faults, c.tl(l, "stats.item", "name", c.categoryLabel(cat, l)+"·"+FaultLabel(c.e.SOP(), cat, FaultComponentLevel, comp, l), "n", g.Reported))
	}
	sep := c.tl(l, "order.sep")
	line("stats.top_categories", "list", strings.Join(cats, sep))
	if len(builds) > 0 {
		line("stats.top_buildings", "list", strings.Join(builds, sep))
	}
	if len(techs) > 0 {
		line("stats.top_techs", "list", strings.Join(techs, sep))
	}
	if len(faults) > 0 {
		line("stats.top_faults", "list", strings.Join(faults, sep))
	}
	if len(r.Hints) > 0 {
		line("stats.hints")
		for i, h := range r.Hints {
			if i == statsTop {
				line("stats.hints_more", "n", len(r.Hints)-statsTop)
				break
			}
			b.WriteString("\n" + c.areaPlace(r, h.Area, c.tl(l, h.Key, h.KV(c.categoryLabel(h.Category, l), c.e.o.Location)...), l))
		}
	}
	line("stats.more")
	return b.String()
}

// weekStart is the local Monday 00:00 of the week before the one holding t.
func (c *call) lastWeek(t time.Time) (time.Time, time.Time) {
	loc := c.e.o.Location
	l := t.In(loc)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, -7), monday
}

// ensureWeekly keeps the next weekly report scheduled.
func (c *call) ensureWeekly() error {
	o := c.e.o.Records
	if !o.Weekly {
		return nil
	}
	local := c.now.In(c.e.o.Location)
	for i := 0; i < 8; i++ {
		day := local.AddDate(0, 0, i)
		if day.Weekday() != o.WeeklyDay {
			continue
		}
		due := c.atMinutes(day, o.WeeklyAt)
		if !due.After(c.now) {
			continue
		}
		dk := c.dayKey(due)
		return c.tx.PutTimer(Timer{Key: tmWeekly + ":" + dk, Due: due.UTC(), Kind: tmWeekly, Day: dk})
	}
	return nil
}

// weeklyPeriod is the week the report due on day covers.
func (c *call) weeklyPeriod(day string) (time.Time, time.Time, error) {
	d, err := time.ParseInLocation("20060102", day, c.e.o.Location)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, to := c.lastWeek(d)
	// A report day other than Monday covers the seven days before it.
	if d.Weekday() != time.Monday {
		from, to = d.AddDate(0, 0, -7), d
	}
	return from, to, nil
}

// weekly sends the leads last week's KPI report.
func (c *call) weekly(day string) error {
	from, to, err := c.weeklyPeriod(day)
	if err != nil {
		return nil
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	// Each lead's report covers their areas; the admins', every area.
	for _, p := range leads {
		areas := c.e.scopeOf(p)
		r, err := c.reportFor(from, to, areas)
		if err != nil {
			return err
		}
		c.sendStats(p.Chat, p.Lang, r, areas, "stats.weekly_head", PrioReminder)
	}
	return nil
}

// weeklyAhead reads the reports of the weekly timers due now ahead of the
// tick's write transaction.
func (e *Engine) weeklyAhead(ctx context.Context, now time.Time) []any {
	var out []any
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		due, err := tx.DueTimers(now, 100)
		if err != nil {
			return nil
		}
		c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
		for _, tm := range due {
			if tm = readTimer(tm); tm.Kind != tmWeekly {
				continue
			}
			from, to, err := c.weeklyPeriod(tm.Day)
			if err != nil {
				continue
			}
			if r, err := c.kpiReport(from, to, nil); err == nil {
				out = append(out, &statsAhead{from: from, to: to, r: r})
			}
		}
		return nil
	})
	return out
}

// areaPlace names a building's or a hint's area before it when the report
// spans several areas (3栋 of one estate is not 3栋 of another).
func (c *call) areaPlace(r *KPIReport, area, text string, l Lang) string {
	if !c.e.multiArea() || len(r.AreaTotals) < 2 || area == "" {
		return text
	}
	return c.tl(l, "areas.place", "area", c.e.areaName(area, l), "text", text)
}

// areaKPIs is the breakdown of a report by area, of the areas (nil:
// every area): the counts, then each area's main figures and its busiest
// building.
func (c *call) areaKPIs(r *KPIReport, areas []string, l Lang) string {
	out := c.areaCountsIn(r.ByArea, areas, l)
	for _, a := range c.e.areaList() {
		if areas != nil && !slices.Contains(areas, a.Key) {
			continue
		}
		s, ok := r.AreaTotals[a.Key]
		if !ok || s.Reported == 0 {
			continue
		}
		accept := "—"
		if d := s.Times[KPIAccept]; d.N > 0 {
			accept = minutesText(d.Mean())
		}
		sla, okSLA := s.SLACompliance()
		avg := "—"
		if v, ok := s.MeanScore(); ok {
			avg = fmt.Sprintf("%.2f", v)
		}
		top := "—"
		for _, g := range r.ByBuilding {
			if g.Area == a.Key {
				top = c.tl(l, "stats.item", "name", g.Label, "n", g.Reported)
				break
			}
		}
		out += "\n" + c.tl(l, "stats.area_line", "area", c.e.areaName(a.Key, l), "n", s.Reported, "closed", s.Closed,
			"accept", accept, "sla", pctText(sla, okSLA), "avg", avg, "top", top)
	}
	return out
}
