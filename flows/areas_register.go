package flows

import (
	"slices"
	"strconv"
	"strings"
)

// Residents register into an area: after their phone they pick the
// estate (when the bot serves several) and the building (when the area
// lists its buildings) from buttons; a QR poster's link (posters.go) has
// both chosen already. One area without a building list asks as before:
// the building is typed.

// Dialogue steps of the registration's area questions.
const stepArea = "area"

// choiceArea and choiceBuilding are the kinds of the registration's
// buttons' values ("area:<key>", "bld:<index>"), stored in sent buttons.
const (
	choiceArea     = "area"
	choiceBuilding = "bld"
)

// registerWhere asks the first of the area and building questions the
// draft has not answered, or the unit once both are.
func (c *call) registerWhere(d *Dialogue) error {
	if d.Area == "" && !c.e.multiArea() {
		d.Area = c.e.DefaultAreaKey()
	}
	switch {
	case d.Area == "":
		d.Step = stepArea
		c.bump(d)
		var rows [][]Button
		for _, a := range c.e.areaList() {
			rows = append(rows, []Button{DialogueButton(c.e.areaName(a.Key, c.lang), d.Seq, choiceArea+":"+a.Key)})
		}
		c.send(Message{To: c.ev.From.Chat, Text: c.t("areas.ask_area", "word", c.areaWord(c.lang)), Buttons: rows, RemoveKeyboard: true, Priority: PrioNormal})
	case d.Building == "":
		d.Step = stepBuilding
		c.bump(d)
		a, _ := c.e.Area(d.Area)
		if len(a.Buildings) == 0 {
			c.send(Message{To: c.ev.From.Chat, Text: c.t("register.ask_building"), RemoveKeyboard: true, Priority: PrioNormal})
			break
		}
		c.send(Message{To: c.ev.From.Chat, Text: c.t("areas.ask_building", "area", c.e.areaName(a.Key, c.lang)),
			Buttons: buildingRows(a, d.Seq), RemoveKeyboard: true, Priority: PrioNormal})
	default:
		d.Step = stepUnit
		c.bump(d)
		c.reply(c.t("register.ask_unit"))
	}
	return c.tx.PutDialogue(d)
}

// buildingRows are an area's buildings as buttons, four to a row.
func buildingRows(a Area, seq int) [][]Button {
	var rows [][]Button
	for i, b := range a.Buildings {
		if i%4 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], DialogueButton(b, seq, choiceBuilding+":"+strconv.Itoa(i)))
	}
	return rows
}

// registerChoice takes the area and building buttons of registration.
func (c *call) registerChoice(d *Dialogue, v string) error {
	kind, arg, _ := strings.Cut(v, ":")
	switch {
	case kind == choiceArea && d.Step == stepArea:
		if _, ok := c.e.Area(arg); !ok {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		d.Area, d.Building = arg, ""
	case kind == choiceBuilding && d.Step == stepBuilding:
		a, _ := c.e.Area(d.Area)
		i, err := strconv.Atoi(arg)
		if err != nil || i < 0 || i >= len(a.Buildings) {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		d.Building = a.Buildings[i]
	default:
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	c.toast = c.t("ok")
	return c.registerWhere(d)
}

// typedBuilding checks a typed building against the area's list: an
// area that lists its buildings takes one of them (typed exactly, or
// with the buttons).
func (c *call) typedBuilding(d *Dialogue, v string) error {
	a, ok := c.e.Area(d.Area)
	if !ok || len(a.Buildings) == 0 || slices.Contains(a.Buildings, v) {
		return nil
	}
	return Errorf(CodeInvalid, "areas.pick_building", "area", c.e.areaName(a.Key, c.lang))
}

// registeredArea is the area a finished registration puts the resident in.
func (c *call) registeredArea(d *Dialogue) []string {
	if _, ok := c.e.Area(d.Area); ok {
		return []string{d.Area}
	}
	return []string{c.e.DefaultAreaKey()}
}
