package store

import (
	"github.com/repairbot/repairbot/flows"
)

// The place index (tickets.by_place): place (flows.PlaceKey) + report time
// + id, so the tickets of one home or one public asset are a prefix.

// indexPlace keeps tk's row of the place index.
func (t *tx) indexPlace(old, tk *flows.Ticket) error {
	b := t.bk(bTicketsByPlace)
	place := flows.PlaceKey(tk)
	if old != nil {
		if op := flows.PlaceKey(old); op != "" && (op != place || !old.Created.Equal(tk.Created)) {
			if err := b.Delete(key(op, ts(old.Created), old.ID)); err != nil {
				return err
			}
		}
	}
	if place == "" {
		return nil
	}
	return b.Put(key(place, ts(tk.Created), tk.ID), nil)
}

// TicketsAtPlace implements flows.Tx: newest first.
func (t *tx) TicketsAtPlace(place string, limit int) ([]*flows.Ticket, error) {
	if place == "" {
		return nil, nil
	}
	return t.newestTickets(bTicketsByPlace, key(place, ""), limit)
}
