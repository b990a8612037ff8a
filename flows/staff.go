package flows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Staff management in chat (/staff): who is on the team with their role,
// skills, certificates, open jobs, this month's jobs and average score; a
// lead changes a role and deactivates a leaver. Who may appoint whom is
// the invitable table (invites.go): the same rule whether someone joins by
// an invite or is changed later, so no change reaches a role the actor
// could not have invited into.

// Person event actions of staff management. Values are stored.
const (
	PevRoleChanged = "role_changed" // From/To: the roles
	PevDeactivated = "deactivated"  // a leaver; Note: open jobs returned
	PevReactivated = "reactivated"  // rejoined with a new invite; To: the role
)

// staffPage is how many people one /staff answer lists.
const staffPage = 25

// staffRoles are the roles /staff lists, in its order.
var staffRoles = []Role{RoleLead, RoleTechnician, RoleDispatcher, RoleAdmin}

// staffStats are one person's finished jobs in a month and their scores.
type staffStats struct{ Done, Rated, ScoreSum int }

// staffMonth is this month's finished jobs per assignee, read ahead of the
// write transaction (the month's tickets are a long read).
type staffMonth struct {
	Month string
	By    map[string]staffStats
}

// staffAhead reads this month's job counts for /staff (typed, or its
// button) in a read transaction before the event's write transaction.
func (e *Engine) staffAhead(ctx context.Context, ev Event) any {
	name := ev.Command
	if p, ok := DecodePayload(ev.Data); ev.Kind == EvCallback && ok && p.Verb == vbCommand && len(p.Args) > 0 {
		name = p.Args[0]
	}
	if (ev.Kind != EvCommand && ev.Kind != EvCallback) || name != "staff" || ev.InGroup {
		return nil
	}
	var m *staffMonth
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		staff, _ := findCommand("staff", "")
		if p, err := tx.Person(ev.From.ID); err != nil || !staff.Allows(p) {
			return nil
		}
		c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC()}
		m, _ = c.staffMonth()
		return nil
	})
	if m == nil {
		return nil
	}
	return m
}

// staffMonth counts the jobs finished this month (local) per assignee.
func (c *call) staffMonth() (*staffMonth, error) {
	if m, ok := c.ahead.(*staffMonth); ok && m.Month == c.now.In(c.e.o.Location).Format("2006-01") {
		return m, nil
	}
	local := c.now.In(c.e.o.Location)
	start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, c.e.o.Location)
	end := start.AddDate(0, 1, 0)
	m := &staffMonth{Month: start.Format("2006-01"), By: map[string]staffStats{}}
	err := c.tx.EachTicketTouched(start.UTC(), end.UTC(), func(t *Ticket) error {
		if t.AssigneeID == "" || t.Finished == nil || t.Finished.Before(start) || !t.Finished.Before(end) {
			return nil
		}
		s := m.By[t.AssigneeID]
		s.Done++
		if t.Score > 0 {
			s.Rated++
			s.ScoreSum += t.Score
		}
		m.By[t.AssigneeID] = s
		return nil
	})
	return m, err
}

// staffList is everyone /staff shows: the active by role, then the leavers.
func (c *call) staffList() ([]*Person, error) {
	var active, left []*Person
	for _, r := range staffRoles {
		ps, err := c.tx.PeopleByRole(r)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			switch {
			case !p.Registered:
			case p.Deactivated != nil:
				left = append(left, p)
			default:
				active = append(active, p)
			}
		}
	}
	return append(active, left...), nil
}

// cmdStaff lists the team, a page at a time, or shows one person
// (/staff <person id>, or the button of their line).
func (c *call) cmdStaff(arg string) error {
	arg = strings.TrimSpace(arg)
	page := 1
	if arg != "" {
		n, err := strconv.Atoi(arg)
		if err != nil {
			return c.staffCard(arg)
		}
		if n < 1 {
			return Errorf(CodeInvalid, "staff.usage")
		}
		page = n
	}
	people, err := c.staffList()
	if err != nil {
		return err
	}
	pages := max(1, (len(people)+staffPage-1)/staffPage)
	if page > pages {
		return Errorf(CodeInvalid, "open.no_page", "pages", pages)
	}
	month, err := c.staffMonth()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(c.t("staff.head", "n", len(people), "month", month.Month))
	var rows [][]Button
	for _, p := range people[(page-1)*staffPage : min(page*staffPage, len(people))] {
		line, err := c.staffLine(p, month)
		if err != nil {
			return err
		}
		b.WriteString("\n" + line)
		if btn := CommandArgButton(p.Name, "staff", p.ID); len(btn.Data) <= MaxPayload {
			rows = append(rows, []Button{btn})
		}
	}
	if pages > 1 {
		b.WriteString("\n" + c.t("staff.page", "page", page, "pages", pages))
		var nav []Button
		if page > 1 {
			nav = append(nav, CommandArgButton(c.t("btn.prev_page"), "staff", fmt.Sprint(page-1)))
		}
		if page < pages {
			nav = append(nav, CommandArgButton(c.t("btn.next_page"), "staff", fmt.Sprint(page+1)))
		}
		rows = append(rows, nav)
	}
	c.reply(b.String(), rows...)
	return nil
}

// staffLine is one person's line of the list.
func (c *call) staffLine(p *Person, month *staffMonth) (string, error) {
	skills, err := c.skillsText(p.ID, c.lang)
	if err != nil {
		return "", err
	}
	certs, err := c.certsSummary(p.ID, c.lang)
	if err != nil {
		return "", err
	}
	open, err := c.tx.TicketsByAssignee(p.ID)
	if err != nil {
		return "", err
	}
	st := month.By[p.ID]
	line := c.t("staff.line", "name", p.Name, "role", c.roleTitle(p.Role), "skills", skills, "certs", certs,
		"open", len(open), "done", st.Done, "avg", avgScore(st))
	if p.Deactivated != nil {
		line += " " + c.t("staff.left_mark", "date", c.localTime(*p.Deactivated))
	}
	return line, nil
}

func avgScore(s staffStats) string {
	if s.Rated == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(s.ScoreSum)/float64(s.Rated))
}

// skillsText lists a person's skills with their levels.
func (c *call) skillsText(id string, l Lang) (string, error) {
	skills, err := c.tx.Skills(id)
	if err != nil {
		return "", err
	}
	q := c.e.quals()
	var parts []string
	for _, s := range skills {
		parts = append(parts, q.SkillLabel(s.Skill).In(l)+" "+q.LevelLabel(s.Level).In(l))
	}
	if len(parts) == 0 {
		return c.tl(l, "staff.none"), nil
	}
	return strings.Join(parts, c.tl(l, "order.sep")), nil
}

// certsSummary lists a person's live certificates with their status.
func (c *call) certsSummary(id string, l Lang) (string, error) {
	certs, err := c.tx.CertsByPerson(id)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, ct := range certs {
		if !ct.Live() {
			continue
		}
		parts = append(parts, c.certStatusText(ct, l))
	}
	if len(parts) == 0 {
		return c.tl(l, "staff.none"), nil
	}
	return strings.Join(parts, c.tl(l, "order.sep")), nil
}

// certStatusText is a certificate's label and standing today: valid
// (until when), due (its deadline), expired or overdue, pending.
func (c *call) certStatusText(ct *Certificate, l Lang) string {
	q := c.e.quals()
	st := q.StatusOf(ct, c.now, c.e.o.Location)
	due := ct.FirstDeadline().String()
	if due == "" {
		due = "—"
	}
	return c.tl(l, "certs.status."+string(st), "cert", q.CertLabel(ct.Type).In(l), "date", due,
		"until", dash(ct.ValidUntil.String()), "review", dash(ct.NextReview.String()))
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// staffCard shows one person with what a lead may do about them.
func (c *call) staffCard(id string) error {
	p, err := c.person(id)
	if err != nil {
		return err
	}
	if p == nil || !p.Registered || !hasRole(staffRoles, p.Role) {
		return Errorf(CodeNotFound, "quals.err_no_person", "who", id)
	}
	month, err := c.staffMonth()
	if err != nil {
		return err
	}
	line, err := c.staffLine(p, month)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(c.t("staff.card_head", "name", p.Name, "id", p.ID, "joined", c.localTime(p.Created)) + "\n" + line)
	open, err := c.tx.TicketsByAssignee(p.ID)
	if err != nil {
		return err
	}
	if len(open) > 0 {
		var ids []string
		for _, t := range open {
			ids = append(ids, t.ID)
		}
		b.WriteString("\n" + c.t("staff.open_jobs", "tickets", strings.Join(ids, c.t("order.sep"))))
	}
	sessions, err := c.tx.SessionsByPerson(p.ID)
	if err != nil {
		return err
	}
	year := time.Date(c.now.In(c.e.o.Location).Year(), 1, 1, 0, 0, 0, 0, c.e.o.Location)
	b.WriteString("\n" + c.t("staff.training_hours", "hours", hours(TrainingMinutes(sessions, p.ID, year, time.Time{}))))
	var rows [][]Button
	if p.Deactivated == nil {
		nav := []Button{CommandArgButton(c.t("btn.skills"), "skills", p.ID), CommandArgButton(c.t("btn.certs"), "certs", p.ID)}
		rows = append(rows, fitting(nav)...)
		var roles []Button
		for _, r := range invitable[c.me.Role] {
			if c.mayManage(p) && r != p.Role {
				roles = append(roles, Button{Text: c.t("btn.role_to", "role", c.roleTitle(r)), Data: EncodePayload(vbStaffRole, p.ID, string(r))})
			}
		}
		rows = append(rows, fitting(roles)...)
		if c.mayManage(p) {
			rows = append(rows, fitting([]Button{{Text: c.t("btn.deactivate"), Data: EncodePayload(vbStaffLeave, p.ID)}})...)
		}
	}
	c.reply(b.String(), rows...)
	return nil
}

// fitting keeps the buttons whose payload fits every channel, as one row
// (none when none fits).
func fitting(bs []Button) [][]Button {
	var row []Button
	for _, b := range bs {
		if len(b.Data) <= MaxPayload {
			row = append(row, b)
		}
	}
	if len(row) == 0 {
		return nil
	}
	return [][]Button{row}
}

// mayManage reports whether the sender may change p's role or deactivate
// them: p holds a role the sender may appoint (invitable), is not the
// sender, and is not an admin by configuration.
func (c *call) mayManage(p *Person) bool {
	return p.ID != c.me.ID && !c.e.o.Admins[p.ID] && hasRole(invitable[c.me.Role], p.Role)
}

// staffTarget loads the person a staff button names and checks the
// sender may manage them.
func (c *call) staffTarget(id string) (*Person, error) {
	p, err := c.person(id)
	if err != nil {
		return nil, err
	}
	switch {
	case p == nil || !p.Registered || !hasRole(staffRoles, p.Role):
		return nil, Errorf(CodeNotFound, "quals.err_no_person", "who", id)
	case p.Deactivated != nil:
		return nil, Errorf(CodeConflict, "staff.err_left", "name", p.Name)
	case !c.mayManage(p):
		return nil, Errorf(CodeForbidden, "staff.err_manage", "name", p.Name)
	}
	return p, nil
}

// staffRole applies "sr|<person>|<role>": a new role for a team member.
func (c *call) staffRole(args []string) error {
	if len(args) != 2 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := c.staffTarget(args[0])
	if err != nil {
		return err
	}
	to := Role(args[1])
	if !hasRole(invitable[c.me.Role], to) {
		return Errorf(CodeForbidden, "staff.err_appoint", "role", c.roleTitle(to))
	}
	if p.Role == to {
		return Errorf(CodeConflict, "staff.err_same_role", "name", p.Name, "role", c.roleTitle(to))
	}
	from := p.Role
	p.Role, p.Updated = to, c.now
	c.ensureMenu(p)
	if err := c.tx.PutPerson(p); err != nil {
		return err
	}
	if err := c.tx.AppendPersonEvent(PersonEvent{PersonID: p.ID, At: c.now, Actor: c.me.ID, Action: PevRoleChanged, From: string(from), To: string(to)}); err != nil {
		return err
	}
	var back []string
	if !hasRole(staff, to) {
		// Only the repair team holds jobs: customer service hands theirs back.
		if back, err = c.requeueAll(p, "role "+string(to)); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	text := c.t("staff.role_changed", "name", p.Name, "from", c.roleTitle(from), "to", c.roleTitle(to))
	if len(back) > 0 {
		text += "\n" + c.t("quals.requeued", "tickets", strings.Join(back, c.t("order.sep")))
	}
	c.reply(text)
	c.tell(p, "staff.role_changed_you", []any{"role", c.roleTitleIn(p.Lang, to), "by", c.me.Name})
	return nil
}

// staffLeave asks to confirm deactivating a leaver ("sx|<person>").
func (c *call) staffLeave(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := c.staffTarget(args[0])
	if err != nil {
		return err
	}
	open, err := c.tx.TicketsByAssignee(p.ID)
	if err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.t("staff.leave_confirm", "name", p.Name, "n", len(open)),
		[]Button{{Text: c.t("btn.deactivate_confirm", "name", p.Name), Data: EncodePayload(vbStaffLeaveOK, p.ID)}})
	return nil
}

// staffLeaveConfirm deactivates a leaver ("sxc|<person>"): their open jobs
// go back to the group (new cards), their dialogue ends, their buttons and
// invite codes stop working; the profile stays, so history keeps the name.
func (c *call) staffLeaveConfirm(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := c.staffTarget(args[0])
	if err != nil {
		return err
	}
	at := c.now
	p.Deactivated, p.DeactivatedBy, p.Updated = &at, c.me.ID, c.now
	if err := c.tx.PutPerson(p); err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(p.ID); err != nil {
		return err
	}
	back, err := c.requeueAll(p, "deactivated")
	if err != nil {
		return err
	}
	if err := c.tx.AppendPersonEvent(PersonEvent{PersonID: p.ID, At: c.now, Actor: c.me.ID, Action: PevDeactivated, From: string(p.Role),
		Note: strings.Join(back, " ")}); err != nil {
		return err
	}
	c.toast = c.t("ok")
	text := c.t("staff.left", "name", p.Name)
	if len(back) > 0 {
		text += "\n" + c.t("quals.requeued", "tickets", strings.Join(back, c.t("order.sep")))
	}
	c.reply(text)
	c.send(Message{To: p.Chat, Text: c.tl(p.Lang, "staff.left_you"), Priority: PrioNormal})
	return nil
}

// requeueAll returns every job p holds that a lead could return to the
// group; jobs past the work (waiting for the resident's confirmation or
// score) stay as they are.
func (c *call) requeueAll(p *Person, note string) ([]string, error) {
	jobs, err := c.tx.TicketsByAssignee(p.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range jobs {
		if !hasState(Transitions[ActReturnGroup].From, t.State) {
			continue
		}
		if err := c.requeue(t, note, "reassign.removed"); err != nil {
			return nil, err
		}
		out = append(out, t.ID)
	}
	sort.Strings(out)
	return out, nil
}

// rejoin clears a leaver's deactivation when they redeem a new invite.
func (c *call) rejoin(p *Person) error {
	if p.Deactivated == nil {
		return nil
	}
	p.Deactivated, p.DeactivatedBy = nil, ""
	return c.tx.AppendPersonEvent(PersonEvent{PersonID: p.ID, At: c.now, Actor: p.ID, Action: PevReactivated, To: string(p.Role)})
}

// inviterGone reports whether an invite's creator has left: their codes die.
func (c *call) inviterGone(inv *Invite) (bool, error) {
	p, err := c.tx.Person(inv.CreatedBy)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && p.Deactivated != nil, err
}
