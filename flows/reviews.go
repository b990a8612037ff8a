package flows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Reviews of the SOP (复审): yearly, or triggered by complaints, SLA
// breaches, safety incidents and repeat faults; participants suggest or
// decline, the owner writes the report (reasons, measures, actions).

// triggerReview links a triggering ticket to the open triggered review of
// the window, or opens one: three complaints in an hour make one review.
func (c *call) triggerReview(trigger, ticketID string) error {
	reviews, err := c.tx.Reviews()
	if err != nil {
		return err
	}
	for _, r := range reviews {
		if r.Status == "open" && r.Trigger != "yearly" && c.now.Sub(r.Opened) < c.e.o.Governance.TriggerWindow && c.sameReviewArea(r, ticketID) {
			if ticketID != "" && !contains(r.Tickets, ticketID) {
				r.Tickets = append(r.Tickets, ticketID)
				if err := c.tx.PutReview(r); err != nil {
					return err
				}
				return c.toReviewLeads(r, "review.linked", "id", r.ID, "ticket", ticketID, "trigger", c.tl(c.e.o.DefaultLang, "review.trigger_"+trigger))
			}
			return nil
		}
	}
	_, err = c.openReview(trigger, "", ticketID)
	return err
}

// openReview opens a review and invites every participant; note says
// what happened, for a review opened by hand.
func (c *call) openReview(trigger, note string, tickets ...string) (*Review, error) {
	g := c.e.o.Governance
	year := c.now.In(c.e.o.Location).Year()
	seq, err := c.tx.NextSeq(fmt.Sprintf("review:%d", year))
	if err != nil {
		return nil, err
	}
	r := &Review{ID: fmt.Sprintf("RV-%d-%03d", year, seq), Trigger: trigger, Opened: c.now, Deadline: c.now.Add(g.ReviewDeadline),
		Status: "open", SOPVersion: int(c.e.sopNum.Load()), Answers: map[string]string{}, Note: note}
	for _, t := range tickets {
		if t != "" {
			r.Tickets = append(r.Tickets, t)
		}
	}
	var participants []*Person
	for _, role := range g.ReviewRoles {
		ps, err := c.tx.PeopleByRole(role)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Active() && c.reviewConcerns(r, p) {
				participants = append(participants, p)
				r.Participants = append(r.Participants, p.ID)
			}
		}
	}
	leads, err := c.reviewLeads(r) // a triggered review's are its tickets' area leads (areas_daily.go)
	if err != nil {
		return nil, err
	}
	if len(leads) > 0 {
		r.Owner = leads[0].ID
	}
	pending, err := c.tx.PendingSuggestions()
	if err != nil {
		return nil, err
	}
	r.Suggestions = append(r.Suggestions, pending...)
	if err := c.tx.ClearPendingSuggestions(); err != nil {
		return nil, err
	}
	if err := c.tx.PutReview(r); err != nil {
		return nil, err
	}
	for _, p := range participants {
		c.send(c.reviewInvite(r, p))
	}
	for _, p := range leads {
		if !contains(r.Participants, p.ID) {
			c.send(c.reviewInvite(r, p))
		}
	}
	if err := c.tx.PutTimer(Timer{Key: tmReviewRemind + ":" + r.ID, Due: c.now.Add(24 * time.Hour), Kind: tmReviewRemind, Review: r.ID}); err != nil {
		return nil, err
	}
	return r, c.tx.PutTimer(Timer{Key: tmReviewDue + ":" + r.ID, Due: r.Deadline, Kind: tmReviewDue, Review: r.ID})
}

func (c *call) reviewInvite(r *Review, p *Person) Message {
	l := p.Lang
	text := c.tl(l, "review.opened", "id", r.ID, "trigger", c.tl(l, "review.trigger_"+r.Trigger), "deadline", c.localTime(r.Deadline), "v", r.SOPVersion)
	if r.Note != "" {
		text += "\n" + c.tl(l, "review.note", "note", r.Note)
	}
	if len(r.Tickets) > 0 {
		text += "\n" + c.tl(l, "review.tickets", "list", strings.Join(r.Tickets, ", "))
	}
	return Message{To: p.Chat, Text: text, Priority: PrioNormal, Buttons: [][]Button{{
		{Text: c.tl(l, "btn.review_suggest"), Data: EncodePayload(vbReviewSuggest, r.ID)},
		{Text: c.tl(l, "btn.review_decline"), Data: EncodePayload(vbReviewDecline, r.ID)},
	}}}
}

func (c *call) mustReview(id string) (*Review, error) {
	r, err := c.tx.Review(strings.ToUpper(strings.TrimSpace(id)))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "review.not_found", "id", id)
	}
	return r, err
}

// reviewAnswer handles the suggest / decline buttons.
func (c *call) reviewAnswer(args []string, decline bool) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, err := c.mustReview(args[0])
	if err != nil {
		return err
	}
	if r.Status != "open" {
		return Errorf(CodeConflict, "review.closed_already", "id", r.ID)
	}
	if !contains(r.Participants, c.me.ID) && !c.me.Role.IsLead() {
		return Errorf(CodeForbidden, "review.not_participant", "id", r.ID)
	}
	if decline {
		if r.Answers == nil {
			r.Answers = map[string]string{}
		}
		r.Answers[c.me.ID] = "declined"
		c.toast = c.t("ok")
		c.reply(c.t("review.declined", "id", r.ID))
		return c.tx.PutReview(r)
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgSuggest, Step: stepText, Started: c.now, Review: r.ID}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("review.suggest_ask", "id", r.ID))
	return c.tx.PutDialogue(d)
}

// cmdSuggest files a frontline opinion against the current SOP.
func (c *call) cmdSuggest(arg string) error {
	if text := cleanText(strings.TrimSpace(arg), c.e.o.MaxDescription); text != "" {
		return c.saveSuggestion("", Suggestion{By: c.me.ID, At: c.now, Text: text})
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgSuggest, Step: stepText, Started: c.now}
	c.bump(d)
	c.reply(c.t("suggest.ask"))
	return c.tx.PutDialogue(d)
}

// suggestInput takes the text (and photo) of a suggestion.
func (c *call) suggestInput(d *Dialogue) error {
	s := Suggestion{By: c.me.ID, At: c.now}
	switch c.ev.Kind {
	case EvText:
		s.Text = cleanText(strings.TrimSpace(c.ev.Text), 0)
		if s.Text == "" {
			return Errorf(CodeInvalid, "err.empty")
		}
		if n := utf8.RuneCountInString(s.Text); n > c.e.o.MaxDescription {
			return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
		}
	case EvPhoto:
		if c.ev.NotImage {
			return Errorf(CodeInvalid, "err.not_image")
		}
		s.Text = cleanText(c.ev.Text, c.e.o.MaxDescription)
		s.Photos = []Photo{*c.ev.Photo}
	default:
		return Errorf(CodeInvalid, "err.text_expected")
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.saveSuggestion(d.Review, s)
}

func (c *call) saveSuggestion(reviewID string, s Suggestion) error {
	if reviewID == "" {
		if err := c.tx.AddPendingSuggestion(s); err != nil {
			return err
		}
		c.reply(c.t("suggest.saved_pending"))
		return nil
	}
	r, err := c.mustReview(reviewID)
	if err != nil {
		return err
	}
	if r.Status != "open" {
		return Errorf(CodeConflict, "review.closed_already", "id", r.ID)
	}
	r.Suggestions = append(r.Suggestions, s)
	if r.Answers == nil {
		r.Answers = map[string]string{}
	}
	r.Answers[c.me.ID] = "suggested"
	if err := c.tx.PutReview(r); err != nil {
		return err
	}
	c.reply(c.t("review.suggest_saved", "id", r.ID))
	return nil
}

// reviewRemind chases participants who have neither suggested nor declined.
func (c *call) reviewRemind(id string) error {
	r, err := c.tx.Review(id)
	if err != nil || r.Status != "open" {
		return nil
	}
	waiting := 0
	for _, pid := range r.Participants {
		if r.Answers[pid] != "" {
			continue
		}
		p, err := c.person(pid)
		if err != nil || p == nil {
			continue
		}
		waiting++
		m := c.reviewInvite(r, p)
		m.Text = c.tl(p.Lang, "review.reminder") + "\n" + m.Text
		m.Priority = PrioReminder
		c.send(m)
	}
	if waiting == 0 {
		return nil
	}
	return c.tx.PutTimer(Timer{Key: tmReviewRemind + ":" + r.ID, Due: c.now.Add(24 * time.Hour), Kind: tmReviewRemind, Review: r.ID})
}

// reviewDue escalates a review not closed by its deadline.
func (c *call) reviewDue(id string) error {
	r, err := c.tx.Review(id)
	if err != nil || r.Status != "open" {
		return nil
	}
	r.Escalated = true
	if err := c.tx.PutReview(r); err != nil {
		return err
	}
	admins, err := c.tx.PeopleByRole(RoleAdmin)
	if err != nil {
		return err
	}
	owner := r.Owner
	if p, _ := c.person(r.Owner); p != nil {
		owner = p.Name
	}
	for _, p := range admins {
		c.tell(p, "review.overdue", []any{"id", r.ID, "owner", owner, "deadline", c.localTime(r.Deadline)})
	}
	return nil
}

// cmdReview lists reviews, shows one, closes one with a report, or exports it.
func (c *call) cmdReview(arg string) error {
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		reviews, err := c.tx.Reviews()
		if err != nil {
			return err
		}
		if len(reviews) == 0 {
			c.reply(c.t("review.none"))
			return nil
		}
		var b strings.Builder
		b.WriteString(c.t("review.list_head"))
		for _, r := range reviews {
			b.WriteString("\n" + c.t("review.list_line", "id", r.ID, "trigger", c.t("review.trigger_"+r.Trigger), "status", c.t("review.status_"+r.Status), "date", c.localTime(r.Opened)))
		}
		c.reply(b.String())
		return nil
	}
	r, err := c.mustReview(fields[0])
	if err != nil {
		return err
	}
	if len(fields) > 1 {
		switch fields[1] {
		case "close":
			if r.Status != "open" {
				return Errorf(CodeConflict, "review.closed_already", "id", r.ID)
			}
			if r.Owner != c.me.ID && c.me.Role != RoleAdmin {
				return Errorf(CodeForbidden, "review.owner_only", "id", r.ID)
			}
			d := &Dialogue{PersonID: c.me.ID, Kind: dlgReviewClose, Step: stepReasons, Started: c.now, Review: r.ID}
			c.bump(d)
			c.reply(c.t("review.ask_reasons", "id", r.ID))
			return c.tx.PutDialogue(d)
		case "export":
			c.send(Message{To: c.ev.From.Chat, Kind: KindFile, FileName: r.ID + ".md", Text: c.reviewMarkdown(r, c.lang), Priority: PrioNormal})
			return nil
		}
		return Errorf(CodeInvalid, "review.usage")
	}
	c.reply(c.reviewText(r, c.lang))
	return nil
}

// reviewText renders a review and its report.
func (c *call) reviewText(r *Review, l Lang) string {
	var b strings.Builder
	answered := 0
	for _, a := range r.Answers {
		if a != "" {
			answered++
		}
	}
	b.WriteString(c.tl(l, "review.show", "id", r.ID, "trigger", c.tl(l, "review.trigger_"+r.Trigger), "status", c.tl(l, "review.status_"+r.Status),
		"opened", c.localTime(r.Opened), "deadline", c.localTime(r.Deadline), "answered", answered, "participants", len(r.Participants), "v", r.SOPVersion))
	if r.Note != "" {
		b.WriteString("\n" + c.tl(l, "review.note", "note", r.Note))
	}
	if len(r.Tickets) > 0 {
		b.WriteString("\n" + c.tl(l, "review.tickets", "list", strings.Join(r.Tickets, ", ")))
	}
	for _, s := range r.Suggestions {
		name := s.By
		if p, _ := c.person(s.By); p != nil {
			name = p.Name
		}
		b.WriteString("\n" + c.tl(l, "review.suggestion", "name", name, "text", s.Text, "photos", len(s.Photos)))
	}
	if rep := r.Report; rep != nil {
		b.WriteString("\n" + c.tl(l, "review.report", "reasons", rep.Reasons, "measures", rep.Measures))
		for _, a := range rep.Actions {
			b.WriteString("\n" + c.actionLine(r, a, l))
		}
	}
	if r.Status != "open" {
		if r.NewVersion == 0 {
			b.WriteString("\n" + c.tl(l, "review.sop_same"))
		} else {
			b.WriteString("\n" + c.tl(l, "review.sop_new", "n", r.NewVersion, "changes", len(r.Changes)))
			for _, ch := range r.Changes {
				b.WriteString("\n• " + c.changeText(ch, l))
			}
		}
	}
	return b.String()
}

// reviewMarkdown is the exported report (a real file sent in chat).
func (c *call) reviewMarkdown(r *Review, l Lang) string {
	return "# " + r.ID + "\n\n" + strings.ReplaceAll(c.reviewText(r, l), "\n", "\n\n") + "\n"
}

// reviewCloseInput walks the owner through the report: reasons, measures,
// then one improvement action per message ("action; owner; YYYY-MM-DD").
func (c *call) reviewCloseInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	r, err := c.mustReview(d.Review)
	if err != nil {
		return err
	}
	if r.Status != "open" {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "review.closed_already", "id", r.ID)
	}
	if r.Report == nil {
		r.Report = &ReviewReport{}
	}
	switch d.Step {
	case stepReasons:
		r.Report.Reasons = text
		d.Step = stepMeasures
		c.bump(d)
		c.reply(c.t("review.ask_measures"))
	case stepMeasures:
		r.Report.Measures = text
		d.Step = stepActions
		c.bump(d)
		c.reply(c.t("review.ask_actions"), []Button{DialogueButton(c.t("btn.review_finish"), d.Seq, "finish")})
	case stepActions:
		a, err := c.parseAction(text, len(r.Report.Actions)+1)
		if err != nil {
			return err
		}
		r.Report.Actions = append(r.Report.Actions, a)
		c.reply(c.t("review.action_added", "n", a.N), []Button{DialogueButton(c.t("btn.review_finish"), d.Seq, "finish")})
	}
	if err := c.tx.PutReview(r); err != nil {
		return err
	}
	return c.tx.PutDialogue(d)
}

// reviewCloseChoice is the "finish" button of the report's actions step,
// then the answer whether the measures change the procedure.
func (c *call) reviewCloseChoice(d *Dialogue, v string) error {
	switch {
	case d.Step == stepActions && v == "finish":
		return c.askReviewVersion(d)
	case d.Step == stepVersion:
		return c.reviewVersionChoice(d, v)
	case d.Step != stepActions:
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// finishReview stores the report with the SOP version its measures made
// (0: none) and its change set, sends it and starts tracking the actions.
func (c *call) finishReview(d *Dialogue, version int, changes []SOPChange) error {
	r, err := c.mustReview(d.Review)
	if err != nil {
		return err
	}
	if r.Report == nil || r.Report.Reasons == "" || r.Report.Measures == "" || len(r.Report.Actions) == 0 {
		return Errorf(CodeInvalid, "review.report_incomplete")
	}
	now := c.now
	r.Status, r.Closed = "closed", &now
	r.NewVersion, r.Changes = version, changes
	if err := c.tx.PutReview(r); err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	for _, tm := range []string{tmReviewRemind, tmReviewDue} {
		if err := c.tx.DeleteTimer(tm + ":" + r.ID); err != nil {
			return err
		}
	}
	for _, a := range r.Report.Actions {
		key := r.ID + ":" + strconv.Itoa(a.N)
		for _, tm := range []Timer{
			{Key: tmActionPre + ":" + key, Due: a.Due.Add(-24 * time.Hour), Kind: tmActionPre, Review: r.ID, Action: a.N},
			{Key: tmActionDue + ":" + key, Due: a.Due, Kind: tmActionDue, Review: r.ID, Action: a.N},
			{Key: tmActionEsc + ":" + key, Due: a.Due.Add(72 * time.Hour), Kind: tmActionEsc, Review: r.ID, Action: a.N},
		} {
			if err := c.tx.PutTimer(tm); err != nil {
				return err
			}
		}
	}
	c.toast = c.t("ok")
	seen := map[string]bool{}
	ids := append(append([]string{}, r.Participants...), r.Owner)
	// A triggered review's report goes to its area's leads and the
	// admins; a company-wide one's to every lead (areas_daily.go).
	leads, err := c.reviewLeads(r)
	if err != nil {
		return err
	}
	for _, p := range leads {
		ids = append(ids, p.ID)
	}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if p, _ := c.person(id); p != nil {
			c.send(Message{To: p.Chat, Text: c.tl(p.Lang, "review.closed") + "\n" + c.reviewText(r, p.Lang), Priority: PrioNormal})
		}
	}
	return nil
}
