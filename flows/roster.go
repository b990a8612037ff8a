package flows

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// The weekly duty pattern (值班表) as data: seeded once from the
// configuration's [[duty]] (Options.DutySeed), then edited in chat by the
// leads (/duty week, a day, a shift). People are person ids, so a WeCom
// technician is on duty like a Telegram one. The leads' temporary on/off
// changes (duty.go) still apply on top of it.

// RosterTx holds the weekly duty pattern.
type RosterTx interface {
	// Roster returns the stored pattern; ErrNotFound before it is seeded.
	Roster() (*Roster, error)
	// PutRoster stores the pattern, replacing the one stored.
	PutRoster(r *Roster) error
}

// Roster is the weekly duty pattern: shifts by weekday.
type Roster struct {
	// Shifts in the order people are paged (a day's first shift first).
	Shifts []RosterShift `json:"shifts"`
	// NextID numbers the next shift; ids are never reused.
	NextID int `json:"next_id"`
	// Source is where the pattern started: RosterFromConfig or RosterFromChat.
	Source string `json:"source"`
	// Rev counts the edits.
	Rev     int       `json:"rev"`
	Updated time.Time `json:"updated"`
	By      string    `json:"by"`
}

// Roster sources.
const (
	RosterFromConfig = "config" // seeded from [[duty]]
	RosterFromChat   = "chat"   // no configured pattern: started by a lead's first edit
)

// RosterShift is one shift of the week: People are on duty on Day from
// From to To (minutes after local midnight). A To at or before From runs
// past midnight into the next day (To equal to From is 24 hours), like
// the configuration's shifts.
type RosterShift struct {
	ID     int          `json:"id"`
	Day    time.Weekday `json:"day"`
	From   int          `json:"from"`
	To     int          `json:"to"`
	People []string     `json:"people"`
}

// length is the shift's duration in minutes.
func (s RosterShift) length() int {
	n := s.To - s.From
	if n <= 0 {
		n += 24 * 60
	}
	return n
}

// covers reports whether the shift includes local time t.
func (s RosterShift) covers(t time.Time) bool {
	wd, now := t.Weekday(), t.Hour()*60+t.Minute()
	if wd == s.Day && now >= s.From && now < s.From+s.length() {
		return true
	}
	return (s.Day+1)%7 == wd && now < s.From+s.length()-24*60
}

// OnDutyAt lists the person ids on duty at t (in loc) by the pattern, each
// once, in the order of the shifts.
func (r *Roster) OnDutyAt(t time.Time, loc *time.Location) []string {
	if r == nil {
		return nil
	}
	lt := t.In(loc)
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Shifts {
		if !s.covers(lt) {
			continue
		}
		for _, id := range s.People {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Shift returns the shift with that id, nil when there is none.
func (r *Roster) Shift(id int) *RosterShift {
	for i := range r.Shifts {
		if r.Shifts[i].ID == id {
			return &r.Shifts[i]
		}
	}
	return nil
}

// Day lists the shifts that start on day wd, by start time.
func (r *Roster) Day(wd time.Weekday) []RosterShift {
	var out []RosterShift
	for _, s := range r.Shifts {
		if s.Day == wd {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out
}

// seedRoster is the pattern the store starts with: the configured one.
func seedRoster(seed []RosterShift, now time.Time) *Roster {
	r := &Roster{Source: RosterFromChat, Updated: now, By: ActorSystem}
	if len(seed) > 0 {
		r.Source = RosterFromConfig
	}
	for _, s := range seed {
		r.NextID++
		s.ID = r.NextID
		s.People = append([]string(nil), s.People...)
		r.Shifts = append(r.Shifts, s)
	}
	return r
}

// roster reads the stored pattern, or the seed when none is stored yet.
func (c *call) roster() (*Roster, error) {
	r, err := c.tx.Roster()
	if errors.Is(err, ErrNotFound) {
		return seedRoster(c.e.o.DutySeed, c.now), nil
	}
	return r, err
}

// ensureRoster stores the seed once, at the first tick: from then on the
// stored pattern is the roster, whatever the configuration says.
func (c *call) ensureRoster() error {
	if _, err := c.tx.Roster(); !errors.Is(err, ErrNotFound) {
		return err
	}
	return c.tx.PutRoster(seedRoster(c.e.o.DutySeed, c.now))
}

// dayNames are the short names /duty takes for a weekday, by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekOrder is the week as the roster shows it, Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// clockText renders minutes after midnight as HH:MM.
func clockText(m int) string { return fmt.Sprintf("%02d:%02d", m/60%24, m%60) }
