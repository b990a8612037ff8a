package store

import (
	"github.com/repairbot/repairbot/flows"
)

// The residents' fee questions: one record per ticket in fee_questions,
// and the open ones indexed by the time asked in fee_questions.open.

// FeeQuestion implements flows.Tx.
func (t *tx) FeeQuestion(ticketID string) (*flows.FeeQuestion, error) {
	var q flows.FeeQuestion
	if err := t.get(bFeeQuestions, ticketID, "fee question", &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// feeOpenKey sorts by the time asked (fixed-width, so to the nanosecond),
// then the ticket.
func feeOpenKey(q *flows.FeeQuestion) []byte {
	return key(q.Asked.UTC().Format("2006-01-02T15:04:05.000000000"), q.TicketID)
}

// PutFeeQuestion implements flows.Tx and keeps the open index.
func (t *tx) PutFeeQuestion(q *flows.FeeQuestion) error {
	if old, err := t.FeeQuestion(q.TicketID); err == nil {
		if err := t.bk(bFeeQuestionsOpen).Delete(feeOpenKey(old)); err != nil {
			return err
		}
	}
	if q.Closed == nil {
		if err := t.bk(bFeeQuestionsOpen).Put(feeOpenKey(q), []byte(q.TicketID)); err != nil {
			return err
		}
	}
	return t.put(bFeeQuestions, []byte(q.TicketID), q)
}

// OpenFeeQuestions implements flows.Tx.
func (t *tx) OpenFeeQuestions() ([]*flows.FeeQuestion, error) {
	var out []*flows.FeeQuestion
	err := t.bk(bFeeQuestionsOpen).ForEach(func(_, v []byte) error {
		q, err := t.FeeQuestion(string(v))
		if err != nil {
			return err
		}
		out = append(out, q)
		return nil
	})
	return out, err
}
