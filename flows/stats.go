package flows

import "time"

// StatsTx walks the tickets by when they were reported, for the KPI
// reports: what a period holds is the tickets reported in it (docs/KPI.md).
type StatsTx interface {
	// EachTicketReported calls fn with the brief of every ticket reported
	// (Created) in [from, to), oldest first, as of its last PutTicket; an
	// error from fn stops the walk and is returned. It reads an index of
	// briefs, not the tickets, so a look-back over months stays cheap.
	EachTicketReported(from, to time.Time, fn func(TicketBrief) error) error
}

// TicketBrief is what the reported index keeps of a ticket: enough for the
// preventive hints and to find the ticket.
type TicketBrief struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	State     State     `json:"state"`
	Kind      OrderKind `json:"kind,omitempty"`
	Category  string    `json:"category,omitempty"`
	Emergency string    `json:"emergency,omitempty"`
	Building  string    `json:"building,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	Room      string    `json:"room,omitempty"`
	Asset     string    `json:"asset,omitempty"`
}

// Brief is the ticket's brief.
func (t *Ticket) Brief() TicketBrief {
	return TicketBrief{ID: t.ID, Created: t.Created, State: t.State, Kind: t.Kind, Category: t.Category, Emergency: t.Emergency,
		Building: t.Building, Unit: t.Unit, Room: t.Room, Asset: t.Asset}
}

// Ticket is a ticket holding only the brief's fields (for the KPI
// accumulator's look-back, which reads no more).
func (b *TicketBrief) Ticket() *Ticket {
	return &Ticket{ID: b.ID, Created: b.Created, State: b.State, Kind: b.Kind, Category: b.Category, Emergency: b.Emergency,
		Building: b.Building, Unit: b.Unit, Room: b.Room, Asset: b.Asset}
}

// WalkKPI feeds acc the tickets it wants from one transaction: those
// reported in its period with their audit trail (each also handed to each,
// when given, e.g. a workbook's ticket list), and those of the hints'
// look-back as briefs only. One walk of the reported index, oldest first.
func WalkKPI(tx Tx, acc *KPIAcc, each func(t *Ticket, events []TicketEvent) error) error {
	return tx.EachTicketReported(acc.HintFrom(), acc.o.To, func(b TicketBrief) error {
		if b.Created.Before(acc.o.From) {
			acc.Add(b.Ticket(), nil)
			return nil
		}
		t, err := tx.Ticket(b.ID)
		if err != nil {
			return err
		}
		events, err := tx.TicketEvents(t.ID)
		if err != nil {
			return err
		}
		acc.Add(t, events)
		if each != nil {
			return each(t, events)
		}
		return nil
	})
}
