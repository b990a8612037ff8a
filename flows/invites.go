package flows

import (
	"errors"
	"strings"
)

// Invitations: staff join by a one-time code from a lead or an admin,
// not by registering.

// invitable is who may invite whom: leads bring in technicians; only
// admins appoint leads and customer service.
var invitable = map[Role][]Role{
	RoleAdmin: {RoleTechnician, RoleLead, RoleDispatcher},
	RoleLead:  {RoleTechnician},
}

func (c *call) cmdInvite(arg string) error {
	var role Role
	arg, areaArg, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(arg) {
	case "technician", "tech", "维修人员", "技术员":
		role = RoleTechnician
	case "lead", "主管", "班长", "经理":
		role = RoleLead
	case "dispatcher", "客服":
		role = RoleDispatcher
	default:
		if c.e.multiArea() {
			return Errorf(CodeInvalid, "invite.usage_areas", "roles", c.inviteRoles(c.me.Role), "areas", c.areaKeys())
		}
		return Errorf(CodeInvalid, "invite.usage", "roles", c.inviteRoles(c.me.Role))
	}
	if !hasRole(invitable[c.me.Role], role) {
		return Errorf(CodeForbidden, "err.invite_forbidden")
	}
	code, err := c.e.randomCode()
	if err != nil {
		return err
	}
	areas, err := c.inviteAreas(strings.TrimSpace(areaArg))
	if err != nil {
		return err
	}
	inv := &Invite{Code: code, Role: role, CreatedBy: c.me.ID, Created: c.now, Expires: c.now.Add(c.e.o.InviteTTL), Areas: areas}
	if err := c.tx.PutInvite(inv); err != nil {
		return err
	}
	link := c.e.o.InviteLink(c.ev.From.Chat.Channel, code)
	c.reply(c.t("invite.created", "role", c.roleTitle(role), "link", link, "code", code, "expires", c.localTime(inv.Expires)))
	return nil
}

// inviteArgs is /invite's argument for r in /help: the roles r may
// invite, then the area when the engine serves several.
func inviteArgs(c *call, r Role) string {
	var names []string
	for _, role := range invitable[r] {
		names = append(names, string(role))
	}
	out := strings.Join(names, "|")
	if c.e.multiArea() {
		out += " " + c.t("help.args.invite_area", "word", c.areaWord(c.lang))
	}
	return out
}

// inviteRoles lists the roles r may invite for the usage text, each with
// its title: "technician（维修人员）、lead（维修组主管）…".
func (c *call) inviteRoles(r Role) string {
	var parts []string
	for _, role := range invitable[r] {
		parts = append(parts, c.t("invite.usage_role", "arg", string(role), "title", c.roleTitle(role)))
	}
	return strings.Join(parts, c.t("invite.usage_sep"))
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
			if c.me != nil && c.me.Deactivated != nil {
				return Errorf(CodeForbidden, "err.deactivated")
			}
			return c.welcomeBack()
		}
		return Errorf(CodeConflict, "invite.used")
	}
	if !c.now.Before(inv.Expires) {
		return Errorf(CodeConflict, "invite.expired")
	}
	if gone, err := c.inviterGone(inv); err != nil || gone {
		if err != nil {
			return err
		}
		return Errorf(CodeConflict, "invite.revoked") // its creator left
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
	p.Areas = c.joinAreas(inv)
	if err := c.rejoin(p); err != nil {
		return err
	}
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
