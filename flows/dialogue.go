package flows

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Dialogue steps. They are stored, so their names never change meaning.
const (
	stepName     = "name"
	stepPhone    = "phone"
	stepBuilding = "building"
	stepUnit     = "unit"
	stepRoom     = "room"
	stepCategory = "category"
	stepDesc     = "desc"
	stepPhotos   = "photos"
	stepKind     = "kind"
	stepTiming   = "timing"
	stepTime     = "time"
	stepComment  = "comment"
	stepReason   = "reason"
	stepQty      = "qty"
	stepReply    = "reply"
	stepDetails  = "details"
	stepText     = "text"
	stepReasons  = "reasons"
	stepMeasures = "measures"
	stepActions  = "actions"
)

// promptHint reminds the person what the bot is waiting for.
func (c *call) promptHint(d *Dialogue) string {
	return c.t("hint." + d.Step)
}

// ---- registration ----

func (c *call) startRegistration() error {
	if c.me != nil && c.me.Registered {
		return c.welcomeBack()
	}
	d := &Dialogue{PersonID: c.ev.From.ID, Kind: dlgRegister, Step: stepName, Started: c.now}
	c.bump(d)
	c.reply(c.t("register.welcome", "org", c.e.o.OrgName) + "\n\n" + c.t("register.ask_name"))
	return c.tx.PutDialogue(d)
}

func (c *call) registerInput(d *Dialogue) error {
	switch d.Step {
	case stepName:
		name, err := c.textField(c.e.o.MaxNameLen)
		if err != nil {
			return err
		}
		d.Name = name
		d.Step = stepPhone
		c.bump(d)
		c.send(c.phonePrompt("register.ask_phone", "name", name))
		return c.tx.PutDialogue(d)
	case stepPhone:
		if c.ev.Kind != EvContact {
			c.send(c.phonePrompt("register.phone_button_only"))
			return nil
		}
		if !c.ev.ContactIsOwn {
			return Errorf(CodeInvalid, "register.phone_not_own")
		}
		phone := normalizePhone(c.ev.Phone)
		if phone == "" {
			return Errorf(CodeInvalid, "register.phone_invalid")
		}
		d.Phone = phone
		d.Step = stepBuilding
		c.bump(d)
		c.send(Message{To: c.ev.From.Chat, Text: c.t("register.ask_building"), RemoveKeyboard: true, Priority: PrioNormal})
		return c.tx.PutDialogue(d)
	case stepBuilding:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		d.Building = v
		d.Step = stepUnit
		c.bump(d)
		c.reply(c.t("register.ask_unit"))
		return c.tx.PutDialogue(d)
	case stepUnit:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		d.Unit = v
		d.Step = stepRoom
		c.bump(d)
		c.reply(c.t("register.ask_room"))
		return c.tx.PutDialogue(d)
	case stepRoom:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		p := c.me
		if p == nil {
			p = &Person{ID: c.ev.From.ID, Created: c.now, Lang: c.lang}
		}
		if p.Role == RoleNone {
			p.Role = RoleResident
		}
		p.Name, p.Phone, p.Building, p.Unit, p.Room = d.Name, d.Phone, d.Building, d.Unit, v
		p.Chat = c.ev.From.Chat
		p.Registered = true
		p.Updated = c.now
		if err := c.tx.PutPerson(p); err != nil {
			return err
		}
		c.me = p
		if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
			return err
		}
		c.reply(c.t("register.done", "name", p.Name, "address", personAddress(p)), []Button{CommandButton(c.t("btn.report"), "report")})
		return nil
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// textField validates the event as a short single-line text answer.
func (c *call) textField(max int) (string, error) {
	if c.ev.Kind == EvPhoto {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	if c.ev.Kind != EvText {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	raw := strings.TrimSpace(c.ev.Text)
	v := cleanText(raw, 0)
	if v == "" {
		return "", Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", max)
	}
	return v, nil
}

// ---- report ----

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
	c.reply(c.t("report.ask_kind"),
		[]Button{DialogueButton(c.t("kind.household"), d.Seq, "kind:"+string(OrderHousehold))},
		[]Button{DialogueButton(c.t("kind.public"), d.Seq, "kind:"+string(OrderPublic))})
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
		default:
			return Errorf(CodeInvalid, "err.bad_button")
		}
		return c.promptTiming(d)
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
	case stepCategory, stepKind, stepTiming:
		return Errorf(CodeInvalid, "err.use_buttons")
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
		[]Button{TicketButton(c.t("btn.cancel_ticket", "ticket", t.ID), ActCancel, t.ID)})
	c.groupCard(t, true)
	if err := c.checkRepeat(t); err != nil {
		return err
	}
	if c.e.o.SLA.AcceptWithin > 0 {
		return c.schedule(tmAccept, t.ID, 0, c.now.Add(c.e.o.SLA.AcceptWithin))
	}
	return nil
}

// checkRepeat treats the same fault at the same home within 30 days of a
// repair as a repeat failure: a major fault that triggers the SOP review.
func (c *call) checkRepeat(t *Ticket) error {
	earlier, err := c.tx.TicketsByResident(t.ResidentID, 20)
	if err != nil {
		return err
	}
	for _, e := range earlier {
		if e.ID != t.ID && e.Category == t.Category && e.Room == t.Room && e.State == StateClosed &&
			e.Closed != nil && c.now.Sub(*e.Closed) < 30*24*time.Hour {
			if err := c.event(t, "repeat", t.State, t.State, e.ID); err != nil {
				return err
			}
			return c.triggerReview("repeat", t.ID)
		}
	}
	return nil
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
	c.send(Message{To: c.ev.From.Chat, Priority: PrioUrgent, Ticket: t.ID,
		Text:    c.t("emergency.created", "ticket", t.ID, "type", em.Labels[c.lang], "deadline", c.clock(t.Created.Add(em.ArriveWithin))) + "\n\n" + advice + "\n\n" + c.t("emergency.details_ask"),
		Buttons: [][]Button{{DialogueButton(c.t("btn.details_done"), dd.Seq, "skip")}}})
	if err := c.tx.PutDialogue(dd); err != nil {
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

// newTicket numbers and stores a ticket from a report dialogue.
func (c *call) newTicket(d *Dialogue, at *time.Time, emergency string) (*Ticket, error) {
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
		ResidentID:  c.me.ID,
		Building:    c.me.Building,
		Unit:        c.me.Unit,
		Room:        c.me.Room,
		Created:     c.now,
		Updated:     c.now,
		Rev:         1,
		Emergency:   emergency,
	}
	if at != nil {
		u := at.UTC()
		t.AgreedTime = &u
	}
	if err := c.tx.PutTicket(t); err != nil {
		return nil, err
	}
	if err := c.event(t, "reported", "", StateNew, emergency, t.Photos...); err != nil {
		return nil, err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return nil, err
	}
	return t, nil
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

// ---- after-service dialogues ----

func (c *call) commentInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	t.Comment = text
	t.Updated = c.now
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.event(t, "comment", t.State, t.State, text); err != nil {
		return err
	}
	c.reply(c.t("score.comment_saved"))
	return c.tx.DeleteDialogue(d.PersonID)
}

func (c *call) reworkInput(d *Dialogue) error {
	if c.ev.Kind != EvText && c.ev.Kind != EvPhoto {
		return Errorf(CodeInvalid, "err.text_expected")
	}
	text := cleanText(strings.TrimSpace(c.ev.Text), 0)
	if text == "" && c.ev.Photo == nil {
		return Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
		return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	var photos []Photo
	if c.ev.Photo != nil {
		photos = append(photos, *c.ev.Photo)
	}
	if err := c.event(t, "rework_reason", t.State, t.State, text, photos...); err != nil {
		return err
	}
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil {
		if text != "" {
			c.send(Message{To: tech.Chat, Text: c.tl(tech.Lang, "rework.reason_to_tech", "ticket", t.ID, "reason", text), Priority: PrioNormal, Ticket: t.ID})
		}
		if c.ev.Photo != nil {
			c.send(photoMessage(tech.Chat, *c.ev.Photo, t.ID, PrioNormal))
		}
	}
	c.reply(c.t("rework.reason_sent"))
	return c.tx.DeleteDialogue(d.PersonID)
}

// ---- text helpers ----

// longText reads the event as a free-text answer: text only, control and
// invisible characters removed (newlines kept), not empty, and at most
// MaxDescription characters — too long is refused, never silently cut.
func (c *call) longText() (string, error) {
	if c.ev.Kind != EvText {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	text := cleanText(strings.TrimSpace(c.ev.Text), 0)
	if text == "" {
		return "", Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	return text, nil
}

// cleanText removes control characters (keeping newlines), zero-width and
// bidirectional-override characters, which spoof names and break cards.
// max > 0 truncates to that many runes.
func cleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		if r != '\n' && (unicode.IsControl(r) || isInvisible(r)) {
			continue
		}
		if max > 0 && n >= max {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, // zero-width space/joiners, LRM/RLM
		r >= 0x202A && r <= 0x202E, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0xFEFF, r == 0x2060:
		return true
	}
	return false
}

// normalizePhone keeps a leading + and digits; anything implausible is "".
func normalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 5 || len(digits) > 15 {
		return ""
	}
	return b.String()
}

// MaskPhone hides the middle of a phone number for logs and group cards.
func MaskPhone(p string) string {
	if len(p) <= 4 {
		return "****"
	}
	keep := 3
	if len(p) < 8 {
		keep = 1
	}
	return p[:keep] + strings.Repeat("*", len(p)-keep-4) + p[len(p)-4:]
}

// phonePrompt asks for the phone number: with the share-contact button
// where the channel has one, otherwise (key + "_typed") to type it.
func (c *call) phonePrompt(key string, kv ...any) Message {
	if c.ev.From.TypesPhone {
		return Message{To: c.ev.From.Chat, Text: c.t(key+"_typed", kv...), Priority: PrioNormal}
	}
	return Message{To: c.ev.From.Chat, Text: c.t(key, kv...), RequestContact: c.t("btn.share_phone"), Priority: PrioNormal}
}
