// Package flows is the domain of the repair bot: people, tickets, the ticket
// state machine and the conversations that drive it. It imports no chat SDK
// and no database: channels turn platform updates into Events, the Engine
// decides, and a Store implementation persists the decision together with
// the outgoing Messages in one transaction.
package flows

import (
	"time"
)

// Role is what a person may do. Roles are never compared by order: what
// each may do is rows of the permission tables (Transitions in machine.go,
// the commands and buttons in routes.go).
type Role string

// Roles known to the engine.
const (
	RoleNone       Role = ""
	RoleResident   Role = "resident"
	RoleTechnician Role = "technician"
	RoleLead       Role = "lead"
	RoleDispatcher Role = "dispatcher" // customer service (客服): reconciles work orders with the repair log
	RoleAdmin      Role = "admin"
)

// IsStaff reports whether the role belongs to the repair team.
func (r Role) IsStaff() bool {
	return r == RoleTechnician || r == RoleLead || r == RoleAdmin
}

// IsLead reports whether the role supervises the team (leads and admins).
func (r Role) IsLead() bool { return r == RoleLead || r == RoleAdmin }

// Lang is a catalog language tag.
type Lang string

// Languages with a full catalog.
const (
	LangZH Lang = "zh-CN"
	LangEN Lang = "en"
)

// Address is where a message goes: a channel and a chat on that channel.
// Telegram private chats use the user id, groups their negative chat id.
type Address struct {
	Channel string `json:"ch"`
	Chat    string `json:"chat"`
}

// String renders the address as "channel:chat".
func (a Address) String() string { return a.Channel + ":" + a.Chat }

// IsZero reports whether the address is unset.
func (a Address) IsZero() bool { return a.Channel == "" && a.Chat == "" }

// Person is a profile: one human with a role, linked to a channel identity.
type Person struct {
	ID         string  `json:"id"` // "tg:<user id>"
	Role       Role    `json:"role"`
	Name       string  `json:"name"`
	Phone      string  `json:"phone,omitempty"`
	Building   string  `json:"building,omitempty"`
	Unit       string  `json:"unit,omitempty"`
	Room       string  `json:"room,omitempty"`
	Lang       Lang    `json:"lang"`
	Chat       Address `json:"chat"` // private chat with the bot
	Registered bool    `json:"registered"`
	// Menu records the command menu last sent (version:role:lang).
	Menu string `json:"menu,omitempty"`
	// Doorbell is whether the home at the resident's address has a
	// doorbell, as a technician last recorded it at the door (SOP 4.1.2:
	// ring, or knock where there is none).
	Doorbell *Doorbell `json:"doorbell,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Deactivated is when a lead deactivated the person (a leaver), and
	// DeactivatedBy who: their buttons and commands stop working, their
	// invite codes die; the profile stays for the history. A new invite
	// clears both (rehired).
	Deactivated   *time.Time `json:"deactivated,omitempty"`
	DeactivatedBy string     `json:"deactivated_by,omitempty"`
	// Areas are the areas the person belongs to (areas.go): a staff
	// member's, several for a roving technician; a resident's home's one.
	// Empty on a profile from before areas: the default area.
	Areas []string `json:"areas,omitempty"`
}

// Doorbell is what a technician found at a home's door.
type Doorbell struct {
	// Home is the address it was recorded for ("3栋 / 2单元 / 1502"); a
	// record of another address says nothing about the person's home now.
	Home string    `json:"home"`
	Has  bool      `json:"has"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// Active reports whether p is a registered person who was not
// deactivated: someone the bot takes requests from and sends work to.
func (p *Person) Active() bool { return p != nil && p.Registered && p.Deactivated == nil }

// State is a ticket's place in its life cycle.
type State string

// Ticket states. The on-site checklist walks its steps inside OnSite
// (Ticket.Step), not through states of its own.
const (
	StateNew        State = "new"              // reported, waiting for a technician
	StateAccepted   State = "accepted"         // a technician took it
	StateOnTheWay   State = "on_the_way"       // technician travelling
	StateOnSite     State = "on_site"          // technician arrived
	StateWaiting    State = "waiting_resident" // no one home; a new time is being agreed
	StateDone       State = "done"             // sign-off requested, the resident confirms
	StateConfirmed  State = "confirmed"        // resident confirmed the work order; the technician says goodbye
	StateSurvey     State = "survey"           // visit closed, satisfaction score pending
	StateClosed     State = "closed"           // finished: scored, or closed as Ticket.Closure says
	StateCancelled  State = "cancelled"        // withdrawn by the resident before acceptance, or cancelled by a lead
	StateUnresolved State = "unresolved"       // the request could not be met; apology recorded
)

// Open reports whether the ticket still needs work.
func (s State) Open() bool { return s != StateClosed && s != StateCancelled && s != StateUnresolved }

// OrderKind distinguishes the SOP's two work orders.
type OrderKind string

// Order kinds: household/paid service (有偿服务维修单) and public facility (公共设施设备维修单).
const (
	OrderHousehold OrderKind = "household"
	OrderPublic    OrderKind = "public"
)

// Photo is a reference to an image on a channel.
type Photo struct {
	FileID   string `json:"file_id"`
	UniqueID string `json:"unique_id,omitempty"`
	Size     int64  `json:"size,omitempty"`
	// SHA256 and Local name the copy kept in the data directory (empty if
	// the download failed; the platform file id still identifies it).
	SHA256 string `json:"sha256,omitempty"`
	Local  string `json:"local,omitempty"`
	// Document is set for an image sent as a file (its id is a document's).
	Document bool `json:"document,omitempty"`
}

// Ticket is one repair.
type Ticket struct {
	ID          string     `json:"id"` // BX-20261127-0007
	State       State      `json:"state"`
	Category    string     `json:"category"`
	Description string     `json:"description"`
	Photos      []Photo    `json:"photos,omitempty"`
	Kind        OrderKind  `json:"kind"`
	ASAP        bool       `json:"asap"`
	AgreedTime  *time.Time `json:"agreed_time,omitempty"`
	ResidentID  string     `json:"resident_id"`
	Building    string     `json:"building"`
	Unit        string     `json:"unit"`
	Room        string     `json:"room"`
	// Place is where a public-facility fault is (a building, floor or
	// area, or a listed public asset's name: "3栋 电梯 2号", "地下车库 B2
	// 排水泵"); Asset the asset's key when one was picked (or typed by its
	// name). A public order has them instead of a home address; the
	// technician names or corrects them at the fault coding, and repeats
	// are found by them (repeats.go, faultcode.go).
	Place      string     `json:"place,omitempty"`
	Asset      string     `json:"asset,omitempty"`
	AssigneeID string     `json:"assignee_id,omitempty"`
	Assignee   string     `json:"assignee,omitempty"` // name at acceptance, for cards
	Reworks    int        `json:"reworks,omitempty"`
	Score      int        `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
	Accepted   *time.Time `json:"accepted,omitempty"`
	Arrived    *time.Time `json:"arrived,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
	Closed     *time.Time `json:"closed,omitempty"`
	// Rev counts state changes; buttons carry nothing of it, but cards use
	// it to tell a fresh card from an old one in logs.
	Rev int `json:"rev"`

	// SOPVersion is the procedure version the visit followed.
	SOPVersion string `json:"sop_version,omitempty"`
	// Step is the current on-site checklist step id while on site.
	Step  string `json:"step,omitempty"`
	Visit *Visit `json:"visit,omitempty"`
	// Signer is who signs the work order off: "" the reporter, "lead" a
	// lead (public orders, when configured so).
	Signer string `json:"signer,omitempty"`
	// Signoff is how the work order was confirmed: "resident" (the
	// reporter's button), "lead" (a lead's, for a public order), "paper"
	// (a signed paper form, photographed and recorded by the technician or
	// a lead), "default" (not answered in time: confirmed by default).
	Signoff string `json:"signoff,omitempty"`
	// Closure is how a ticket ended other than the normal way (scored, or
	// cancelled by its resident): ClosedConfirmedByDefault, ClosedNoRating,
	// ClosedByLead, CancelledByLead; the audit trail has the reason.
	Closure string `json:"closure,omitempty"`
	// SurveySince is when the satisfaction survey was sent; its reminders
	// and the close without a rating count from it.
	SurveySince *time.Time `json:"survey_since,omitempty"`
	// FeeQuery flags a resident's question about the fee for the dispatcher.
	FeeQuery bool `json:"fee_query,omitempty"`
	// NoAnswer counts visits where no one was home.
	NoAnswer int `json:"no_answer,omitempty"`
	// Emergency is the emergency type key ("" for a normal ticket).
	Emergency string `json:"emergency,omitempty"`
	// Escalation is the highest SLA rung that fired (0 none).
	Escalation int `json:"escalation,omitempty"`
	// Breaches lists SLA breaches ("arrive", "accept"...), for the SOP review.
	Breaches []string `json:"breaches,omitempty"`
	// WaitingSince is when no one was home; the chase and auto-close count from it.
	WaitingSince *time.Time `json:"waiting_since,omitempty"`
	// CancelledBy is the lead who cancelled the ticket from the console
	// (ActLeadCancel; the reason is in the audit trail); empty when its
	// resident withdrew it.
	CancelledBy string `json:"cancelled_by,omitempty"`
	// MergedInto is the ticket a lead merged this duplicate into
	// (ActLeadMerge; Closure MergedByLead); a merged ticket is not reopened.
	MergedInto string `json:"merged_into,omitempty"`
	// CardHash fingerprints the group card as last queued, so an unchanged
	// card is not edited again (the group's budget is 20 messages a minute).
	CardHash string `json:"card_hash,omitempty"`

	// Fault is the technician's coding of the fault at the end of the
	// repair: component, symptom, cause, action (faultcode.go).
	Fault *FaultCode `json:"fault,omitempty"`
	// RepeatOf is the closed ticket of the same home or asset and category
	// this report repeats (repeats.go).
	RepeatOf string `json:"repeat_of,omitempty"`
	// OfferedTo is the technician a repeat is offered to first (the one who
	// did the earlier job), until the offer lapses and the group gets it.
	OfferedTo string `json:"offered_to,omitempty"`
	// Followers reported the same public fault while this ticket was open
	// and follow it instead of opening a duplicate; FollowersTold is the
	// state they were last told of.
	Followers     []string `json:"followers,omitempty"`
	FollowersTold State    `json:"followers_told,omitempty"`
	// Callback is the callback visit (回访) after closing (callbacks.go).
	Callback *Callback `json:"callback,omitempty"`
	// QualOverrides are the assignments a lead made to someone who did not
	// qualify for the job, with the reason, oldest first (shown in audits).
	QualOverrides []QualOverride `json:"qual_overrides,omitempty"`
	// Area is the area the ticket was filed in (areas.go), set at the
	// report and never inferred later; empty on a ticket from before
	// areas: the default area.
	Area string `json:"area,omitempty"`
	// Card is the assignee's living step card (nil before the first one).
	Card *StepCard `json:"step_card,omitempty"`
}

// StepCard is the technician's one living step card of a visit: edited in
// place as the visit moves, posted anew (and the old one's buttons
// retired) when it must catch their eye. Its buttons carry N, so a tap on
// an older card is answered as outdated.
type StepCard struct {
	// N numbers the cards of the ticket, from 1; the card's CardKey is
	// StepCardKey(ticket, N). It only grows, so no key is used twice.
	N int `json:"n"`
	// Chat is where card N lives; zero once it was retired or the visit
	// left the checklist (the next card is then posted anew).
	Chat Address `json:"chat"`
}

// Visit is what the on-site checklist has recorded so far. The audit trail
// has every step with its time; this is the summary the guards read.
type Visit struct {
	// Bell is whether this home has a doorbell: "yes" (ring), "no"
	// (knock), "" not known yet. It decides which of the two the door rule
	// allows.
	Bell     string `json:"bell,omitempty"`
	Rings    int    `json:"rings,omitempty"`
	Knocks   int    `json:"knocks,omitempty"`
	Answered bool   `json:"answered,omitempty"`
	Entry    string `json:"entry,omitempty"` // "resident" (their button) or "verbal" (recorded by the technician)
	Plan     string `json:"plan,omitempty"`
	Quote    *Quote `json:"quote,omitempty"`
	// QuoteOK is true once the resident agreed to the current quote.
	QuoteOK bool `json:"quote_ok,omitempty"`
	Tests   int  `json:"tests,omitempty"` // passed tests since the last repair
	Failed  int  `json:"failed,omitempty"`
	// Photos per step id.
	Photos map[string][]Photo `json:"photos,omitempty"`
	// Skipped holds a lead's reason per required-photo step skipped.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Care is the care notes the technician typed; CareNotes the ids of
	// the SOP's typical notes (SOP.CareNotes) they tapped.
	Care      string   `json:"care,omitempty"`
	CareNotes []string `json:"care_notes,omitempty"`
	Help      bool     `json:"help,omitempty"`
	// ReturnTo is the step to resume after a change of plan during work.
	ReturnTo string `json:"return_to,omitempty"`
	// PartAsks are requisitions over the approval limit and what the
	// lead decided (parts_job.go).
	PartAsks []PartAsk `json:"part_asks,omitempty"`
}

// Quote is a priced plan the resident must agree to before work.
type Quote struct {
	Seq    int         `json:"seq"` // bumps each time a quote is sent; consent buttons carry it
	Lines  []QuoteLine `json:"lines,omitempty"`
	Status string      `json:"status"` // draft, sent, agreed, refused
}

// QuoteLine is one price-list item with a quantity; the unit price is
// copied so a later price-list change does not alter an agreed quote.
type QuoteLine struct {
	Code  string `json:"code"`
	Qty   int    `json:"qty"`
	Cents int64  `json:"cents"`
	// Part is the catalog code of a part taken from stock for the job,
	// charged at its sale price (Code is then empty); Name and Unit are
	// the part's as taken, so a later catalog edit does not alter the quote.
	Part string `json:"part,omitempty"`
	Name string `json:"name,omitempty"`
	Unit string `json:"unit,omitempty"`
}

// Total sums the quote.
func (q *Quote) Total() int64 {
	if q == nil {
		return 0
	}
	var sum int64
	for _, l := range q.Lines {
		sum += int64(l.Qty) * l.Cents
	}
	return sum
}

// Complaint is a low score or an explicit complaint: a trigger for the SOP review.
type Complaint struct {
	TicketID string    `json:"ticket_id"`
	At       time.Time `json:"at"`
	Score    int       `json:"score,omitempty"`
	Text     string    `json:"text,omitempty"`
	By       string    `json:"by"`
}

// TicketEvent is one line of a ticket's audit trail.
type TicketEvent struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"` // person id, or "system"
	Action string    `json:"action"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to,omitempty"`
	Note   string    `json:"note,omitempty"`
	Photos []Photo   `json:"photos,omitempty"`
}

// Invite is a one-time code that registers whoever opens it in a role.
type Invite struct {
	Code      string     `json:"code"`
	Role      Role       `json:"role"`
	CreatedBy string     `json:"created_by"`
	Created   time.Time  `json:"created"`
	Expires   time.Time  `json:"expires"`
	UsedBy    string     `json:"used_by,omitempty"`
	Used      *time.Time `json:"used,omitempty"`
	// Areas are the areas the person who joins by it belongs to (the
	// inviting lead's, or the one an admin named); empty: the default area.
	Areas []string `json:"areas,omitempty"`
}

// Dialogue is what the bot is waiting for from one person. At most one per
// person; stored so a restart resumes mid-conversation. Each field means
// one thing for every kind; records written before the fields below were
// split are read in this form by the kind's legacy rule (legacy.go).
type Dialogue struct {
	PersonID string    `json:"person_id"`
	Kind     string    `json:"kind"` // a row of the dialogue table (routes.go)
	Step     string    `json:"step"`
	Seq      int       `json:"seq"` // bumps on every prompt; dialogue buttons carry it
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// The draft of a registration or a report.
	Name        string    `json:"name,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Building    string    `json:"building,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	Category    string    `json:"category,omitempty"` // the fault category reported
	Description string    `json:"description,omitempty"`
	Photos      []Photo   `json:"photos,omitempty"`
	Kind2       OrderKind `json:"order_kind,omitempty"`
	Place       string    `json:"place,omitempty"` // where a public fault is (typed, or the asset's name)
	Asset       string    `json:"asset,omitempty"` // the listed public asset picked
	// What the dialogue is about, and its argument.
	TicketID  string `json:"ticket_id,omitempty"`  // the ticket (comment, rework reason, quantity, emergency details, help reply)
	PriceCode string `json:"price_code,omitempty"` // the price-list item whose quantity is asked
	Review    string `json:"review,omitempty"`     // the review (a suggestion for it, its report, an action's evidence)
	Action    int    `json:"action,omitempty"`     // the improvement action of Review whose evidence is asked
	Day       string `json:"day,omitempty"`        // the handover's day (YYYYMMDD) being returned
	TechID    string `json:"tech_id,omitempty"`    // the technician whose handover is returned
	// Parts is the draft of a spare-parts dialogue (parts_chat.go).
	Parts *PartsDraft `json:"parts,omitempty"`
	// The qualifications area's drafts and arguments.
	Target       string       `json:"target_id,omitempty"`     // the person a lead acts on: the assignee of an override, a certificate's holder
	CertDraft    *Certificate `json:"cert_draft,omitempty"`    // the certificate being entered
	CertID       string       `json:"cert_id,omitempty"`       // the certificate whose refusal or revocation reason is asked
	SessionDraft *Session     `json:"session_draft,omitempty"` // the training session being scheduled
	Weekday      string       `json:"weekday,omitempty"`       // the roster day ("mon") a shift is added to
	ShiftID      int          `json:"shift_id,omitempty"`      // the roster shift whose hours are edited
	// TicketAction is the ticket action the dialogue completes (a lead's
	// close or cancel awaiting the reason, a paper signature awaiting the
	// photo); it is applied, re-authorised, when the answer comes.
	TicketAction Action `json:"ticket_action,omitempty"`
	// Area is the area a registration chose (areas.go).
	Area string `json:"area,omitempty"`
}

// Timer is a stored due time. The engine consumes it in the same
// transaction as its effects, so a timer fires exactly once even if the
// ticker runs twice or the process restarts. Each field means one thing
// for every kind; records written before the fields below were split are
// read in this form by the kind's legacy rule (legacy.go).
type Timer struct {
	Key     string    `json:"key"`
	Due     time.Time `json:"due"`
	Kind    string    `json:"kind"` // a row of the timer table (routes.go)
	Ticket  string    `json:"ticket,omitempty"`
	Rung    int       `json:"rung,omitempty"`    // an emergency's escalation rung (1-3)
	Day     string    `json:"day,omitempty"`     // a local day, YYYYMMDD (handover, end of day)
	Month   string    `json:"month,omitempty"`   // a local month, YYYYMM (the audit of that month)
	Year    int       `json:"year,omitempty"`    // the year of the yearly review
	Version int       `json:"version,omitempty"` // the SOP version to acknowledge
	Review  string    `json:"review,omitempty"`  // the review (its reminder, deadline, actions)
	Action  int       `json:"action,omitempty"`  // the improvement action of Review
	Session string    `json:"session,omitempty"` // the training session (its reminder, its attendance call)
}

// Handover is one technician's end-of-day submission of work orders (SOP 4.2.7).
type Handover struct {
	Day      string     `json:"day"`
	TechID   string     `json:"tech_id"`
	Tickets  []string   `json:"tickets"`
	Status   string     `json:"status"` // pending, submitted, approved, returned
	At       *time.Time `json:"at,omitempty"`
	Reviewer string     `json:"reviewer,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Chased   int        `json:"chased,omitempty"`
}

// DailyList is the team lead's archived daily task list (维修任务单) with
// the reconciliation against the repair log (报修记录表).
type DailyList struct {
	Day        string      `json:"day"`
	Lines      []DailyLine `json:"lines"`
	Missing    []string    `json:"missing,omitempty"` // technicians who did not submit
	Mismatches []string    `json:"mismatches,omitempty"`
	Archived   time.Time   `json:"archived"`
	// mismatchAreas are the areas of Mismatches' tickets, for the day's
	// per-area reconciliation (not stored).
	mismatchAreas []string
}

// DailyLine is one ticket of the day.
type DailyLine struct {
	Ticket   string `json:"ticket"`
	Category string `json:"category"`
	Address  string `json:"address"`
	Assignee string `json:"assignee,omitempty"`
	State    State  `json:"state"`
	Handed   string `json:"handed,omitempty"` // handover status of its technician
	// Area is the ticket's area (Ticket.Area); "" on lists archived
	// before areas, whose tickets say.
	Area string `json:"area,omitempty"`
}
