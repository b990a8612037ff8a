package store

import (
	"bytes"
	"encoding/binary"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// tx implements flows.Tx on a bbolt transaction. Values returned by Get are
// only valid inside the transaction, so everything is decoded before return.
type tx struct {
	b        *bolt.Tx
	now      func() time.Time
	enqueued bool
}

// releaseEvery is how many records a long read (a month of tickets) scans
// between handing the pages it mapped back (see release): about a
// megabyte of the file stays resident, not the month.
const releaseEvery = 1000

var _ flows.Tx = (*tx)(nil)

func (t *tx) bk(name []byte) *bolt.Bucket {
	b := t.b.Bucket(name)
	if appendOnly[string(name)] {
		b.FillPercent = appendFill
	}
	return b
}

// appendOnly buckets take keys in increasing order (ticket ids carry the
// day, the others start with a timestamp). bbolt splits a full page at
// FillPercent, and its default of 0.5 leaves every page of such a bucket
// half empty for good: twice the file, and twice the pages a month's read
// maps in. bbolt's documentation suggests 0.9 for mostly-append buckets.
var appendOnly = map[string]bool{string(bTickets): true, string(bTicketsTouched): true, string(bSeenByTime): true,
	string(bPartsMoves): true, string(bTicketsReported): true}

const appendFill = 0.9

// appendSeq stores the record set returns under the next sequence number
// of bucket name's sub-bucket sub (an entity's audit trail: keys only
// grow, so its pages split at appendFill); set receives the number.
func (t *tx) appendSeq(name []byte, sub string, set func(seq int) any) error {
	b, err := t.bk(name).CreateBucketIfNotExists([]byte(sub))
	if err != nil {
		return err
	}
	b.FillPercent = appendFill
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	raw, err := encode(set(int(seq)))
	if err != nil {
		return err
	}
	return b.Put(u64(seq), raw)
}

// decodeAll decodes, in key order, the values of b whose keys start with
// prefix (nil: all of them).
func decodeAll[T any](b *bolt.Bucket, prefix []byte) ([]T, error) {
	var out []T
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var x T
		if err := decode(v, &x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// ptrs points at each element of xs, for the lists flows reads as pointers.
func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

func (t *tx) get(bucket []byte, k string, what string, v any) error {
	raw := t.bk(bucket).Get([]byte(k))
	if raw == nil {
		return notFound(what, k)
	}
	return decode(raw, v)
}

func (t *tx) put(bucket []byte, k []byte, v any) error {
	raw, err := encode(v)
	if err != nil {
		return err
	}
	return t.bk(bucket).Put(k, raw)
}

// Seen implements flows.Tx.
func (t *tx) Seen(k string) (bool, error) {
	return !dedupeBroken && t.bk(bSeen).Get([]byte(k)) != nil, nil
}

// MarkSeen implements flows.Tx.
func (t *tx) MarkSeen(k string, at time.Time) error {
	stamp := []byte(ts(at))
	if err := t.bk(bSeen).Put([]byte(k), stamp); err != nil {
		return err
	}
	return t.bk(bSeenByTime).Put(key(string(stamp), k), nil)
}

// Cursor implements flows.Tx.
func (t *tx) Cursor(name string) (string, error) {
	return string(t.bk(bCursors).Get([]byte(name))), nil
}

// SetCursor implements flows.Tx.
func (t *tx) SetCursor(name, value string) error {
	return t.bk(bCursors).Put([]byte(name), []byte(value))
}

// Person implements flows.Tx.
func (t *tx) Person(id string) (*flows.Person, error) {
	var p flows.Person
	if err := t.get(bPeople, id, "person", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPerson implements flows.Tx and keeps the role index.
func (t *tx) PutPerson(p *flows.Person) error {
	if old, err := t.Person(p.ID); err == nil && old.Role != p.Role {
		if err := t.bk(bPeopleByRole).Delete(key(string(old.Role), old.ID)); err != nil {
			return err
		}
	}
	if err := t.bk(bPeopleByRole).Put(key(string(p.Role), p.ID), nil); err != nil {
		return err
	}
	return t.put(bPeople, []byte(p.ID), p)
}

// PeopleByRole implements flows.Tx.
func (t *tx) PeopleByRole(role flows.Role) ([]*flows.Person, error) {
	var out []*flows.Person
	prefix := key(string(role), "")
	c := t.bk(bPeopleByRole).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		p, err := t.Person(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Ticket implements flows.Tx.
func (t *tx) Ticket(id string) (*flows.Ticket, error) {
	var tk flows.Ticket
	if err := t.get(bTickets, id, "ticket", &tk); err != nil {
		return nil, err
	}
	return &tk, nil
}

// PutTicket implements flows.Tx and keeps the resident, assignee and open indexes.
func (t *tx) PutTicket(tk *flows.Ticket) error {
	old, err := t.Ticket(tk.ID)
	if err != nil {
		old = nil
	}
	if err := t.indexReported(old, tk); err != nil {
		return err
	}
	if err := t.indexPlace(old, tk); err != nil {
		return err
	}
	if old != nil {
		// The resident index is history too (closed tickets stay listed),
		// but under the ticket's current resident only.
		if old.ResidentID != tk.ResidentID || !old.Created.Equal(tk.Created) {
			if err := t.bk(bTicketsByRes).Delete(key(old.ResidentID, ts(old.Created), old.ID)); err != nil {
				return err
			}
		}
		if old.AssigneeID != "" {
			if err := t.bk(bTicketsByAssign).Delete(key(old.AssigneeID, ts(old.Created), old.ID)); err != nil {
				return err
			}
		}
		if err := t.bk(bTicketsOpen).Delete(key(ts(old.Created), old.ID)); err != nil {
			return err
		}
	}
	if err := t.bk(bTicketsByRes).Put(key(tk.ResidentID, ts(tk.Created), tk.ID), nil); err != nil {
		return err
	}
	// The touched index is history: a ticket appears on every day it changed,
	// which is what the daily list and the reconciliation read.
	if err := t.bk(bTicketsTouched).Put(key(ts(tk.Updated), tk.ID), nil); err != nil {
		return err
	}
	raw, err := encode(tk)
	if err != nil {
		return err
	}
	if tk.State.Open() {
		// The open index holds a copy of the record: /open and the timers
		// read it from a few dense pages instead of faulting in one page
		// per ticket scattered over the whole file (see BENCHMARKS.md, Scale).
		if err := t.bk(bTicketsOpen).Put(key(ts(tk.Created), tk.ID), raw); err != nil {
			return err
		}
		if tk.AssigneeID != "" {
			if err := t.bk(bTicketsByAssign).Put(key(tk.AssigneeID, ts(tk.Created), tk.ID), nil); err != nil {
				return err
			}
		}
	}
	return t.bk(bTickets).Put([]byte(tk.ID), raw)
}

// NextTicketSeq implements flows.Tx.
func (t *tx) NextTicketSeq(day string) (int, error) {
	b := t.bk(bCounters)
	k := []byte("ticket:" + day)
	n := 0
	if v := b.Get(k); v != nil {
		n = int(binary.BigEndian.Uint32(v))
	}
	n++
	return n, b.Put(k, u32(uint32(n)))
}

func lastPart(k []byte) string {
	if i := bytes.LastIndexByte(k, 0); i >= 0 {
		return string(k[i+1:])
	}
	return string(k)
}

// TicketsByResident implements flows.Tx: newest first.
func (t *tx) TicketsByResident(personID string, limit int) ([]*flows.Ticket, error) {
	return t.newestTickets(bTicketsByRes, key(personID, ""), limit)
}

// newestTickets reads the tickets an index lists under prefix, newest
// first (the index's keys end in the ticket id, in time order), at most
// limit of them (0: all).
func (t *tx) newestTickets(index []byte, prefix []byte, limit int) ([]*flows.Ticket, error) {
	var out []*flows.Ticket
	c := t.bk(index).Cursor()
	// Seek past the prefix, then walk backwards.
	k, _ := c.Seek(append(append([]byte{}, prefix...), 0xff))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		tk, err := t.Ticket(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, tk)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// TicketsByAssignee implements flows.Tx: open tickets, oldest first.
func (t *tx) TicketsByAssignee(personID string) ([]*flows.Ticket, error) {
	var out []*flows.Ticket
	prefix := key(personID, "")
	c := t.bk(bTicketsByAssign).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		tk, err := t.Ticket(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, tk)
	}
	return out, nil
}

// OpenTickets implements flows.Tx: oldest first, from the open index only.
func (t *tx) OpenTickets() ([]*flows.Ticket, error) {
	var out []*flows.Ticket
	c := t.bk(bTicketsOpen).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var tk *flows.Ticket
		var err error
		if len(v) > 0 {
			tk = new(flows.Ticket)
			err = decode(v, tk)
		} else {
			tk, err = t.Ticket(lastPart(k)) // a row written before the copy existed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, tk)
	}
	return out, nil
}

// AppendTicketEvent implements flows.Tx.
func (t *tx) AppendTicketEvent(ticketID string, ev flows.TicketEvent) error {
	if err := t.appendSeq(bTicketEvents, ticketID, func(seq int) any { ev.Seq = seq; return ev }); err != nil {
		return err
	}
	return t.foldEvent(ticketID, t.bk(bTicketEvents).Bucket([]byte(ticketID)), ev) // the trail projection (stats.go)
}

// TicketEvents implements flows.Tx.
func (t *tx) TicketEvents(ticketID string) ([]flows.TicketEvent, error) {
	b := t.bk(bTicketEvents).Bucket([]byte(ticketID))
	if b == nil {
		return nil, nil
	}
	return decodeAll[flows.TicketEvent](b, nil)
}

// Dialogue implements flows.Tx.
func (t *tx) Dialogue(personID string) (*flows.Dialogue, error) {
	var d flows.Dialogue
	if err := t.get(bDialogues, personID, "dialogue", &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDialogue implements flows.Tx.
func (t *tx) PutDialogue(d *flows.Dialogue) error { return t.put(bDialogues, []byte(d.PersonID), d) }

// DeleteDialogue implements flows.Tx.
func (t *tx) DeleteDialogue(personID string) error { return t.bk(bDialogues).Delete([]byte(personID)) }

// Invite implements flows.Tx.
func (t *tx) Invite(code string) (*flows.Invite, error) {
	var inv flows.Invite
	if err := t.get(bInvites, code, "invite", &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// PutInvite implements flows.Tx.
func (t *tx) PutInvite(inv *flows.Invite) error { return t.put(bInvites, []byte(inv.Code), inv) }

// Enqueue implements flows.Tx: rows get increasing ids, so per-chat order is
// the order the engine produced them.
func (t *tx) Enqueue(msgs ...flows.Message) error {
	b := t.bk(bOutbox)
	now := t.now().UTC()
	for _, m := range msgs {
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		row := outbox.Row{ID: id, Msg: m, Created: now, Status: outbox.StatusPending}
		if err := t.put(bOutbox, u64(id), row); err != nil {
			return err
		}
	}
	t.enqueued = t.enqueued || len(msgs) > 0
	return nil
}

// AddComplaint implements flows.Tx.
func (t *tx) AddComplaint(c flows.Complaint) error {
	b := t.bk(bComplaints)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return t.put(bComplaints, u64(seq), c)
}

// Complaints implements flows.Tx.
func (t *tx) Complaints() ([]flows.Complaint, error) {
	return decodeAll[flows.Complaint](t.bk(bComplaints), nil)
}

// PutTimer implements flows.Tx: timers sort by due time; a key index
// lets a timer be replaced or deleted.
func (t *tx) PutTimer(tm flows.Timer) error {
	if err := t.DeleteTimer(tm.Key); err != nil {
		return err
	}
	due := ts(tm.Due)
	if err := t.bk(bTimersByKey).Put([]byte(tm.Key), []byte(due)); err != nil {
		return err
	}
	return t.put(bTimers, key(due, tm.Key), tm)
}

// DeleteTimer implements flows.Tx.
func (t *tx) DeleteTimer(k string) error {
	due := t.bk(bTimersByKey).Get([]byte(k))
	if due == nil {
		return nil
	}
	if err := t.bk(bTimers).Delete(key(string(due), k)); err != nil {
		return err
	}
	return t.bk(bTimersByKey).Delete([]byte(k))
}

// DueTimers implements flows.Tx: earliest due first. Keys order timers by
// their due second only (then by key), so the timers of one second are
// sorted by their exact due time before they are handed out, and in
// now's own second those not yet due are skipped, not taken as the end.
func (t *tx) DueTimers(now time.Time, limit int) ([]flows.Timer, error) {
	var out, second []flows.Timer
	full := func() bool { return limit > 0 && len(out) >= limit }
	flush := func() {
		sort.SliceStable(second, func(i, j int) bool { return second[i].Due.Before(second[j].Due) })
		for _, tm := range second {
			if tm.Due.After(now) || full() {
				break
			}
			out = append(out, tm)
		}
		second = second[:0]
	}
	end := []byte(ts(now) + "\x01")
	var cur []byte
	c := t.bk(bTimers).Cursor()
	for k, v := c.First(); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
		sec := k
		if i := bytes.IndexByte(k, 0); i >= 0 {
			sec = k[:i]
		}
		if !bytes.Equal(sec, cur) {
			if flush(); full() {
				return out, nil
			}
			cur = append(cur[:0], sec...)
		}
		var tm flows.Timer
		if err := decode(v, &tm); err != nil {
			return nil, err
		}
		second = append(second, tm)
	}
	flush()
	return out, nil
}

// EachTicketTouched implements flows.Tx from the tickets.touched index. It
// hands out one ticket at a time, so reading a month of a large store
// holds one decoded ticket (and the set of ids seen), not the month.
func (t *tx) EachTicketTouched(from, to time.Time, fn func(*flows.Ticket) error) error {
	seen := map[string]struct{}{}
	c := t.bk(bTicketsTouched).Cursor()
	end := []byte(ts(to))
	scanned := 0
	defer func() {
		if scanned >= releaseEvery {
			release(t.b)
		}
	}()
	for k, _ := c.Seek([]byte(ts(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		id := lastPart(k)
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		if scanned++; scanned%releaseEvery == 0 {
			release(t.b)
		}
		tk, err := t.Ticket(id)
		if err != nil {
			return err
		}
		if err := fn(tk); err != nil {
			return err
		}
	}
	return nil
}

// Handover implements flows.Tx.
func (t *tx) Handover(day, techID string) (*flows.Handover, error) {
	var h flows.Handover
	if err := t.get(bHandovers, joinKey(day, techID), "handover", &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// PutHandover implements flows.Tx.
func (t *tx) PutHandover(h *flows.Handover) error {
	return t.put(bHandovers, key(h.Day, h.TechID), h)
}

// Handovers implements flows.Tx.
func (t *tx) Handovers(day string) ([]*flows.Handover, error) {
	hs, err := decodeAll[flows.Handover](t.bk(bHandovers), key(day, ""))
	return ptrs(hs), err
}

// DailyList implements flows.Tx.
func (t *tx) DailyList(day string) (*flows.DailyList, error) {
	var d flows.DailyList
	if err := t.get(bDaily, day, "daily list", &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDailyList implements flows.Tx.
func (t *tx) PutDailyList(d *flows.DailyList) error { return t.put(bDaily, []byte(d.Day), d) }

// DutyOverrides implements flows.Tx.
func (t *tx) DutyOverrides() ([]flows.DutyOverride, error) {
	return decodeAll[flows.DutyOverride](t.bk(bDuty), nil)
}

// PutDutyOverride implements flows.Tx (one override per person).
func (t *tx) PutDutyOverride(o flows.DutyOverride) error {
	return t.put(bDuty, []byte(o.PersonID), o)
}
