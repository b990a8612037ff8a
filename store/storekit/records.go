package storekit

import (
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The records a copy of a whole store carries from one implementation to
// another (repairbot migrate-store: a bbolt file into PostgreSQL). Most are
// the flows types themselves; these name the few that have no flows type
// of their own, or whose key is not inside the value. Every record is
// handed over as an Export value: its Area (what it is, and the unit its
// count is checked in) and the value.

// Area names, one per kind of record; each is counted on both sides.
const (
	AreaCursors          = "cursors"
	AreaSeen             = "seen"
	AreaPeople           = "people"
	AreaTickets          = "tickets"
	AreaTicketTouches    = "ticket_touches"
	AreaTicketEvents     = "ticket_events"
	AreaCounters         = "counters"
	AreaDialogues        = "dialogues"
	AreaInvites          = "invites"
	AreaComplaints       = "complaints"
	AreaTimers           = "timers"
	AreaHandovers        = "handovers"
	AreaDailyLists       = "daily_lists"
	AreaDutyOverrides    = "duty_overrides"
	AreaSOPVersions      = "sop_versions"
	AreaSOPAcks          = "sop_acks"
	AreaReviews          = "reviews"
	AreaSuggestions      = "suggestions"
	AreaOutbox           = "outbox"
	AreaCards            = "cards"
	AreaFeeQuestions     = "fee_questions"
	AreaRoster           = "roster"
	AreaConsoleLinks     = "console_links"
	AreaConsoleSessions  = "console_sessions"
	AreaSkills           = "skills"
	AreaCerts            = "certs"
	AreaCertReminders    = "cert_reminders"
	AreaTrainingSessions = "training_sessions"
	AreaPersonEvents     = "person_events"
	AreaParts            = "parts"
	AreaStockLocations   = "stock_locations"
	AreaStockMoves       = "stock_moves"
	AreaStockLevels      = "stock_levels"
	AreaPurchases        = "purchase_requests"
	AreaScraps           = "scrap_requests"
	AreaStocktakes       = "stocktakes"
	AreaLowStock         = "low_stock_alerts"
	AreaQCReviews        = "qc_reviews"
	AreaPhoneCallbacks   = "phone_callbacks"
	AreaAreaEdits        = "area_edits" // the admins' edits of the estates (flows.AreaEdit)
)

// Export is one record of a store being copied: Value is, by Area,
// Cursor, Seen, *flows.Person, *flows.Ticket, Touch, TicketEvent, Counter,
// *flows.Dialogue, *flows.Invite, Complaint, flows.Timer, *flows.Handover,
// *flows.DailyList, flows.DutyOverride, flows.SOPVersion, flows.Ack,
// *flows.Review, Suggestion, outbox.Row (any status), Card,
// *flows.FeeQuestion, *flows.Roster, *flows.ConsoleLink,
// *flows.ConsoleSession, flows.Skill, *flows.Certificate, CertReminder,
// *flows.Session, flows.PersonEvent, *flows.Part, *flows.StockLocation,
// flows.StockMove, flows.StockLevel, *flows.PurchaseRequest,
// *flows.ScrapRequest, *flows.Stocktake, flows.LowStockAlert,
// *flows.QCReview, flows.PhoneCallback.
type Export struct {
	Area  string
	Value any
}

// Cursor is a channel's stored position (flows.Tx.SetCursor).
type Cursor struct{ Name, Value string }

// Seen is an inbound dedupe mark and the second it was made.
type Seen struct {
	Key string
	At  time.Time
}

// Touch lists a ticket on a second it changed (the history that
// EachTicketTouched reads).
type Touch struct {
	At       time.Time
	TicketID string
}

// TicketEvent is one entry of a ticket's audit trail (Event.Seq is its
// place in the trail).
type TicketEvent struct {
	TicketID string
	Event    flows.TicketEvent
}

// Counter is a named sequence's last number: "ticket:<day>" for the
// ticket numbers of a day, "seq:<name>" for flows.Tx.NextSeq.
type Counter struct {
	Name string
	N    int64
}

// Complaint is a complaint and its place in the order they were made.
type Complaint struct {
	Seq       uint64
	Complaint flows.Complaint
}

// Suggestion is a pending SOP suggestion and its place in the order.
type Suggestion struct {
	Seq        uint64
	Suggestion flows.Suggestion
}

// CertReminder is a certificate reminder mark and when it was first set.
type CertReminder struct {
	CertID, Mark string
	At           time.Time
}

// Areas lists every area, in no particular order.
func Areas() []string {
	return []string{AreaCursors, AreaSeen, AreaPeople, AreaTickets, AreaTicketTouches, AreaTicketEvents,
		AreaCounters, AreaDialogues, AreaInvites, AreaComplaints, AreaTimers, AreaHandovers, AreaDailyLists,
		AreaDutyOverrides, AreaSOPVersions, AreaSOPAcks, AreaReviews, AreaSuggestions, AreaOutbox, AreaCards,
		AreaFeeQuestions, AreaRoster, AreaConsoleLinks, AreaConsoleSessions, AreaSkills, AreaCerts,
		AreaCertReminders, AreaTrainingSessions, AreaPersonEvents, AreaParts, AreaStockLocations,
		AreaStockMoves, AreaStockLevels, AreaPurchases, AreaScraps, AreaStocktakes, AreaLowStock,
		AreaQCReviews, AreaPhoneCallbacks, AreaAreaEdits}
}
