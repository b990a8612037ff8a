package flows

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
)

// Who may trigger a transition, besides the role list.
type actor int

const (
	byRole     actor = iota // any person with one of the roles
	byAssignee              // only the ticket's assignee (a lead takes over first)
	byReporter              // only the resident who reported it
)

// Transition is one row of the ticket state machine. An empty To keeps the
// state (checklist steps move inside on_site).
type Transition struct {
	From  []State
	To    State
	Roles []Role
	who   actor
}

var (
	staff     = []Role{RoleTechnician, RoleLead, RoleAdmin}
	leads     = []Role{RoleLead, RoleAdmin}
	residents = []Role{RoleResident}
	// working is every state in which a technician holds the job.
	working = []State{StateAccepted, StateOnTheWay, StateOnSite, StateWaiting}
)

// Transitions is the ticket state machine. Every tap is checked against this
// table (role, assignee or reporter, current state) before anything changes;
// checklist steps add their own guard (the button's step must be the current one).
var Transitions = map[Action]Transition{
	ActAccept:      {From: []State{StateNew}, To: StateAccepted, Roles: staff, who: byRole},
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
	ActFixed:       {From: []State{StateDone}, To: StateConfirmed, Roles: residents, who: byReporter},
	ActNotFixed:    {From: []State{StateDone}, To: StateOnSite, Roles: residents, who: byReporter},
	ActFeeQuery:    {From: []State{StateDone}, Roles: residents, who: byReporter},
	ActGoodbye:     {From: []State{StateConfirmed}, To: StateSurvey, Roles: staff, who: byAssignee},
	ActScore:       {From: []State{StateSurvey}, To: StateClosed, Roles: residents, who: byReporter},
	ActCancel:      {From: []State{StateNew}, To: StateCancelled, Roles: residents, who: byReporter},
	ActCancelAsk:   {From: []State{StateNew}, Roles: residents, who: byReporter},
	ActCancelKeep:  {From: []State{StateNew}, Roles: residents, who: byReporter},
	ActReschedule:  {From: []State{StateWaiting}, Roles: residents, who: byReporter},
	ActReassign:    {From: append([]State{StateNew}, working...), To: StateAccepted, Roles: leads, who: byRole},
	ActReturnGroup: {From: working, To: StateNew, Roles: leads, who: byRole},
	ActTakeOver:    {From: working, Roles: leads, who: byRole},
	ActHelpReply:   {From: working, Roles: leads, who: byRole},
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
	if !hasRole(tr.Roles, p.Role) {
		return Errorf(CodeForbidden, "err.role")
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
	}
	if !hasState(tr.From, t.State) {
		if a == ActAccept && t.State.Open() {
			return Errorf(CodeConflict, "err.already_taken", "ticket", t.ID, "name", t.Assignee)
		}
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	return nil
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
