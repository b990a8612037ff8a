package flows

import (
	"errors"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"
)

// QCTx holds the quality-control reviews (维修质量控制).
type QCTx interface {
	// QCReview reads the review of a ticket.
	QCReview(ticketID string) (*QCReview, error)
	// PutQCReview stores or replaces a ticket's review.
	PutQCReview(r *QCReview) error
	// OpenQCReviews lists the reviews not done, oldest Created first.
	OpenQCReviews() ([]*QCReview, error)
}

// QCReview is a lead's quality-control review of a closed ticket.
type QCReview struct {
	Ticket  string    `json:"ticket"`
	Reason  string    `json:"reason"` // sample, complaint, rework
	Created time.Time `json:"created"`
	Status  string    `json:"status"` // pending, done
	// Score is the QC score 1-5; Findings the catalog codes found.
	Score    int        `json:"score,omitempty"`
	Findings []string   `json:"findings,omitempty"`
	Note     string     `json:"note,omitempty"`
	Reviewer string     `json:"reviewer,omitempty"`
	Done     *time.Time `json:"done,omitempty"`
	Spot     *SpotCheck `json:"spot,omitempty"`
}

// SpotCheck is a physical check on site assigned by the reviewer.
type SpotCheck struct {
	Assignee string     `json:"assignee"`
	Assigned time.Time  `json:"assigned"`
	Result   string     `json:"result,omitempty"` // ok, bad
	Done     *time.Time `json:"done,omitempty"`
}

// ---- quality control (维修质量控制) ----

// QC reasons and states, stored on the reviews.
const (
	qcSample    = "sample"
	qcComplaint = "complaint"
	qcRework    = "rework"

	qcPending = "pending" // sampled, the review not done
	qcSpot    = "spot"    // reviewed, a spot check on site awaits its result
	qcDone    = "done"
)

// qcFindings are the findings a reviewer can tick, catalog keys qc.f_<code>.
var qcFindings = []string{"record", "photos", "tests", "time", "quality", "conduct", "fee", "clean"}

// Steps of the QC review dialogue.
const (
	stepQCScore    = "qc_score"
	stepQCFindings = "qc_findings"
	stepQCNote     = "qc_note"
	stepQCSpot     = "qc_spot"
)

// qcReason says why a closed ticket is reviewed ("" when it is not): every
// complaint and every rework, and a reproducible share of the others (the
// ticket id's hash), so the sample cannot be steered.
func (c *call) qcReason(t *Ticket) (string, error) {
	o := c.e.o.Records
	if !o.QC {
		return "", nil
	}
	if t.Score > 0 && t.Score <= complaintScore {
		return qcComplaint, nil
	}
	events, err := c.tx.TicketEvents(t.ID)
	if err != nil {
		return "", err
	}
	for _, e := range events {
		if e.Action == "complaint" {
			return qcComplaint, nil
		}
	}
	if t.Reworks > 0 {
		return qcRework, nil
	}
	if qcSampled(t.ID, o.QCShare) {
		return qcSample, nil
	}
	return "", nil
}

// qcSampled is the reproducible share: share percent of ticket ids.
func qcSampled(id string, share int) bool {
	h := fnv.New32a()
	h.Write([]byte("qc:" + id))
	return int(h.Sum32()%100) < share
}

// sampleQC puts a closed ticket up for the leads' review when it is
// sampled.
func (c *call) sampleQC(t *Ticket) error {
	reason, err := c.qcReason(t)
	if err != nil || reason == "" {
		return err
	}
	return c.putSample(t, reason)
}

// putSample opens a review of t and tells the leads.
func (c *call) putSample(t *Ticket, reason string) error {
	r := &QCReview{Ticket: t.ID, Reason: reason, Created: c.now, Status: qcPending}
	if err := c.tx.PutQCReview(r); err != nil {
		return err
	}
	if err := c.event(t, "qc_sampled", t.State, t.State, reason); err != nil {
		return err
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, p := range leads {
		c.tell(p, "qc.sampled", []any{"ticket", t.ID, "reason", c.tl(p.Lang, "qc.reason_"+reason), "name", t.Assignee,
			"category", c.categoryLabel(t.Category, p.Lang), "address", shortAddress(t)},
			[]Button{{Text: c.tl(p.Lang, "btn.qc_start"), Data: EncodePayload(vbQCStart, t.ID)}})
	}
	return nil
}

// qcComplaint puts a ticket already closed up for review when its resident
// complains about it afterwards (one still open is sampled when it closes).
func (c *call) qcComplaint(t *Ticket) error {
	if !c.e.o.Records.QC || t.State != StateClosed {
		return nil
	}
	if r, err := c.tx.QCReview(t.ID); err == nil && r.Status != qcDone {
		return nil // already waiting for a lead
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return c.putSample(t, qcComplaint)
}

// cmdQC lists the reviews waiting for a lead, oldest first.
func (c *call) cmdQC() error {
	open, err := c.tx.OpenQCReviews()
	if err != nil {
		return err
	}
	// A lead's list is their areas' (areas_scope.go).
	if open, err = scopedBy(c, open, func(r *QCReview) string { return r.Ticket }); err != nil {
		return err
	}
	if len(open) == 0 {
		c.reply(c.t("qc.none"))
		return nil
	}
	var b strings.Builder
	b.WriteString(c.t("qc.list_head", "n", len(open)))
	var rows [][]Button
	for i, r := range open {
		if i == 20 {
			b.WriteString("\n" + c.t("qc.list_more", "n", len(open)-20))
			break
		}
		status := c.t("qc.reason_" + r.Reason)
		if r.Status == qcSpot && r.Spot != nil {
			name := r.Spot.Assignee
			if p, err := c.person(r.Spot.Assignee); err == nil && p != nil {
				name = p.Name
			}
			status = c.t("qc.spot_waiting", "name", name)
		}
		b.WriteString("\n" + c.t("qc.list_line", "ticket", r.Ticket, "status", status, "date", c.localTime(r.Created)))
		if r.Status == qcPending {
			rows = append(rows, []Button{{Text: c.t("btn.qc_review", "ticket", r.Ticket), Data: EncodePayload(vbQCStart, r.Ticket)}})
		}
	}
	c.reply(b.String(), rows...)
	return nil
}

// qcStart opens a lead's review of a sampled ticket: the record (the work
// order with its tests and times, the photos, the file), then the score.
func (c *call) qcStart(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, t, err := c.qcReview(args[0])
	if err != nil {
		return err
	}
	if r.Status != qcPending {
		return Errorf(CodeConflict, "qc.already", "ticket", t.ID)
	}
	order, err := c.workOrder(t, c.lang)
	if err != nil {
		return err
	}
	to := c.ev.From.Chat
	c.send(Message{To: to, Priority: PrioNormal, Ticket: t.ID,
		Text: c.t("qc.record", "ticket", t.ID, "reason", c.t("qc.reason_"+r.Reason)) + "\n\n" + order + "\n" + c.timeline(t, c.lang)})
	photos := c.ticketPhotos(t, c.lang) // support.go: each captioned with where it was taken
	for _, m := range photos[:min(len(photos), qcPhotos)] {
		m.To = to
		c.send(m)
	}
	c.workOrderFile(to, c.lang, t)
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgQC, Started: c.now, TicketID: t.ID}
	c.toast = c.t("ok")
	return c.qcPrompt(d, stepQCScore, r)
}

// qcPhotos bounds the photos forwarded with a review's record.
const qcPhotos = 10

// qcReview loads a ticket's review and the ticket.
func (c *call) qcReview(id string) (*QCReview, *Ticket, error) {
	t, err := c.mustTicket(id)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.tx.QCReview(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, Errorf(CodeNotFound, "qc.not_sampled", "ticket", id)
	}
	return r, t, err
}

// qcPrompt asks the review's next question.
func (c *call) qcPrompt(d *Dialogue, step string, r *QCReview) error {
	d.Step = step
	c.bump(d)
	var rows [][]Button
	text := ""
	switch step {
	case stepQCScore:
		text = c.t("qc.ask_score", "ticket", r.Ticket)
		var row []Button
		for i := 1; i <= 5; i++ {
			row = append(row, DialogueButton(strconv.Itoa(i), d.Seq, strconv.Itoa(i)))
		}
		rows = append(rows, row)
	case stepQCFindings:
		text = c.t("qc.ask_findings", "ticket", r.Ticket, "score", r.Score)
		var row []Button
		for _, f := range qcFindings {
			label := c.t("qc.f_" + f)
			if contains(r.Findings, f) {
				label = "✅ " + label
			}
			row = append(row, DialogueButton(label, d.Seq, "f:"+f))
			if len(row) == 2 {
				rows, row = append(rows, row), nil
			}
		}
		rows = append(rows, []Button{DialogueButton(c.t("btn.qc_findings_done"), d.Seq, "done")})
	case stepQCNote:
		text = c.t("qc.ask_note", "ticket", r.Ticket)
		rows = append(rows, []Button{DialogueButton(c.t("btn.skip"), d.Seq, "skip")})
	case stepQCSpot:
		text = c.t("qc.ask_spot", "ticket", r.Ticket)
		staff, err := c.staff()
		if err != nil {
			return err
		}
		for _, p := range staff {
			if p.Role == RoleDispatcher {
				continue
			}
			if b := DialogueButton(p.Name, d.Seq, "p:"+p.ID); len(b.Data) <= MaxPayload {
				rows = append(rows, []Button{b})
			}
		}
		rows = append(rows, []Button{DialogueButton(c.t("btn.qc_no_spot"), d.Seq, "no")})
	}
	c.reply(text, rows...)
	return c.tx.PutDialogue(d)
}

// qcChoice takes the review's buttons: the score, the findings (ticked on
// and off), skip the note, the spot check's assignee.
func (c *call) qcChoice(d *Dialogue, v string) error {
	r, t, err := c.qcReview(d.TicketID)
	if err != nil {
		return err
	}
	if r.Status != qcPending {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "qc.already", "ticket", t.ID)
	}
	switch d.Step {
	case stepQCScore:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		r.Score = n
		if err := c.tx.PutQCReview(r); err != nil {
			return err
		}
		c.toast = c.t("ok")
		return c.qcPrompt(d, stepQCFindings, r)
	case stepQCFindings:
		if v == "done" {
			c.toast = c.t("ok")
			return c.qcPrompt(d, stepQCNote, r)
		}
		f, ok := strings.CutPrefix(v, "f:")
		if !ok || !contains(qcFindings, f) {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if i := indexOf(r.Findings, f); i >= 0 {
			r.Findings = append(r.Findings[:i], r.Findings[i+1:]...)
		} else {
			r.Findings = append(r.Findings, f)
		}
		if err := c.tx.PutQCReview(r); err != nil {
			return err
		}
		c.toast = c.t("ok")
		return c.qcPrompt(d, stepQCFindings, r)
	case stepQCNote:
		if v != "skip" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		c.toast = c.t("ok")
		return c.qcPrompt(d, stepQCSpot, r)
	case stepQCSpot:
		if v == "no" {
			return c.qcFinish(d, r, t, nil)
		}
		id, ok := strings.CutPrefix(v, "p:")
		p, err := c.person(id)
		if err != nil {
			return err
		}
		if !ok || p == nil || !p.Registered || !p.Role.IsStaff() {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		return c.qcFinish(d, r, t, p)
	}
	return Errorf(CodeConflict, "err.stale_prompt")
}

// qcInput takes the review's note.
func (c *call) qcInput(d *Dialogue) error {
	if d.Step != stepQCNote {
		return Errorf(CodeInvalid, "err.use_buttons")
	}
	text, err := c.longText()
	if err != nil {
		return err
	}
	r, _, err := c.qcReview(d.TicketID)
	if err != nil {
		return err
	}
	if r.Status != qcPending {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "qc.already", "ticket", r.Ticket)
	}
	r.Note = text
	if err := c.tx.PutQCReview(r); err != nil {
		return err
	}
	return c.qcPrompt(d, stepQCSpot, r)
}

// qcFinish records the review and, with spot, assigns the spot check.
func (c *call) qcFinish(d *Dialogue, r *QCReview, t *Ticket, spot *Person) error {
	now := c.now
	r.Reviewer, r.Done, r.Status = c.me.ID, &now, qcDone
	if spot != nil {
		r.Status = qcSpot
		r.Spot = &SpotCheck{Assignee: spot.ID, Assigned: now}
	}
	if err := c.tx.PutQCReview(r); err != nil {
		return err
	}
	if d != nil { // nil: the console's review, in one form (consoleQC)
		if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
			return err
		}
	}
	sort.Strings(r.Findings)
	note := "score=" + strconv.Itoa(r.Score) + " findings=" + strings.Join(r.Findings, ",")
	if spot != nil {
		note += " spot=" + spot.ID
	}
	if err := c.event(t, "qc", t.State, t.State, note); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("qc.saved", "ticket", t.ID, "score", r.Score, "findings", c.qcFindingText(r, c.lang)))
	if tech, err := c.person(t.AssigneeID); err != nil {
		return err
	} else if tech != nil && tech.ID != c.me.ID {
		c.tell(tech, "qc.to_tech", []any{"ticket", t.ID, "score", r.Score, "findings", c.qcFindingText(r, tech.Lang), "note", r.Note})
	}
	if spot != nil {
		l := spot.Lang
		c.send(Message{To: spot.Chat, Priority: PrioNormal, Ticket: t.ID,
			Text: c.tl(l, "qc.spot_ask", "ticket", t.ID, "address", c.fullAddress(t), "name", c.me.Name,
				"category", c.categoryLabel(t.Category, l)),
			Buttons: [][]Button{{{Text: c.tl(l, "btn.spot_ok"), Data: EncodePayload(vbSpotResult, t.ID, "ok")},
				{Text: c.tl(l, "btn.spot_bad"), Data: EncodePayload(vbSpotResult, t.ID, "bad")}}}})
	}
	return nil
}

func (c *call) qcFindingText(r *QCReview, l Lang) string {
	if len(r.Findings) == 0 {
		return c.tl(l, "qc.f_none")
	}
	var out []string
	for _, f := range r.Findings {
		out = append(out, c.tl(l, "qc.f_"+f))
	}
	return strings.Join(out, c.tl(l, "order.sep"))
}

// spotResult records the result of a spot check on site by its assignee.
func (c *call) spotResult(args []string) error {
	if len(args) != 2 || (args[1] != "ok" && args[1] != "bad") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, t, err := c.qcReview(args[0])
	if err != nil {
		return err
	}
	if r.Spot == nil || r.Spot.Assignee != c.me.ID {
		return Errorf(CodeForbidden, "qc.not_your_spot", "ticket", t.ID)
	}
	if r.Status != qcSpot {
		return Errorf(CodeConflict, "qc.already", "ticket", t.ID)
	}
	now := c.now
	r.Spot.Result, r.Spot.Done, r.Status = args[1], &now, qcDone
	if err := c.tx.PutQCReview(r); err != nil {
		return err
	}
	if err := c.event(t, "spot_check", t.State, t.State, args[1]); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("qc.spot_saved", "ticket", t.ID, "result", c.t("qc.spot_"+args[1])))
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, p := range leads {
		if p.ID != c.me.ID {
			c.tell(p, "qc.spot_to_leads", []any{"ticket", t.ID, "name", c.me.Name, "result", c.tl(p.Lang, "qc.spot_"+args[1])})
		}
	}
	return nil
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}
