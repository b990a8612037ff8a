package flows

// Action is a ticket operation a person triggers with a button.
type Action string

// Ticket actions. Their short names travel in callback payloads, so they
// never change meaning; new actions get new names.
const (
	ActAccept      Action = "acc"
	ActOnTheWay    Action = "way"
	ActArrive      Action = "arr"
	ActDone        Action = "done"
	ActFixed       Action = "fix"
	ActNotFixed    Action = "nfx"
	ActScore       Action = "sc"
	ActCancel      Action = "cx"
	ActReassign    Action = "ra"
	ActReturnGroup Action = "rg"
)

// Who may trigger a transition, besides the role list.
type actor int

const (
	byRole     actor = iota // any person with one of the roles
	byAssignee              // only the ticket's assignee (leads may not act for them)
	byReporter              // only the resident who reported it
)

// Transition is one row of the ticket state machine.
type Transition struct {
	From  []State
	To    State
	Roles []Role
	who   actor
}

// Transitions is the ticket state machine. The on-site SOP checklist extends
// it by adding states between on_site and done; every tap is checked against
// this table (role, assignee or reporter, current state) before anything changes.
var Transitions = map[Action]Transition{
	ActAccept:      {From: []State{StateNew}, To: StateAccepted, Roles: []Role{RoleTechnician, RoleLead, RoleAdmin}, who: byRole},
	ActOnTheWay:    {From: []State{StateAccepted, StateRework}, To: StateOnTheWay, Roles: []Role{RoleTechnician, RoleLead, RoleAdmin}, who: byAssignee},
	ActArrive:      {From: []State{StateAccepted, StateOnTheWay, StateRework}, To: StateOnSite, Roles: []Role{RoleTechnician, RoleLead, RoleAdmin}, who: byAssignee},
	ActDone:        {From: []State{StateOnSite}, To: StateDone, Roles: []Role{RoleTechnician, RoleLead, RoleAdmin}, who: byAssignee},
	ActFixed:       {From: []State{StateDone}, To: StateConfirmed, Roles: []Role{RoleResident}, who: byReporter},
	ActNotFixed:    {From: []State{StateDone}, To: StateRework, Roles: []Role{RoleResident}, who: byReporter},
	ActScore:       {From: []State{StateConfirmed}, To: StateClosed, Roles: []Role{RoleResident}, who: byReporter},
	ActCancel:      {From: []State{StateNew}, To: StateCancelled, Roles: []Role{RoleResident}, who: byReporter},
	ActReassign:    {From: []State{StateNew, StateAccepted, StateOnTheWay, StateOnSite, StateRework}, To: StateAccepted, Roles: []Role{RoleLead, RoleAdmin}, who: byRole},
	ActReturnGroup: {From: []State{StateAccepted, StateOnTheWay, StateOnSite, StateRework}, To: StateNew, Roles: []Role{RoleLead, RoleAdmin}, who: byRole},
}

// AllStates lists every ticket state, for exhaustive tests and reports.
var AllStates = []State{StateNew, StateAccepted, StateOnTheWay, StateOnSite, StateDone, StateConfirmed, StateClosed, StateCancelled, StateRework}

// Authorize decides whether person p may apply action a to ticket t now.
// It is the single gate every button passes: the payload only names the
// action and the ticket, everything else is re-read from the store.
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
		if a == ActAccept && t.State != StateCancelled {
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
