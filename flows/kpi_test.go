package flows_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// kpiAt parses an RFC3339 time for the KPI fixture.
func kpiAt(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// trail builds an audit trail from (time, action, from, to, note) rows.
func trail(rows ...[5]string) []flows.TicketEvent {
	var out []flows.TicketEvent
	for i, r := range rows {
		out = append(out, flows.TicketEvent{Seq: i + 1, At: kpiAt(r[0]), Actor: "tg:1", Action: r[1],
			From: flows.State(r[2]), To: flows.State(r[3]), Note: r[4]})
	}
	return out
}

type kpiCase struct {
	t  *flows.Ticket
	ev []flows.TicketEvent
}

// kpiFixture is November 2026 (Asia/Shanghai) with seven tickets reported
// in it, one leak before it (October, for the riser hint only) and one
// after it (December, ignored). Every expected value in TestKPIFixture is
// worked out by hand from these rows; times are UTC.
func kpiFixture() []kpiCase {
	tk := func(id, created, cat, building, unit, room, tech, name string) *flows.Ticket {
		return &flows.Ticket{ID: id, Category: cat, Kind: flows.OrderHousehold, ASAP: true, Created: kpiAt(created),
			Building: building, Unit: unit, Room: room, AssigneeID: tech, Assignee: name, ResidentID: "tg:100"}
	}
	const a, b = "tg:7", "tg:8"
	t0 := tk("T0", "2026-10-20T01:00:00Z", "water", "3栋", "2单元", "603", a, "师傅甲")
	t0.State = flows.StateClosed
	// T1: accept 10, arrive 40, repair 60 (01:40→02:40), resolve 110, close 120; score 5; quote ¥80 agreed.
	t1 := tk("T1", "2026-11-02T01:00:00Z", "water", "3栋", "2单元", "1203", a, "师傅甲")
	t1.State, t1.Score = flows.StateClosed, 5
	t1.Visit = &flows.Visit{Quote: &flows.Quote{Seq: 1, Status: "agreed", Lines: []flows.QuoteLine{{Code: "W02", Qty: 1, Cents: 8000}}}}
	// T2: accept 30, arrive 90, repair 30 (first done), one rework, resolve 170, close 180, score 2,
	// arrive breach, repeat of T1; its quote was refused (not counted).
	t2 := tk("T2", "2026-11-03T01:00:00Z", "water", "3栋", "2单元", "803", a, "师傅甲")
	t2.State = flows.StateClosed
	t2.Visit = &flows.Visit{Quote: &flows.Quote{Seq: 1, Status: "refused", Lines: []flows.QuoteLine{{Code: "W02", Qty: 1, Cents: 5000}}}}
	// T3: public; assigned by a lead at 5 minutes, returned and re-accepted (still 5); no one home at the
	// first arrival (so no time to arrive); repair from the second arrival 60; resolve 25h10m = 1510;
	// not scored yet (survey, open); callback: held.
	t3 := tk("T3", "2026-11-04T01:00:00Z", "electricity", "5栋", "1单元", "201", b, "师傅乙")
	t3.State, t3.Kind = flows.StateSurvey, flows.OrderPublic
	// T4: cancelled before anyone took it: counted, nothing else.
	t4 := tk("T4", "2026-11-05T01:00:00Z", "water", "3栋", "2单元", "1102", "", "")
	t4.State = flows.StateCancelled
	// T5: emergency leak: accept 4 (after rung 1: accept breach), arrive 9 (rung 2: arrive breach),
	// repair 30, callback "not held" a week later = rework; resolved again 11-13 02:10 (resolve
	// 7d1h10m = 10150), closed again 02:20 (close 10160), last score 4.
	t5 := tk("T5", "2026-11-06T01:00:00Z", "water", "3栋", "2单元", "1503", a, "师傅甲")
	t5.State, t5.Emergency = flows.StateClosed, "water_leak"
	// T6: an appointment (no time to arrive), accept 20, the request could not be met.
	t6 := tk("T6", "2026-11-07T01:00:00Z", "door", "5栋", "1单元", "202", b, "师傅乙")
	t6.State, t6.ASAP = flows.StateUnresolved, false
	agreed := kpiAt("2026-11-08T01:00:00Z")
	t6.AgreedTime = &agreed
	// T9: no audit trail (summary fields only): accept 15, arrive 60, repair 60, resolve 120, close 180, score 3.
	t9 := tk("T9", "2026-11-10T01:00:00Z", "other", "7栋", "1单元", "101", b, "师傅乙")
	t9.State, t9.Score = flows.StateClosed, 3
	acc, arr, fin, closed := kpiAt("2026-11-10T01:15:00Z"), kpiAt("2026-11-10T02:00:00Z"), kpiAt("2026-11-10T03:00:00Z"), kpiAt("2026-11-10T04:00:00Z")
	t9.Accepted, t9.Arrived, t9.Finished, t9.Closed = &acc, &arr, &fin, &closed
	// T8: December, outside the period.
	t8 := tk("T8", "2026-12-01T01:00:00Z", "water", "3栋", "2单元", "203", a, "师傅甲")

	return []kpiCase{
		{t8, trail([5]string{"2026-12-01T01:00:00Z", "reported", "", "new", ""})},
		{t0, trail([5]string{"2026-10-20T01:00:00Z", "reported", "", "new", ""})},
		{t1, trail(
			[5]string{"2026-11-02T01:00:00Z", "reported", "", "new", ""},
			[5]string{"2026-11-02T01:10:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-02T01:20:00Z", "way", "accepted", "on_the_way", ""},
			[5]string{"2026-11-02T01:40:00Z", "arr", "on_the_way", "on_site", ""},
			[5]string{"2026-11-02T01:50:00Z", "quote_agreed", "on_site", "on_site", "quote #1 ¥80.00"},
			[5]string{"2026-11-02T02:40:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-02T02:50:00Z", "fix", "done", "confirmed", ""},
			[5]string{"2026-11-02T02:55:00Z", "bye", "confirmed", "survey", ""},
			[5]string{"2026-11-02T03:00:00Z", "sc", "survey", "closed", "5"},
		)},
		{t2, trail(
			[5]string{"2026-11-03T01:00:00Z", "reported", "", "new", ""},
			[5]string{"2026-11-03T01:00:00Z", "repeat", "new", "new", "T1"},
			[5]string{"2026-11-03T01:30:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-03T02:00:00Z", "sla_arrive", "accepted", "accepted", "breach"},
			[5]string{"2026-11-03T02:30:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-03T03:00:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-03T03:10:00Z", "nfx", "done", "on_site", ""},
			[5]string{"2026-11-03T03:40:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-03T03:50:00Z", "fix", "done", "confirmed", ""},
			[5]string{"2026-11-03T03:55:00Z", "bye", "confirmed", "survey", ""},
			[5]string{"2026-11-03T04:00:00Z", "sc", "survey", "closed", "2"},
			[5]string{"2026-11-03T04:00:00Z", "complaint", "closed", "closed", "2"},
		)},
		{t3, trail(
			[5]string{"2026-11-04T01:00:00Z", "reported", "", "new", ""},
			[5]string{"2026-11-04T01:05:00Z", "ra", "new", "accepted", "tg:8"},
			[5]string{"2026-11-04T01:20:00Z", "rg", "accepted", "new", ""},
			[5]string{"2026-11-04T01:30:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-04T02:05:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-04T02:10:00Z", "nh", "on_site", "waiting_resident", "rings=3 knocks=0"},
			[5]string{"2026-11-04T02:20:00Z", "rescheduled", "waiting_resident", "waiting_resident", "2026-11-05 09:00"},
			[5]string{"2026-11-05T01:00:00Z", "arr", "waiting_resident", "on_site", ""},
			[5]string{"2026-11-05T02:00:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-05T02:10:00Z", "fix", "done", "confirmed", ""},
			[5]string{"2026-11-05T02:15:00Z", "bye", "confirmed", "survey", ""},
			[5]string{"2026-11-12T02:00:00Z", "callback_held", "survey", "survey", ""},
		)},
		{t4, trail(
			[5]string{"2026-11-05T01:00:00Z", "reported", "", "new", ""},
			[5]string{"2026-11-05T01:05:00Z", "cx", "new", "cancelled", ""},
		)},
		{t5, trail(
			[5]string{"2026-11-06T01:00:00Z", "reported", "", "new", "water_leak"},
			[5]string{"2026-11-06T01:02:00Z", "sla_rung", "new", "new", "1"},
			[5]string{"2026-11-06T01:04:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-06T01:05:00Z", "sla_rung", "accepted", "accepted", "2 late"},
			[5]string{"2026-11-06T01:09:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-06T01:39:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-06T01:45:00Z", "fix", "done", "confirmed", ""},
			[5]string{"2026-11-06T01:48:00Z", "bye", "confirmed", "survey", ""},
			[5]string{"2026-11-06T01:50:00Z", "sc", "survey", "closed", "5"},
			[5]string{"2026-11-13T01:00:00Z", "callback_not_held", "closed", "on_site", ""},
			[5]string{"2026-11-13T02:00:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-13T02:10:00Z", "fix", "done", "confirmed", ""},
			[5]string{"2026-11-13T02:15:00Z", "bye", "confirmed", "survey", ""},
			[5]string{"2026-11-13T02:20:00Z", "sc", "survey", "closed", "4"},
		)},
		{t6, trail(
			[5]string{"2026-11-07T01:00:00Z", "reported", "", "new", ""},
			[5]string{"2026-11-07T01:20:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-08T01:00:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-08T01:30:00Z", "end", "on_site", "unresolved", "apology"},
		)},
		{t9, nil},
	}
}

func kpiOptions() flows.KPIOptions {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return flows.KPIOptions{
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 12, 1, 0, 0, 0, 0, loc), Location: loc,
		// The parts hook: T1 used ¥15.00 of parts, T2 none (known), the others unknown.
		PartsCost: func(t *flows.Ticket, _ []flows.TicketEvent) (int64, bool) {
			switch t.ID {
			case "T1":
				return 1500, true
			case "T2":
				return 0, true
			}
			return 0, false
		},
	}
}

func kpiReport() *flows.KPIReport {
	acc := flows.NewKPI(kpiOptions())
	for _, c := range kpiFixture() {
		acc.Add(c.t, c.ev)
	}
	return acc.Result()
}

func minutes(n float64) time.Duration { return time.Duration(n * float64(time.Minute)) }

func near(t *testing.T, name string, got float64, ok bool, want float64) {
	t.Helper()
	if !ok || math.Abs(got-want) > 0.005 {
		t.Errorf("%s = %.4f (ok %v), want %.4f", name, got, ok, want)
	}
}

func TestKPIFixture(t *testing.T) {
	r := kpiReport()
	s := r.Total

	t.Run("counts", func(t *testing.T) {
		// In the period: T1 T2 T3 T4 T5 T6 T9 (T0 is October, T8 December).
		// Household all but T3; the one emergency is T5. States: closed T1 T2 T5 T9,
		// open T3 (survey), cancelled T4, unresolved T6.
		got := [9]int{s.Reported, s.Household, s.Public, s.Emergencies, s.Open, s.Cancelled, s.Unresolved, s.Closed, r.Approximate}
		if want := [9]int{7, 6, 1, 1, 1, 1, 1, 4, 1}; got != want {
			t.Fatalf("reported, household, public, emergencies, open, cancelled, unresolved, closed, approximate = %v, want %v", got, want)
		}
	})

	t.Run("durations", func(t *testing.T) {
		for _, c := range []struct {
			name           string
			i, n           int
			sum, p50, p90  float64 // minutes
			maxMin, meanMn float64
		}{
			// Accept: T1 10, T2 30, T3 5 (the lead's assignment; the re-acceptance after the return
			// does not count), T5 4, T6 20, T9 15 → 84/6 = 14; sorted 4 5 10 15 20 30: p50 rank 3 = 10,
			// p90 rank 6 = 30.
			{"accept", flows.KPIAccept, 6, 84, 10, 30, 30, 14},
			// Arrive (as soon as possible only): T1 40, T2 90, T5 9, T9 60 → 199/4 = 49.75; T3 (no one
			// home: terms lost) and T6 (appointment) are out. Sorted 9 40 60 90: p50 rank 2 = 40, p90 rank 4 = 90.
			{"arrive", flows.KPIArrive, 4, 199, 40, 90, 90, 49.75},
			// Repair, working visit's arrival → first done: T1 60, T2 30, T3 60 (second arrival 11-05
			// 01:00 → 02:00), T5 30, T9 60 → 240/5 = 48; sorted 30 30 60 60 60: p50 rank 3 = 60, p90 rank 5 = 60.
			{"repair", flows.KPIRepair, 5, 240, 60, 60, 60, 48},
			// Resolve, reported → last confirmation: T1 110, T2 170, T3 1510, T5 10150, T9 120 → 12060/5 = 2412.
			// Sorted 110 120 170 1510 10150: p50 rank 3 = 170, p90 rank 5 = 10150.
			{"resolve", flows.KPIResolve, 5, 12060, 170, 10150, 10150, 2412},
			// Close, reported → last close: T1 120, T2 180, T5 10160, T9 180 → 10640/4 = 2660.
			// Sorted 120 180 180 10160: p50 rank 2 = 180, p90 rank 4 = 10160.
			{"close", flows.KPIClose, 4, 10640, 180, 10160, 10160, 2660},
		} {
			t.Run(c.name, func(t *testing.T) {
				d := s.Times[c.i]
				if d.N != c.n || d.Sum != minutes(c.sum) || d.P50 != minutes(c.p50) || d.P90 != minutes(c.p90) || d.Max != minutes(c.maxMin) {
					t.Fatalf("got n=%d sum=%v p50=%v p90=%v max=%v, want n=%d sum=%vm p50=%vm p90=%vm max=%vm",
						d.N, d.Sum, d.P50, d.P90, d.Max, c.n, c.sum, c.p50, c.p90, c.maxMin)
				}
				m, ok := d.MeanMinutes()
				near(t, "mean minutes", m, ok, c.meanMn)
			})
		}
	})

	t.Run("rates", func(t *testing.T) {
		// SLA decided: T1 T3 T6 T9 met (arrived, nothing breached), T2 (arrive) and T5 (accept and
		// arrive) breached; T4 withdrawn = undecided → 4/6.
		v, ok := s.SLACompliance()
		near(t, "SLA %", v, ok, 400.0/6)
		// Resolved T1 T2 T3 T5 T9; reworked T2 (sign-off refused) and T5 (callback not held) → FTF 3/5.
		v, ok = s.FirstTimeFix()
		near(t, "first-time fix %", v, ok, 60)
		// Two reworks over five resolved tickets.
		v, ok = s.ReworkRate()
		near(t, "rework rate", v, ok, 40)
		// Scores T1 5, T2 2, T5 4 (the last close), T9 3 → 14/4 = 3.5; satisfied (≥4) T1 T5 = 2/4; low T2.
		v, ok = s.MeanScore()
		near(t, "mean score", v, ok, 3.5)
		v, ok = s.SatisfiedShare()
		near(t, "satisfied %", v, ok, 50)
		if s.Low != 1 || s.Rated != 4 {
			t.Errorf("low %d rated %d, want 1 and 4", s.Low, s.Rated)
		}
		// Callbacks: T3 held, T5 not held → 1/2.
		v, ok = s.FixHeld()
		near(t, "fix held %", v, ok, 50)
		if s.Repeats != 1 || s.Reworks != 2 || s.Reworked != 2 || s.FirstTime != 3 {
			t.Errorf("repeats %d reworks %d reworked %d first time %d, want 1 2 2 3", s.Repeats, s.Reworks, s.Reworked, s.FirstTime)
		}
	})

	t.Run("money", func(t *testing.T) {
		// Only T1's quote was agreed (¥80); parts known for T1 (¥15) and T2 (¥0).
		if s.Quoted != 1 || s.QuoteCents != 8000 || s.PartsTickets != 2 || s.PartsCents != 1500 || !r.PartsTracked {
			t.Fatalf("quoted %d/%d parts %d/%d tracked %v", s.Quoted, s.QuoteCents, s.PartsTickets, s.PartsCents, r.PartsTracked)
		}
	})

	t.Run("groups", func(t *testing.T) {
		keys := func(gs []flows.KPIGroup) []string {
			var out []string
			for _, g := range gs {
				out = append(out, g.Key)
			}
			return out
		}
		// Most reported first, then by key: water 4 (T1 T2 T4 T5), then door, electricity, other with 1.
		if got, want := keys(r.ByCategory), []string{"water", "door", "electricity", "other"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("categories %v, want %v", got, want)
		}
		if got, want := keys(r.ByBuilding), []string{"3栋", "5栋", "7栋"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("buildings %v, want %v", got, want)
		}
		// T4 had no technician.
		if got, want := keys(r.ByTechnician), []string{"tg:7", "tg:8"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("technicians %v, want %v", got, want)
		}
		water := r.ByCategory[0]
		// Water: accept T1 10, T2 30, T5 4 → 44/3; SLA T1 met of T1 T2 T5; resolved T1 T2 T5, FTF T1 only.
		if water.Reported != 4 || water.Times[flows.KPIAccept].Sum != minutes(44) || water.SLAMet != 1 || water.SLADecided != 3 {
			t.Fatalf("water: %+v", water.KPIStats)
		}
		v, ok := water.FirstTimeFix()
		near(t, "water FTF", v, ok, 100.0/3)
		a, b := r.ByTechnician[0], r.ByTechnician[1]
		if a.Label != "师傅甲" || b.Label != "师傅乙" {
			t.Fatalf("technician labels %q %q", a.Label, b.Label)
		}
		// 师傅甲 T1 T2 T5: scores 5+2+4 = 11 of 3; 师傅乙 T3 T6 T9: resolved T3 T9, both first time;
		// accept 5 + 20 + 15 = 40 over 3.
		if a.Reported != 3 || a.ScoreSum != 11 || a.Rated != 3 || b.Resolved != 2 || b.FirstTime != 2 || b.Times[flows.KPIAccept].Sum != minutes(40) {
			t.Fatalf("technicians: %+v / %+v", a.KPIStats, b.KPIStats)
		}
		if r.ByBuilding[0].Label != "3栋" || r.ByCategory[0].Label != "" {
			t.Fatalf("labels: building %q, category %q", r.ByBuilding[0].Label, r.ByCategory[0].Label)
		}
	})

	t.Run("series", func(t *testing.T) {
		if len(r.Days) != 30 {
			t.Fatalf("%d days in November", len(r.Days))
		}
		// T1 was reported 2026-11-02 09:00 Shanghai: the second day.
		d := r.Days[1]
		if d.Start.Format("2006-01-02 15:04 -0700") != "2026-11-02 00:00 +0800" || d.Reported != 1 || d.Accept.Sum != minutes(10) || d.Resolved != 1 {
			t.Fatalf("day 2: %+v", d)
		}
		// 2026-11-01 is a Sunday: weeks start 11-01 (one day), 11-02, 11-09, 11-16, 11-23, 11-30.
		weeks := r.ByWeek()
		var starts []string
		for _, w := range weeks {
			starts = append(starts, w.Start.Format("01-02"))
		}
		if want := []string{"11-01", "11-02", "11-09", "11-16", "11-23", "11-30"}; !reflect.DeepEqual(starts, want) {
			t.Fatalf("weeks %v, want %v", starts, want)
		}
		// Week of 11-02: T1..T6 reported; accepted T1 10, T2 30, T3 5, T5 4, T6 20 → 69/5 = 13.8.
		w := weeks[1]
		m, ok := w.Accept.MeanMinutes()
		if w.Reported != 6 || weeks[2].Reported != 1 {
			t.Fatalf("weeks reported %d and %d, want 6 and 1", w.Reported, weeks[2].Reported)
		}
		near(t, "week accept mean", m, ok, 13.8)
	})

	t.Run("hints", func(t *testing.T) {
		// Riser 03 of 3栋 2单元: T0 (10-20, before the period, within 30 days), T1 1203, T2 803,
		// T5 1503 → 4 leaks from 10-20 to 11-06 (18 calendar days). T4 (1102) is another riser and
		// cancelled. No other rule fires.
		if len(r.Hints) != 1 {
			t.Fatalf("hints %+v", r.Hints)
		}
		h := r.Hints[0]
		if h.Key != "kpi.hint.riser" || h.Building != "3栋" || h.Unit != "2单元" || h.Riser != "03" || h.N != 4 ||
			!reflect.DeepEqual(h.Tickets, []string{"T0", "T1", "T2", "T5"}) {
			t.Fatalf("hint %+v", h)
		}
		kv := h.KV("水管/漏水", time.UTC)
		got := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			got[kv[i].(string)] = kv[i+1]
		}
		if got["days"] != 18 || got["n"] != 4 || got["first"] != "10-20" || got["last"] != "11-06" {
			t.Fatalf("hint placeholders %v", got)
		}
	})
}

// TestKPIWindowEndsInPeriod: leaks all before the period do not raise a
// hint in it, and a lone leak in it does not make three with them when
// the window is over.
func TestKPIHintWindows(t *testing.T) {
	o := kpiOptions()
	leak := func(id, at, room string) kpiCase {
		return kpiCase{&flows.Ticket{ID: id, Category: "water", State: flows.StateClosed, Created: kpiAt(at), Building: "1栋", Unit: "1单元", Room: room},
			trail([5]string{at, "reported", "", "new", ""})}
	}
	for _, c := range []struct {
		name  string
		cases []kpiCase
		want  int
	}{
		{"all before the period", []kpiCase{leak("A", "2026-10-10T01:00:00Z", "101"), leak("B", "2026-10-11T01:00:00Z", "201"), leak("C", "2026-10-12T01:00:00Z", "301")}, 0},
		{"window over", []kpiCase{leak("A", "2026-10-01T01:00:00Z", "101"), leak("B", "2026-10-02T01:00:00Z", "201"), leak("C", "2026-11-05T01:00:00Z", "301")}, 0},
		{"two before, one in", []kpiCase{leak("A", "2026-10-20T01:00:00Z", "101"), leak("B", "2026-10-25T01:00:00Z", "201"), leak("C", "2026-11-05T01:00:00Z", "301")}, 1},
		{"different risers", []kpiCase{leak("A", "2026-11-02T01:00:00Z", "101"), leak("B", "2026-11-03T01:00:00Z", "202"), leak("C", "2026-11-05T01:00:00Z", "303")}, 0},
		{"rooms without a riser", []kpiCase{leak("A", "2026-11-02T01:00:00Z", "A"), leak("B", "2026-11-03T01:00:00Z", "B"), leak("C", "2026-11-05T01:00:00Z", "C")}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			acc := flows.NewKPI(o)
			for _, k := range c.cases {
				acc.Add(k.t, k.ev)
			}
			if got := len(acc.Result().Hints); got != c.want {
				t.Fatalf("%d hints, want %d: %+v", got, c.want, acc.Result().Hints)
			}
		})
	}
}

// TestKPIFromTheEngine feeds the accumulator a ticket the real engine
// walked from report to score, so the actions the KPIs read are the ones
// the engine writes.
func TestKPIFromTheEngine(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "+86 138-0013-8000")
	w.Staff(tech, "technician")
	start := w.Now
	id := w.Report(resident, "厨房水管漏水")
	w.Now = w.Now.Add(7 * time.Minute)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Now = w.Now.Add(20 * time.Minute)
	w.WalkToSignoff(tech, resident, id)
	w.Now = w.Now.Add(5 * time.Minute)
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Now = w.Now.Add(3 * time.Minute)
	w.Expect(w.Tap(resident, flows.EncodePayload("sc", id, "4"), false))
	w.Drain()

	acc := flows.NewKPI(flows.KPIOptions{From: start.Add(-time.Hour), To: start.Add(time.Hour)})
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		return tx.EachTicketTouched(acc.HintFrom(), start.Add(time.Hour), func(tk *flows.Ticket) error {
			if !acc.Wants(tk) {
				return nil
			}
			evs, err := tx.TicketEvents(tk.ID)
			acc.Add(tk, evs)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	s := acc.Result().Total
	// The walk taps arrival and sign-off at the same instant: repair 0.
	want := map[int]time.Duration{flows.KPIAccept: 7 * time.Minute, flows.KPIArrive: 27 * time.Minute,
		flows.KPIRepair: 0, flows.KPIResolve: 32 * time.Minute, flows.KPIClose: 35 * time.Minute}
	for i, d := range want {
		if s.Times[i].N != 1 || s.Times[i].Sum != d {
			t.Errorf("KPI %d: n=%d sum=%v, want %v", i, s.Times[i].N, s.Times[i].Sum, d)
		}
	}
	if s.Reported != 1 || s.Closed != 1 || s.Resolved != 1 || s.FirstTime != 1 || s.SLAMet != 1 || s.ScoreSum != 4 || s.Quoted != 1 || s.QuoteCents == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRiserOf(t *testing.T) {
	for room, want := range map[string]string{"1203": "03", "502": "02", "12": "", "B12": "", " 803 ": "03", "": ""} {
		if got := flows.RiserOf(room); got != want {
			t.Errorf("RiserOf(%q) = %q, want %q", room, got, want)
		}
	}
}

// TestTicketKPI: which event of several counts, case by case.
func TestTicketKPI(t *testing.T) {
	base := func() *flows.Ticket {
		return &flows.Ticket{ID: "X", Created: kpiAt("2026-11-02T01:00:00Z"), ASAP: true, State: flows.StateClosed}
	}
	rep := [5]string{"2026-11-02T01:00:00Z", "reported", "", "new", ""}
	for _, c := range []struct {
		name string
		ev   []flows.TicketEvent
		// want: minutes per KPI, -1 for "does not apply"
		want [5]float64
	}{
		{"reassigned after arrival: the first arrival counts, repair from the second", trail(rep,
			[5]string{"2026-11-02T01:10:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-02T01:30:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-02T01:40:00Z", "ra", "on_site", "accepted", "tg:9"},
			[5]string{"2026-11-02T02:00:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-02T02:45:00Z", "done", "on_site", "done", ""}),
			[5]float64{10, 30, 45, -1, -1}},
		{"returned to the group: the first acceptance counts", trail(rep,
			[5]string{"2026-11-02T01:05:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-02T01:30:00Z", "rg", "accepted", "new", ""},
			[5]string{"2026-11-02T01:50:00Z", "acc", "new", "accepted", ""}),
			[5]float64{5, -1, -1, -1, -1}},
		{"rework: the first sign-off request ends the repair, the last confirmation resolves", trail(rep,
			[5]string{"2026-11-02T01:05:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-02T01:20:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-02T01:40:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-02T01:45:00Z", "nfx", "done", "on_site", ""},
			[5]string{"2026-11-02T02:10:00Z", "done", "on_site", "done", ""},
			[5]string{"2026-11-02T02:20:00Z", "fix", "done", "confirmed", ""}),
			[5]float64{5, 20, 20, 80, -1}},
		{"not yet accepted", trail(rep), [5]float64{-1, -1, -1, -1, -1}},
		{"no one home: no time to arrive", trail(rep,
			[5]string{"2026-11-02T01:05:00Z", "acc", "new", "accepted", ""},
			[5]string{"2026-11-02T01:20:00Z", "arr", "accepted", "on_site", ""},
			[5]string{"2026-11-02T01:30:00Z", "nh", "on_site", "waiting_resident", ""}),
			[5]float64{5, -1, -1, -1, -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tt := flows.TicketKPI(base(), c.ev)
			d, ok := tt.Spans()
			for i, w := range c.want {
				if (w < 0) == ok[i] || (ok[i] && d[i] != minutes(w)) {
					t.Errorf("KPI %d = %v (ok %v), want %v minutes", i, d[i], ok[i], w)
				}
			}
		})
	}
}

// TestKPIHintsOrder: hints come out most tickets first, then newest, then
// by place, however the accumulator's maps iterate.
func TestKPIHintsOrder(t *testing.T) {
	for run := 0; run < 5; run++ {
		acc := flows.NewKPI(kpiOptions())
		for _, b := range []string{"9栋", "1栋", "5栋"} {
			for d, room := range []string{"101", "201", "301"} {
				at := fmt.Sprintf("2026-11-0%dT01:00:00Z", d+2)
				acc.Add(&flows.Ticket{ID: b + room, Category: "water", State: flows.StateClosed, Created: kpiAt(at), Building: b, Unit: "1单元", Room: room},
					trail([5]string{at, "reported", "", "new", ""}))
			}
		}
		// 1栋 has a fourth leak: it comes first.
		acc.Add(&flows.Ticket{ID: "1栋401", Category: "water", State: flows.StateClosed, Created: kpiAt("2026-11-01T01:00:00Z"), Building: "1栋", Unit: "1单元", Room: "401"},
			trail([5]string{"2026-11-01T01:00:00Z", "reported", "", "new", ""}))
		var got []string
		for _, h := range acc.Result().Hints {
			got = append(got, fmt.Sprintf("%s %d", h.Building, h.N))
		}
		if want := []string{"1栋 4", "5栋 3", "9栋 3"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: hints %v, want %v", run, got, want)
		}
	}
}

// TestKPIByFault: coded tickets are grouped by category and component,
// and by cause; uncoded ones are in neither.
func TestKPIByFault(t *testing.T) {
	o := kpiOptions()
	o.PartsCost = nil
	acc := flows.NewKPI(o)
	mk := func(id, cat, comp, cause string) *flows.Ticket {
		tk := &flows.Ticket{ID: id, Category: cat, State: flows.StateClosed, Created: kpiAt("2026-11-10T01:00:00Z")}
		if comp != "" {
			tk.Fault = &flows.FaultCode{Component: comp, Symptom: "LEAK", Cause: cause, Action: "REPLACE"}
		}
		return tk
	}
	for _, tk := range []*flows.Ticket{mk("A", "water", "VALVE", "WEAR"), mk("B", "water", "VALVE", "CORR"),
		mk("C", "water", "TAP", "WEAR"), mk("D", "door", "LOCK", "WEAR"), mk("E", "water", "", "")} {
		acc.Add(tk, nil)
	}
	r := acc.Result()
	var faults, causes []string
	for _, g := range r.ByFault {
		faults = append(faults, fmt.Sprintf("%s:%d", g.Key, g.Reported))
	}
	for _, g := range r.ByCause {
		causes = append(causes, fmt.Sprintf("%s:%d", g.Key, g.Reported))
	}
	if got := fmt.Sprint(faults); got != "[water/VALVE:2 door/LOCK:1 water/TAP:1]" {
		t.Errorf("by fault %s", got)
	}
	if got := fmt.Sprint(causes); got != "[water/WEAR:2 door/WEAR:1 water/CORR:1]" {
		t.Errorf("by cause %s", got)
	}
}
