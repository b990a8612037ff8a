package flows

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// The records' console pages (bot/web): the KPI page reads the same
// report /stats sends, for the period /stats names; the exports are the
// files /order, /daily and /month send; the phone-callback list records
// a call as the clerk's chat buttons do, and the QC queue records a
// lead's review as the chat's review dialogue does, in one form.

// StatsPeriod is the period /stats names by arg ("week", "month", "",
// "YYYY-MM"), as of now: the same words and the same answers to a bad or
// future month (stats.usage, stats.future).
func (e *Engine) StatsPeriod(arg string, now time.Time) (time.Time, time.Time, error) {
	c := &call{e: e, now: now.UTC(), lang: e.o.DefaultLang}
	return c.statsPeriod(arg)
}

// MonthPeriod is the month /month names by arg ("" this month,
// "YYYY-MM"), as of now: [first day, first day of the next month).
func (e *Engine) MonthPeriod(arg string, now time.Time) (time.Time, time.Time, error) {
	c := &call{e: e, now: now.UTC(), lang: e.o.DefaultLang}
	start, err := c.monthStart(arg)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return start, start.AddDate(0, 1, 0), nil
}

// KPIReport is /stats's report of [from, to) read in tx for p: the same
// walk and the same definitions (docs/KPI.md), of p's areas as /stats
// gives p (every area for an admin), so the console shows the numbers
// chat sends.
func (e *Engine) KPIReport(tx Tx, p *Person, from, to time.Time) (*KPIReport, error) {
	c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang}
	return c.kpiReport(from, to, e.scopeOf(p))
}

// ExportAreas is what a file p asks for in the console carries as
// Export.Areas: p's areas, as the chat's /daily, /month and /stats send
// p (nil, every area, for an admin).
func (e *Engine) ExportAreas(p *Person) []string { return exportAreas(e.scopeOf(p)) }

// ChartFigures are the figures /stats's charts draw from (the categories
// and the daily series of r), as the chart exports carry them.
func ChartFigures(r *KPIReport) *KPIReport {
	return &KPIReport{From: r.From, To: r.To, ByCategory: r.ByCategory, Days: r.Days}
}

// QCFindings are the findings a QC reviewer can tick (catalog keys
// qc.f_<code>), in the chat's order.
func QCFindings() []string { return append([]string(nil), qcFindings...) }

// consoleCallback records a phone callback's result with the clerk's chat
// button (ActCallbackPhone's row decided who and when): the answer, and
// with "held" the resident's score, both in the button's argument shape,
// applied in one transaction as the two taps would be.
func (c *call) consoleCallback(t *Ticket, args map[string]string) error {
	row := actions[ActCallbackPhone]
	answer, score := strings.TrimSpace(args["answer"]), strings.TrimSpace(args["score"])
	if !row.args.check([]string{answer}) || strings.HasPrefix(answer, cbAnswerScore) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if score != "" && (answer != cbAnswerHeld || !row.args.check([]string{cbAnswerScore + score})) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if err := row.run(c, t, []string{answer}); err != nil {
		return err
	}
	if score == "" {
		return nil
	}
	return row.run(c, t, []string{cbAnswerScore + score})
}

// consoleQC records a lead's QC review of a sampled ticket in one form
// (vbQCStart's row decided who): the score 1-5, the findings ticked
// (comma-separated codes of QCFindings), an optional note and an optional
// spot check's assignee (a registered staff member who is not customer
// service, as the dialogue's buttons offer).
func (c *call) consoleQC(_ *Ticket, args map[string]string) error {
	id := strings.TrimSpace(args["ticket"])
	if !aTicket(id) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if err := c.checkArea(verbs[vbQCStart].area, []string{id}); err != nil { // its row's area column
		return err
	}
	score, err := strconv.Atoi(strings.TrimSpace(args["score"]))
	if err != nil || score < 1 || score > 5 {
		return Errorf(CodeInvalid, "web.qc.score_required")
	}
	var findings []string
	for _, f := range strings.Split(args["findings"], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !contains(qcFindings, f) {
			return Errorf(CodeInvalid, "web.err.bad_request")
		}
		if !contains(findings, f) {
			findings = append(findings, f)
		}
	}
	note := ""
	if strings.TrimSpace(args["note"]) != "" {
		if note, err = c.consoleReason(args["note"]); err != nil {
			return err
		}
	}
	var spot *Person
	if sid := strings.TrimSpace(args["spot"]); sid != "" {
		p, err := c.person(sid)
		if err != nil {
			return err
		}
		if p == nil || !p.Registered || !p.Role.IsStaff() || p.Role == RoleDispatcher {
			return Errorf(CodeInvalid, "web.err.bad_request")
		}
		spot = p
	}
	r, t, err := c.qcReview(id)
	if err != nil {
		return err
	}
	if r.Status != qcPending {
		return Errorf(CodeConflict, "qc.already", "ticket", t.ID)
	}
	sort.Strings(findings)
	r.Score, r.Findings, r.Note = score, findings, note
	// A review the lead had begun in chat is finished here: its dialogue ends.
	var d *Dialogue
	if cur, err := c.tx.Dialogue(c.me.ID); err == nil && cur != nil && cur.Kind == dlgQC && cur.TicketID == t.ID {
		d = cur
	}
	return c.qcFinish(d, r, t, spot)
}

// StatsText is the summary /stats answers p with for r, in l: the
// console's KPI page shows the very text chat sends (broken down by area
// when it covers several: an admin's, or a lead's of two areas).
func (e *Engine) StatsText(r *KPIReport, p *Person, l Lang) string {
	c := &call{e: e, now: e.o.Now().UTC(), lang: l}
	return c.statsText(r, e.scopeOf(p), l, "stats.head")
}

// MayReadOrder reports whether p may read t's work order (/order's check):
// the office every one, others only their own; someone else's ticket is
// answered as one that does not exist.
func MayReadOrder(p *Person, t *Ticket) error {
	if p == nil || !(hasRole(office, p.Role) || t.ResidentID == p.ID || t.AssigneeID == p.ID) {
		return Errorf(CodeNotFound, "err.no_ticket", "ticket", t.ID)
	}
	return nil
}
