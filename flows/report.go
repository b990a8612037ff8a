package flows

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Reporting a fault: category, description and photos, the kind of work
// order and a time; the ticket's dispatch card goes to the group.

func (c *call) startReport() error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgReport, Step: stepCategory, Started: c.now}
	c.bump(d)
	var rows [][]Button
	var row []Button
	for _, cat := range c.e.o.Categories {
		row = append(row, DialogueButton(c.categoryLabel(cat.Key, c.lang), d.Seq, "cat:"+cat.Key))
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	row = nil
	for _, em := range c.e.o.Emergencies {
		row = append(row, DialogueButton("🚨 "+em.Labels[c.lang], d.Seq, "em:"+em.Key))
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	text := c.t("report.ask_category")
	if len(c.e.o.Emergencies) > 0 {
		text += "\n" + c.t("report.emergency_hint")
	}
	c.reply(text, rows...)
	return c.tx.PutDialogue(d)
}

func (c *call) promptDesc(d *Dialogue) error {
	d.Step = stepDesc
	c.bump(d)
	c.reply(c.t("report.ask_desc", "category", c.categoryLabel(d.Category, c.lang), "max", c.e.o.MaxDescription))
	return c.tx.PutDialogue(d)
}

func (c *call) promptPhotos(d *Dialogue) error {
	if c.e.o.MaxPhotos == 0 {
		return c.promptKind(d)
	}
	d.Step = stepPhotos
	c.bump(d)
	c.reply(c.t("report.ask_photos", "max", c.e.o.MaxPhotos), []Button{DialogueButton(c.t("btn.no_more_photos"), d.Seq, "done")})
	return c.tx.PutDialogue(d)
}

func (c *call) promptKind(d *Dialogue) error {
	d.Step = stepKind
	c.bump(d)
	// In the resident's words; the form names stay on the forms.
	c.reply(c.t("report.ask_kind"),
		[]Button{DialogueButton(c.t("btn.kind_household"), d.Seq, "kind:"+string(OrderHousehold))},
		[]Button{DialogueButton(c.t("btn.kind_public"), d.Seq, "kind:"+string(OrderPublic))})
	return c.tx.PutDialogue(d)
}

func (c *call) promptTiming(d *Dialogue) error {
	d.Step = stepTiming
	c.bump(d)
	c.reply(c.t("report.ask_timing"),
		[]Button{DialogueButton(c.t("btn.asap"), d.Seq, "asap")},
		[]Button{DialogueButton(c.t("btn.tomorrow_am"), d.Seq, "tam"), DialogueButton(c.t("btn.tomorrow_pm"), d.Seq, "tpm")},
		[]Button{DialogueButton(c.t("btn.other_time"), d.Seq, "other")})
	return c.tx.PutDialogue(d)
}

// acceptPhoto validates a photo event and adds it to the list.
func (c *call) acceptPhoto(d *Dialogue) error {
	if c.ev.TooLarge || (c.ev.Photo != nil && c.ev.Photo.Size > c.e.o.MaxPhotoBytes) {
		return Errorf(CodeInvalid, "err.photo_too_large", "max", c.e.o.MaxPhotoBytes>>20)
	}
	if c.ev.NotImage {
		return Errorf(CodeInvalid, "err.not_image")
	}
	if len(d.Photos) >= c.e.o.MaxPhotos {
		return Errorf(CodeInvalid, "report.photo_limit", "max", c.e.o.MaxPhotos)
	}
	d.Photos = append(d.Photos, *c.ev.Photo)
	return nil
}

// reportChoice handles the buttons of a report: category, no more
// photos, order kind and timing.
func (c *call) reportChoice(d *Dialogue, v string) error {
	switch d.Step {
	case stepCategory:
		if em, ok := c.e.emergency(strings.TrimPrefix(v, "em:")); ok && strings.HasPrefix(v, "em:") {
			return c.createEmergency(d, em)
		}
		cat, ok := c.e.cats[strings.TrimPrefix(v, "cat:")]
		if !ok || !strings.HasPrefix(v, "cat:") {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if em, ok := c.e.emergency(cat.Emergency); ok {
			return c.createEmergency(d, em) // this category is always an emergency
		}
		d.Category = cat.Key
		c.toast = c.categoryLabel(d.Category, c.lang)
		return c.promptDesc(d)
	case stepPhotos:
		if v != "done" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		return c.promptKind(d)
	case stepKind:
		switch OrderKind(strings.TrimPrefix(v, "kind:")) {
		case OrderHousehold:
			d.Kind2 = OrderHousehold
		case OrderPublic:
			d.Kind2 = OrderPublic
			return c.promptPlace(d) // where, and is it already reported (public.go, repeats.go)
		default:
			return Errorf(CodeInvalid, "err.bad_button")
		}
		return c.promptTiming(d)
	case stepPlace:
		return c.placeChoice(d, v)
	case stepDuplicate:
		return c.duplicateChoice(d, v)
	case stepTiming:
		loc := c.e.o.Location
		local := c.now.In(loc)
		tomorrow := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
		switch v {
		case "asap":
			return c.createTicket(d, nil)
		case "tam":
			at := tomorrow.Add(9 * time.Hour)
			return c.createTicket(d, &at)
		case "tpm":
			at := tomorrow.Add(14 * time.Hour)
			return c.createTicket(d, &at)
		case "other":
			d.Step = stepTime
			c.bump(d)
			c.reply(c.t("report.ask_time", "example", local.Add(24*time.Hour).Format("01-02")+" 15:00"))
			return c.tx.PutDialogue(d)
		}
		return Errorf(CodeInvalid, "err.bad_button")
	}
	return Errorf(CodeConflict, "err.stale_prompt")
}

func (c *call) reportInput(d *Dialogue) error {
	switch d.Step {
	case stepCategory, stepKind, stepTiming, stepDuplicate:
		return Errorf(CodeInvalid, "err.use_buttons")
	case stepPlace:
		return c.placeInput(d)
	case stepDesc:
		if c.ev.Kind != EvText && c.ev.Kind != EvPhoto {
			return Errorf(CodeInvalid, "err.text_expected")
		}
		text := cleanText(strings.TrimSpace(c.ev.Text), 0)
		if c.ev.Kind == EvPhoto {
			if c.e.o.MaxPhotos == 0 {
				return Errorf(CodeInvalid, "err.text_expected")
			}
			if err := c.acceptPhoto(d); err != nil {
				return err
			}
			if text == "" { // a photo without caption: keep it and still ask for words
				c.bump(d)
				c.reply(c.t("report.photo_saved_need_desc", "n", len(d.Photos)))
				return c.tx.PutDialogue(d)
			}
		}
		if text == "" {
			return Errorf(CodeInvalid, "err.empty")
		}
		if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
			return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
		}
		d.Description = text
		return c.promptPhotos(d)
	case stepPhotos:
		if c.ev.Kind != EvPhoto {
			return Errorf(CodeInvalid, "report.photo_or_done")
		}
		if err := c.acceptPhoto(d); err != nil {
			return err
		}
		// No bump: the earlier "no more photos" buttons mean the same thing,
		// and a resident who sent three photos will tap the first one.
		d.Updated = c.now
		c.reply(c.t("report.photo_saved", "n", len(d.Photos), "max", c.e.o.MaxPhotos), []Button{DialogueButton(c.t("btn.no_more_photos"), d.Seq, "done")})
		return c.tx.PutDialogue(d)
	case stepTime:
		if c.ev.Kind != EvText {
			return Errorf(CodeInvalid, "err.text_expected")
		}
		at, err := ParseAgreedTime(c.ev.Text, c.now, c.e.o.Location)
		if err != nil {
			return Errorf(CodeInvalid, "report.bad_time", "example", c.now.In(c.e.o.Location).Add(24*time.Hour).Format("01-02")+" 15:00")
		}
		return c.createTicket(d, &at)
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// createTicket turns a finished report dialogue into a ticket, acknowledges
// it with its number and pushes the dispatch card to the group.
func (c *call) createTicket(d *Dialogue, at *time.Time) error {
	t, err := c.newTicket(d, at, "")
	if err != nil {
		return err
	}
	c.reply(c.t("report.created", "ticket", t.ID, "category", c.categoryLabel(t.Category, c.lang), "when", c.whenText(t, c.lang)),
		[]Button{TicketButton(c.t("btn.cancel_ticket", "ticket", t.ID), ActCancelAsk, t.ID)})
	return c.dispatchNew(t)
}

// dispatchNew posts a new normal ticket's card to the group and starts its
// acceptance clock; a repeat of a recent repair at the same home or public
// place goes first to its technician (repeats.go), the group card then waits.
func (c *call) dispatchNew(t *Ticket) error {
	offered, err := c.markRepeat(t, true)
	if err != nil {
		return err
	}
	if !offered {
		c.groupCard(t, true)
	}
	if sla := c.areaSLA(t); sla.AcceptWithin > 0 {
		return c.schedule(tmAccept, t.ID, 0, c.now.Add(sla.AcceptWithin))
	}
	return nil
}

// newTicket numbers and stores a ticket from the sender's report dialogue.
func (c *call) newTicket(d *Dialogue, at *time.Time, emergency string) (*Ticket, error) {
	t, err := c.fileTicket(c.me, d, at, emergency)
	if err != nil {
		return nil, err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return nil, err
	}
	return t, nil
}

// fileTicket numbers and stores a ticket for resident res from a report
// draft (its category, description, photos and order kind), with its
// first audit line; the sender is its actor (the resident, or the clerk
// who took the call).
func (c *call) fileTicket(res *Person, d *Dialogue, at *time.Time, emergency string) (*Ticket, error) {
	loc := c.e.o.Location
	day := c.now.In(loc).Format("20060102")
	n, err := c.tx.NextTicketSeq(day)
	if err != nil {
		return nil, err
	}
	t := &Ticket{
		ID:          fmt.Sprintf("%s-%s-%04d", c.e.o.TicketPrefix, day, n),
		State:       StateNew,
		Category:    d.Category,
		Description: d.Description,
		Photos:      d.Photos,
		Kind:        d.Kind2,
		ASAP:        at == nil,
		ResidentID:  res.ID,
		Building:    res.Building,
		Unit:        res.Unit,
		Room:        res.Room,
		Place:       d.Place,
		Asset:       d.Asset,
		Created:     c.now,
		Updated:     c.now,
		Rev:         1,
		Emergency:   emergency,
		Area:        c.reportArea(res),
	}
	if at != nil {
		u := at.UTC()
		t.AgreedTime = &u
	}
	if isPublicPlace(t) {
		t.Building, t.Unit, t.Room = "", "", "" // a public fault is not at the reporter's home
	}
	if err := c.tx.PutTicket(t); err != nil {
		return nil, err
	}
	if err := c.event(t, "reported", "", StateNew, emergency, t.Photos...); err != nil {
		return nil, err
	}
	return t, nil
}
