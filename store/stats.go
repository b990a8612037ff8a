package store

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
)

// The reported index (tickets.reported): one row per ticket, keyed by its
// report time and id, holding the ticket's brief (flows.TicketBrief),
// rewritten by every PutTicket. The KPI reports walk it: a period's
// tickets in report order without the touched index's duplicates, and the
// preventive hints' look-back of months without decoding a ticket.

// briefVersion starts every brief; the fields follow, 0-separated, times
// as Unix nanoseconds (an index value, read by the hundred thousand: no
// JSON, no time parsing).
const briefVersion = "b4"

func nanos(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func optNanos(t *time.Time) string {
	if t == nil {
		return ""
	}
	return nanos(*t)
}

func clean0(s string) string { return strings.ReplaceAll(s, "\x00", "") }

func encodeBrief(b flows.TicketBrief) []byte {
	return []byte(strings.Join([]string{briefVersion, nanos(b.Created), string(b.State), string(b.Kind),
		clean0(b.Category), clean0(b.Emergency), clean0(b.Building), clean0(b.Unit), clean0(b.Room), clean0(b.Asset),
		optNanos(b.AgreedTime), clean0(b.AssigneeID), clean0(b.Assignee), clean0(b.FaultComponent), clean0(b.FaultCause),
		strconv.FormatInt(b.Quote, 10), strconv.Itoa(b.Score), clean0(b.Place), clean0(b.Area)}, "\x00"))
}

// fields splits a 0-separated value into want fields (false otherwise).
func fields(raw []byte, want int, out [][]byte) ([][]byte, bool) {
	out = out[:0]
	for len(out) < want-1 {
		i := bytes.IndexByte(raw, 0)
		if i < 0 {
			return nil, false
		}
		out = append(out, raw[:i])
		raw = raw[i+1:]
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return nil, false
	}
	return append(out, raw), true
}

func parseNanos(b []byte) (*time.Time, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return nil, err
	}
	t := time.Unix(0, n).UTC()
	return &t, nil
}

func decodeBrief(id string, raw []byte) (flows.TicketBrief, error) {
	var buf [19][]byte
	f, ok := fields(raw, 19, buf[:0])
	if !ok || string(f[0]) != briefVersion {
		return flows.TicketBrief{}, fmt.Errorf("store: corrupt brief of %s", id)
	}
	bad := func(err error) (flows.TicketBrief, error) {
		return flows.TicketBrief{}, fmt.Errorf("store: corrupt brief of %s: %v", id, err)
	}
	created, err := parseNanos(f[1])
	if err != nil || created == nil {
		return bad(err)
	}
	b := flows.TicketBrief{ID: id, Created: *created, State: flows.State(f[2]), Kind: flows.OrderKind(f[3]), Category: string(f[4]),
		Emergency: string(f[5]), Building: string(f[6]), Unit: string(f[7]), Room: string(f[8]), Asset: string(f[9]),
		AssigneeID: string(f[11]), Assignee: string(f[12]), FaultComponent: string(f[13]), FaultCause: string(f[14]),
		Place: string(f[17]), Area: string(f[18])}
	if b.AgreedTime, err = parseNanos(f[10]); err != nil {
		return bad(err)
	}
	if b.Quote, err = strconv.ParseInt(string(f[15]), 10, 64); err != nil {
		return bad(err)
	}
	if b.Score, err = strconv.Atoi(string(f[16])); err != nil {
		return bad(err)
	}
	return b, nil
}

// foldVersion starts every fold of the trail projection; the fields
// follow, 0-separated, times as Unix nanoseconds.
const foldVersion = "f1"

func encodeFold(f *flows.TrailFold) []byte {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	return []byte(strings.Join([]string{foldVersion, strconv.Itoa(f.Events), optNanos(f.Reported), optNanos(f.Accepted),
		optNanos(f.Arrived), optNanos(f.LastArrive), optNanos(f.WorkArrived), optNanos(f.Done), optNanos(f.Resolved),
		optNanos(f.Closed), flag(f.NoOneHome), clean0(strings.Join(f.Breaches, ",")), strconv.Itoa(f.Reworks),
		strconv.Itoa(f.Held), strconv.Itoa(f.NotHeld), clean0(f.Repeat), strconv.Itoa(f.Score), flag(f.Scored)}, "\x00"))
}

func decodeFold(id string, raw []byte) (*flows.TrailFold, error) {
	var buf [18][]byte
	v, ok := fields(raw, 18, buf[:0])
	if !ok || string(v[0]) != foldVersion {
		return nil, fmt.Errorf("store: corrupt trail fold of %s", id)
	}
	f := &flows.TrailFold{NoOneHome: len(v[10]) > 0, Repeat: string(v[15]), Scored: len(v[17]) > 0}
	var err error
	ints := []*int{&f.Events, &f.Reworks, &f.Held, &f.NotHeld, &f.Score}
	for i, j := range []int{1, 12, 13, 14, 16} {
		if *ints[i], err = strconv.Atoi(string(v[j])); err != nil {
			return nil, fmt.Errorf("store: corrupt trail fold of %s: %v", id, err)
		}
	}
	times := []**time.Time{&f.Reported, &f.Accepted, &f.Arrived, &f.LastArrive, &f.WorkArrived, &f.Done, &f.Resolved, &f.Closed}
	for i, p := range times {
		if *p, err = parseNanos(v[2+i]); err != nil {
			return nil, fmt.Errorf("store: corrupt trail fold of %s: %v", id, err)
		}
	}
	if len(v[11]) > 0 {
		f.Breaches = strings.Split(string(v[11]), ",")
	}
	return f, nil
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
func (t *tx) EachTicketReported(from, to time.Time, trails bool, fn func(flows.TicketBrief) error) error {
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
		if trails {
			if br.Trail, err = t.trailFold(br.ID); err != nil {
				return err
			}
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
	// b3: briefs carry the public place, and a public ticket's place key
	// is its listed asset or its place (flows.PlaceKey); the place index
	// is rebuilt whole, since an earlier version's rows may be stale.
	// b4: briefs carry the ticket's area (after migrateAreas), and the
	// place and home keys are per area.
	mark := []byte("migrated.reported_place.b4")
	if meta.Get(mark) != nil {
		return nil
	}
	if err := b.DeleteBucket(bTicketsByPlace); err != nil {
		return fmt.Errorf("store: migrate the place index: %w", err)
	}
	if _, err := b.CreateBucket(bTicketsByPlace); err != nil {
		return fmt.Errorf("store: migrate the place index: %w", err)
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

// The trail projection (tickets.trail): each ticket's audit trail folded
// for the KPIs (flows.TrailFold), updated by AppendTicketEvent in the same
// transaction, rebuilt from the events when missing.

// trailFold reads a ticket's fold (nil when there is none).
func (t *tx) trailFold(id string) (*flows.TrailFold, error) {
	raw := t.bk(bTicketsTrail).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	return decodeFold(id, raw)
}

// foldEvent folds an appended event into its ticket's projection (seq is
// the event's number: a fold missing for a ticket with earlier events is
// rebuilt from them first).
func (t *tx) foldEvent(ticketID string, events *bolt.Bucket, ev flows.TicketEvent) error {
	f, err := t.trailFold(ticketID)
	if err != nil {
		return err
	}
	if f == nil || f.Events != ev.Seq-1 {
		f = &flows.TrailFold{}
		err := events.ForEach(func(k, v []byte) error {
			if binary.BigEndian.Uint64(k) >= uint64(ev.Seq) {
				return nil
			}
			var e flows.TicketEvent
			if err := decode(v, &e); err != nil {
				return err
			}
			f.Add(e)
			return nil
		})
		if err != nil {
			return err
		}
	}
	f.Add(ev)
	return t.bk(bTicketsTrail).Put([]byte(ticketID), encodeFold(f))
}
