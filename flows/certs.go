package flows

import "strings"

// Certificates in chat (/certs): everyone on the repair team sees their
// own and submits one (fields and a photo of the card) for a lead to
// verify by button; a lead records a technician's certificate (verified
// at once), verifies or refuses submissions, records a passed 复审 and
// revokes a card. Each field is one step of a dialogue (dlgCert) whose
// draft is a Certificate; QualRules.SubmitCert checks and stores it with
// its audit event. An unverified certificate never qualifies.

// Steps of the certificate dialogue. They are stored: never change one.
const (
	stepCertType      = "cert_type"
	stepCertNumber    = "cert_number"
	stepCertAuthority = "cert_authority"
	stepCertIssued    = "cert_issued"
	stepCertUntil     = "cert_until"
	stepCertReview    = "cert_review"
	stepCertPhoto     = "cert_photo"
	stepCertConfirm   = "cert_confirm"
	stepCertReason    = "cert_reason"
)

// Dialogue choice values of the certificate dialogue.
const (
	certComputed = "auto"    // a date computed from the type's rules
	certNoPhoto  = "nophoto" // a lead records without a photo
	certSave     = "save"
	certDrop     = "drop"
)

// cmdCerts shows certificates: the sender's own (and, for a lead, the
// submissions waiting for verification and the cards due soon), or (a
// lead, or oneself) a person's.
func (c *call) cmdCerts(arg string) error {
	id := strings.TrimSpace(arg)
	if id != "" && id != c.me.ID {
		if !c.me.Role.IsLead() {
			return Errorf(CodeForbidden, "err.leads_only")
		}
		p, err := staffMember(c.tx, id)
		if err != nil {
			return err
		}
		return c.showCerts(p)
	}
	if err := c.showCerts(c.me); err != nil {
		return err
	}
	if c.me.Role.IsLead() {
		return c.certsOverview()
	}
	return nil
}

// showCerts lists p's certificates with their status, and what the
// sender may do: submit their own, or (a lead) record one for p, record a
// passed 复审, revoke.
func (c *call) showCerts(p *Person) error {
	certs, err := c.tx.CertsByPerson(p.ID)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(c.t("certs.head", "name", p.Name))
	lead := c.me.Role.IsLead() && p.ID != c.me.ID
	var rows [][]Button
	n := 0
	for _, ct := range certs {
		if !ct.Live() {
			continue
		}
		n++
		b.WriteString("\n" + c.t("certs.line", "id", ct.ID, "status", c.certStatusText(ct, c.lang), "number", ct.Number, "authority", ct.Authority, "issued", ct.Issued.String()))
		if lead && ct.IsVerified() {
			rows = append(rows, fitting([]Button{
				{Text: c.t("btn.cert_reviewed", "id", ct.ID), Data: EncodePayload(vbCertReviewed, ct.ID)},
				{Text: c.t("btn.cert_revoke", "id", ct.ID), Data: EncodePayload(vbCertRevoke, ct.ID)},
			})...)
		}
	}
	if n == 0 {
		b.WriteString("\n" + c.t("certs.none"))
	}
	switch {
	case p.ID == c.me.ID:
		rows = append(rows, fitting([]Button{{Text: c.t("btn.cert_submit"), Data: EncodePayload(vbCertNew, p.ID)}})...)
	case lead && p.Active():
		rows = append(rows, fitting([]Button{{Text: c.t("btn.cert_record", "name", p.Name), Data: EncodePayload(vbCertNew, p.ID)}})...)
	}
	c.reply(b.String(), rows...)
	return nil
}

// certsOverview is the lead's part of /certs: submissions waiting for a
// lead, each with its photo and buttons, and the cards due or lapsed.
func (c *call) certsOverview() error {
	q := c.e.quals()
	people, err := c.staffList()
	if err != nil {
		return err
	}
	var due []string
	pending := 0
	for _, p := range people {
		if !p.Active() {
			continue
		}
		certs, err := c.tx.CertsByPerson(p.ID)
		if err != nil {
			return err
		}
		for _, ct := range certs {
			if !ct.Live() {
				continue
			}
			switch st := q.StatusOf(ct, c.now, c.e.o.Location); {
			case st == CertPending && ct.PersonID != c.me.ID:
				pending++
				c.verifyCard(c.me, p, ct)
			case !st.Qualifies() && st != CertPending || st == CertReviewDue:
				due = append(due, p.Name+"："+c.certStatusText(ct, c.lang))
			}
		}
	}
	text := c.t("certs.overview", "pending", pending)
	if len(due) > 0 {
		text += "\n" + c.t("certs.due_head") + "\n" + strings.Join(due, "\n")
	}
	c.reply(text)
	return nil
}

// verifyCard sends lead a submitted certificate to verify: its photo,
// its fields and the verify / refuse buttons.
func (c *call) verifyCard(lead, holder *Person, ct *Certificate) {
	l := lead.Lang
	q := c.e.quals()
	if ct.Photo != nil {
		c.send(photoMessage(lead.Chat, *ct.Photo, "", PrioNormal))
	}
	c.send(Message{To: lead.Chat, Priority: PrioNormal,
		Text: c.tl(l, "certs.verify_ask", "name", holder.Name, "id", ct.ID, "cert", q.CertLabel(ct.Type).In(l), "number", ct.Number,
			"authority", ct.Authority, "issued", ct.Issued.String(), "until", dash(ct.ValidUntil.String()), "review", dash(ct.NextReview.String())),
		Buttons: [][]Button{{{Text: c.tl(l, "btn.cert_verify"), Data: EncodePayload(vbCertVerify, ct.ID)},
			{Text: c.tl(l, "btn.cert_refuse"), Data: EncodePayload(vbCertRefuse, ct.ID)}}}})
}

// certNew starts the certificate dialogue ("cn|<holder>"): one's own is a
// submission, a lead's for someone else a record.
func (c *call) certNew(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	holder, err := c.certHolder(args[0])
	if err != nil {
		return err
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgCert, Step: stepCertType, Started: c.now, Target: holder.ID, CertDraft: &Certificate{PersonID: holder.ID}}
	c.toast = c.t("ok")
	return c.certPrompt(d)
}

// certHolder is the person a certificate is entered for: an active
// member of the repair team, oneself or (for a lead) anyone of them.
func (c *call) certHolder(id string) (*Person, error) {
	holder, err := staffMember(c.tx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !holder.Active():
		return nil, Errorf(CodeConflict, "staff.err_left", "name", holder.Name)
	case holder.ID != c.me.ID && !c.me.Role.IsLead():
		return nil, Errorf(CodeForbidden, "err.leads_only")
	}
	return holder, nil
}

// certPrompt asks for the draft's next field.
func (c *call) certPrompt(d *Dialogue) error {
	c.bump(d)
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	q := c.e.quals()
	dr := d.CertDraft
	switch d.Step {
	case stepCertType:
		var rows [][]Button
		for _, ct := range q.CertTypes {
			rows = append(rows, []Button{DialogueButton(ct.Labels.In(c.lang), d.Seq, ct.Key)})
		}
		c.reply(c.t("certs.ask_type"), rows...)
	case stepCertNumber:
		c.reply(c.t("certs.ask_number", "cert", q.CertLabel(dr.Type).In(c.lang)))
	case stepCertAuthority:
		c.reply(c.t("certs.ask_authority"))
	case stepCertIssued:
		c.reply(c.t("certs.ask_issued"))
	case stepCertUntil:
		ct, _ := q.CertType(dr.Type)
		key := "btn.cert_until_auto"
		if ct.ValidYears == 0 {
			key = "btn.cert_until_none"
		}
		c.reply(c.t("certs.ask_until"), []Button{DialogueButton(c.t(key, "n", ct.ValidYears), d.Seq, certComputed)})
	case stepCertReview:
		ct, _ := q.CertType(dr.Type)
		key := "btn.cert_review_auto"
		if ct.ReviewYears == 0 {
			key = "btn.cert_review_none"
		}
		c.reply(c.t("certs.ask_review"), []Button{DialogueButton(c.t(key, "n", ct.ReviewYears), d.Seq, certComputed)})
	case stepCertPhoto:
		if d.Target == c.me.ID {
			c.reply(c.t("certs.ask_photo_required"))
		} else {
			c.reply(c.t("certs.ask_photo"), []Button{DialogueButton(c.t("btn.cert_no_photo"), d.Seq, certNoPhoto)})
		}
	case stepCertConfirm:
		preview := *dr
		if err := q.CheckCert(&preview, DateOf(c.now, c.e.o.Location)); err != nil {
			return c.localised(err)
		}
		photo := c.t("certs.photo_none")
		if dr.Photo != nil {
			photo = c.t("certs.photo_yes")
		}
		holder, err := c.person(d.Target)
		if err != nil {
			return err
		}
		name := d.Target
		if holder != nil {
			name = holder.Name
		}
		save := "btn.cert_save"
		if d.Target == c.me.ID {
			save = "btn.cert_send"
		}
		c.reply(c.t("certs.confirm", "name", name, "cert", q.CertLabel(dr.Type).In(c.lang), "number", preview.Number, "authority", preview.Authority,
			"issued", preview.Issued.String(), "until", dash(preview.ValidUntil.String()), "review", dash(preview.NextReview.String()), "photo", photo),
			[]Button{DialogueButton(c.t(save), d.Seq, certSave), DialogueButton(c.t("btn.cert_cancel"), d.Seq, certDrop)})
	}
	return nil
}

// certInput takes a typed field (or the photo) of the draft.
func (c *call) certInput(d *Dialogue) error {
	dr := d.CertDraft
	if dr == nil {
		return c.tx.DeleteDialogue(d.PersonID) // nothing to go on
	}
	switch d.Step {
	case stepCertType:
		text, err := c.textField(maxCertField)
		if err != nil {
			return err
		}
		return c.certChoice(d, c.certTypeNamed(text))
	case stepCertNumber, stepCertAuthority, stepCertIssued, stepCertUntil, stepCertReview:
		text, err := c.textField(certTextMax[d.Step])
		if err != nil {
			return err
		}
		if err := c.certTyped(d, text); err != nil {
			return err
		}
	case stepCertPhoto:
		if c.ev.Kind != EvPhoto {
			return Errorf(CodeInvalid, "certs.err_photo_expected")
		}
		if err := c.certPhoto(d); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalid, "err.use_buttons")
	}
	return c.certPrompt(d)
}

// certTextMax are the draft's typed fields with the longest answer each takes.
var certTextMax = map[string]int{stepCertNumber: maxCertField, stepCertAuthority: maxCertField, stepCertIssued: 20, stepCertUntil: 20, stepCertReview: 20}

// certPhoto takes the event's photo for the draft.
func (c *call) certPhoto(d *Dialogue) error {
	if c.ev.TooLarge || c.ev.Photo.Size > c.e.o.MaxPhotoBytes {
		return Errorf(CodeInvalid, "err.photo_too_large", "max", c.e.o.MaxPhotoBytes>>20)
	}
	if c.ev.NotImage {
		return Errorf(CodeInvalid, "err.not_image")
	}
	ph := *c.ev.Photo
	d.CertDraft.Photo, d.Step = &ph, stepCertConfirm
	return nil
}

// certTyped takes the typed answer to the draft's current field (number,
// authority, a date) and moves it to the next: the chat's typed answers
// and the console's form fields, checked alike.
func (c *call) certTyped(d *Dialogue, text string) error {
	dr := d.CertDraft
	today := DateOf(c.now, c.e.o.Location)
	switch d.Step {
	case stepCertNumber, stepCertAuthority:
		if d.Step == stepCertNumber {
			dr.Number, d.Step = text, stepCertAuthority
		} else {
			dr.Authority, d.Step = text, stepCertIssued
		}
	case stepCertIssued, stepCertUntil, stepCertReview:
		date, err := ParseDate(text)
		if err != nil {
			return Errorf(CodeInvalid, "quals.err_date", "text", text)
		}
		switch d.Step {
		case stepCertIssued:
			if date.After(today) {
				return Errorf(CodeInvalid, "quals.err_issued_future", "date", date.String())
			}
			dr.Issued, d.Step = date, stepCertUntil
		case stepCertUntil:
			if date.Before(today) {
				return Errorf(CodeInvalid, "quals.err_until_past", "date", date.String())
			}
			if !date.After(dr.Issued) {
				return Errorf(CodeInvalid, "quals.err_until_before_issued", "date", date.String(), "issued", dr.Issued.String())
			}
			dr.ValidUntil, d.Step = date, stepCertReview
		default:
			if date.Before(today) {
				return Errorf(CodeInvalid, "quals.err_review_past", "date", date.String())
			}
			preview := *dr
			preview.NextReview = date
			if err := c.e.quals().CheckCert(&preview, today); err != nil {
				return c.localised(err) // after the expiry, typed or computed
			}
			dr.NextReview, d.Step = date, stepCertPhoto
		}
	default:
		return Errorf(CodeInvalid, "err.use_buttons")
	}
	return nil
}

// certTypeNamed is the type key a person typed (a key or a label in any
// language), or the text itself when none matches (refused as unknown).
func (c *call) certTypeNamed(text string) string {
	for _, ct := range c.e.quals().CertTypes {
		if strings.EqualFold(text, ct.Key) {
			return ct.Key
		}
		for _, l := range ct.Labels {
			if text == l {
				return ct.Key
			}
		}
	}
	return text
}

// certChoice takes a button of the draft's current step.
func (c *call) certChoice(d *Dialogue, v string) error {
	dr := d.CertDraft
	if dr == nil {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	switch {
	case d.Step == stepCertType:
		if err := c.certTypeSet(d, v); err != nil {
			return err
		}
	case d.Step == stepCertUntil && v == certComputed:
		if err := c.certUntilComputed(d); err != nil {
			return err
		}
	case d.Step == stepCertReview && v == certComputed:
		d.Step = stepCertPhoto
	case d.Step == stepCertPhoto && v == certNoPhoto && d.Target != c.me.ID:
		d.Step = stepCertConfirm
	case d.Step == stepCertConfirm && v == certDrop:
		c.toast = c.t("ok")
		c.reply(c.t("cancel.done"))
		return c.tx.DeleteDialogue(d.PersonID)
	case d.Step == stepCertConfirm && v == certSave:
		return c.certSave(d)
	default:
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	c.toast = c.t("ok")
	return c.certPrompt(d)
}

// certTypeSet takes the draft's certificate type (a key of the rules).
func (c *call) certTypeSet(d *Dialogue, v string) error {
	q := c.e.quals()
	if _, ok := q.CertType(v); !ok {
		var names []string
		for _, ct := range q.CertTypes {
			names = append(names, ct.Labels.In(c.lang))
		}
		return Errorf(CodeInvalid, "certs.err_unknown_type", "type", v, "types", strings.Join(names, c.t("order.sep")))
	}
	d.CertDraft.Type, d.Step = v, stepCertNumber
	return nil
}

// certUntilComputed leaves the expiry to the type's rule, refused when
// the computed date has passed (a card of no use).
func (c *call) certUntilComputed(d *Dialogue) error {
	preview := *d.CertDraft
	if err := c.e.quals().CheckCert(&preview, DateOf(c.now, c.e.o.Location)); err != nil {
		return c.localised(err)
	}
	d.Step = stepCertReview
	return nil
}

// certSave stores the draft: a lead's record for someone else is verified
// at once; one's own waits for a lead, who gets it to verify.
func (c *call) certSave(d *Dialogue) error {
	if err := c.saveCert(d.Target, *d.CertDraft); err != nil {
		return err
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// saveCert stores a drafted certificate of target (the chat's save, the
// console's form) and tells whom it concerns.
func (c *call) saveCert(target string, draft Certificate) error {
	holder, err := staffMember(c.tx, target)
	if err != nil {
		return err
	}
	if !holder.Active() {
		return Errorf(CodeConflict, "staff.err_left", "name", holder.Name)
	}
	record := holder.ID != c.me.ID
	if record && !c.me.Role.IsLead() {
		return Errorf(CodeForbidden, "err.leads_only")
	}
	q := c.e.quals()
	ct, err := q.SubmitCert(c.tx, c.me.ID, draft, record, c.now, c.e.o.Location)
	if err != nil {
		return c.localised(err)
	}
	c.toast = c.t("ok")
	label := q.CertLabel(ct.Type)
	if record {
		c.reply(c.t("certs.recorded", "id", ct.ID, "name", holder.Name, "status", c.certStatusText(ct, c.lang)))
		c.tell(holder, "certs.recorded_you", []any{"id", ct.ID, "cert", label.In(holder.Lang), "by", c.me.Name})
		return nil
	}
	c.reply(c.t("certs.submitted", "id", ct.ID, "cert", label.In(c.lang)))
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, l := range leads {
		if l.ID != holder.ID {
			c.verifyCard(l, holder, ct)
		}
	}
	return nil
}

// certVerify is a lead's "verify" on a submission ("cv|<cert>").
func (c *call) certVerify(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	ct, err := c.e.quals().VerifyCert(c.tx, c.me.ID, args[0], c.now, c.e.o.Location)
	if err != nil {
		return c.localised(err)
	}
	holder, err := c.person(ct.PersonID)
	if err != nil {
		return err
	}
	c.toast = c.t("certs.verified", "id", ct.ID)
	c.reply(c.t("certs.verified", "id", ct.ID) + "\n" + c.certStatusText(ct, c.lang))
	if holder.Active() {
		c.tell(holder, "certs.verified_you", []any{"id", ct.ID, "cert", c.e.quals().CertLabel(ct.Type).In(holder.Lang), "by", c.me.Name})
	}
	return nil
}

// certReason asks a lead why a submission is refused ("cf|<cert>") or a
// card revoked ("crx|<cert>").
func (c *call) certReason(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if _, err := liveCert(c.tx, args[0]); err != nil {
		return err
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgCertRevoke, Step: stepCertReason, Started: c.now, CertID: args[0]}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("certs.ask_reason", "id", args[0]))
	return c.tx.PutDialogue(d)
}

// certReasonInput refuses or revokes the certificate with the reason.
func (c *call) certReasonInput(d *Dialogue) error {
	reason, err := c.textField(maxOverrideReason)
	if err != nil {
		return err
	}
	if err := c.revokeCert(d.CertID, reason); err != nil {
		return err
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// revokeCert refuses a submission or revokes a card with the reason and
// tells its holder: the chat's typed reason and the console's form.
func (c *call) revokeCert(id, reason string) error {
	ct, err := c.e.quals().RevokeCert(c.tx, c.me.ID, id, reason, c.now)
	if err != nil {
		return c.localised(err)
	}
	c.reply(c.t("certs.revoked", "id", ct.ID))
	holder, err := c.person(ct.PersonID)
	if err != nil {
		return err
	}
	key := "certs.revoked_you"
	if !ct.IsVerified() {
		key = "certs.refused_you"
	}
	if holder.Active() {
		c.tell(holder, key, []any{"id", ct.ID, "cert", c.e.quals().CertLabel(ct.Type).In(holder.Lang), "reason", reason})
	}
	return nil
}

// certReviewed records a passed 复审 ("crv|<cert>"): the next one is the
// last plus the type's interval.
func (c *call) certReviewed(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	ct, err := c.e.quals().ReviewCert(c.tx, c.me.ID, args[0], Date{}, Date{}, c.now, c.e.o.Location)
	if err != nil {
		return c.localised(err)
	}
	c.toast = c.t("ok")
	c.reply(c.t("certs.reviewed", "id", ct.ID, "date", ct.NextReview.String()))
	if holder, err := c.person(ct.PersonID); err != nil {
		return err
	} else if holder.Active() {
		c.tell(holder, "certs.reviewed_you", []any{"id", ct.ID, "cert", c.e.quals().CertLabel(ct.Type).In(holder.Lang), "date", ct.NextReview.String()})
	}
	return nil
}
