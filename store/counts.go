package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counts is what a database file holds, in numbers: for backup
// verification and for operators.
type Counts struct {
	Schema        int // schema version recorded in meta
	Tickets       int
	People        int
	OutboxPending int
}

// Counts reads the number of tickets, people and undelivered outbox rows
// in one read-only transaction.
func (s *Store) Counts() (Counts, error) {
	var c Counts
	err := s.db.View(func(b *bolt.Tx) error {
		var err error
		c, err = countsOf(b)
		return err
	})
	return c, err
}

// countsOf reads Counts in a transaction, failing when the file does not
// look like a repairbot database.
func countsOf(b *bolt.Tx) (Counts, error) {
	var c Counts
	meta := b.Bucket(bMeta)
	if meta == nil {
		return c, errors.New("store: not a repairbot database (no meta bucket)")
	}
	v := meta.Get([]byte("schema"))
	if len(v) != 4 {
		return c, errors.New("store: not a repairbot database (no schema version)")
	}
	c.Schema = int(binary.BigEndian.Uint32(v))
	if c.Schema < 1 || c.Schema > schemaVersion {
		return c, fmt.Errorf("store: file schema %d is not supported by this program (%d)", c.Schema, schemaVersion)
	}
	for _, x := range []struct {
		name []byte
		n    *int
	}{{bTickets, &c.Tickets}, {bPeople, &c.People}, {bOutbox, &c.OutboxPending}} {
		bk := b.Bucket(x.name)
		if bk == nil {
			return c, fmt.Errorf("store: not a repairbot database (no %s bucket)", x.name)
		}
		*x.n = bk.Stats().KeyN
	}
	return c, nil
}

// Verify opens the file at path read-only (without creating or migrating
// anything) and checks that it is a repairbot database this program can
// use. A file held by a running bot cannot be verified: ErrLocked.
func Verify(path string, lockTimeout time.Duration) (Counts, error) {
	if lockTimeout <= 0 {
		lockTimeout = 2 * time.Second
	}
	if _, err := os.Stat(path); err != nil {
		return Counts{}, fmt.Errorf("store: %w", err)
	}
	var c Counts
	db, err := openBolt(path, bolt.Options{ReadOnly: true, Timeout: lockTimeout}, func(db *bolt.DB) error {
		return db.View(func(b *bolt.Tx) error {
			var err error
			c, err = countsOf(b)
			return err
		})
	})
	if err != nil {
		return Counts{}, err
	}
	return c, db.Close()
}

// ErrClosed is returned by Ping after Close.
var ErrClosed = errors.New("store: closed")

// Ping proves the database is writable: a tiny write transaction that
// stamps meta "health" with the current time and is committed (and
// fsynced) like any other.
func (s *Store) Ping() error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	stamp := []byte(s.now().UTC().Format(time.RFC3339Nano))
	return s.db.Update(func(b *bolt.Tx) error {
		meta := b.Bucket(bMeta)
		if meta == nil {
			return errors.New("store: meta bucket missing")
		}
		return meta.Put([]byte("health"), stamp)
	})
}
