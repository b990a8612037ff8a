package flows

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// menuVersion changes when the menus change, so staff get the new one.
const menuVersion = "2"

// ensureMenu sends a staff member their role's command menu, in their
// language, when they do not have it yet (joining, a new language, a new
// menu): a KindMenu message, which Telegram turns into setMyCommands for
// their chat. Residents and strangers use the default menu. It reports
// whether p changed (the caller stores it).
func (c *call) ensureMenu(p *Person) bool {
	if p == nil || !p.Registered || !hasRole(staffAll, p.Role) || p.Chat.IsZero() {
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

// cmdHelp lists what the sender's role can do.
func (c *call) cmdHelp() error {
	c.reply(c.helpText())
	return nil
}

func (c *call) helpText() string {
	role := RoleNone
	if c.me != nil && c.me.Registered {
		role = c.me.Role
	}
	switch role {
	case RoleTechnician:
		return c.t("help.technician")
	case RoleLead:
		return c.t("help.lead")
	case RoleAdmin:
		return c.t("help.admin")
	case RoleResident:
		return c.t("help.resident")
	}
	return c.t("help.stranger")
}

func (c *call) cmdStart(code string) error {
	if code != "" {
		return c.redeemInvite(code)
	}
	if c.me != nil && c.me.Registered {
		return c.welcomeBack()
	}
	return c.startRegistration()
}

func (c *call) welcomeBack() error {
	if c.me.Role == RoleResident {
		c.reply(c.t("start.welcome_back", "name", c.me.Name), []Button{CommandButton(c.t("btn.report"), "report"), CommandButton(c.t("btn.mytickets"), "mytickets")})
		return nil
	}
	c.reply(c.t("start.welcome_staff", "name", c.me.Name, "role", c.roleTitle(c.me.Role)) + "\n\n" + c.helpText())
	return nil
}

func (c *call) cmdCancel() error {
	d, err := c.tx.Dialogue(c.ev.From.ID)
	if errors.Is(err, ErrNotFound) {
		c.reply(c.t("cancel.nothing"))
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	c.send(Message{To: c.ev.From.Chat, Text: c.t("cancel.done"), RemoveKeyboard: d.Step == stepPhone, Priority: PrioNormal})
	return nil
}

func (c *call) cmdLang(arg string) error {
	var l Lang
	switch strings.ToLower(arg) {
	case "zh", "zh-cn", "cn", "中文":
		l = LangZH
	case "en", "english":
		l = LangEN
	default:
		return Errorf(CodeInvalid, "lang.usage")
	}
	c.lang = l
	if c.me != nil {
		c.me.Lang = l
		c.me.Updated = c.now
		c.ensureMenu(c.me)
		if err := c.tx.PutPerson(c.me); err != nil {
			return err
		}
	}
	c.reply(c.t("lang.set"))
	return nil
}

func (c *call) cmdMyTickets() error {
	if c.me.Role == RoleTechnician || c.me.Role.IsLead() {
		jobs, err := c.tx.TicketsByAssignee(c.me.ID)
		if err != nil {
			return err
		}
		if len(jobs) == 0 {
			c.reply(c.t("jobs.none"))
			return nil
		}
		var b strings.Builder
		b.WriteString(c.t("jobs.header", "n", len(jobs)))
		for _, t := range jobs {
			b.WriteString("\n")
			b.WriteString(c.t("jobs.line", "ticket", t.ID, "category", c.categoryLabel(t.Category, c.lang), "state", c.stateLabel(t.State, c.lang), "address", c.fullAddress(t)))
		}
		c.reply(b.String())
		return nil
	}
	ts, err := c.tx.TicketsByResident(c.me.ID, 10)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		c.reply(c.t("mytickets.none"), []Button{CommandButton(c.t("btn.report"), "report")})
		return nil
	}
	var b strings.Builder
	b.WriteString(c.t("mytickets.header"))
	var rows [][]Button
	for _, t := range ts {
		b.WriteString("\n")
		b.WriteString(c.t("mytickets.line", "ticket", t.ID, "category", c.categoryLabel(t.Category, c.lang), "state", c.stateLabel(t.State, c.lang), "date", c.localTime(t.Created)))
		if t.State == StateNew {
			rows = append(rows, []Button{TicketButton(c.t("btn.cancel_ticket", "ticket", t.ID), ActCancel, t.ID)})
		}
	}
	c.reply(b.String(), rows...)
	return nil
}

// openPage is how many tickets one /open answer lists: a busy estate has
// hundreds open, and one message holds 4,096 characters, so the answer is
// a summary by state and the oldest first, a page at a time.
const openPage = 30

func (c *call) cmdOpen(arg string) error {
	page := 1
	if arg = strings.TrimSpace(arg); arg != "" {
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return Errorf(CodeInvalid, "open.usage")
		}
		page = n
	}
	ts, err := c.tx.OpenTickets()
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		c.reply(c.t("open.none"))
		return nil
	}
	pages := (len(ts) + openPage - 1) / openPage
	if page > pages {
		return Errorf(CodeInvalid, "open.no_page", "pages", pages)
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Created.Before(ts[j].Created) })
	var b strings.Builder
	b.WriteString(c.t("open.header", "n", len(ts)))
	if pages > 1 {
		byState := map[State]int{}
		var order []State
		for _, t := range ts {
			if byState[t.State] == 0 {
				order = append(order, t.State)
			}
			byState[t.State]++
		}
		sort.SliceStable(order, func(i, j int) bool { return byState[order[i]] > byState[order[j]] })
		var parts []string
		for _, st := range order {
			parts = append(parts, c.t("open.state_count", "state", c.stateLabel(st, c.lang), "n", byState[st]))
		}
		b.WriteString("\n" + strings.Join(parts, c.t("order.sep")))
	}
	end := min(page*openPage, len(ts))
	for _, t := range ts[(page-1)*openPage : end] {
		who := t.Assignee
		if who == "" {
			who = c.t("open.unassigned")
		}
		b.WriteString("\n")
		b.WriteString(c.t("open.line", "ticket", t.ID, "category", c.categoryLabel(t.Category, c.lang), "state", c.stateLabel(t.State, c.lang), "age", c.age(t.Created), "assignee", who, "address", shortAddress(t)))
	}
	var nav []Button
	if pages > 1 {
		key := "open.page"
		if page == pages {
			key = "open.page_last"
		}
		b.WriteString("\n" + c.t(key, "page", page, "pages", pages, "next", page+1))
		if page > 1 {
			nav = append(nav, CommandArgButton(c.t("btn.prev_page"), "open", strconv.Itoa(page-1)))
		}
		if page < pages {
			nav = append(nav, CommandArgButton(c.t("btn.next_page"), "open", strconv.Itoa(page+1)))
		}
	}
	if len(nav) > 0 {
		c.reply(b.String(), nav)
	} else {
		c.reply(b.String())
	}
	return nil
}

// age renders a duration since t, coarse enough for a glance.
func (c *call) age(t time.Time) string {
	d := c.now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Hour:
		return c.t("age.minutes", "n", int(d.Minutes()))
	case d < 48*time.Hour:
		return c.t("age.hours", "n", int(d.Hours()), "m", int(d.Minutes())%60)
	}
	return c.t("age.days", "n", int(d.Hours())/24)
}

func (c *call) cmdReassign(arg string) error {
	id := strings.ToUpper(strings.TrimSpace(arg))
	if id == "" {
		return Errorf(CodeInvalid, "reassign.usage")
	}
	t, err := c.mustTicket(id)
	if err != nil {
		return err
	}
	if !hasState(Transitions[ActReassign].From, t.State) {
		return Errorf(CodeConflict, "reassign.not_open", "ticket", t.ID, "state", c.stateLabel(t.State, c.lang))
	}
	techs, err := c.tx.PeopleByRole(RoleTechnician)
	if err != nil {
		return err
	}
	var rows [][]Button
	for _, p := range techs {
		if p.ID == t.AssigneeID || !p.Registered {
			continue
		}
		b := TicketButton(p.Name, ActReassign, t.ID, p.ID)
		if len(b.Data) > MaxPayload {
			continue
		}
		rows = append(rows, []Button{b})
		if len(rows) >= 20 {
			break
		}
	}
	if t.State != StateNew {
		rows = append(rows, []Button{TicketButton(c.t("btn.return_group"), ActReturnGroup, t.ID)})
	}
	who := t.Assignee
	if who == "" {
		who = c.t("open.unassigned")
	}
	c.reply(c.t("reassign.pick", "ticket", t.ID, "assignee", who), rows...)
	return nil
}

// invitable is who may invite whom: leads bring in technicians; only
// admins appoint leads and customer service.
var invitable = map[Role][]Role{
	RoleAdmin: {RoleTechnician, RoleLead, RoleDispatcher},
	RoleLead:  {RoleTechnician},
}

func (c *call) cmdInvite(arg string) error {
	var role Role
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "technician", "tech", "维修人员", "技术员":
		role = RoleTechnician
	case "lead", "主管", "班长", "经理":
		role = RoleLead
	case "dispatcher", "客服":
		role = RoleDispatcher
	default:
		return Errorf(CodeInvalid, "invite.usage")
	}
	if !hasRole(invitable[c.me.Role], role) {
		return Errorf(CodeForbidden, "err.invite_forbidden")
	}
	code, err := c.e.randomCode()
	if err != nil {
		return err
	}
	inv := &Invite{Code: code, Role: role, CreatedBy: c.me.ID, Created: c.now, Expires: c.now.Add(c.e.o.InviteTTL)}
	if err := c.tx.PutInvite(inv); err != nil {
		return err
	}
	link := c.e.o.InviteLink(c.ev.From.Chat.Channel, code)
	c.reply(c.t("invite.created", "role", c.roleTitle(role), "link", link, "code", code, "expires", c.localTime(inv.Expires)))
	return nil
}

func (c *call) redeemInvite(code string) error {
	code = strings.ToUpper(strings.TrimSpace(code))
	inv, err := c.tx.Invite(code)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "invite.invalid")
	}
	if err != nil {
		return err
	}
	if inv.Used != nil {
		if inv.UsedBy == c.ev.From.ID {
			return c.welcomeBack()
		}
		return Errorf(CodeConflict, "invite.used")
	}
	if !c.now.Before(inv.Expires) {
		return Errorf(CodeConflict, "invite.expired")
	}
	p := c.me
	if p == nil {
		p = &Person{ID: c.ev.From.ID, Created: c.now, Lang: c.lang, Chat: c.ev.From.Chat}
	}
	if p.Role == RoleAdmin {
		return Errorf(CodeConflict, "invite.already_admin")
	}
	p.Role = inv.Role
	p.Registered = true
	if p.Name == "" {
		p.Name = cleanText(c.ev.From.Name, c.e.o.MaxNameLen)
	}
	if p.Name == "" {
		p.Name = c.ev.From.ID
	}
	p.Chat = c.ev.From.Chat
	p.Updated = c.now
	used := c.now
	inv.Used, inv.UsedBy = &used, p.ID
	if err := c.tx.PutInvite(inv); err != nil {
		return err
	}
	c.ensureMenu(p)
	if err := c.tx.PutPerson(p); err != nil {
		return err
	}
	c.me = p
	_ = c.tx.DeleteDialogue(p.ID)
	c.reply(c.t("invite.welcome", "name", p.Name, "role", c.roleTitle(p.Role)) + "\n\n" + c.helpText())
	// Tell the inviter it worked.
	if inviter, err := c.person(inv.CreatedBy); err == nil && inviter != nil {
		c.send(Message{To: inviter.Chat, Text: c.tl(inviter.Lang, "invite.redeemed", "name", p.Name, "role", c.roleTitleIn(inviter.Lang, p.Role)), Priority: PrioNormal})
	}
	return nil
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
