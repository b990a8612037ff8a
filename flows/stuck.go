package flows

import "time"

// Visits that would otherwise never end: a resident who never taps the
// sign-off is reminded and, after a while, the ticket is closed as
// confirmed by default; one who never rates is reminded and the ticket
// closed without a rating. Each is recorded as such (Ticket.Signoff,
// Ticket.Closure and the audit trail). A lead can end either earlier
// (manage.go).

// Ticket.Closure values.
const (
	ClosedConfirmedByDefault = "confirmed_by_default"
	ClosedNoRating           = "no_rating"
	ClosedByLead             = "closed_by_lead"
	CancelledByLead          = "cancelled_by_lead"
)

// Ticket.Signoff values.
const (
	signedByResident = "resident"
	signedByLead     = SignoffLead
	signedOnPaper    = "paper"
	signedByDefault  = "default"
)

// nudgeAt is when an answer waited for since since is next due: the
// next reminder, or the close, whichever comes first; ok is false when
// neither is configured.
func (c *call) nudgeAt(since time.Time, remind, closeAfter time.Duration) (time.Time, bool) {
	var due time.Time
	if remind > 0 {
		due = c.now.Add(remind)
	}
	if closeAfter > 0 {
		if end := since.Add(closeAfter); due.IsZero() || end.Before(due) {
			due = end
		}
	}
	return due, !due.IsZero()
}

// awaitSignoff keeps the sign-off's clock.
func (c *call) awaitSignoff(t *Ticket) error {
	sla := c.e.o.SLA
	if due, ok := c.nudgeAt(*t.Finished, sla.SignoffRemind, sla.SignoffCloseAfter); ok {
		return c.schedule(tmSignoff, t.ID, 0, due)
	}
	return nil
}

// awaitScore keeps the survey's clock.
func (c *call) awaitScore(t *Ticket) error {
	sla := c.e.o.SLA
	if due, ok := c.nudgeAt(*t.SurveySince, sla.SurveyRemind, sla.SurveyCloseAfter); ok {
		return c.schedule(tmSurvey, t.ID, 0, due)
	}
	return nil
}

// signoffDue reminds the signer of the work order, or, past the limit,
// closes the ticket as confirmed by default.
func (c *call) signoffDue(t *Ticket, late bool) error {
	if t.State != StateDone || t.Finished == nil {
		return nil
	}
	sla := c.e.o.SLA
	if sla.SignoffCloseAfter > 0 && !c.now.Before(t.Finished.Add(sla.SignoffCloseAfter)) {
		t.Signoff = signedByDefault
		if err := c.endWithout(t, ClosedConfirmedByDefault, lateNote(late)); err != nil {
			return err
		}
		if res, err := c.resident(t); err != nil {
			return err
		} else if res != nil {
			c.tell(res, "stuck.default_resident", []any{"ticket", t.ID, "phone", c.ticketPhone(t, res.Lang)})
		}
		return c.toLeads("stuck.default_leads", "ticket", t.ID, "name", t.Assignee, "n", int(sla.SignoffCloseAfter.Hours()))
	}
	signers, err := c.signers(t)
	if err != nil {
		return err
	}
	for _, p := range signers {
		if err := c.signoffCardKey(t, p, "confirm.remind"); err != nil {
			return err
		}
	}
	if err := c.record(t, "signoff_remind", lateNote(late)); err != nil {
		return err
	}
	return c.awaitSignoff(t)
}

// surveyDue reminds the resident of the survey, or, past the limit,
// closes the ticket without a rating.
func (c *call) surveyDue(t *Ticket, late bool) error {
	if t.State != StateSurvey || t.SurveySince == nil {
		return nil
	}
	sla := c.e.o.SLA
	if sla.SurveyCloseAfter > 0 && !c.now.Before(t.SurveySince.Add(sla.SurveyCloseAfter)) {
		return c.endWithout(t, ClosedNoRating, lateNote(late))
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "score.remind", []any{"ticket", t.ID, "name", t.Assignee}, c.stars(t))
	if err := c.record(t, "survey_remind", lateNote(late)); err != nil {
		return err
	}
	return c.awaitScore(t)
}

// endWithout closes a ticket whose answer never came, recorded as closure.
func (c *call) endWithout(t *Ticket, closure, note string) error {
	now := c.now
	from := t.State
	t.State, t.Closure, t.Closed, t.Step = StateClosed, closure, &now, ""
	t.Updated = now
	t.Rev++
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.event(t, closure, from, t.State, note); err != nil {
		return err
	}
	if err := c.afterClose(t); err != nil { // QC sample and callback visit (callbacks.go)
		return err
	}
	c.groupCard(t, false)
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil {
		c.retireCard(t, tech.Lang)
		c.tell(tech, "stuck.closed_tech", []any{"ticket", t.ID, "how", c.tl(tech.Lang, "closure."+closure)})
	}
	return nil
}

// signers are who sign the ticket's work order off.
func (c *call) signers(t *Ticket) ([]*Person, error) {
	if t.Signer == SignoffLead {
		return c.ticketLeads(t)
	}
	res, err := c.resident(t)
	if err != nil || res == nil {
		return nil, err
	}
	return []*Person{res}, nil
}

// ticketTimers are every timer kind a ticket may have; a ticket that
// ends drops them all.
var ticketTimers = []string{tmRung, tmAccept, tmArrive, tmRemind, tmChase, tmClock, tmSignoff, tmSurvey, tmRepeatOffer}
