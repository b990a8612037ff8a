package store

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Bounded growth: what the hourly housekeeping forgets besides delivered
// rows and dedupe keys. Each prune is one write transaction over one
// bucket; none touches tickets, people or their histories.

// PruneFailed forgets failed outbox rows that failed before the cutoff
// (kept until then for `repairbot outbox list` and requeue).
func (s *Store) PruneFailed(before time.Time) (int, error) {
	return s.pruneBucket(bOutboxFailed, func(v []byte) (bool, error) {
		var r outbox.Row
		if err := decode(v, &r); err != nil {
			return false, err
		}
		return r.Done != nil && r.Done.Before(before), nil
	})
}

// PruneDialogues forgets dialogues nobody answered since the cutoff (a
// person who left a registration or a report half-way and never came
// back); such a person starts over.
func (s *Store) PruneDialogues(before time.Time) (int, error) {
	return s.pruneBucket(bDialogues, func(v []byte) (bool, error) {
		var d flows.Dialogue
		if err := decode(v, &d); err != nil {
			return false, err
		}
		last := d.Updated
		if last.IsZero() {
			last = d.Started
		}
		return last.Before(before), nil
	})
}

// PruneInvites forgets invites used before the cutoff and unused ones
// that expired before it. Until then a second /start with a used code
// says it was used; after, the code is unknown.
func (s *Store) PruneInvites(before time.Time) (int, error) {
	return s.pruneBucket(bInvites, func(v []byte) (bool, error) {
		var inv flows.Invite
		if err := decode(v, &inv); err != nil {
			return false, err
		}
		if inv.Used != nil {
			return inv.Used.Before(before), nil
		}
		return inv.Expires.Before(before), nil
	})
}

// pruneBucket deletes the entries of a bucket that drop says to.
func (s *Store) pruneBucket(name []byte, drop func(v []byte) (bool, error)) (int, error) {
	n := 0
	err := s.db.Update(func(b *bolt.Tx) error {
		n = 0
		c := b.Bucket(name).Cursor()
		for k, v := c.First(); k != nil; {
			ok, err := drop(v)
			if err != nil {
				return err
			}
			if !ok {
				k, v = c.Next()
				continue
			}
			key := append([]byte(nil), k...)
			if err := c.Delete(); err != nil {
				return err
			}
			n++
			// After Delete, Next may skip an entry: look up the next one
			// from the deleted key.
			k, v = c.Seek(key)
		}
		return nil
	})
	return n, err
}

// MediaRefs reports every SHA-256 digest a stored record mentions: the
// kept copies of photos and documents that tickets, audit trails,
// dialogues, certificates, parts moves, reviews and queued messages refer
// to. It reads the raw values of every bucket, nested ones too, and
// reports each run of exactly 64 lower-case hex digits, so a record type
// added later is covered without a line here; a digest that merely looks
// like one keeps a file, never loses one. One read transaction: a
// reference moved from one record to another while it runs is seen in one
// of them. It reads the whole file, so it is for the nightly sweep, and it
// hands the pages it mapped back as it goes.
func (s *Store) MediaRefs(yield func(sum string)) error {
	return s.db.View(func(b *bolt.Tx) error {
		scanned := 0
		var walk func(bk *bolt.Bucket) error
		walk = func(bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				if v == nil {
					if nested := bk.Bucket(k); nested != nil {
						return walk(nested)
					}
					return nil
				}
				hexRuns(v, yield)
				if scanned++; scanned%releaseEvery == 0 {
					release(b)
				}
				return nil
			})
		}
		return b.ForEach(func(_ []byte, bk *bolt.Bucket) error { return walk(bk) })
	})
}

// hexRuns calls yield with every maximal run of exactly 64 lower-case hex
// digits in v.
func hexRuns(v []byte, yield func(string)) {
	run := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] >= 'a' && v[i] <= 'f') {
			run++
			continue
		}
		if run == 64 {
			yield(string(v[i-64 : i]))
		}
		run = 0
	}
}
