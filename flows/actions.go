package flows

import (
	"strconv"
	"strings"
	"time"
)

// Improvement actions: the plan of a closed review, each with an owner
// and a due date, reminded and escalated until the owner records the
// evidence; a review whose actions are all done is effective.

func (c *call) actionLine(r *Review, a Improvement, l Lang) string {
	owner := a.Owner
	if p, _ := c.person(a.Owner); p != nil {
		owner = p.Name
	}
	status := c.tl(l, "action.open")
	if a.Done != nil {
		status = c.tl(l, "action.done", "evidence", a.Evidence)
	}
	return c.tl(l, "action.line", "id", r.ID, "n", a.N, "text", a.Text, "owner", owner, "due", c.localTime(a.Due)[:10], "status", status)
}

// parseAction reads "what; owner name; YYYY-MM-DD".
func (c *call) parseAction(text string, n int) (Improvement, error) {
	parts := strings.Split(strings.NewReplacer("；", ";").Replace(text), ";")
	if len(parts) != 3 {
		return Improvement{}, Errorf(CodeInvalid, "review.action_format")
	}
	due, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(parts[2]), c.e.o.Location)
	if err != nil || !due.After(c.now) {
		return Improvement{}, Errorf(CodeInvalid, "review.action_format")
	}
	name := strings.TrimSpace(parts[1])
	staff, err := c.staff()
	if err != nil {
		return Improvement{}, err
	}
	owner := ""
	for _, p := range staff {
		if p.Name == name {
			owner = p.ID
		}
	}
	if name == "me" || name == "我" {
		owner = c.me.ID
	}
	if owner == "" {
		return Improvement{}, Errorf(CodeInvalid, "review.action_owner", "name", name)
	}
	return Improvement{N: n, Text: strings.TrimSpace(parts[0]), Owner: owner, Due: due.Add(18 * time.Hour).UTC()}, nil
}

// cmdActions lists open improvement actions: a lead sees all, others their own.
func (c *call) cmdActions() error {
	reviews, err := c.tx.Reviews()
	if err != nil {
		return err
	}
	var b strings.Builder
	var rows [][]Button
	n := 0
	for _, r := range reviews {
		if r.Report == nil {
			continue
		}
		for _, a := range r.Report.Actions {
			if a.Done != nil || (!c.me.Role.IsLead() && a.Owner != c.me.ID) {
				continue
			}
			n++
			b.WriteString("\n" + c.actionLine(r, a, c.lang))
			if a.Owner == c.me.ID {
				rows = append(rows, []Button{{Text: c.t("btn.action_done", "id", r.ID, "n", a.N), Data: EncodePayload(vbActionDone, r.ID, strconv.Itoa(a.N))}})
			}
		}
	}
	if n == 0 {
		c.reply(c.t("action.none"))
		return nil
	}
	c.reply(c.t("action.head", "n", n)+b.String(), rows...)
	return nil
}

// actionDone starts the owner's evidence note for an action.
func (c *call) actionDone(args []string) error {
	if len(args) != 2 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, err := c.mustReview(args[0])
	if err != nil {
		return err
	}
	a := r.action(args[1])
	if a == nil {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if a.Owner != c.me.ID {
		return Errorf(CodeForbidden, "action.not_owner")
	}
	if a.Done != nil {
		return Errorf(CodeConflict, "action.already")
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgActionDone, Step: stepText, Started: c.now, Review: r.ID, Action: a.N}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("action.ask_evidence", "text", a.Text))
	return c.tx.PutDialogue(d)
}

func (r *Review) action(n string) *Improvement {
	if r.Report == nil {
		return nil
	}
	for i := range r.Report.Actions {
		if strconv.Itoa(r.Report.Actions[i].N) == n {
			return &r.Report.Actions[i]
		}
	}
	return nil
}

// actionEvidenceInput marks the action done; a review whose actions are
// all done is effective.
func (c *call) actionEvidenceInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	if err := c.markActionDone(d.Review, d.Action, text); err != nil {
		return err // an error rolls the event back: the dialogue stays as it was
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// markActionDone records action n of the review done with its evidence
// (the chat's typed answer, the console's form); a review whose actions
// are all done is effective.
func (c *call) markActionDone(reviewID string, n int, text string) error {
	r, err := c.mustReview(reviewID)
	if err != nil {
		return err
	}
	a := r.action(strconv.Itoa(n))
	if a == nil || a.Done != nil {
		return Errorf(CodeConflict, "action.already")
	}
	now := c.now
	a.Done, a.Evidence = &now, text
	for _, tm := range []string{tmActionPre, tmActionDue, tmActionEsc} {
		if err := c.tx.DeleteTimer(tm + ":" + r.ID + ":" + strconv.Itoa(n)); err != nil {
			return err
		}
	}
	all := true
	for _, x := range r.Report.Actions {
		all = all && x.Done != nil
	}
	if all {
		r.Status, r.Effective = "effective", &now
	}
	if err := c.tx.PutReview(r); err != nil {
		return err
	}
	c.reply(c.t("action.recorded", "id", r.ID, "n", a.N))
	if all {
		return c.toReviewLeads(r, "review.effective", "id", r.ID) // its area's, or every lead's
	}
	return nil
}

// timedAction is the open improvement action an action timer is about,
// with its owner; nil when it is done or gone.
func (c *call) timedAction(tm Timer) (*Review, *Improvement, *Person, error) {
	r, err := c.tx.Review(tm.Review)
	if err != nil {
		return nil, nil, nil, nil
	}
	a := r.action(strconv.Itoa(tm.Action))
	if a == nil || a.Done != nil {
		return nil, nil, nil, nil
	}
	owner, err := c.person(a.Owner)
	return r, a, owner, err
}

// actionDueSoon reminds the owner the day before the due date.
func (c *call) actionDueSoon(tm Timer, _ bool) error {
	r, a, owner, err := c.timedAction(tm)
	if a == nil || err != nil {
		return err
	}
	c.tell(owner, "action.due_soon", []any{"id", r.ID, "n", a.N, "text", a.Text, "due", c.localTime(a.Due)[:10]},
		[]Button{{Text: c.tl(owner.Lang, "btn.action_done", "id", r.ID, "n", a.N), Data: EncodePayload(vbActionDone, r.ID, strconv.Itoa(a.N))}})
	return nil
}

// actionOverdue reminds the owner on the due date.
func (c *call) actionOverdue(tm Timer, _ bool) error {
	r, a, owner, err := c.timedAction(tm)
	if a == nil || err != nil {
		return err
	}
	c.tell(owner, "action.overdue", []any{"id", r.ID, "n", a.N, "text", a.Text},
		[]Button{{Text: c.tl(owner.Lang, "btn.action_done", "id", r.ID, "n", a.N), Data: EncodePayload(vbActionDone, r.ID, strconv.Itoa(a.N))}})
	return nil
}

// actionEscalate tells the leads of an action three days late: its
// review's leads (its area's and the admins, or every lead for a
// company-wide review).
func (c *call) actionEscalate(tm Timer, _ bool) error {
	r, a, owner, err := c.timedAction(tm)
	if a == nil || err != nil {
		return err
	}
	name := a.Owner
	if owner != nil {
		name = owner.Name
	}
	return c.toReviewLeads(r, "action.escalated", "id", r.ID, "n", a.N, "text", a.Text, "owner", name)
}
