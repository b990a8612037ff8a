package flows

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Emergencies (应急处理预案): filed at once with the safety advice, paged to
// the group and the technicians on duty, escalated rung by rung, their
// countdown kept on the group card.

// EmergencyType is one emergency of the emergency plan (应急处理预案).
type EmergencyType struct {
	Key      string
	Labels   map[Lang]string
	Category string
	// The ladder: not accepted by AcceptWithin → group and on-duty paged
	// again; not arrived by ArriveWithin → leads; by ManagerAfter → admins.
	AcceptWithin, ArriveWithin, ManagerAfter time.Duration
}

func (e *Engine) emergency(key string) (EmergencyType, bool) {
	for _, em := range e.o.Emergencies {
		if em.Key == key {
			return em, true
		}
	}
	return EmergencyType{}, false
}

// createEmergency files an emergency at once: the safety advice goes out
// in the same reply, the group and the on-duty staff are paged, and the
// escalation ladder starts. Details and photos can follow.
func (c *call) createEmergency(d *Dialogue, em EmergencyType) error {
	d.Category = em.Category
	d.Kind2 = OrderHousehold
	if d.Description == "" {
		d.Description = em.Labels[c.lang]
	}
	t, err := c.newTicket(d, nil, em.Key)
	if err != nil {
		return err
	}
	advice := c.t("emergency.advice." + em.Key)
	if strings.HasPrefix(advice, "⟦") {
		advice = c.t("emergency.advice.default")
	}
	dd := &Dialogue{PersonID: c.me.ID, Kind: dlgDetails, Step: stepDetails, Started: c.now, TicketID: t.ID}
	c.bump(dd)
	// Filed as the resident's home at once (the page must not wait); a
	// burst pipe in the corridor is a public area's: they say which.
	c.send(Message{To: c.ev.From.Chat, Priority: PrioUrgent, Ticket: t.ID,
		Text: c.t("emergency.created", "ticket", t.ID, "type", em.Labels[c.lang], "deadline", c.clock(t.Created.Add(em.ArriveWithin))) + "\n\n" + advice +
			"\n\n" + c.t("emergency.kind_ask") + "\n" + c.t("emergency.details_ask"),
		Buttons: [][]Button{
			{DialogueButton(c.t("btn.kind_household"), dd.Seq, "kind:"+string(OrderHousehold)), DialogueButton(c.t("btn.kind_public"), dd.Seq, "kind:"+string(OrderPublic))},
			{DialogueButton(c.t("btn.details_done"), dd.Seq, "skip")}}})
	if err := c.tx.PutDialogue(dd); err != nil {
		return err
	}
	if _, err := c.markRepeat(t, false); err != nil { // marked and told; an emergency is never held back
		return err
	}
	c.groupCard(t, true)
	if err := c.pageOnDuty(t, em, "emergency.page"); err != nil {
		return err
	}
	if contains(c.e.o.Governance.SafetyTypes, em.Key) {
		// A safety incident triggers the SOP review at once.
		if err := c.triggerReview("safety", t.ID); err != nil {
			return err
		}
	}
	if err := c.schedule(tmClock, t.ID, 0, c.now.Truncate(time.Minute).Add(time.Minute)); err != nil {
		return err
	}
	for i, after := range []time.Duration{em.AcceptWithin, em.ArriveWithin, em.ManagerAfter} {
		if after > 0 {
			if err := c.schedule(tmRung, t.ID, i+1, t.Created.Add(after)); err != nil {
				return err
			}
		}
	}
	return nil
}

// detailsChoice handles the buttons of an emergency's details: done, or
// where it is (the resident's home, or a public area).
func (c *call) detailsChoice(d *Dialogue, v string) error {
	kind, isKind := strings.CutPrefix(v, "kind:")
	if !isKind {
		return skipAt(stepDetails)(c, d, v)
	}
	if d.Step != stepDetails {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	k := OrderKind(kind)
	if k != OrderHousehold && k != OrderPublic {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if t.ResidentID != c.me.ID {
		return Errorf(CodeForbidden, "err.not_your_ticket", "ticket", t.ID)
	}
	if !hasState([]State{StateNew, StateAccepted, StateOnTheWay}, t.State) {
		// The visit has begun on the kind it was filed as.
		return Errorf(CodeConflict, "emergency.kind_late", "ticket", t.ID)
	}
	c.toast = c.t("ok")
	label := c.t("btn.kind_" + string(k))
	if t.Kind != k {
		t.Kind = k
		if err := c.record(t, "kind", string(k)); err != nil {
			return err
		}
		c.groupCard(t, false)
		if tech, err := c.person(t.AssigneeID); err != nil {
			return err
		} else if tech != nil {
			c.tell(tech, "emergency.kind_to_tech", []any{"ticket", t.ID, "kind", c.tl(tech.Lang, "kind."+string(k))})
		}
	}
	c.reply(c.t("emergency.kind_set", "kind", label), []Button{DialogueButton(c.t("btn.details_done"), d.Seq, "skip")})
	return nil
}

// detailsInput adds the resident's words and photos to an emergency.
func (c *call) detailsInput(d *Dialogue) error {
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	switch c.ev.Kind {
	case EvText:
		text := cleanText(strings.TrimSpace(c.ev.Text), 0)
		if text == "" {
			return Errorf(CodeInvalid, "err.empty")
		}
		if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
			return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
		}
		t.Description = summary(t.Description+"\n"+text, c.e.o.MaxDescription)
		if err := c.record(t, "details", text); err != nil {
			return err
		}
	case EvPhoto:
		if err := c.acceptPhoto(d); err != nil {
			return err
		}
		t.Photos = append(t.Photos, *c.ev.Photo)
		if err := c.record(t, "details", "", *c.ev.Photo); err != nil {
			return err
		}
		if err := c.tx.PutDialogue(d); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalid, "err.text_expected")
	}
	c.groupCard(t, false)
	if tech, err := c.person(t.AssigneeID); err == nil && tech != nil {
		if c.ev.Photo != nil {
			c.send(photoMessage(tech.Chat, *c.ev.Photo, t.ID, PrioUrgent))
		} else {
			c.tell(tech, "emergency.details_to_tech", []any{"ticket", t.ID, "text", c.ev.Text})
		}
	}
	c.reply(c.t("emergency.details_saved"), []Button{DialogueButton(c.t("btn.details_done"), d.Seq, "skip")})
	return nil
}

// countdown refreshes an emergency's card every minute until someone
// arrives or the last rung has passed. The card only changes when its text
// does, and the sender keeps only the newest queued edit of a card.
func (c *call) countdown(t *Ticket) error {
	em, ok := c.e.emergency(t.Emergency)
	if !ok || t.Arrived != nil || !t.State.Open() || t.State == StateOnSite {
		return nil
	}
	c.postCard(t, false, true)
	if c.now.Before(t.Created.Add(em.ManagerAfter)) {
		return c.schedule(tmClock, t.ID, 0, c.now.Truncate(time.Minute).Add(time.Minute))
	}
	return nil
}

// rung is one step of an emergency's escalation ladder.
func (c *call) rung(t *Ticket, n int, late bool) error {
	em, _ := c.e.emergency(t.Emergency)
	switch n {
	case 1:
		if t.State != StateNew {
			return nil
		}
		t.Escalation = max(t.Escalation, 1)
		c.breach(t, "accept")
		if err := c.record(t, "sla_rung", "1"+lateNote(late)); err != nil {
			return err
		}
		c.groupCard(t, false)
		l := c.e.o.DefaultLang
		c.send(Message{To: c.groupOf(t), Priority: PrioUrgent, Ticket: t.ID,
			Text:    c.tl(l, "emergency.repage", "ticket", t.ID, "type", em.Labels[l], "age", c.age(t.Created), "address", shortAddress(t)),
			Buttons: [][]Button{{TicketButton(c.tl(l, "btn.accept"), ActAccept, t.ID)}}})
		return c.pageOnDuty(t, em, "emergency.repage")
	case 2, 3:
		if t.Arrived != nil || !t.State.Open() || t.State == StateOnSite {
			return nil
		}
		t.Escalation = max(t.Escalation, n)
		c.breach(t, "arrive")
		if err := c.record(t, "sla_rung", strconv.Itoa(n)+lateNote(late)); err != nil {
			return err
		}
		if n == 2 {
			// An emergency SLA breach triggers the SOP review.
			if err := c.triggerReview("sla", t.ID); err != nil {
				return err
			}
		}
		c.groupCard(t, false)
		who := t.Assignee
		key := "emergency.to_lead"
		if n == 3 {
			key = "emergency.to_manager"
		}
		ps, err := c.rungPeople(t, n) // the area's ladder (areas.go)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if who == "" {
				who = c.tl(p.Lang, "open.unassigned")
			}
			c.send(Message{To: p.Chat, Priority: PrioUrgent, Ticket: t.ID,
				Text: c.tl(p.Lang, key, "ticket", t.ID, "type", em.Labels[p.Lang], "age", c.age(t.Created), "name", who, "address", c.fullAddress(t))})
		}
		return nil
	}
	return nil
}

// pageOnDuty sends the emergency to the qualified technicians on duty
// now, privately (their chats are not bound by the group's budget); with
// nobody on duty, or nobody qualified, the leads are paged instead and
// told why (pageQualified).
func (c *call) pageOnDuty(t *Ticket, em EmergencyType, key string) error {
	ids, err := c.onDutyIn(c.e.areaOf(t))
	if err != nil {
		return err
	}
	paged, told, err := c.pageQualified(t, em, key, ids)
	if err != nil || paged > 0 || told {
		return err
	}
	return c.toTicketLeads(t, "emergency.nobody_on_duty", "ticket", t.ID, "type", em.Labels[c.e.o.DefaultLang], "address", shortAddress(t))
}
