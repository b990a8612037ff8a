package flows

import (
	"fmt"
	"time"
)

// The resident's side of the visit: consent to entry, no one home and a
// new time (SOP 4.1.2), and a request that cannot be met, closed with an
// apology.

// entryOK records the resident's own consent to entry.
func (c *call) entryOK(t *Ticket) error {
	st, _ := c.current(t)
	if st.Kind != StepEntry || t.Visit.Entry != "" {
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	t.Visit.Entry = "resident"
	if err := c.record(t, "entry", "resident"); err != nil {
		return err
	}
	c.toast = c.t("visit.entry_thanks")
	if err := c.advance(t); err != nil {
		return err
	}
	return c.showNotice(t, "visit.entry_given", "ticket", t.ID)
}

// endVisit closes a visit whose request cannot be met, with the apology
// the SOP asks for recorded and sent.
func (c *call) endVisit(t *Ticket) error {
	st, _ := c.current(t)
	refused := t.Visit.Quote != nil && t.Visit.Quote.Status == "refused"
	if !(st.Kind == StepQuote && refused) && st.Kind != StepSurvey {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if err := c.returnJobParts(t, "visit ended"); err != nil {
		return err
	}
	now := c.now
	t.Closed = &now
	t.Step = ""
	if err := c.move(t, ActEndVisit, "apology"); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	if err := c.putCard(t, ""); err != nil {
		return err
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "visit.apology", []any{"ticket", t.ID, "phone", c.ticketPhone(t, res.Lang)})
	return nil
}

func (c *call) servicePhone(l Lang) string {
	if c.e.o.ServicePhone != "" {
		return c.e.o.ServicePhone
	}
	return c.tl(l, "visit.service_centre")
}

// noOneHome ends a visit after the door rule is exhausted (SOP 4.1.2) and
// offers the resident new times.
func (c *call) noOneHome(t *Ticket) error {
	st, _ := c.current(t)
	v := t.Visit
	if st.Kind != StepDoor || v.Answered {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if err := c.doorExhausted(v); err != nil {
		return err
	}
	if err := c.returnJobParts(t, "no one home"); err != nil {
		return err
	}
	t.NoAnswer++
	t.Step = ""
	t.Visit = nil
	t.AgreedTime = nil
	now := c.now
	t.WaitingSince = &now
	if err := c.move(t, ActNoOneHome, fmt.Sprintf("rings=%d knocks=%d", v.Rings, v.Knocks)); err != nil {
		return err
	}
	if c.e.o.SLA.WaitingChase > 0 {
		if err := c.schedule(tmChase, t.ID, 0, c.now.Add(c.e.o.SLA.WaitingChase)); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	if err := c.putCard(t, ""); err != nil {
		return err
	}
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	c.tell(res, "visit.no_one_home", []any{"ticket", t.ID, "name", t.Assignee, "time", c.clock(c.now)}, c.slotButtons(t, res.Lang)...)
	return nil
}

// reschedule sets the new agreed time the resident picked.
func (c *call) reschedule(t *Ticket, args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	var at *slot
	for _, s := range c.slots() {
		if s.key == args[0] {
			s := s
			at = &s
		}
	}
	if at == nil {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	when := at.at.UTC()
	t.AgreedTime, t.ASAP = &when, false
	if err := c.record(t, "rescheduled", c.localTime(when)); err != nil {
		return err
	}
	if err := c.scheduleVisit(t); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("visit.rescheduled", "ticket", t.ID, "time", c.localTime(when)))
	c.groupCard(t, false)
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	c.tell(tech, "visit.rescheduled_tech", []any{"ticket", t.ID, "time", c.localTime(when)}, c.techButtons(t, tech.Lang)...)
	return nil
}

type slot struct {
	key string
	at  time.Time
}

// slots are the new times offered after no one was home: the next two
// days, morning and afternoon, in the estate's time zone.
func (c *call) slots() []slot {
	loc := c.e.o.Location
	local := c.now.In(loc)
	day := func(n, h int) time.Time {
		return time.Date(local.Year(), local.Month(), local.Day()+n, h, 0, 0, 0, loc)
	}
	return []slot{{"d1am", day(1, 9)}, {"d1pm", day(1, 14)}, {"d2am", day(2, 9)}, {"d2pm", day(2, 14)}}
}

// slotButtons are the new times offered to a resident.
func (c *call) slotButtons(t *Ticket, l Lang) [][]Button {
	var rows [][]Button
	for _, s := range c.slots() {
		rows = append(rows, []Button{TicketButton(c.tl(l, "slot."+s.key, "date", s.at.In(c.e.o.Location).Format("01-02")), ActReschedule, t.ID, s.key)})
	}
	return rows
}
