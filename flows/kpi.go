package flows

import (
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KPIs of the repair service (the framework's areas 5 and 6), each defined
// as a start event → an end event of a ticket's audit trail; docs/KPI.md is
// the reference for every definition. The computation is pure and
// streams: an accumulator is fed one ticket and its trail at a time, in
// whatever order the store walks them (Tx.EachTicketTouched), and keeps
// counters per group, one minute value per ticket for the totals'
// percentiles and the few report times the preventive hints look at.

// Audit-trail actions the KPIs read besides the ticket actions of
// machine.go. The callback visit (回访) records the resident's answer
// under these names, whether given in chat or taken by a clerk on the
// phone; "not held" reopens the ticket as rework.
const (
	ActionReported        = "reported"
	ActionRepeat          = "repeat"
	ActionCallbackHeld    = "callback_held"
	ActionCallbackNotHeld = "callback_not_held"
)

// Breach kinds as recorded on tickets and in their SLA events.
const (
	BreachAccept = "accept"
	BreachArrive = "arrive"
)

// SatisfiedScore and above count as satisfied (满意); complaintScore (2)
// and below are complaints, as the survey treats them.
const SatisfiedScore = 4

// TicketTimes are one ticket's KPI milestones, read from its audit trail
// (TicketKPI). A nil time means the event has not happened.
type TicketTimes struct {
	// Reported is the "reported" event (the ticket's creation).
	Reported time.Time
	// Accepted is the first move out of new into accepted: a technician's
	// 接单 or a lead's direct assignment. Later re-acceptances do not count.
	Accepted *time.Time
	// Arrived is the first arrival on site ("arr").
	Arrived *time.Time
	// WorkArrived is the arrival that began the visit in which the first
	// sign-off was requested: the last "arr" before the first "done".
	WorkArrived *time.Time
	// Done is the first sign-off request ("done", work finished).
	Done *time.Time
	// Resolved is the last confirmation by the resident ("fix").
	Resolved *time.Time
	// Closed is the last move into closed (the satisfaction score).
	Closed *time.Time
	// Appointment is set when the resident chose a time instead of "as soon
	// as possible", and when that is no longer known: a no-one-home visit
	// replaces the agreed time with the next one. Such tickets are not in
	// the time to arrive.
	Appointment bool
	// Breaches are the SLA kinds breached (BreachAccept, BreachArrive).
	Breaches []string
	// Reworks counts sign-offs refused ("nfx") and callbacks answered
	// "not held".
	Reworks int
	// Held and NotHeld count the callback answers.
	Held, NotHeld int
	// Repeat names the earlier ticket this one repeats ("" if none).
	Repeat string
	// Score is the satisfaction score 1–5 (0 not rated).
	Score int
	// State is the ticket's state when read.
	State State
	// Trail is false when the ticket had no audit trail and the times come
	// from the ticket's summary fields (a store generated without events).
	Trail bool
}

// SLAMet reports whether the ticket's SLA is decided and met. decided is
// false while a clock may still run (not arrived and nothing breached) and
// for tickets withdrawn before anyone came.
func (tt TicketTimes) SLAMet() (met, decided bool) {
	if len(tt.Breaches) > 0 {
		return false, true
	}
	return tt.Arrived != nil, tt.Arrived != nil
}

// FirstTimeFix reports whether a resolved ticket was fixed without rework
// (ok is false when the ticket is not resolved).
func (tt TicketTimes) FirstTimeFix() (ftf, ok bool) {
	if tt.Resolved == nil {
		return false, false
	}
	return tt.Reworks == 0, true
}

// Span is the duration between two milestones; ok is false if either is
// missing. A clock running backwards counts as zero.
func Span(from time.Time, to *time.Time) (time.Duration, bool) {
	if to == nil || from.IsZero() {
		return 0, false
	}
	if d := to.Sub(from); d > 0 {
		return d, true
	}
	return 0, true
}

// The five durations, by index into the KPI stats.
const (
	KPIAccept  = iota // reported → first accepted
	KPIArrive         // reported → first arrival (as-soon-as-possible tickets)
	KPIRepair         // the working visit's arrival → first sign-off request
	KPIResolve        // reported → last resident confirmation
	KPIClose          // reported → closed
	kpiSpans
)

// Spans returns the five KPI durations of the ticket (see the KPIAccept…
// constants); ok[i] is false where the KPI does not apply yet or at all.
func (tt TicketTimes) Spans() (d [kpiSpans]time.Duration, ok [kpiSpans]bool) {
	d[KPIAccept], ok[KPIAccept] = Span(tt.Reported, tt.Accepted)
	if !tt.Appointment {
		d[KPIArrive], ok[KPIArrive] = Span(tt.Reported, tt.Arrived)
	}
	if tt.WorkArrived != nil {
		d[KPIRepair], ok[KPIRepair] = Span(*tt.WorkArrived, tt.Done)
	}
	d[KPIResolve], ok[KPIResolve] = Span(tt.Reported, tt.Resolved)
	d[KPIClose], ok[KPIClose] = Span(tt.Reported, tt.Closed)
	return d, ok
}

// TrailFold is what a ticket's audit trail says for its KPIs, folded one
// event at a time (Add) in the order of the trail. A store keeps it beside
// the trail as events are appended — a projection, rebuilt from the events
// whenever it is missing — so the reports read one small record per
// ticket instead of its whole trail. TimesOf combines it with the ticket.
type TrailFold struct {
	// Events counts the events folded.
	Events      int        `json:"n"`
	Reported    *time.Time `json:"reported,omitempty"`
	Accepted    *time.Time `json:"accepted,omitempty"`
	Arrived     *time.Time `json:"arrived,omitempty"`
	LastArrive  *time.Time `json:"last_arrive,omitempty"` // the latest arrival so far (the working visit's, at the first done)
	WorkArrived *time.Time `json:"work_arrived,omitempty"`
	Done        *time.Time `json:"done,omitempty"`
	Resolved    *time.Time `json:"resolved,omitempty"`
	Closed      *time.Time `json:"closed,omitempty"`
	NoOneHome   bool       `json:"no_one_home,omitempty"`
	Breaches    []string   `json:"breaches,omitempty"`
	Reworks     int        `json:"reworks,omitempty"`
	Held        int        `json:"held,omitempty"`
	NotHeld     int        `json:"not_held,omitempty"`
	Repeat      string     `json:"repeat,omitempty"`
	// Score is the note of the last move into closed by a score; Scored
	// says there was one.
	Score  int  `json:"score,omitempty"`
	Scored bool `json:"scored,omitempty"`
}

// Add folds the next event of the trail.
func (f *TrailFold) Add(e TicketEvent) {
	f.Events++
	at := e.At
	breach := func(kind string) {
		for _, b := range f.Breaches {
			if b == kind {
				return
			}
		}
		f.Breaches = append(f.Breaches, kind)
	}
	switch {
	case e.Action == ActionReported:
		f.Reported = &at
	case e.From == StateNew && e.To == StateAccepted:
		if f.Accepted == nil {
			f.Accepted = &at
		}
	case e.Action == string(ActArrive):
		if f.Arrived == nil {
			f.Arrived = &at
		}
		f.LastArrive = &at
	case e.Action == string(ActNoOneHome):
		f.NoOneHome = true
	case e.Action == string(ActDone):
		if f.Done == nil {
			f.Done, f.WorkArrived = &at, f.LastArrive
		}
	case e.Action == string(ActFixed):
		f.Resolved = &at
	case e.Action == string(ActNotFixed):
		f.Reworks++
	case e.Action == ActionCallbackHeld:
		f.Held++
	case e.Action == ActionCallbackNotHeld:
		f.NotHeld++
		f.Reworks++
	case e.Action == ActionRepeat:
		f.Repeat = e.Note
	case e.Action == "sla_accept":
		breach(BreachAccept)
	case e.Action == "sla_arrive":
		breach(BreachArrive)
	case e.Action == "sla_rung":
		// Rung 1 is the emergency not accepted in time; 2 and 3 not arrived.
		if n, _ := strconv.Atoi(strings.Fields(e.Note + " 0")[0]); n <= 1 {
			breach(BreachAccept)
		} else {
			breach(BreachArrive)
		}
	}
	if e.To == StateClosed && e.From != StateClosed {
		f.Closed = &at
		if e.Action == string(ActScore) {
			if n, err := strconv.Atoi(e.Note); err == nil {
				f.Score, f.Scored = n, true
			}
		}
	}
}

// FoldTrail folds a whole trail (in order).
func FoldTrail(events []TicketEvent) *TrailFold {
	f := &TrailFold{}
	for _, e := range events {
		f.Add(e)
	}
	return f
}

// TicketKPI reads a ticket's milestones from its audit trail (events in
// order). Without a trail the ticket's summary fields stand in: they lose
// what a trail keeps (an acceptance undone by a return to the group, the
// arrivals of earlier visits), so such times are approximate.
func TicketKPI(t *Ticket, events []TicketEvent) TicketTimes { return TimesOf(t, FoldTrail(events)) }

// TimesOf is TicketKPI from a folded trail (nil or empty: the ticket's
// summary fields).
func TimesOf(t *Ticket, f *TrailFold) TicketTimes {
	tt := TicketTimes{Reported: t.Created, Appointment: t.AgreedTime != nil, Score: t.Score, State: t.State}
	if f == nil || f.Events == 0 {
		return ticketSummaryTimes(t, tt)
	}
	tt.Trail = true
	if f.Reported != nil {
		tt.Reported = *f.Reported
	}
	tt.Accepted, tt.Arrived, tt.WorkArrived, tt.Done, tt.Resolved, tt.Closed = f.Accepted, f.Arrived, f.WorkArrived, f.Done, f.Resolved, f.Closed
	tt.Appointment = tt.Appointment || f.NoOneHome
	tt.Breaches = append([]string(nil), f.Breaches...)
	tt.Reworks, tt.Held, tt.NotHeld, tt.Repeat = f.Reworks, f.Held, f.NotHeld, f.Repeat
	if f.Scored {
		tt.Score = f.Score
	}
	return tt
}

func ticketSummaryTimes(t *Ticket, tt TicketTimes) TicketTimes {
	tt.Accepted, tt.Arrived, tt.WorkArrived, tt.Done = t.Accepted, t.Arrived, t.Arrived, t.Finished
	switch t.State {
	case StateConfirmed, StateSurvey, StateClosed:
		tt.Resolved = t.Finished
	}
	if t.State == StateClosed {
		tt.Closed = t.Closed
	}
	tt.Reworks = t.Reworks
	tt.Breaches = append([]string(nil), t.Breaches...)
	return tt
}

// DurationStat summarises one KPI duration over a group of tickets.
type DurationStat struct {
	N   int
	Sum time.Duration
	Max time.Duration
	// P50 and P90 (nearest rank) are filled for the report's totals only:
	// groups keep no per-ticket values.
	P50, P90 time.Duration
}

// Mean is the average duration (0 with no tickets).
func (s DurationStat) Mean() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.Sum / time.Duration(s.N)
}

// MeanMinutes is the average in minutes; ok is false with no tickets.
func (s DurationStat) MeanMinutes() (float64, bool) {
	if s.N == 0 {
		return 0, false
	}
	return s.Mean().Minutes(), true
}

func (s *DurationStat) add(d time.Duration) {
	s.N++
	s.Sum += d
	if d > s.Max {
		s.Max = d
	}
}

// KPIStats are the counters and KPIs of one group of tickets (every ticket
// reported in the period, one category, one building or one technician).
type KPIStats struct {
	Reported, Household, Public, Emergencies int
	// Open, Cancelled, Unresolved and Closed are the states when read;
	// Resolved counts tickets the resident confirmed (closed or not).
	Open, Cancelled, Unresolved, Resolved, Closed int
	// Durations by KPIAccept… index.
	Times [kpiSpans]DurationStat
	// SLADecided tickets had their SLA decided; SLAMet of them had no breach.
	SLADecided, SLAMet int
	// FirstTime resolved tickets had no rework; Reworked had at least one;
	// Reworks counts the reworks themselves.
	FirstTime, Reworked, Reworks int
	// Repeats are reports of the same fault at the same home soon after a repair.
	Repeats int
	// Rated tickets have a score; Satisfied scored ≥ 4, Low ≤ 2.
	Rated, ScoreSum, Satisfied, Low int
	// Held and NotHeld count callback answers.
	Held, NotHeld int
	// Quoted tickets had a quote agreed; QuoteCents sums them (paid service).
	Quoted     int
	QuoteCents int64
	// PartsTickets had parts cost recorded; PartsCents sums it. Both stay
	// 0 until KPIOptions.PartsCost is set.
	PartsTickets int
	PartsCents   int64
}

// Ratio is n/of as a percentage; ok is false when of is 0.
func Ratio(n, of int) (pct float64, ok bool) {
	if of == 0 {
		return 0, false
	}
	return float64(n) * 100 / float64(of), true
}

// SLACompliance is the share of decided tickets without an SLA breach, %.
func (s *KPIStats) SLACompliance() (float64, bool) { return Ratio(s.SLAMet, s.SLADecided) }

// FirstTimeFix is the share of resolved tickets without rework, %.
func (s *KPIStats) FirstTimeFix() (float64, bool) { return Ratio(s.FirstTime, s.Resolved) }

// ReworkRate is reworks per 100 resolved tickets.
func (s *KPIStats) ReworkRate() (float64, bool) { return Ratio(s.Reworks, s.Resolved) }

// FixHeld is the share of callback answers saying the fix held, %.
func (s *KPIStats) FixHeld() (float64, bool) { return Ratio(s.Held, s.Held+s.NotHeld) }

// SatisfiedShare is the share of rated tickets scored 4 or 5 (满意率), %.
func (s *KPIStats) SatisfiedShare() (float64, bool) { return Ratio(s.Satisfied, s.Rated) }

// MeanScore is the average satisfaction score 1–5.
func (s *KPIStats) MeanScore() (float64, bool) {
	if s.Rated == 0 {
		return 0, false
	}
	return float64(s.ScoreSum) / float64(s.Rated), true
}

// add counts one ticket of the period (quote: the agreed quote's total).
func (s *KPIStats) add(t *Ticket, tt *TicketTimes, quote int64, parts int64, partsOK bool) {
	s.Reported++
	if t.Kind == OrderPublic {
		s.Public++
	} else {
		s.Household++
	}
	if t.Emergency != "" {
		s.Emergencies++
	}
	switch {
	case t.State == StateCancelled:
		s.Cancelled++
	case t.State == StateUnresolved:
		s.Unresolved++
	case t.State == StateClosed:
		s.Closed++
	case t.State.Open():
		s.Open++
	}
	d, ok := tt.Spans()
	for i := range d {
		if ok[i] {
			s.Times[i].add(d[i])
		}
	}
	if met, decided := tt.SLAMet(); decided {
		s.SLADecided++
		if met {
			s.SLAMet++
		}
	}
	if tt.Resolved != nil {
		s.Resolved++
		s.Reworks += tt.Reworks
		if tt.Reworks == 0 {
			s.FirstTime++
		} else {
			s.Reworked++
		}
	}
	if tt.Repeat != "" {
		s.Repeats++
	}
	if tt.Score > 0 {
		s.Rated++
		s.ScoreSum += tt.Score
		if tt.Score >= SatisfiedScore {
			s.Satisfied++
		}
		if tt.Score <= complaintScore {
			s.Low++
		}
	}
	s.Held += tt.Held
	s.NotHeld += tt.NotHeld
	if quote > 0 {
		s.Quoted++
		s.QuoteCents += quote
	}
	if partsOK {
		s.PartsTickets++
		s.PartsCents += parts
	}
}

// agreedQuote is the quote the resident agreed to, if any.
func (t *Ticket) agreedQuote() *Quote {
	if t.Visit == nil || t.Visit.Quote == nil || t.Visit.Quote.Status != "agreed" {
		return nil
	}
	return t.Visit.Quote
}

// AgreedQuoteCents is the total of the quote the resident agreed to (0 if none).
func (t *Ticket) AgreedQuoteCents() int64 { return t.agreedQuote().Total() }

// KPIGroup is one category, building or technician with its stats.
type KPIGroup struct {
	// Key is the category key, the building or the technician's person id.
	Key string
	// Label is the technician's name; the building; empty for a category
	// (its label depends on the reader's language: CategoryLabel).
	Label string
	// Area is a building's area (Ticket.AreaKey; ByBuilding groups one
	// area's building); "" for the other groups.
	Area string
	KPIStats
}

// KPIDay is one local day of the period, for the charts.
type KPIDay struct {
	Start    time.Time // local midnight
	Reported int
	Accept   DurationStat
	Resolved int
}

// Hint is a preventive maintenance suggestion: the same kind of fault kept
// coming back at one place within a short window.
type Hint struct {
	// Key is the catalog key of the text; Rule the rule's name.
	Key, Rule string
	// Category is the category of the first ticket (its key).
	Category string
	// Area is the place's area (Ticket.AreaKey): 3栋 of one estate is not
	// 3栋 of another.
	Area                 string
	Building, Unit, Room string
	// Riser is the flat position on a floor ("03" of room 1203) when the
	// rule's scope is the riser.
	Riser string
	N     int
	// First and Last are the first and last report in the window.
	First, Last time.Time
	// Tickets are the ids in the window, oldest first.
	Tickets []string
}

// hintTickets is how many ticket ids a hint's text names; the rest are counted.
const hintTickets = 5

// KV returns the hint's placeholders for its catalog text, with the
// category label given by the caller (it depends on the reader's language).
func (h Hint) KV(category string, loc *time.Location) []any {
	if loc == nil {
		loc = time.UTC
	}
	ids := strings.Join(h.Tickets, ", ")
	if len(h.Tickets) > hintTickets {
		ids = strings.Join(h.Tickets[:hintTickets], ", ") + " … (+" + strconv.Itoa(len(h.Tickets)-hintTickets) + ")"
	}
	return []any{"category", category, "building", h.Building, "unit", h.Unit, "room", h.Room, "riser", h.Riser,
		"n", h.N, "days", int(h.Last.Sub(h.First).Hours()/24) + 1,
		"first", h.First.In(loc).Format("01-02"), "last", h.Last.In(loc).Format("01-02"),
		"tickets", ids}
}

// Hint scopes: where repeated faults are counted together.
const (
	ScopeRiser    = "riser"    // building + unit + flat position: one vertical stack of flats
	ScopeRoom     = "room"     // one home
	ScopeUnit     = "unit"     // building + unit (单元)
	ScopeBuilding = "building" // one building
)

// HintRule raises a hint when at least Min tickets of the categories (or
// emergency types) were reported at one place of Scope within Window.
type HintRule struct {
	Name        string
	Key         string // catalog key of the text
	Categories  []string
	Emergencies []string
	Scope       string
	Window      time.Duration
	Min         int
}

// DefaultHintRules need no configuration: leaks up one riser (a shared
// pipe), the same fault again and again in one home (replace, not repair),
// power faults in one unit (its distribution board) and lift entrapments in
// one building.
var DefaultHintRules = []HintRule{
	{Name: "riser_leaks", Key: "kpi.hint.riser", Categories: []string{"water"}, Emergencies: []string{"water_leak"},
		Scope: ScopeRiser, Window: 30 * 24 * time.Hour, Min: 3},
	{Name: "home_repeats", Key: "kpi.hint.home", Scope: ScopeRoom, Window: 90 * 24 * time.Hour, Min: 3},
	{Name: "unit_power", Key: "kpi.hint.power", Categories: []string{"electricity"}, Emergencies: []string{"power_cut"},
		Scope: ScopeUnit, Window: 30 * 24 * time.Hour, Min: 3},
	{Name: "lift_entrapments", Key: "kpi.hint.lift", Emergencies: []string{"lift"},
		Scope: ScopeBuilding, Window: 30 * 24 * time.Hour, Min: 2},
}

func (r *HintRule) matches(t *Ticket) bool {
	if len(r.Categories) == 0 && len(r.Emergencies) == 0 {
		return true
	}
	return (t.Category != "" && contains(r.Categories, t.Category)) || (t.Emergency != "" && contains(r.Emergencies, t.Emergency))
}

// placeKey is a place at a rule's scope (a struct: no key is built per ticket).
type placeKey struct{ area, building, unit, room, category string }

// place is the ticket's place at the rule's scope; ok is false when it has none.
func (r *HintRule) place(t *Ticket) (k placeKey, riser string, ok bool) {
	switch r.Scope {
	case ScopeRiser:
		riser = RiserOf(t.Room)
		return placeKey{area: t.AreaKey(), building: t.Building, unit: t.Unit, room: riser}, riser, riser != ""
	case ScopeRoom:
		// One home, one kind of fault: the category is part of the place.
		return placeKey{t.AreaKey(), t.Building, t.Unit, t.Room, t.Category}, "", t.Room != ""
	case ScopeUnit:
		return placeKey{area: t.AreaKey(), building: t.Building, unit: t.Unit}, "", true
	case ScopeBuilding:
		return placeKey{area: t.AreaKey(), building: t.Building}, "", true
	}
	return placeKey{}, "", false
}

// RiserOf is the flat's position on its floor, the last two digits of a
// room number of three or more digits ("1203" → "03", "502" → "02"): flats
// with the same position in one unit stack vertically and share the water
// and drain risers. Other room names have no riser ("").
func RiserOf(room string) string {
	room = strings.TrimSpace(room)
	if len(room) < 3 {
		return ""
	}
	for _, r := range room {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return room[len(room)-2:]
}

// KPIOptions configure a KPI accumulator.
type KPIOptions struct {
	// From and To bound the period [From, To): tickets count in the period
	// they were reported in.
	From, To time.Time
	// Location makes the days of the daily series; UTC when nil.
	Location *time.Location
	// HintRules raise the preventive hints; DefaultHintRules when nil, none
	// when empty and non-nil.
	HintRules []HintRule
	// PartsCost returns the parts cost of a ticket in cents and whether it
	// is known. Hook for the spare-parts area (JobPartsCost: the sum of the
	// ticket's issued parts at their frozen unit cost, returns netted);
	// events are nil for a ticket fed as a brief. Nil: not tracked.
	PartsCost func(t *Ticket, events []TicketEvent) (cents int64, ok bool)
	// Areas are the areas whose tickets count (Ticket.AreaKey); nil: every
	// area (a lead's report covers their areas, areas_scope.go).
	Areas []string
}

// KPIReport is the result of a KPI accumulation.
type KPIReport struct {
	From, To time.Time
	Total    KPIStats
	// Groups, sorted by tickets reported (most first), then key.
	ByCategory, ByBuilding, ByTechnician []KPIGroup
	// ByFault and ByCause group the coded tickets by their fault's
	// component and cause (Key "<category>/<code>"; labels from the SOP's
	// trees, FaultLabel).
	ByFault, ByCause []KPIGroup
	// Days of the period in order, local midnight to midnight.
	Days []KPIDay
	// Hints, most tickets first.
	Hints []Hint
	// PartsTracked is false until a parts cost source is configured.
	PartsTracked bool
	// Approximate counts tickets whose times came from the ticket's
	// summary fields for want of an audit trail.
	Approximate int
	// ByArea counts the tickets reported in the period per area
	// (Ticket.AreaKey), for an admin's breakdown.
	ByArea map[string]int
	// AreaTotals are the period's KPIs per area (Ticket.AreaKey), for an
	// admin's breakdown: Total's figures without the percentiles.
	AreaTotals map[string]KPIStats
}

// KPIWeek is a Monday-to-Sunday slice of the daily series.
type KPIWeek struct {
	Start    time.Time // the Monday (or the period's first day)
	Reported int
	Accept   DurationStat
	Resolved int
}

// ByWeek folds the daily series into weeks starting on Monday; the first
// and last week may be partial.
func (r *KPIReport) ByWeek() []KPIWeek {
	var out []KPIWeek
	for _, d := range r.Days {
		if len(out) == 0 || d.Start.Weekday() == time.Monday {
			out = append(out, KPIWeek{Start: d.Start})
		}
		w := &out[len(out)-1]
		w.Reported += d.Reported
		w.Resolved += d.Resolved
		w.Accept.N += d.Accept.N
		w.Accept.Sum += d.Accept.Sum
		w.Accept.Max = max(w.Accept.Max, d.Accept.Max)
	}
	return out
}

// maxKPIDays bounds the daily series (a period of years has none past it).
const maxKPIDays = 1100

// KPIAcc accumulates KPIs ticket by ticket. It is not safe for concurrent use.
type KPIAcc struct {
	o        KPIOptions
	hintFrom time.Time
	total    KPIStats
	cats     map[string]*KPIGroup
	builds   map[string]*KPIGroup
	techs    map[string]*KPIGroup
	faults   map[string]*KPIGroup
	causes   map[string]*KPIGroup
	days     []KPIDay
	samples  [kpiSpans][]int32 // seconds, for the totals' percentiles
	hints    []map[placeKey]*hintPlace
	approx   int
	byArea   map[string]int
	areas    map[string]*KPIStats
}

// hintPlace keeps a place's fields (copied: holding the first ticket
// would keep every decoded ticket of a walk alive) and its report times.
type hintPlace struct {
	area, category, building, unit, room, riser string
	reports                                     []hintReport
}

type hintReport struct {
	at time.Time
	id string
}

// NewKPI starts an accumulation over the period of o.
func NewKPI(o KPIOptions) *KPIAcc {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.HintRules == nil {
		o.HintRules = DefaultHintRules
	}
	a := &KPIAcc{o: o, hintFrom: o.From, cats: map[string]*KPIGroup{}, builds: map[string]*KPIGroup{}, techs: map[string]*KPIGroup{},
		faults: map[string]*KPIGroup{}, causes: map[string]*KPIGroup{}, byArea: map[string]int{}, areas: map[string]*KPIStats{}}
	for _, r := range o.HintRules {
		if f := o.From.Add(-r.Window); f.Before(a.hintFrom) {
			a.hintFrom = f
		}
		a.hints = append(a.hints, map[placeKey]*hintPlace{})
	}
	start := o.From.In(o.Location)
	d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, o.Location)
	for ; d.Before(o.To) && len(a.days) < maxKPIDays; d = d.AddDate(0, 0, 1) {
		a.days = append(a.days, KPIDay{Start: d})
	}
	return a
}

// HintFrom is where the walk should start so the hints see their whole
// window: before From by the longest rule window. Tickets reported before
// From feed only the hints.
func (a *KPIAcc) HintFrom() time.Time { return a.hintFrom }

// Wants reports whether the ticket belongs to the accumulation (reported
// in [HintFrom, To)), so a caller can skip reading the trail of others.
func (a *KPIAcc) Wants(t *Ticket) bool {
	return !t.Created.Before(a.hintFrom) && t.Created.Before(a.o.To) &&
		InAreas(a.o.Areas, t.AreaKey())
}

// InPeriod reports whether the ticket was reported in [From, To).
func (a *KPIAcc) InPeriod(t *Ticket) bool {
	return !t.Created.Before(a.o.From) && t.Created.Before(a.o.To)
}

// Add feeds one ticket with its audit trail (in order). Tickets outside
// [HintFrom, To) are ignored; each ticket must be added once.
func (a *KPIAcc) Add(t *Ticket, events []TicketEvent) {
	if !a.Wants(t) {
		return
	}
	var parts int64
	partsOK := false
	if a.o.PartsCost != nil && a.InPeriod(t) {
		parts, partsOK = a.o.PartsCost(t, events)
	}
	a.add(t, TicketKPI(t, events), t.AgreedQuoteCents(), parts, partsOK)
}

// AddBrief feeds one ticket from its brief (the reported index's, with
// its folded trail): what the reports read without decoding the ticket or
// its trail. A brief without a fold counts from its summary fields.
func (a *KPIAcc) AddBrief(b TicketBrief) {
	t := b.Ticket()
	if !a.Wants(t) {
		return
	}
	var parts int64
	partsOK := false
	if a.o.PartsCost != nil && a.InPeriod(t) {
		parts, partsOK = a.o.PartsCost(t, nil)
	}
	a.add(t, TimesOf(t, b.Trail), b.Quote, parts, partsOK)
}

func (a *KPIAcc) add(t *Ticket, tt TicketTimes, quote, parts int64, partsOK bool) {
	if t.State != StateCancelled { // a withdrawn report is no evidence of a fault
		for i := range a.o.HintRules {
			a.hint(i, t, tt.Reported)
		}
	}
	if !a.InPeriod(t) {
		return
	}
	if !tt.Trail {
		a.approx++
	}
	a.total.add(t, &tt, quote, parts, partsOK)
	area := t.AreaKey()
	a.byArea[area]++
	if a.areas[area] == nil {
		a.areas[area] = &KPIStats{}
	}
	a.areas[area].add(t, &tt, quote, parts, partsOK)
	group(a.cats, t.Category, "").add(t, &tt, quote, parts, partsOK)
	building := group(a.builds, area+"\x00"+t.Building, t.Building)
	building.add(t, &tt, quote, parts, partsOK)
	if t.AssigneeID != "" {
		group(a.techs, t.AssigneeID, t.Assignee).add(t, &tt, quote, parts, partsOK)
	}
	if f := t.Fault; f != nil && f.Component != "" {
		group(a.faults, t.Category+"/"+f.Component, "").add(t, &tt, quote, parts, partsOK)
		if f.Cause != "" {
			group(a.causes, t.Category+"/"+f.Cause, "").add(t, &tt, quote, parts, partsOK)
		}
	}
	d, ok := tt.Spans()
	for i := range d {
		if ok[i] {
			a.samples[i] = append(a.samples[i], int32(min(d[i]/time.Second, 1<<31-1)))
		}
	}
	if i := a.dayIndex(tt.Reported); i >= 0 {
		day := &a.days[i]
		day.Reported++
		if ok[KPIAccept] {
			day.Accept.add(d[KPIAccept])
		}
		if tt.Resolved != nil {
			day.Resolved++
		}
	}
}

func group(m map[string]*KPIGroup, key, label string) *KPIStats {
	g := m[key]
	if g == nil {
		g = &KPIGroup{Key: key, Label: label}
		m[key] = g
	}
	return &g.KPIStats
}

func (a *KPIAcc) dayIndex(at time.Time) int {
	if len(a.days) == 0 || at.Before(a.days[0].Start) {
		return -1
	}
	l := at.In(a.o.Location)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, a.o.Location)
	// Days are not all 24 hours where clocks change: search, do not divide.
	i := sort.Search(len(a.days), func(i int) bool { return !a.days[i].Start.Before(day) })
	if i < len(a.days) && a.days[i].Start.Equal(day) {
		return i
	}
	return -1
}

func (a *KPIAcc) hint(i int, t *Ticket, at time.Time) {
	r := &a.o.HintRules[i]
	if at.Before(a.o.From.Add(-r.Window)) || !r.matches(t) {
		return // no window ending in the period reaches back this far
	}
	key, riser, ok := r.place(t)
	if !ok {
		return
	}
	p := a.hints[i][key]
	if p == nil {
		p = &hintPlace{area: key.area, category: t.Category, building: t.Building, unit: t.Unit, room: t.Room, riser: riser}
		a.hints[i][key] = p
	}
	p.reports = append(p.reports, hintReport{at: at, id: t.ID})
}

// Result computes the report. The accumulator can go on being fed after.
func (a *KPIAcc) Result() *KPIReport {
	r := &KPIReport{From: a.o.From, To: a.o.To, Total: a.total, PartsTracked: a.o.PartsCost != nil, Approximate: a.approx}
	for i := range a.samples {
		vs := append([]int32(nil), a.samples[i]...)
		r.Total.Times[i].P50 = time.Duration(percentile(vs, 50)) * time.Second
		r.Total.Times[i].P90 = time.Duration(percentile(vs, 90)) * time.Second
	}
	r.ByCategory, r.ByBuilding, r.ByTechnician = sortedGroups(a.cats), sortedGroups(a.builds), sortedGroups(a.techs)
	for i := range r.ByBuilding { // keyed area NUL building while accumulating
		g := &r.ByBuilding[i]
		g.Area, g.Key, _ = strings.Cut(g.Key, "\x00")
	}
	r.AreaTotals = map[string]KPIStats{}
	for k, st := range a.areas {
		r.AreaTotals[k] = *st
	}
	r.ByFault, r.ByCause = sortedGroups(a.faults), sortedGroups(a.causes)
	r.Days = append([]KPIDay(nil), a.days...)
	r.ByArea = maps.Clone(a.byArea)
	for i := range a.o.HintRules {
		r.Hints = append(r.Hints, a.ruleHints(i)...)
	}
	sort.Slice(r.Hints, func(i, j int) bool {
		a, b := &r.Hints[i], &r.Hints[j]
		if a.N != b.N {
			return a.N > b.N
		}
		if !a.Last.Equal(b.Last) {
			return a.Last.After(b.Last)
		}
		// The places come from a map: order the rest fully, so a report is stable.
		return strings.Join([]string{a.Rule, a.Area, a.Building, a.Unit, a.Riser, a.Room, a.Category}, "\x00") <
			strings.Join([]string{b.Rule, b.Area, b.Building, b.Unit, b.Riser, b.Room, b.Category}, "\x00")
	})
	return r
}

func sortedGroups(m map[string]*KPIGroup) []KPIGroup {
	out := make([]KPIGroup, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Reported != out[j].Reported {
			return out[i].Reported > out[j].Reported
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// ruleHints finds, per place, the window of the rule's length with the
// most reports, among windows ending on a report of the period.
func (a *KPIAcc) ruleHints(i int) []Hint {
	r := &a.o.HintRules[i]
	var out []Hint
	for _, p := range a.hints[i] {
		if len(p.reports) < r.Min {
			continue
		}
		rs := p.reports
		sort.Slice(rs, func(i, j int) bool {
			if !rs[i].at.Equal(rs[j].at) {
				return rs[i].at.Before(rs[j].at)
			}
			return rs[i].id < rs[j].id
		})
		best, bestLo, bestHi := 0, 0, 0
		lo := 0
		for hi := range rs {
			for rs[hi].at.Sub(rs[lo].at) >= r.Window {
				lo++
			}
			if rs[hi].at.Before(a.o.From) {
				continue // a window must end in the period
			}
			if n := hi - lo + 1; n >= best {
				best, bestLo, bestHi = n, lo, hi
			}
		}
		if best < r.Min {
			continue
		}
		h := Hint{Key: r.Key, Rule: r.Name, Category: p.category, Area: p.area, Building: p.building, Unit: p.unit, Riser: p.riser,
			N: best, First: rs[bestLo].at, Last: rs[bestHi].at}
		if r.Scope == ScopeRoom {
			h.Room = p.room
		}
		for _, x := range rs[bestLo : bestHi+1] {
			h.Tickets = append(h.Tickets, x.id)
		}
		out = append(out, h)
	}
	return out
}
