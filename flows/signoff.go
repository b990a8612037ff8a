package flows

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The end of a visit: the resident's sign-off of the work order, rework
// when it is not fixed, a question about the fee, the goodbye and the
// satisfaction survey.

// done asks the resident to sign the work order off.
func (c *call) done(t *Ticket) error {
	st, _ := c.current(t)
	if st.Kind != StepSignoff {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if err := c.needPhotos(t, st); err != nil {
		return err
	}
	if c.faultPending(t) {
		return Errorf(CodeConflict, "err.fault_uncoded", "ticket", t.ID)
	}
	now := c.now
	t.Finished = &now
	t.Signer = c.signoffBy(t)
	if err := c.move(t, ActDone, t.Signer); err != nil {
		return err
	}
	if err := c.awaitSignoff(t); err != nil {
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
	if t.Signer == SignoffLead {
		leads, err := c.ticketLeads(t)
		if err != nil {
			return err
		}
		for _, p := range leads {
			if err := c.signoffCard(t, p); err != nil {
				return err
			}
		}
		c.tell(res, "status.done_lead", []any{"ticket", t.ID, "name", t.Assignee})
		return nil
	}
	if res == nil {
		return nil
	}
	return c.signoffCard(t, res)
}

// signoffCard sends the signer the work order with its answers: fixed,
// not satisfied, and on a household order a question about the fee.
func (c *call) signoffCard(t *Ticket, res *Person) error {
	return c.signoffCardKey(t, res, "confirm.ask")
}

// signoffCardKey is signoffCard headed by the catalog text key (the
// request, or its reminder).
func (c *call) signoffCardKey(t *Ticket, res *Person, key string) error {
	order, err := c.workOrder(t, res.Lang)
	if err != nil {
		return err
	}
	rl := res.Lang
	second := []Button{TicketButton(c.tl(rl, "btn.not_fixed"), ActNotFixed, t.ID)}
	if t.Kind != OrderPublic {
		second = append(second, TicketButton(c.tl(rl, "btn.fee_query"), ActFeeQuery, t.ID))
	}
	c.send(Message{To: res.Chat, Priority: PrioNormal, Ticket: t.ID,
		Text: c.tl(rl, key, "ticket", t.ID, "name", t.Assignee) + "\n\n" + order,
		Buttons: [][]Button{{TicketButton(c.tl(rl, "btn.fixed"), ActFixed, t.ID)}, second,
			{orderFileButton(c.tl(rl, "btn.order_file"), t.ID)}}})
	return nil
}

func (c *call) fixed(t *Ticket) error {
	t.Signoff = signedByResident
	if t.Signer == SignoffLead {
		t.Signoff = signedByLead
	}
	if err := c.move(t, ActFixed, t.Signoff); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("confirm.thanks", "ticket", t.ID))
	return c.confirmed(t)
}

// confirmed follows a confirmed sign-off, however it came: the clock
// stops and the technician is asked to say goodbye.
func (c *call) confirmed(t *Ticket) error {
	t.Step = ""
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmSignoff); err != nil {
		return err
	}
	c.groupCard(t, false)
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	c.retireCard(t, tech.Lang) // the sign-off came: no paper signature to record
	bye := []Button{TicketButton(c.tl(tech.Lang, "btn.goodbye"), ActGoodbye, t.ID)}
	if tech.ID == c.me.ID {
		c.reply(c.t("job.confirmed", "ticket", t.ID), bye)
		return nil
	}
	c.tell(tech, "job.confirmed", []any{"ticket", t.ID}, bye)
	return nil
}

// goodbye closes the visit (SOP 4.2.6) and sends the satisfaction survey.
func (c *call) goodbye(t *Ticket) error {
	now := c.now
	t.SurveySince = &now
	if err := c.move(t, ActGoodbye, ""); err != nil {
		return err
	}
	if err := c.awaitScore(t); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.groupCard(t, false)
	c.reply(c.t("job.goodbye_done", "ticket", t.ID))
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	c.tell(res, "score.ask", []any{"ticket", t.ID, "name", t.Assignee}, c.stars(t))
	return nil
}

// stars are the survey's buttons.
func (c *call) stars(t *Ticket) []Button {
	var stars []Button
	for i := 1; i <= 5; i++ {
		stars = append(stars, TicketButton(strconv.Itoa(i)+"⭐", ActScore, t.ID, strconv.Itoa(i)))
	}
	return stars
}

// notFixed sends the job back to the same technician as rework: the
// checklist resumes at the repair, and the tests start again.
func (c *call) notFixed(t *Ticket) error {
	t.Reworks++
	t.Finished = nil
	if err := c.move(t, ActNotFixed, ""); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmSignoff); err != nil {
		return err
	}
	work := c.e.SOP().indexKind(StepWork)
	c.redoFrom(t, work) // fresh photos and tests after the rework
	if err := c.enter(t, work); err != nil {
		return err
	}
	c.toast = c.t("ok")
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgRework, Step: stepReason, Started: c.now, TicketID: t.ID}
	c.bump(d)
	c.reply(c.t("rework.ask_reason", "ticket", t.ID), []Button{DialogueButton(c.t("btn.skip"), d.Seq, "skip")})
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	return c.showNotice(t, "rework.to_tech", "ticket", t.ID, "n", t.Reworks)
}

func (c *call) reworkInput(d *Dialogue) error {
	if c.ev.Kind != EvText && c.ev.Kind != EvPhoto {
		return Errorf(CodeInvalid, "err.text_expected")
	}
	text := cleanText(strings.TrimSpace(c.ev.Text), 0)
	if text == "" && c.ev.Photo == nil {
		return Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
		return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	var photos []Photo
	if c.ev.Photo != nil {
		photos = append(photos, *c.ev.Photo)
	}
	if err := c.event(t, "rework_reason", t.State, t.State, text, photos...); err != nil {
		return err
	}
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil {
		if text != "" {
			c.send(Message{To: tech.Chat, Text: c.tl(tech.Lang, "rework.reason_to_tech", "ticket", t.ID, "reason", text), Priority: PrioNormal, Ticket: t.ID})
		}
		if c.ev.Photo != nil {
			c.send(photoMessage(tech.Chat, *c.ev.Photo, t.ID, PrioNormal))
		}
	}
	c.reply(c.t("rework.reason_sent"))
	return c.tx.DeleteDialogue(d.PersonID)
}

// feeQuery flags the ticket, puts the question in customer service's
// queue (fees.go) and gives the resident the service-centre phone; the
// work itself can still be confirmed.
func (c *call) feeQuery(t *Ticket) error {
	t.FeeQuery = true
	if err := c.openFeeQuestion(t); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("fee.resident", "ticket", t.ID, "phone", c.ticketPhone(t, c.lang)),
		[]Button{TicketButton(c.t("btn.fixed"), ActFixed, t.ID), TicketButton(c.t("btn.not_fixed"), ActNotFixed, t.ID)})
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
	if err := c.unschedule(t.ID, tmSurvey); err != nil {
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
		if err := c.complaint(t, n); err != nil {
			return err
		}
	}
	return c.afterClose(t) // QC sample and callback visit (callbacks.go)
}

func (c *call) commentInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	t.Comment = text
	t.Updated = c.now
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.event(t, "comment", t.State, t.State, text); err != nil {
		return err
	}
	c.reply(c.t("score.comment_saved"))
	return c.tx.DeleteDialogue(d.PersonID)
}
