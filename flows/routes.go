package flows

import (
	"errors"
	"strconv"
	"strings"
)

// The routing tables. Every slash command (with who may run it), every
// button verb, every dialogue kind and every timer kind is one row here,
// with its handler; the handlers live in the file of their area
// (reviews.go, handover.go, ...). A new area adds its rows, never a case
// to a switch. Authorisation is part of the row and is checked once, by
// the dispatcher, before the handler runs; a handler checks only what
// depends on the record the request names (a ticket's assignee through
// Authorize, a review's owner, an action's owner).

// ---- who may ----

// Access is who may use a command or a button.
type Access struct {
	// Open lets anyone through, strangers included.
	Open bool
	// Roles may use it; nil lets every registered person through.
	Roles []Role
	// Deny is the catalog key of the refusal for anyone else.
	Deny string
}

// internal reports whether only staff may use it: to anyone else it is
// unknown, not refused.
func (a Access) internal() bool {
	return !a.Open && a.Roles != nil && !hasRole(a.Roles, RoleResident) && !hasRole(a.Roles, RoleNone)
}

// Allows reports whether p may use it.
func (a Access) Allows(p *Person) bool {
	if a.Open {
		return true
	}
	if p == nil || !p.Registered {
		return false
	}
	return a.Roles == nil || hasRole(a.Roles, p.Role)
}

var (
	everyone = []Role{RoleNone, RoleResident, RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin}
	// staffAll is everyone who executes or supervises the SOP: the repair
	// team and customer service.
	staffAll = []Role{RoleTechnician, RoleLead, RoleDispatcher, RoleAdmin}
	office   = []Role{RoleLead, RoleDispatcher, RoleAdmin}

	anyone        = Access{Open: true}
	registered    = Access{Deny: "err.not_registered"}
	leadsOnly     = Access{Roles: leads, Deny: "err.leads_only"}
	officeOnly    = Access{Roles: office, Deny: "err.leads_only"}
	residentsOnly = Access{Roles: residents, Deny: "err.residents_only"}
	sopUsers      = Access{Roles: staffAll, Deny: "err.role"}
	repairTeam    = Access{Roles: staff, Deny: "err.role"}
)

// ---- commands ----

// Command is one row of the command table.
type Command struct {
	// Name is what follows the slash.
	Name string
	// Arg makes the row a subcommand: the command's whole argument is Arg
	// ("/sop reload"). A subcommand passes its command's row first, then
	// its own.
	Arg string
	// Key is the catalog key of its menu text.
	Key string
	// Args is the catalog key of its arguments as /help shows them
	// ("<工单号>"); args, when set, renders them for a role instead.
	Args string
	args func(c *call, r Role) string
	// Menus are the roles whose command menu shows it (MenuFor).
	Menus []Role
	// Access is who may run it. A stranger who may not is sent to
	// registration rather than refused.
	Access
	// InGroup allows it in the technicians' group; there every other
	// command answers that it works in a private chat.
	InGroup bool
	run     func(c *call, args string) error
}

// Commands lists the slash commands in menu order; the channel publishes
// them (Telegram setMyCommands): the residents' menu by default, each
// staff member's in their own chat (MenuFor).
var Commands []Command

func init() {
	// Assigned here, not in the declaration: handlers reach the table again
	// (a new language sends the menu), which a declaration may not.
	Commands = []Command{
		{Name: "start", Key: "cmd.start", Menus: everyone, Access: anyone, run: (*call).cmdStart},
		{Name: "report", Key: "cmd.report", Menus: []Role{RoleNone, RoleResident}, Access: residentsOnly, run: noArgs((*call).startReport)},
		{Name: "mytickets", Key: "cmd.mytickets", Menus: []Role{RoleResident, RoleTechnician, RoleLead, RoleAdmin}, Access: registered, run: noArgs((*call).cmdMyTickets)},
		{Name: "cancel", Key: "cmd.cancel", Menus: everyone, Access: anyone, run: noArgs((*call).cmdCancel)},
		{Name: "open", Key: "cmd.open", Args: "help.args.open", Menus: leads, Access: leadsOnly, InGroup: true, run: (*call).cmdOpen},
		{Name: "reassign", Key: "cmd.reassign", Args: "help.args.ticket", Menus: leads, Access: leadsOnly, run: (*call).cmdReassign},
		// Whom a lead may invite is the invitable table (invites.go).
		{Name: "invite", Key: "cmd.invite", args: inviteArgs, Menus: leads, Access: Access{Roles: leads, Deny: "err.invite_forbidden"}, run: (*call).cmdInvite},
		// The ticket's resident and assignee read its work order too (cmdOrder checks the ticket).
		{Name: "order", Key: "cmd.order", Args: "help.args.ticket", Menus: staffAll, Access: registered, run: (*call).cmdOrder},
		{Name: "skip", Key: "cmd.skip", Args: "help.args.skip", Menus: leads, Access: leadsOnly, run: (*call).cmdSkip},
		{Name: "daily", Key: "cmd.daily", Args: "help.args.daily", Menus: office, Access: officeOnly, run: (*call).cmdDaily},
		{Name: "month", Key: "cmd.month", Args: "help.args.month", Menus: office, Access: officeOnly, run: (*call).cmdMonth},
		{Name: "duty", Key: "cmd.duty", Menus: leads, Access: leadsOnly, run: noArgs((*call).cmdDuty)},
		{Name: "sop", Key: "cmd.sop", Menus: staffAll, Access: sopUsers, run: (*call).cmdSOP},
		{Name: "sop", Arg: "reload", Access: leadsOnly, run: noArgs((*call).cmdSOPReload)},
		{Name: "review", Key: "cmd.review", Args: "help.args.review", Menus: staffAll, Access: sopUsers, run: (*call).cmdReview},
		{Name: "suggest", Key: "cmd.suggest", Menus: staffAll, Access: sopUsers, run: (*call).cmdSuggest},
		// Review actions are the company's internal improvement plan: for
		// the people who take part in reviews, not for residents.
		{Name: "actions", Key: "cmd.actions", Menus: staffAll, Access: sopUsers, run: noArgs((*call).cmdActions)},
		{Name: "complain", Key: "cmd.complain", Menus: residents, Access: residentsOnly, run: (*call).cmdComplain},
		{Name: "lang", Key: "cmd.lang", Args: "help.args.lang", Menus: everyone, Access: anyone, run: (*call).cmdLang},
		{Name: "help", Key: "cmd.help", Menus: everyone, Access: anyone, run: noArgs((*call).cmdHelp)},
	}
}

func noArgs(f func(*call) error) func(*call, string) error {
	return func(c *call, _ string) error { return f(c) }
}

// MenuFor is the command menu of a role, in menu order.
func MenuFor(r Role) []Command {
	var out []Command
	for _, c := range Commands {
		if hasRole(c.Menus, r) {
			out = append(out, c)
		}
	}
	return out
}

// findCommand returns the command's row and, when args name one of its
// subcommands, the subcommand's row.
func findCommand(name, args string) (cmd, sub *Command) {
	for i := range Commands {
		row := &Commands[i]
		switch {
		case row.Name != name:
		case row.Arg == "" && cmd == nil:
			cmd = row
		case row.Arg != "" && row.Arg == args:
			sub = row
		}
	}
	if cmd == nil {
		return nil, nil
	}
	return cmd, sub
}

func knownCommand(name string) bool {
	cmd, _ := findCommand(name, "")
	return cmd != nil
}

// command runs a slash command through its row.
func (c *call) command() error {
	args := strings.TrimSpace(c.ev.Text)
	cmd, sub := findCommand(c.ev.Command, args)
	if c.ev.InGroup && (cmd == nil || !cmd.InGroup) {
		c.reply(c.t("group.private_only"))
		return nil
	}
	if cmd == nil {
		return Errorf(CodeInvalid, "err.unknown_command", "command", c.ev.Command)
	}
	if !cmd.Open && (c.me == nil || !c.me.Registered) {
		return c.startRegistration()
	}
	if !cmd.Allows(c.me) {
		if cmd.internal() && !hasRole(staffAll, c.me.Role) {
			// The company's internal commands do not exist for residents.
			return Errorf(CodeInvalid, "err.unknown_command", "command", c.ev.Command)
		}
		return Errorf(CodeForbidden, cmd.Deny)
	}
	if sub != nil {
		if !sub.Allows(c.me) {
			return Errorf(CodeForbidden, sub.Deny)
		}
		cmd = sub
	}
	return cmd.run(c, args)
}

// ---- buttons ----

// Button verbs that are not ticket actions. Their names travel in
// payloads, so they never change meaning; new buttons get new names.
const (
	vbChoice         = "d"   // d|<seq>|<value>: an answer to the current dialogue prompt
	vbCommand        = "c"   // c|<command>[|<arg>]: a command as if typed
	vbHandoverSubmit = "hs"  // hs|<day>
	vbHandoverReview = "hv"  // hv|<day>|<technician>|ok|ret
	vbDuty           = "du"  // du|<person>|on|off
	vbAck            = "ack" // ack|<version>
	vbQuiz           = "qz"  // qz|<version>|<question>|<answers so far>|<choice>
	vbReviewSuggest  = "rvs" // rvs|<review>
	vbReviewDecline  = "rvd" // rvd|<review>
	vbActionDone     = "acd" // acd|<review>|<action>
	vbCard           = "cd"  // cd|<card>|<ticket action>|<ticket>[|arg...]: a button of step card <card>
)

// verb is one row of the button table.
type verb struct {
	Access
	// private verbs are refused in the group (a dialogue answer is personal).
	private bool
	run     func(c *call, args []string) error
}

var verbs = map[string]verb{
	vbChoice:         {Access: anyone, private: true, run: (*call).choice},
	vbCommand:        {Access: anyone, run: (*call).commandButton}, // the command's own row decides
	vbHandoverSubmit: {Access: repairTeam, run: (*call).handoverSubmit},
	vbHandoverReview: {Access: leadsOnly, run: (*call).handoverReview},
	vbDuty:           {Access: leadsOnly, run: (*call).dutyToggle},
	vbAck:            {Access: sopUsers, run: (*call).ack},
	vbQuiz:           {Access: sopUsers, run: (*call).quizAnswer},
	vbReviewSuggest:  {Access: registered, run: func(c *call, args []string) error { return c.reviewAnswer(args, false) }},
	vbReviewDecline:  {Access: registered, run: func(c *call, args []string) error { return c.reviewAnswer(args, true) }},
	// Only an action's owner has this button, and owners are staff: from
	// anyone unregistered the payload is forged.
	vbActionDone: {Access: Access{Deny: "err.bad_button"}, run: (*call).actionDone},
	// The ticket action inside decides who may (Authorize).
	vbCard: {Access: anyone, private: true, run: (*call).cardTap},
}

// actionFunc handles a ticket action that passed Authorize; args are the
// payload's arguments after the ticket id.
type actionFunc func(c *call, t *Ticket, args []string) error

func ticketOnly(f func(*call, *Ticket) error) actionFunc {
	return func(c *call, t *Ticket, _ []string) error { return f(c, t) }
}

// actions are the handlers of the ticket actions; who may apply each, and
// from which states, is its row in Transitions (machine.go).
var actions = map[Action]actionFunc{
	ActAccept:      ticketOnly((*call).accept),
	ActOnTheWay:    ticketOnly((*call).onTheWay),
	ActArrive:      ticketOnly((*call).arrive),
	ActStep:        (*call).stepOp,
	ActNoOneHome:   ticketOnly((*call).noOneHome),
	ActHelp:        ticketOnly((*call).help),
	ActEntryOK:     ticketOnly((*call).entryOK),
	ActQuoteOK:     func(c *call, t *Ticket, args []string) error { return c.quoteAnswer(t, true, args) },
	ActQuoteNo:     func(c *call, t *Ticket, args []string) error { return c.quoteAnswer(t, false, args) },
	ActEndVisit:    ticketOnly((*call).endVisit),
	ActDone:        ticketOnly((*call).done),
	ActFixed:       ticketOnly((*call).fixed),
	ActNotFixed:    ticketOnly((*call).notFixed),
	ActFeeQuery:    ticketOnly((*call).feeQuery),
	ActGoodbye:     ticketOnly((*call).goodbye),
	ActScore:       (*call).score,
	ActCancel:      ticketOnly((*call).cancelTicket),
	ActCancelAsk:   ticketOnly((*call).cancelAsk),
	ActCancelKeep:  ticketOnly((*call).cancelKeep),
	ActReschedule:  (*call).reschedule,
	ActReassign:    (*call).reassign,
	ActReturnGroup: ticketOnly((*call).returnToGroup),
	ActTakeOver:    ticketOnly((*call).takeOver),
	ActHelpReply:   ticketOnly((*call).helpReply),
}

// callback handles a button tap.
func (c *call) callback() error {
	p, ok := DecodePayload(c.ev.Data)
	if !ok {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if v, ok := verbs[p.Verb]; ok {
		if v.private && c.ev.InGroup {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if !v.Allows(c.me) {
			return Errorf(CodeForbidden, v.Deny)
		}
		return v.run(c, p.Args)
	}
	return c.ticketAction(p, 0)
}

// cardTap handles a button of a step card, "cd|<card>|<action>|<ticket>...":
// the ticket action, once the card is known to be the living one.
func (c *call) cardTap(args []string) error {
	if len(args) < 3 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || strconv.Itoa(n) != args[0] {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	return c.ticketAction(Payload{Verb: args[1], Args: args[2:]}, n)
}

// ticketAction applies a ticket action; card (> 0) is the number of the
// step card its button was on, which must be the living one.
func (c *call) ticketAction(p Payload, card int) error {
	a := Action(p.Verb)
	run, ok := actions[a]
	if !ok || len(p.Args) < 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	t, err := c.mustTicket(p.Args[0])
	if err != nil {
		return err
	}
	if err := Authorize(a, c.me, t); err != nil {
		return err
	}
	if card > 0 && !t.Card.live(card) {
		return Errorf(CodeConflict, "err.card_outdated", "ticket", t.ID)
	}
	if t.Visit == nil {
		t.Visit = &Visit{} // handlers read the visit; a ticket before arrival has none yet
	}
	return run(c, t, p.Args[1:])
}

// commandButton runs "c|<command>[|<arg>]" as if it had been typed.
func (c *call) commandButton(args []string) error {
	if len(args) < 1 || len(args) > 2 || !knownCommand(args[0]) {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	c.ev.Command, c.ev.Text = args[0], ""
	if len(args) == 2 {
		c.ev.Text = args[1]
	}
	return c.command()
}

// ---- dialogues ----

// Dialogue kinds. They are stored, so their names never change meaning.
const (
	dlgRegister       = "register"
	dlgReport         = "report"
	dlgComment        = "comment"
	dlgRework         = "rework_reason"
	dlgQty            = "quantity"
	dlgDetails        = "emergency_details"
	dlgHelpReply      = "help_reply"
	dlgHandoverReturn = "handover_return"
	dlgSuggest        = "suggest"
	dlgReviewClose    = "review_close"
	dlgActionDone     = "action_done"
	dlgComplain       = "complain"
)

// dialogueKind is one row of the dialogue table: what a stored dialogue
// of that kind does with the person's next message, and with a tap on one
// of its buttons (d|seq|value; nil when the kind has none). legacy reads a
// record of the kind written before its fields were split (legacy.go).
type dialogueKind struct {
	input  func(c *call, d *Dialogue) error
	choose func(c *call, d *Dialogue, value string) error
	legacy func(d *Dialogue)
}

var dialogues = map[string]dialogueKind{
	dlgRegister:       {input: (*call).registerInput},
	dlgReport:         {input: (*call).reportInput, choose: (*call).reportChoice},
	dlgComment:        {input: (*call).commentInput, choose: skipAt(stepComment)},
	dlgRework:         {input: (*call).reworkInput, choose: skipAt(stepReason)},
	dlgQty:            {input: (*call).qtyInput, legacy: legacyQuantity},
	dlgDetails:        {input: (*call).detailsInput, choose: (*call).detailsChoice},
	dlgHelpReply:      {input: (*call).helpReplyInput},
	dlgHandoverReturn: {input: (*call).handoverReturnInput, legacy: legacyHandoverReturn},
	dlgSuggest:        {input: (*call).suggestInput, legacy: legacyReviewDialogue},
	dlgReviewClose:    {input: (*call).reviewCloseInput, choose: (*call).reviewCloseChoice, legacy: legacyReviewDialogue},
	dlgActionDone:     {input: (*call).actionEvidenceInput, legacy: legacyActionDone},
	dlgComplain:       {input: (*call).complainInput},
}

// skipAt is the choice of a dialogue whose only button, at step, skips it.
func skipAt(step string) func(*call, *Dialogue, string) error {
	return func(c *call, d *Dialogue, v string) error {
		if d.Step != step {
			return Errorf(CodeConflict, "err.stale_prompt")
		}
		if v != "skip" {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		c.toast = c.t("ok")
		c.reply(c.t("thanks"))
		return c.tx.DeleteDialogue(d.PersonID)
	}
}

// input handles text, contacts, photos and unsupported messages in a private chat.
func (c *call) input() error {
	d, err := c.dialogue()
	if errors.Is(err, ErrNotFound) {
		return c.idle()
	}
	if err != nil {
		return err
	}
	if c.ev.Kind == EvUnsupported {
		return Errorf(CodeInvalid, "err.unsupported_in_step", "prompt", c.promptHint(d))
	}
	k, ok := dialogues[d.Kind]
	if !ok {
		// An unknown kind means a newer version wrote it; start clean rather than guess.
		return c.tx.DeleteDialogue(d.PersonID)
	}
	return k.input(c, d)
}

// idle handles a private message when no dialogue waits for one: a
// stranger registers, a technician on site files it under the visit.
func (c *call) idle() error {
	if c.me == nil || !c.me.Registered {
		return c.startRegistration()
	}
	if c.me.Role.IsStaff() {
		t, err := c.activeVisit()
		if err != nil {
			return err
		}
		if t != nil {
			return c.visitInput(t)
		}
	}
	if c.me.Role == RoleResident && c.ev.Kind == EvText {
		// Words about their open ticket reach its technician (notes.go).
		if handled, err := c.residentText(); handled || err != nil {
			return err
		}
	}
	switch c.ev.Kind {
	case EvUnsupported:
		return c.unsupported()
	case EvPhoto:
		return Errorf(CodeInvalid, "err.photo_unexpected")
	}
	if c.me.Role == RoleResident {
		c.reply(c.t("idle.resident"), []Button{CommandButton(c.t("btn.report"), "report"), CommandButton(c.t("btn.mytickets"), "mytickets")})
		return nil
	}
	c.reply(c.t("idle.staff"))
	return nil
}

// unsupported answers a sticker, a voice message, a file... when no
// dialogue waits: in plain words, what the bot can take now (never the
// platform's name or MIME type of what came).
func (c *call) unsupported() error {
	if c.me.Role == RoleResident {
		t, err := c.openTicket()
		if err != nil {
			return err
		}
		if t != nil {
			if p := c.pointer(t); p != "" {
				return Errorf(CodeInvalid, "err.unsupported_now", "takes", p)
			}
		}
		return Errorf(CodeInvalid, "err.unsupported_now", "takes", c.t("takes.resident"))
	}
	return Errorf(CodeInvalid, "err.unsupported_now", "takes", c.t("takes.staff"))
}

// choice handles a dialogue button "d|<seq>|<value>".
func (c *call) choice(args []string) error {
	if len(args) != 2 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	seq, err := strconv.Atoi(args[0])
	if err != nil {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	d, err := c.dialogue()
	if errors.Is(err, ErrNotFound) || (err == nil && d.Seq != seq) {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	if err != nil {
		return err
	}
	k := dialogues[d.Kind]
	if k.choose == nil {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	return k.choose(c, d, args[1])
}

// ---- timers ----

// Timer kinds. They are stored, so their names never change meaning.
const (
	tmRung         = "rung"     // an emergency's escalation rung (Timer.Rung)
	tmAccept       = "accept"   // a normal ticket not accepted in time
	tmArrive       = "arrive"   // not on site in time
	tmRemind       = "remind"   // the technician's reminder before the agreed time
	tmChase        = "chase"    // a resident who was not home
	tmClock        = "clock"    // refreshes an emergency's countdown on the group card each minute
	tmHandover     = "handover" // the day's handover starts (Timer.Day)
	tmEOD          = "eod"      // the end of the working day (Timer.Day)
	tmAckRemind    = "ackrem"   // staff who have not acknowledged an SOP version
	tmYearly       = "yearly"   // the yearly SOP review
	tmReviewRemind = "rvrem"    // review participants who have not answered
	tmReviewDue    = "rvdue"    // a review past its deadline
	tmActionPre    = "actpre"   // an improvement action due tomorrow
	tmActionDue    = "actdue"   // an improvement action due today
	tmActionEsc    = "actesc"   // an improvement action three days late
	tmAudit        = "audit"    // the monthly audit sample (Timer.Day is the month)
)

// timerKind is one row of the timer table: what a due timer of that kind
// does, and (legacy) how a record of the kind written before its fields
// were split is read (legacy.go).
type timerKind struct {
	fire   timerFunc
	legacy func(tm *Timer)
}

// timerFunc performs a due timer.
type timerFunc func(c *call, tm Timer, late bool) error

var timerKinds = map[string]timerKind{
	tmRung:         {fire: onTicket(func(c *call, t *Ticket, tm Timer, late bool) error { return c.rung(t, tm.Rung, late) })},
	tmAccept:       {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.slaAccept(t, late) })},
	tmArrive:       {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.slaArrive(t, late) })},
	tmRemind:       {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.slaRemind(t, late) })},
	tmChase:        {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.chase(t, late) })},
	tmClock:        {fire: onTicket(func(c *call, t *Ticket, _ Timer, _ bool) error { return c.countdown(t) })},
	tmHandover:     {fire: func(c *call, tm Timer, late bool) error { return c.handoverStart(tm.Day, late) }},
	tmEOD:          {fire: func(c *call, tm Timer, late bool) error { return c.endOfDay(tm.Day, late) }},
	tmAckRemind:    {fire: func(c *call, tm Timer, _ bool) error { return c.ackRemind(tm.Version) }, legacy: legacyAckRemind},
	tmYearly:       {fire: func(c *call, _ Timer, _ bool) error { _, err := c.openReview("yearly"); return err }, legacy: legacyYearly},
	tmReviewRemind: {fire: func(c *call, tm Timer, _ bool) error { return c.reviewRemind(tm.Review) }, legacy: legacyReviewTimer},
	tmReviewDue:    {fire: func(c *call, tm Timer, _ bool) error { return c.reviewDue(tm.Review) }, legacy: legacyReviewTimer},
	tmActionPre:    {fire: (*call).actionDueSoon, legacy: legacyActionTimer},
	tmActionDue:    {fire: (*call).actionOverdue, legacy: legacyActionTimer},
	tmActionEsc:    {fire: (*call).actionEscalate, legacy: legacyActionTimer},
	tmAudit:        {fire: func(c *call, tm Timer, _ bool) error { return c.audit(tm.Month) }, legacy: legacyAudit},
}

// onTicket loads the timer's ticket; a ticket that is gone has nothing to chase.
func onTicket(f func(c *call, t *Ticket, tm Timer, late bool) error) timerFunc {
	return func(c *call, tm Timer, late bool) error {
		t, err := c.tx.Ticket(tm.Ticket)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return f(c, t, tm, late)
	}
}

// fire performs one due timer (already deleted by the caller).
func (c *call) fire(tm Timer, late bool) error {
	k, ok := timerKinds[tm.Kind]
	if !ok {
		return nil // a kind a newer version wrote: nothing this one can do with it
	}
	return k.fire(c, readTimer(tm), late)
}
