// Package flows is the domain of the repair bot: people, tickets, the ticket
// state machine and the conversations that drive it. It imports no chat SDK
// and no database: channels turn platform updates into Events, the Engine
// decides, and a Store implementation persists the decision together with
// the outgoing Messages in one transaction.
package flows

import (
	"time"
)

// Role is what a person may do. Roles are ordered only by the permission
// table in machine.go, never by comparison.
type Role string

// Roles known to the engine.
const (
	RoleNone       Role = ""
	RoleResident   Role = "resident"
	RoleTechnician Role = "technician"
	RoleLead       Role = "lead"
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
	ID         string    `json:"id"` // "tg:<user id>"
	Role       Role      `json:"role"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone,omitempty"`
	Building   string    `json:"building,omitempty"`
	Unit       string    `json:"unit,omitempty"`
	Room       string    `json:"room,omitempty"`
	Lang       Lang      `json:"lang"`
	Chat       Address   `json:"chat"` // private chat with the bot
	Registered bool      `json:"registered"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

// State is a ticket's place in its life cycle.
type State string

// Ticket states. The on-site checklist (a later issue) adds states between
// OnSite and Done through the same transition table.
const (
	StateNew       State = "new"        // reported, waiting for a technician
	StateAccepted  State = "accepted"   // a technician took it
	StateOnTheWay  State = "on_the_way" // technician travelling
	StateOnSite    State = "on_site"    // technician arrived
	StateDone      State = "done"       // technician finished, resident to confirm
	StateConfirmed State = "confirmed"  // resident confirmed the fix, score pending
	StateClosed    State = "closed"     // scored and closed
	StateCancelled State = "cancelled"  // withdrawn before acceptance
	StateRework    State = "rework"     // resident said not fixed; back to the technician
)

// Open reports whether the ticket still needs work.
func (s State) Open() bool { return s != StateClosed && s != StateCancelled }

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
	AssigneeID  string     `json:"assignee_id,omitempty"`
	Assignee    string     `json:"assignee,omitempty"` // name at acceptance, for cards
	Reworks     int        `json:"reworks,omitempty"`
	Score       int        `json:"score,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Accepted    *time.Time `json:"accepted,omitempty"`
	Arrived     *time.Time `json:"arrived,omitempty"`
	Finished    *time.Time `json:"finished,omitempty"`
	Closed      *time.Time `json:"closed,omitempty"`
	// Rev counts state changes; buttons carry nothing of it, but cards use
	// it to tell a fresh card from an old one in logs.
	Rev int `json:"rev"`
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
}

// Dialogue is what the bot is waiting for from one person. At most one per
// person; stored so a restart resumes mid-conversation.
type Dialogue struct {
	PersonID string    `json:"person_id"`
	Kind     string    `json:"kind"` // "register", "report", "comment", "rework_reason"
	Step     string    `json:"step"`
	Seq      int       `json:"seq"` // bumps on every prompt; dialogue buttons carry it
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Draft fields, used by the kinds that need them.
	Name        string    `json:"name,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Building    string    `json:"building,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	Category    string    `json:"category,omitempty"`
	Description string    `json:"description,omitempty"`
	Photos      []Photo   `json:"photos,omitempty"`
	Kind2       OrderKind `json:"order_kind,omitempty"`
	TicketID    string    `json:"ticket_id,omitempty"`
}
