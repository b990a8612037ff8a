package flows

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The general commands: /start, /help, /cancel, /lang, /mytickets, and
// the leads' /open and /reassign. Each is a row of the command table
// (routes.go); the commands of an area live in its file.

// cmdHelp lists what the sender's role can do.
func (c *call) cmdHelp() error {
	c.reply(c.helpText())
	return nil
}

// helpText is generated from the command table, the menu's rows: the
// role's commands in menu order, each with its arguments and its menu
// text, under a word on how the role works the bot where there is one.
// Help and menu cannot drift apart.
func (c *call) helpText() string {
	role := RoleNone
	if c.me != nil && c.me.Registered {
		role = c.me.Role
	}
	var lines []string
	if intro, ok := helpIntros[role]; ok {
		lines = append(lines, c.t(intro), "")
	}
	lines = append(lines, c.t("help.head"))
	for _, cmd := range MenuFor(role) {
		args := ""
		switch {
		case cmd.args != nil:
			args = cmd.args(c, role)
		case cmd.Args != "":
			args = c.t(cmd.Args)
		}
		if args != "" {
			args = " " + args
		}
		lines = append(lines, c.t("help.line", "command", cmd.Name, "args", args, "text", c.t(cmd.Key)))
	}
	return strings.Join(lines, "\n")
}

// leadsPersonArg is the argument of /skills and /certs in /help: a lead
// names whose; a technician sees their own.
func leadsPersonArg(c *call, r Role) string {
	if r.IsLead() {
		return c.t("help.args.person")
	}
	return ""
}

// helpIntros are the catalog keys of a word before a role's commands.
var helpIntros = map[Role]string{
	RoleNone:       "help.intro.stranger",
	RoleResident:   "help.intro.resident",
	RoleTechnician: "help.intro.technician",
}

func (c *call) cmdStart(code string) error {
	if strings.HasPrefix(code, PosterPrefix) {
		return c.posterStart(code) // a building's QR poster (posters.go)
	}
	if code != "" {
		return c.redeemInvite(code)
	}
	if c.me != nil && c.me.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated")
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
	d, err := c.dialogue()
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
			rows = append(rows, []Button{TicketButton(c.t("btn.cancel_ticket", "ticket", t.ID), ActCancelAsk, t.ID)})
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
	ts = c.scoped(ts) // the sender's areas (areas_scope.go)
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
	b.WriteString(c.areaBreakdown(ts))
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

// age renders a duration since t, coarse enough for a glance; under a
// minute in seconds, so a clock never says "0 minutes".
func (c *call) age(t time.Time) string { return c.span(c.now.Sub(t), c.lang) }

func (c *call) span(d time.Duration, l Lang) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return c.tl(l, "age.seconds", "n", int(d.Seconds()))
	case d < time.Hour:
		return c.tl(l, "age.minutes", "n", int(d.Minutes()))
	case d < 48*time.Hour:
		return c.tl(l, "age.hours", "n", int(d.Hours()), "m", int(d.Minutes())%60)
	}
	return c.tl(l, "age.days", "n", int(d.Hours())/24)
}

// overdue renders how long a deadline has passed: "less than a minute"
// rather than "0 minutes", then as age does.
func (c *call) overdue(d time.Duration, l Lang) string {
	if d < time.Minute {
		return c.tl(l, "age.under_minute")
	}
	return c.span(d, l)
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
	act := ActReassign // at the sign-off or the goodbye the ticket stays where it is
	if hasState(Transitions[ActReassignKeep].From, t.State) {
		act = ActReassignKeep
	}
	if !hasState(Transitions[act].From, t.State) {
		return Errorf(CodeConflict, "reassign.not_open", "ticket", t.ID, "state", c.stateLabel(t.State, c.lang))
	}
	techs, err := c.tx.PeopleByRole(RoleTechnician)
	if err != nil {
		return err
	}
	var rows [][]Button
	for _, p := range techs {
		if p.ID == t.AssigneeID || !p.Active() {
			continue
		}
		label, err := c.reassignLabel(t, p)
		if err != nil {
			return err
		}
		b := TicketButton(label, act, t.ID, p.ID)
		if len(b.Data) > MaxPayload {
			continue
		}
		rows = append(rows, []Button{b})
		if len(rows) >= 20 {
			break
		}
	}
	if hasState(Transitions[ActReturnGroup].From, t.State) {
		rows = append(rows, []Button{TicketButton(c.t("btn.return_group"), ActReturnGroup, t.ID)})
	}
	who := t.Assignee
	if who == "" {
		who = c.t("open.unassigned")
	}
	text := c.t("reassign.pick", "ticket", t.ID, "assignee", who)
	if need := c.needLine(t, c.lang); need != "" {
		text += "\n" + need
	}
	c.reply(text, rows...)
	return nil
}
