package flows

import (
	"context"
	"strconv"
	"time"
)

// Timers are data: each is a stored due time with a kind (a row of the
// timer table, routes.go), consumed in the same transaction as its
// effects. This file runs them and keeps their keys; the kinds live with
// their areas (sla.go, emergency.go, handover.go, reviews.go...).

// Tick fires every timer that is due, each in the same transaction as its
// effects: a tick that runs twice, or a restart between ticks, never fires
// one twice. Timers that fell due while the process was down fire once,
// marked late. It returns how many fired.
func (e *Engine) Tick(ctx context.Context) (int, error) {
	now := e.o.Now().UTC()
	fired := 0
	for {
		n := 0
		ahead := append(multiAhead{e.auditAhead(ctx, now)}, e.weeklyAhead(ctx, now)...)
		err := e.o.Store.Update(ctx, func(tx Tx) error {
			n = 0
			c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ahead: ahead,
				ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
			due, err := tx.DueTimers(now, 100)
			if err != nil {
				return err
			}
			for _, tm := range due {
				if err := tx.DeleteTimer(tm.Key); err != nil {
					return err
				}
				late := e.o.SLA.LateAfter > 0 && now.Sub(tm.Due) > e.o.SLA.LateAfter
				if err := c.fire(tm, late); err != nil {
					return err
				}
				n++
				e.stats.Timers.Add(1)
			}
			if err := c.ensureDaily(); err != nil {
				return err
			}
			if err := c.ensureGovernance(); err != nil {
				return err
			}
			if err := c.ensureWeekly(); err != nil {
				return err
			}
			if err := c.ensureParts(); err != nil {
				return err
			}
			if err := c.ensurePeople(!e.menusChecked.Load()); err != nil {
				return err
			}
			if !e.menusChecked.Load() {
				// Once per process: later joiners get theirs when they join.
				if err := c.ensureMenus(); err != nil {
					return err
				}
			}
			return c.flush()
		})
		if err != nil {
			return fired, err
		}
		e.menusChecked.Store(true)
		if n > 0 {
			e.changed()
		}
		fired += n
		if n < 100 {
			return fired, nil
		}
	}
}

// schedule stores a timer.
func (c *call) schedule(kind, ticket string, rung int, due time.Time) error {
	key := kind + ":" + ticket
	if rung > 0 {
		key += ":" + strconv.Itoa(rung)
	}
	return c.tx.PutTimer(Timer{Key: key, Due: due.UTC(), Kind: kind, Ticket: ticket, Rung: rung})
}

// unschedule drops a ticket's timers of the kinds given.
func (c *call) unschedule(ticket string, kinds ...string) error {
	for _, k := range kinds {
		keys := []string{k + ":" + ticket}
		if k == tmRung {
			keys = []string{tmRung + ":" + ticket + ":1", tmRung + ":" + ticket + ":2", tmRung + ":" + ticket + ":3"}
		}
		for _, key := range keys {
			if err := c.tx.DeleteTimer(key); err != nil {
				return err
			}
		}
	}
	return nil
}

func lateNote(late bool) string {
	if late {
		return " late"
	}
	return ""
}

// dayKey is the local date of t as YYYYMMDD.
func (c *call) dayKey(t time.Time) string { return t.In(c.e.o.Location).Format("20060102") }

// dayBounds returns the UTC start and end of a local YYYYMMDD day.
func (c *call) dayBounds(day string) (time.Time, time.Time, error) {
	start, err := time.ParseInLocation("20060102", day, c.e.o.Location)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return start.UTC(), start.AddDate(0, 0, 1).UTC(), nil
}

// atMinutes is the local time on day at minutes after midnight.
func (c *call) atMinutes(day time.Time, minutes int) time.Time {
	loc := c.e.o.Location
	d := day.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Add(time.Duration(minutes) * time.Minute)
}
