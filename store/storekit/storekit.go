// Package storekit is the part of a flows store that does not depend on
// how the store keeps its data: what becomes of an outbox row when it is
// delivered, retried, failed, superseded or re-queued; which parts a
// catalog search finds and in what order; the checks a stock move passes
// before it is posted; which dialogues and invites the housekeeping
// forgets. The bbolt store (package store) and the PostgreSQL one
// (store/postgres) both call it, so the two cannot drift apart on any of
// it; each keeps only the reading and writing of its own layout.
package storekit

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Card is a card reference a delivery records: the card key and where it
// now lives.
type Card struct {
	Key string
	Ref outbox.CardRef
}

// CardOp is what a delivery does to the card reference it concerns.
type CardOp int

const (
	// CardKeep leaves the card where it was (photos, menus, deliveries
	// without a platform id).
	CardKeep CardOp = iota
	// CardPut records where the card now lives.
	CardPut
	// CardForget drops the reference: a Retire edit was delivered, a
	// newer card replaced it and nothing edits it again.
	CardForget
)

// Delivered finishes r as delivered (the platform's message id, one more
// attempt, no error) and says what becomes of its card: a send or an edit
// with a CardKey and a platform id records it (CardPut), a delivered
// Retire edit forgets it (CardForget), anything else keeps it.
func Delivered(r *outbox.Row, platformID string, at time.Time) (Card, CardOp) {
	at = at.UTC()
	r.Status, r.Done, r.PlatformID, r.LastError = outbox.StatusDelivered, &at, platformID, ""
	r.Attempts++
	switch {
	case r.Msg.Retire && r.Msg.CardKey != "":
		return Card{Key: r.Msg.CardKey}, CardForget
	case r.Msg.CardKey != "" && platformID != "" && (r.Msg.Kind == flows.KindSend || r.Msg.Kind == flows.KindEdit):
		return Card{Key: r.Msg.CardKey, Ref: outbox.CardRef{Chat: r.Msg.To, MessageID: platformID}}, CardPut
	}
	return Card{}, CardKeep
}

// Digested finishes r as delivered inside the digest message platformID;
// a card among them points at the digest (CardRef.Digest).
func Digested(r *outbox.Row, platformID string, at time.Time) (Card, bool) {
	at = at.UTC()
	r.Status, r.Done, r.PlatformID, r.LastError = outbox.StatusDelivered, &at, platformID, ""
	r.Attempts++
	if r.Msg.CardKey != "" {
		return Card{Key: r.Msg.CardKey, Ref: outbox.CardRef{Chat: r.Msg.To, MessageID: platformID, Digest: true}}, true
	}
	return Card{}, false
}

// Retry keeps r pending until next with the error; count says whether
// the failure says anything about the message (a rate-limit answer does
// not: no attempt is counted).
func Retry(r *outbox.Row, next time.Time, errText string, count bool) {
	if count {
		r.Attempts++
	}
	r.NextAttempt, r.LastError = next.UTC(), errText
}

// Failed finishes r as failed for good; the row is kept for inspection.
func Failed(r *outbox.Row, errText string, at time.Time) {
	at = at.UTC()
	r.Attempts++
	r.Status, r.LastError, r.Done = outbox.StatusFailed, errText, &at
}

// Superseded retires the edit r that the newer edit by of the same card
// replaces. When r was a real change and by only a clock refresh, by stops
// being a refresh (it now carries the change to channels that skip
// refreshes): byChanged says by must be written back. by may be nil (no
// longer pending).
func Superseded(r, by *outbox.Row, at time.Time) (byChanged bool) {
	if !r.Msg.Refresh && by != nil && by.Msg.Refresh {
		by.Msg.Refresh = false
		byChanged = true
	}
	at = at.UTC()
	r.Status, r.Done = outbox.StatusSuperseded, &at
	return byChanged
}

// Requeued puts the failed row r back in the queue: pending, attempts,
// next attempt, error and finish cleared, Requeued stamped (the give-up
// age counts from then). Its id, and so its place in its address's
// order, stays.
func Requeued(r *outbox.Row, at time.Time) {
	r.Status, r.Attempts, r.NextAttempt, r.LastError, r.Done = outbox.StatusPending, 0, time.Time{}, "", nil
	r.Requeued = at.UTC()
}

// FindParts is flows.PartsTx.FindParts over a catalog walked in code
// order by each: the part whose code is the query (normalised) first,
// then the codes starting with it, then the parts whose name or
// specification contains the query (case-insensitive), each part once, at
// most limit (<= 0: no limit). An empty query finds nothing.
func FindParts(query string, limit int, each func(fn func(*flows.Part) error) error) ([]*flows.Part, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, nil
	}
	code, lower := flows.NormalizePartCode(q), strings.ToLower(q)
	var exact *flows.Part
	var prefixed, named []*flows.Part
	full := func() bool { return limit > 0 && len(prefixed)+len(named)+btoi(exact != nil) >= limit }
	err := each(func(p *flows.Part) error {
		switch {
		case p.Code == code:
			exact = p
		case strings.HasPrefix(p.Code, code):
			prefixed = append(prefixed, p)
		case strings.Contains(strings.ToLower(p.Name), lower) || strings.Contains(strings.ToLower(p.Spec), lower):
			// Names only fill what the codes leave: once the exact code
			// and the prefixes alone could fill the list, stop collecting.
			if !full() {
				named = append(named, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*flows.Part
	if exact != nil {
		out = append(out, exact)
	}
	out = append(append(out, prefixed...), named...)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Posted is what a store knows of its ledger when a move is posted.
type Posted struct {
	// Last is the ledger's last move (nil: the ledger is empty).
	Last *flows.StockMove
	// KeyTaken: a move was posted under the new move's Key already.
	KeyTaken bool
	// Reversed: the move the new one reverses was reversed already.
	Reversed bool
}

// PrepareStockMove checks a move before it is posted and returns it as it
// will be stored (PostedAt never below the last move's: a clock stepped
// back posts at the previous time, so the ledger's order is its time
// order) with the levels flows.ApplyStockMove makes of it; the store
// assigns Seq and writes both in the same transaction. A move without a
// part or a kind, a second move under an idempotency key, a second
// reversal of a move and a move that would leave a held level negative
// are refused.
func PrepareStockMove(m flows.StockMove, p Posted, level func(part, loc string) (flows.StockLevel, error)) (flows.StockMove, []flows.StockLevel, error) {
	if m.Part == "" || m.Kind == "" {
		return m, nil, errors.New("store: stock move without a part or a kind")
	}
	if p.Last != nil && m.PostedAt.Before(p.Last.PostedAt) {
		m.PostedAt = p.Last.PostedAt
	}
	if m.Key != "" && p.KeyTaken {
		return m, nil, fmt.Errorf("store: stock move key %q was posted already", m.Key)
	}
	if m.Reverses != 0 && p.Reversed {
		return m, nil, fmt.Errorf("store: stock move %d was reversed already", m.Reverses)
	}
	levels, err := flows.ApplyStockMove(level, m)
	if err != nil {
		return m, nil, err
	}
	return m, levels, nil
}

// EmptyLevel reports a level back at zero quantity and value: no level,
// which a store deletes rather than keeps.
func EmptyLevel(l flows.StockLevel) bool { return l.Qty == 0 && l.Value == 0 }

// PurchaseOpen reports a purchase request that waits for a decision or a
// delivery: the ones OpenPurchaseRequests lists.
func PurchaseOpen(r *flows.PurchaseRequest) bool {
	return r.Status == flows.PurchaseRequested || r.Status.Open()
}

// DialogueIdle reports a dialogue nobody answered since before (its last
// change, or its start for one never changed): the housekeeping forgets
// it, and the person starts over.
func DialogueIdle(d *flows.Dialogue, before time.Time) bool {
	last := d.Updated
	if last.IsZero() {
		last = d.Started
	}
	return last.Before(before)
}

// InviteStale reports an invite used before the cutoff, or unused and
// expired before it: the housekeeping forgets it.
func InviteStale(inv *flows.Invite, before time.Time) bool {
	if inv.Used != nil {
		return inv.Used.Before(before)
	}
	return inv.Expires.Before(before)
}

// FailedBefore reports a failed outbox row that failed before the cutoff.
func FailedBefore(r *outbox.Row, before time.Time) bool {
	return r.Done != nil && r.Done.Before(before)
}
