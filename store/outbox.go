package store

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store/storekit"
)

// The outbox implements outbox.Queue: rows are written by tx.Enqueue in the
// engine's transaction and read, claimed and acknowledged here.
var (
	_ outbox.Queue    = (*Store)(nil)
	_ outbox.Requeuer = (*Store)(nil)
)

// Pending returns up to limit undelivered rows in id order (which is the
// order the engine produced them, so per-chat order is preserved).
func (s *Store) Pending(limit int) ([]outbox.Row, error) {
	var out []outbox.Row
	err := s.db.View(func(b *bolt.Tx) error {
		c := b.Bucket(bOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var r outbox.Row
			if err := decode(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// finish moves a row out of the pending bucket into done or failed.
func finish(b *bolt.Tx, r outbox.Row, to []byte) error {
	if err := b.Bucket(bOutbox).Delete(u64(r.ID)); err != nil {
		return err
	}
	raw, err := encode(r)
	if err != nil {
		return err
	}
	return b.Bucket(to).Put(u64(r.ID), raw)
}

func (s *Store) row(b *bolt.Tx, id uint64) (outbox.Row, bool, error) {
	var r outbox.Row
	raw := b.Bucket(bOutbox).Get(u64(id))
	if raw == nil {
		return r, false, nil
	}
	return r, true, decode(raw, &r)
}

// MarkDelivered records a successful delivery and, for a card, the
// platform message id that later edits will target; a retired card is
// forgotten.
func (s *Store) MarkDelivered(id uint64, platformID string, at time.Time) error {
	return s.db.Update(func(b *bolt.Tx) error {
		r, ok, err := s.row(b, id)
		if err != nil || !ok {
			return err
		}
		switch c, op := storekit.Delivered(&r, platformID, at); op {
		case storekit.CardForget:
			if err := b.Bucket(bCards).Delete([]byte(c.Key)); err != nil {
				return err
			}
		case storekit.CardPut:
			if err := putCard(b, c); err != nil {
				return err
			}
		}
		return finish(b, r, bOutboxDone)
	})
}

func putCard(b *bolt.Tx, c storekit.Card) error {
	raw, err := encode(c.Ref)
	if err != nil {
		return err
	}
	return b.Bucket(bCards).Put([]byte(c.Key), raw)
}

// MarkDigest records rows delivered together as one digest message.
func (s *Store) MarkDigest(ids []uint64, platformID string, at time.Time) error {
	return s.db.Update(func(b *bolt.Tx) error {
		for _, id := range ids {
			r, ok, err := s.row(b, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if c, ok := storekit.Digested(&r, platformID, at); ok {
				if err := putCard(b, c); err != nil {
					return err
				}
			}
			if err := finish(b, r, bOutboxDone); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkRetry records a transient failure and when to try again. count is
// false for a rate-limit answer, which says nothing about the message.
func (s *Store) MarkRetry(id uint64, next time.Time, errText string, count bool) error {
	return s.db.Update(func(b *bolt.Tx) error {
		r, ok, err := s.row(b, id)
		if err != nil || !ok {
			return err
		}
		storekit.Retry(&r, next, errText, count)
		raw, err := encode(r)
		if err != nil {
			return err
		}
		return b.Bucket(bOutbox).Put(u64(id), raw)
	})
}

// MarkFailed records a permanent failure; the row is kept for inspection.
func (s *Store) MarkFailed(id uint64, errText string, at time.Time) error {
	return s.db.Update(func(b *bolt.Tx) error {
		r, ok, err := s.row(b, id)
		if err != nil || !ok {
			return err
		}
		storekit.Failed(&r, errText, at)
		return finish(b, r, bOutboxFailed)
	})
}

// MarkSuperseded retires an edit that the newer edit by of the same card
// replaces. When the retired edit was a real change and by only a clock
// refresh, by stops being a refresh in the same transaction: it now
// carries the change to channels that skip refreshes.
func (s *Store) MarkSuperseded(id, by uint64, at time.Time) error {
	return s.db.Update(func(b *bolt.Tx) error {
		r, ok, err := s.row(b, id)
		if err != nil || !ok {
			return err
		}
		var next *outbox.Row
		if nr, ok, err := s.row(b, by); err != nil {
			return err
		} else if ok {
			next = &nr
		}
		if storekit.Superseded(&r, next, at) {
			raw, err := encode(*next)
			if err != nil {
				return err
			}
			if err := b.Bucket(bOutbox).Put(u64(by), raw); err != nil {
				return err
			}
		}
		return finish(b, r, bOutboxDone)
	})
}

// Card returns where a card was delivered.
func (s *Store) Card(cardKey string) (outbox.CardRef, bool, error) {
	var ref outbox.CardRef
	found := false
	err := s.db.View(func(b *bolt.Tx) error {
		raw := b.Bucket(bCards).Get([]byte(cardKey))
		if raw == nil {
			return nil
		}
		found = true
		return decode(raw, &ref)
	})
	return ref, found, err
}

// Stats reads the outbox's depth and counts.
func (s *Store) Stats() (outbox.Stats, error) {
	var st outbox.Stats
	err := s.db.View(func(b *bolt.Tx) error {
		ob := b.Bucket(bOutbox)
		st.Pending = ob.Stats().KeyN
		if k, v := ob.Cursor().First(); k != nil {
			var r outbox.Row
			if err := decode(v, &r); err != nil {
				return err
			}
			st.Oldest = r.Created
		}
		st.Delivered = b.Bucket(bOutboxDone).Stats().KeyN
		st.Failed = b.Bucket(bOutboxFailed).Stats().KeyN
		return nil
	})
	return st, err
}

// Rows returns rows of a finished bucket ("done" or "failed"), for tests and inspection.
func (s *Store) Rows(which string) ([]outbox.Row, error) {
	name := bOutboxDone
	switch which {
	case outbox.StatusFailed:
		name = bOutboxFailed
	case outbox.StatusPending:
		name = bOutbox
	}
	var out []outbox.Row
	err := s.db.View(func(b *bolt.Tx) error {
		return b.Bucket(name).ForEach(func(_, v []byte) error {
			var r outbox.Row
			if err := decode(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// PruneSeen forgets inbound dedupe keys older than before; platforms stop
// redelivering long before (Telegram keeps updates 24 hours).
func (s *Store) PruneSeen(before time.Time) (int, error) {
	n := 0
	limit := []byte(ts(before))
	err := s.db.Update(func(b *bolt.Tx) error {
		idx, seen := b.Bucket(bSeenByTime), b.Bucket(bSeen)
		c := idx.Cursor()
		for k, _ := c.First(); k != nil && string(k[:len(limit)]) < string(limit); k, _ = c.First() {
			if err := seen.Delete([]byte(lastPart(k))); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// PruneDelivered forgets delivered and superseded rows finished before
// the cutoff; failed rows stay longer, for an operator to look at
// (PruneFailed), and card message ids stay so old cards can still be
// edited.
func (s *Store) PruneDelivered(before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(b *bolt.Tx) error {
		c := b.Bucket(bOutboxDone).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var r outbox.Row
			if err := decode(v, &r); err != nil {
				return err
			}
			if r.Done == nil || !r.Done.Before(before) {
				continue
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Requeue puts failed rows back in the queue under their own ids, so each
// takes its old place in its address's order, with attempts and error
// cleared and Requeued set (the give-up age counts from then). ids that
// are not failed rows are skipped. It returns the rows re-queued and
// wakes the senders.
func (s *Store) Requeue(ids []uint64, at time.Time) ([]outbox.Row, error) {
	var out []outbox.Row
	err := s.db.Update(func(b *bolt.Tx) error {
		out = out[:0]
		failed, pending := b.Bucket(bOutboxFailed), b.Bucket(bOutbox)
		for _, id := range ids {
			raw := failed.Get(u64(id))
			if raw == nil {
				continue
			}
			var r outbox.Row
			if err := decode(raw, &r); err != nil {
				return err
			}
			storekit.Requeued(&r, at)
			enc, err := encode(r)
			if err != nil {
				return err
			}
			if err := failed.Delete(u64(id)); err != nil {
				return err
			}
			if err := pending.Put(u64(id), enc); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err == nil && len(out) > 0 {
		s.poke()
	}
	return out, err
}
