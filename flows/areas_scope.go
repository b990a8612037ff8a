package flows

import (
	"errors"
	"slices"
	"strings"
)

// Scope: a lead or a customer-service clerk sees and acts on their areas
// only — /open, /daily, /month, the handovers they review, the duty they
// change, the fee questions they answer, the staff they manage — and the
// company's admins see every area, with the reports broken down by area.

// scopeOf is the areas person p sees: nil (every area) for an admin, and
// for anyone while the engine serves one area.
func (e *Engine) scopeOf(p *Person) []string {
	if p == nil || p.Role == RoleAdmin || !e.multiArea() {
		return nil
	}
	var out []string
	for _, a := range e.areaList() {
		if e.inArea(p, a.Key) {
			out = append(out, a.Key)
		}
	}
	if out == nil {
		out = []string{} // in no configured area: sees nothing
	}
	return out
}

// exportAreas is a scope as Export.Areas: nil for every area; a scope of
// no area becomes a key no area has ("-", outside areaKey), so its file
// is empty rather than everything (an empty list is not kept in JSON).
func exportAreas(scope []string) []string {
	if scope != nil && len(scope) == 0 {
		return []string{"-"}
	}
	return scope
}

// inScope reports whether a ticket is in the areas of scope (nil: all).
func (e *Engine) inScope(scope []string, t *Ticket) bool {
	return scope == nil || slices.Contains(scope, e.areaOf(t))
}

// scoped keeps the tickets in the sender's areas.
func (c *call) scoped(ts []*Ticket) []*Ticket {
	scope := c.e.scopeOf(c.me)
	if scope == nil {
		return ts
	}
	var out []*Ticket
	for _, t := range ts {
		if c.e.inScope(scope, t) {
			out = append(out, t)
		}
	}
	return out
}

// scopedBy keeps the records (phone callbacks, QC reviews) whose ticket
// is in the sender's areas (all of them for an admin).
func scopedBy[T any](c *call, xs []T, ticket func(T) string) ([]T, error) {
	scope := c.e.scopeOf(c.me)
	if scope == nil {
		return xs, nil
	}
	var out []T
	for _, x := range xs {
		t, err := c.tx.Ticket(ticket(x))
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if t != nil && c.e.inScope(scope, t) {
			out = append(out, x)
		}
	}
	return out, nil
}

// areaBreakdown is the line "by area: east 3 · west 5" of a report an
// admin reads when the engine serves several areas ("" otherwise).
func (c *call) areaBreakdown(ts []*Ticket) string {
	if !c.e.multiArea() || c.e.scopeOf(c.me) != nil {
		return ""
	}
	n := map[string]int{}
	for _, t := range ts {
		n[c.e.areaOf(t)]++
	}
	return c.areaCounts(n, c.lang)
}

// areaCounts renders counts by area in the areas' order, in l.
func (c *call) areaCounts(n map[string]int, l Lang) string { return c.areaCountsIn(n, nil, l) }

// areaCountsIn is areaCounts of the areas only (nil: every area).
func (c *call) areaCountsIn(n map[string]int, areas []string, l Lang) string {
	var parts []string
	for _, a := range c.e.areaList() {
		if areas != nil && !slices.Contains(areas, a.Key) {
			continue
		}
		parts = append(parts, c.tl(l, "areas.count", "area", c.e.areaName(a.Key, l), "n", n[a.Key]))
	}
	return "\n" + c.tl(l, "areas.breakdown", "word", c.areaWord(l), "list", strings.Join(parts, c.tl(l, "order.sep")))
}

// scopedDaily keeps the lines of a daily list (and its mismatches, which
// name their ticket) in the sender's areas.
func (c *call) scopedDaily(list *DailyList) (*DailyList, error) {
	scope := c.e.scopeOf(c.me)
	if scope == nil {
		return list, nil
	}
	out := *list
	out.Lines, out.Mismatches = nil, nil
	var hidden []string
	for _, ln := range list.Lines {
		t, err := c.tx.Ticket(ln.Ticket)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if t != nil && c.e.inScope(scope, t) {
			out.Lines = append(out.Lines, ln)
		} else {
			hidden = append(hidden, ln.Ticket)
		}
	}
	for _, m := range list.Mismatches {
		if !slices.ContainsFunc(hidden, func(id string) bool { return strings.Contains(m, id) }) {
			out.Mismatches = append(out.Mismatches, m)
		}
	}
	return &out, nil
}

// ---- the area column of the button table ----

// areaArg reads the areas of the record a button names (a ticket, a
// person) from its arguments; the dispatcher refuses someone who belongs
// to none of them, like a role the row does not list.
type areaArg func(c *call, args []string) ([]string, error)

// ticketAt is the area of the ticket at argument i.
func ticketAt(i int) areaArg {
	return func(c *call, args []string) ([]string, error) {
		t, err := c.tx.Ticket(args[i])
		if isNotFound(err) {
			return nil, nil // the handler answers that there is no such ticket
		}
		if err != nil {
			return nil, err
		}
		return []string{c.e.areaOf(t)}, nil
	}
}

// personAt is the areas of the person at argument i.
func personAt(i int) areaArg {
	return func(c *call, args []string) ([]string, error) {
		p, err := c.person(args[i])
		if err != nil || p == nil {
			return nil, err
		}
		return c.e.areasOf(p), nil
	}
}

// checkArea applies a row's area column: the sender must belong to one
// of the record's areas (an admin to every one; no record, no check).
func (c *call) checkArea(arg areaArg, args []string) error {
	if arg == nil || c.me == nil || c.me.Role == RoleAdmin {
		return nil
	}
	areas, err := arg(c, args)
	if err != nil || areas == nil {
		return err
	}
	for _, a := range areas {
		if c.e.inArea(c.me, a) {
			return nil
		}
	}
	return Errorf(CodeForbidden, "areas.not_in_area", "area", c.e.areaName(areas[0], c.lang))
}

// staffLeads are the leads of a staff member's areas, then the admins:
// who reviews their handover.
func (c *call) staffLeads(p *Person) ([]*Person, error) {
	seen := map[string]bool{}
	var out []*Person
	for _, a := range c.e.areasOf(p) {
		leads, err := c.areaLeads(a)
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			if !seen[l.ID] {
				seen[l.ID] = true
				out = append(out, l)
			}
		}
	}
	admins, err := c.admins()
	return append(out, admins...), err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
