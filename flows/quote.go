package flows

import (
	"fmt"
	"strconv"
	"strings"
)

// The quote (SOP 4.1.4): price-list lines the technician adds at the
// quote step, sent to the resident, who agrees or refuses on their phone;
// work starts only on an agreed quote.

// quoteText renders the quote lines and total.
func (c *call) quoteText(t *Ticket, l Lang) string {
	q := t.Visit.Quote
	if q == nil || len(q.Lines) == 0 {
		return c.tl(l, "quote.empty")
	}
	var b strings.Builder
	for _, ln := range q.Lines {
		code, name, unit := ln.Code, ln.Name, ln.Unit // a part from stock carries its own
		if ln.Part != "" {
			code = ln.Part
		} else {
			p, _ := c.priceItem(ln.Code)
			name, unit = p.Name[l], p.Unit[l]
		}
		b.WriteString(c.tl(l, "quote.line", "code", code, "name", name, "qty", ln.Qty, "unit", unit, "price", Money(ln.Cents), "sum", Money(int64(ln.Qty)*ln.Cents)))
		b.WriteString("\n")
	}
	b.WriteString(c.tl(l, "quote.total", "total", Money(q.Total())))
	return b.String()
}

// priceItem finds a price-list item in the procedure in force or, for a
// line of an older quote whose item has since left the list (the old
// materials line M02), in the stored version that had it, newest first.
func (c *call) priceItem(code string) (PriceItem, bool) {
	if p, ok := c.e.SOP().price(code); ok {
		return p, true
	}
	versions, err := c.tx.SOPVersions()
	if err != nil {
		return PriceItem{}, false
	}
	for i := len(versions) - 1; i >= 0; i-- {
		if s := versions[i].SOP; s != nil {
			if p, ok := s.price(code); ok {
				return p, true
			}
		}
	}
	return PriceItem{}, false
}

// priceList renders the whole price list for the resident to check (SOP 4.1.4).
func (c *call) priceList(t *Ticket, l Lang) string {
	var b strings.Builder
	b.WriteString(c.tl(l, "quote.price_list_head", "version", c.e.SOP().Version))
	for _, p := range c.e.SOP().Prices {
		b.WriteString("\n" + c.tl(l, "quote.price_item", "code", p.Code, "name", p.Name[l], "price", Money(c.areaCents(t, p)), "unit", p.Unit[l]))
	}
	return b.String()
}

func (c *call) quoteOp(t *Ticket, op string, extra []string) error {
	v := t.Visit
	if v.Quote == nil {
		v.Quote = &Quote{Status: "draft"}
	}
	q := v.Quote
	l := c.lang
	switch op {
	case "add":
		if q.Status != "draft" {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		var rows [][]Button
		var row []Button
		for _, p := range c.e.SOP().Prices {
			row = append(row, TicketButton(p.Code+" "+p.Name[l], ActStep, t.ID, t.Step, "pick", p.Code))
			if len(row) == 2 {
				rows, row = append(rows, row), nil
			}
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
		c.toast = c.t("ok")
		return c.putView(t, c.priceList(t, l)+"\n\n"+c.t("quote.pick"), rows)
	case "pick":
		if q.Status != "draft" || len(extra) != 1 {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		p, ok := c.e.SOP().price(extra[0])
		if !ok {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		var row []Button
		for _, n := range []int{1, 2, 3, 4, 5, 10} {
			row = append(row, TicketButton(strconv.Itoa(n), ActStep, t.ID, t.Step, "qty", p.Code, strconv.Itoa(n)))
		}
		d := &Dialogue{PersonID: c.me.ID, Kind: dlgQty, Step: stepQty, Started: c.now, TicketID: t.ID, PriceCode: p.Code}
		c.bump(d)
		if err := c.tx.PutDialogue(d); err != nil {
			return err
		}
		c.toast = c.t("ok")
		return c.putView(t, c.t("quote.ask_qty", "name", p.Name[l], "unit", p.Unit[l], "price", Money(c.areaCents(t, p))), [][]Button{row[:3], row[3:]})
	case "qty":
		if q.Status != "draft" || len(extra) != 2 {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		n, err := strconv.Atoi(extra[1])
		if err != nil || n < 1 || n > 9999 {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		_ = c.tx.DeleteDialogue(c.me.ID)
		return c.addLine(t, extra[0], n)
	case "back":
		// Back from the price list or a quantity to the quote itself.
		if d, err := c.dialogue(); err == nil && d.Kind == dlgQty {
			if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
				return err
			}
		}
		return c.show(t)
	case "undo":
		if q.Status != "draft" || len(q.Lines) == 0 {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		last := q.Lines[len(q.Lines)-1]
		q.Lines = q.Lines[:len(q.Lines)-1]
		if last.Part != "" { // a part from stock goes back to the store
			if err := c.undoPartLine(t, last); err != nil {
				return err
			}
		}
		return c.show(t)
	case "send":
		if q.Status != "draft" {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		q.Seq++
		q.Status = "sent"
		if err := c.record(t, "quote_sent", fmt.Sprintf("#%d %s", q.Seq, Money(q.Total()))); err != nil {
			return err
		}
		res, err := c.resident(t)
		if err != nil {
			return err
		}
		if res != nil {
			rl := res.Lang
			text := c.tl(rl, "quote.consent", "ticket", t.ID, "name", t.Assignee, "plan", v.Plan, "quote", c.quoteText(t, rl)) + "\n\n" + c.priceList(t, rl)
			c.send(Message{To: res.Chat, Text: text, Priority: PrioNormal, Ticket: t.ID, Buttons: [][]Button{{
				TicketButton(c.tl(rl, "btn.quote_ok"), ActQuoteOK, t.ID, strconv.Itoa(q.Seq)),
				TicketButton(c.tl(rl, "btn.quote_no"), ActQuoteNo, t.ID, strconv.Itoa(q.Seq)),
			}}})
		}
		return c.show(t)
	case "revise":
		if q.Status != "refused" {
			return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
		}
		q.Status = "draft"
		q.Lines = withoutParts(q.Lines) // their parts went back when the quote was refused
		if err := c.record(t, "quote_revise", ""); err != nil {
			return err
		}
		return c.show(t)
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// addLine adds a price-list item to the draft quote.
func (c *call) addLine(t *Ticket, code string, n int) error {
	p, ok := c.e.SOP().price(code)
	if !ok {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if t.Visit.Quote == nil {
		t.Visit.Quote = &Quote{Status: "draft"}
	}
	q := t.Visit.Quote
	if len(q.Lines) >= 20 {
		return Errorf(CodeInvalid, "err.quote_full")
	}
	q.Lines = append(q.Lines, QuoteLine{Code: p.Code, Qty: n, Cents: c.areaCents(t, p)})
	return c.show(t)
}

// quoteAnswer handles the resident's consent card: "qa"/"qd" with the quote number.
func (c *call) quoteAnswer(t *Ticket, agree bool, args []string) error {
	st, _ := c.current(t)
	q := t.Visit.Quote
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	seq, _ := strconv.Atoi(args[0])
	if st.Kind != StepQuote || q == nil {
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	if seq != q.Seq {
		return Errorf(CodeConflict, "err.quote_replaced", "ticket", t.ID)
	}
	if q.Status != "sent" {
		return Errorf(CodeConflict, "err.quote_answered", "ticket", t.ID)
	}
	if agree {
		q.Status = "agreed"
		t.Visit.QuoteOK = true
		if err := c.record(t, "quote_agreed", fmt.Sprintf("#%d %s", q.Seq, Money(q.Total()))); err != nil {
			return err
		}
		c.toast = c.t("ok")
		c.reply(c.t("quote.agreed_resident", "ticket", t.ID, "total", Money(q.Total())))
		if err := c.advance(t); err != nil {
			return err
		}
		return c.showNotice(t, "quote.agreed_tech", "ticket", t.ID, "total", Money(q.Total()))
	}
	q.Status = "refused"
	if err := c.record(t, "quote_refused", fmt.Sprintf("#%d", q.Seq)); err != nil {
		return err
	}
	if err := c.returnJobParts(t, "quote refused"); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("quote.refused_resident", "ticket", t.ID))
	return c.showNotice(t, "quote.refused_tech", "ticket", t.ID)
}

// qtyInput reads a typed quantity for a price-list item.
func (c *call) qtyInput(d *Dialogue) error {
	if c.ev.Kind != EvText {
		return Errorf(CodeInvalid, "err.text_expected")
	}
	n, err := strconv.Atoi(strings.TrimSpace(c.ev.Text))
	if err != nil || n < 1 || n > 9999 {
		return Errorf(CodeInvalid, "quote.bad_qty")
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if err := Authorize(ActStep, c.me, t); err != nil {
		return err
	}
	st, _ := c.current(t)
	if st.Kind != StepQuote || (t.Visit.Quote != nil && t.Visit.Quote.Status != "draft") {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.addLine(t, d.PriceCode, n)
}
