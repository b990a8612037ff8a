package flows

// Registration: a resident gives their name, phone and address once;
// staff join by invitation instead (invites.go).

func (c *call) startRegistration() error {
	if c.me != nil && c.me.Registered {
		return c.welcomeBack()
	}
	d := &Dialogue{PersonID: c.ev.From.ID, Kind: dlgRegister, Step: stepName, Started: c.now}
	c.bump(d)
	c.reply(c.t("register.welcome", "org", c.orgName(c.lang)) + "\n\n" + c.t("register.ask_name"))
	return c.tx.PutDialogue(d)
}

// orgName is the organisation's name for a reader of l.
func (c *call) orgName(l Lang) string {
	if l == LangEN && c.e.o.OrgNameEN != "" {
		return c.e.o.OrgNameEN
	}
	return c.e.o.OrgName
}

func (c *call) registerInput(d *Dialogue) error {
	switch d.Step {
	case stepName:
		name, err := c.textField(c.e.o.MaxNameLen)
		if err != nil {
			return err
		}
		d.Name = name
		d.Step = stepPhone
		c.bump(d)
		c.send(c.phonePrompt("register.ask_phone", "name", name))
		return c.tx.PutDialogue(d)
	case stepPhone:
		if c.ev.Kind != EvContact {
			c.send(c.phonePrompt("register.phone_button_only"))
			return nil
		}
		if !c.ev.ContactIsOwn {
			return Errorf(CodeInvalid, "register.phone_not_own")
		}
		phone := normalizePhone(c.ev.Phone)
		if phone == "" {
			return Errorf(CodeInvalid, "register.phone_invalid")
		}
		d.Phone = phone
		return c.registerWhere(d) // the area and the building (areas_register.go)
	case stepArea:
		return Errorf(CodeInvalid, "areas.pick_area", "word", c.areaWord(c.lang))
	case stepBuilding:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		if err := c.typedBuilding(d, v); err != nil {
			return err
		}
		d.Building = v
		return c.registerWhere(d)
	case stepUnit:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		d.Unit = v
		d.Step = stepRoom
		c.bump(d)
		c.reply(c.t("register.ask_room"))
		return c.tx.PutDialogue(d)
	case stepRoom:
		v, err := c.textField(c.e.o.MaxAddressPart)
		if err != nil {
			return err
		}
		p := c.me
		if p == nil {
			p = &Person{ID: c.ev.From.ID, Created: c.now, Lang: c.lang}
		}
		if p.Role == RoleNone {
			p.Role = RoleResident
		}
		p.Name, p.Phone, p.Building, p.Unit, p.Room = d.Name, d.Phone, d.Building, d.Unit, v
		p.Areas = c.registeredArea(d)
		p.Chat = c.ev.From.Chat
		p.Registered = true
		p.Updated = c.now
		if err := c.tx.PutPerson(p); err != nil {
			return err
		}
		c.me = p
		if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
			return err
		}
		c.reply(c.t("register.done", "name", p.Name, "address", personAddress(p)), []Button{CommandButton(c.t("btn.report"), "report")})
		return nil
	}
	return c.tx.DeleteDialogue(d.PersonID)
}
