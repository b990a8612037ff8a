package flows

import (
	"errors"
	"strings"
	"time"
)

// ParseAgreedTime reads an appointment time typed by a resident, in the
// estate's time zone: "2026-11-28 14:00", "11-28 14:00", "11/28 14:00",
// "14:00" (the next such time). It must lie between now and 30 days ahead.
func ParseAgreedTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(strings.NewReplacer("：", ":", "／", "/", "－", "-", "  ", " ").Replace(s))
	local := now.In(loc)
	var at time.Time
	var err error
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "01-02 15:04", "1-2 15:04", "01/02 15:04", "1/2 15:04", "15:04"} {
		at, err = time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		switch layout {
		case "15:04":
			at = time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, loc)
			if !at.After(local) {
				at = at.AddDate(0, 0, 1)
			}
		case "01-02 15:04", "1-2 15:04", "01/02 15:04", "1/2 15:04":
			at = time.Date(local.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), 0, 0, loc)
			if at.Before(local.Add(-24 * time.Hour)) { // early January for a date typed in late December
				at = at.AddDate(1, 0, 0)
			}
		}
		break
	}
	if err != nil {
		return time.Time{}, errors.New("unrecognised time")
	}
	if !at.After(now) || at.After(now.Add(30*24*time.Hour)) {
		return time.Time{}, errors.New("time out of range")
	}
	return at, nil
}
