package flows

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Areas (片区; estates, 小区, in the property profile): one bot serves
// several estates, each with its buildings, its technicians' group, its
// leads (area managers), its share of the duty roster, its service phone
// and optionally its own prices and service levels. A ticket's area is
// stored when it is filed and never inferred later; a person has a set of
// areas (a roving electrician has two; a resident the one of their home);
// a roster shift has one. Admins belong to every area.
//
// A configuration without areas has one, DefaultArea, made of the
// company-wide options (Options.Group, Options.ServicePhone), so nothing
// changes for it. Records written before areas have none; the store
// migrates them to the default area when it opens, and the engine reads an
// empty area as the default area (legacy.go) for a store that has not.

// DefaultArea is the key of the one area of a configuration without areas.
const DefaultArea = "main"

// Area is one estate or district the bot serves.
type Area struct {
	// Key is stored on tickets, people, roster shifts and posters: it
	// never changes meaning. ^[a-z][a-z0-9_]{0,11}$.
	Key string
	// Names are the area's name per language.
	Names map[Lang]string
	// Buildings are the area's buildings in button order ("1栋"...); a
	// resident registering picks one. Empty: the building is typed.
	Buildings []string
	// Group is the area's technicians' group; zero: Options.Group.
	Group Address
	// Leads are the person ids of the area's leads by configuration
	// (besides leads whose profile names the area): they belong to it.
	Leads []string
	// ServicePhone is the area's service-centre phone; "": Options.ServicePhone.
	ServicePhone string
	// AcceptWithin and ArriveWithin override the company's service levels
	// of normal tickets in the area (0: Options.SLA's).
	AcceptWithin, ArriveWithin time.Duration
	// Prices override the unit price (fen) of price-list items by code.
	Prices map[string]int64
}

var areaKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,11}$`)

// areaSet is the engine's areas in their configured order; the first is
// the default area, where records from before areas belong.
type areaSet struct {
	list []Area
}

// buildAreas checks Options.Areas and fills each area's defaults from
// the company-wide options; no areas make the one default area.
func buildAreas(o *Options) (areaSet, error) {
	if len(o.Areas) == 0 {
		return areaSet{list: []Area{{Key: DefaultArea, Group: o.Group, ServicePhone: o.ServicePhone}}}, nil
	}
	var s areaSet
	seen := map[string]bool{}
	for _, a := range o.Areas {
		if !areaKey.MatchString(a.Key) {
			return areaSet{}, fmt.Errorf("flows: area key %q must match %s", a.Key, areaKey)
		}
		if seen[a.Key] {
			return areaSet{}, fmt.Errorf("flows: area %q is listed twice", a.Key)
		}
		seen[a.Key] = true
		if a.Group.IsZero() {
			a.Group = o.Group
		}
		if a.ServicePhone == "" {
			a.ServicePhone = o.ServicePhone
		}
		a.Buildings = slices.Clone(a.Buildings)
		s.list = append(s.list, a)
	}
	return s, nil
}

// areaList is the areas in force (do not modify: an edit swaps a new set).
func (e *Engine) areaList() []Area { return e.areas.Load().list }

// Areas lists the engine's areas in order; the first is the default area.
func (e *Engine) Areas() []Area { return slices.Clone(e.areaList()) }

// DefaultAreaKey is the area records from before areas belong to.
func (e *Engine) DefaultAreaKey() string { return e.areaList()[0].Key }

// Area returns the area with that key.
func (e *Engine) Area(key string) (Area, bool) {
	for _, a := range e.areaList() {
		if a.Key == key {
			return a, true
		}
	}
	return Area{}, false
}

// multiArea reports whether the engine serves more than one area (the
// area then shows on cards and lists, and registration asks for it).
func (e *Engine) multiArea() bool { return len(e.areaList()) > 1 }

// areaOf is the ticket's area; an empty one is a ticket filed before
// areas, in the default area.
func (e *Engine) areaOf(t *Ticket) string {
	if t.Area == "" {
		return e.DefaultAreaKey()
	}
	return t.Area
}

// areasOf is the person's areas; none is a profile from before areas, in
// the default area. Admins belong to every area (inArea), whatever this says.
func (e *Engine) areasOf(p *Person) []string {
	if len(p.Areas) == 0 {
		return []string{e.DefaultAreaKey()}
	}
	return p.Areas
}

// inArea reports whether p belongs to the area: an admin always, a lead
// the configuration names for it, anyone whose profile lists it.
func (e *Engine) inArea(p *Person, area string) bool {
	if p == nil {
		return false
	}
	if p.Role == RoleAdmin || slices.Contains(e.areasOf(p), area) {
		return true
	}
	a, ok := e.Area(area)
	return ok && p.Role.IsLead() && slices.Contains(a.Leads, p.ID)
}

// InArea reports whether p belongs to the area by the records alone (the
// check Authorize makes): an admin always, else p.Areas lists it. A
// profile without areas is one from before areas, in DefaultArea; the
// engine reads such records in its own default area before it asks.
func (p *Person) InArea(area string) bool {
	if p == nil {
		return false
	}
	if p.Role == RoleAdmin {
		return true
	}
	if len(p.Areas) == 0 {
		return area == DefaultArea || area == ""
	}
	return slices.Contains(p.Areas, area)
}

// AreaKey is the ticket's area by the record alone: an empty one is a
// ticket filed before areas, in DefaultArea.
func (t *Ticket) AreaKey() string {
	if t.Area == "" {
		return DefaultArea
	}
	return t.Area
}

// InAreas reports whether an area key is one of areas (nil: every area):
// the filter of a lead's reports and files (KPIOptions.Areas, Export.Areas).
func InAreas(areas []string, key string) bool {
	return areas == nil || slices.Contains(areas, key)
}

// AreaName is the area's name in l (its key when it has none): the
// renderer's label of an area in reports broken down by area.
func (e *Engine) AreaName(key string, l Lang) string { return e.areaName(key, l) }

// areaName is the area's name in l (its key when it has none).
func (e *Engine) areaName(key string, l Lang) string {
	a, ok := e.Area(key)
	if !ok {
		return key
	}
	if n := a.Names[l]; n != "" {
		return n
	}
	if n := a.Names[LangZH]; n != "" {
		return n
	}
	return key
}

// areaWordKey is the catalog key of what an area is called in the
// deployment's profile: 片区 (rental) or 小区 / estate (property).
func (c *call) areaWord(l Lang) string { return c.tl(l, "areas.word."+c.e.o.Profile) }

// groupOf is the technicians' group a ticket's card goes to: its area's.
func (c *call) groupOf(t *Ticket) Address {
	if a, ok := c.e.Area(c.e.areaOf(t)); ok {
		return a.Group
	}
	return c.e.o.Group
}

// areaLeads are the area's leads: active leads who belong to it (never
// the admins, who are the next rung of the ladder).
func (c *call) areaLeads(area string) ([]*Person, error) {
	ps, err := c.tx.PeopleByRole(RoleLead)
	if err != nil {
		return nil, err
	}
	var out []*Person
	for _, p := range ps {
		if p.Deactivated == nil && c.e.inArea(p, area) {
			out = append(out, p)
		}
	}
	return out, nil
}

// admins are the active admins, who see every area.
func (c *call) admins() ([]*Person, error) {
	ps, err := c.tx.PeopleByRole(RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out []*Person
	for _, p := range ps {
		if p.Deactivated == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// ticketLeads are whom a ticket's escalation reaches: its area's leads,
// then the company's admins (c.leads for a ticket).
func (c *call) ticketLeads(t *Ticket) ([]*Person, error) {
	leads, err := c.areaLeads(c.e.areaOf(t))
	if err != nil {
		return nil, err
	}
	admins, err := c.admins()
	return append(leads, admins...), err
}

// toTicketLeads tells a ticket's area leads and the admins something
// (toLeads for a ticket).
func (c *call) toTicketLeads(t *Ticket, key string, kv ...any) error {
	ps, err := c.ticketLeads(t)
	if err != nil {
		return err
	}
	for _, p := range ps {
		c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Priority: PrioUrgent})
	}
	return nil
}

// areaSLA is the service levels of normal tickets in the ticket's area.
func (c *call) areaSLA(t *Ticket) SLAOptions {
	sla := c.e.o.SLA
	if a, ok := c.e.Area(c.e.areaOf(t)); ok {
		if a.AcceptWithin > 0 {
			sla.AcceptWithin = a.AcceptWithin
		}
		if a.ArriveWithin > 0 {
			sla.ArriveWithin = a.ArriveWithin
		}
	}
	return sla
}

// reportArea is the area a new ticket of resident res is filed in: the
// area of their home (their profile's one area), the default area for a
// profile from before areas.
func (c *call) reportArea(res *Person) string {
	areas := c.e.areasOf(res)
	if res.Role == RoleResident && len(areas) > 0 {
		if _, ok := c.e.Area(areas[0]); ok {
			return areas[0]
		}
	}
	return c.e.DefaultAreaKey()
}

// inviteAreas are the areas a new staff member joins: the one the
// inviter named (which they must belong to), or the inviter's own.
func (c *call) inviteAreas(named string) ([]string, error) {
	if named == "" {
		if c.me.Role == RoleAdmin {
			return []string{c.e.DefaultAreaKey()}, nil
		}
		return slices.Clone(c.e.areasOf(c.me)), nil
	}
	if _, ok := c.e.Area(named); !ok {
		return nil, Errorf(CodeInvalid, "areas.unknown", "area", named, "areas", c.areaKeys())
	}
	if !c.e.inArea(c.me, named) {
		return nil, Errorf(CodeForbidden, "areas.not_yours", "area", c.e.areaName(named, c.lang))
	}
	return []string{named}, nil
}

// joinAreas are the areas of a person who redeems inv: its areas, those
// of the areas still configured; the default area when none is.
func (c *call) joinAreas(inv *Invite) []string {
	var out []string
	for _, a := range inv.Areas {
		if _, ok := c.e.Area(a); ok {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []string{c.e.DefaultAreaKey()}
	}
	return out
}

// areaKeys lists the areas' keys with their names, for a usage answer.
func (c *call) areaKeys() string {
	var parts []string
	for _, a := range c.e.areaList() {
		parts = append(parts, a.Key+" ("+c.e.areaName(a.Key, c.lang)+")")
	}
	return strings.Join(parts, c.t("order.sep"))
}

// areaRoster is the roster's shifts of one area ("" every area); a shift
// from before areas is the default area's.
func (c *call) areaRoster(r *Roster, area string) *Roster {
	if r == nil || area == "" {
		return r
	}
	out := *r
	out.Shifts = nil
	for _, s := range r.Shifts {
		if s.Area == area || s.Area == "" && area == c.e.DefaultAreaKey() {
			out.Shifts = append(out.Shifts, s)
		}
	}
	return &out
}

// inAreaIDs keeps the person ids of people who belong to the area (""
// keeps them all).
func (c *call) inAreaIDs(ids []string, area string) ([]string, error) {
	if area == "" {
		return ids, nil
	}
	var out []string
	for _, id := range ids {
		p, err := c.person(id)
		if err != nil {
			return nil, err
		}
		if p != nil && c.e.inArea(p, area) {
			out = append(out, id)
		}
	}
	return out, nil
}

// rungPeople are whom an emergency's rung n reaches beyond the on-duty
// technicians: rung 2 the ticket's area leads (the admins when the area
// has none), rung 3 the company's admins.
func (c *call) rungPeople(t *Ticket, n int) ([]*Person, error) {
	if n == 2 {
		leads, err := c.areaLeads(c.e.areaOf(t))
		if err != nil || len(leads) > 0 {
			return leads, err
		}
	}
	return c.admins()
}

// ensureAreaLeads gives a lead the configuration names for areas those
// areas in their profile, so every check of the records (Authorize, the
// console) finds them there.
func (c *call) ensureAreaLeads() error { return c.writeLeadAreas(c.me) }

// writeLeadAreas writes into lead p's profile the areas that name them
// among their leads (a profile from before areas keeps its default area).
func (c *call) writeLeadAreas(p *Person) error {
	if p == nil || !p.Active() || p.Role != RoleLead {
		return nil
	}
	var areas []string
	for _, a := range c.e.areaList() {
		if slices.Contains(a.Leads, p.ID) && !slices.Contains(c.e.areasOf(p), a.Key) {
			areas = append(areas, a.Key)
		}
	}
	if len(areas) == 0 {
		return nil
	}
	p.Areas = append(slices.Clone(c.e.areasOf(p)), areas...)
	p.Updated = c.now
	return c.tx.PutPerson(p)
}

// LeadAreas writes the configured leads' areas into their profiles at
// start-up, so a lead named in [[areas]] leads is in their areas in
// every check of the records (the console, the store's lists) before
// their next message.
func (e *Engine) LeadAreas(ctx context.Context) error {
	return e.o.Store.Update(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang, ev: Event{Kind: EvNone, From: Sender{ID: "system"}}}
		seen := map[string]bool{}
		for _, a := range e.areaList() {
			for _, id := range a.Leads {
				if seen[id] {
					continue
				}
				seen[id] = true
				p, err := c.person(id)
				if err != nil {
					return err
				}
				if err := c.writeLeadAreas(p); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// areaCents is a price-list item's unit price in the ticket's area: the
// area's override, or the SOP's.
func (c *call) areaCents(t *Ticket, p PriceItem) int64 {
	if a, ok := c.e.Area(c.e.areaOf(t)); ok {
		if cents, ok := a.Prices[p.Code]; ok {
			return cents
		}
	}
	return p.Cents
}
