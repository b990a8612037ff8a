package flows

import (
	"strings"
	"time"
	"unicode"
)

// RepeatsTx finds the tickets of one place: a home (any resident of it)
// or a public asset.
type RepeatsTx interface {
	// TicketsAtPlace lists the tickets whose PlaceKey is place, newest
	// Created first, at most limit.
	TicketsAtPlace(place string, limit int) ([]*Ticket, error)
}

// PlaceKey is where a ticket's fault is, for finding repeats: the home
// (building, unit and room of a household order), or the listed public
// asset of a public one (Ticket.Asset), else its place as typed
// (Ticket.Place), normalised so two residents typing "3栋 2单元" and
// "3栋2单元" meet. It is "" when the ticket names no such place. Stores
// index it. A place is within the ticket's area (Ticket.AreaKey): 3栋
// 201 of one estate is not the same home as 3栋 201 of another.
func PlaceKey(t *Ticket) string {
	area := t.AreaKey() + "\x1f"
	if t.Kind == OrderPublic {
		if t.Asset != "" {
			return area + "asset\x1f" + t.Asset
		}
		if p := normPlace(t.Place); p != "" {
			return area + "place\x1f" + p
		}
		return ""
	}
	if normPlace(t.Room) == "" {
		return ""
	}
	return area + "home\x1f" + normPlace(t.Building) + "\x1f" + normPlace(t.Unit) + "\x1f" + normPlace(t.Room)
}

// normPlace drops spaces and control characters, folds full-width forms
// and letter case.
func normPlace(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			continue
		case r >= '！' && r <= '～': // full-width ASCII
			r -= '！' - '!'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ---- repeat faults at intake ----

// stepDuplicate is the public report's question after its place
// (report.go's dialogue): already reported, follow that ticket instead?
const stepDuplicate = "duplicate"

// earlierFault is the most recently closed ticket of the same place and
// category closed within the repeat window before now (nil if none).
func (c *call) earlierFault(t *Ticket) (*Ticket, error) {
	within := c.e.o.Records.RepeatWithin
	place := PlaceKey(t)
	if within <= 0 || place == "" {
		return nil, nil
	}
	ts, err := c.tx.TicketsAtPlace(place, 50)
	if err != nil {
		return nil, err
	}
	var best *Ticket
	for _, e := range ts {
		if e.ID == t.ID || e.Category != t.Category || e.State != StateClosed || e.Closed == nil || c.now.Sub(*e.Closed) > within {
			continue
		}
		if best == nil || e.Closed.After(*best.Closed) {
			best = e
		}
	}
	return best, nil
}

// markRepeat marks a new ticket that repeats a recent repair at the same
// home or asset: linked to the earlier ticket, its technician and the
// leads told, the SOP review triggered; with offer (not an emergency) and
// RepeatOffer set, the job goes first to that technician for that long.
// It reports whether the job was offered (the group card then waits).
func (c *call) markRepeat(t *Ticket, offer bool) (bool, error) {
	prev, err := c.earlierFault(t)
	if err != nil || prev == nil {
		return false, err
	}
	t.RepeatOf = prev.ID
	if err := c.tx.PutTicket(t); err != nil {
		return false, err
	}
	if err := c.event(t, ActionRepeat, t.State, t.State, prev.ID); err != nil {
		return false, err
	}
	days := int(c.now.Sub(*prev.Closed).Hours() / 24)
	kv := []any{"ticket", t.ID, "prev", prev.ID, "category", "", "address", c.fullAddress(t), "days", days, "name", prev.Assignee,
		"date", c.localTime(*prev.Closed)}
	label := func(l Lang) []any {
		out := append([]any(nil), kv...)
		out[5] = c.categoryLabel(t.Category, l)
		return out
	}
	leads, err := c.leads()
	if err != nil {
		return false, err
	}
	tech, err := c.person(prev.AssigneeID)
	if err != nil {
		return false, err
	}
	for _, p := range leads {
		if tech == nil || p.ID != tech.ID {
			c.tell(p, "repeat.to_leads", label(p.Lang))
		}
	}
	offered := false
	if tech != nil && tech.Registered && tech.Role.IsStaff() {
		mins := int(c.e.o.Records.RepeatOffer / time.Minute)
		if offer && mins > 0 {
			offered = true
			t.OfferedTo = tech.ID
			if err := c.tx.PutTicket(t); err != nil {
				return false, err
			}
			if err := c.tx.PutTimer(Timer{Key: tmRepeatOffer + ":" + t.ID, Due: c.now.Add(c.e.o.Records.RepeatOffer).UTC(), Kind: tmRepeatOffer, Ticket: t.ID}); err != nil {
				return false, err
			}
			l := tech.Lang
			c.send(Message{To: tech.Chat, Priority: PrioNormal, Ticket: t.ID,
				Text: c.tl(l, "repeat.offer", append(label(l), "n", mins)...) + "\n" + summary(t.Description, 200),
				Buttons: [][]Button{{TicketButton(c.tl(l, "btn.accept"), ActAccept, t.ID)},
					{{Text: c.tl(l, "btn.repeat_pass"), Data: EncodePayload(vbRepeatPass, t.ID)}}}})
		} else {
			c.tell(tech, "repeat.to_tech", label(tech.Lang))
		}
	}
	return offered, c.triggerReview("repeat", t.ID)
}

// repeatOfferLapsed: the earlier technician did not take the repeat in
// time: it goes to the group like any other job.
func (c *call) repeatOfferLapsed(t *Ticket) error {
	if t.OfferedTo == "" {
		return nil
	}
	who := t.OfferedTo
	t.OfferedTo = ""
	if t.State != StateNew {
		return c.tx.PutTicket(t) // taken meanwhile
	}
	if err := c.record(t, "offer_lapsed", who); err != nil {
		return err
	}
	c.groupCard(t, true)
	if tech, err := c.person(who); err != nil {
		return err
	} else if tech != nil {
		c.tell(tech, "repeat.offer_lapsed", []any{"ticket", t.ID})
	}
	return nil
}

// repeatPass: the earlier technician passes the repeat on to the group.
func (c *call) repeatPass(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	t, err := c.mustTicket(args[0])
	if err != nil {
		return err
	}
	if t.OfferedTo != c.me.ID || t.State != StateNew {
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	if err := c.tx.DeleteTimer(tmRepeatOffer + ":" + t.ID); err != nil {
		return err
	}
	t.OfferedTo = ""
	if err := c.record(t, "offer_passed", c.me.ID); err != nil {
		return err
	}
	c.toast = c.t("repeat.passed", "ticket", t.ID)
	c.groupCard(t, true)
	return nil
}

// ---- a public report: where, and is it already reported? ----

// placeGiven follows the place of a public report (public.go): when an
// open ticket already names it with the same category, it asks whether
// to follow that one instead; else the report goes on to its timing.
func (c *call) placeGiven(d *Dialogue) error {
	dup, err := c.openDuplicate(d)
	if err != nil {
		return err
	}
	if dup == nil {
		return c.promptTiming(d)
	}
	d.Step, d.TicketID = stepDuplicate, dup.ID
	c.bump(d)
	c.reply(c.t("report.duplicate", "ticket", dup.ID, "state", c.stateLabel(dup.State, c.lang), "asset", dup.Place,
		"desc", summary(dup.Description, 80), "time", c.localTime(dup.Created)),
		[]Button{DialogueButton(c.t("btn.follow"), d.Seq, "follow")},
		[]Button{DialogueButton(c.t("btn.report_anyway"), d.Seq, "new")})
	return c.tx.PutDialogue(d)
}

// openDuplicate is an open public ticket of the same asset and category,
// in the area the report would be filed in.
func (c *call) openDuplicate(d *Dialogue) (*Ticket, error) {
	probe := &Ticket{Kind: OrderPublic, Place: d.Place, Asset: d.Asset, Area: c.reportArea(c.me)}
	ts, err := c.tx.TicketsAtPlace(PlaceKey(probe), 20)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.State.Open() && t.Category == d.Category {
			return t, nil
		}
	}
	return nil, nil
}

// duplicateChoice follows the open ticket (no second ticket) or reports
// anyway.
func (c *call) duplicateChoice(d *Dialogue, v string) error {
	if v == "new" {
		return c.promptTiming(d)
	}
	if v != "follow" {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if !t.State.Open() {
		// Closed since the question: this report is a new fault after all.
		c.reply(c.t("report.duplicate_closed", "ticket", t.ID))
		return c.promptTiming(d)
	}
	if t.ResidentID != c.me.ID && !contains(t.Followers, c.me.ID) {
		t.Followers = append(t.Followers, c.me.ID)
		if t.FollowersTold == "" {
			t.FollowersTold = t.State
		}
		if err := c.record(t, "follow", c.me.ID); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	c.reply(c.t("report.following", "ticket", t.ID, "state", c.stateLabel(t.State, c.lang)))
	return c.tx.DeleteDialogue(d.PersonID)
}

// tellFollowers tells the people following a ticket when its state moves.
func (c *call) tellFollowers(t *Ticket) {
	if len(t.Followers) == 0 || t.FollowersTold == t.State {
		return
	}
	t.FollowersTold = t.State
	c.dirty = append(c.dirty, t)
	for _, id := range t.Followers {
		p, err := c.person(id)
		if err != nil || p == nil {
			continue
		}
		c.tell(p, "report.follow_update", []any{"ticket", t.ID, "state", c.stateLabel(t.State, p.Lang), "asset", t.Place})
	}
}
