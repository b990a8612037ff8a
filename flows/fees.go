package flows

import (
	"errors"
	"strings"
	"time"
)

// Fee questions (SOP 4.2.5, 3.3; rental 四.5.5): a resident who questions
// the fee of the work order is given the service-centre phone, and the
// question goes to customer service (the dispatcher role, with the
// leads): a queue (/fees) where they answer it — the resident hears back
// in chat — and close it.

// FeeQuestion is a resident's question about a ticket's fee.
type FeeQuestion struct {
	TicketID string    `json:"ticket_id"`
	By       string    `json:"by"` // the resident who asked
	Asked    time.Time `json:"asked"`
	// Total is the quote's total when asked, in fen.
	Total    int64       `json:"total"`
	Answers  []FeeAnswer `json:"answers,omitempty"`
	Closed   *time.Time  `json:"closed,omitempty"`
	ClosedBy string      `json:"closed_by,omitempty"`
}

// FeeAnswer is customer service's answer, sent to the resident.
type FeeAnswer struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// maxFeeList is how many open questions one /fees answer lists.
const maxFeeList = 20

// customerService are those told of a fee question: customer service,
// then the leads (who supervise and stand in where there is none).
func (c *call) customerService() ([]*Person, error) {
	out, err := c.tx.PeopleByRole(RoleDispatcher)
	if err != nil {
		return nil, err
	}
	leads, err := c.leads()
	return append(out, leads...), err
}

// openFeeQuestion records the question (or reopens a closed one) and
// tells customer service; asked again while open, it changes nothing.
func (c *call) openFeeQuestion(t *Ticket) error {
	q, err := c.tx.FeeQuestion(t.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		q = &FeeQuestion{TicketID: t.ID, By: c.me.ID, Asked: c.now, Total: t.Visit.quoteTotal()}
	case err != nil:
		return err
	case q.Closed == nil:
		return nil
	default:
		q.Closed, q.ClosedBy = nil, ""
	}
	if err := c.tx.PutFeeQuestion(q); err != nil {
		return err
	}
	if err := c.record(t, "fee_query", Money(q.Total)); err != nil {
		return err
	}
	office, err := c.customerService()
	if err != nil {
		return err
	}
	for _, p := range office {
		c.tell(p, "fee.to_office", []any{"ticket", t.ID, "total", Money(q.Total), "name", c.me.Name, "address", c.fullAddress(t)}, c.feeButtons(t.ID, p.Lang))
	}
	return nil
}

func (c *call) feeButtons(ticketID string, l Lang) []Button {
	return []Button{
		{Text: c.tl(l, "btn.fee_answer"), Data: EncodePayload(vbFeeAnswer, ticketID)},
		{Text: c.tl(l, "btn.fee_close"), Data: EncodePayload(vbFeeClose, ticketID)},
	}
}

// cmdFees lists the open fee questions, oldest first, each with its buttons.
func (c *call) cmdFees() error {
	qs, err := c.tx.OpenFeeQuestions()
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		c.reply(c.t("fee.none"))
		return nil
	}
	var b strings.Builder
	b.WriteString(c.t("fee.head", "n", len(qs)))
	var rows [][]Button
	for i, q := range qs {
		if i == maxFeeList {
			b.WriteString("\n" + c.t("fee.more", "n", len(qs)-maxFeeList))
			break
		}
		name := q.By
		if p, _ := c.person(q.By); p != nil {
			name = p.Name
		}
		b.WriteString("\n" + c.t("fee.line", "ticket", q.TicketID, "total", Money(q.Total), "name", name, "asked", c.localTime(q.Asked), "answers", len(q.Answers)))
		row := c.feeButtons(q.TicketID, c.lang)
		row[0].Text += " " + q.TicketID
		row[1].Text += " " + q.TicketID
		rows = append(rows, row)
	}
	c.reply(b.String(), rows...)
	return nil
}

// openQuestion is the open question of a fee button's ticket.
func (c *call) openQuestion(ticketID string) (*FeeQuestion, error) {
	q, err := c.tx.FeeQuestion(ticketID)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "fee.not_found", "ticket", ticketID)
	}
	if err != nil {
		return nil, err
	}
	if q.Closed != nil {
		return nil, Errorf(CodeConflict, "fee.closed_already", "ticket", ticketID)
	}
	return q, nil
}

// feeAnswer starts customer service's answer to the resident.
func (c *call) feeAnswer(args []string) error {
	q, err := c.openQuestion(args[0])
	if err != nil {
		return err
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgFeeAnswer, Step: stepReply, Started: c.now, TicketID: q.TicketID}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("fee.answer_ask", "ticket", q.TicketID, "total", Money(q.Total)))
	return c.tx.PutDialogue(d)
}

// feeAnswerInput sends the answer to the resident and keeps it with the question.
func (c *call) feeAnswerInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	q, err := c.openQuestion(d.TicketID)
	if err != nil {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.answerFee(q, text)
}

// answerFee keeps customer service's answer with the question and sends
// it to the resident, whether typed in chat or in the console.
func (c *call) answerFee(q *FeeQuestion, text string) error {
	t, err := c.mustTicket(q.TicketID)
	if err != nil {
		return err
	}
	q.Answers = append(q.Answers, FeeAnswer{By: c.me.ID, At: c.now, Text: text})
	if err := c.tx.PutFeeQuestion(q); err != nil {
		return err
	}
	if err := c.event(t, "fee_answer", t.State, t.State, text); err != nil {
		return err
	}
	res, err := c.person(q.By)
	if err != nil {
		return err
	}
	c.tell(res, "fee.answer_to_resident", []any{"ticket", t.ID, "name", c.me.Name, "role", c.roleTitleIn(langOf(res, c.e.o.DefaultLang), c.me.Role), "text", text})
	c.reply(c.t("fee.answer_sent", "ticket", t.ID), c.feeButtons(t.ID, c.lang)[1:])
	return nil
}

// feeClose closes the question: customer service has settled it.
func (c *call) feeClose(args []string) error {
	q, err := c.openQuestion(args[0])
	if err != nil {
		return err
	}
	t, err := c.mustTicket(q.TicketID)
	if err != nil {
		return err
	}
	now := c.now
	q.Closed, q.ClosedBy = &now, c.me.ID
	if err := c.tx.PutFeeQuestion(q); err != nil {
		return err
	}
	if err := c.event(t, "fee_closed", t.State, t.State, ""); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("fee.closed", "ticket", t.ID))
	res, err := c.person(q.By)
	if err != nil {
		return err
	}
	c.tell(res, "fee.closed_to_resident", []any{"ticket", t.ID, "phone", c.ticketPhone(t, langOf(res, c.e.o.DefaultLang))})
	return nil
}
