package flows

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Tx getters when the record does not exist.
var ErrNotFound = errors.New("not found")

// Store runs transactions. Update is the only way state changes: the engine
// writes the state change, the inbound dedupe mark, the channel cursor and the
// outgoing messages inside one Update, so they commit or vanish together.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	// Batch is Update shared with concurrent callers (group commit); fn
	// may run more than once and must derive everything from the Tx.
	Batch(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction: the small interface of each area, together.
// Implementations return ErrNotFound (wrapped or not) for missing records.
// A new area adds its own XxxTx here (and its store file), so an
// implementation sees by the compiler what the area needs.
type Tx interface {
	InboundTx
	PeopleTx
	TicketsTx
	DialoguesTx
	TimersTx
	DayRecordsTx
	GovernanceTx
	FeesTx
	SequencesTx
	OutboxTx
	StatsTx
	RepeatsTx
	QCTx
	CallbacksTx
	QualsTx
	RosterTx
	PartsTx // spare parts (parts.go)
	ConsoleTx
	AreasTx // the admins' edits of the areas (areas_edit.go)
}

// InboundTx is what the engine keeps of the channels' updates.
type InboundTx interface {
	// Seen reports whether an inbound event key was already handled.
	Seen(key string) (bool, error)
	// MarkSeen records an inbound event key as handled.
	MarkSeen(key string, at time.Time) error
	// Cursor returns a channel cursor (Telegram offset, WeCom sync cursor).
	Cursor(name string) (string, error)
	// SetCursor stores a channel cursor.
	SetCursor(name, value string) error
}

// PeopleTx holds the profiles and the invitations that make staff.
type PeopleTx interface {
	Person(id string) (*Person, error)
	PutPerson(p *Person) error
	// PeopleByRole lists people with the role, ordered by id.
	PeopleByRole(role Role) ([]*Person, error)

	Invite(code string) (*Invite, error)
	PutInvite(inv *Invite) error
}

// TicketsTx holds the tickets, their indexes and their audit trails.
type TicketsTx interface {
	Ticket(id string) (*Ticket, error)
	PutTicket(t *Ticket) error
	// NextTicketSeq returns the next number for the day (1-based), e.g. "20261127".
	NextTicketSeq(day string) (int, error)
	// TicketsByResident lists a resident's tickets, newest first, at most limit.
	TicketsByResident(personID string, limit int) ([]*Ticket, error)
	// TicketsByAssignee lists a technician's open tickets, oldest first.
	TicketsByAssignee(personID string) ([]*Ticket, error)
	// OpenTickets lists every open ticket, oldest first.
	OpenTickets() ([]*Ticket, error)
	// AppendTicketEvent adds a line to the ticket's audit trail; Seq is assigned.
	AppendTicketEvent(ticketID string, ev TicketEvent) error
	// TicketEvents returns the audit trail in order.
	TicketEvents(ticketID string) ([]TicketEvent, error)
	// EachTicketTouched calls fn for every ticket changed in [from, to),
	// each once, in the order of its first change in the range; an error
	// from fn stops the walk and is returned.
	EachTicketTouched(from, to time.Time, fn func(*Ticket) error) error
}

// DialoguesTx holds what the bot is waiting for from each person.
type DialoguesTx interface {
	Dialogue(personID string) (*Dialogue, error)
	PutDialogue(d *Dialogue) error
	DeleteDialogue(personID string) error
}

// TimersTx holds the stored due times.
type TimersTx interface {
	// PutTimer stores or replaces the timer with that key.
	PutTimer(t Timer) error
	// DeleteTimer removes a timer; a missing one is not an error.
	DeleteTimer(key string) error
	// DueTimers lists timers due at or before now, earliest first.
	DueTimers(now time.Time, limit int) ([]Timer, error)
}

// DayRecordsTx holds the records of the working day: the technicians'
// handovers, the archived daily lists and the leads' duty changes.
type DayRecordsTx interface {
	Handover(day, techID string) (*Handover, error)
	PutHandover(h *Handover) error
	Handovers(day string) ([]*Handover, error)
	DailyList(day string) (*DailyList, error)
	PutDailyList(d *DailyList) error
	// DutyOverrides lists the leads' live roster changes.
	DutyOverrides() ([]DutyOverride, error)
	PutDutyOverride(o DutyOverride) error
}

// GovernanceTx holds the SOP's own life cycle: versions and their
// acknowledgements, reviews, suggestions, and the complaints that trigger
// reviews.
type GovernanceTx interface {
	// SOPVersions lists every version, oldest first.
	SOPVersions() ([]SOPVersion, error)
	PutSOPVersion(v SOPVersion) error
	Acks(version int) ([]Ack, error)
	PutAck(a Ack) error
	Review(id string) (*Review, error)
	PutReview(r *Review) error
	// Reviews lists reviews, newest first.
	Reviews() ([]*Review, error)
	// PendingSuggestions lists suggestions waiting for the next review.
	PendingSuggestions() ([]Suggestion, error)
	AddPendingSuggestion(s Suggestion) error
	ClearPendingSuggestions() error
	// AddComplaint records a complaint (a trigger for the SOP review).
	AddComplaint(c Complaint) error
	// Complaints lists complaints in the order they were made.
	Complaints() ([]Complaint, error)
}

// FeesTx holds the residents' questions about a fee (SOP 4.2.5), customer
// service's queue: one per ticket.
type FeesTx interface {
	FeeQuestion(ticketID string) (*FeeQuestion, error)
	// PutFeeQuestion stores or replaces the ticket's question.
	PutFeeQuestion(q *FeeQuestion) error
	// OpenFeeQuestions lists the questions not closed, oldest Asked first.
	OpenFeeQuestions() ([]*FeeQuestion, error)
}

// SequencesTx hands out numbers of named sequences any area may draw from.
type SequencesTx interface {
	// NextSeq returns the next number of a named sequence (review ids...).
	NextSeq(name string) (int, error)
}

// OutboxTx is the write side of the durable outbox.
type OutboxTx interface {
	// Enqueue adds outgoing messages to the durable outbox.
	Enqueue(msgs ...Message) error
}
