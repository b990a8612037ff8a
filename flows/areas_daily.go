package flows

import (
	"strings"
)

// The day's and the month's supervision run per area: the end-of-day
// chase of missing handovers, the reconciliation of the repair log, the
// monthly audit sample and the triggered reviews reach each area's leads
// (or clerks) with their area's part, and the company's admins with every
// area's, grouped by area. With one area this is exactly the company-wide
// behaviour: its leads are all the leads.

// areaPart is one area's share of a digest.
type areaPart struct {
	area  string
	lines []string
}

// areaRecipients are whom an area's supervision digest reaches: its
// leads, then the company's admins.
func (c *call) areaRecipients(area string) ([]*Person, error) {
	leads, err := c.areaLeads(area)
	if err != nil {
		return nil, err
	}
	admins, err := c.admins()
	return append(leads, admins...), err
}

// areaDigest sends each recipient of an area (whom) the parts of every
// area they receive, in the areas' order: a lead of one area their
// area's lines, an admin every area's. lines holds each area's lines;
// keepEmpty sends an area whose lines are empty too (an audit of
// nothing still reports). send renders one recipient's parts.
func (c *call) areaDigest(lines map[string][]string, keepEmpty bool, whom func(area string) ([]*Person, error), send func(p *Person, parts []areaPart)) error {
	var order []*Person
	parts := map[string][]areaPart{}
	for _, a := range c.e.areaList() {
		ls, ok := lines[a.Key]
		if !ok || len(ls) == 0 && !keepEmpty {
			continue
		}
		ps, err := whom(a.Key)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if _, seen := parts[p.ID]; !seen {
				order = append(order, p)
			}
			parts[p.ID] = append(parts[p.ID], areaPart{area: a.Key, lines: ls})
		}
	}
	for _, p := range order {
		send(p, parts[p.ID])
	}
	return nil
}

// byArea reports whether p's digest names its areas: when the engine
// serves several and p receives several, or sees every area (an admin).
func (c *call) byArea(p *Person, parts []areaPart) bool {
	return c.e.multiArea() && (len(parts) > 1 || c.e.scopeOf(p) == nil)
}

// joinParts renders p's parts: the lines joined by sep, each area's
// after its name when p's digest is by area.
func (c *call) joinParts(p *Person, parts []areaPart, sep string) string {
	l := p.Lang
	if !c.byArea(p, parts) {
		var all []string
		for _, pt := range parts {
			all = append(all, pt.lines...)
		}
		return strings.Join(all, sep)
	}
	var out []string
	for _, pt := range parts {
		if len(pt.lines) == 0 {
			continue
		}
		out = append(out, c.tl(l, "areas.part", "area", c.e.areaName(pt.area, l), "list", strings.Join(pt.lines, sep)))
	}
	return strings.Join(out, c.tl(l, "areas.part_sep"))
}

// sectionParts renders p's parts as lines in l: each area's under its
// name when p's digest is by area.
func (c *call) sectionParts(p *Person, parts []areaPart, l Lang) []string {
	if !c.byArea(p, parts) {
		var out []string
		for _, pt := range parts {
			out = append(out, pt.lines...)
		}
		return out
	}
	var out []string
	for _, pt := range parts {
		out = append(out, c.tl(l, "areas.section", "area", c.e.areaName(pt.area, l), "n", len(pt.lines)))
		out = append(out, pt.lines...)
	}
	return out
}

// missingToLeads tells each area's leads (and the admins, every area's)
// who of their people has not handed over the day's work orders. A
// technician belongs to the areas of the tickets of their handover (a
// roving electrician to each area they worked in that day).
func (c *call) missingToLeads(day string, list *DailyList, missing []*Handover) error {
	names := map[string][]string{}
	for i, h := range missing {
		for _, a := range c.handoverAreas(list, h) {
			names[a] = append(names[a], list.Missing[i])
		}
	}
	return c.areaDigest(names, false, c.areaRecipients, func(p *Person, parts []areaPart) {
		c.send(Message{To: p.Chat, Priority: PrioUrgent,
			Text: c.tl(p.Lang, "handover.missing", "date", dayLabel(day), "names", c.joinParts(p, parts, "、"))})
	})
}

// handoverAreas are the areas of a handover's tickets (its technician's
// areas when none of them is on the day's list).
func (c *call) handoverAreas(list *DailyList, h *Handover) []string {
	byTicket := map[string]string{}
	for _, ln := range list.Lines {
		byTicket[ln.Ticket] = ln.Area
	}
	var out []string
	for _, id := range h.Tickets {
		a, ok := byTicket[id]
		if !ok {
			continue
		}
		if a == "" {
			a = c.e.DefaultAreaKey()
		}
		if !contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		if tech, err := c.person(h.TechID); err == nil && tech != nil {
			return c.e.areasOf(tech)
		}
		return []string{c.e.DefaultAreaKey()}
	}
	return out
}

// mismatchesToOffice sends each area's mismatches between the repair log
// and the handed-over work orders to the area's customer-service clerks,
// or, when the area has none, to its leads and the admins.
func (c *call) mismatchesToOffice(day string, list *DailyList) error {
	lines := map[string][]string{}
	for i, m := range list.Mismatches {
		a := c.e.DefaultAreaKey()
		if i < len(list.mismatchAreas) && list.mismatchAreas[i] != "" {
			a = list.mismatchAreas[i]
		}
		lines[a] = append(lines[a], m)
	}
	clerks, err := c.tx.PeopleByRole(RoleDispatcher)
	if err != nil {
		return err
	}
	whom := func(area string) ([]*Person, error) {
		var out []*Person
		for _, p := range clerks {
			if p.Deactivated == nil && c.e.inArea(p, area) {
				out = append(out, p)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		return c.areaRecipients(area)
	}
	return c.areaDigest(lines, false, whom, func(p *Person, parts []areaPart) {
		ls := c.sectionParts(p, parts, p.Lang)
		n := 0
		for _, pt := range parts {
			n += len(pt.lines)
		}
		c.send(Message{To: p.Chat, Priority: PrioNormal,
			Text: c.tl(p.Lang, "handover.mismatch", "date", dayLabel(day), "n", n) + "\n" + strings.Join(ls, "\n")})
	})
}

// dailyBreakdown is the line "by area: …" under an admin's daily list
// when the engine serves several areas ("" otherwise).
func (c *call) dailyBreakdown(list *DailyList) string {
	if !c.e.multiArea() || c.e.scopeOf(c.me) != nil {
		return ""
	}
	n := map[string]int{}
	for _, ln := range list.Lines {
		a := ln.Area
		if a == "" {
			t, err := c.tx.Ticket(ln.Ticket)
			if err != nil {
				continue
			}
			a = c.e.areaOf(t)
		}
		n[a]++
	}
	return c.areaCounts(n, c.lang)
}

// reviewAreas are the areas of a review's triggering tickets: nil (every
// area) for the yearly review, one opened by hand, or when the engine
// serves one area.
func (c *call) reviewAreas(r *Review) []string {
	if !c.e.multiArea() || len(r.Tickets) == 0 {
		return nil
	}
	var out []string
	for _, id := range r.Tickets {
		t, err := c.tx.Ticket(id)
		if err != nil {
			continue
		}
		if a := c.e.areaOf(t); !contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// reviewConcerns reports whether p takes part in review r: everyone in
// the yearly review; the people of the triggering tickets' areas (and
// the admins) in a triggered one.
func (c *call) reviewConcerns(r *Review, p *Person) bool {
	areas := c.reviewAreas(r)
	if areas == nil {
		return true
	}
	for _, a := range areas {
		if c.e.inArea(p, a) {
			return true
		}
	}
	return false
}

// reviewLeads are the leads a review reaches, its first the owner: every
// lead and admin for the yearly review; the triggering tickets' area
// leads, then the admins, for a triggered one.
func (c *call) reviewLeads(r *Review) ([]*Person, error) {
	areas := c.reviewAreas(r)
	if areas == nil {
		return c.leads()
	}
	seen := map[string]bool{}
	var out []*Person
	for _, a := range areas {
		ls, err := c.areaLeads(a)
		if err != nil {
			return nil, err
		}
		for _, p := range ls {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	admins, err := c.admins()
	return append(out, admins...), err
}

// toReviewLeads tells a review's leads something (toLeads for a review).
func (c *call) toReviewLeads(r *Review, key string, kv ...any) error {
	ps, err := c.reviewLeads(r)
	if err != nil {
		return err
	}
	for _, p := range ps {
		c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Priority: PrioUrgent})
	}
	return nil
}

// sameReviewArea reports whether a triggering ticket joins the open
// triggered review r: always with one area; with several, when r's
// tickets are in the ticket's area (each area reviews its own incidents).
func (c *call) sameReviewArea(r *Review, ticketID string) bool {
	areas := c.reviewAreas(r)
	if areas == nil || ticketID == "" {
		return true
	}
	t, err := c.tx.Ticket(ticketID)
	if err != nil {
		return true
	}
	return contains(areas, c.e.areaOf(t))
}
