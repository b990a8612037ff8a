package store

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/repairbot/repairbot/flows"
)

// SOPVersions implements flows.Tx.
func (t *tx) SOPVersions() ([]flows.SOPVersion, error) {
	return decodeAll[flows.SOPVersion](t.bk(bSOPVersions), nil)
}

// PutSOPVersion implements flows.Tx.
func (t *tx) PutSOPVersion(v flows.SOPVersion) error {
	return t.put(bSOPVersions, u32(uint32(v.Number)), v)
}

// Acks implements flows.Tx.
func (t *tx) Acks(version int) ([]flows.Ack, error) {
	var out []flows.Ack
	prefix := u32(uint32(version))
	c := t.bk(bAcks).Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) >= 4 && binary.BigEndian.Uint32(k[:4]) == uint32(version); k, v = c.Next() {
		var a flows.Ack
		if err := decode(v, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// PutAck implements flows.Tx.
func (t *tx) PutAck(a flows.Ack) error {
	return t.put(bAcks, append(u32(uint32(a.Version)), []byte(a.PersonID)...), a)
}

// Review implements flows.Tx.
func (t *tx) Review(id string) (*flows.Review, error) {
	var r flows.Review
	if err := t.get(bReviews, id, "review", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutReview implements flows.Tx.
func (t *tx) PutReview(r *flows.Review) error { return t.put(bReviews, []byte(r.ID), r) }

// Reviews implements flows.Tx: newest first.
func (t *tx) Reviews() ([]*flows.Review, error) {
	var out []*flows.Review
	err := t.bk(bReviews).ForEach(func(_, v []byte) error {
		var r flows.Review
		if err := decode(v, &r); err != nil {
			return err
		}
		out = append(out, &r)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Opened.After(out[j].Opened) })
	return out, err
}

// PendingSuggestions implements flows.Tx.
func (t *tx) PendingSuggestions() ([]flows.Suggestion, error) {
	return decodeAll[flows.Suggestion](t.bk(bSuggestions), nil)
}

// AddPendingSuggestion implements flows.Tx.
func (t *tx) AddPendingSuggestion(s flows.Suggestion) error {
	seq, err := t.bk(bSuggestions).NextSequence()
	if err != nil {
		return err
	}
	return t.put(bSuggestions, u64(seq), s)
}

// ClearPendingSuggestions implements flows.Tx.
func (t *tx) ClearPendingSuggestions() error {
	b := t.bk(bSuggestions)
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// NextSeq implements flows.Tx.
func (t *tx) NextSeq(name string) (int, error) {
	b := t.bk(bCounters)
	k := []byte("seq:" + name)
	n := 0
	if v := b.Get(k); v != nil {
		if len(v) != 4 {
			return 0, fmt.Errorf("store: counter %s is corrupt", name)
		}
		n = int(binary.BigEndian.Uint32(v))
	}
	n++
	return n, b.Put(k, u32(uint32(n)))
}
