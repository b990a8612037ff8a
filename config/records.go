package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Records configures the records and insight areas: the weekly KPI report,
// repeat faults at intake, quality control, callback visits (回访) and the
// daily archive of the day's forms.
type Records struct {
	// WeeklyReport is when the leads get last week's KPI report (Monday to
	// Sunday, with charts and the workbook): a day and a time,
	// "mon 08:30" (default); "" turns it off.
	WeeklyReport string `toml:"weekly_report"`
	// RepeatWithin: a report of the same home (any resident of it) or
	// public asset and category this soon after a ticket there was closed
	// is a repeat, 0..365 days (default 720h, 30 days; "0s" off).
	RepeatWithin Duration `toml:"repeat_within"`
	// RepeatOffer is how long a repeat is offered to the technician of the
	// earlier ticket before the group gets it, shorter than
	// sla.accept_within (default 10m; "0s": to the group at once).
	RepeatOffer Duration `toml:"repeat_offer"`
	// QC turns the quality-control sample on (default true).
	QC bool `toml:"qc"`
	// QCShare is the share of closed tickets sampled for the lead's QC
	// review, 0..100 percent (default 10); complaints and reworks always are.
	QCShare int `toml:"qc_share"`
	// CallbackAfter is when after closing the resident is asked whether
	// the fix held, 0..90 days (default 168h, 7 days; "0s" off).
	CallbackAfter Duration `toml:"callback_after"`
	// CallbackCategories overrides CallbackAfter per category key
	// ({ electricity = "72h", other = "0s" }; "0s": no callback).
	CallbackCategories map[string]Duration `toml:"callback_categories"`
	// CallbackPublic also calls back on public-facility orders (default
	// false: household repairs only).
	CallbackPublic bool `toml:"callback_public"`
	// CallbackAnswerWithin is how long the resident has to answer before
	// the ticket goes on customer service's phone-callback list, 1h..14
	// days (default 48h).
	CallbackAnswerWithin Duration `toml:"callback_answer_within"`
	// Archive writes the day's forms (维修任务单, 报修记录表, the work orders
	// of the tickets closed that day) under <data_dir>/records/YYYY/MM/DD
	// at ArchiveAt the next morning (default true).
	Archive bool `toml:"archive"`
	// ArchiveAt is when the previous day is archived, "HH:MM" (default "00:30").
	ArchiveAt string `toml:"archive_at"`
}

// DefaultRecords is the built-in records configuration.
func DefaultRecords() Records {
	return Records{
		WeeklyReport:         "mon 08:30",
		RepeatWithin:         Duration{30 * 24 * time.Hour},
		RepeatOffer:          Duration{10 * time.Minute},
		QC:                   true,
		QCShare:              10,
		CallbackAfter:        Duration{7 * 24 * time.Hour},
		CallbackAnswerWithin: Duration{48 * time.Hour},
		Archive:              true,
		ArchiveAt:            "00:30",
	}
}

// Weekly returns the weekly report's day and time (minutes after
// midnight); ok is false when it is off or unparsable.
func (r Records) Weekly() (day time.Weekday, minutes int, ok bool) {
	d, clock, found := strings.Cut(strings.TrimSpace(r.WeeklyReport), " ")
	if !found {
		return 0, 0, false
	}
	wd, ok := parseDay(d)
	if !ok {
		return 0, 0, false
	}
	m, err := ParseClock(strings.TrimSpace(clock))
	if err != nil {
		return 0, 0, false
	}
	return wd, m, true
}

// ArchiveMinutes is ArchiveAt in minutes after midnight.
func (r Records) ArchiveMinutes() int {
	m, _ := ParseClock(r.ArchiveAt)
	return m
}

func (c *Config) validateRecords(v *validator) {
	r := c.Records
	if r.WeeklyReport != "" {
		if _, _, ok := r.Weekly(); !ok {
			v.add("records.weekly_report", `must be a day and a time, e.g. "mon 08:30", or "" to turn it off (got %q)`, r.WeeklyReport)
		}
	}
	v.durRange("records.repeat_within", r.RepeatWithin, 0, 365*24*time.Hour)
	if v.durRange("records.repeat_offer", r.RepeatOffer, 0, 24*time.Hour) && r.RepeatOffer.Duration > 0 &&
		r.RepeatOffer.Duration >= c.SLA.AcceptWithin.Duration {
		v.add("records.repeat_offer", "must be shorter than sla.accept_within (%s): the offer would outlast the acceptance deadline", c.SLA.AcceptWithin.Duration)
	}
	v.intRange("records.qc_share", int64(r.QCShare), 0, 100)
	v.durRange("records.callback_after", r.CallbackAfter, 0, 90*24*time.Hour)
	v.durRange("records.callback_answer_within", r.CallbackAnswerWithin, time.Hour, 14*24*time.Hour)
	known := map[string]bool{}
	for _, cat := range c.Categories {
		known[cat.Key] = true
	}
	keys := make([]string, 0, len(r.CallbackCategories))
	for k := range r.CallbackCategories {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := fmt.Sprintf("records.callback_categories.%s", k)
		if !known[k] {
			v.add(key, "is not a configured category key")
			continue
		}
		v.durRange(key, r.CallbackCategories[k], 0, 90*24*time.Hour)
	}
	v.clock("records.archive_at", r.ArchiveAt)
}
