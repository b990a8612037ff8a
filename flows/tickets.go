package flows

// A ticket from acceptance to arrival, and the leads' moves on it:
// reassigned, returned to the group; cancelled by its resident. The visit
// itself is checklist.go (with quote.go, visit.go, support.go), its end
// signoff.go; the transitions and who may apply them are machine.go.

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
	if err := c.acceptWarning(t); err != nil {
		return err
	}
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
		return c.putCard(t, "")
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

// cancelAsk says what withdrawing the ticket means and asks to confirm.
func (c *call) cancelAsk(t *Ticket) error {
	c.toast = c.t("ok")
	c.reply(c.t("cancel.confirm", "ticket", t.ID), []Button{
		TicketButton(c.t("btn.cancel_confirm"), ActCancel, t.ID),
		TicketButton(c.t("btn.cancel_keep"), ActCancelKeep, t.ID)})
	return nil
}

func (c *call) cancelKeep(t *Ticket) error {
	c.toast = c.t("ok")
	c.reply(c.t("cancel.kept", "ticket", t.ID))
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
	c.reply(c.t("cancel.ticket_done", "ticket", t.ID), []Button{CommandButton(c.t("btn.report"), "report")})
	return nil
}

// reassignTarget checks the technician a lead picked.
func (c *call) reassignTarget(t *Ticket, id string) (*Person, error) {
	target, err := c.person(id)
	if err != nil {
		return nil, err
	}
	if !target.Active() || target.Role != RoleTechnician {
		return nil, Errorf(CodeInvalid, "reassign.bad_target")
	}
	if target.ID == t.AssigneeID {
		return nil, Errorf(CodeConflict, "reassign.same")
	}
	return target, nil
}

func (c *call) reassign(t *Ticket, args []string) error {
	target, err := c.reassignTarget(t, args[0])
	if err != nil {
		return err
	}
	if asked, err := c.reassignCheck(t, target); asked || err != nil {
		return err
	}
	return c.assignTo(t, target)
}

// assignTo gives the job to target (a lead's reassignment, checked).
func (c *call) assignTo(t *Ticket, target *Person) error {
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	c.retireCard(t, langOf(old, c.lang))
	if err := c.returnJobParts(t, "reassigned"); err != nil {
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
	c.retireCard(t, langOf(old, c.lang))
	if err := c.returnJobParts(t, "returned to the group"); err != nil {
		return err
	}
	t.AssigneeID, t.Assignee, t.Accepted, t.Arrived = "", "", nil, nil
	if err := c.move(t, ActReturnGroup, ""); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmArrive, tmRemind); err != nil {
		return err
	}
	if c.areaSLA(t).AcceptWithin > 0 && t.Emergency == "" {
		if err := c.schedule(tmAccept, t.ID, 0, c.now.Add(c.areaSLA(t).AcceptWithin)); err != nil {
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
