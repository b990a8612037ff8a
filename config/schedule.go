package config

import (
	"fmt"
	"strings"
	"time"
)

// dayNames are the day names accepted in work.days and duty.days, indexed
// by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// dayDaily in duty.days (alone) means all seven days.
const dayDaily = "daily"

// minutesPerDay is the length of a calendar day in clock minutes.
const minutesPerDay = 24 * 60

// parseDay returns the weekday named by s ("mon".."sun", any case).
func parseDay(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// dayMask returns the set of weekdays named in days, bit i standing for
// time.Weekday(i); "daily" adds all seven. Unknown names are ignored here
// (Validate reports them).
func dayMask(days []string) uint8 {
	var m uint8
	for _, d := range days {
		if strings.EqualFold(d, dayDaily) {
			return 1<<7 - 1
		}
		if wd, ok := parseDay(d); ok {
			m |= 1 << wd
		}
	}
	return m
}

// ParseClock parses a time of day written "HH:MM" (24-hour, two digits
// each, 00:00 to 23:59) into minutes since midnight.
func ParseClock(s string) (int, error) {
	digit := func(b byte) bool { return b >= '0' && b <= '9' }
	if len(s) == 5 && s[2] == ':' && digit(s[0]) && digit(s[1]) && digit(s[3]) && digit(s[4]) {
		h := int(s[0]-'0')*10 + int(s[1]-'0')
		m := int(s[3]-'0')*10 + int(s[4]-'0')
		if h < 24 && m < 60 {
			return h*60 + m, nil
		}
	}
	return 0, fmt.Errorf("invalid time of day %q: want HH:MM in 24-hour time, 00:00 to 23:59 (e.g. \"08:30\")", s)
}

// WorkDay reports whether t, taken in c.Location(), falls on one of
// work.days.
func (c Config) WorkDay(t time.Time) bool {
	return dayMask(c.Work.Days)&(1<<t.In(c.Location()).Weekday()) != 0
}

// WorkEnd returns the end of the working day on t's date in c.Location():
// that date at work.end. It does not check that the date is a working day
// (see WorkDay). On an unvalidated Config with an unparsable work.end, the
// end of the calendar day (the next midnight) is returned.
func (c Config) WorkEnd(t time.Time) time.Time {
	loc := c.Location()
	y, m, d := t.In(loc).Date()
	end, err := ParseClock(c.Work.End)
	if err != nil {
		end = minutesPerDay // time.Date normalises 24:00 to the next day
	}
	return time.Date(y, m, d, end/60, end%60, 0, 0, loc)
}

// OnDuty returns the person ids on duty at t, judged by the wall
// clock in c.Location(). Overnight shifts count for the day they start on:
// a 20:00-08:00 shift listed for "fri" covers Friday 20:00 to Saturday
// 08:00 (exclusive). Ids are deduplicated and in roster order; the result
// is nil when nobody is on duty. Shifts with unparsable times (only
// possible on an unvalidated Config) are skipped.
func (c Config) OnDuty(t time.Time) []string {
	lt := t.In(c.Location())
	today := lt.Weekday()
	now := lt.Hour()*60 + lt.Minute()
	var out []string
	seen := make(map[PersonID]bool)
	for _, s := range c.Duty {
		if !s.covers(today, now) {
			continue
		}
		for _, id := range s.People {
			if !seen[id] {
				seen[id] = true
				out = append(out, string(id))
			}
		}
	}
	return out
}

// covers reports whether the shift includes minute now of a day with
// weekday today, either by starting that day or by running past midnight
// from the day before.
func (s Shift) covers(today time.Weekday, now int) bool {
	from, err := ParseClock(s.From)
	if err != nil {
		return false
	}
	to, err := ParseClock(s.To)
	if err != nil {
		return false
	}
	length := to - from
	if length <= 0 { // overnight, or 24 hours when to == from
		length += minutesPerDay
	}
	days := dayMask(s.Days)
	if days&(1<<today) != 0 && now >= from && now < from+length {
		return true
	}
	yesterday := (today + 6) % 7
	return days&(1<<yesterday) != 0 && now < from+length-minutesPerDay
}

// Weekdays lists the days the shift starts on, Sunday first ("daily" is
// all seven).
func (s Shift) Weekdays() []time.Weekday {
	m := dayMask(s.Days)
	var out []time.Weekday
	for d := time.Sunday; d <= time.Saturday; d++ {
		if m&(1<<d) != 0 {
			out = append(out, d)
		}
	}
	return out
}
