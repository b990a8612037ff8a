package flows

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// The console's doors to the management's chat actions that take typed
// input in a dialogue there: a shift's hours, a certificate refused or
// revoked with a reason, a training session scheduled, a review action
// marked done with its evidence, and the spare-parts dialogues (a
// delivery received, parts returned from a job, a stocktake's count with
// its reason). Each is authorised by the chat row its console row names
// (routes.go) and runs the chat's own functions on the form's fields,
// checked as the typed answers are; the audit is what chat leaves (the
// person's record, the certificate, the session, the review, the stock
// ledger).

// verbArgs checks a console form's fields against the shape the chat
// button's payload has, and the button's area column, as a tap is.
func (c *call) verbArgs(verb string, list ...string) error {
	v := verbs[verb]
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	if !v.args.check(list) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	return c.checkArea(v.area, list)
}

// consoleField checks one typed field of a form as a dialogue checks a
// typed answer, naming the field when it is empty or too long.
func (c *call) consoleField(name, value string, max int) (string, error) {
	v, err := typedText(value, max)
	if fe := (*Error)(nil); errors.As(err, &fe) {
		switch fe.Key {
		case "err.empty":
			return "", Errorf(CodeInvalid, "console.field_required", "field", c.t("web.field."+name))
		case "err.too_long":
			return "", Errorf(CodeInvalid, "console.field_too_long", append([]any{"field", c.t("web.field." + name)}, fe.Args...)...)
		}
	}
	return v, err
}

// ---- the roster ----

// consoleRosterAdd adds a shift on a day with its hours (chat: rsa|<day>,
// then the typed hours).
func (c *call) consoleRosterAdd(_ *Ticket, args map[string]string) error {
	day := strings.TrimSpace(args["day"])
	if err := c.verbArgs(vbRosterAdd, day); err != nil {
		return err
	}
	if _, ok := c.weekdayNamed(day); !ok {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	hours, err := c.consoleField("hours", args["hours"], maxShiftText)
	if err != nil {
		return err
	}
	id, err := c.setShiftHours(0, day, hours)
	if err != nil {
		return err
	}
	return c.rosterShift(id)
}

// consoleRosterHours gives a shift new hours (chat: rse|<shift>, then the
// typed hours).
func (c *call) consoleRosterHours(_ *Ticket, args map[string]string) error {
	shift := strings.TrimSpace(args["shift"])
	if err := c.verbArgs(vbRosterHours, shift); err != nil {
		return err
	}
	id, err := shiftArg(shift)
	if err != nil {
		return err
	}
	hours, err := c.consoleField("hours", args["hours"], maxShiftText)
	if err != nil {
		return err
	}
	if _, err := c.setShiftHours(id, "", hours); err != nil {
		return err
	}
	return c.rosterShift(id)
}

// ---- certificates ----

// consoleCertReason refuses a submission or revokes a card with the
// reason (chat: cf|<cert> or crx|<cert>, then the typed reason).
func consoleCertReason(verb string) func(c *call, _ *Ticket, args map[string]string) error {
	return func(c *call, _ *Ticket, args map[string]string) error {
		id := strings.TrimSpace(args["cert"])
		if err := c.verbArgs(verb, id); err != nil {
			return err
		}
		if _, err := liveCert(c.tx, id); err != nil {
			return c.localised(err)
		}
		reason, err := c.consoleField("reason", args["reason"], maxOverrideReason)
		if err != nil {
			return err
		}
		return c.revokeCert(id, reason)
	}
}

// consoleCertNew records a certificate from one form (chat: cen|<holder>,
// then its steps): a lead's for a team member is verified at once, one's
// own waits for a lead. Each field is checked as its step checks it; an
// expiry or 复审 left empty is the type's rule (chat's button); the photo
// is the form's upload, optional for a lead's record as in chat.
func (c *call) consoleCertNew(_ *Ticket, args map[string]string) error {
	holderID := strings.TrimSpace(args["person"])
	if err := c.verbArgs(vbCertNew, holderID); err != nil {
		return err
	}
	holder, err := c.certHolder(holderID)
	if err != nil {
		return err
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgCert, Step: stepCertType, Started: c.now, Target: holder.ID, CertDraft: &Certificate{PersonID: holder.ID}}
	if err := c.certTypeSet(d, c.certTypeNamed(strings.TrimSpace(args["type"]))); err != nil {
		return err
	}
	for _, f := range []struct{ step, field string }{
		{stepCertNumber, "number"}, {stepCertAuthority, "authority"}, {stepCertIssued, "issued"}, {stepCertUntil, "until"}, {stepCertReview, "review"},
	} {
		raw := strings.TrimSpace(args[f.field])
		switch {
		case raw == "" && f.step == stepCertUntil:
			err = c.certUntilComputed(d)
		case raw == "" && f.step == stepCertReview:
			d.Step = stepCertPhoto
		default:
			var text string
			if text, err = c.consoleField(f.field, raw, certTextMax[f.step]); err == nil {
				err = c.certTyped(d, text)
			}
		}
		if err != nil {
			return err
		}
	}
	switch {
	case c.ev.Photo != nil:
		if err := c.certPhoto(d); err != nil {
			return err
		}
	case d.Target == c.me.ID:
		return Errorf(CodeInvalid, "certs.err_photo_expected")
	}
	preview := *d.CertDraft
	if err := c.e.quals().CheckCert(&preview, DateOf(c.now, c.e.o.Location)); err != nil {
		return c.localised(err)
	}
	return c.saveCert(d.Target, *d.CertDraft)
}

// ---- training ----

// consoleTrainingNew schedules a session from one form (chat: /training
// new, then its steps): each typed field is checked as its step checks
// it, the covers and the invitees are the steps' choices.
func (c *call) consoleTrainingNew(_ *Ticket, args map[string]string) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgSession, Step: stepTrTopic, Started: c.now, SessionDraft: &Session{}}
	for _, f := range []struct{ step, field string }{
		{stepTrTopic, "topic"}, {stepTrStart, "start"}, {stepTrLength, "minutes"}, {stepTrPlace, "place"}, {stepTrTrainer, "trainer"},
	} {
		raw := args[f.field]
		if f.step == stepTrTrainer && strings.TrimSpace(raw) == trainerMe {
			d.SessionDraft.TrainerID, d.SessionDraft.TrainerName, d.Step = c.me.ID, c.me.Name, stepTrCovers
			continue
		}
		text, err := c.consoleField(f.field, raw, sessionTextMax[f.step])
		if err != nil {
			return err
		}
		if err := c.sessionTyped(d, text); err != nil {
			return err
		}
	}
	s := d.SessionDraft
	for _, v := range listArg(args["covers"]) {
		kind, key, _ := strings.Cut(v, ":")
		cv := Cover{Kind: kind, Key: key}
		if !hasCover(c.coverChoices(), cv) {
			return Errorf(CodeInvalid, "quals.err_cover", "what", cleanText(v, 40))
		}
		if !hasCover(s.Covers, cv) {
			s.Covers = append(s.Covers, cv)
		}
	}
	for _, v := range listArg(args["invite"]) {
		if !strings.HasPrefix(v, "g:") {
			v = "p:" + v
		}
		if err := c.inviteChoice(s, v); err != nil {
			return err
		}
	}
	if len(s.Invitees) == 0 {
		return Errorf(CodeInvalid, "training.err_no_invitees")
	}
	return c.scheduleSession(*s)
}

// listArg splits a form's list field (the console joins a field sent
// once per ticked box with commas).
func listArg(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ---- review actions ----

// consoleActionDone marks an improvement action done with its evidence
// (chat: acd|<review>|<n>, then the typed evidence): only its owner may.
func (c *call) consoleActionDone(_ *Ticket, args map[string]string) error {
	review, n := strings.TrimSpace(args["review"]), strings.TrimSpace(args["n"])
	if err := c.verbArgs(vbActionDone, review, n); err != nil {
		return err
	}
	r, err := c.mustReview(review)
	if err != nil {
		return err
	}
	a := r.action(n)
	if a == nil {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if a.Owner != c.me.ID {
		return Errorf(CodeForbidden, "action.not_owner")
	}
	if a.Done != nil {
		return Errorf(CodeConflict, "action.already")
	}
	text, err := c.consoleField("evidence", args["evidence"], c.e.o.MaxDescription)
	if err != nil {
		return err
	}
	num, _ := strconv.Atoi(n)
	return c.markActionDone(r.ID, num, text)
}

// ---- spare parts ----

// consoleParts runs a spare-parts dialogue of kind on a form's fields
// (answers by step) without storing it: every needed step takes its
// answer through the step's own handler, a photo step the event's photo,
// and the flow's own finish posts it. An answer that does not settle its
// step (a name several parts match) is refused with the step's question.
// A field left empty takes the quick answer chat offers as a button
// (quick by step), where there is one.
func (c *call) consoleParts(kind string, answers, quick map[string]string, fields map[string]string) error {
	f := partsFlows[kind]
	d := &Dialogue{PersonID: c.me.ID, Kind: kind, Started: c.now, Parts: &PartsDraft{}}
	for _, step := range f.steps {
		st := partsSteps[step]
		answer := strings.TrimSpace(answers[step])
		if st.needed != nil {
			need, err := st.needed(c, d)
			if err != nil {
				return err
			}
			if !need {
				// Settled by an earlier answer (the one part a job holds,
				// the one store a part is kept in): the form must agree.
				switch {
				case answer == "":
				case step == stepPartStore && !strings.EqualFold(answer, d.Parts.Store) && d.Parts.Part != "":
					return Errorf(CodeInvalid, "parts.not_kept", "part", d.Parts.Part, "store", cleanText(answer, 40))
				case step == stepPartStore && !strings.EqualFold(answer, d.Parts.Store):
					return Errorf(CodeNotFound, "parts.unknown_store", "store", cleanText(answer, 40))
				case step == stepPartPick && NormalizePartCode(answer) != d.Parts.Part && f.fromJob:
					return Errorf(CodeNotFound, "parts.job_has_none", "part", NormalizePartCode(answer), "ticket", d.TicketID)
				case step == stepPartPick && NormalizePartCode(answer) != d.Parts.Part:
					return Errorf(CodeNotFound, "stock.not_found", "query", cleanText(answer, 40))
				}
				continue
			}
		}
		d.Step = step
		var next bool
		var err error
		switch {
		case st.photo != nil && st.text == nil:
			if c.ev.Photo == nil {
				return Errorf(CodeInvalid, "parts.photo_required")
			}
			next, err = st.photo(c, d, *c.ev.Photo)
		case answer == "" && quick[step] != "" && st.choose != nil:
			next, err = st.choose(c, d, quick[step])
		default:
			limit := maxPartReason
			if st.long {
				limit = maxCountText
			}
			var s string
			if s, err = c.consoleField(fields[step], answer, limit); err != nil {
				return err
			}
			next, err = st.text(c, d, s)
			if step == stepPartCounts && err == nil {
				next = len(d.Parts.Counts) > 0 // the counts step collects until "done"
			}
		}
		if err != nil {
			return err
		}
		if !next {
			prompt, _, err := st.ask(c, d)
			if err != nil {
				return err
			}
			return Errorf(CodeInvalid, "console.step_again", "field", c.t("web.field."+fields[step]), "prompt", prompt)
		}
	}
	return f.done(c, d)
}

// consoleStockReceive records a delivery against an approved purchase
// (chat: /stock receive): the purchase, how many, the supplier, the unit
// cost (empty: the catalog's, chat's button) and the delivery note's
// photo, uploaded with the form.
func (c *call) consoleStockReceive(_ *Ticket, args map[string]string) error {
	return c.consoleParts(dlgPartsReceive,
		map[string]string{stepPartOrder: args["request"], stepPartQty: args["qty"], stepPartSupplier: args["supplier"], stepPartCost: args["cost"]},
		map[string]string{stepPartCost: "catalog"},
		map[string]string{stepPartOrder: "request", stepPartQty: "qty", stepPartSupplier: "supplier", stepPartCost: "cost"})
}

// consoleStockBuy requests a purchase (chat: /stock buy): the part, its
// store, how many, why; the leads get the request to decide, as in chat.
func (c *call) consoleStockBuy(_ *Ticket, args map[string]string) error {
	return c.consoleParts(dlgPartsBuy,
		map[string]string{stepPartPick: args["part"], stepPartStore: args["store"], stepPartQty: args["qty"], stepPartWhy: args["reason"]}, nil,
		map[string]string{stepPartPick: "part", stepPartStore: "store", stepPartQty: "qty", stepPartWhy: "reason"})
}

// consoleStockReturn puts unused parts of a job back in its store (chat:
// /stock return): the ticket, the part, how many.
func (c *call) consoleStockReturn(_ *Ticket, args map[string]string) error {
	return c.consoleParts(dlgPartsReturn,
		map[string]string{stepPartJob: args["ticket"], stepPartPick: args["part"], stepPartQty: args["qty"]}, nil,
		map[string]string{stepPartJob: "ticket", stepPartPick: "part", stepPartQty: "qty"})
}

// consoleStockCount adjusts a store's stock to a count, with the reason
// (chat: /stock count): the store, the part and the quantity counted
// (one line "CODE n" of chat's counts), the reason (empty: a routine
// count, chat's button).
func (c *call) consoleStockCount(_ *Ticket, args map[string]string) error {
	line := ""
	if p, n := strings.TrimSpace(args["part"]), strings.TrimSpace(args["qty"]); p != "" || n != "" {
		if p == "" || n == "" || strings.ContainsAny(p+n, " \n") {
			return Errorf(CodeInvalid, "console.field_required", "field", c.t("web.field.count"))
		}
		line = p + " " + n
	}
	return c.consoleParts(dlgPartsCount,
		map[string]string{stepPartStore: args["store"], stepPartCounts: line, stepPartWhy: args["reason"]},
		map[string]string{stepPartWhy: "routine"},
		map[string]string{stepPartStore: "store", stepPartCounts: "count", stepPartWhy: "reason"})
}

// ---- for the console's forms ----

// DayName is the name a roster button carries for a weekday ("mon"),
// which the console's roster form posts too.
func DayName(wd time.Weekday) string { return dayNames[wd] }

// TrainingCovers are what a session can cover (the SOP version in force,
// each certificate type, each skill) as the values the console's form
// posts ("kind:key") and their labels in l.
func (e *Engine) TrainingCovers(l Lang) (values, labels []string) {
	c := &call{e: e, lang: l}
	for _, cv := range c.coverChoices() {
		values = append(values, cv.Kind+":"+cv.Key)
		labels = append(labels, c.coversText([]Cover{cv}))
	}
	return values, labels
}
