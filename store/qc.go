package store

import (
	"bytes"
	"errors"

	"github.com/repairbot/repairbot/flows"
)

// QC reviews (qc, one per ticket) and the open ones by creation (qc.open).

// QCReview implements flows.Tx.
func (t *tx) QCReview(ticketID string) (*flows.QCReview, error) {
	var r flows.QCReview
	if err := t.get(bQC, ticketID, "qc review", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutQCReview implements flows.Tx and keeps the open index.
func (t *tx) PutQCReview(r *flows.QCReview) error {
	if old, err := t.QCReview(r.Ticket); err == nil {
		if err := t.bk(bQCOpen).Delete(key(ts(old.Created), old.Ticket)); err != nil {
			return err
		}
	} else if !errors.Is(err, flows.ErrNotFound) {
		return err
	}
	if r.Status != "done" {
		if err := t.bk(bQCOpen).Put(key(ts(r.Created), r.Ticket), nil); err != nil {
			return err
		}
	}
	return t.put(bQC, []byte(r.Ticket), r)
}

// OpenQCReviews implements flows.Tx: oldest first.
func (t *tx) OpenQCReviews() ([]*flows.QCReview, error) {
	var out []*flows.QCReview
	c := t.bk(bQCOpen).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		i := bytes.IndexByte(k, 0)
		r, err := t.QCReview(string(k[i+1:]))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
