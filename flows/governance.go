package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The SOP's own life cycle (the source's framework, method and review
// clauses): versions with computed change summaries, acknowledgements with
// a short quiz, yearly and triggered reviews with suggestions, a report and
// tracked improvement actions, frontline suggestions any time, and a
// monthly audit sample of finished work.

// GovernanceOptions configure the SOP's governance.
type GovernanceOptions struct {
	// ReviewRoles take part in every review (default technician, lead, dispatcher).
	ReviewRoles []Role
	// ReviewDeadline is how long a review stays open (default 14 days).
	ReviewDeadline time.Duration
	// TriggerWindow groups triggers into one review (default 7 days).
	TriggerWindow time.Duration
	// YearlyMonth and YearlyDay open the yearly review (default 1-15).
	YearlyMonth time.Month
	YearlyDay   int
	// SafetyTypes are emergency keys that count as safety incidents.
	SafetyTypes []string
	// AuditCount is the monthly audit sample size (0 disables the audit).
	AuditCount int
	// Quiz asks up to three questions before an acknowledgement counts.
	Quiz bool
	// LoadSOP re-reads the definition for /sop reload.
	LoadSOP func() (*SOP, error)
}

func (g *GovernanceOptions) defaults() {
	if len(g.ReviewRoles) == 0 {
		g.ReviewRoles = []Role{RoleTechnician, RoleLead, RoleDispatcher}
	}
	if g.ReviewDeadline <= 0 {
		g.ReviewDeadline = 14 * 24 * time.Hour
	}
	if g.TriggerWindow <= 0 {
		g.TriggerWindow = 7 * 24 * time.Hour
	}
	if g.YearlyMonth == 0 {
		g.YearlyMonth = time.January
	}
	if g.YearlyDay == 0 {
		g.YearlyDay = 15
	}
}

// sopHash fingerprints a definition.
func sopHash(s *SOP) string {
	raw, _ := json.Marshal(s)
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:8])
}

// SOPLabel is how tickets and messages name the procedure in force.
func (e *Engine) SOPLabel() string {
	n := e.sopNum.Load()
	if n == 0 {
		return e.SOP().Version
	}
	return fmt.Sprintf("v%d (%s)", n, e.SOP().Version)
}

// InstallSOP makes def the procedure in force. A definition that differs
// from the latest stored one becomes a new version with a computed change
// summary, and everyone who executes the SOP is asked to acknowledge it.
func (e *Engine) InstallSOP(ctx context.Context, def *SOP, author string) (int, bool, error) {
	var n int
	var changed bool
	err := e.o.Store.Update(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang, ev: Event{Kind: EvNone, From: Sender{ID: author}}}
		var err error
		n, changed, err = c.installSOP(def, author)
		if err != nil {
			return err
		}
		return c.flush()
	})
	return n, changed, err
}

func (c *call) installSOP(def *SOP, author string) (int, bool, error) {
	if err := def.Validate(); err != nil {
		return 0, false, err
	}
	versions, err := c.tx.SOPVersions()
	if err != nil {
		return 0, false, err
	}
	hash := sopHash(def)
	if len(versions) > 0 && versions[len(versions)-1].Hash == hash {
		last := versions[len(versions)-1]
		c.e.sop.Store(def)
		c.e.sopNum.Store(int64(last.Number))
		return last.Number, false, nil
	}
	v := SOPVersion{Number: len(versions) + 1, Label: def.Version, Hash: hash, Effective: def.Effective, Author: author, Created: c.now, SOP: def}
	if len(versions) > 0 {
		v.Changes = diffSOP(versions[len(versions)-1].SOP, def)
	}
	if err := c.tx.PutSOPVersion(v); err != nil {
		return 0, false, err
	}
	c.e.sop.Store(def)
	c.e.sopNum.Store(int64(v.Number))
	if v.Number > 1 {
		// Everyone who executes the SOP reads the change and confirms it.
		staff, err := c.staff()
		if err != nil {
			return 0, false, err
		}
		for _, p := range staff {
			c.send(c.versionNotice(v, p.Lang, p.Chat))
		}
		if err := c.tx.PutTimer(Timer{Key: tmAckRemind + ":" + strconv.Itoa(v.Number), Due: c.now.Add(24 * time.Hour), Kind: tmAckRemind, Rung: v.Number}); err != nil {
			return 0, false, err
		}
	}
	return v.Number, true, nil
}

// staff lists every registered person who executes or supervises the SOP.
func (c *call) staff() ([]*Person, error) {
	var out []*Person
	for _, r := range []Role{RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin} {
		ps, err := c.tx.PeopleByRole(r)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Registered {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// versionNotice announces a version with its changes and the ack button.
func (c *call) versionNotice(v SOPVersion, l Lang, to Address) Message {
	var b strings.Builder
	b.WriteString(c.tl(l, "sop.new_version", "n", v.Number, "label", v.Label, "effective", v.Effective))
	for _, ch := range v.Changes {
		b.WriteString("\n• " + c.changeText(ch, l))
	}
	return Message{To: to, Text: b.String(), Priority: PrioNormal,
		Buttons: [][]Button{{{Text: c.tl(l, "btn.sop_ack"), Data: EncodePayload(vbAck, strconv.Itoa(v.Number))}}}}
}

// changeText renders one change in a language.
func (c *call) changeText(ch SOPChange, l Lang) string {
	return c.tl(l, "sopchg."+ch.Kind, "what", ch.What, "old", ch.Old, "new", ch.New)
}

// diffSOP computes what changed between two definitions: steps, rules and prices.
func diffSOP(a, b *SOP) []SOPChange {
	var out []SOPChange
	rule := func(name string, x, y int) {
		if x != y {
			out = append(out, SOPChange{Kind: "rule_changed", What: name, Old: strconv.Itoa(x), New: strconv.Itoa(y)})
		}
	}
	rule("max_rings", a.MaxRings, b.MaxRings)
	rule("max_knocks", a.MaxKnocks, b.MaxKnocks)
	rule("min_tests", a.MinTests, b.MinTests)
	steps := map[string]Step{}
	for _, s := range a.Steps {
		steps[s.ID] = s
	}
	seen := map[string]bool{}
	for i, s := range b.Steps {
		seen[s.ID] = true
		old, ok := steps[s.ID]
		switch {
		case !ok:
			out = append(out, SOPChange{Kind: "step_added", What: s.ID, New: s.Title[LangZH]})
		case old.Kind != s.Kind || old.HouseholdOnly != s.HouseholdOnly || fmt.Sprint(old.Title) != fmt.Sprint(s.Title) || fmt.Sprint(old.Hint) != fmt.Sprint(s.Hint) || a.index(s.ID) != i:
			out = append(out, SOPChange{Kind: "step_changed", What: s.ID, New: s.Title[LangZH]})
		}
	}
	for _, s := range a.Steps {
		if !seen[s.ID] {
			out = append(out, SOPChange{Kind: "step_removed", What: s.ID, Old: s.Title[LangZH]})
		}
	}
	prices := map[string]PriceItem{}
	for _, p := range a.Prices {
		prices[p.Code] = p
	}
	seen = map[string]bool{}
	for _, p := range b.Prices {
		seen[p.Code] = true
		old, ok := prices[p.Code]
		switch {
		case !ok:
			out = append(out, SOPChange{Kind: "price_added", What: p.Code + " " + p.Name[LangZH], New: Money(p.Cents)})
		case old.Cents != p.Cents:
			out = append(out, SOPChange{Kind: "price_changed", What: p.Code + " " + p.Name[LangZH], Old: Money(old.Cents), New: Money(p.Cents)})
		case fmt.Sprint(old.Name) != fmt.Sprint(p.Name) || fmt.Sprint(old.Unit) != fmt.Sprint(p.Unit):
			out = append(out, SOPChange{Kind: "price_renamed", What: p.Code + " " + p.Name[LangZH]})
		}
	}
	for _, p := range a.Prices {
		if !seen[p.Code] {
			out = append(out, SOPChange{Kind: "price_removed", What: p.Code + " " + p.Name[LangZH], Old: Money(p.Cents)})
		}
	}
	return out
}

// currentVersion returns the latest stored version.
func (c *call) currentVersion() (*SOPVersion, error) {
	vs, err := c.tx.SOPVersions()
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	v := vs[len(vs)-1]
	return &v, nil
}

// quiz is up to three questions from the definition: the door rule, the
// minimum tests, and a price that changed in this version.
type quizQ struct {
	key     string
	kv      []any
	options []int
	right   int
}

func (c *call) quiz(v *SOPVersion) []quizQ {
	if !c.e.o.Governance.Quiz || v == nil || v.SOP == nil {
		return nil
	}
	s := v.SOP
	opts := func(right int) []int {
		out := []int{right + 2, right}
		if right > 1 {
			out = append(out, right-1)
		}
		sort.Ints(out)
		return out
	}
	qs := []quizQ{
		{key: "quiz.rings", options: opts(s.MaxRings), right: s.MaxRings},
		{key: "quiz.tests", options: opts(s.MinTests), right: s.MinTests},
	}
	for _, ch := range v.Changes {
		if ch.Kind != "price_changed" {
			continue
		}
		code := strings.Fields(ch.What)[0]
		if p, ok := s.price(code); ok {
			yuan := int(p.Cents / 100)
			qs = append(qs, quizQ{key: "quiz.price", kv: []any{"name", ch.What}, options: opts(yuan), right: yuan})
		}
		break
	}
	return qs
}

// askQuiz sends question i of version v. Each button carries the answers
// given so far, which quizAnswer checks again: a forged payload cannot
// skip ahead without knowing every right answer, i.e. without passing.
func (c *call) askQuiz(v *SOPVersion, i int, prev []string) {
	q := c.quiz(v)[i]
	var row []Button
	for _, o := range q.options {
		label := strconv.Itoa(o)
		row = append(row, Button{Text: label, Data: EncodePayload(vbQuiz, strconv.Itoa(v.Number), strconv.Itoa(i), strings.Join(prev, "."), label)})
	}
	c.reply(c.t("quiz.head", "i", i+1, "n", len(c.quiz(v)))+"\n"+c.t(q.key, q.kv...), row)
}

// ackTarget re-checks an "ack" or "qz" tap: the version on the button
// still current, not acknowledged yet.
func (c *call) ackTarget(args []string, n int) (*SOPVersion, error) {
	if len(args) != n {
		return nil, Errorf(CodeInvalid, "err.bad_button")
	}
	v, err := c.currentVersion()
	if err != nil {
		return nil, err
	}
	if v == nil || strconv.Itoa(v.Number) != args[0] {
		return nil, Errorf(CodeConflict, "sop.ack_replaced")
	}
	done, err := c.acked(v.Number)
	if err != nil {
		return nil, err
	}
	if done {
		return nil, Errorf(CodeConflict, "sop.ack_already", "n", v.Number)
	}
	return v, nil
}

// ack handles "read and understood".
func (c *call) ack(args []string) error {
	v, err := c.ackTarget(args, 1)
	if err != nil {
		return err
	}
	if len(c.quiz(v)) > 0 {
		c.toast = c.t("ok")
		c.askQuiz(v, 0, nil)
		return nil
	}
	return c.recordAck(v, 0)
}

func (c *call) acked(n int) (bool, error) {
	acks, err := c.tx.Acks(n)
	if err != nil {
		return false, err
	}
	for _, a := range acks {
		if a.PersonID == c.me.ID {
			return true, nil
		}
	}
	return false, nil
}

func (c *call) recordAck(v *SOPVersion, quiz int) error {
	if err := c.tx.PutAck(Ack{Version: v.Number, PersonID: c.me.ID, At: c.now, Quiz: quiz}); err != nil {
		return err
	}
	c.toast = c.t("sop.ack_done", "n", v.Number)
	c.reply(c.t("sop.ack_done", "n", v.Number))
	return nil
}

// quizAnswer handles "qz|version|question|answers so far|choice".
func (c *call) quizAnswer(args []string) error {
	v, err := c.ackTarget(args, 4)
	if err != nil {
		return err
	}
	qs := c.quiz(v)
	i, err1 := strconv.Atoi(args[1])
	choice, err2 := strconv.Atoi(args[3])
	if err1 != nil || err2 != nil || i < 0 || i >= len(qs) {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	var prev []string
	if args[2] != "" {
		prev = strings.Split(args[2], ".")
	}
	if len(prev) != i {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	for k, a := range prev {
		if a != strconv.Itoa(qs[k].right) {
			return Errorf(CodeInvalid, "err.bad_button")
		}
	}
	if choice != qs[i].right {
		return Errorf(CodeInvalid, "quiz.wrong")
	}
	if i+1 < len(qs) {
		c.toast = c.t("quiz.right")
		c.askQuiz(v, i+1, append(prev, args[3]))
		return nil
	}
	return c.recordAck(v, len(qs))
}

// ackRemind chases those who have not acknowledged the current version.
func (c *call) ackRemind(n int) error {
	v, err := c.currentVersion()
	if err != nil || v == nil || v.Number != n {
		return err // a newer version has its own reminder
	}
	missing, err := c.missingAcks(v.Number)
	if err != nil || len(missing) == 0 {
		return err
	}
	var names []string
	for _, p := range missing {
		names = append(names, p.Name)
		m := c.versionNotice(*v, p.Lang, p.Chat)
		m.Text = c.tl(p.Lang, "sop.ack_reminder") + "\n" + m.Text
		m.Priority = PrioReminder
		c.send(m)
	}
	if err := c.toLeads("sop.ack_missing", "n", v.Number, "names", strings.Join(names, "、")); err != nil {
		return err
	}
	return c.tx.PutTimer(Timer{Key: tmAckRemind + ":" + strconv.Itoa(n), Due: c.now.Add(24 * time.Hour), Kind: tmAckRemind, Rung: n})
}

func (c *call) missingAcks(n int) ([]*Person, error) {
	acks, err := c.tx.Acks(n)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, a := range acks {
		done[a.PersonID] = true
	}
	staff, err := c.staff()
	if err != nil {
		return nil, err
	}
	var out []*Person
	for _, p := range staff {
		if !done[p.ID] {
			out = append(out, p)
		}
	}
	return out, nil
}

// cmdSOPReload re-reads the definition ("/sop reload").
func (c *call) cmdSOPReload() error {
	if c.e.o.Governance.LoadSOP == nil {
		return Errorf(CodeInvalid, "sop.no_file")
	}
	def, err := c.e.o.Governance.LoadSOP()
	if err != nil {
		c.reply(c.t("sop.reload_failed", "err", err.Error()))
		return nil
	}
	n, changed, err := c.installSOP(def, c.me.ID)
	if err != nil {
		return err
	}
	if !changed {
		c.reply(c.t("sop.reload_same", "n", n))
		return nil
	}
	c.reply(c.t("sop.reload_new", "n", n))
	return nil
}

// cmdSOP shows the version in force, its history and who acknowledged it.
func (c *call) cmdSOP(string) error {
	vs, err := c.tx.SOPVersions()
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		c.reply(c.t("sop.none"))
		return nil
	}
	cur := vs[len(vs)-1]
	var b strings.Builder
	b.WriteString(c.t("sop.current", "n", cur.Number, "label", cur.Label, "effective", cur.Effective, "steps", len(cur.SOP.Steps), "prices", len(cur.SOP.Prices)))
	for _, ch := range cur.Changes {
		b.WriteString("\n• " + c.changeText(ch, c.lang))
	}
	b.WriteString("\n" + c.t("sop.history"))
	for i := len(vs) - 1; i >= 0 && i >= len(vs)-5; i-- {
		b.WriteString("\n" + c.t("sop.history_line", "n", vs[i].Number, "label", vs[i].Label, "date", c.localTime(vs[i].Created), "changes", len(vs[i].Changes)))
	}
	if c.me.Role.IsLead() {
		missing, err := c.missingAcks(cur.Number)
		if err != nil {
			return err
		}
		var names []string
		for _, p := range missing {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			b.WriteString("\n" + c.t("sop.ack_status_missing", "names", strings.Join(names, "、")))
		} else {
			b.WriteString("\n" + c.t("sop.ack_status_all"))
		}
	}
	c.reply(b.String())
	return nil
}

// ---- reviews ----

// triggerReview links a triggering ticket to the open triggered review of
// the window, or opens one: three complaints in an hour make one review.
func (c *call) triggerReview(trigger, ticketID string) error {
	reviews, err := c.tx.Reviews()
	if err != nil {
		return err
	}
	for _, r := range reviews {
		if r.Status == "open" && r.Trigger != "yearly" && c.now.Sub(r.Opened) < c.e.o.Governance.TriggerWindow {
			if ticketID != "" && !contains(r.Tickets, ticketID) {
				r.Tickets = append(r.Tickets, ticketID)
				if err := c.tx.PutReview(r); err != nil {
					return err
				}
				return c.toLeads("review.linked", "id", r.ID, "ticket", ticketID, "trigger", c.tl(c.e.o.DefaultLang, "review.trigger_"+trigger))
			}
			return nil
		}
	}
	_, err = c.openReview(trigger, ticketID)
	return err
}

// openReview opens a review and invites every participant.
func (c *call) openReview(trigger string, tickets ...string) (*Review, error) {
	g := c.e.o.Governance
	year := c.now.In(c.e.o.Location).Year()
	seq, err := c.tx.NextSeq(fmt.Sprintf("review:%d", year))
	if err != nil {
		return nil, err
	}
	r := &Review{ID: fmt.Sprintf("RV-%d-%03d", year, seq), Trigger: trigger, Opened: c.now, Deadline: c.now.Add(g.ReviewDeadline),
		Status: "open", SOPVersion: int(c.e.sopNum.Load()), Answers: map[string]string{}}
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
			if p.Registered {
				participants = append(participants, p)
				r.Participants = append(r.Participants, p.ID)
			}
		}
	}
	leads, err := c.leads()
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
	if err := c.tx.PutTimer(Timer{Key: tmReviewRemind + ":" + r.ID, Due: c.now.Add(24 * time.Hour), Kind: tmReviewRemind, Day: r.ID}); err != nil {
		return nil, err
	}
	return r, c.tx.PutTimer(Timer{Key: tmReviewDue + ":" + r.ID, Due: r.Deadline, Kind: tmReviewDue, Day: r.ID})
}

func (c *call) reviewInvite(r *Review, p *Person) Message {
	l := p.Lang
	text := c.tl(l, "review.opened", "id", r.ID, "trigger", c.tl(l, "review.trigger_"+r.Trigger), "deadline", c.localTime(r.Deadline), "v", r.SOPVersion)
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
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgSuggest, Step: stepText, Started: c.now, TicketID: r.ID}
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
	return c.saveSuggestion(d.TicketID, s)
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
	return c.tx.PutTimer(Timer{Key: tmReviewRemind + ":" + r.ID, Due: c.now.Add(24 * time.Hour), Kind: tmReviewRemind, Day: r.ID})
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
			d := &Dialogue{PersonID: c.me.ID, Kind: dlgReviewClose, Step: stepReasons, Started: c.now, TicketID: r.ID}
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
	return b.String()
}

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
	r, err := c.mustReview(d.TicketID)
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

// reviewCloseChoice is the "finish" button of the report's actions step.
func (c *call) reviewCloseChoice(d *Dialogue, v string) error {
	if d.Step != stepActions {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	if v != "finish" {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	return c.finishReview(d)
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

// finishReview stores the report, sends it and starts tracking the actions.
func (c *call) finishReview(d *Dialogue) error {
	r, err := c.mustReview(d.TicketID)
	if err != nil {
		return err
	}
	if r.Report == nil || r.Report.Reasons == "" || r.Report.Measures == "" || len(r.Report.Actions) == 0 {
		return Errorf(CodeInvalid, "review.report_incomplete")
	}
	now := c.now
	r.Status, r.Closed = "closed", &now
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
			{Key: tmActionPre + ":" + key, Due: a.Due.Add(-24 * time.Hour), Kind: tmActionPre, Day: r.ID, Rung: a.N},
			{Key: tmActionDue + ":" + key, Due: a.Due, Kind: tmActionDue, Day: r.ID, Rung: a.N},
			{Key: tmActionEsc + ":" + key, Due: a.Due.Add(72 * time.Hour), Kind: tmActionEsc, Day: r.ID, Rung: a.N},
		} {
			if err := c.tx.PutTimer(tm); err != nil {
				return err
			}
		}
	}
	c.toast = c.t("ok")
	seen := map[string]bool{}
	ids := append(append([]string{}, r.Participants...), r.Owner)
	leads, err := c.leads()
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
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgActionDone, Step: stepText, Started: c.now, TicketID: r.ID, Category: args[1]}
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
	r, err := c.mustReview(d.TicketID)
	if err != nil {
		return err
	}
	a := r.action(d.Category)
	if a == nil || a.Done != nil {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "action.already")
	}
	now := c.now
	a.Done, a.Evidence = &now, text
	for _, tm := range []string{tmActionPre, tmActionDue, tmActionEsc} {
		if err := c.tx.DeleteTimer(tm + ":" + r.ID + ":" + d.Category); err != nil {
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
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	c.reply(c.t("action.recorded", "id", r.ID, "n", a.N))
	if all {
		return c.toLeads("review.effective", "id", r.ID)
	}
	return nil
}

// timedAction is the open improvement action an action timer is about,
// with its owner; nil when it is done or gone.
func (c *call) timedAction(tm Timer) (*Review, *Improvement, *Person, error) {
	r, err := c.tx.Review(tm.Day)
	if err != nil {
		return nil, nil, nil, nil
	}
	a := r.action(strconv.Itoa(tm.Rung))
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

// actionEscalate tells the leads of an action three days late.
func (c *call) actionEscalate(tm Timer, _ bool) error {
	r, a, owner, err := c.timedAction(tm)
	if a == nil || err != nil {
		return err
	}
	name := a.Owner
	if owner != nil {
		name = owner.Name
	}
	return c.toLeads("action.escalated", "id", r.ID, "n", a.N, "text", a.Text, "owner", name)
}

// ---- yearly review and monthly audit ----

// ensureGovernance keeps the next yearly review and monthly audit scheduled.
func (c *call) ensureGovernance() error {
	g := c.e.o.Governance
	loc := c.e.o.Location
	local := c.now.In(loc)
	for y := local.Year(); y <= local.Year()+1; y++ {
		due := time.Date(y, g.YearlyMonth, g.YearlyDay, 9, 0, 0, 0, loc)
		if due.After(c.now) {
			if err := c.tx.PutTimer(Timer{Key: tmYearly + ":" + strconv.Itoa(y), Due: due.UTC(), Kind: tmYearly, Day: strconv.Itoa(y)}); err != nil {
				return err
			}
			break
		}
	}
	if g.AuditCount > 0 {
		next := time.Date(local.Year(), local.Month()+1, 1, 9, 0, 0, 0, loc)
		month := next.AddDate(0, -1, 0).Format("200601")
		if err := c.tx.PutTimer(Timer{Key: tmAudit + ":" + month, Due: next.UTC(), Kind: tmAudit, Day: month}); err != nil {
			return err
		}
	}
	return nil
}

// audit sends the lead a sample of last month's finished tickets with the
// checklist gaps flagged: missing photos, fewer tests, no recorded consent.
func (c *call) audit(month string) error {
	samples, _ := c.ahead.(auditSamples)
	done, ok := samples[month]
	if !ok {
		var err error
		if done, err = c.auditSample(month); err != nil {
			return err
		}
	}
	l := c.e.o.DefaultLang
	var b strings.Builder
	b.WriteString(c.tl(l, "audit.head", "month", month[:4]+"-"+month[4:], "n", len(done)))
	for _, t := range done {
		flags := c.auditFlags(t, l)
		if len(flags) == 0 {
			flags = []string{c.tl(l, "audit.ok")}
		}
		b.WriteString("\n" + c.tl(l, "audit.line", "ticket", t.ID, "name", t.Assignee, "flags", strings.Join(flags, c.tl(l, "order.sep"))))
	}
	return c.toLeads("audit.wrap", "text", b.String())
}

// auditSample picks the month's audit sample: the AuditCount finished
// tickets with the smallest hash of month+id — reproducible, spread over
// the month, and kept while streaming, so a month of a large store is
// never held in memory.
func (c *call) auditSample(month string) ([]*Ticket, error) {
	start, err := time.ParseInLocation("200601", month, c.e.o.Location)
	if err != nil {
		return nil, nil
	}
	key := func(t *Ticket) uint64 { h := fnv.New64a(); h.Write([]byte(month + t.ID)); return h.Sum64() }
	limit := c.e.o.Governance.AuditCount
	var done []*Ticket
	var keys []uint64
	err = c.tx.EachTicketTouched(start.UTC(), start.AddDate(0, 1, 0).UTC(), func(t *Ticket) error {
		if t.State != StateClosed || t.Visit == nil || limit <= 0 {
			return nil
		}
		k := key(t)
		i := sort.Search(len(keys), func(i int) bool { return keys[i] > k })
		if i >= limit {
			return nil
		}
		keys = append(keys[:i], append([]uint64{k}, keys[i:]...)...)
		done = append(done[:i], append([]*Ticket{t}, done[i:]...)...)
		if len(done) > limit {
			keys, done = keys[:limit], done[:limit]
		}
		return nil
	})
	return done, err
}

// auditSamples are audit samples read ahead of a tick, by month.
type auditSamples map[string][]*Ticket

// auditAhead reads the samples of the audits due now in a read
// transaction before the tick's write transaction, which then only
// renders them: the month's scan does not hold bbolt's single writer.
func (e *Engine) auditAhead(ctx context.Context, now time.Time) any {
	samples := auditSamples{}
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		due, err := tx.DueTimers(now, 100)
		if err != nil {
			return nil
		}
		c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
		for _, tm := range due {
			if tm.Kind != tmAudit {
				continue
			}
			if done, err := c.auditSample(tm.Day); err == nil {
				samples[tm.Day] = done
			}
		}
		return nil
	})
	if len(samples) == 0 {
		return nil
	}
	return samples
}

// auditFlags lists what the ticket's checklist record lacks.
func (c *call) auditFlags(t *Ticket, l Lang) []string {
	var flags []string
	v := t.Visit
	sop := c.e.SOP()
	for _, st := range sop.Steps {
		if st.Kind == StepPhoto && applies(t, st) && len(v.Photos[st.ID]) == 0 && v.Skipped[st.ID] == "" {
			flags = append(flags, c.tl(l, "audit.no_photo", "step", st.Title[l]))
		}
	}
	if v.Tests < sop.MinTests {
		flags = append(flags, c.tl(l, "audit.few_tests", "n", v.Tests, "min", sop.MinTests))
	}
	if v.Entry == "" {
		flags = append(flags, c.tl(l, "audit.no_consent"))
	}
	if t.Kind == OrderHousehold && !v.QuoteOK {
		flags = append(flags, c.tl(l, "audit.no_quote"))
	}
	return flags
}

// cmdComplain records a resident's explicit complaint (a trigger for the
// SOP review, like a low score), about their latest ticket when there is one.
func (c *call) cmdComplain(arg string) error {
	if text := cleanText(strings.TrimSpace(arg), c.e.o.MaxDescription); text != "" {
		return c.saveComplaint(text)
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgComplain, Step: stepText, Started: c.now}
	c.bump(d)
	c.reply(c.t("complain.ask"))
	return c.tx.PutDialogue(d)
}

func (c *call) complainInput(d *Dialogue) error {
	text, err := c.longText()
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.saveComplaint(text)
}

func (c *call) saveComplaint(text string) error {
	ticketID := ""
	if ts, err := c.tx.TicketsByResident(c.me.ID, 1); err != nil {
		return err
	} else if len(ts) > 0 && c.now.Sub(ts[0].Created) < 30*24*time.Hour {
		ticketID = ts[0].ID
		if err := c.event(ts[0], "complaint", ts[0].State, ts[0].State, text); err != nil {
			return err
		}
	}
	if err := c.tx.AddComplaint(Complaint{TicketID: ticketID, At: c.now, Text: text, By: c.me.ID}); err != nil {
		return err
	}
	c.reply(c.t("complain.saved"))
	if err := c.toLeads("complain.to_lead", "name", c.me.Name, "ticket", ticketID, "text", text, "address", personAddress(c.me)); err != nil {
		return err
	}
	return c.triggerReview("complaint", ticketID)
}
