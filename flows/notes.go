package flows

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// A resident's own words about their open ticket, typed when no dialogue
// waits for them ("好的，请进" at the entry consent, "灯还是有点闪" at the
// work order): they reach the technician who holds the job and the
// ticket's audit trail, and a card waiting for the resident gets a pointer
// to its buttons.

// openTicket is the resident's open ticket they or their technician last
// moved, nil when they have none.
func (c *call) openTicket() (*Ticket, error) {
	ts, err := c.tx.TicketsByResident(c.me.ID, 10)
	if err != nil {
		return nil, err
	}
	var open []*Ticket
	for _, t := range ts {
		if t.State.Open() {
			open = append(open, t)
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	sort.SliceStable(open, func(i, j int) bool { return open[i].Updated.After(open[j].Updated) })
	return open[0], nil
}

// holdsJob is every state in which a technician holds the job, the visit
// and its sign-off included.
var holdsJob = append([]State{StateDone, StateConfirmed}, working...)

// residentText handles a resident's text about their open ticket; handled
// is false when they have none, and the caller answers as before.
func (c *call) residentText() (handled bool, err error) {
	t, err := c.openTicket()
	if err != nil || t == nil {
		return false, err
	}
	text := cleanText(strings.TrimSpace(c.ev.Text), 0)
	if text == "" {
		return true, Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
		return true, Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	pointer := c.pointer(t)
	switch {
	case t.AssigneeID != "" && hasState(holdsJob, t.State):
		if err := c.record(t, "resident_note", text); err != nil {
			return true, err
		}
		if err := c.noteToTech(t, text); err != nil {
			return true, err
		}
		c.reply(joinLines(c.t("note.passed", "ticket", t.ID, "name", t.Assignee), pointer))
	case t.State == StateNew:
		// Nobody took it yet: the words join the report the technician will read.
		t.Description = summary(t.Description+"\n"+text, c.e.o.MaxDescription)
		if err := c.record(t, "resident_note", text); err != nil {
			return true, err
		}
		c.groupCard(t, false)
		c.reply(c.t("note.added", "ticket", t.ID))
	case pointer != "":
		c.reply(pointer)
	default:
		return false, nil
	}
	return true, nil
}

// noteToTech gives the technician the resident's words: on the step card,
// posted anew under their thumb, during the checklist; otherwise as a
// message of its own.
func (c *call) noteToTech(t *Ticket, text string) error {
	res := c.me.Name
	if onChecklist(t) {
		return c.putCard(t, "note.to_tech", "ticket", t.ID, "name", res, "text", text)
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	c.tell(tech, "note.to_tech", []any{"ticket", t.ID, "name", res, "text", text})
	return nil
}

// pointer tells the resident which buttons of which card wait for them on
// t, in their words; "" when none does.
func (c *call) pointer(t *Ticket) string {
	switch t.State {
	case StateOnSite:
		st, _ := c.current(t)
		switch {
		case st.Kind == StepEntry && t.Visit != nil && t.Visit.Entry == "":
			return c.t("note.point_entry", "button", c.t("btn.entry_ok"))
		case st.Kind == StepQuote && t.Visit != nil && t.Visit.Quote != nil && t.Visit.Quote.Status == "sent":
			return c.t("note.point_quote", "ok", c.t("btn.quote_ok"), "no", c.t("btn.quote_no"))
		}
	case StateDone:
		return c.t("note.point_signoff", "fixed", c.t("btn.fixed"), "not_fixed", c.t("btn.not_fixed"), "fee", c.t("btn.fee_query"))
	case StateSurvey:
		return c.t("note.point_score")
	case StateWaiting:
		if t.AgreedTime == nil {
			return c.t("note.point_slots")
		}
	}
	return ""
}

// joinLines joins the non-empty lines.
func joinLines(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
