package flows

import "strconv"

// The door (SOP 4.1.2): ring the doorbell at most MaxRings times, or,
// where there is no doorbell, knock gently at most MaxKnocks times — one
// or the other, never both. Which a home takes is asked at its first
// visit and remembered on the resident's record (Person.Doorbell); "no
// one home" (visit.go) needs the chosen one exhausted.

// Visit.Bell values.
const (
	bellYes = "yes"
	bellNo  = "no"
)

// knownBell starts the door step with what was recorded at this home.
func (c *call) knownBell(t *Ticket) error {
	if t.Visit.Bell != "" {
		return nil
	}
	res, err := c.resident(t)
	if err != nil || res == nil || res.Doorbell == nil || res.Doorbell.Home != c.fullAddress(t) {
		return err
	}
	t.Visit.Bell = bellNo
	if res.Doorbell.Has {
		t.Visit.Bell = bellYes
	}
	return nil
}

// doorOp is a door-step button: whether there is a doorbell, a ring, a
// knock, or the resident answered.
func (c *call) doorOp(t *Ticket, op string, extra []string) error {
	v := t.Visit
	sop := c.e.SOP()
	note := ""
	switch op {
	case "bell":
		if v.Rings > 0 || v.Knocks > 0 {
			return Errorf(CodeConflict, "err.door_bell_fixed")
		}
		v.Bell = extra[0]
		if err := c.rememberBell(t, v.Bell == bellYes); err != nil {
			return err
		}
		note = v.Bell
		op = "doorbell"
	case "ring":
		switch {
		case v.Bell == "":
			return Errorf(CodeInvalid, "err.door_ask_first")
		case v.Bell == bellNo:
			return Errorf(CodeInvalid, "err.door_no_bell", "max", sop.MaxKnocks)
		case v.Rings >= sop.MaxRings:
			return Errorf(CodeConflict, "err.door_rings", "max", sop.MaxRings)
		}
		v.Rings++
		note = strconv.Itoa(v.Rings)
	case "knock":
		switch {
		case v.Bell == "":
			return Errorf(CodeInvalid, "err.door_ask_first")
		case v.Bell == bellYes:
			return Errorf(CodeInvalid, "err.door_has_bell", "max", sop.MaxRings)
		case v.Knocks >= sop.MaxKnocks:
			return Errorf(CodeConflict, "err.door_knocks", "max", sop.MaxKnocks)
		}
		v.Knocks++
		note = strconv.Itoa(v.Knocks)
	case "answered":
		st, _ := c.current(t)
		if err := c.needPhotos(t, st); err != nil {
			return err
		}
		v.Answered = true
		if err := c.record(t, "answered", ""); err != nil {
			return err
		}
		return c.advanceAndShow(t)
	default:
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if err := c.record(t, op, note); err != nil {
		return err
	}
	return c.show(t)
}

// rememberBell records on the resident's profile what the home's door has.
func (c *call) rememberBell(t *Ticket, has bool) error {
	res, err := c.resident(t)
	if err != nil || res == nil {
		return err
	}
	res.Doorbell = &Doorbell{Home: c.fullAddress(t), Has: has, By: c.me.ID, At: c.now}
	res.Updated = c.now
	return c.tx.PutPerson(res)
}

// doorExhausted reports whether the door rule of the visit's kind of door
// is used up, so "no one home" may be recorded; else the refusal.
func (c *call) doorExhausted(v *Visit) error {
	sop := c.e.SOP()
	switch v.Bell {
	case bellYes:
		if v.Rings >= sop.MaxRings {
			return nil
		}
		return Errorf(CodeInvalid, "err.door_not_done_bell", "max", sop.MaxRings)
	case bellNo:
		if v.Knocks >= sop.MaxKnocks {
			return nil
		}
		return Errorf(CodeInvalid, "err.door_not_done_knock", "max", sop.MaxKnocks)
	}
	return Errorf(CodeInvalid, "err.door_not_done", "rings", sop.MaxRings, "knocks", sop.MaxKnocks)
}

// doorCard is the door step's part of the step card: the question, or
// the counter of the one the home takes, with its buttons.
func (c *call) doorCard(t *Ticket, l Lang, btn func(label, op string, extra ...string) Button) (string, [][]Button) {
	v := t.Visit
	sop := c.e.SOP()
	var text string
	var rows [][]Button
	switch v.Bell {
	case bellYes:
		text = c.tl(l, "step.door_bell", "n", v.Rings, "max", sop.MaxRings)
		rows = append(rows, []Button{btn(c.tl(l, "btn.ring", "n", v.Rings, "max", sop.MaxRings), "ring"), btn(c.tl(l, "btn.answered"), "answered")})
		if v.Rings == 0 {
			rows = append(rows, []Button{btn(c.tl(l, "btn.bell_none"), "bell", bellNo)})
		}
	case bellNo:
		text = c.tl(l, "step.door_knock", "n", v.Knocks, "max", sop.MaxKnocks)
		rows = append(rows, []Button{btn(c.tl(l, "btn.knock", "n", v.Knocks, "max", sop.MaxKnocks), "knock"), btn(c.tl(l, "btn.answered"), "answered")})
		if v.Knocks == 0 {
			rows = append(rows, []Button{btn(c.tl(l, "btn.bell_has"), "bell", bellYes)})
		}
	default:
		text = c.tl(l, "step.door_ask", "max_rings", sop.MaxRings, "max_knocks", sop.MaxKnocks)
		rows = append(rows, []Button{btn(c.tl(l, "btn.has_bell"), "bell", bellYes), btn(c.tl(l, "btn.no_bell"), "bell", bellNo)},
			[]Button{btn(c.tl(l, "btn.answered"), "answered")})
	}
	if v.Bell != "" && v.Rings == 0 && v.Knocks == 0 {
		text += "\n" + c.tl(l, "step.door_remembered")
	}
	if c.doorExhausted(v) == nil {
		rows = append(rows, []Button{TicketButton(c.tl(l, "btn.no_one_home"), ActNoOneHome, t.ID)})
	}
	return text, rows
}
