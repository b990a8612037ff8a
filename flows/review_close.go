package flows

import (
	"errors"
	"strconv"
	"strings"
)

// The end of a review (review clauses 2 and 4): a lead opens one by hand
// for a major fault; closing one records whether its measures change the
// procedure — no, a version made since the review opened (linked), or
// the SOP file loaded now (a new version) — with the change set from the
// version reviewed, links the version to the review, and tells everyone
// concerned: the new version goes to all who must acknowledge it, the
// report to the participants and the leads.

// cmdFault opens a review for a major fault (重大故障): "/fault
// [ticket] what happened".
func (c *call) cmdFault(arg string) error {
	arg = strings.TrimSpace(arg)
	first, rest, _ := strings.Cut(arg, " ")
	var ticket *Ticket
	if id := strings.ToUpper(first); aTicket(id) {
		t, err := c.mustTicket(id)
		if err != nil {
			return err
		}
		ticket, arg = t, rest
	}
	note := cleanText(strings.TrimSpace(arg), c.e.o.MaxDescription)
	if note == "" {
		return Errorf(CodeInvalid, "review.fault_usage")
	}
	var tickets []string
	if ticket != nil {
		tickets = append(tickets, ticket.ID)
	}
	r, err := c.openReview("major", note, tickets...)
	if err != nil {
		return err
	}
	if ticket != nil {
		if err := c.event(ticket, "major_fault", ticket.State, ticket.State, r.ID); err != nil {
			return err
		}
	}
	c.reply(c.t("review.fault_opened", "id", r.ID, "n", len(r.Participants)))
	return nil
}

// askReviewVersion asks, once the report is complete, whether the
// review's measures change the procedure.
func (c *call) askReviewVersion(d *Dialogue) error {
	r, err := c.mustReview(d.Review)
	if err != nil {
		return err
	}
	if r.Report == nil || r.Report.Reasons == "" || r.Report.Measures == "" || len(r.Report.Actions) == 0 {
		return Errorf(CodeInvalid, "review.report_incomplete")
	}
	vs, err := c.tx.SOPVersions()
	if err != nil {
		return err
	}
	d.Step = stepVersion
	c.bump(d)
	rows := [][]Button{{DialogueButton(c.t("btn.review_sop_same"), d.Seq, "none")}}
	for i := len(vs) - 1; i >= 0 && len(rows) <= 3; i-- {
		if vs[i].Number > r.SOPVersion {
			rows = append(rows, []Button{DialogueButton(c.t("btn.review_sop_link", "n", vs[i].Number, "label", vs[i].Label), d.Seq, "v:"+strconv.Itoa(vs[i].Number))})
		}
	}
	if c.e.o.Governance.LoadSOP != nil {
		rows = append(rows, []Button{DialogueButton(c.t("btn.review_sop_reload"), d.Seq, "reload")})
	}
	c.toast = c.t("ok")
	c.reply(c.t("review.ask_version", "id", r.ID, "v", r.SOPVersion), rows...)
	return c.tx.PutDialogue(d)
}

// reviewVersionChoice closes the review with the owner's answer.
func (c *call) reviewVersionChoice(d *Dialogue, v string) error {
	r, err := c.mustReview(d.Review)
	if err != nil {
		return err
	}
	if v == "none" {
		return c.finishReview(d, 0, nil)
	}
	created := false
	n, err := strconv.Atoi(strings.TrimPrefix(v, "v:"))
	switch {
	case v == "reload" && c.e.o.Governance.LoadSOP != nil:
		def, lerr := c.e.o.Governance.LoadSOP()
		if lerr != nil {
			return Errorf(CodeInvalid, "sop.reload_failed", "err", lerr.Error())
		}
		var changed bool
		if n, changed, err = c.installFile(def, c.me.ID); err != nil {
			var lacks *SOPFileLacks
			if errors.As(err, &lacks) {
				return Errorf(CodeConflict, "review.sop_lacks", "n", lacks.Version, "count", len(lacks.Changes), "list", c.lacksText(lacks))
			}
			return err
		}
		if !changed {
			return Errorf(CodeConflict, "review.sop_unchanged", "n", n)
		}
		created = true
	case err != nil || !strings.HasPrefix(v, "v:") || n <= r.SOPVersion:
		return Errorf(CodeInvalid, "err.bad_button")
	}
	vs, err := c.tx.SOPVersions()
	if err != nil {
		return err
	}
	var base, next *SOPVersion
	for i := range vs {
		switch vs[i].Number {
		case r.SOPVersion:
			base = &vs[i]
		case n:
			next = &vs[i]
		}
	}
	if next == nil {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	changes := next.Changes
	if base != nil && base.SOP != nil && next.SOP != nil {
		changes = diffSOP(base.SOP, next.SOP) // everything since the version reviewed
	}
	next.Review = r.ID
	if err := c.tx.PutSOPVersion(*next); err != nil {
		return err
	}
	if !created {
		// A version made earlier was announced then; whoever has not
		// acknowledged it yet is asked again, now with the review's reason.
		missing, err := c.missingAcks(n)
		if err != nil {
			return err
		}
		for _, p := range missing {
			m := c.versionNotice(*next, p.Lang, p.Chat)
			m.Text = c.tl(p.Lang, "review.version_for", "id", r.ID) + "\n" + m.Text
			c.send(m)
		}
	}
	return c.finishReview(d, n, changes)
}
