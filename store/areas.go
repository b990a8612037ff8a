package store

import (
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
)

// markAreas in meta records that the records from before areas were put
// in the default area, and which one (flows/areas.go).
var markAreas = []byte("migrated.areas")

// migrateAreas puts every ticket, profile and roster shift written
// before areas in the default area, once: each record with no area gets
// area (the configuration's first, Options.DefaultArea), and the open
// index's copies of the tickets with them. Nothing else changes: the
// records keep their indexes and no ticket counts as touched (the daily
// lists read that index), so the migration is invisible but for the area.
func migrateAreas(tx *bolt.Tx, area string) error {
	meta := tx.Bucket(bMeta)
	if meta.Get(markAreas) != nil {
		return nil
	}
	if area == "" {
		area = flows.DefaultArea
	}
	tickets, open := tx.Bucket(bTickets), tx.Bucket(bTicketsOpen)
	err := rewrite(tickets, func(t *flows.Ticket) bool {
		if t.Area != "" {
			return false
		}
		t.Area = area
		return true
	})
	if err != nil {
		return fmt.Errorf("store: migrate areas: tickets: %w", err)
	}
	err = open.ForEach(func(k, v []byte) error {
		if len(v) == 0 {
			return nil
		}
		if raw := tickets.Get([]byte(lastPart(k))); raw != nil {
			return open.Put(k, append([]byte(nil), raw...))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: migrate areas: open index: %w", err)
	}
	err = rewrite(tx.Bucket(bPeople), func(p *flows.Person) bool {
		if len(p.Areas) != 0 || !p.Registered {
			return false
		}
		p.Areas = []string{area}
		return true
	})
	if err != nil {
		return fmt.Errorf("store: migrate areas: people: %w", err)
	}
	err = rewrite(tx.Bucket(bRoster), func(r *flows.Roster) bool {
		changed := false
		for i := range r.Shifts {
			if r.Shifts[i].Area == "" {
				r.Shifts[i].Area, changed = area, true
			}
		}
		return changed
	})
	if err != nil {
		return fmt.Errorf("store: migrate areas: roster: %w", err)
	}
	return meta.Put(markAreas, []byte(area))
}

// rewrite decodes every record of b, lets fix change it, and writes back
// the ones it changed, after the walk (a bucket is not written while its
// cursor moves).
func rewrite[T any](b *bolt.Bucket, fix func(*T) bool) error {
	var keys, vals [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket
		}
		var x T
		if err := decode(v, &x); err != nil {
			return err
		}
		if !fix(&x) {
			return nil
		}
		raw, err := encode(&x)
		if err != nil {
			return err
		}
		keys, vals = append(keys, append([]byte(nil), k...)), append(vals, raw)
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := b.Put(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// MigratedArea is the area the records from before areas were put in
// when the file was first opened by a program with areas ("" before).
func (s *Store) MigratedArea() (string, error) {
	var area string
	err := s.db.View(func(tx *bolt.Tx) error {
		area = string(tx.Bucket(bMeta).Get(markAreas))
		return nil
	})
	return area, err
}

// AreaEdits implements flows.Tx: by area key.
func (t *tx) AreaEdits() ([]*flows.AreaEdit, error) {
	return decodeAll[*flows.AreaEdit](t.bk(bAreaEdits), nil)
}

// ReadAreaEdits reads the admins' edits of the areas from the file at
// path opened read-only (nothing created or migrated), for a command that
// runs beside the bot (`repairbot poster`). A file held by the running bot
// cannot be read: ErrLocked; a file from before the edits holds none.
func ReadAreaEdits(path string, lockTimeout time.Duration) ([]*flows.AreaEdit, error) {
	if lockTimeout <= 0 {
		lockTimeout = 2 * time.Second
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []*flows.AreaEdit
	db, err := openBolt(path, bolt.Options{ReadOnly: true, Timeout: lockTimeout}, func(db *bolt.DB) error {
		return db.View(func(b *bolt.Tx) error {
			if _, err := countsOf(b); err != nil { // a repairbot database this program reads
				return err
			}
			bk := b.Bucket(bAreaEdits)
			if bk == nil {
				return nil
			}
			var err error
			out, err = decodeAll[*flows.AreaEdit](bk, nil)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, db.Close()
}

// PutAreaEdit implements flows.Tx (one record per area).
func (t *tx) PutAreaEdit(e *flows.AreaEdit) error {
	return t.put(bAreaEdits, []byte(e.Area), e)
}
