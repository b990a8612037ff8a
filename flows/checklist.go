package flows

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The on-site checklist: the SOP's steps walked one at a time with buttons.
// Ticket.Step is the current step; every step button carries its step id,
// so a button from an earlier step is refused as stale, and every guard
// (door limits, required photos, consent, minimum tests) is checked here
// before anything is written.

// applies reports whether a step is part of this ticket's visit.
func applies(t *Ticket, st Step) bool { return !(st.HouseholdOnly && t.Kind == OrderPublic) }

// current returns the current step and its index.
func (c *call) current(t *Ticket) (Step, int) {
	i := c.e.SOP().index(t.Step)
	if i < 0 {
		return Step{}, -1
	}
	return c.e.SOP().Steps[i], i
}

// stepNumber is the 1-based position among the steps that apply, and their count.
func (c *call) stepNumber(t *Ticket) (int, int) {
	n, total := 0, 0
	for _, st := range c.e.SOP().Steps {
		if !applies(t, st) {
			continue
		}
		total++
		if st.ID == t.Step {
			n = total
		}
	}
	return n, total
}

// enter makes step i (or the next one that applies) current and tells the
// technician; entering the entry step also asks the resident for consent.
func (c *call) enter(t *Ticket, i int) error {
	steps := c.e.SOP().Steps
	for i < len(steps) && !applies(t, steps[i]) {
		i++
	}
	if i >= len(steps) {
		i = len(steps) - 1 // the sign-off always applies
	}
	st := steps[i]
	t.Step = st.ID
	if st.Kind == StepTests {
		t.Visit.Tests = 0
	}
	if st.Kind == StepDoor {
		if err := c.knownBell(t); err != nil {
			return err
		}
	}
	if err := c.event(t, "step", t.State, t.State, st.ID); err != nil {
		return err
	}
	if st.Kind == StepEntry && t.Visit.Entry == "" {
		res, err := c.resident(t)
		if err != nil {
			return err
		}
		if res != nil {
			c.tell(res, "visit.entry_ask", []any{"ticket", t.ID, "name", t.Assignee},
				[]Button{TicketButton(c.tl(res.Lang, "btn.entry_ok"), ActEntryOK, t.ID)})
		}
	}
	return nil
}

// advance leaves the current step for the next one (or the step a change
// of plan interrupted).
func (c *call) advance(t *Ticket) error {
	_, i := c.current(t)
	if t.Visit.ReturnTo != "" {
		if j := c.e.SOP().index(t.Visit.ReturnTo); j >= 0 {
			t.Visit.ReturnTo = ""
			return c.enter(t, j)
		}
	}
	return c.enter(t, i+1)
}

// stepCard is the technician's view of the current step: what to do, the
// reminder from the SOP, what is recorded so far, and the buttons that
// are valid now. "Need help" is on every card.
func (c *call) stepCard(t *Ticket, l Lang) Message {
	if t.State != StateOnSite {
		return c.closedCard(t, l)
	}
	st, _ := c.current(t)
	n, total := c.stepNumber(t)
	v := t.Visit
	var b strings.Builder
	b.WriteString(c.tl(l, "step.head", "ticket", t.ID, "n", n, "total", total, "title", st.Title[l]))
	if h := st.Hint[l]; h != "" {
		b.WriteString("\n💡 " + h)
	}
	var rows [][]Button
	btn := func(label string, op string, extra ...string) Button {
		return TicketButton(label, ActStep, t.ID, append([]string{st.ID, op}, extra...)...)
	}
	sop := c.e.SOP()
	switch st.Kind {
	case StepDoor:
		text, door := c.doorCard(t, l, btn)
		b.WriteString("\n" + text)
		rows = append(rows, door...)
	case StepEntry:
		b.WriteString("\n" + c.tl(l, "step.entry_status"))
		rows = append(rows, []Button{btn(c.tl(l, "btn.entry_verbal"), "verbal")})
	case StepSurvey:
		if v.Plan == "" {
			b.WriteString("\n" + c.tl(l, "step.plan_ask"))
		} else {
			b.WriteString("\n" + c.tl(l, "step.plan_is", "plan", v.Plan, "photos", len(v.Photos[st.ID])))
			rows = append(rows, []Button{btn(c.tl(l, "btn.next"), "next")})
		}
		if v.Quote != nil && v.Quote.Status == "refused" || t.Kind == OrderPublic {
			rows = append(rows, []Button{TicketButton(c.tl(l, "btn.end_visit"), ActEndVisit, t.ID)})
		}
	case StepQuote:
		b.WriteString("\n" + c.quoteText(t, l))
		q := v.Quote
		switch {
		case q == nil || q.Status == "draft":
			rows = append(rows, []Button{btn(c.tl(l, "btn.quote_add"), "add")})
			if q != nil && len(q.Lines) > 0 {
				rows = append(rows, []Button{btn(c.tl(l, "btn.quote_undo"), "undo"), btn(c.tl(l, "btn.quote_send"), "send")})
			} else {
				rows = append(rows, []Button{btn(c.tl(l, "btn.quote_free"), "send")})
			}
		case q.Status == "sent":
			b.WriteString("\n" + c.tl(l, "step.quote_waiting"))
		case q.Status == "refused":
			b.WriteString("\n" + c.tl(l, "step.quote_refused"))
			rows = append(rows, []Button{btn(c.tl(l, "btn.quote_revise"), "revise")}, []Button{TicketButton(c.tl(l, "btn.end_visit"), ActEndVisit, t.ID)})
		}
	case StepPhoto:
		got := len(v.Photos[st.ID])
		b.WriteString("\n" + c.tl(l, "step.photo_status", "n", got))
		if got >= st.MinPhotos() {
			rows = append(rows, []Button{btn(c.tl(l, "btn.next"), "next")})
		}
	case StepWork:
		rows = append(rows, []Button{btn(c.tl(l, "btn.repair_done"), "next")}, []Button{btn(c.tl(l, "btn.change_plan"), "change")})
	case StepTests:
		b.WriteString("\n" + c.tl(l, "step.tests_status", "n", v.Tests, "min", sop.MinTests))
		rows = append(rows, []Button{btn(c.tl(l, "btn.test_pass", "n", v.Tests, "min", sop.MinTests), "pass"), btn(c.tl(l, "btn.test_fail"), "fail")})
		if v.Tests >= sop.MinTests {
			rows = append(rows, []Button{btn(c.tl(l, "btn.next"), "next")})
		}
	case StepCare:
		text, care := c.careCard(t, l, btn)
		b.WriteString("\n" + text)
		rows = append(rows, care...)
	case StepSignoff:
		rows = append(rows, c.faultRows(t, l, &b)...) // the fault coding first (faultcode.go)
	}
	if line := c.photoLine(t, st, l); line != "" {
		b.WriteString("\n" + line)
	}
	rows = append(rows, c.partsRows(t, st, l, &b)...) // the parts the job holds, "use part" (parts_job.go)
	if v.Help {
		b.WriteString("\n" + c.tl(l, "step.help_pending"))
	}
	rows = append(rows, []Button{TicketButton(c.tl(l, "btn.help"), ActHelp, t.ID)})
	return Message{Text: b.String(), Buttons: rows, Priority: PrioNormal, Ticket: t.ID}
}

// closedCard is the step card once the visit has left the checklist
// (sign-off asked, no one home, ended with an apology): what happened and
// what comes next, and at the sign-off the paper work order's button. Its
// buttons are not the card's (deliverCard): they outlive it, guarded by
// their Transitions rows.
func (c *call) closedCard(t *Ticket, l Lang) Message {
	key := "step.closed.other"
	var rows [][]Button
	switch t.State {
	case StateDone:
		key = "step.closed.done"
		if t.Signer == SignoffLead {
			key = "step.closed.done_lead"
		}
		// A resident who signed the paper work order instead (stuck.go).
		rows = [][]Button{{TicketButton(c.tl(l, "btn.paper_signed"), ActPaperTech, t.ID)}}
	case StateWaiting, StateUnresolved:
		key = "step.closed." + string(t.State)
	}
	return Message{Text: c.tl(l, key, "ticket", t.ID, "time", c.clock(c.now), "state", c.stateLabel(t.State, l)),
		Buttons: rows, Priority: PrioNormal, Ticket: t.ID}
}

// StepCardKey names card n of a ticket's living step card in the outbox's
// card index.
func StepCardKey(ticketID string, n int) string { return "step:" + ticketID + ":" + strconv.Itoa(n) }

// live reports whether card n is the living step card.
func (sc *StepCard) live(n int) bool { return sc != nil && sc.N == n && !sc.Chat.IsZero() }

// putCard shows the assignee the step card (notice, a key in their
// language, heads it when set). The card is one message edited in place
// while the assignee's own taps move the visit; it is posted anew at the
// bottom of their chat, and the old one's buttons retired, when it brings
// news that needs their attention (a notice: a resident's consent, a
// lead's answer), when their own text or photo has pushed it up, when
// something else went to their chat first, or when none is live there.
func (c *call) putCard(t *Ticket, notice string, kv ...any) error {
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	m := c.stepCard(t, tech.Lang)
	if notice != "" {
		m.Text = c.tl(tech.Lang, notice, kv...) + "\n\n" + m.Text
	}
	c.deliverCard(t, tech, m, notice != "")
	return nil
}

// putView shows, in place of the step card's usual content, a passing
// view the technician asked for (the price list, a quantity), with a way
// back to the card.
func (c *call) putView(t *Ticket, body string, rows [][]Button) error {
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	l := tech.Lang
	st, _ := c.current(t)
	n, total := c.stepNumber(t)
	rows = append(rows, []Button{TicketButton(c.tl(l, "btn.back"), ActStep, t.ID, st.ID, "back")})
	m := Message{Text: c.tl(l, "step.head", "ticket", t.ID, "n", n, "total", total, "title", st.Title[l]) + "\n" + body,
		Buttons: rows, Priority: PrioNormal, Ticket: t.ID}
	c.deliverCard(t, tech, m, false)
	return nil
}

// onChecklist reports whether the ticket is at a checklist step, where
// the technician has a step card.
func onChecklist(t *Ticket) bool { return t.State == StateOnSite && t.Step != "" }

// deliverCard queues m, a rendering of t's step card for tech, as the
// edit of the living card or as a new card (putCard says when).
func (c *call) deliverCard(t *Ticket, tech *Person, m Message, news bool) {
	own := c.ev.Kind == EvCallback && c.ev.From.ID == tech.ID
	if t.Card == nil {
		t.Card = &StepCard{}
	}
	m.To = tech.Chat
	// The checklist's buttons name their card; once the visit has left
	// the checklist the card is not live, and its buttons (closedCard)
	// stand on their own.
	onSite := t.State == StateOnSite
	if !news && own && t.Card.Chat == tech.Chat && !c.queuedTo(tech.Chat) {
		m.Kind, m.CardKey = KindEdit, StepCardKey(t.ID, t.Card.N)
		if onSite {
			m.Buttons = onCard(t.Card.N, m.Buttons)
		}
		c.send(m)
	} else {
		old := *t.Card
		t.Card.N++
		t.Card.Chat = tech.Chat
		m.Kind, m.CardKey = KindSend, StepCardKey(t.ID, t.Card.N)
		if onSite {
			m.Buttons = onCard(t.Card.N, m.Buttons)
		}
		c.send(m) // first: the new card is what the technician waits for
		c.retire(t.ID, old, tech.Lang)
	}
	if !onSite && len(m.Buttons) == 0 {
		// The visit left the checklist and the card has nothing left to
		// tap: the next card is a new one. A closed card with a button
		// (the paper signature at the sign-off) stays the living one
		// until the visit moves on (retireCard, or the next card).
		t.Card.Chat = Address{}
	}
	c.keep(t)
}

// retireCard takes the buttons off t's living step card, if any: the job
// left its assignee (reassigned, returned to the group, ended by a lead),
// or the sign-off the closed card waited for came.
func (c *call) retireCard(t *Ticket, l Lang) {
	if t.Card == nil || t.Card.Chat.IsZero() {
		return
	}
	c.retire(t.ID, *t.Card, l)
	t.Card.Chat = Address{}
	c.keep(t)
}

// retire queues the retirement of card sc (nothing when it is not live).
func (c *call) retire(ticketID string, sc StepCard, l Lang) {
	if sc.N == 0 || sc.Chat.IsZero() {
		return
	}
	text := c.tl(l, "step.card_retired")
	c.send(Message{To: sc.Chat, Kind: KindEdit, CardKey: StepCardKey(ticketID, sc.N), Retire: true,
		Text: text, Status: text, Priority: PrioEdit, Ticket: ticketID})
}

// queuedTo reports whether the event already queued a message to chat.
func (c *call) queuedTo(chat Address) bool {
	for _, m := range c.out {
		if m.To == chat && m.Kind != KindMenu {
			return true
		}
	}
	return false
}

// keep saves t with the event's messages (flush), for a change made after
// the handler stored it.
func (c *call) keep(t *Ticket) {
	for _, d := range c.dirty {
		if d == t {
			return
		}
	}
	c.dirty = append(c.dirty, t)
}

// onCard puts buttons on step card n: "cd|<n>|<payload>", so a tap on an
// older card is recognised. A button whose payload would grow past
// MaxPayload keeps its own (its step still guards it).
func onCard(n int, rows [][]Button) [][]Button {
	out := make([][]Button, 0, len(rows))
	for _, row := range rows {
		r := make([]Button, 0, len(row))
		for _, b := range row {
			if p, ok := DecodePayload(b.Data); ok {
				if data := EncodePayload(vbCard, append([]string{strconv.Itoa(n), p.Verb}, p.Args...)...); len(data) <= MaxPayload {
					b.Data = data
				}
			}
			r = append(r, b)
		}
		out = append(out, r)
	}
	return out
}

// stepOp handles "st|ticket|step|op[|arg...]" from the assignee.
func (c *call) stepOp(t *Ticket, args []string) error {
	if len(args) < 2 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	st, _ := c.current(t)
	if args[0] != t.Step || st.ID == "" {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	op, extra := args[1], args[2:]
	v := t.Visit
	sop := c.e.SOP()
	switch st.Kind {
	case StepDoor:
		return c.doorOp(t, op, extra)
	case StepEntry:
		if op != "verbal" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		v.Entry = "verbal"
		if err := c.record(t, "entry", "verbal"); err != nil {
			return err
		}
		return c.advanceAndShow(t)
	case StepSurvey:
		if op != "next" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if v.Plan == "" {
			return Errorf(CodeInvalid, "err.plan_needed")
		}
		if err := c.needPhotos(t, st); err != nil {
			return err
		}
		return c.advanceAndShow(t)
	case StepQuote:
		return c.quoteOp(t, op, extra)
	case StepPhoto:
		if op != "next" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if err := c.needPhotos(t, st); err != nil {
			return err
		}
		return c.advanceAndShow(t)
	case StepWork:
		switch op {
		case "next":
			if err := c.needPhotos(t, st); err != nil {
				return err
			}
			if err := c.record(t, "repaired", ""); err != nil {
				return err
			}
			return c.advanceAndShow(t)
		case "change":
			// Any change of plan or price needs the resident's consent
			// again (SOP 4.1.4); work resumes only after it.
			v.ReturnTo = st.ID
			v.QuoteOK = false
			if err := c.record(t, "change", ""); err != nil {
				return err
			}
			target := StepQuote
			if t.Kind == OrderPublic {
				target = StepSurvey
			}
			i := sop.indexKind(target)
			if i < 0 {
				i = sop.indexKind(StepSurvey)
			}
			if v.Quote != nil {
				v.Quote.Status = "draft"
			}
			if err := c.enter(t, i); err != nil {
				return err
			}
			return c.show(t)
		}
		return Errorf(CodeInvalid, "err.bad_button")
	case StepTests:
		switch op {
		case "pass":
			v.Tests++
			if err := c.record(t, "test_pass", strconv.Itoa(v.Tests)); err != nil {
				return err
			}
			return c.show(t)
		case "fail":
			v.Failed++
			if err := c.record(t, "test_fail", strconv.Itoa(v.Failed)); err != nil {
				return err
			}
			c.redoFrom(t, sop.indexKind(StepWork))
			if err := c.enter(t, sop.indexKind(StepWork)); err != nil {
				return err
			}
			return c.show(t)
		case "next":
			if v.Tests < sop.MinTests {
				return Errorf(CodeInvalid, "err.tests_needed", "n", v.Tests, "min", sop.MinTests)
			}
			if err := c.needPhotos(t, st); err != nil {
				return err
			}
			return c.advanceAndShow(t)
		}
		return Errorf(CodeInvalid, "err.bad_button")
	case StepCare:
		return c.careOp(t, st, op, extra)
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// record saves the ticket and appends an event for the current step.
func (c *call) record(t *Ticket, action, note string, photos ...Photo) error {
	t.Updated = c.now
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	return c.event(t, action, t.State, t.State, strings.TrimSpace(t.Step+" "+note), photos...)
}

func (c *call) advanceAndShow(t *Ticket) error {
	if err := c.advance(t); err != nil {
		return err
	}
	return c.show(t)
}

// show saves the ticket, answers the tap, shows the step card and mirrors
// the step on the group card.
func (c *call) show(t *Ticket) error { return c.showNotice(t, "") }

// showNotice is show with a notice for the technician heading the card
// (a catalog key and its values), which then comes as a new message.
func (c *call) showNotice(t *Ticket, notice string, kv ...any) error {
	t.Updated = c.now
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if c.ev.Kind == EvCallback && c.toast == "" {
		c.toast = c.t("ok")
	}
	c.groupCard(t, false)
	return c.putCard(t, notice, kv...)
}

// cmdSkip lets a lead skip a required photo step with a recorded reason.
func (c *call) cmdSkip(arg string) error {
	id, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
	reason = cleanText(reason, 200)
	if id == "" || reason == "" {
		return Errorf(CodeInvalid, "skip.usage")
	}
	t, err := c.mustTicket(strings.ToUpper(id))
	if err != nil {
		return err
	}
	st, _ := c.current(t)
	if t.State != StateOnSite || st.MinPhotos() == 0 {
		return Errorf(CodeConflict, "skip.not_photo", "ticket", t.ID)
	}
	if t.Visit.Skipped == nil {
		t.Visit.Skipped = map[string]string{}
	}
	t.Visit.Skipped[st.ID] = reason
	if err := c.record(t, "skip", reason); err != nil {
		return err
	}
	c.reply(c.t("skip.done", "ticket", t.ID, "step", st.Title[c.lang]))
	if err := c.advance(t); err != nil {
		return err
	}
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil && tech.ID != c.me.ID {
		return c.showNotice(t, "skip.told", "ticket", t.ID, "step", st.Title[tech.Lang], "reason", reason)
	}
	return c.show(t)
}

// activeVisit finds the on-site ticket a technician's free text or photo belongs to.
func (c *call) activeVisit() (*Ticket, error) {
	jobs, err := c.tx.TicketsByAssignee(c.me.ID)
	if err != nil {
		return nil, err
	}
	var on []*Ticket
	for _, t := range jobs {
		if t.State == StateOnSite && t.Visit != nil {
			on = append(on, t)
		}
	}
	if len(on) == 0 {
		return nil, nil
	}
	sort.Slice(on, func(i, j int) bool { return on[i].Updated.After(on[j].Updated) })
	return on[0], nil
}

// visitInput files a technician's text or photo under the current step:
// the plan at the survey, evidence at a photo step, a note elsewhere.
func (c *call) visitInput(t *Ticket) error {
	st, _ := c.current(t)
	v := t.Visit
	switch c.ev.Kind {
	case EvPhoto:
		if c.ev.TooLarge || (c.ev.Photo != nil && c.ev.Photo.Size > c.e.o.MaxPhotoBytes) {
			return Errorf(CodeInvalid, "err.photo_too_large", "max", c.e.o.MaxPhotoBytes>>20)
		}
		if c.ev.NotImage {
			return Errorf(CodeInvalid, "err.not_image")
		}
		if len(v.Photos[st.ID]) >= 10 {
			return Errorf(CodeInvalid, "err.step_photo_limit", "max", 10)
		}
		if v.Photos == nil {
			v.Photos = map[string][]Photo{}
		}
		v.Photos[st.ID] = append(v.Photos[st.ID], *c.ev.Photo)
		if err := c.record(t, "photo", cleanText(c.ev.Text, 200), *c.ev.Photo); err != nil {
			return err
		}
		if st.Kind == StepSurvey && v.Plan == "" && strings.TrimSpace(c.ev.Text) != "" {
			v.Plan = cleanText(c.ev.Text, c.e.o.MaxDescription)
		}
		return c.show(t)
	case EvText:
		text := cleanText(strings.TrimSpace(c.ev.Text), 0)
		if text == "" {
			return Errorf(CodeInvalid, "err.empty")
		}
		if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
			return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
		}
		switch st.Kind {
		case StepSurvey:
			v.Plan = text
			if err := c.record(t, "plan", text); err != nil {
				return err
			}
		case StepCare:
			v.Care = text
			if err := c.record(t, "care_note", text); err != nil {
				return err
			}
		case StepPhoto:
			// Kept as a note, but this step wants a photo: say so.
			if err := c.record(t, "note", text); err != nil {
				return err
			}
			return c.showNotice(t, "step.photo_needed")
		default:
			if err := c.record(t, "note", text); err != nil {
				return err
			}
			return c.showNotice(t, "step.note_saved", "note", summary(text, 60))
		}
		return c.show(t)
	}
	return Errorf(CodeInvalid, "err.unsupported_now", "takes", c.stepTakes(st))
}

// stepTakes says in plain words what a checklist step can take.
func (c *call) stepTakes(st Step) string {
	switch st.Kind {
	case StepSurvey:
		return c.t("takes.survey")
	case StepPhoto:
		return c.t("takes.photo")
	case StepCare:
		return c.t("takes.care")
	}
	return c.t("takes.buttons")
}
