package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// testFeeQuestions: one question per ticket, read back as written (every
// field) and replaced by a put; a missing one is flows.ErrNotFound;
// OpenFeeQuestions lists those without Closed, oldest Asked first (to the
// sub-second), and a question leaves the list when closed and returns
// when reopened.
func testFeeQuestions(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.FeeQuestion("BX-20261127-0404"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("missing fee question: err = %v, want one matching flows.ErrNotFound", err)
		}
		qs, err := tx.OpenFeeQuestions()
		if err != nil || len(qs) != 0 {
			t.Errorf("open fee questions of an empty store: %v %v", qs, err)
		}
		return nil
	})
	var full flows.FeeQuestion
	fill(&full, 1)
	full.TicketID, full.Closed = "BX-20261127-0009", nil
	q := func(id string, asked time.Duration) *flows.FeeQuestion {
		return &flows.FeeQuestion{TicketID: id, By: "tg:1", Asked: T0.Add(asked), Total: 2500}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutFeeQuestion(&full), tx.PutFeeQuestion(q("BX-20261127-0003", 2*time.Second)),
			tx.PutFeeQuestion(q("BX-20261127-0001", 2*time.Second+500*time.Millisecond)), tx.PutFeeQuestion(q("BX-20261127-0002", time.Second)))
	})
	wantSame(t, "fee question", read(t, s, func(tx flows.Tx) (*flows.FeeQuestion, error) { return tx.FeeQuestion(full.TicketID) }), &full)
	ids := func() string {
		qs := read(t, s, func(tx flows.Tx) ([]*flows.FeeQuestion, error) { return tx.OpenFeeQuestions() })
		out := ""
		for _, q := range qs {
			out += q.TicketID[len(q.TicketID)-4:] + " "
		}
		return out
	}
	// full was asked at T0 plus fill's offset, an hour later than the others.
	if got := ids(); got != "0002 0003 0001 0009 " {
		t.Fatalf("open questions %q, want oldest asked first", got)
	}
	closed := T0.Add(time.Hour)
	update(t, s, func(tx flows.Tx) error {
		c := q("BX-20261127-0003", 2*time.Second)
		c.Closed, c.ClosedBy = &closed, "tg:4"
		return tx.PutFeeQuestion(c)
	})
	if got := ids(); got != "0002 0001 0009 " {
		t.Fatalf("after a close: %q", got)
	}
	update(t, s, func(tx flows.Tx) error { return tx.PutFeeQuestion(q("BX-20261127-0003", 2*time.Second)) })
	if got := ids(); got != "0002 0003 0001 0009 " {
		t.Fatalf("after a reopen: %q", got)
	}
}
