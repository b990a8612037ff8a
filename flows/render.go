package flows

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// GroupCardKey names a ticket's dispatch card in the outbox's card index.
func GroupCardKey(ticketID string) string { return "grp:" + ticketID }

// groupCard renders the dispatch card in the group's language. A new card is
// sent; afterwards the same card is edited, never re-sent.
func (c *call) groupCard(t *Ticket, isNew bool) { c.postCard(t, isNew, false) }

// postCard renders the group card and queues it when it changed; refresh
// marks an edit that only moves the card's clock (Message.Refresh).
func (c *call) postCard(t *Ticket, isNew, refresh bool) {
	c.tellFollowers(t)    // the same moments the group sees (repeats.go)
	group := c.groupOf(t) // its area's (areas.go)
	if group.IsZero() {
		return
	}
	l := c.e.o.DefaultLang
	var b strings.Builder
	if em, ok := c.e.emergency(t.Emergency); ok {
		b.WriteString(c.tl(l, "card.head_urgent", "ticket", t.ID, "type", em.Labels[l]))
	} else {
		b.WriteString(c.tl(l, "card.head", "ticket", t.ID, "category", c.categoryLabel(t.Category, l)))
	}
	b.WriteString("\n")
	b.WriteString(c.tl(l, "card.body",
		"address", shortAddress(t),
		"summary", summary(t.Description, 80),
		"photos", len(t.Photos),
		"kind", c.tl(l, "kind."+string(t.Kind)),
		"when", c.whenText(t, l)))
	if need := c.needLine(t, l); need != "" {
		b.WriteString("\n" + need)
	}
	b.WriteString("\n— ")
	step := ""
	if st, i := c.current(t); i >= 0 {
		step = st.Title[l]
	}
	statusKey := "card.status." + string(t.State)
	switch {
	case t.Closure != "":
		statusKey = "card.status." + t.Closure
	case t.State == StateDone && t.Signer == SignoffLead:
		statusKey = "card.status.done_lead"
	}
	status := c.tl(l, statusKey,
		"name", t.Assignee,
		"time", c.clock(statusTime(t)),
		"score", t.Score,
		"n", t.Reworks,
		"step", step)
	b.WriteString(status)
	if t.Visit != nil && t.Visit.Help && t.State.Open() {
		b.WriteString(" " + c.tl(l, "card.help"))
	}
	if t.Reworks > 0 && t.State.Open() {
		b.WriteString(" " + c.tl(l, "card.reworks", "n", t.Reworks))
	}
	if t.RepeatOf != "" {
		b.WriteString("\n" + c.tl(l, "card.repeat", "prev", t.RepeatOf))
	}
	if sla := c.slaLine(t, l); sla != "" {
		b.WriteString("\n" + sla)
	}
	if tl := c.timeline(t, l); tl != "" {
		b.WriteString("\n")
		b.WriteString(tl)
	}
	m := Message{To: group, Text: b.String(), CardKey: GroupCardKey(t.ID), Ticket: t.ID, Priority: PrioEdit, Kind: KindEdit, Refresh: refresh, Status: status}
	if isNew {
		m.Kind, m.Priority = KindSend, PrioNormal
	}
	if t.State == StateNew {
		m.Buttons = [][]Button{{TicketButton(c.tl(l, "btn.accept"), ActAccept, t.ID)}}
	}
	h := fnv.New64a()
	h.Write([]byte(m.Text))
	for _, row := range m.Buttons {
		for _, b := range row {
			h.Write([]byte("\x00" + b.Data))
		}
	}
	sum := strconv.FormatUint(h.Sum64(), 36)
	if !isNew && sum == t.CardHash {
		return
	}
	t.CardHash = sum
	c.dirty = append(c.dirty, t)
	c.send(m)
}

// statusTime is when the ticket entered its state, as the card's status
// line shows it: the arrival is the arrival (the footer's time), not the
// latest step.
func statusTime(t *Ticket) time.Time {
	at := t.Updated
	switch t.State {
	case StateAccepted:
		at = derefOr(t.Accepted, at)
	case StateOnSite:
		at = derefOr(t.Arrived, at)
	case StateWaiting:
		at = derefOr(t.WaitingSince, at)
	case StateDone:
		at = derefOr(t.Finished, at)
	case StateClosed, StateUnresolved:
		at = derefOr(t.Closed, at)
	}
	return at
}

func derefOr(p *time.Time, def time.Time) time.Time {
	if p == nil {
		return def
	}
	return *p
}

// slaLine shows the clock on the card: an emergency's arrival deadline
// (an absolute time, always true without per-minute edits), then who was
// told once it passed; for normal tickets, any breach.
func (c *call) slaLine(t *Ticket, l Lang) string {
	if !t.State.Open() {
		if len(t.Breaches) > 0 {
			return c.tl(l, "card.sla_breached", "what", c.breachText(t, l))
		}
		return ""
	}
	if em, ok := c.e.emergency(t.Emergency); ok && t.Arrived == nil {
		due := t.Created.Add(em.ArriveWithin)
		deadline := c.clock(due)
		left := int(due.Sub(c.now).Minutes() + 0.999) // whole minutes, rounded up
		over := c.overdue(c.now.Sub(due), l)
		switch {
		case t.Escalation >= 3:
			return c.tl(l, "card.sla_manager", "deadline", deadline, "over", over)
		case t.Escalation == 2:
			return c.tl(l, "card.sla_lead", "deadline", deadline, "over", over)
		case !c.now.Before(due):
			// Past the deadline before its rung has fired: late, not "0 left".
			return c.tl(l, "card.sla_over", "deadline", deadline, "over", over)
		case t.Escalation == 1:
			return c.tl(l, "card.sla_repaged", "deadline", deadline, "n", max(left, 0))
		}
		return c.tl(l, "card.sla_deadline", "deadline", deadline, "n", max(left, 0))
	}
	if len(t.Breaches) > 0 {
		return c.tl(l, "card.sla_breached", "what", c.breachText(t, l))
	}
	return ""
}

func (c *call) breachText(t *Ticket, l Lang) string {
	var parts []string
	for _, b := range t.Breaches {
		parts = append(parts, c.tl(l, "sla.breach_"+b))
	}
	return strings.Join(parts, c.tl(l, "order.sep"))
}

// timeline lists the ticket's milestones so the lead sees at a glance how
// long each step took: reported 07:30 · accepted 07:33 · on site 07:50 ...
func (c *call) timeline(t *Ticket, l Lang) string {
	var parts []string
	add := func(key string, at *time.Time) {
		if at != nil {
			parts = append(parts, c.tl(l, key, "time", c.clock(*at)))
		}
	}
	created := t.Created
	add("card.t_reported", &created)
	add("card.t_accepted", t.Accepted)
	add("card.t_arrived", t.Arrived)
	add("card.t_finished", t.Finished)
	add("card.t_closed", t.Closed)
	if len(parts) < 2 {
		return ""
	}
	return strings.Join(parts, " · ")
}

func summary(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// shortAddress is what the group may see: building and unit, never the
// room; a public fault's place.
func shortAddress(t *Ticket) string {
	if isPublicPlace(t) {
		return t.Place
	}
	return t.Building + " / " + t.Unit
}

func (c *call) fullAddress(t *Ticket) string {
	if isPublicPlace(t) {
		return t.Place
	}
	return t.Building + " / " + t.Unit + " / " + t.Room
}

func personAddress(p *Person) string { return p.Building + " / " + p.Unit + " / " + p.Room }

func (c *call) categoryLabel(key string, l Lang) string {
	if cat, ok := c.e.cats[key]; ok {
		if s := cat.Labels[l]; s != "" {
			return s
		}
		for _, s := range cat.Labels {
			return s
		}
	}
	return key
}

func (c *call) stateLabel(s State, l Lang) string { return c.tl(l, "state."+string(s)) }

func (c *call) roleTitle(r Role) string { return c.roleTitleIn(c.lang, r) }

func (c *call) roleTitleIn(l Lang, r Role) string {
	return c.tl(l, "role."+string(r)+"."+c.e.o.Profile)
}

func (c *call) whenText(t *Ticket, l Lang) string {
	if t.AgreedTime == nil {
		return c.tl(l, "when.asap")
	}
	return c.tl(l, "when.at", "time", c.localTime(*t.AgreedTime))
}

func (c *call) localTime(t time.Time) string { return t.In(c.e.o.Location).Format("2006-01-02 15:04") }

func (c *call) clock(t time.Time) string { return t.In(c.e.o.Location).Format("15:04") }
