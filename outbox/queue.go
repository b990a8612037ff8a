package outbox

import (
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Row statuses. A row is pending until it is delivered, fails for good or
// is superseded; a stored status never changes meaning.
const (
	StatusPending    = "pending"
	StatusDelivered  = "delivered"
	StatusFailed     = "failed"     // permanent error: recorded, logged, never retried
	StatusSuperseded = "superseded" // an edit replaced by a newer edit of the same card before it went out
)

// Row is one outgoing message and its delivery record. The engine writes
// rows through flows.Tx.Enqueue in the transaction of the state change; a
// Queue hands them to the dispatcher and records what became of them.
type Row struct {
	ID          uint64        `json:"id"`
	Msg         flows.Message `json:"msg"`
	Created     time.Time     `json:"created"`
	Status      string        `json:"status"`
	Attempts    int           `json:"attempts,omitempty"`
	NextAttempt time.Time     `json:"next_attempt,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	Done        *time.Time    `json:"done,omitempty"`
	// PlatformID is the platform's message id, so later edits find the card.
	PlatformID string `json:"platform_id,omitempty"`
	// Requeued is when an operator put the failed row back in the queue
	// (repairbot outbox requeue); the give-up age counts from then.
	Requeued time.Time `json:"requeued,omitempty"`
}

// Age is how long the row has been waiting: since it was created, or
// since it was re-queued.
func (r Row) Age(now time.Time) time.Duration {
	if r.Requeued.After(r.Created) {
		return now.Sub(r.Requeued)
	}
	return now.Sub(r.Created)
}

// Requeuer is the operator's side of the failed rows (the bbolt store
// implements it): list them with Queue.Rows(StatusFailed), put them back
// with Requeue.
type Requeuer interface {
	Rows(status string) ([]Row, error)
	// Requeue moves failed rows back into the queue, each under its own id
	// (its old place in its address's order), attempts and error cleared,
	// Requeued set to at; ids that are not failed rows are skipped. It
	// returns the rows re-queued.
	Requeue(ids []uint64, at time.Time) ([]Row, error)
}

// Select picks the failed rows an operator named: every row when all is
// set, else those whose id is in ids or whose last error contains
// errText (case-insensitive; empty matches none).
func Select(rows []Row, ids []uint64, errText string, all bool) []uint64 {
	want := map[uint64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	errText = strings.ToLower(errText)
	var out []uint64
	for _, r := range rows {
		if all || want[r.ID] || (errText != "" && strings.Contains(strings.ToLower(r.LastError), errText)) {
			out = append(out, r.ID)
		}
	}
	return out
}

// CardRef is where a card was delivered.
type CardRef struct {
	Chat      flows.Address `json:"chat"`
	MessageID string        `json:"message_id"`
	// Digest: the card went out folded into a digest message with other
	// cards; editing that message would overwrite them, so the card's next
	// state is posted as a card of its own.
	Digest bool `json:"digest,omitempty"`
}

// Stats is the queue's health: depth, the oldest pending row's creation
// time and the finished rows kept.
type Stats struct {
	Pending   int
	Oldest    time.Time
	Delivered int
	Failed    int
}

// Queue is the delivery side of the durable outbox: what the dispatcher
// and the channels need of a store. Writes go through flows.Tx.Enqueue;
// everything after that goes through a Queue. Every method is its own
// transaction. Marking a row that is no longer pending (delivered by an
// earlier attempt, pruned) is not an error and changes nothing.
type Queue interface {
	// Pending returns up to limit (≤ 0: all) pending rows in id order,
	// which is the order the engine produced them, so per-address order
	// is preserved.
	Pending(limit int) ([]Row, error)
	// MarkDelivered records a successful delivery and, for a card (a send
	// or an edit with a CardKey and a platform id), where it now lives; the
	// delivery of a Retire edit forgets the card (nothing edits it again).
	MarkDelivered(id uint64, platformID string, at time.Time) error
	// MarkDigest records rows delivered together as one digest message;
	// their cards point at it with CardRef.Digest set.
	MarkDigest(ids []uint64, platformID string, at time.Time) error
	// MarkRetry records a transient failure and when to try again. count
	// is false for a rate-limit answer, which says nothing about the
	// message (no attempt is counted).
	MarkRetry(id uint64, next time.Time, errText string, count bool) error
	// MarkFailed records a permanent failure; the row is kept for
	// inspection (Rows(StatusFailed)).
	MarkFailed(id uint64, errText string, at time.Time) error
	// MarkSuperseded retires an edit that the newer edit by of the same
	// card replaces. When the retired edit was a real change and by only
	// a clock refresh, by stops being a refresh in the same transaction,
	// so channels that skip refreshes still see the change.
	MarkSuperseded(id, by uint64, at time.Time) error
	// Card returns where a card was last delivered; ok is false for a card
	// never delivered.
	Card(cardKey string) (ref CardRef, ok bool, err error)
	// Stats reads the queue's depth and counts.
	Stats() (Stats, error)
	// Rows lists the rows with a status, for tests and inspection:
	// StatusPending, StatusFailed, or anything else for the finished rows
	// (delivered and superseded).
	Rows(status string) ([]Row, error)
	// Subscribe returns a channel of the caller's own, signalled (without
	// blocking, coalesced) after every commit that added rows.
	Subscribe() <-chan struct{}
}
