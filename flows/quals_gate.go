package flows

import (
	"strings"
	"time"
)

// Dispatch only to the qualified: the accept gate itself is Gate
// (machine.go), run on every tap; this file is what goes with it — the
// card saying what a job needs, a soft requirement's warning, a lead's
// override with its reason, and the emergency page going to the
// qualified people on duty.

// QualOverride is a lead's assignment of a job to someone who did not
// qualify for it, with the lead's reason: recorded on the ticket, in its
// audit trail and in the monthly audit.
type QualOverride struct {
	PersonID string    `json:"person_id"`
	Name     string    `json:"name"`
	By       string    `json:"by"`
	ByName   string    `json:"by_name"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
	// Unmet is why the person did not qualify, in the org's language.
	Unmet string `json:"unmet"`
}

// maxOverrideReason bounds a lead's override reason (runes).
const maxOverrideReason = 200

// stepOverride is the step of dlgQualOverride: the reason is asked.
const stepOverride = "override_reason"

// overriddenFor reports whether the ticket's current assignment to id
// was a lead's override.
func (t *Ticket) overriddenFor(id string) bool {
	n := len(t.QualOverrides)
	return n > 0 && t.QualOverrides[n-1].PersonID == id && t.AssigneeID == id
}

// qualify decides whether p qualifies for ticket t now.
func (c *call) qualify(p *Person, t *Ticket) (bool, Reason, error) {
	q := c.e.quals()
	return q.QualifyTx(c.tx, p, q.NeedOf(t), c.now, c.e.o.Location)
}

// needLine is the card's line saying what the job needs ("" for nothing).
func (c *call) needLine(t *Ticket, l Lang) string {
	q := c.e.quals()
	r := q.NeedText(q.NeedOf(t))
	if r.IsZero() {
		return ""
	}
	return r.Text(c.e.o.Texts, l)
}

// acceptWarning records and shows a soft requirement's warning to the
// technician who just accepted (Gate let them through).
func (c *call) acceptWarning(t *Ticket) error {
	ok, why, err := c.qualify(c.me, t)
	if err != nil || !ok || why.IsZero() {
		return err
	}
	c.toast += "\n" + why.Text(c.e.o.Texts, c.lang)
	return c.event(t, "qual_warning", t.State, t.State, why.Text(c.e.o.Texts, c.e.o.DefaultLang))
}

// reassignCheck is the qualification part of a lead's reassignment: a
// target who does not qualify is not assigned; the lead is asked for the
// reason to assign them anyway (dlgQualOverride). asked reports that.
func (c *call) reassignCheck(t *Ticket, target *Person) (asked bool, err error) {
	ok, why, err := c.qualify(target, t)
	if err != nil || ok {
		return false, err
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgQualOverride, Step: stepOverride, Started: c.now, TicketID: t.ID, Target: target.ID}
	c.bump(d)
	if err := c.tx.PutDialogue(d); err != nil {
		return false, err
	}
	c.toast = c.t("quals.override_toast", "name", target.Name)
	c.reply(c.t("quals.override_ask", "ticket", t.ID, "name", target.Name, "why", c.reasonFor(why, c.lang, target.Name)))
	return true, nil
}

// reasonFor renders a refusal addressed to its subject ("yours expired")
// for someone else: the catalog's "_of" form names them.
func (c *call) reasonFor(why Reason, l Lang, name string) string {
	if why.IsZero() {
		return ""
	}
	return c.tl(l, why.Key+"_of", append(why.LocalArgs(l), "name", name)...)
}

// overrideInput is the lead's reason for assigning an unqualified person.
// Everything is checked again: the ticket may have moved, the person may
// have left or qualified meanwhile (then no override is recorded).
func (c *call) overrideInput(d *Dialogue) error {
	reason, err := c.textField(maxOverrideReason)
	if err != nil {
		return err
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if err := Authorize(ActReassign, c.me, t); err != nil {
		return err
	}
	target, err := c.person(d.Target)
	if err != nil {
		return err
	}
	if !target.Active() || target.Role != RoleTechnician {
		return Errorf(CodeInvalid, "reassign.bad_target")
	}
	if target.ID == t.AssigneeID {
		return Errorf(CodeConflict, "reassign.same")
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	ok, why, err := c.qualify(target, t)
	if err != nil {
		return err
	}
	if !ok {
		o := QualOverride{PersonID: target.ID, Name: target.Name, By: c.me.ID, ByName: c.me.Name, At: c.now, Reason: reason,
			Unmet: c.reasonFor(why, c.e.o.DefaultLang, target.Name)}
		t.QualOverrides = append(t.QualOverrides, o)
		if err := c.event(t, "qual_override", t.State, t.State, target.ID+" "+reason); err != nil {
			return err
		}
	}
	if t.Visit == nil {
		t.Visit = &Visit{}
	}
	if err := c.assignTo(t, target); err != nil {
		return err
	}
	if !ok {
		c.tell(target, "quals.override_to_tech", []any{"ticket", t.ID, "lead", c.me.Name, "reason", reason,
			"why", c.reasonFor(why, target.Lang, target.Name)})
	}
	return nil
}

// reassignLabel is a technician's button in the lead's reassign list,
// marked when they do not qualify for the job.
func (c *call) reassignLabel(t *Ticket, p *Person) (string, error) {
	ok, _, err := c.qualify(p, t)
	if err != nil || ok {
		return p.Name, err
	}
	return c.t("quals.unqualified_mark", "name", p.Name), nil
}

// pageQualified pages the qualified people among those on duty; when
// someone is on duty but nobody qualifies, the leads are paged and told
// why (the requirement, and each person's reason): told.
func (c *call) pageQualified(t *Ticket, em EmergencyType, key string, ids []string) (paged int, told bool, err error) {
	type miss struct {
		p   *Person
		why Reason
	}
	var missing []miss
	for _, id := range ids {
		p, err := c.person(id)
		if err != nil {
			return 0, false, err
		}
		if !p.Active() || !p.Role.IsStaff() {
			continue
		}
		ok, why, err := c.qualify(p, t)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			missing = append(missing, miss{p, why})
			continue
		}
		text := c.tl(p.Lang, key, "ticket", t.ID, "type", em.Labels[p.Lang], "age", c.age(t.Created), "address", shortAddress(t)) + "\n" + c.tl(p.Lang, "emergency.deadline", "time", c.clock(t.Created.Add(em.ArriveWithin)))
		if need := c.needLine(t, p.Lang); need != "" {
			text += "\n" + need
		}
		if !why.IsZero() {
			text += "\n" + why.Text(c.e.o.Texts, p.Lang)
		}
		c.send(Message{To: p.Chat, Priority: PrioUrgent, Ticket: t.ID, Text: text,
			Buttons: [][]Button{{TicketButton(c.tl(p.Lang, "btn.accept"), ActAccept, t.ID)}}})
		paged++
	}
	if paged > 0 || len(missing) == 0 {
		return paged, false, nil
	}
	leads, err := c.leads()
	if err != nil {
		return 0, false, err
	}
	for _, l := range leads {
		var who []string
		for _, m := range missing {
			who = append(who, c.reasonFor(m.why, l.Lang, m.p.Name))
		}
		c.send(Message{To: l.Chat, Priority: PrioUrgent, Ticket: t.ID, Text: c.tl(l.Lang, "emergency.nobody_qualified",
			"ticket", t.ID, "type", em.Labels[l.Lang], "address", shortAddress(t), "need", c.needLine(t, l.Lang),
			"who", strings.Join(who, "\n"))})
	}
	return 0, true, nil
}

// overrideFlags are the audit's lines for a ticket's overrides.
func (c *call) overrideFlags(t *Ticket, l Lang) []string {
	var out []string
	for _, o := range t.QualOverrides {
		out = append(out, c.tl(l, "audit.qual_override", "name", o.Name, "lead", o.ByName, "reason", o.Reason, "why", o.Unmet))
	}
	return out
}
