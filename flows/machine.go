package flows

import "time"

// Action is a ticket operation a person triggers with a button.
type Action string

// Ticket actions. Their short names travel in callback payloads, so they
// never change meaning; new actions get new names.
const (
	ActAccept      Action = "acc"
	ActOnTheWay    Action = "way"
	ActArrive      Action = "arr"
	ActStep        Action = "st"   // an on-site checklist operation: st|ticket|step|op[|arg...]
	ActNoOneHome   Action = "nh"   // after the door rule is exhausted
	ActHelp        Action = "help" // technician asks the lead for support, at any step
	ActEntryOK     Action = "ent"  // resident agrees to entry, on their phone
	ActQuoteOK     Action = "qa"   // resident agrees to quote n
	ActQuoteNo     Action = "qd"   // resident refuses quote n
	ActEndVisit    Action = "end"  // request cannot be met: apologise and close
	ActDone        Action = "done" // request the resident's sign-off
	ActFixed       Action = "fix"
	ActNotFixed    Action = "nfx"
	ActFeeQuery    Action = "fee"
	ActGoodbye     Action = "bye"
	ActScore       Action = "sc"
	ActCancel      Action = "cx"  // the resident withdraws it (the confirmation's button)
	ActCancelAsk   Action = "cxq" // the resident asks to withdraw it: what happens, and a confirmation
	ActCancelKeep  Action = "cxk" // the resident keeps it after all
	ActReschedule  Action = "rs"
	ActReassign    Action = "ra"
	ActReturnGroup Action = "rg"
	ActTakeOver    Action = "tk"
	ActHelpReply   Action = "hr"
	ActCode        Action = "fcd" // the fault coding at the sign-off step: fcd|ticket|level[|code] (faultcode.go)
	// The callback visit (callbacks.go): the resident's answer, and
	// customer service's record of a phone callback.
	ActCallback      Action = "cb"  // cb|ticket|h|n|s<1-5>
	ActCallbackPhone Action = "cbc" // cbc|ticket|h|n|x|s<1-5>
	// A lead's ways out of any open state, each with a reason or evidence
	// in the audit trail (manage.go).
	ActLeadClose    Action = "lcl" // close a visit that is over (done, confirmed, survey), with a reason
	ActLeadCancel   Action = "lcx" // cancel a ticket before its survey, with a reason
	ActPaperLead    Action = "ppl" // record the resident's signature on the paper 维修工作单 (its photo)
	ActPaperTech    Action = "ppt" // the assignee records it
	ActReassignKeep Action = "rak" // hand a ticket at the sign-off to another technician; it stays where it is
	ActUsePart      Action = "pu"  // "use part" on the quote or repair step: pu|ticket|step
	ActPartOK       Action = "pua" // a lead approves a requisition over the limit: pua|ticket|n
	ActPartNo       Action = "pur" // a lead refuses it: pur|ticket|n
	// A lead's reopen and merge (console_lead.go), each with a reason.
	ActLeadReopen Action = "lro" // reopen an ended ticket: back to the group as new
	ActLeadMerge  Action = "lmg" // cancel a duplicate into the ticket it repeats
)

// Who may trigger a transition, besides the role list.
type actor int

const (
	byRole     actor = iota // any person with one of the roles
	byAssignee              // only the ticket's assignee (a lead takes over first)
	byReporter              // only the resident who reported it
	bySigner                // whoever signs the work order off (Ticket.Signer): the reporter, or a lead
)

// Transition is one row of the ticket state machine. An empty To keeps the
// state (checklist steps move inside on_site).
type Transition struct {
	From  []State
	To    State
	Roles []Role
	who   actor
	// Qualified: the person must qualify for the ticket's requirement
	// (skill level, certificate), read from the store in the transaction
	// of the tap (Gate).
	Qualified bool
	// InArea: the person must belong to the ticket's area (areas.go;
	// admins belong to every one). Its reporter acts on their own ticket
	// wherever; an assignee a lead chose from another area acts by the
	// byAssignee rows, which do not ask.
	InArea bool
}

var (
	staff     = []Role{RoleTechnician, RoleLead, RoleAdmin}
	leads     = []Role{RoleLead, RoleAdmin}
	residents = []Role{RoleResident}
	// signers may sign a work order off: its reporter, or a lead where
	// the lead signs (public orders, when configured so).
	signers = []Role{RoleResident, RoleLead, RoleAdmin}
	// working is every state in which a technician holds the job.
	working = []State{StateAccepted, StateOnTheWay, StateOnSite, StateWaiting}
)

// Transitions is the ticket state machine. Every tap is checked against this
// table (role, assignee or reporter, current state) before anything changes;
// checklist steps add their own guard (the button's step must be the current one).
var Transitions = map[Action]Transition{
	ActAccept:      {From: []State{StateNew}, To: StateAccepted, Roles: staff, who: byRole, Qualified: true, InArea: true},
	ActOnTheWay:    {From: []State{StateAccepted, StateWaiting}, To: StateOnTheWay, Roles: staff, who: byAssignee},
	ActArrive:      {From: []State{StateAccepted, StateOnTheWay, StateWaiting}, To: StateOnSite, Roles: staff, who: byAssignee},
	ActStep:        {From: []State{StateOnSite}, Roles: staff, who: byAssignee},
	ActNoOneHome:   {From: []State{StateOnSite}, To: StateWaiting, Roles: staff, who: byAssignee},
	ActHelp:        {From: []State{StateAccepted, StateOnTheWay, StateOnSite}, Roles: staff, who: byAssignee},
	ActEntryOK:     {From: []State{StateOnSite}, Roles: residents, who: byReporter},
	ActQuoteOK:     {From: []State{StateOnSite}, Roles: residents, who: byReporter},
	ActQuoteNo:     {From: []State{StateOnSite}, Roles: residents, who: byReporter},
	ActEndVisit:    {From: []State{StateOnSite}, To: StateUnresolved, Roles: staff, who: byAssignee},
	ActDone:        {From: []State{StateOnSite}, To: StateDone, Roles: staff, who: byAssignee},
	ActFixed:       {From: []State{StateDone}, To: StateConfirmed, Roles: signers, who: bySigner, InArea: true},
	ActNotFixed:    {From: []State{StateDone}, To: StateOnSite, Roles: signers, who: bySigner, InArea: true},
	ActFeeQuery:    {From: []State{StateDone}, Roles: residents, who: byReporter},
	ActGoodbye:     {From: []State{StateConfirmed}, To: StateSurvey, Roles: staff, who: byAssignee},
	ActScore:       {From: []State{StateSurvey}, To: StateClosed, Roles: residents, who: byReporter},
	ActCancel:      {From: []State{StateNew}, To: StateCancelled, Roles: residents, who: byReporter},
	ActCancelAsk:   {From: []State{StateNew}, Roles: residents, who: byReporter},
	ActCancelKeep:  {From: []State{StateNew}, Roles: residents, who: byReporter},
	ActReschedule:  {From: []State{StateWaiting}, Roles: residents, who: byReporter},
	ActReassign:    {From: append([]State{StateNew}, working...), To: StateAccepted, Roles: leads, who: byRole, InArea: true},
	ActReturnGroup: {From: working, To: StateNew, Roles: leads, who: byRole, InArea: true},
	ActTakeOver:    {From: working, Roles: leads, who: byRole, InArea: true},
	ActHelpReply:   {From: working, Roles: leads, who: byRole, InArea: true},
	ActCode:        {From: []State{StateOnSite}, Roles: staff, who: byAssignee},
	// A callback is about a closed ticket; "not held" reopens it (callbacks.go).
	ActCallback:      {From: []State{StateClosed}, Roles: residents, who: byReporter},
	ActCallbackPhone: {From: []State{StateClosed}, Roles: office, who: byRole, InArea: true},
	// The lead's close, cancel and paper signature start a dialogue for
	// the reason or the photo; To is applied, re-authorised, with it.
	ActLeadClose:    {From: []State{StateDone, StateConfirmed, StateSurvey}, To: StateClosed, Roles: leads, who: byRole, InArea: true},
	ActLeadCancel:   {From: append(append([]State{StateNew}, working...), StateDone, StateConfirmed), To: StateCancelled, Roles: leads, who: byRole, InArea: true},
	ActPaperLead:    {From: []State{StateDone}, To: StateConfirmed, Roles: leads, who: byRole, InArea: true},
	ActPaperTech:    {From: []State{StateDone}, To: StateConfirmed, Roles: staff, who: byAssignee},
	ActReassignKeep: {From: []State{StateDone, StateConfirmed}, Roles: leads, who: byRole, InArea: true},
	ActUsePart:      {From: []State{StateOnSite}, Roles: PartsRoles[PartsIssue], who: byAssignee},
	ActPartOK:       {From: []State{StateOnSite}, Roles: PartsRoles[PartsApproveIssue], who: byRole, InArea: true},
	ActPartNo:       {From: []State{StateOnSite}, Roles: PartsRoles[PartsApproveIssue], who: byRole, InArea: true},
	// A lead reopens what ended (closed, cancelled, unresolved) and merges
	// a duplicate before its visit is over (console_lead.go).
	ActLeadReopen: {From: []State{StateClosed, StateCancelled, StateUnresolved}, To: StateNew, Roles: leads, who: byRole, InArea: true},
	ActLeadMerge:  {From: append([]State{StateNew}, working...), To: StateCancelled, Roles: leads, who: byRole, InArea: true},
}

// AllStates lists every ticket state, for exhaustive tests and reports.
var AllStates = []State{StateNew, StateAccepted, StateOnTheWay, StateOnSite, StateWaiting, StateDone,
	StateConfirmed, StateSurvey, StateClosed, StateCancelled, StateUnresolved}

// Authorize decides whether person p may apply action a to ticket t now.
// It is the single gate every ticket action passes (the other buttons pass
// their row's Access, routes.go): the payload only names the action and
// the ticket, everything else is re-read from the store.
func Authorize(a Action, p *Person, t *Ticket) error {
	tr, ok := Transitions[a]
	if !ok {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if p == nil || !p.Registered {
		return Errorf(CodeForbidden, "err.not_registered")
	}
	if p.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated")
	}
	if !hasRole(tr.Roles, p.Role) {
		return Errorf(CodeForbidden, "err.role")
	}
	if tr.InArea && p.ID != t.ResidentID && !p.InArea(t.AreaKey()) {
		return Errorf(CodeForbidden, "areas.other_area", "ticket", t.ID)
	}
	switch tr.who {
	case byAssignee:
		if t.AssigneeID != p.ID {
			return Errorf(CodeForbidden, "err.not_your_job", "ticket", t.ID)
		}
	case byReporter:
		if t.ResidentID != p.ID {
			return Errorf(CodeForbidden, "err.not_your_ticket", "ticket", t.ID)
		}
	case bySigner:
		switch {
		case t.Signer == SignoffLead && !p.Role.IsLead():
			return Errorf(CodeForbidden, "err.role")
		case t.Signer != SignoffLead && t.ResidentID != p.ID:
			if p.Role.IsLead() {
				return Errorf(CodeForbidden, "err.role")
			}
			return Errorf(CodeForbidden, "err.not_your_ticket", "ticket", t.ID)
		}
	}
	if !hasState(tr.From, t.State) {
		if a == ActAccept && t.State.Open() {
			return Errorf(CodeConflict, "err.already_taken", "ticket", t.ID, "name", t.Assignee)
		}
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	return nil
}

// Gate is Authorize followed by the checks of the transition that read
// the store: for an accept, that p qualifies for what the ticket needs
// (QualRules.QualifyTx, on the day of now in loc). The engine calls it
// inside the transaction of every tap, so a certificate that lapsed at
// midnight refuses the next tap whatever the card showed. A refusal is an
// *Error rendered in lang (the person's); warn is a soft requirement's
// warning, zero when there is nothing to say.
func Gate(tx QualsTx, rules *QualRules, a Action, p *Person, t *Ticket, now time.Time, loc *time.Location, lang Lang) (warn Reason, err error) {
	if err := Authorize(a, p, t); err != nil {
		return Reason{}, err
	}
	if !Transitions[a].Qualified {
		return Reason{}, nil
	}
	ok, why, err := rules.QualifyTx(tx, p, rules.NeedOf(t), now, loc)
	if err != nil {
		return Reason{}, err
	}
	if !ok {
		return Reason{}, why.Err(lang)
	}
	return why, nil
}

func hasRole(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func hasState(ss []State, s State) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
