package flows

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// EmergencyType is one emergency of the emergency plan (应急处理预案).
type EmergencyType struct {
	Key      string
	Labels   map[Lang]string
	Category string
	// The ladder: not accepted by AcceptWithin → group and on-duty paged
	// again; not arrived by ArriveWithin → leads; by ManagerAfter → admins.
	AcceptWithin, ArriveWithin, ManagerAfter time.Duration
}

// SLAOptions are the timers of normal tickets.
type SLAOptions struct {
	AcceptWithin, ArriveWithin, AgreedGrace, RemindBefore time.Duration
	WaitingChase, WaitingCloseAfter                       time.Duration
	// LateAfter marks a timer that fired this long after its due time as late.
	LateAfter time.Duration
}

// WorkOptions are the working days and hours for the daily handover.
type WorkOptions struct {
	Days           map[time.Weekday]bool
	Start, End     int // minutes after midnight
	HandoverBefore time.Duration
}

func (e *Engine) emergency(key string) (EmergencyType, bool) {
	for _, em := range e.o.Emergencies {
		if em.Key == key {
			return em, true
		}
	}
	return EmergencyType{}, false
}

// Tick fires every timer that is due, each in the same transaction as its
// effects: a tick that runs twice, or a restart between ticks, never fires
// one twice. Timers that fell due while the process was down fire once,
// marked late. It returns how many fired.
func (e *Engine) Tick(ctx context.Context) (int, error) {
	now := e.o.Now().UTC()
	fired := 0
	for {
		n := 0
		ahead := e.auditAhead(ctx, now)
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

// scheduleVisit sets the arrival deadline and the reminder for an accepted ticket.
func (c *call) scheduleVisit(t *Ticket) error {
	if t.Emergency != "" {
		return nil // the emergency ladder already runs from the report
	}
	sla := c.e.o.SLA
	if t.AgreedTime != nil {
		if sla.RemindBefore > 0 && t.AgreedTime.Add(-sla.RemindBefore).After(c.now) {
			if err := c.schedule(tmRemind, t.ID, 0, t.AgreedTime.Add(-sla.RemindBefore)); err != nil {
				return err
			}
		}
		return c.schedule(tmArrive, t.ID, 0, t.AgreedTime.Add(sla.AgreedGrace))
	}
	if sla.ArriveWithin > 0 {
		return c.schedule(tmArrive, t.ID, 0, c.now.Add(sla.ArriveWithin))
	}
	return nil
}

// breach records an SLA breach once per kind (and counts it for metrics).
func (c *call) breach(t *Ticket, kind string) {
	for _, b := range t.Breaches {
		if b == kind {
			return
		}
	}
	t.Breaches = append(t.Breaches, kind)
	c.e.stats.Breaches.Add(1)
}

func lateNote(late bool) string {
	if late {
		return " late"
	}
	return ""
}

// notYetThere: the ticket waits for its technician to arrive.
func notYetThere(t *Ticket) bool {
	return t.State == StateAccepted || t.State == StateOnTheWay || t.State == StateWaiting
}

// slaAccept: a normal ticket nobody accepted in time; the leads are told.
func (c *call) slaAccept(t *Ticket, late bool) error {
	if t.State != StateNew {
		return nil
	}
	c.breach(t, "accept")
	if err := c.record(t, "sla_accept", "breach"+lateNote(late)); err != nil {
		return err
	}
	c.groupCard(t, false)
	return c.toLeads("sla.not_accepted", "ticket", t.ID, "age", c.age(t.Created), "address", shortAddress(t))
}

// slaArrive: the technician is not on site by the deadline; the leads are told.
func (c *call) slaArrive(t *Ticket, late bool) error {
	if !notYetThere(t) {
		return nil
	}
	c.breach(t, "arrive")
	if err := c.record(t, "sla_arrive", "breach"+lateNote(late)); err != nil {
		return err
	}
	c.groupCard(t, false)
	return c.toLeads("sla.not_arrived", "ticket", t.ID, "name", t.Assignee, "when", c.whenText(t, c.lang))
}

// slaRemind reminds the technician of the agreed time.
func (c *call) slaRemind(t *Ticket, late bool) error {
	if !notYetThere(t) {
		return nil
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	if err := c.record(t, "remind", lateNote(late)); err != nil {
		return err
	}
	c.tell(tech, "sla.remind", []any{"ticket", t.ID, "when", c.whenText(t, tech.Lang), "address", c.fullAddress(t)}, c.techButtons(t, tech.Lang)...)
	return nil
}

// countdown refreshes an emergency's card every minute until someone
// arrives or the last rung has passed. The card only changes when its text
// does, and the sender keeps only the newest queued edit of a card.
func (c *call) countdown(t *Ticket) error {
	em, ok := c.e.emergency(t.Emergency)
	if !ok || t.Arrived != nil || !t.State.Open() || t.State == StateOnSite {
		return nil
	}
	c.postCard(t, false, true)
	if c.now.Before(t.Created.Add(em.ManagerAfter)) {
		return c.schedule(tmClock, t.ID, 0, c.now.Truncate(time.Minute).Add(time.Minute))
	}
	return nil
}

// rung is one step of an emergency's escalation ladder.
func (c *call) rung(t *Ticket, n int, late bool) error {
	em, _ := c.e.emergency(t.Emergency)
	switch n {
	case 1:
		if t.State != StateNew {
			return nil
		}
		t.Escalation = max(t.Escalation, 1)
		c.breach(t, "accept")
		if err := c.record(t, "sla_rung", "1"+lateNote(late)); err != nil {
			return err
		}
		c.groupCard(t, false)
		l := c.e.o.DefaultLang
		c.send(Message{To: c.e.o.Group, Priority: PrioUrgent, Ticket: t.ID,
			Text:    c.tl(l, "emergency.repage", "ticket", t.ID, "type", em.Labels[l], "age", c.age(t.Created), "address", shortAddress(t)),
			Buttons: [][]Button{{TicketButton(c.tl(l, "btn.accept"), ActAccept, t.ID)}}})
		return c.pageOnDuty(t, em, "emergency.repage")
	case 2, 3:
		if t.Arrived != nil || !t.State.Open() || t.State == StateOnSite {
			return nil
		}
		t.Escalation = max(t.Escalation, n)
		c.breach(t, "arrive")
		if err := c.record(t, "sla_rung", strconv.Itoa(n)+lateNote(late)); err != nil {
			return err
		}
		if n == 2 {
			// An emergency SLA breach triggers the SOP review.
			if err := c.triggerReview("sla", t.ID); err != nil {
				return err
			}
		}
		c.groupCard(t, false)
		who := t.Assignee
		roles := []Role{RoleLead}
		key := "emergency.to_lead"
		if n == 3 {
			roles, key = []Role{RoleAdmin}, "emergency.to_manager"
		}
		for _, r := range roles {
			ps, err := c.tx.PeopleByRole(r)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if who == "" {
					who = c.tl(p.Lang, "open.unassigned")
				}
				c.send(Message{To: p.Chat, Priority: PrioUrgent, Ticket: t.ID,
					Text: c.tl(p.Lang, key, "ticket", t.ID, "type", em.Labels[p.Lang], "age", c.age(t.Created), "name", who, "address", c.fullAddress(t))})
			}
		}
		return nil
	}
	return nil
}

// toLeads tells every lead (and admin) something.
func (c *call) toLeads(key string, kv ...any) error {
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, p := range leads {
		c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Priority: PrioUrgent})
	}
	return nil
}

// pageOnDuty sends the emergency to the technicians on duty now, privately
// (their chats are not bound by the group's budget); with nobody on duty
// the leads are paged instead and told why.
func (c *call) pageOnDuty(t *Ticket, em EmergencyType, key string) error {
	ids, err := c.onDuty()
	if err != nil {
		return err
	}
	paged := 0
	for _, id := range ids {
		p, err := c.person(id)
		if err != nil {
			return err
		}
		if p == nil || !p.Registered || !p.Role.IsStaff() {
			continue
		}
		c.send(Message{To: p.Chat, Priority: PrioUrgent, Ticket: t.ID,
			Text:    c.tl(p.Lang, key, "ticket", t.ID, "type", em.Labels[p.Lang], "age", c.age(t.Created), "address", shortAddress(t)) + "\n" + c.tl(p.Lang, "emergency.deadline", "time", c.clock(t.Created.Add(em.ArriveWithin))),
			Buttons: [][]Button{{TicketButton(c.tl(p.Lang, "btn.accept"), ActAccept, t.ID)}}})
		paged++
	}
	if paged > 0 {
		return nil
	}
	return c.toLeads("emergency.nobody_on_duty", "ticket", t.ID, "type", em.Labels[c.e.o.DefaultLang], "address", shortAddress(t))
}

// chase reminds a resident who was not home, and closes the ticket when
// they never answer.
func (c *call) chase(t *Ticket, late bool) error {
	if t.State != StateWaiting || t.WaitingSince == nil {
		return nil
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	sla := c.e.o.SLA
	if c.now.Sub(*t.WaitingSince) >= sla.WaitingCloseAfter {
		now := c.now
		t.Closed, t.Step = &now, ""
		from := t.State
		t.State = StateUnresolved
		t.Rev++
		if err := c.tx.PutTicket(t); err != nil {
			return err
		}
		if err := c.event(t, "closed_no_reply", from, t.State, lateNote(late)); err != nil {
			return err
		}
		c.groupCard(t, false)
		if err := c.unschedule(t.ID, tmArrive, tmRemind); err != nil {
			return err
		}
		if res != nil {
			c.tell(res, "visit.closed_no_reply", []any{"ticket", t.ID, "phone", c.servicePhone(res.Lang)})
		}
		return nil
	}
	if t.AgreedTime == nil && res != nil {
		if err := c.record(t, "chase", lateNote(late)); err != nil {
			return err
		}
		c.tell(res, "visit.chase", []any{"ticket", t.ID}, c.slotButtons(t, res.Lang)...)
	}
	next := c.now.Add(sla.WaitingChase)
	if limit := t.WaitingSince.Add(sla.WaitingCloseAfter); next.After(limit) {
		next = limit
	}
	return c.schedule(tmChase, t.ID, 0, next)
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

// ensureDaily keeps the next working day's handover timer scheduled.
func (c *call) ensureDaily() error {
	w := c.e.o.Work
	if len(w.Days) == 0 || w.End <= 0 {
		return nil
	}
	local := c.now.In(c.e.o.Location)
	for i := 0; i < 8; i++ {
		day := local.AddDate(0, 0, i)
		if !w.Days[day.Weekday()] {
			continue
		}
		due := c.atMinutes(day, w.End).Add(-w.HandoverBefore)
		if !due.After(c.now) {
			continue
		}
		dk := c.dayKey(due)
		return c.tx.PutTimer(Timer{Key: tmHandover + ":" + dk, Due: due.UTC(), Kind: tmHandover, Day: dk})
	}
	return nil
}

// slotButtons are the new times offered to a resident.
func (c *call) slotButtons(t *Ticket, l Lang) [][]Button {
	var rows [][]Button
	for _, s := range c.slots() {
		rows = append(rows, []Button{TicketButton(c.tl(l, "slot."+s.key, "date", s.at.In(c.e.o.Location).Format("01-02")), ActReschedule, t.ID, s.key)})
	}
	return rows
}

// DutyOverride is a lead's live change to the roster: a person on (or off)
// duty until a time, whatever the configured roster says.
type DutyOverride struct {
	PersonID string    `json:"person_id"`
	Off      bool      `json:"off,omitempty"`
	Until    time.Time `json:"until"`
	By       string    `json:"by"`
}

// onDuty is the roster at now with the leads' live overrides applied.
func (c *call) onDuty() ([]string, error) {
	var ids []string
	if c.e.o.OnDuty != nil {
		ids = c.e.o.OnDuty(c.now)
	}
	overrides, err := c.tx.DutyOverrides()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	for _, o := range overrides {
		if !o.Until.After(c.now) {
			continue
		}
		if o.Off {
			delete(set, o.PersonID)
		} else if !set[o.PersonID] {
			set[o.PersonID] = true
			ids = append(ids, o.PersonID)
		}
	}
	var out []string
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
			delete(set, id)
		}
	}
	return out, nil
}

// cmdDuty shows who is on duty now, with a button per technician to put
// them on or off duty for the next 12 hours.
func (c *call) cmdDuty() error {
	on, err := c.onDuty()
	if err != nil {
		return err
	}
	techs, err := c.tx.PeopleByRole(RoleTechnician)
	if err != nil {
		return err
	}
	var names []string
	var rows [][]Button
	for _, p := range techs {
		if contains(on, p.ID) {
			names = append(names, p.Name)
			rows = append(rows, []Button{{Text: c.t("btn.duty_off", "name", p.Name), Data: EncodePayload(vbDuty, p.ID, "off")}})
		} else {
			rows = append(rows, []Button{{Text: c.t("btn.duty_on", "name", p.Name), Data: EncodePayload(vbDuty, p.ID, "on")}})
		}
	}
	now := c.t("duty.nobody")
	if len(names) > 0 {
		now = strings.Join(names, "、")
	}
	c.reply(c.t("duty.now", "time", c.clock(c.now), "names", now), rows...)
	return nil
}

// dutyToggle applies a lead's on/off tap.
func (c *call) dutyToggle(args []string) error {
	if len(args) != 2 || (args[1] != "on" && args[1] != "off") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := c.person(args[0])
	if err != nil {
		return err
	}
	if p == nil || !p.Registered || !p.Role.IsStaff() {
		return Errorf(CodeInvalid, "reassign.bad_target")
	}
	o := DutyOverride{PersonID: p.ID, Off: args[1] == "off", Until: c.now.Add(12 * time.Hour), By: c.me.ID}
	if err := c.tx.PutDutyOverride(o); err != nil {
		return err
	}
	key := "duty.set_on"
	if o.Off {
		key = "duty.set_off"
	}
	c.toast = c.t(key, "name", p.Name, "until", c.localTime(o.Until))
	c.reply(c.toast)
	return nil
}
