package flows

import (
	"time"
)

// Service levels of normal tickets: accepted and reached in time, the
// technician reminded before the agreed time, a resident who was not home
// chased and, without an answer, the ticket closed.

// SLAOptions are the timers of normal tickets.
type SLAOptions struct {
	AcceptWithin, ArriveWithin, AgreedGrace, RemindBefore time.Duration
	WaitingChase, WaitingCloseAfter                       time.Duration
	// A sign-off not answered is reminded every SignoffRemind and, after
	// SignoffCloseAfter, closed as confirmed by default; a survey not
	// answered likewise, closed without a rating (0: no reminder / never).
	SignoffRemind, SignoffCloseAfter, SurveyRemind, SurveyCloseAfter time.Duration
	// LateAfter marks a timer that fired this long after its due time as late.
	LateAfter time.Duration
}

// scheduleVisit sets the arrival deadline and the reminder for an accepted ticket.
func (c *call) scheduleVisit(t *Ticket) error {
	if t.Emergency != "" {
		return nil // the emergency ladder already runs from the report
	}
	sla := c.areaSLA(t)
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
	return c.toTicketLeads(t, "sla.not_accepted", "ticket", t.ID, "age", c.age(t.Created), "address", shortAddress(t))
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
	return c.toTicketLeads(t, "sla.not_arrived", "ticket", t.ID, "name", t.Assignee, "when", c.whenText(t, c.lang))
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
			c.tell(res, "visit.closed_no_reply", []any{"ticket", t.ID, "phone", c.ticketPhone(t, res.Lang)})
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

// SLAState is where an open ticket stands against its service levels, as
// the office console colours it. The names are shown in URLs (filters),
// so they never change meaning.
type SLAState string

// SLA states.
const (
	SLAOnTime    SLAState = "on_time"   // no deadline near, none missed
	SLAAtRisk    SLAState = "at_risk"   // in the last quarter of the running deadline's window
	SLABreached  SLAState = "breached"  // a deadline passed or a breach was recorded
	SLAEmergency SLAState = "emergency" // an emergency, not (yet) breached
)

// SLAStatus is a ticket's SLA state and the deadline that runs now (nil
// when none does: on site and after).
type SLAStatus struct {
	State SLAState
	Due   *time.Time
}

// SLA says where ticket t stands at now, from the same options the timers
// are scheduled with: an emergency until its arrival deadline (then
// breached); a normal ticket against its acceptance deadline while new,
// then its arrival deadline (the agreed time plus the grace, or the
// acceptance plus ArriveWithin); breached once a deadline passed or a
// breach is on record. A closed ticket is on time unless it breached.
func (e *Engine) SLA(t *Ticket, now time.Time) SLAStatus {
	start, due := e.deadline(t)
	var st SLAStatus
	if !due.IsZero() {
		st.Due = &due
	}
	switch {
	case len(t.Breaches) > 0 || (st.Due != nil && now.After(due)):
		st.State = SLABreached
	case t.Emergency != "":
		st.State = SLAEmergency
	case st.Due != nil && due.Sub(now) <= due.Sub(start)/4:
		st.State = SLAAtRisk
	default:
		st.State = SLAOnTime
	}
	return st
}

// deadline is the window of the deadline that runs for t now (zero when
// none does).
func (e *Engine) deadline(t *Ticket) (start, due time.Time) {
	if !t.State.Open() {
		return time.Time{}, time.Time{}
	}
	sla := e.o.SLA
	if t.Emergency != "" {
		if em, ok := e.emergency(t.Emergency); ok && t.Arrived == nil && em.ArriveWithin > 0 && t.State != StateOnSite {
			return t.Created, t.Created.Add(em.ArriveWithin)
		}
		return time.Time{}, time.Time{}
	}
	switch {
	case t.State == StateNew && sla.AcceptWithin > 0:
		return t.Created, t.Created.Add(sla.AcceptWithin)
	case notYetThere(t) && t.AgreedTime != nil:
		from := t.Created
		if t.Accepted != nil {
			from = *t.Accepted
		}
		return from, t.AgreedTime.Add(sla.AgreedGrace)
	case notYetThere(t) && t.Accepted != nil && sla.ArriveWithin > 0:
		return *t.Accepted, t.Accepted.Add(sla.ArriveWithin)
	}
	return time.Time{}, time.Time{}
}

// Categories are the fault categories, in the order residents see them.
func (e *Engine) Categories() []Category { return append([]Category(nil), e.o.Categories...) }

// Location is the organisation's time zone.
func (e *Engine) Location() *time.Location { return e.o.Location }

// Emergencies are the emergency plan's types.
func (e *Engine) Emergencies() []EmergencyType {
	return append([]EmergencyType(nil), e.o.Emergencies...)
}
