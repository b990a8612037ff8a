package flows

import "time"

// QCTx holds the quality-control reviews (维修质量控制).
type QCTx interface {
	// QCReview reads the review of a ticket.
	QCReview(ticketID string) (*QCReview, error)
	// PutQCReview stores or replaces a ticket's review.
	PutQCReview(r *QCReview) error
	// OpenQCReviews lists the reviews not done, oldest Created first.
	OpenQCReviews() ([]*QCReview, error)
}

// QCReview is a lead's quality-control review of a closed ticket.
type QCReview struct {
	Ticket  string    `json:"ticket"`
	Reason  string    `json:"reason"` // sample, complaint, rework
	Created time.Time `json:"created"`
	Status  string    `json:"status"` // pending, done
	// Score is the QC score 1-5; Findings the catalog codes found.
	Score    int        `json:"score,omitempty"`
	Findings []string   `json:"findings,omitempty"`
	Note     string     `json:"note,omitempty"`
	Reviewer string     `json:"reviewer,omitempty"`
	Done     *time.Time `json:"done,omitempty"`
	Spot     *SpotCheck `json:"spot,omitempty"`
}

// SpotCheck is a physical check on site assigned by the reviewer.
type SpotCheck struct {
	Assignee string     `json:"assignee"`
	Assigned time.Time  `json:"assigned"`
	Result   string     `json:"result,omitempty"` // ok, bad
	Done     *time.Time `json:"done,omitempty"`
}
