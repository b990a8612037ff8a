package flows

// Who to tell: the lists of people and the message helpers every area uses.

// leads lists the people who supervise (leads, then admins).
func (c *call) leads() ([]*Person, error) {
	var out []*Person
	for _, r := range []Role{RoleLead, RoleAdmin} {
		ps, err := c.tx.PeopleByRole(r)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Deactivated == nil {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// staff lists every registered person who executes or supervises the SOP.
func (c *call) staff() ([]*Person, error) {
	var out []*Person
	for _, r := range []Role{RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin} {
		ps, err := c.tx.PeopleByRole(r)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Active() {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// toLeads tells every lead (and admin) something.
func (c *call) toLeads(key string, kv ...any) error {
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, p := range leads {
		c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Priority: PrioUrgent})
	}
	return nil
}

// langOf is p's language, or def for nobody.
func langOf(p *Person, def Lang) Lang {
	if p == nil || p.Lang == "" {
		return def
	}
	return p.Lang
}

// tell sends a person a message in their language.
func (c *call) tell(p *Person, key string, kv []any, buttons ...[]Button) {
	if p == nil || p.Chat.IsZero() {
		return
	}
	c.send(Message{To: p.Chat, Text: c.tl(p.Lang, key, kv...), Buttons: buttons, Priority: PrioNormal})
}
