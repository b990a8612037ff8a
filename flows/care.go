package flows

import (
	"slices"
	"strings"
)

// Care notes (SOP 4.2.4: explain what the resident should mind): the
// step needs at least one, a typical note of the ticket's category from
// the SOP file (a button, Visit.CareNotes) or the technician's own words
// (Visit.Care).

// careNotesFor are the SOP's typical notes offered for the ticket.
func (c *call) careNotesFor(t *Ticket) []CareNote {
	var out []CareNote
	for _, n := range c.e.SOP().CareNotes {
		if n.Category == "" || n.Category == t.Category {
			out = append(out, n)
		}
	}
	return out
}

// careOp is a care-step button: a typical note tapped (again: taken
// back), or "next" once at least one note is recorded.
func (c *call) careOp(t *Ticket, st Step, op string, extra []string) error {
	v := t.Visit
	switch op {
	case "note":
		if !slices.ContainsFunc(c.careNotesFor(t), func(n CareNote) bool { return n.ID == extra[0] }) {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		action := "care_note_added"
		if i := slices.Index(v.CareNotes, extra[0]); i >= 0 {
			v.CareNotes = slices.Delete(v.CareNotes, i, i+1)
			action = "care_note_removed"
		} else {
			v.CareNotes = append(v.CareNotes, extra[0])
		}
		if err := c.record(t, action, extra[0]); err != nil {
			return err
		}
		return c.show(t)
	case "next":
		if len(v.CareNotes) == 0 && v.Care == "" {
			return Errorf(CodeInvalid, "err.care_needed")
		}
		if err := c.needPhotos(t, st); err != nil {
			return err
		}
		if err := c.record(t, "care", c.careText(t, c.e.o.DefaultLang)); err != nil {
			return err
		}
		return c.advanceAndShow(t)
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// careText is every care note recorded for the visit, in a language.
func (c *call) careText(t *Ticket, l Lang) string {
	var parts []string
	for _, id := range t.Visit.CareNotes {
		if n, ok := c.e.SOP().careNote(id); ok && n.Text[l] != "" {
			parts = append(parts, n.Text[l])
		} else {
			parts = append(parts, id) // a note a later version removed
		}
	}
	if t.Visit.Care != "" {
		parts = append(parts, t.Visit.Care)
	}
	return strings.Join(parts, c.tl(l, "order.sep"))
}

// careCard is the care step's part of the step card: what is recorded,
// the typical notes as buttons (✅ when explained), and "done".
func (c *call) careCard(t *Ticket, l Lang, btn func(label, op string, extra ...string) Button) (string, [][]Button) {
	text := c.tl(l, "step.care_ask")
	if got := c.careText(t, l); got != "" {
		text = c.tl(l, "step.care_is", "note", got)
	}
	var rows [][]Button
	for _, n := range c.careNotesFor(t) {
		mark := "▫️ "
		if slices.Contains(t.Visit.CareNotes, n.ID) {
			mark = "✅ "
		}
		rows = append(rows, []Button{btn(mark+summary(n.Text[l], 40), "note", n.ID)})
	}
	rows = append(rows, []Button{btn(c.tl(l, "btn.care_done"), "next")})
	return text, rows
}
