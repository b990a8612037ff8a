package flows

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Date is a calendar date with no time of day and no zone: the dates
// printed on a certificate (issued, valid until, next 复审). Which instants
// a date covers depends on the org's time zone (Start, End); a certificate
// valid until 2026-10-01 qualifies through 2026-10-01 23:59:59 local time.
// The zero Date means "not set".
type Date struct {
	Y int
	M time.Month
	D int
}

// NewDate returns the date y-m-d, normalised like time.Date (2026-02-30 is
// 2026-03-02).
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{Y: t.Year(), M: t.Month(), D: t.Day()}
}

// DateOf is the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date{Y: y, M: m, D: d}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String is the ISO form "2026-10-01" ("" for the zero date), the same in
// every language.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Y, d.M, d.D)
}

// days counts days since 1970-01-01, for comparisons and differences.
func (d Date) days() int64 {
	return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	a, b := d.days(), o.days()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// DaysUntil is the number of days from d to o (negative when o is earlier).
func (d Date) DaysUntil(o Date) int { return int(o.days() - d.days()) }

// AddDate adds years, months and days like time.Time.AddDate (2024-02-29
// plus one year is 2025-03-01).
func (d Date) AddDate(years, months, days int) Date {
	t := time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, time.UTC).AddDate(years, months, days)
	return Date{Y: t.Year(), M: t.Month(), D: t.Day()}
}

// Start is the first instant of the date in loc.
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, loc)
}

// End is the first instant after the date in loc (the start of the next
// day): something valid until d is valid at every t with t.Before(d.End(loc)).
func (d Date) End(loc *time.Location) time.Time { return d.AddDate(0, 0, 1).Start(loc) }

// MarshalText writes the ISO form; the zero date is "".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the ISO form written by MarshalText.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	t, err := time.Parse("2006-01-02", string(b))
	if err != nil {
		return fmt.Errorf("flows: bad date %q: %w", b, err)
	}
	*d = Date{Y: t.Year(), M: t.Month(), D: t.Day()}
	return nil
}

// errBadDate is what ParseDate returns for text that is not a date.
var errBadDate = errors.New("unrecognised date")

// ParseDate reads a date typed by a person or read off a certificate:
// "2026-10-01", "2026/10/01", "2026.10.01", "20261001", "2026年10月1日"
// (full-width digits and separators too). Single-digit months and days are
// accepted. The year must be between 1950 and 2100.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '年' || r == '月' || r == '/' || r == '.' || r == '－' || r == '／' || r == '．':
			return '-'
		case r == '日' || r == '号':
			return -1
		}
		return r
	}, s))
	layouts := []string{"2006-1-2", "20060102"}
	for _, l := range layouts {
		t, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		if t.Year() < 1950 || t.Year() > 2100 {
			return Date{}, errBadDate
		}
		return Date{Y: t.Year(), M: t.Month(), D: t.Day()}, nil
	}
	return Date{}, errBadDate
}
