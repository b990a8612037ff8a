package flows

// Command menus: each staff member gets their role's menu in their own
// chat; residents and strangers use the channel's default menu.

// menuVersion changes when the menus change, so staff get the new one.
const menuVersion = "5"

// ensureMenu sends a staff member their role's command menu, in their
// language, when they do not have it yet (joining, a new language, a new
// menu): a KindMenu message, which Telegram turns into setMyCommands for
// their chat. Residents and strangers use the default menu. It reports
// whether p changed (the caller stores it).
func (c *call) ensureMenu(p *Person) bool {
	if !p.Active() || !hasRole(staffAll, p.Role) || p.Chat.IsZero() {
		return false
	}
	want := menuVersion + ":" + string(p.Role) + ":" + string(p.Lang)
	if p.Menu == want {
		return false
	}
	var items []Button
	for _, cmd := range MenuFor(p.Role) {
		items = append(items, Button{Text: c.tl(p.Lang, cmd.Key), Data: cmd.Name})
	}
	c.send(Message{To: p.Chat, Kind: KindMenu, Buttons: [][]Button{items}, Priority: PrioReminder})
	p.Menu = want
	return true
}

// ensureMenus gives every staff member the menu of their role (after an
// upgrade that changed the menus, or for staff who joined before menus
// were per role). It reads the staff by role: dozens, not the residents.
func (c *call) ensureMenus() error {
	for _, r := range []Role{RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin} {
		people, err := c.tx.PeopleByRole(r)
		if err != nil {
			return err
		}
		for _, p := range people {
			if c.ensureMenu(p) {
				if err := c.tx.PutPerson(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
