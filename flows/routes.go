package flows

import (
	"errors"
	"regexp"
	"slices"
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
	if !p.Active() {
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
	adminsOnly    = Access{Roles: []Role{RoleAdmin}, Deny: "areas.admins_only"}
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
		// Every lead action valid on a ticket now: a way out of every state.
		{Name: "manage", Key: "cmd.manage", Args: "help.args.ticket", Menus: leads, Access: leadsOnly, run: (*call).cmdManage},
		// Whom a lead may invite is the invitable table (invites.go).
		{Name: "invite", Key: "cmd.invite", args: inviteArgs, Menus: leads, Access: Access{Roles: leads, Deny: "err.invite_forbidden"}, run: (*call).cmdInvite},
		// The ticket's resident and assignee read its work order too (cmdOrder checks the ticket).
		{Name: "order", Key: "cmd.order", Args: "help.args.ticket", Menus: staffAll, Access: registered, run: (*call).cmdOrder},
		{Name: "skip", Key: "cmd.skip", Args: "help.args.skip", Menus: leads, Access: leadsOnly, run: (*call).cmdSkip},
		{Name: "daily", Key: "cmd.daily", Args: "help.args.daily", Menus: office, Access: officeOnly, run: (*call).cmdDaily},
		{Name: "month", Key: "cmd.month", Args: "help.args.month", Menus: office, Access: officeOnly, run: (*call).cmdMonth},
		{Name: "stats", Key: "cmd.stats", Args: "help.args.stats", Menus: office, Access: officeOnly, run: (*call).cmdStats},
		{Name: "qc", Key: "cmd.qc", Menus: leads, Access: leadsOnly, run: noArgs((*call).cmdQC)},
		// The phone-callback list is customer service's (and the leads').
		{Name: "callbacks", Key: "cmd.callbacks", Menus: office, Access: officeOnly, run: noArgs((*call).cmdCallbacks)},
		// Customer service answers and closes the residents' fee questions.
		{Name: "fees", Key: "cmd.fees", Menus: office, Access: officeOnly, run: noArgs((*call).cmdFees)},
		{Name: "duty", Key: "cmd.duty", Args: "help.args.duty", Menus: leads, Access: leadsOnly, run: (*call).cmdDuty},
		// The qualifications area (staff.go, skills.go): whom a lead may
		// manage is the invitable table, whose skills the handler checks.
		{Name: "staff", Key: "cmd.staff", Args: "help.args.staff", Menus: leads, Access: leadsOnly, run: (*call).cmdStaff},
		{Name: "skills", Key: "cmd.skills", args: leadsPersonArg, Menus: staff, Access: repairTeam, run: (*call).cmdSkills},
		{Name: "certs", Key: "cmd.certs", args: leadsPersonArg, Menus: staff, Access: repairTeam, run: (*call).cmdCerts},
		// A session's card is for its invitees, its trainer and the leads (cmdTraining checks).
		{Name: "training", Key: "cmd.training", Args: "help.args.training", Menus: staffAll, Access: sopUsers, run: (*call).cmdTraining},
		{Name: "training", Arg: "new", Access: leadsOnly, run: noArgs((*call).trainingNew)},
		{Name: "sop", Key: "cmd.sop", Menus: staffAll, Access: sopUsers, run: (*call).cmdSOP},
		{Name: "sop", Arg: "reload", Access: leadsOnly, run: noArgs((*call).cmdSOPReload)},
		// The SOP file as it is, undoing the console's changes it lacks (listed).
		{Name: "sop", Arg: "reload force", Access: leadsOnly, run: noArgs((*call).cmdSOPReloadForce)},
		{Name: "review", Key: "cmd.review", Args: "help.args.review", Menus: staffAll, Access: sopUsers, run: (*call).cmdReview},
		// A major fault (重大故障) opens a review at once (review clause 2).
		{Name: "fault", Key: "cmd.fault", Args: "help.args.fault", Menus: leads, Access: leadsOnly, run: (*call).cmdFault},
		{Name: "suggest", Key: "cmd.suggest", Menus: staffAll, Access: sopUsers, run: (*call).cmdSuggest},
		// Review actions are the company's internal improvement plan: for
		// the people who take part in reviews, not for residents.
		{Name: "actions", Key: "cmd.actions", Menus: staffAll, Access: sopUsers, run: noArgs((*call).cmdActions)},
		{Name: "complain", Key: "cmd.complain", Menus: residents, Access: residentsOnly, run: (*call).cmdComplain},
		// The office console: the board, tickets and the office's actions
		// in a browser, for the office roles (a technician's chat has no
		// list of all open tickets either: /open is for leads). The
		// session has the role this row allows, re-read on every request
		// (MayUseConsole).
		{Name: "console", Key: "cmd.console", Menus: office, Access: officeOnly, run: (*call).cmdConsole},
		{Name: "console", Arg: "logout", Access: officeOnly, run: noArgs((*call).cmdConsoleLogout)},
		// Spare parts (parts_chat.go): each row's Access is its PartsRoles row.
		{Name: "stock", Key: "cmd.stock", Args: "help.args.stock", Menus: staffAll, Access: partsAccess(PartsView), run: (*call).cmdStock},
		{Name: "stock", Arg: "buy", Access: partsAccess(PartsRequestPurchase), run: noArgs((*call).stockBuy)},
		{Name: "stock", Arg: "receive", Access: partsAccess(PartsReceive), run: noArgs((*call).stockReceive)},
		{Name: "stock", Arg: "scrap", Access: partsAccess(PartsRequestScrap), run: noArgs((*call).stockScrap)},
		{Name: "stock", Arg: "return", Access: partsAccess(PartsReturn), run: noArgs((*call).stockReturn)},
		{Name: "stock", Arg: "count", Access: partsAccess(PartsStocktake), run: noArgs((*call).stockCount)},
		{Name: "parts", Key: "cmd.parts", Menus: leads, Access: partsAccess(PartsEditCatalog), run: (*call).cmdParts},
		{Name: "parts", Arg: "add", Access: partsAccess(PartsEditCatalog), run: noArgs((*call).partsAdd)},
		{Name: "parts", Arg: "import", Access: partsAccess(PartsEditCatalog), run: noArgs((*call).partsImport)},
		{Name: "parts", Arg: "export", Access: partsAccess(PartsEditCatalog), run: noArgs((*call).partsExport)},
		// A building's QR poster (posters.go): the leads of its area.
		{Name: "poster", Key: "areas.cmd_poster", Args: "help.args.poster", Menus: leads, Access: leadsOnly, run: (*call).cmdPoster},
		// The areas' names, buildings, groups, leads and phones (areas_edit.go): the admins'.
		{Name: "area", Key: "areas.cmd_area", Args: "help.args.area", Menus: []Role{RoleAdmin}, Access: adminsOnly, run: (*call).cmdArea},
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
	if !cmd.Open && c.me != nil && c.me.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated")
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
	vbOrderFile      = "xo"  // xo|<ticket>: the ticket's work order as an xlsx
	vbRepeatPass     = "rpp" // rpp|<ticket>: the earlier technician passes a repeat to the group
	vbQCStart        = "qcr" // qcr|<ticket>: a lead starts the QC review of a sampled ticket
	vbSpotResult     = "qcx" // qcx|<ticket>|ok|bad: the result of a QC spot check on site
	vbStaffRole      = "sr"  // sr|<person>|<role>
	vbStaffLeave     = "sx"  // sx|<person>: asks to confirm
	vbStaffLeaveOK   = "sxc" // sxc|<person>: deactivates a leaver
	vbSkill          = "sk"  // sk|<person>|<skill>|<level, or - to remove>
	vbCertNew        = "cen" // cen|<holder>: one's own submission, or a lead's record
	vbCertVerify     = "cv"  // cv|<certificate>
	vbCertRefuse     = "cf"  // cf|<certificate>: a submission refused, with a reason
	vbCertReviewed   = "crv" // crv|<certificate>: its 复审 passed
	vbCertRevoke     = "crx" // crx|<certificate>: revoked, with a reason
	vbTrainAnswer    = "tra" // tra|<session>|y|n: going / not going
	vbTrainAttend    = "tat" // tat|<session>|<person>|p|a|pass|fail
	vbTrainCancel    = "trx" // trx|<session>
	vbRosterAdd      = "rsa" // rsa|<day>: a new shift (its hours asked)
	vbRosterPerson   = "rsp" // rsp|<shift>|<person>|on|off
	vbRosterHours    = "rse" // rse|<shift>: new hours asked
	vbRosterDelete   = "rsd" // rsd|<shift>
	vbFeeAnswer      = "fa"  // fa|<ticket>: answer a fee question
	vbFeeClose       = "fc"  // fc|<ticket>: close a fee question
	vbPurchaseOK     = "ppa" // ppa|<PR-n>: a lead approves a purchase request
	vbPurchaseNo     = "ppr" // ppr|<PR-n>: a lead refuses it
	vbDeliver        = "prd" // prd|<PR-n>: record a delivery against it
	vbScrapOK        = "psa" // psa|<SC-n>: a lead approves a scrap request
	vbScrapNo        = "psr" // psr|<SC-n>
	vbLowBuy         = "plb" // plb|<part>|<store>: request a purchase from a low-stock alert
	vbItemEdit       = "pie" // pie|<part>: edit a catalog item
	vbItemRetire     = "pit" // pit|<part>: retire a catalog item, or bring it back
	vbCard           = "cd"  // cd|<card>|<ticket action>|<ticket>[|arg...]: a button of step card <card>
)

// verb is one row of the button table.
type verb struct {
	Access
	// private verbs are refused in the group (a dialogue answer is personal).
	private bool
	// args are the payload's arguments, exactly as the bot builds them.
	args argShape
	run  func(c *call, args []string) error
	// area reads the areas of the record the button names: the sender
	// must belong to one of them (areas_scope.go); nil: no area check.
	area areaArg
}

var verbs = map[string]verb{
	vbChoice:         {Access: anyone, private: true, args: shape(aNum, aChoice), run: (*call).choice},
	vbCommand:        {Access: anyone, args: shape(aCommand).opt(aCommandArg), run: (*call).commandButton}, // the command's own row decides
	vbHandoverSubmit: {Access: repairTeam, args: shape(aDay), run: (*call).handoverSubmit},
	vbHandoverReview: {Access: leadsOnly, args: shape(aDay, aPerson, oneOf("ok", "ret")), run: (*call).handoverReview, area: personAt(1)},
	vbDuty:           {Access: leadsOnly, args: shape(aPerson, oneOf("on", "off")), run: (*call).dutyToggle, area: personAt(0)},
	vbAck:            {Access: sopUsers, args: shape(aNum), run: (*call).ack},
	vbQuiz:           {Access: sopUsers, args: shape(aNum, aNum, aAnswers, aNum), run: (*call).quizAnswer},
	vbReviewSuggest:  {Access: registered, args: shape(aReview), run: func(c *call, args []string) error { return c.reviewAnswer(args, false) }},
	vbReviewDecline:  {Access: registered, args: shape(aReview), run: func(c *call, args []string) error { return c.reviewAnswer(args, true) }},
	// Only an action's owner has this button, and owners are staff: from
	// anyone unregistered the payload is forged.
	vbActionDone: {Access: Access{Deny: "err.bad_button"}, args: shape(aReview, aNum), run: (*call).actionDone},
	// Whose work order it is, the handler checks (as /order does).
	vbOrderFile: {Access: registered, private: true, args: shape(aTicket), run: (*call).orderFile},
	// Only the technician it is offered to has it; the handler checks.
	vbRepeatPass: {Access: repairTeam, args: shape(aTicket), run: (*call).repeatPass},
	vbQCStart:    {Access: leadsOnly, private: true, args: shape(aTicket), run: (*call).qcStart, area: ticketAt(0)},
	// Only the spot check's assignee has it; the handler checks.
	vbSpotResult: {Access: repairTeam, args: shape(aTicket, oneOf("ok", "bad")), run: (*call).spotResult},
	vbFeeAnswer:  {Access: officeOnly, args: shape(aTicket), run: (*call).feeAnswer, area: ticketAt(0)},
	vbFeeClose:   {Access: officeOnly, args: shape(aTicket), run: (*call).feeClose, area: ticketAt(0)},
	// Whom a lead may manage is the invitable table (staff.go).
	vbStaffRole:    {Access: leadsOnly, args: shape(aPerson, aKey), run: (*call).staffRole, area: personAt(0)},
	vbStaffLeave:   {Access: leadsOnly, args: shape(aPerson), run: (*call).staffLeave, area: personAt(0)},
	vbStaffLeaveOK: {Access: leadsOnly, args: shape(aPerson), run: (*call).staffLeaveConfirm, area: personAt(0)},
	vbSkill:        {Access: leadsOnly, args: shape(aPerson, aKey, aKey), run: (*call).skillSet, area: personAt(0)},
	// Whose certificate one may enter is the handler's check (one's own,
	// or a lead's for the team).
	vbCertNew:      {Access: repairTeam, private: true, args: shape(aPerson), run: (*call).certNew},
	vbCertVerify:   {Access: leadsOnly, private: true, args: shape(aKey), run: (*call).certVerify},
	vbCertRefuse:   {Access: leadsOnly, private: true, args: shape(aKey), run: (*call).certReason},
	vbCertReviewed: {Access: leadsOnly, private: true, args: shape(aKey), run: (*call).certReviewed},
	vbCertRevoke:   {Access: leadsOnly, private: true, args: shape(aKey), run: (*call).certReason},
	// Only invitees answer (AnswerSession), only the trainer or a lead
	// records attendance (trainAttend checks the session).
	vbTrainAnswer: {Access: sopUsers, private: true, args: shape(aKey, oneOf("y", "n")), run: (*call).trainAnswer},
	vbTrainAttend: {Access: sopUsers, private: true, args: shape(aKey, aPerson, oneOf(attPresent, attAbsent, attPass, attFail)), run: (*call).trainAttend},
	vbTrainCancel: {Access: leadsOnly, private: true, args: shape(aKey), run: (*call).trainCancel},
	// The weekly duty pattern (roster.go).
	vbRosterAdd:    {Access: leadsOnly, private: true, args: shape(aKey), run: func(c *call, args []string) error { return c.rosterAsk(args, false) }},
	vbRosterPerson: {Access: leadsOnly, private: true, args: shape(aNum, aPerson, oneOf("on", "off")), run: (*call).rosterPerson},
	vbRosterHours:  {Access: leadsOnly, private: true, args: shape(aNum), run: func(c *call, args []string) error { return c.rosterAsk(args, true) }},
	vbRosterDelete: {Access: leadsOnly, private: true, args: shape(aNum), run: (*call).rosterDelete},
	// Spare parts (parts_chat.go): each row's Access is its PartsRoles row.
	vbPurchaseOK: {Access: partsAccess(PartsDecidePurchase), args: shape(aKey), run: func(c *call, args []string) error { return c.purchaseDecide(args, true) }},
	vbPurchaseNo: {Access: partsAccess(PartsDecidePurchase), args: shape(aKey), run: func(c *call, args []string) error { return c.purchaseDecide(args, false) }},
	vbDeliver:    {Access: partsAccess(PartsReceive), private: true, args: shape(aKey), run: (*call).deliverButton},
	vbScrapOK:    {Access: partsAccess(PartsDecideScrap), args: shape(aKey), run: func(c *call, args []string) error { return c.scrapDecide(args, true) }},
	vbScrapNo:    {Access: partsAccess(PartsDecideScrap), args: shape(aKey), run: func(c *call, args []string) error { return c.scrapDecide(args, false) }},
	vbLowBuy:     {Access: partsAccess(PartsRequestPurchase), private: true, args: shape(aKey, aKey), run: (*call).lowBuy},
	vbItemEdit:   {Access: partsAccess(PartsEditCatalog), private: true, args: shape(aKey), run: (*call).itemEdit},
	vbItemRetire: {Access: partsAccess(PartsEditCatalog), args: shape(aKey), run: (*call).itemRetire},
	// A step card's button: the card's number, then a ticket action's
	// payload, checked against that action's own row. The action decides
	// who may (Gate), and the card must be the living one (cardTap).
	vbCard: {Access: anyone, private: true, args: shape(aCard).wraps(validAction), run: (*call).cardTap},
}

// actionFunc handles a ticket action that passed Authorize; args are the
// payload's arguments after the ticket id.
type actionFunc func(c *call, t *Ticket, args []string) error

func ticketOnly(f func(*call, *Ticket) error) actionFunc {
	return func(c *call, t *Ticket, _ []string) error { return f(c, t) }
}

// actionRow is the handler of a ticket action and the arguments its
// buttons carry after the ticket id; who may apply it, and from which
// states, is its row in Transitions (machine.go).
type actionRow struct {
	run  actionFunc
	args argShape
}

var actions = map[Action]actionRow{
	ActAccept:       {run: ticketOnly((*call).accept)},
	ActOnTheWay:     {run: ticketOnly((*call).onTheWay)},
	ActArrive:       {run: ticketOnly((*call).arrive)},
	ActStep:         {run: (*call).stepOp, args: shape(aStep, aWord).by(1, stepOps)},
	ActNoOneHome:    {run: ticketOnly((*call).noOneHome)},
	ActHelp:         {run: ticketOnly((*call).help)},
	ActEntryOK:      {run: ticketOnly((*call).entryOK)},
	ActQuoteOK:      {run: func(c *call, t *Ticket, args []string) error { return c.quoteAnswer(t, true, args) }, args: shape(aNum)},
	ActQuoteNo:      {run: func(c *call, t *Ticket, args []string) error { return c.quoteAnswer(t, false, args) }, args: shape(aNum)},
	ActEndVisit:     {run: ticketOnly((*call).endVisit)},
	ActDone:         {run: ticketOnly((*call).done)},
	ActFixed:        {run: ticketOnly((*call).fixed)},
	ActNotFixed:     {run: ticketOnly((*call).notFixed)},
	ActFeeQuery:     {run: ticketOnly((*call).feeQuery)},
	ActGoodbye:      {run: ticketOnly((*call).goodbye)},
	ActScore:        {run: (*call).score, args: shape(oneOf("1", "2", "3", "4", "5"))},
	ActCancel:       {run: ticketOnly((*call).cancelTicket)},
	ActCancelAsk:    {run: ticketOnly((*call).cancelAsk)},
	ActCancelKeep:   {run: ticketOnly((*call).cancelKeep)},
	ActReschedule:   {run: (*call).reschedule, args: shape(oneOf("d1am", "d1pm", "d2am", "d2pm"))},
	ActReassign:     {run: (*call).reassign, args: shape(aPerson)},
	ActReturnGroup:  {run: ticketOnly((*call).returnToGroup)},
	ActTakeOver:     {run: ticketOnly((*call).takeOver)},
	ActHelpReply:    {run: ticketOnly((*call).helpReply)},
	ActLeadClose:    {run: func(c *call, t *Ticket, _ []string) error { return c.askReason(t, ActLeadClose) }},
	ActLeadCancel:   {run: func(c *call, t *Ticket, _ []string) error { return c.askReason(t, ActLeadCancel) }},
	ActPaperLead:    {run: func(c *call, t *Ticket, _ []string) error { return c.askPaper(t, ActPaperLead) }},
	ActPaperTech:    {run: func(c *call, t *Ticket, _ []string) error { return c.askPaper(t, ActPaperTech) }},
	ActReassignKeep: {run: (*call).reassignKeep, args: shape(aPerson)},
	ActUsePart:      {run: (*call).usePart, args: shape(aStep)},
	ActPartOK:       {run: func(c *call, t *Ticket, args []string) error { return c.partDecide(t, args, true) }, args: shape(aNum)},
	ActPartNo:       {run: func(c *call, t *Ticket, args []string) error { return c.partDecide(t, args, false) }, args: shape(aNum)},
	// The fault coding (faultcode.go): a level and the code picked, or
	// start again, or name the public order's place.
	ActCode: {run: (*call).code, args: shape(aWord).by(0, faultOps)},
	// The callback visit (callbacks.go): held, not held, a score; on the
	// phone also unreachable.
	ActCallback:      {run: (*call).callbackAnswer, args: shape(oneOf(cbAnswerHeld, cbAnswerNotHeld, "s1", "s2", "s3", "s4", "s5"))},
	ActCallbackPhone: {run: (*call).callbackPhone, args: shape(oneOf(cbAnswerHeld, cbAnswerNotHeld, cbAnswerNoReach, "s1", "s2", "s3", "s4", "s5"))},
	ActLeadReopen:    {run: func(c *call, t *Ticket, _ []string) error { return c.askReason(t, ActLeadReopen) }},
	ActLeadMerge:     {run: func(c *call, t *Ticket, _ []string) error { return c.askReason(t, ActLeadMerge) }},
}

// stepOps are the operations of the checklist's step buttons
// (st|ticket|step|op[|arg...]) with the arguments each carries; the step's
// kind decides which of them it takes (checklist.go).
var stepOps = map[string][]argFmt{
	"bell": {oneOf(bellYes, bellNo)}, "ring": nil, "knock": nil, "answered": nil, // door
	"verbal": nil,           // entry
	"next":   nil,           // any step
	"add":    nil,           // quote: show the price list
	"back":   nil,           // quote: from the price list or a quantity back to the card
	"pick":   {aCode},       // quote: an item, then its quantity
	"qty":    {aCode, aNum}, // quote: an item and its quantity
	"undo":   nil, "send": nil, "revise": nil,
	"change": nil,              // work: change of plan or price
	"pass":   nil, "fail": nil, // tests
	"note": {aCode}, // care: a typical note of the SOP
}

// faultOps are the fault coding's operations (fc|ticket|op[|code]) with
// the arguments each carries: a level and the code picked, or none.
var faultOps = map[string][]argFmt{
	FaultComponentLevel: {aFault}, FaultSymptomLevel: {aFault}, FaultCauseLevel: {aFault}, FaultActionLevel: {aFault},
	faultRestart: nil, faultAsset: nil,
}

// ---- button arguments ----

// argFmt is the format of one payload argument.
type argFmt func(string) bool

func matches(expr string) argFmt { return regexp.MustCompile(expr).MatchString }

func oneOf(values ...string) argFmt {
	return func(s string) bool { return slices.Contains(values, s) }
}

// The formats of the arguments buttons carry, as the bot writes them.
var (
	aTicket     = matches(`^[A-Z]{1,6}-[0-9]{8}-[0-9]{4,6}$`)            // BX-20261127-0007 (org.ticket_prefix, day, number)
	aNum        = matches(`^(0|[1-9][0-9]{0,5})$`)                       // strconv.Itoa of a count, a number, a version
	aPerson     = matches(`^[a-z]{2,8}:[A-Za-z0-9_.@-]{1,64}$`)          // tg:123, wecom:zhangsan, wxkf:wmXXXX
	aDay        = matches(`^[0-9]{8}$`)                                  // YYYYMMDD
	aReview     = matches(`^RV-[0-9]{4}-[0-9]{3,6}$`)                    // RV-2026-001
	aAnswers    = matches(`^([0-9]{1,6}(\.[0-9]{1,6}){0,9})?$`)          // the quiz answers so far, "3.4"
	aChoice     = matches(`^[a-z0-9_]{1,20}(:[A-Za-z0-9_.@:-]{1,72})?$`) // a dialogue value: "asap", "cat:water", "p:tg:200" (a person picked)
	aCommand    = matches(`^[a-z]{1,20}$`)
	aCommandArg = matches(`^[A-Za-z0-9_.@:-]{1,72}$`) // a ticket, a page, a person id (tg:300)
	aStep       = matches(`^[^|]{1,12}$`)             // an SOP step id (sop.Validate: 1-12 characters)
	aCode       = matches(`^[^|]{1,12}$`)             // a price-list code (sop.Validate: 1-12 characters)
	aWord       = matches(`^[a-z_]{1,12}$`)
	aKey        = matches(`^[A-Za-z0-9_.-]{1,32}$`) // a stored key: a skill or level, a role, a certificate or session id, a weekday
	aCard       = matches(`^[1-9][0-9]{0,5}$`)      // a step card's number (StepCard.N, from 1)
	aFault      = matches(`^[A-Z0-9_]{1,8}$`)       // a fault code (validCode: 1-8 characters A-Z 0-9 _)
)

// argShape is the arity and format of a button's arguments: the fixed
// ones, then up to len(optional) more; or, when keyed, the rest as the
// table gives them for the argument at position key; or, when inner is
// set, the rest is a payload of its own that inner checks.
type argShape struct {
	fixed, optional []argFmt
	keyed           map[string][]argFmt
	key             int
	inner           func(Payload) bool
}

func shape(fixed ...argFmt) argShape { return argShape{fixed: fixed} }

func (s argShape) opt(more ...argFmt) argShape { s.optional = more; return s }

func (s argShape) by(key int, table map[string][]argFmt) argShape {
	s.key, s.keyed = key, table
	return s
}

// wraps makes the arguments after the fixed ones a payload of their own
// (verb, then its arguments), valid when valid says so: a button that
// carries another button's payload (cd|<card>|<payload>) is exactly as
// strict as that button.
func (s argShape) wraps(valid func(Payload) bool) argShape {
	s.inner = valid
	return s
}

// check reports whether args have exactly the shape.
func (s argShape) check(args []string) bool {
	if len(args) < len(s.fixed) {
		return false
	}
	for i, f := range s.fixed {
		if !f(args[i]) {
			return false
		}
	}
	rest := args[len(s.fixed):]
	if s.inner != nil {
		return len(rest) >= 1 && s.inner(Payload{Verb: rest[0], Args: rest[1:]})
	}
	more := s.optional
	if s.keyed != nil {
		var ok bool
		if more, ok = s.keyed[args[s.key]]; !ok || len(rest) != len(more) {
			return false
		}
	}
	if len(rest) > len(more) {
		return false
	}
	for i, a := range rest {
		if !more[i](a) {
			return false
		}
	}
	return true
}

// ValidPayload reports whether s is a button payload the engine acts on:
// well formed (DecodePayload), of a verb or ticket action of the routing
// tables, with exactly the arguments, in the formats, its buttons carry.
// Anything else is answered as an unknown button before it is read.
func ValidPayload(s string) bool {
	p, ok := DecodePayload(s)
	return ok && validArgs(p)
}

func validArgs(p Payload) bool {
	if v, ok := verbs[p.Verb]; ok {
		return v.args.check(p.Args)
	}
	return validAction(p)
}

// validAction reports whether p is a ticket action's payload: the action,
// its ticket, and exactly the arguments its row gives.
func validAction(p Payload) bool {
	row, ok := actions[Action(p.Verb)]
	return ok && len(p.Args) >= 1 && aTicket(p.Args[0]) && row.args.check(p.Args[1:])
}

// callback handles a button tap.
func (c *call) callback() error {
	p, ok := DecodePayload(c.ev.Data)
	if !ok || !validArgs(p) {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if c.me != nil && c.me.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated") // a leaver's old buttons
	}
	if v, ok := verbs[p.Verb]; ok {
		if v.private && c.ev.InGroup {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if !v.Allows(c.me) {
			return Errorf(CodeForbidden, v.Deny)
		}
		if err := c.checkArea(v.area, p.Args); err != nil {
			return err
		}
		return v.run(c, p.Args)
	}
	return c.ticketAction(p, 0)
}

// cardTap handles a button of a step card, "cd|<card>|<action>|<ticket>...":
// the ticket action, once the card is known to be the living one.
// Its row's shape has checked the card number and the inner payload.
func (c *call) cardTap(args []string) error {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	return c.ticketAction(Payload{Verb: args[1], Args: args[2:]}, n)
}

// ticketAction applies a ticket action; card (> 0) is the number of the
// step card its button was on, which must be the living one.
func (c *call) ticketAction(p Payload, card int) error {
	a := Action(p.Verb)
	row := actions[a]
	t, err := c.mustTicket(p.Args[0])
	if err != nil {
		return err
	}
	if _, err := Gate(c.tx, c.e.quals(), a, c.me, t, c.now, c.e.o.Location, c.lang); err != nil {
		return err
	}
	if card > 0 && !t.Card.live(card) {
		return Errorf(CodeConflict, "err.card_outdated", "ticket", t.ID)
	}
	if t.Visit == nil {
		t.Visit = &Visit{} // handlers read the visit; a ticket before arrival has none yet
	}
	return row.run(c, t, p.Args[1:])
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

// ---- console actions ----

// Console actions: what the office console (bot/web) sends as an
// EvConsole event. Their names travel in its URLs and forms, so they never
// change meaning; new actions get new names.
const (
	ConsoleLogin       = "login"        // redeem a one-time link for a session (the link is the credential)
	ConsoleLogout      = "logout"       // end this session, or all of the person's
	ConsoleAssign      = "assign"       // assign or reassign a ticket to a technician: ActReassign's row
	ConsoleReturn      = "return"       // take it back to the group: ActReturnGroup's row
	ConsoleCancel      = "cancel"       // cancel it with a reason: ActLeadCancel's row
	ConsolePhoneTicket = "phone_ticket" // file a ticket for a resident who phoned
	// A lead's ways out (console_lead.go), each with its reason or photo.
	ConsoleClose  = "lead_close" // close a ticket stuck at the sign-off or survey: ActLeadClose's row
	ConsolePaper  = "paper"      // the signed paper work order's photo: ActPaperLead's row
	ConsoleReopen = "reopen"     // reopen an ended ticket: ActLeadReopen's row
	ConsoleMerge  = "merge"      // merge a duplicate into another ticket: ActLeadMerge's row
	// Customer service: the fee questions (fees.go).
	ConsoleFeeAnswer = "fee_answer" // answer the resident: vbFeeAnswer's row
	ConsoleFeeClose  = "fee_close"  // close the question: vbFeeClose's row
	// The management pages: each is the chat button it names (Verb).
	ConsoleStaffRole      = "staff_role"      // a new role: vbStaffRole
	ConsoleStaffLeave     = "staff_leave"     // deactivate a leaver: vbStaffLeaveOK
	ConsoleSkill          = "skill"           // a skill's level, or "-" to remove it: vbSkill
	ConsoleCertVerify     = "cert_verify"     // a certificate checked: vbCertVerify
	ConsoleCertReviewed   = "cert_reviewed"   // its 复审 passed: vbCertReviewed
	ConsoleDuty           = "duty"            // on or off duty now: vbDuty
	ConsoleRosterPerson   = "roster_person"   // someone on or off a shift: vbRosterPerson
	ConsoleRosterDelete   = "roster_delete"   // a shift removed: vbRosterDelete
	ConsoleTrainingCancel = "training_cancel" // a session cancelled: vbTrainCancel
	ConsolePurchaseOK     = "purchase_ok"     // vbPurchaseOK
	ConsolePurchaseNo     = "purchase_no"     // vbPurchaseNo
	ConsoleItemRetire     = "item_retire"     // a catalog item retired or back: vbItemRetire
	ConsolePriceSet       = "price_set"       // a price list line changed or added: a new SOP version, as /sop reload makes
	ConsoleAreaSet        = "area_set"        // an area's field edited or reset, as /area does
	// The management's dialogues in one form each (console_manage.go):
	// the chat button or command that opens the dialogue is the row.
	ConsoleRosterAdd      = "roster_add"      // a shift added on a day with its hours: vbRosterAdd
	ConsoleRosterHours    = "roster_hours"    // a shift's hours changed: vbRosterHours
	ConsoleCertNew        = "cert_new"        // a certificate recorded (a lead's) or submitted (one's own): vbCertNew
	ConsoleCertRefuse     = "cert_refuse"     // a submission refused with a reason: vbCertRefuse
	ConsoleCertRevoke     = "cert_revoke"     // a card revoked with a reason: vbCertRevoke
	ConsoleTrainingNew    = "training_new"    // a session scheduled: /training new
	ConsoleTrainingAttend = "training_attend" // one person's attendance and result: vbTrainAttend
	ConsoleActionDone     = "action_done"     // a review action done with its evidence: vbActionDone
	ConsoleStockBuy       = "stock_buy"       // a purchase request: /stock buy
	ConsoleStockReceive   = "stock_receive"   // a delivery against an approved purchase: /stock receive
	ConsoleStockReturn    = "stock_return"    // unused parts back from a job: /stock return
	ConsoleStockCount     = "stock_count"     // a store's stock adjusted to a count, with a reason: /stock count
	// The records' pages (console_records.go).
	ConsoleCallback = "callback"  // a phone callback's result (and score): ActCallbackPhone's row
	ConsoleQCReview = "qc_review" // a lead's QC review in one form: vbQCStart's row
)

// consoleAction is one row of the console table. A row with Act is a
// ticket action: Authorize decides with that action's Transitions row,
// exactly as for the chat's button. A row with Verb is that chat button:
// its row's Access decides, and without a run of its own its handler runs
// with the form's Fields, in order, as the button's arguments (checked
// against its shape). A row with Cmd is authorised by that command's rows
// ("sop reload"). Any other names no ticket and its Access decides. A new
// console action of another area is one more row.
type consoleAction struct {
	Act Action
	Access
	Verb   string
	Fields []string
	Cmd    string
	run    func(c *call, t *Ticket, args map[string]string) error
}

var consoleActions = map[string]consoleAction{
	ConsoleLogin:          {Access: anyone, run: (*call).consoleLogin},
	ConsoleLogout:         {Access: registered, run: (*call).consoleLogout},
	ConsoleAssign:         {Act: ActReassign, run: (*call).consoleAssign},
	ConsoleReturn:         {Act: ActReturnGroup, run: func(c *call, t *Ticket, _ map[string]string) error { return c.returnToGroup(t) }},
	ConsoleCancel:         {Act: ActLeadCancel, run: (*call).cancelByLead},
	ConsolePhoneTicket:    {Access: officeOnly, run: (*call).phoneTicket},
	ConsoleClose:          {Act: ActLeadClose, run: (*call).consoleClose},
	ConsolePaper:          {Act: ActPaperLead, run: (*call).consolePaper},
	ConsoleReopen:         {Act: ActLeadReopen, run: (*call).consoleReopen},
	ConsoleMerge:          {Act: ActLeadMerge, run: (*call).consoleMerge},
	ConsoleFeeAnswer:      {Verb: vbFeeAnswer, run: (*call).consoleFeeAnswer},
	ConsoleFeeClose:       {Verb: vbFeeClose, Fields: []string{"ticket"}},
	ConsoleStaffRole:      {Verb: vbStaffRole, Fields: []string{"person", "role"}},
	ConsoleStaffLeave:     {Verb: vbStaffLeaveOK, Fields: []string{"person"}},
	ConsoleSkill:          {Verb: vbSkill, Fields: []string{"person", "skill", "level"}},
	ConsoleCertVerify:     {Verb: vbCertVerify, Fields: []string{"cert"}},
	ConsoleCertReviewed:   {Verb: vbCertReviewed, Fields: []string{"cert"}},
	ConsoleDuty:           {Verb: vbDuty, Fields: []string{"person", "on"}},
	ConsoleRosterPerson:   {Verb: vbRosterPerson, Fields: []string{"shift", "person", "on"}},
	ConsoleRosterDelete:   {Verb: vbRosterDelete, Fields: []string{"shift"}},
	ConsoleTrainingCancel: {Verb: vbTrainCancel, Fields: []string{"session"}},
	ConsolePurchaseOK:     {Verb: vbPurchaseOK, Fields: []string{"request"}},
	ConsolePurchaseNo:     {Verb: vbPurchaseNo, Fields: []string{"request"}},
	ConsoleItemRetire:     {Verb: vbItemRetire, Fields: []string{"part"}},
	ConsolePriceSet:       {Cmd: "sop reload", run: (*call).consolePriceSet},
	ConsoleAreaSet:        {Cmd: "area", run: (*call).consoleAreaSet},
	ConsoleRosterAdd:      {Verb: vbRosterAdd, run: (*call).consoleRosterAdd},
	ConsoleRosterHours:    {Verb: vbRosterHours, run: (*call).consoleRosterHours},
	ConsoleCertNew:        {Verb: vbCertNew, run: (*call).consoleCertNew},
	ConsoleCertRefuse:     {Verb: vbCertRefuse, run: consoleCertReason(vbCertRefuse)},
	ConsoleCertRevoke:     {Verb: vbCertRevoke, run: consoleCertReason(vbCertRevoke)},
	ConsoleTrainingNew:    {Cmd: "training new", run: (*call).consoleTrainingNew},
	ConsoleTrainingAttend: {Verb: vbTrainAttend, Fields: []string{"session", "person", "mark"}},
	ConsoleActionDone:     {Verb: vbActionDone, run: (*call).consoleActionDone},
	ConsoleStockBuy:       {Cmd: "stock buy", run: (*call).consoleStockBuy},
	ConsoleStockReceive:   {Cmd: "stock receive", run: (*call).consoleStockReceive},
	ConsoleStockReturn:    {Cmd: "stock return", run: (*call).consoleStockReturn},
	ConsoleStockCount:     {Cmd: "stock count", run: (*call).consoleStockCount},
	ConsoleCallback:       {Act: ActCallbackPhone, run: (*call).consoleCallback},
	ConsoleQCReview:       {Verb: vbQCStart, run: (*call).consoleQC},
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
	dlgFaultAsset     = "fault_asset"      // a public order's asset or place, typed at the fault coding
	dlgQC             = "qc_review"        // a lead's QC review of a sampled ticket (Dialogue.TicketID)
	dlgQualOverride   = "qual_override"    // a lead's reason to assign someone unqualified
	dlgCert           = "cert"             // a certificate entered field by field
	dlgCertRevoke     = "cert_revoke"      // the reason a certificate is refused or revoked
	dlgSession        = "training_session" // a training session being scheduled
	dlgShift          = "roster_shift"     // the hours of a roster shift (new or changed)
	dlgFeeAnswer      = "fee_answer"
	dlgLeadReason     = "lead_reason"   // a lead's reason to close or cancel a ticket (Dialogue.TicketAction)
	dlgPaper          = "paper_signoff" // the photo of a signed paper work order (Dialogue.TicketAction)
	dlgPartsBuy       = "parts_buy"     // a purchase request
	dlgPartsReceive   = "parts_receive" // a delivery against an approved purchase
	dlgPartsScrap     = "parts_scrap"   // a scrap request
	dlgPartsCount     = "parts_count"   // a lead's stocktake
	dlgPartsItem      = "parts_item"    // a catalog item added or edited
	dlgPartsImport    = "parts_import"  // waiting for a catalog workbook
	dlgPartsReturn    = "parts_return"  // unused parts back from a job
	dlgUsePart        = "use_part"      // a requisition from inside the job
)

// dialogueKind is one row of the dialogue table: what a stored dialogue
// of that kind does with the person's next message, and with a tap on one
// of its buttons (d|seq|value; nil when the kind has none). legacy reads a
// record of the kind written before its fields were split (legacy.go).
// photo says whether its input takes a photo at the dialogue's step (nil:
// never), so channels download only photos that will be used (WantsPhoto).
type dialogueKind struct {
	input  func(c *call, d *Dialogue) error
	choose func(c *call, d *Dialogue, value string) error
	legacy func(d *Dialogue)
	// file takes a document (EvFile); a kind without one answers it as
	// unsupported.
	file  func(c *call, d *Dialogue) error
	photo func(d *Dialogue) bool
}

// always is the photo rule of a dialogue that takes a photo at every step.
func always(*Dialogue) bool { return true }

// atSteps is the photo rule of a dialogue that takes one at these steps.
func atSteps(steps ...string) func(*Dialogue) bool {
	return func(d *Dialogue) bool { return slices.Contains(steps, d.Step) }
}

var dialogues = map[string]dialogueKind{
	dlgRegister:       {input: (*call).registerInput, choose: (*call).registerChoice},
	dlgReport:         {input: (*call).reportInput, choose: (*call).reportChoice, photo: atSteps(stepDesc, stepPhotos)},
	dlgComment:        {input: (*call).commentInput, choose: skipAt(stepComment)},
	dlgRework:         {input: (*call).reworkInput, choose: skipAt(stepReason), photo: always},
	dlgQty:            {input: (*call).qtyInput, legacy: legacyQuantity},
	dlgDetails:        {input: (*call).detailsInput, choose: (*call).detailsChoice, photo: always},
	dlgHelpReply:      {input: (*call).helpReplyInput},
	dlgHandoverReturn: {input: (*call).handoverReturnInput, legacy: legacyHandoverReturn},
	dlgSuggest:        {input: (*call).suggestInput, legacy: legacyReviewDialogue, photo: always},
	dlgReviewClose:    {input: (*call).reviewCloseInput, choose: (*call).reviewCloseChoice, legacy: legacyReviewDialogue},
	dlgActionDone:     {input: (*call).actionEvidenceInput, legacy: legacyActionDone},
	dlgComplain:       {input: (*call).complainInput},
	dlgFaultAsset:     {input: (*call).assetInput},
	dlgQC:             {input: (*call).qcInput, choose: (*call).qcChoice},
	dlgQualOverride:   {input: (*call).overrideInput},
	dlgCert:           {input: (*call).certInput, choose: (*call).certChoice, photo: atSteps(stepCertPhoto)},
	dlgCertRevoke:     {input: (*call).certReasonInput},
	dlgSession:        {input: (*call).sessionInput, choose: (*call).sessionChoice},
	dlgShift:          {input: (*call).shiftInput},
	dlgFeeAnswer:      {input: (*call).feeAnswerInput},
	dlgLeadReason:     {input: (*call).leadReasonInput},
	dlgPaper:          {input: (*call).paperInput},
	dlgPartsBuy:       {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgPartsReceive:   {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgPartsScrap:     {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgPartsCount:     {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgPartsItem:      {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgPartsImport:    {input: (*call).partsInput, choose: (*call).partsChoose, file: (*call).partsFile},
	dlgPartsReturn:    {input: (*call).partsInput, choose: (*call).partsChoose},
	dlgUsePart:        {input: (*call).partsInput, choose: (*call).partsChoose},
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
	if c.me != nil && c.me.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated")
	}
	d, err := c.dialogue()
	if errors.Is(err, ErrNotFound) {
		return c.idle()
	}
	if err != nil {
		return err
	}
	k, ok := dialogues[d.Kind]
	if c.ev.Kind == EvUnsupported || c.ev.Kind == EvFile && k.file == nil {
		return Errorf(CodeInvalid, "err.unsupported_in_step", "prompt", c.promptHint(d))
	}
	if !ok {
		// An unknown kind means a newer version wrote it; start clean rather than guess.
		return c.tx.DeleteDialogue(d.PersonID)
	}
	if c.ev.Kind == EvFile {
		return k.file(c, d)
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
	case EvUnsupported, EvFile:
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
	tmRung         = "rung"      // an emergency's escalation rung (Timer.Rung)
	tmAccept       = "accept"    // a normal ticket not accepted in time
	tmArrive       = "arrive"    // not on site in time
	tmRemind       = "remind"    // the technician's reminder before the agreed time
	tmChase        = "chase"     // a resident who was not home
	tmClock        = "clock"     // refreshes an emergency's countdown on the group card each minute
	tmHandover     = "handover"  // the day's handover starts (Timer.Day)
	tmEOD          = "eod"       // the end of the working day (Timer.Day)
	tmAckRemind    = "ackrem"    // staff who have not acknowledged an SOP version
	tmYearly       = "yearly"    // the yearly SOP review
	tmReviewRemind = "rvrem"     // review participants who have not answered
	tmReviewDue    = "rvdue"     // a review past its deadline
	tmActionPre    = "actpre"    // an improvement action due tomorrow
	tmActionDue    = "actdue"    // an improvement action due today
	tmActionEsc    = "actesc"    // an improvement action three days late
	tmAudit        = "audit"     // the monthly audit sample (Timer.Day is the month)
	tmCertSweep    = "certsweep" // the daily certificate sweep (Timer.Day)
	tmTrainRemind  = "trrem"     // a reminder before a training session (Timer.Session)
	tmTrainAttend  = "tratt"     // a training session starts: the trainer records attendance (Timer.Session)
	tmSignoff      = "signoff"   // a sign-off not answered: remind, then confirm by default
	tmSurvey       = "survey"    // a survey not answered: remind, then close without a rating
	tmStockReport  = "stockrep"  // the monthly stock report to the leads (Timer.Month)
	tmWeekly       = "kpiweek"   // the weekly KPI report to the leads (Timer.Day is the report's day)
	tmRepeatOffer  = "rpoffer"   // a repeat's offer to the earlier technician lapses
	tmCallback     = "callback"  // the callback visit is due: ask the resident
	tmCallbackDue  = "cbdue"     // the resident did not answer: customer service calls
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
	tmYearly:       {fire: func(c *call, _ Timer, _ bool) error { _, err := c.openReview("yearly", ""); return err }, legacy: legacyYearly},
	tmReviewRemind: {fire: func(c *call, tm Timer, _ bool) error { return c.reviewRemind(tm.Review) }, legacy: legacyReviewTimer},
	tmReviewDue:    {fire: func(c *call, tm Timer, _ bool) error { return c.reviewDue(tm.Review) }, legacy: legacyReviewTimer},
	tmActionPre:    {fire: (*call).actionDueSoon, legacy: legacyActionTimer},
	tmActionDue:    {fire: (*call).actionOverdue, legacy: legacyActionTimer},
	tmActionEsc:    {fire: (*call).actionEscalate, legacy: legacyActionTimer},
	tmAudit:        {fire: func(c *call, tm Timer, _ bool) error { return c.audit(tm.Month) }, legacy: legacyAudit},
	tmWeekly:       {fire: func(c *call, tm Timer, _ bool) error { return c.weekly(tm.Day) }},
	tmRepeatOffer:  {fire: onTicket(func(c *call, t *Ticket, _ Timer, _ bool) error { return c.repeatOfferLapsed(t) })},
	tmCallback:     {fire: onTicket(func(c *call, t *Ticket, _ Timer, _ bool) error { return c.callbackAsk(t) })},
	tmCallbackDue:  {fire: onTicket(func(c *call, t *Ticket, _ Timer, _ bool) error { return c.callbackUnanswered(t) })},
	tmCertSweep:    {fire: func(c *call, _ Timer, _ bool) error { return c.certSweep() }},
	tmTrainRemind:  {fire: func(c *call, tm Timer, _ bool) error { return c.trainRemind(tm.Session) }},
	tmTrainAttend:  {fire: func(c *call, tm Timer, _ bool) error { return c.trainAttendCall(tm.Session) }},
	tmSignoff:      {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.signoffDue(t, late) })},
	tmSurvey:       {fire: onTicket(func(c *call, t *Ticket, _ Timer, late bool) error { return c.surveyDue(t, late) })},
	tmStockReport:  {fire: func(c *call, tm Timer, _ bool) error { return c.stockReport(tm.Month) }},
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
		c.e.legacyTicket(t)
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
