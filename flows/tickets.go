package flows

import (
	"strconv"
)

// move applies a transition and records it in the audit trail.
func (c *call) move(t *Ticket, a Action, note string) error {
	from := t.State
	if to := Transitions[a].To; to != "" {
		t.State = to
	}
	t.Updated = c.now
	t.Rev++
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	return c.event(t, string(a), from, t.State, note)
}

// tell sends a person a message in their language.
func (c *call) tell(p *Person, key string, kv []any, buttons ...[]Button) {
	if p == nil || p.Chat.IsZero() {
		return
	}
	c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Buttons: buttons, Priority: PrioNormal})
}

func (c *call) resident(t *Ticket) (*Person, error) { return c.person(t.ResidentID) }

func (c *call) accept(t *Ticket) error {
	now := c.now
	t.AssigneeID, t.Assignee, t.Accepted = c.me.ID, c.me.Name, &now
	if err := c.move(t, ActAccept, ""); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmAccept); err != nil {
		return err
	}
	if err := c.scheduleVisit(t); err != nil {
		return err
	}
	c.toast = c.t("accept.toast", "ticket", t.ID)
	c.groupCard(t, false)
	if err := c.sendJob(c.me, t, "job.assigned"); err != nil {
		return err
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.accepted", []any{"ticket", t.ID, "name", c.me.Name})
	return nil
}

// sendJob gives a technician the job privately: full address, the
// resident's name and phone (never shown in the group), the description,
// the photos, and the next buttons.
func (c *call) sendJob(tech *Person, t *Ticket, headKey string) error {
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	name, phone := "", ""
	if res != nil {
		name, phone = res.Name, res.Phone
	}
	l := tech.Lang
	text := c.tl(l, headKey, "ticket", t.ID) + "\n" + c.tl(l, "job.details",
		"category", c.categoryLabel(t.Category, l),
		"address", c.fullAddress(t),
		"resident", name,
		"phone", phone,
		"kind", c.tl(l, "kind."+string(t.Kind)),
		"when", c.whenText(t, l),
		"photos", len(t.Photos),
		"desc", t.Description)
	c.send(Message{To: tech.Chat, Text: text, Buttons: c.techButtons(t, l), Priority: PrioNormal, Ticket: t.ID})
	for _, ph := range t.Photos {
		c.send(photoMessage(tech.Chat, ph, t.ID, PrioNormal))
	}
	if t.State == StateOnSite && t.Visit != nil {
		m := c.stepCard(t, l)
		m.To = tech.Chat
		c.send(m)
	}
	return nil
}

// techButtons are the assignee's next steps in the current state.
func (c *call) techButtons(t *Ticket, l Lang) [][]Button {
	switch t.State {
	case StateAccepted, StateWaiting:
		return [][]Button{{TicketButton(c.tl(l, "btn.on_the_way"), ActOnTheWay, t.ID), TicketButton(c.tl(l, "btn.arrived"), ActArrive, t.ID)}}
	case StateOnTheWay:
		return [][]Button{{TicketButton(c.tl(l, "btn.arrived"), ActArrive, t.ID)}}
	}
	return nil
}

func (c *call) onTheWay(t *Ticket) error {
	if err := c.move(t, ActOnTheWay, ""); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("job.on_the_way", "ticket", t.ID), c.techButtons(t, c.lang)...)
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.on_the_way", []any{"ticket", t.ID, "name", c.me.Name})
	return nil
}

// arrive records the arrival (the first one counts for the SLA) and
// starts the on-site checklist at its first step.
func (c *call) arrive(t *Ticket) error {
	now := c.now
	if t.Arrived == nil {
		t.Arrived = &now
	}
	t.SOPVersion = c.e.SOPLabel()
	t.Visit = &Visit{}
	if err := c.move(t, ActArrive, ""); err != nil {
		return err
	}
	// Arrival stops every clock of the ticket.
	if err := c.unschedule(t.ID, tmRung, tmArrive, tmRemind, tmChase, tmClock); err != nil {
		return err
	}
	if err := c.enter(t, 0); err != nil {
		return err
	}
	c.toast = c.t("ok")
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.arrived", []any{"ticket", t.ID, "name", c.me.Name})
	return c.show(t)
}

// done asks the resident to sign the work order off.
func (c *call) done(t *Ticket) error {
	if st, _ := c.current(t); st.Kind != StepSignoff {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	now := c.now
	t.Finished = &now
	if err := c.move(t, ActDone, ""); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("job.done_wait", "ticket", t.ID))
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	return c.signoffCard(t, res)
}

// signoffCard sends the resident the work order with the three answers.
func (c *call) signoffCard(t *Ticket, res *Person) error {
	order, err := c.workOrder(t, res.Lang)
	if err != nil {
		return err
	}
	rl := res.Lang
	c.send(Message{To: res.Chat, Priority: PrioNormal, Ticket: t.ID,
		Text: c.tl(rl, "confirm.ask", "ticket", t.ID, "name", t.Assignee) + "\n\n" + order,
		Buttons: [][]Button{
			{TicketButton(c.tl(rl, "btn.fixed"), ActFixed, t.ID)},
			{TicketButton(c.tl(rl, "btn.not_fixed"), ActNotFixed, t.ID), TicketButton(c.tl(rl, "btn.fee_query"), ActFeeQuery, t.ID)},
		}})
	return nil
}

func (c *call) fixed(t *Ticket) error {
	if err := c.move(t, ActFixed, ""); err != nil {
		return err
	}
	t.Step = ""
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("confirm.thanks", "ticket", t.ID))
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	if tech != nil {
		c.tell(tech, "job.confirmed", []any{"ticket", t.ID}, []Button{TicketButton(c.tl(tech.Lang, "btn.goodbye"), ActGoodbye, t.ID)})
	}
	return nil
}

// goodbye closes the visit (SOP 4.2.6) and sends the satisfaction survey.
func (c *call) goodbye(t *Ticket) error {
	if err := c.move(t, ActGoodbye, ""); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("job.goodbye_done", "ticket", t.ID))
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	var stars []Button
	for i := 1; i <= 5; i++ {
		stars = append(stars, TicketButton(strconv.Itoa(i)+"⭐", ActScore, t.ID, strconv.Itoa(i)))
	}
	c.tell(res, "score.ask", []any{"ticket", t.ID, "name", t.Assignee}, stars)
	return nil
}

// notFixed sends the job back to the same technician as rework: the
// checklist resumes at the repair, and the tests start again.
func (c *call) notFixed(t *Ticket) error {
	t.Reworks++
	t.Finished = nil
	if err := c.move(t, ActNotFixed, ""); err != nil {
		return err
	}
	t.Visit.Tests = 0 // the tests start again after the rework
	if err := c.enter(t, c.e.SOP().indexKind(StepWork)); err != nil {
		return err
	}
	c.toast = c.t("ok")
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgRework, Step: stepReason, Started: c.now, TicketID: t.ID}
	c.bump(d)
	c.reply(c.t("rework.ask_reason", "ticket", t.ID), []Button{DialogueButton(c.t("btn.skip"), d.Seq, "skip")})
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	c.tell(tech, "rework.to_tech", []any{"ticket", t.ID, "n", t.Reworks})
	return c.show(t)
}

// feeQuery flags the ticket for the dispatcher and gives the resident the
// service-centre phone; the work itself can still be confirmed.
func (c *call) feeQuery(t *Ticket) error {
	if !t.FeeQuery {
		t.FeeQuery = true
		if err := c.record(t, "fee_query", ""); err != nil {
			return err
		}
		leads, err := c.leads()
		if err != nil {
			return err
		}
		for _, p := range leads {
			c.tell(p, "fee.to_lead", []any{"ticket", t.ID, "total", Money(t.Visit.quoteTotal())})
		}
	}
	c.toast = c.t("ok")
	c.reply(c.t("fee.resident", "ticket", t.ID, "phone", c.servicePhone(c.lang)),
		[]Button{TicketButton(c.t("btn.fixed"), ActFixed, t.ID)})
	return nil
}

func (c *call) score(t *Ticket, args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 5 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	now := c.now
	t.Score, t.Closed = n, &now
	if err := c.move(t, ActScore, strconv.Itoa(n)); err != nil {
		return err
	}
	c.toast = c.t("score.toast", "n", n)
	c.groupCard(t, false)
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgComment, Step: stepComment, Started: c.now, TicketID: t.ID}
	c.bump(d)
	c.reply(c.t("score.thanks", "ticket", t.ID, "n", n), []Button{DialogueButton(c.t("btn.skip"), d.Seq, "skip")})
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	c.tell(tech, "job.closed", []any{"ticket", t.ID, "n", n})
	if n <= complaintScore {
		return c.complaint(t, n)
	}
	return nil
}

func (c *call) cancelTicket(t *Ticket) error {
	if err := c.move(t, ActCancel, ""); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmRung, tmAccept, tmArrive, tmRemind, tmClock); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("cancel.ticket_done", "ticket", t.ID))
	return nil
}

func (c *call) reassign(t *Ticket, args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	target, err := c.person(args[0])
	if err != nil {
		return err
	}
	if target == nil || !target.Registered || target.Role != RoleTechnician {
		return Errorf(CodeInvalid, "reassign.bad_target")
	}
	if target.ID == t.AssigneeID {
		return Errorf(CodeConflict, "reassign.same")
	}
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	now := c.now
	t.AssigneeID, t.Assignee, t.Accepted, t.Arrived = target.ID, target.Name, &now, nil
	if err := c.move(t, ActReassign, target.ID); err != nil {
		return err
	}
	c.toast = c.t("reassign.toast", "ticket", t.ID, "name", target.Name)
	c.reply(c.t("reassign.done", "ticket", t.ID, "name", target.Name))
	c.groupCard(t, false)
	if old != nil {
		c.tell(old, "reassign.removed", []any{"ticket", t.ID})
	}
	if err := c.sendJob(target, t, "job.reassigned"); err != nil {
		return err
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.reassigned", []any{"ticket", t.ID, "name", target.Name})
	return nil
}

func (c *call) returnToGroup(t *Ticket) error {
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	t.AssigneeID, t.Assignee, t.Accepted, t.Arrived = "", "", nil, nil
	if err := c.move(t, ActReturnGroup, ""); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmArrive, tmRemind); err != nil {
		return err
	}
	if c.e.o.SLA.AcceptWithin > 0 && t.Emergency == "" {
		if err := c.schedule(tmAccept, t.ID, 0, c.now.Add(c.e.o.SLA.AcceptWithin)); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	c.reply(c.t("reassign.returned", "ticket", t.ID))
	c.groupCard(t, false)
	if old != nil {
		c.tell(old, "reassign.removed", []any{"ticket", t.ID})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.requeued", []any{"ticket", t.ID})
	return nil
}
