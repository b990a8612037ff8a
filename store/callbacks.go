package store

import (
	"bytes"

	"github.com/repairbot/repairbot/flows"
)

// The phone-callback list (callbacks.phone): since + ticket, so the list
// reads oldest first; the value is the record.

// AddPhoneCallback implements flows.Tx (replacing the ticket's line).
func (t *tx) AddPhoneCallback(c flows.PhoneCallback) error {
	if err := t.RemovePhoneCallback(c.TicketID); err != nil {
		return err
	}
	return t.put(bPhoneCallbacks, key(ts(c.Since), c.TicketID), c)
}

// RemovePhoneCallback implements flows.Tx.
func (t *tx) RemovePhoneCallback(ticketID string) error {
	b := t.bk(bPhoneCallbacks)
	c := b.Cursor()
	var del [][]byte
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if i := bytes.IndexByte(k, 0); i >= 0 && string(k[i+1:]) == ticketID {
			del = append(del, append([]byte(nil), k...))
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PhoneCallbacks implements flows.Tx: oldest first.
func (t *tx) PhoneCallbacks() ([]flows.PhoneCallback, error) {
	return decodeAll[flows.PhoneCallback](t.bk(bPhoneCallbacks), nil)
}
