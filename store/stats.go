package store

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
)

// The reported index (tickets.reported): one row per ticket, keyed by its
// report time and id, holding the ticket's brief (flows.TicketBrief),
// rewritten by every PutTicket. The KPI reports walk it: a period's
// tickets in report order without the touched index's duplicates, and the
// preventive hints' look-back of months without decoding a ticket.

// briefVersion starts every brief; the fields follow, 0-separated.
const briefVersion = "b1"

func encodeBrief(b flows.TicketBrief) []byte {
	clean := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
	return []byte(strings.Join([]string{briefVersion, b.Created.UTC().Format(time.RFC3339Nano), string(b.State), string(b.Kind),
		clean(b.Category), clean(b.Emergency), clean(b.Building), clean(b.Unit), clean(b.Room), clean(b.Asset)}, "\x00"))
}

func decodeBrief(id string, raw []byte) (flows.TicketBrief, error) {
	f := bytes.Split(raw, []byte{0})
	if len(f) != 10 || string(f[0]) != briefVersion {
		return flows.TicketBrief{}, fmt.Errorf("store: corrupt brief of %s", id)
	}
	created, err := time.Parse(time.RFC3339Nano, string(f[1]))
	if err != nil {
		return flows.TicketBrief{}, fmt.Errorf("store: corrupt brief of %s: %w", id, err)
	}
	return flows.TicketBrief{ID: id, Created: created, State: flows.State(f[2]), Kind: flows.OrderKind(f[3]), Category: string(f[4]),
		Emergency: string(f[5]), Building: string(f[6]), Unit: string(f[7]), Room: string(f[8]), Asset: string(f[9])}, nil
}

// indexReported keeps tk's row of the reported index (old is the stored
// version, nil for a new ticket).
func (t *tx) indexReported(old, tk *flows.Ticket) error {
	b := t.bk(bTicketsReported)
	if old != nil && !old.Created.Equal(tk.Created) {
		if err := b.Delete(key(ts(old.Created), old.ID)); err != nil {
			return err
		}
	}
	return b.Put(key(ts(tk.Created), tk.ID), encodeBrief(tk.Brief()))
}

// EachTicketReported implements flows.Tx. Keys sort by the report's
// second; the briefs of one second are handed out by their exact time.
func (t *tx) EachTicketReported(from, to time.Time, fn func(flows.TicketBrief) error) error {
	c := t.bk(bTicketsReported).Cursor()
	end := []byte(ts(to) + "\x01")
	var second []flows.TicketBrief
	var cur []byte
	scanned := 0
	defer func() {
		if scanned >= releaseEvery {
			release(t.b)
		}
	}()
	flush := func() error {
		// Within one second: by exact time, then id.
		for i := 1; i < len(second); i++ {
			for j := i; j > 0 && (second[j].Created.Before(second[j-1].Created) ||
				second[j].Created.Equal(second[j-1].Created) && second[j].ID < second[j-1].ID); j-- {
				second[j], second[j-1] = second[j-1], second[j]
			}
		}
		for _, b := range second {
			if b.Created.Before(from) || !b.Created.Before(to) {
				continue
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		second = second[:0]
		return nil
	}
	for k, v := c.Seek([]byte(ts(from))); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
		sec, id, _ := bytes.Cut(k, []byte{0})
		if !bytes.Equal(sec, cur) {
			if err := flush(); err != nil {
				return err
			}
			cur = append(cur[:0], sec...)
		}
		if scanned++; scanned%releaseEvery == 0 {
			release(t.b)
		}
		br, err := decodeBrief(string(id), v)
		if err != nil {
			return err
		}
		second = append(second, br)
	}
	return flush()
}

// fillTicketIndexes writes the reported and place indexes of every ticket
// stored before they existed, once (a store that starts empty has them
// from its first ticket).
func fillTicketIndexes(b *bolt.Tx) error {
	meta := b.Bucket(bMeta)
	mark := []byte("migrated.reported_place")
	if meta.Get(mark) != nil {
		return nil
	}
	t := &tx{b: b, now: time.Now}
	err := b.Bucket(bTickets).ForEach(func(k, v []byte) error {
		var tk flows.Ticket
		if err := decode(v, &tk); err != nil {
			return err
		}
		if err := t.indexReported(nil, &tk); err != nil {
			return err
		}
		return t.indexPlace(nil, &tk)
	})
	if err != nil {
		return fmt.Errorf("store: migrate the reported and place indexes: %w", err)
	}
	return meta.Put(mark, []byte{1})
}
