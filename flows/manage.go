package flows

import (
	"strings"
)

// A lead's ways out: /manage shows every lead action valid on a ticket
// now, so no state is a dead end — reassign, return to the group, take
// over, record a paper signature, close or cancel. Closing and cancelling
// need a reason, a paper signature the photo of the signed 维修工作单;
// both are asked in a dialogue and the action is authorised again when
// they come. Reason and photo go to the audit trail.

// leadTools are the ticket actions /manage offers, in order, with their
// button texts; each is shown where Authorize lets the lead apply it.
var leadTools = []struct {
	a   Action
	key string
}{
	{ActReturnGroup, "btn.return_group"},
	{ActTakeOver, "btn.take_over"},
	{ActPaperLead, "btn.paper_signed"},
	{ActLeadClose, "btn.lead_close"},
	{ActLeadCancel, "btn.lead_cancel"},
	{ActLeadMerge, "btn.lead_merge"},
}

// leadEnds are what a lead's close and cancel record as the ticket's closure.
var leadEnds = map[Action]string{ActLeadClose: ClosedByLead, ActLeadCancel: CancelledByLead, ActLeadMerge: MergedByLead}

// cmdManage shows a ticket's state and the lead's ways out.
func (c *call) cmdManage(arg string) error {
	id := strings.ToUpper(strings.TrimSpace(arg))
	if id == "" {
		return Errorf(CodeInvalid, "manage.usage")
	}
	t, err := c.mustTicket(id)
	if err != nil {
		return err
	}
	who := t.Assignee
	if who == "" {
		who = c.t("open.unassigned")
	}
	if !t.State.Open() {
		var reopen [][]Button
		if Authorize(ActLeadReopen, c.me, t) == nil && t.MergedInto == "" {
			reopen = append(reopen, []Button{TicketButton(c.t("btn.lead_reopen"), ActLeadReopen, t.ID)})
		}
		c.reply(c.t("manage.ended", "ticket", t.ID, "state", c.stateLabel(t.State, c.lang)), reopen...)
		return nil
	}
	var rows [][]Button
	if hasState(Transitions[ActReassign].From, t.State) || hasState(Transitions[ActReassignKeep].From, t.State) {
		rows = append(rows, []Button{CommandArgButton(c.t("btn.reassign"), "reassign", t.ID)})
	}
	for _, tool := range leadTools {
		if Authorize(tool.a, c.me, t) == nil {
			rows = append(rows, []Button{TicketButton(c.t(tool.key), tool.a, t.ID)})
		}
	}
	c.reply(c.t("manage.head", "ticket", t.ID, "state", c.stateLabel(t.State, c.lang), "assignee", who, "age", c.age(t.Created)), rows...)
	return nil
}

// askReason starts the lead's reason for a close or a cancel.
func (c *call) askReason(t *Ticket, a Action) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgLeadReason, Step: stepReason, Started: c.now, TicketID: t.ID, TicketAction: a}
	c.bump(d)
	c.toast = c.t("ok")
	key := "manage.ask_reason_" + leadEnds[a]
	if r, ok := leadReasoned[a]; ok {
		key = r.ask // console_lead.go
	}
	c.reply(c.t(key, "ticket", t.ID))
	return c.tx.PutDialogue(d)
}

// dialogueTicket re-reads a dialogue's ticket and authorises its action
// again: the ticket may have moved while the person was typing.
func (c *call) dialogueTicket(d *Dialogue) (*Ticket, error) {
	t, err := c.mustTicket(d.TicketID)
	if err == nil {
		err = Authorize(d.TicketAction, c.me, t)
	}
	if err != nil {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return nil, err
	}
	if t.Visit == nil {
		t.Visit = &Visit{}
	}
	return t, nil
}

// leadReasonInput closes or cancels the ticket with the lead's reason.
func (c *call) leadReasonInput(d *Dialogue) error {
	reason, err := c.longText()
	if err != nil {
		return err
	}
	t, err := c.dialogueTicket(d)
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	if r, ok := leadReasoned[d.TicketAction]; ok {
		return r.apply(c, t, reason) // console_lead.go
	}
	if _, ok := leadEnds[d.TicketAction]; !ok {
		return nil
	}
	return c.leadEnded(t, d.TicketAction, reason)
}

// leadEnded closes or cancels t by the lead's action a with the reason
// (chat's typed one, or the console's) and tells the technician and the
// resident.
func (c *call) leadEnded(t *Ticket, a Action, reason string) error {
	closure := leadEnds[a]
	if err := c.endByLead(t, a, reason); err != nil {
		return err
	}
	c.reply(c.t("manage.done", "ticket", t.ID, "how", c.t("closure."+closure)))
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil && tech.ID != c.me.ID {
		c.tell(tech, "stuck.closed_tech", []any{"ticket", t.ID, "how", c.tl(tech.Lang, "closure."+closure)})
	}
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	c.tell(res, "manage.to_resident", []any{"ticket", t.ID, "how", c.tl(res.Lang, "closure."+closure), "phone", c.ticketPhone(t, res.Lang)})
	return nil
}

// endByLead closes or cancels t by a lead's action a (a leadEnds row)
// with the reason, whichever door it came through (chat or console): the
// closure is recorded, its clocks stop, the parts the job holds go back to
// stock, the group card follows. The callers tell the people concerned.
func (c *call) endByLead(t *Ticket, a Action, reason string) error {
	now := c.now
	t.Closure, t.Closed, t.Step = leadEnds[a], &now, ""
	if err := c.move(t, a, reason); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, ticketTimers...); err != nil {
		return err
	}
	if err := c.returnJobParts(t, t.Closure); err != nil { // parts_job.go
		return err
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	// The visit is over: its step card's buttons go.
	c.retireCard(t, langOf(tech, c.lang))
	if t.State == StateClosed { // a cancelled ticket is neither sampled nor called back
		if err := c.afterClose(t); err != nil { // QC sample and callback visit (callbacks.go)
			return err
		}
	}
	c.groupCard(t, false)
	return nil
}

// askPaper asks for the photo of the signed paper work order.
func (c *call) askPaper(t *Ticket, a Action) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgPaper, Step: stepSignedForm, Started: c.now, TicketID: t.ID, TicketAction: a}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("paper.ask", "ticket", t.ID))
	return c.tx.PutDialogue(d)
}

// paperInput records the paper signature with its photo: the work order
// is confirmed, and the visit goes on to the goodbye.
func (c *call) paperInput(d *Dialogue) error {
	if c.ev.Kind != EvPhoto {
		return Errorf(CodeInvalid, "paper.photo_needed")
	}
	if err := c.paperPhoto(); err != nil {
		return err
	}
	t, err := c.dialogueTicket(d)
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.paperSigned(t, d.TicketAction, cleanText(c.ev.Text, 200))
}

// paperPhoto checks the event's photo of a signed paper work order.
func (c *call) paperPhoto() error {
	if c.ev.Photo == nil {
		return Errorf(CodeInvalid, "paper.photo_needed")
	}
	if c.ev.TooLarge || c.ev.Photo.Size > c.e.o.MaxPhotoBytes {
		return Errorf(CodeInvalid, "err.photo_too_large", "max", c.e.o.MaxPhotoBytes>>20)
	}
	if c.ev.NotImage {
		return Errorf(CodeInvalid, "err.not_image")
	}
	return nil
}

// paperSigned records the paper signature by action a with the event's
// photo (checked by paperPhoto) and its note, from chat or the console.
func (c *call) paperSigned(t *Ticket, a Action, note string) error {
	t.Signoff = signedOnPaper
	if err := c.move(t, a, signedOnPaper); err != nil {
		return err
	}
	if err := c.event(t, "paper_signed", t.State, t.State, note, *c.ev.Photo); err != nil {
		return err
	}
	if res, err := c.resident(t); err != nil {
		return err
	} else if res != nil {
		c.tell(res, "paper.to_resident", []any{"ticket", t.ID})
	}
	c.reply(c.t("paper.recorded", "ticket", t.ID))
	return c.confirmed(t)
}

// reassignKeep hands a ticket waiting at the sign-off (or the goodbye) to
// another technician without restarting the visit.
func (c *call) reassignKeep(t *Ticket, args []string) error {
	target, err := c.reassignTarget(t, args[0])
	if err != nil {
		return err
	}
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	c.retireCard(t, langOf(old, c.lang))
	t.AssigneeID, t.Assignee = target.ID, target.Name
	if err := c.move(t, ActReassignKeep, target.ID); err != nil {
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
	if t.State == StateConfirmed {
		c.tell(target, "job.confirmed", []any{"ticket", t.ID}, []Button{TicketButton(c.tl(target.Lang, "btn.goodbye"), ActGoodbye, t.ID)})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.reassigned", []any{"ticket", t.ID, "name", target.Name})
	return nil
}
