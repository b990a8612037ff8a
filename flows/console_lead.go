package flows

import (
	"strings"
	"unicode/utf8"
)

// A lead's reopen and merge, and the console's doors to the lead's ways
// out that chat asks in a dialogue (manage.go): the close with a reason
// and the paper signature with its photo. Chat and console run the same
// functions; only where the reason or the photo comes from differs.

// MergedByLead is the closure of a duplicate merged into another ticket
// (Ticket.MergedInto names it).
const MergedByLead = "merged_by_lead"

// leadReasoned are the lead's ticket actions that take a typed reason in
// chat (/manage's button, then dlgLeadReason) besides the close and the
// cancel (leadEnds): the prompt's key and what the reason does.
var leadReasoned = map[Action]struct {
	ask   string
	apply func(c *call, t *Ticket, reason string) error
}{
	ActLeadReopen: {ask: "manage.ask_reason_reopen", apply: (*call).reopenByLead},
	// In chat the merge's answer is the other ticket's number, then the reason.
	ActLeadMerge: {ask: "manage.ask_merge", apply: func(c *call, t *Ticket, text string) error {
		into, reason, _ := strings.Cut(strings.TrimSpace(text), " ")
		return c.mergeByLead(t, strings.ToUpper(into), strings.TrimSpace(reason))
	}},
}

// consoleReason reads a console form's reason: required, within the
// description's length, cleaned as chat's text is.
func (c *call) consoleReason(s string) (string, error) {
	reason := cleanText(strings.TrimSpace(s), 0)
	if reason == "" {
		return "", Errorf(CodeInvalid, "console.reason_required")
	}
	if n := utf8.RuneCountInString(reason); n > c.e.o.MaxDescription {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	return reason, nil
}

// consoleClose closes a ticket stuck at the sign-off or the survey with
// the lead's reason: chat's /manage close (leadEnded).
func (c *call) consoleClose(t *Ticket, args map[string]string) error {
	reason, err := c.consoleReason(args["reason"])
	if err != nil {
		return err
	}
	return c.leadEnded(t, ActLeadClose, reason)
}

// consolePaper records the resident's signature on the paper work order,
// its photo uploaded in the console (Event.Photo, kept by the media
// store): chat's /manage paper signature (paperSigned).
func (c *call) consolePaper(t *Ticket, args map[string]string) error {
	if err := c.paperPhoto(); err != nil {
		return err
	}
	return c.paperSigned(t, ActPaperLead, cleanText(strings.TrimSpace(args["note"]), 200))
}

// consoleReopen reopens an ended ticket with the lead's reason.
func (c *call) consoleReopen(t *Ticket, args map[string]string) error {
	reason, err := c.consoleReason(args["reason"])
	if err != nil {
		return err
	}
	return c.reopenByLead(t, reason)
}

// consoleMerge merges the ticket, a duplicate, into args["into"].
func (c *call) consoleMerge(t *Ticket, args map[string]string) error {
	reason, err := c.consoleReason(args["reason"])
	if err != nil {
		return err
	}
	return c.mergeByLead(t, strings.ToUpper(strings.TrimSpace(args["into"])), reason)
}

// reopenByLead puts an ended ticket back to the group as a new one: the
// closure, the visit's end and the score are cleared (the audit trail
// keeps them), the accept clock starts again, a new card goes to the
// group and the resident is told. A merged duplicate stays merged: the
// ticket it went into carries the work.
func (c *call) reopenByLead(t *Ticket, reason string) error {
	if t.MergedInto != "" {
		return Errorf(CodeConflict, "manage.merged_no_reopen", "ticket", t.ID, "into", t.MergedInto)
	}
	if reason == "" {
		return Errorf(CodeInvalid, "console.reason_required")
	}
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	t.AssigneeID, t.Assignee, t.Accepted, t.Arrived, t.Finished, t.Closed = "", "", nil, nil, nil, nil
	t.Closure, t.Signoff, t.Step, t.Score, t.SurveySince, t.WaitingSince, t.CancelledBy = "", "", "", 0, nil, nil, ""
	if err := c.move(t, ActLeadReopen, reason); err != nil {
		return err
	}
	if c.areaSLA(t).AcceptWithin > 0 && t.Emergency == "" {
		if err := c.schedule(tmAccept, t.ID, 0, c.now.Add(c.areaSLA(t).AcceptWithin)); err != nil {
			return err
		}
	}
	c.groupCard(t, true)
	c.toast = c.t("ok")
	c.reply(c.t("manage.reopened", "ticket", t.ID))
	if old != nil && old.ID != c.me.ID {
		c.tell(old, "manage.reopened_tech", []any{"ticket", t.ID, "reason", reason})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "manage.reopened_resident", []any{"ticket", t.ID, "phone", c.ticketPhone(t, langOf(res, c.e.o.DefaultLang))})
	return nil
}

// mergeByLead cancels t, a duplicate, into the open ticket into: t ends
// as MergedByLead naming into (endByLead: its clocks stop, its parts go
// back, its card follows), into's trail records the duplicate, and the
// duplicate's resident is told which ticket carries the work.
func (c *call) mergeByLead(t *Ticket, into, reason string) error {
	if into == "" || !aTicket(into) {
		return Errorf(CodeInvalid, "manage.merge_usage")
	}
	if reason == "" {
		return Errorf(CodeInvalid, "console.reason_required")
	}
	if into == t.ID {
		return Errorf(CodeInvalid, "manage.merge_self", "ticket", t.ID)
	}
	keep, err := c.mustTicket(into)
	if err != nil {
		return err
	}
	if !keep.State.Open() {
		return Errorf(CodeConflict, "manage.merge_ended", "ticket", keep.ID, "state", c.stateLabel(keep.State, c.lang))
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	t.MergedInto, t.CancelledBy = keep.ID, c.me.ID
	if err := c.endByLead(t, ActLeadMerge, keep.ID+" "+reason); err != nil {
		return err
	}
	if err := c.event(keep, "merged_from", keep.State, keep.State, t.ID+" "+reason); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("manage.merged", "ticket", t.ID, "into", keep.ID))
	if tech != nil && tech.ID != c.me.ID {
		c.tell(tech, "manage.merged_tech", []any{"ticket", t.ID, "into", keep.ID})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "manage.merged_resident", []any{"ticket", t.ID, "into", keep.ID, "phone", c.ticketPhone(t, langOf(res, c.e.o.DefaultLang))})
	return nil
}
