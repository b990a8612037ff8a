package flows

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// The end-of-day handover (SOP 4.2.7–4.2.8, rental 四.6): half an hour
// before the end of the working day every technician with jobs that day
// submits the day's work orders; the lead approves or returns each
// submission; at the end of the day non-submitters are chased, the work
// orders are reconciled with the repair log, and the lead's daily task
// list is archived.

const (
	hoPending   = "pending"
	hoSubmitted = "submitted"
	hoApproved  = "approved"
	hoReturned  = "returned"
)

// handoverStart asks each technician with jobs that day to submit them.
func (c *call) handoverStart(day string, late bool) error {
	from, to, err := c.dayBounds(day)
	if err != nil {
		return err
	}
	tickets, err := c.touched(from, to)
	if err != nil {
		return err
	}
	byTech := map[string][]*Ticket{}
	var techs []string
	for _, t := range tickets {
		if t.AssigneeID == "" {
			continue
		}
		if _, ok := byTech[t.AssigneeID]; !ok {
			techs = append(techs, t.AssigneeID)
		}
		byTech[t.AssigneeID] = append(byTech[t.AssigneeID], t)
	}
	sort.Strings(techs)
	for _, id := range techs {
		tech, err := c.person(id)
		if err != nil {
			return err
		}
		h, err := c.tx.Handover(day, id)
		if errors.Is(err, ErrNotFound) {
			h = &Handover{Day: day, TechID: id, Status: hoPending}
		} else if err != nil {
			return err
		}
		h.Tickets = nil
		for _, t := range byTech[id] {
			h.Tickets = append(h.Tickets, t.ID)
		}
		if err := c.tx.PutHandover(h); err != nil {
			return err
		}
		if tech != nil && (h.Status == hoPending || h.Status == hoReturned) {
			c.send(Message{To: tech.Chat, Priority: PrioReminder,
				Text:    c.tl(tech.Lang, "handover.ask", "date", dayLabel(day)) + "\n" + c.ticketLines(byTech[id], tech.Lang),
				Buttons: [][]Button{{Button{Text: c.tl(tech.Lang, "btn.handover_submit"), Data: EncodePayload(vbHandoverSubmit, day)}}}})
		}
	}
	end := c.atMinutes(from, c.e.o.Work.End)
	return c.tx.PutTimer(Timer{Key: tmEOD + ":" + day, Due: end.UTC(), Kind: tmEOD, Day: day})
}

func dayLabel(day string) string {
	if len(day) != 8 {
		return day
	}
	return day[:4] + "-" + day[4:6] + "-" + day[6:]
}

// ticketLines lists tickets one per line.
func (c *call) ticketLines(ts []*Ticket, l Lang) string {
	var lines []string
	for _, t := range ts {
		lines = append(lines, c.tl(l, "handover.line", "ticket", t.ID, "category", c.categoryLabel(t.Category, l), "state", c.stateLabel(t.State, l), "address", shortAddress(t)))
	}
	return strings.Join(lines, "\n")
}

// handoverSubmit is the technician's "submit today's work orders".
func (c *call) handoverSubmit(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	day := args[0]
	h, err := c.tx.Handover(day, c.me.ID)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "handover.none", "date", dayLabel(day))
	}
	if err != nil {
		return err
	}
	if h.Status == hoSubmitted || h.Status == hoApproved {
		return Errorf(CodeConflict, "handover.already", "date", dayLabel(day))
	}
	now := c.now
	h.Status, h.At, h.Reason = hoSubmitted, &now, ""
	if err := c.tx.PutHandover(h); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("handover.submitted", "date", dayLabel(day), "n", len(h.Tickets)))
	var ts []*Ticket
	for _, id := range h.Tickets {
		if t, err := c.tx.Ticket(id); err == nil {
			ts = append(ts, t)
		}
	}
	leads, err := c.staffLeads(c.me) // the leads of the technician's areas, and the admins
	if err != nil {
		return err
	}
	byArea := map[string]int{}
	for _, t := range ts {
		byArea[c.e.areaOf(t)]++
	}
	for _, p := range leads {
		text := c.tl(p.Lang, "handover.review", "name", c.me.Name, "date", dayLabel(day), "n", len(ts)) + "\n" + c.ticketLines(ts, p.Lang)
		if c.e.multiArea() && c.e.scopeOf(p) == nil {
			text += c.areaCounts(byArea, p.Lang) // an admin's: by area
		}
		c.send(Message{To: p.Chat, Priority: PrioNormal,
			Text: text,
			Buttons: [][]Button{{
				{Text: c.tl(p.Lang, "btn.handover_ok"), Data: EncodePayload(vbHandoverReview, day, c.me.ID, "ok")},
				{Text: c.tl(p.Lang, "btn.handover_return"), Data: EncodePayload(vbHandoverReview, day, c.me.ID, "ret")},
			}}})
	}
	return nil
}

// handoverReview is the lead's approve / return on a submission.
func (c *call) handoverReview(args []string) error {
	if len(args) != 3 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	day, techID, verdict := args[0], args[1], args[2]
	h, err := c.tx.Handover(day, techID)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "handover.none", "date", dayLabel(day))
	}
	if err != nil {
		return err
	}
	if h.Status != hoSubmitted {
		return Errorf(CodeConflict, "handover.reviewed", "date", dayLabel(day))
	}
	tech, err := c.person(techID)
	if err != nil {
		return err
	}
	switch verdict {
	case "ok":
		h.Status, h.Reviewer = hoApproved, c.me.ID
		if err := c.tx.PutHandover(h); err != nil {
			return err
		}
		c.toast = c.t("ok")
		if tech != nil {
			c.tell(tech, "handover.approved", []any{"date", dayLabel(day), "name", c.me.Name})
		}
		return nil
	case "ret":
		d := &Dialogue{PersonID: c.me.ID, Kind: dlgHandoverReturn, Step: stepReason, Started: c.now, Day: day, TechID: techID}
		c.bump(d)
		c.toast = c.t("ok")
		c.reply(c.t("handover.ask_reason"))
		return c.tx.PutDialogue(d)
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// handoverReturnInput takes the lead's reason and sends the orders back.
func (c *call) handoverReturnInput(d *Dialogue) error {
	if c.ev.Kind != EvText {
		return Errorf(CodeInvalid, "err.text_expected")
	}
	reason := cleanText(strings.TrimSpace(c.ev.Text), 500)
	if reason == "" {
		return Errorf(CodeInvalid, "err.empty")
	}
	h, err := c.tx.Handover(d.Day, d.TechID)
	if err != nil {
		return err
	}
	if h.Status != hoSubmitted {
		_ = c.tx.DeleteDialogue(d.PersonID)
		return Errorf(CodeConflict, "handover.reviewed", "date", dayLabel(h.Day))
	}
	h.Status, h.Reviewer, h.Reason = hoReturned, c.me.ID, reason
	if err := c.tx.PutHandover(h); err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	c.reply(c.t("handover.returned_lead", "date", dayLabel(h.Day)))
	tech, err := c.person(h.TechID)
	if err != nil || tech == nil {
		return err
	}
	c.tell(tech, "handover.returned", []any{"date", dayLabel(h.Day), "name", c.me.Name, "reason", reason},
		[]Button{{Text: c.tl(tech.Lang, "btn.handover_submit"), Data: EncodePayload(vbHandoverSubmit, h.Day)}})
	return nil
}

// endOfDay chases non-submitters, reconciles the repair log with the
// submitted work orders and archives the daily task list.
func (c *call) endOfDay(day string, late bool) error {
	list, missing, err := c.buildDaily(day)
	if err != nil {
		return err
	}
	for _, h := range missing {
		h.Chased++
		if err := c.tx.PutHandover(h); err != nil {
			return err
		}
		if tech, err := c.person(h.TechID); err == nil && tech != nil {
			c.send(Message{To: tech.Chat, Priority: PrioReminder,
				Text:    c.tl(tech.Lang, "handover.chase", "date", dayLabel(day), "n", len(h.Tickets)),
				Buttons: [][]Button{{{Text: c.tl(tech.Lang, "btn.handover_submit"), Data: EncodePayload(vbHandoverSubmit, day)}}}})
		}
	}
	if len(list.Missing) > 0 { // each area's leads their people (areas_daily.go)
		if err := c.missingToLeads(day, list, missing); err != nil {
			return err
		}
	}
	if len(list.Mismatches) > 0 {
		if err := c.mismatchesToOffice(day, list); err != nil {
			return err
		}
	}
	return c.tx.PutDailyList(list)
}

// buildDaily computes the day's task list: every ticket of the day, who
// handled it, the handover status, and the reconciliation against the
// repair log (tickets reported that day).
func (c *call) buildDaily(day string) (*DailyList, []*Handover, error) {
	from, to, err := c.dayBounds(day)
	if err != nil {
		return nil, nil, Errorf(CodeInvalid, "daily.usage")
	}
	tickets, err := c.touched(from, to)
	if err != nil {
		return nil, nil, err
	}
	hs, err := c.tx.Handovers(day)
	if err != nil {
		return nil, nil, err
	}
	byTech := map[string]*Handover{}
	var missing []*Handover
	list := &DailyList{Day: day, Archived: c.now}
	for _, h := range hs {
		byTech[h.TechID] = h
		if h.Status == hoPending || h.Status == hoReturned {
			missing = append(missing, h)
			name := h.TechID
			if p, err := c.person(h.TechID); err == nil && p != nil {
				name = p.Name
			}
			list.Missing = append(list.Missing, name)
		}
	}
	l := c.e.o.DefaultLang
	for _, t := range tickets {
		line := DailyLine{Ticket: t.ID, Category: t.Category, Address: shortAddress(t), Assignee: t.Assignee, State: t.State, Area: c.e.areaOf(t)}
		h := byTech[t.AssigneeID]
		if h != nil {
			line.Handed = h.Status
		}
		list.Lines = append(list.Lines, line)
		reported := !t.Created.Before(from) && t.Created.Before(to)
		if !reported || t.State == StateCancelled {
			continue
		}
		switch {
		case t.AssigneeID == "":
			list.Mismatches = append(list.Mismatches, c.tl(l, "handover.mm_unassigned", "ticket", t.ID))
		case h == nil || !contains(h.Tickets, t.ID):
			list.Mismatches = append(list.Mismatches, c.tl(l, "handover.mm_not_handed", "ticket", t.ID, "name", t.Assignee))
		case h.Status != hoApproved:
			list.Mismatches = append(list.Mismatches, c.tl(l, "handover.mm_not_reviewed", "ticket", t.ID, "name", t.Assignee, "status", c.tl(l, "handover.status_"+h.Status)))
		}
		for len(list.mismatchAreas) < len(list.Mismatches) {
			list.mismatchAreas = append(list.mismatchAreas, line.Area)
		}
	}
	return list, missing, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// cmdDaily shows a day's task list: the archived one, or today's so far.
func (c *call) cmdDaily(arg string) error {
	day := strings.ReplaceAll(strings.TrimSpace(arg), "-", "")
	if day == "" {
		day = c.dayKey(c.now)
	}
	if _, err := time.Parse("20060102", day); err != nil {
		return Errorf(CodeInvalid, "daily.usage")
	}
	list, err := c.tx.DailyList(day)
	archived := err == nil
	if errors.Is(err, ErrNotFound) {
		list, _, err = c.buildDaily(day)
	}
	if err == nil {
		list, err = c.scopedDaily(list) // the sender's areas (areas_scope.go)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	head := "daily.head_live"
	if archived {
		head = "daily.head_archived"
	}
	b.WriteString(c.t(head, "date", dayLabel(day), "n", len(list.Lines)))
	for _, ln := range list.Lines {
		who := ln.Assignee
		if who == "" {
			who = c.t("open.unassigned")
		}
		handed := "—"
		if ln.Handed != "" {
			handed = c.t("handover.status_" + ln.Handed)
		}
		b.WriteString("\n" + c.t("daily.line", "ticket", ln.Ticket, "category", c.categoryLabel(ln.Category, c.lang), "state", c.stateLabel(ln.State, c.lang), "assignee", who, "handed", handed))
	}
	if len(list.Missing) > 0 {
		b.WriteString("\n" + c.t("daily.missing", "names", strings.Join(list.Missing, "、")))
	}
	if len(list.Mismatches) > 0 {
		b.WriteString("\n" + c.t("daily.mismatches") + "\n" + strings.Join(list.Mismatches, "\n"))
	}
	b.WriteString(c.dailyBreakdown(list)) // an admin's count by area
	c.reply(b.String())
	return c.dailyFiles(c.replyTo(), c.lang, day)
}

// touched collects the tickets changed in [from, to): a day's worth, for
// the handover and the daily list. Month-long reads stream instead.
func (c *call) touched(from, to time.Time) ([]*Ticket, error) {
	var out []*Ticket
	err := c.tx.EachTicketTouched(from, to, func(t *Ticket) error {
		out = append(out, t)
		return nil
	})
	return out, err
}

// WorkOptions are the working days and hours for the daily handover.
type WorkOptions struct {
	Days           map[time.Weekday]bool
	Start, End     int // minutes after midnight
	HandoverBefore time.Duration
}

// ensureDaily keeps the next working day's handover timer scheduled.
func (c *call) ensureDaily() error {
	w := c.e.o.Work
	if len(w.Days) == 0 || w.End <= 0 {
		return nil
	}
	local := c.now.In(c.e.o.Location)
	for i := 0; i < 8; i++ {
		day := local.AddDate(0, 0, i)
		if !w.Days[day.Weekday()] {
			continue
		}
		due := c.atMinutes(day, w.End).Add(-w.HandoverBefore)
		if !due.After(c.now) {
			continue
		}
		dk := c.dayKey(due)
		return c.tx.PutTimer(Timer{Key: tmHandover + ":" + dk, Due: due.UTC(), Kind: tmHandover, Day: dk})
	}
	return nil
}
