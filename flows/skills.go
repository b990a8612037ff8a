package flows

import "strings"

// Skills in chat (/skills): a person's level per fault category. Everyone
// on the repair team sees their own; a lead sees anyone's and sets them
// by buttons (sk|<person>|<skill>|<level>, "-" removes), each change an
// event in the person's audit trail. Nobody grades themselves.

// skillRemove is the level value of the button that removes a skill.
const skillRemove = "-"

// cmdSkills shows a person's skills: the sender's own, or (a lead) the
// person named.
func (c *call) cmdSkills(arg string) error {
	id := strings.TrimSpace(arg)
	if id == "" {
		id = c.me.ID
	}
	if id != c.me.ID && !c.me.Role.IsLead() {
		return Errorf(CodeForbidden, "err.leads_only")
	}
	p, err := staffMember(c.tx, id)
	if err != nil {
		return err
	}
	return c.showSkills(p)
}

// showSkills answers with p's skills, and the level buttons when the
// sender may set them.
func (c *call) showSkills(p *Person) error {
	have, err := c.tx.Skills(p.ID)
	if err != nil {
		return err
	}
	levels := map[string]string{}
	for _, s := range have {
		levels[s.Skill] = s.Level
	}
	q := c.e.quals()
	var b strings.Builder
	b.WriteString(c.t("skills.head", "name", p.Name))
	edit := c.me.Role.IsLead() && p.ID != c.me.ID && p.Active()
	var rows [][]Button
	for _, sd := range q.Skills {
		level := c.t("staff.none")
		if k, ok := levels[sd.Key]; ok {
			level = q.LevelLabel(k).In(c.lang)
		}
		b.WriteString("\n" + c.t("skills.line", "skill", sd.Labels.In(c.lang), "level", level))
		if !edit {
			continue
		}
		var row []Button
		for _, l := range q.Levels {
			text := sd.Labels.In(c.lang) + " " + l.Labels.In(c.lang)
			if levels[sd.Key] == l.Key {
				text = "✓ " + text
			}
			row = append(row, Button{Text: text, Data: EncodePayload(vbSkill, p.ID, sd.Key, l.Key)})
		}
		if _, ok := levels[sd.Key]; ok {
			row = append(row, Button{Text: c.t("btn.skill_remove"), Data: EncodePayload(vbSkill, p.ID, sd.Key, skillRemove)})
		}
		rows = append(rows, fitting(row)...)
	}
	if edit {
		b.WriteString("\n" + c.t("skills.edit_hint"))
	}
	c.reply(b.String(), rows...)
	return nil
}

// skillSet applies a lead's level button.
func (c *call) skillSet(args []string) error {
	if len(args) != 3 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := staffMember(c.tx, args[0])
	if err != nil {
		return err
	}
	switch {
	case !p.Active():
		return Errorf(CodeConflict, "staff.err_left", "name", p.Name)
	case p.ID == c.me.ID:
		return Errorf(CodeForbidden, "skills.err_own")
	}
	q := c.e.quals()
	if args[2] == skillRemove {
		err = q.RemoveSkill(c.tx, c.me.ID, p.ID, args[1], "", c.now)
	} else {
		err = q.SetSkill(c.tx, c.me.ID, Skill{PersonID: p.ID, Skill: args[1], Level: args[2]}, c.now)
	}
	if err != nil {
		return c.localised(err)
	}
	c.toast = c.t("ok")
	return c.showSkills(p)
}

// localised renders the Label arguments of a qualification operation's
// user mistake in the sender's language; other errors pass unchanged.
func (c *call) localised(err error) error {
	if fe, ok := err.(*Error); ok {
		return Errorf(fe.Code, fe.Key, LocalArgs(fe.Args, c.lang)...)
	}
	return err
}
