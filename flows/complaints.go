package flows

import (
	"strconv"
	"strings"
	"time"
)

// Complaints: a low score or a resident's explicit complaint is logged,
// told to the leads, and triggers the SOP review.

// cmdComplain records a resident's explicit complaint (a trigger for the
// SOP review, like a low score), about their latest ticket when there is one.
func (c *call) cmdComplain(arg string) error {
	if text := cleanText(strings.TrimSpace(arg), c.e.o.MaxDescription); text != "" {
		return c.saveComplaint(text)
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgComplain, Step: stepText, Started: c.now}
	c.bump(d)
	c.reply(c.t("complain.ask"))
	return c.tx.PutDialogue(d)
}

func (c *call) complainInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.saveComplaint(text)
}

func (c *call) saveComplaint(text string) error {
	ticketID := ""
	if ts, err := c.tx.TicketsByResident(c.me.ID, 1); err != nil {
		return err
	} else if len(ts) > 0 && c.now.Sub(ts[0].Created) < 30*24*time.Hour {
		ticketID = ts[0].ID
		if err := c.event(ts[0], "complaint", ts[0].State, ts[0].State, text); err != nil {
			return err
		}
		if err := c.qcComplaint(ts[0]); err != nil { // a complaint after closing is reviewed too (qc.go)
			return err
		}
	}
	if err := c.tx.AddComplaint(Complaint{TicketID: ticketID, At: c.now, Text: text, By: c.me.ID}); err != nil {
		return err
	}
	c.reply(c.t("complain.saved"))
	if err := c.toLeads("complain.to_lead", "name", c.me.Name, "ticket", ticketID, "text", text, "address", personAddress(c.me)); err != nil {
		return err
	}
	return c.triggerReview("complaint", ticketID)
}

// complaintScore and below count as a customer complaint (a trigger for
// the SOP review, per the SOP's governance clause 2).
const complaintScore = 2

func (c *call) complaint(t *Ticket, n int) error {
	if err := c.tx.AddComplaint(Complaint{TicketID: t.ID, At: c.now, Score: n, By: c.me.ID}); err != nil {
		return err
	}
	if err := c.event(t, "complaint", t.State, t.State, strconv.Itoa(n)); err != nil {
		return err
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, p := range leads {
		c.tell(p, "complaint.to_lead", []any{"ticket", t.ID, "n", n, "name", t.Assignee})
	}
	return c.triggerReview("complaint", t.ID)
}
