package flows

// Support: a technician asks the leads for help at any step; a lead
// answers, or takes the job over where it stands.

// maxHelpPhotos bounds the photos a help request forwards to each lead
// (the newest are kept): a chat takes about one message a second.
const maxHelpPhotos = 20

// ticketPhotos are the photos of the ticket so far, in order: the
// report's, then each step's in the SOP's order, each with a caption
// naming where it was taken.
func (c *call) ticketPhotos(t *Ticket, l Lang) []Message {
	var out []Message
	add := func(ph Photo, where string) {
		out = append(out, Message{Kind: KindPhoto, Photo: ph.FileID, Document: ph.Document,
			Text: t.ID + " · " + where, Priority: PrioNormal, Ticket: t.ID})
	}
	for _, ph := range t.Photos {
		add(ph, c.tl(l, "help.photo_reported"))
	}
	if t.Visit != nil {
		for _, st := range c.e.SOP().Steps {
			for _, ph := range t.Visit.Photos[st.ID] {
				add(ph, st.Title[l])
			}
		}
	}
	return out
}

// help pings the leads with the step, the address, the plan and the
// ticket's photos so far.
func (c *call) help(t *Ticket) error {
	if t.Visit == nil {
		t.Visit = &Visit{}
	}
	t.Visit.Help = true
	st, _ := c.current(t)
	if err := c.record(t, "help", ""); err != nil {
		return err
	}
	c.toast = c.t("help.sent")
	if onChecklist(t) {
		// The card says so, edited in place: no message of its own.
		if err := c.putCard(t, ""); err != nil {
			return err
		}
	} else {
		c.reply(c.t("help.sent"))
	}
	c.groupCard(t, false)
	leads, err := c.ticketLeads(t)
	if err != nil {
		return err
	}
	for _, p := range leads {
		step := st.Title[p.Lang]
		if step == "" {
			step = c.stateLabel(t.State, p.Lang)
		}
		photos := c.ticketPhotos(t, p.Lang)
		text := c.tl(p.Lang, "help.to_lead", "ticket", t.ID, "name", t.Assignee, "step", step, "address", c.fullAddress(t))
		if t.Visit.Plan != "" { // no empty "plan:" line before there is one
			text += "\n" + c.tl(p.Lang, "help.to_lead_plan", "plan", t.Visit.Plan)
		}
		text += "\n" + c.tl(p.Lang, "help.to_lead_photos", "photos", len(photos))
		if !p.Chat.IsZero() {
			c.send(Message{To: p.Chat, Text: text, Priority: PrioNormal, Buttons: [][]Button{{
				TicketButton(c.tl(p.Lang, "btn.help_reply"), ActHelpReply, t.ID), TicketButton(c.tl(p.Lang, "btn.take_over"), ActTakeOver, t.ID)}}})
		}
		for _, m := range photos[max(0, len(photos)-maxHelpPhotos):] {
			m.To = p.Chat
			c.send(m)
		}
	}
	return nil
}

// helpReply starts the lead's answer dialogue.
func (c *call) helpReply(t *Ticket) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgHelpReply, Step: stepReply, Started: c.now, TicketID: t.ID}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("help.reply_ask", "ticket", t.ID, "name", t.Assignee))
	return c.tx.PutDialogue(d)
}

// takeOver makes the lead the assignee, keeping the visit where it is.
func (c *call) takeOver(t *Ticket) error {
	if t.AssigneeID == c.me.ID {
		return Errorf(CodeConflict, "reassign.same")
	}
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	t.AssigneeID, t.Assignee = c.me.ID, c.me.Name
	if t.Visit != nil {
		t.Visit.Help = false
	}
	if err := c.record(t, "take_over", c.me.ID); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	if old != nil {
		c.tell(old, "help.taken_over", []any{"ticket", t.ID, "name", c.me.Name})
	}
	if err := c.sendJob(c.me, t, "job.taken_over"); err != nil {
		return err
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.reassigned", []any{"ticket", t.ID, "name", c.me.Name})
	return nil
}

// helpReplyInput forwards the lead's answer to the technician.
func (c *call) helpReplyInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if t.Visit != nil {
		t.Visit.Help = false
	}
	if err := c.record(t, "help_reply", text); err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	c.reply(c.t("help.reply_sent"))
	c.groupCard(t, false)
	if onChecklist(t) {
		// The answer heads the card, posted anew under the technician's thumb.
		return c.putCard(t, "help.reply_to_tech", "ticket", t.ID, "name", c.me.Name, "text", text)
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	c.tell(tech, "help.reply_to_tech", []any{"ticket", t.ID, "name", c.me.Name, "text", text})
	return nil
}
