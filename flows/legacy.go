package flows

import "strconv"

// Records written up to 7b598a2 kept several meanings in one field, told
// apart by the record's kind:
//
//	Dialogue.TicketID  a ticket; a review id (suggest, review_close, action_done); a day (handover_return)
//	Dialogue.Category  a fault category; a price code (quantity); an action number (action_done);
//	                   a technician id (handover_return)
//	Timer.Day          a day; a review id (rvrem, rvdue, actpre, actdue, actesc); a month (audit); a year (yearly)
//	Timer.Rung         a rung; an action number (actpre, actdue, actesc); an SOP version (ackrem)
//
// Each meaning now has a field of its own. The rule for a kind is the
// legacy function of its row in the routing tables, and the engine applies
// it to every dialogue and timer it reads (dialogue, readTimer): the kind
// is what tells the old meanings apart, and it is flows' vocabulary, so
// every store implementation gets the same migration and a store stays a
// codec. A rule moves an old value only into an empty new field and clears
// the old one: it does nothing to a record in the new form, a dialogue is
// written back in the new form at its next prompt, and a timer is consumed
// when it fires.

// dialogue reads the sender's dialogue in the current form.
func (c *call) dialogue() (*Dialogue, error) {
	d, err := c.tx.Dialogue(c.ev.From.ID)
	if err != nil {
		return nil, err
	}
	if k := dialogues[d.Kind]; k.legacy != nil {
		k.legacy(d)
	}
	return d, nil
}

// readTimer returns a stored timer in the current form.
func readTimer(tm Timer) Timer {
	if k := timerKinds[tm.Kind]; k.legacy != nil {
		k.legacy(&tm)
	}
	return tm
}

// moveString moves an old value into its own field when that is empty.
func moveString(old, field *string) {
	if *field == "" && *old != "" {
		*field, *old = *old, ""
	}
}

func moveInt(old, field *int) {
	if *field == 0 && *old != 0 {
		*field, *old = *old, 0
	}
}

// moveNumber moves an old number kept as text into its own field.
func moveNumber(old *string, field *int) {
	if *field != 0 || *old == "" {
		return
	}
	if n, err := strconv.Atoi(*old); err == nil {
		*field = n
	}
	*old = ""
}

func legacyQuantity(d *Dialogue) { moveString(&d.Category, &d.PriceCode) }

func legacyReviewDialogue(d *Dialogue) { moveString(&d.TicketID, &d.Review) }

func legacyActionDone(d *Dialogue) {
	moveString(&d.TicketID, &d.Review)
	moveNumber(&d.Category, &d.Action)
}

func legacyHandoverReturn(d *Dialogue) {
	moveString(&d.TicketID, &d.Day)
	moveString(&d.Category, &d.TechID)
}

func legacyAckRemind(tm *Timer) { moveInt(&tm.Rung, &tm.Version) }

func legacyYearly(tm *Timer) { moveNumber(&tm.Day, &tm.Year) }

func legacyReviewTimer(tm *Timer) { moveString(&tm.Day, &tm.Review) }

func legacyActionTimer(tm *Timer) {
	moveString(&tm.Day, &tm.Review)
	moveInt(&tm.Rung, &tm.Action)
}

func legacyAudit(tm *Timer) { moveString(&tm.Day, &tm.Month) }

// Records written before areas (areas.go) have none: a profile without
// Areas and a ticket or roster shift without Area belong to the default
// area. The store migrates them when it opens; the engine reads the ones
// a store has not migrated in the same way, into the record it holds, so
// a profile or a ticket is written back with its area at its next change.

// legacyPerson puts a registered profile from before areas in the default area.
func (e *Engine) legacyPerson(p *Person) {
	if p != nil && p.Registered && len(p.Areas) == 0 {
		p.Areas = []string{e.DefaultAreaKey()}
	}
}

// legacyTicket puts a ticket from before areas in the default area.
func (e *Engine) legacyTicket(t *Ticket) {
	if t != nil && t.Area == "" {
		t.Area = e.DefaultAreaKey()
	}
}
