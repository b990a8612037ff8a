package flows

import (
	"strings"
	"time"
)

// The duty roster: who is paged for an emergency now, the configured
// roster with the leads' live changes.

// DutyOverride is a lead's live change to the roster: a person on (or off)
// duty until a time, whatever the configured roster says.
type DutyOverride struct {
	PersonID string    `json:"person_id"`
	Off      bool      `json:"off,omitempty"`
	Until    time.Time `json:"until"`
	By       string    `json:"by"`
}

// onDuty is the roster at now (the weekly pattern, and Options.OnDuty)
// with the leads' live overrides applied, in every area.
func (c *call) onDuty() ([]string, error) { return c.onDutyIn("") }

// onDutyIn is onDuty in one area (areas.go; "" every area): the area's
// shifts, and of the people Options.OnDuty names and the leads put on
// duty, those who belong to the area.
func (c *call) onDutyIn(area string) ([]string, error) {
	r, err := c.roster()
	if err != nil {
		return nil, err
	}
	ids := c.areaRoster(r, area).OnDutyAt(c.now, c.e.o.Location)
	if c.e.o.OnDuty != nil {
		ext, err := c.inAreaIDs(c.e.o.OnDuty(c.now), area)
		if err != nil {
			return nil, err
		}
		ids = append(ids, ext...)
	}
	overrides, err := c.tx.DutyOverrides()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	for _, o := range overrides {
		if !o.Until.After(c.now) {
			continue
		}
		if in, err := c.inAreaIDs([]string{o.PersonID}, area); err != nil || len(in) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		if o.Off {
			delete(set, o.PersonID)
		} else if !set[o.PersonID] {
			set[o.PersonID] = true
			ids = append(ids, o.PersonID)
		}
	}
	var out []string
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
			delete(set, id)
		}
	}
	return out, nil
}

// dutyNow shows who is on duty now, with a button per technician to put
// them on or off duty for the next 12 hours (roster.go has the rest of
// /duty: the weekly pattern).
func (c *call) dutyNow() error {
	on, err := c.onDuty()
	if err != nil {
		return err
	}
	techs, err := c.tx.PeopleByRole(RoleTechnician)
	if err != nil {
		return err
	}
	var names []string
	var rows [][]Button
	for _, p := range techs {
		if !p.Active() {
			continue
		}
		if contains(on, p.ID) {
			names = append(names, p.Name)
			rows = append(rows, []Button{{Text: c.t("btn.duty_off", "name", p.Name), Data: EncodePayload(vbDuty, p.ID, "off")}})
		} else {
			rows = append(rows, []Button{{Text: c.t("btn.duty_on", "name", p.Name), Data: EncodePayload(vbDuty, p.ID, "on")}})
		}
	}
	now := c.t("duty.nobody")
	if len(names) > 0 {
		now = strings.Join(names, "、")
	}
	rows = append(rows, []Button{CommandArgButton(c.t("btn.roster_week"), "duty", "week")})
	c.reply(c.t("duty.now", "time", c.clock(c.now), "names", now), rows...)
	return nil
}

// dutyToggle applies a lead's on/off tap.
func (c *call) dutyToggle(args []string) error {
	if len(args) != 2 || (args[1] != "on" && args[1] != "off") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := c.person(args[0])
	if err != nil {
		return err
	}
	if !p.Active() || !p.Role.IsStaff() {
		return Errorf(CodeInvalid, "reassign.bad_target")
	}
	o := DutyOverride{PersonID: p.ID, Off: args[1] == "off", Until: c.now.Add(12 * time.Hour), By: c.me.ID}
	if err := c.tx.PutDutyOverride(o); err != nil {
		return err
	}
	key := "duty.set_on"
	if o.Off {
		key = "duty.set_off"
	}
	c.toast = c.t(key, "name", p.Name, "until", c.localTime(o.Until))
	c.reply(c.toast)
	return nil
}
