package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
)

// get reads one record by key into out; flows.ErrNotFound when missing.
func (t *tx) get(what, sql, key string, out any) error {
	var v int
	var raw []byte
	err := t.row(sql, []any{text(key)}, &v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what, key)
	}
	if err != nil {
		return err
	}
	return decode(what, v, raw, out)
}

// list decodes every row of a (v, data) query; nil when there are none.
func list[T any](t *tx, what, sql string, args ...any) ([]T, error) {
	var out []T
	err := t.records(sql, args, func(v int, raw []byte) error {
		var x T
		if err := decode(what, v, raw, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listPtr is list for the methods that return pointers.
func listPtr[T any](t *tx, what, sql string, args ...any) ([]*T, error) {
	xs, err := list[T](t, what, sql, args...)
	if err != nil || xs == nil {
		return nil, err
	}
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out, nil
}

// put upserts a record: sql takes the keys first, then v and data.
func (t *tx) put(sql string, v any, keys ...any) error {
	raw, err := encode(v)
	if err != nil {
		return err
	}
	return t.exec(sql, append(keys, schemaVersion, raw)...)
}

func notFound(what, id string) error { return fmt.Errorf("%s %q: %w", what, id, flows.ErrNotFound) }

// limitArg is LIMIT's argument: NULL (no limit) for limit <= 0.
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}

// Seen implements flows.Tx.
func (t *tx) Seen(key string) (bool, error) {
	if seen, ok := t.seen[text(key)]; ok {
		return seen, nil
	}
	var ok bool
	err := t.row(sqlSeen, []any{text(key)}, &ok)
	return ok, err
}

const sqlSeen = `SELECT EXISTS (SELECT 1 FROM seen WHERE key = $1)`

// prefetch reads the dedupe marks, profiles and dialogues that the calls
// of a transaction read first, in the round trip that begins it.
func (t *tx) prefetch(reads []flows.FirstReads) error {
	var keys, who []string
	for _, r := range reads {
		if r.Seen != "" {
			keys = append(keys, text(r.Seen))
		}
		if r.Sender != "" {
			who = append(who, text(r.Sender))
		}
	}
	if len(keys) == 0 && len(who) == 0 {
		return nil
	}
	seen, people := make(map[string]bool, len(keys)), make(map[string]personRow, len(who))
	dialogues := make(map[string]dialogueRow, len(who))
	for _, k := range keys {
		seen[k] = false
	}
	for _, id := range who {
		people[id], dialogues[id] = personRow{}, dialogueRow{}
	}
	err := t.send([]queued{
		{`SELECT key FROM seen WHERE key = ANY($1)`, []any{keys}},
		{`SELECT id, v, data FROM people WHERE id = ANY($1)`, []any{who}},
		{`SELECT person_id, v, data FROM dialogues WHERE person_id = ANY($1)`, []any{who}},
	}, func(br pgx.BatchResults) error {
		var k string
		if _, err := pgx.ForEachRow(must(br.Query()), []any{&k}, func() error { seen[k] = true; return nil }); err != nil {
			return err
		}
		// Each scan of data allocates its bytes (pgx copies a jsonb value
		// into a []byte), so a row's record may be kept as it is.
		var r record
		if _, err := pgx.ForEachRow(must(br.Query()), []any{&k, &r.v, &r.raw}, func() error {
			people[k] = personRow{found: true, rec: r}
			return nil
		}); err != nil {
			return err
		}
		_, err := pgx.ForEachRow(must(br.Query()), []any{&k, &r.v, &r.raw}, func() error {
			dialogues[k] = dialogueRow{found: true, rec: r}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	t.seen, t.people = seen, people
	for k, d := range dialogues {
		t.knowDialogue(k, d)
	}
	return nil
}

// must drops Query's error: the rows carry it, and ForEachRow returns it.
func must(rows pgx.Rows, _ error) pgx.Rows { return rows }

// scanOptional scans a (v, data) row that may be absent.
func scanOptional(br pgx.BatchResults, rec *record, found *bool) error {
	err := br.QueryRow().Scan(&rec.v, &rec.raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	*found = err == nil
	return err
}

// MarkSeen implements flows.Tx.
func (t *tx) MarkSeen(key string, at time.Time) error {
	if err := t.exec(`INSERT INTO seen (key, at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at`,
		text(key), sec(at)); err != nil {
		return err
	}
	if t.seen != nil {
		t.seen[text(key)] = true
	}
	return nil
}

// Cursor implements flows.Tx: "" when unset.
func (t *tx) Cursor(name string) (string, error) {
	var v string
	err := t.row(`SELECT value FROM cursors WHERE name = $1`, []any{text(name)}, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetCursor implements flows.Tx.
func (t *tx) SetCursor(name, value string) error {
	return t.exec(`INSERT INTO cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
		text(name), text(value))
}

// Person implements flows.Tx. A call's first profile read also reads that
// person's dialogue (see tx.dialogues).
func (t *tx) Person(id string) (*flows.Person, error) {
	var p flows.Person
	if a, ok := t.people[text(id)]; ok {
		if !a.found {
			return nil, notFound("person", id)
		}
		if err := decode("person", a.rec.v, a.rec.raw, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	if !t.readAhead {
		if err := t.get("person", sqlPerson, id, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	t.readAhead = false
	key := text(id)
	var rec record
	var d dialogueRow
	found := false
	err := t.send([]queued{{sqlPerson, []any{key}}, {sqlDialogue, []any{key}}}, func(br pgx.BatchResults) error {
		if err := scanOptional(br, &rec, &found); err != nil {
			return err
		}
		return scanOptional(br, &d.rec, &d.found)
	})
	if err != nil {
		return nil, err
	}
	t.knowDialogue(key, d)
	if !found {
		return nil, notFound("person", id)
	}
	if err := decode("person", rec.v, rec.raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

const (
	sqlPerson   = `SELECT v, data FROM people WHERE id = $1`
	sqlDialogue = `SELECT v, data FROM dialogues WHERE person_id = $1`
)

// PutPerson implements flows.Tx; the role index is a column.
func (t *tx) PutPerson(p *flows.Person) error {
	raw, err := encode(p)
	if err != nil {
		return err
	}
	key := text(p.ID)
	if err := t.exec(`INSERT INTO people (id, role, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, v = EXCLUDED.v, data = EXCLUDED.data`,
		key, text(string(p.Role)), schemaVersion, raw); err != nil {
		return err
	}
	if t.people != nil {
		t.people[key] = personRow{found: true, rec: record{v: schemaVersion, raw: raw}}
	}
	return nil
}

// PeopleByRole implements flows.Tx: ordered by id.
func (t *tx) PeopleByRole(role flows.Role) ([]*flows.Person, error) {
	return listPtr[flows.Person](t, "person", `SELECT v, data FROM people WHERE role = $1 ORDER BY id`, text(string(role)))
}

// Ticket implements flows.Tx.
func (t *tx) Ticket(id string) (*flows.Ticket, error) {
	var tk flows.Ticket
	if err := t.get("ticket", `SELECT v, data FROM tickets WHERE id = $1`, id, &tk); err != nil {
		return nil, err
	}
	return &tk, nil
}

// PutTicket implements flows.Tx. The resident, assignee, open and place
// indexes and the brief are columns of the row; the touched history gets
// the second of Updated.
func (t *tx) PutTicket(tk *flows.Ticket) error {
	raw, err := encode(tk)
	if err != nil {
		return err
	}
	brief, err := encode(tk.Brief())
	if err != nil {
		return err
	}
	args := []any{text(tk.ID), text(tk.ResidentID), text(tk.AssigneeID), sec(tk.Created), tk.State.Open(), schemaVersion, raw, sec(tk.Updated),
		placeArg(tk), brief}
	// Stored again by the same call before anything was read: one
	// statement with the last values, where the first stood, unless the
	// touched second differs (both touches are kept then).
	if i, ok := t.puts[tk.ID]; ok && i < len(t.pending) && t.err == nil && t.pending[i].args[7].(time.Time).Equal(args[7].(time.Time)) {
		t.pending[i].args = args
		return nil
	}
	if err := t.exec(sqlPutTicket, args...); err != nil {
		return err
	}
	if t.puts == nil {
		t.puts = map[string]int{}
	}
	t.puts[tk.ID] = len(t.pending) - 1
	return nil
}

const sqlPutTicket = `WITH t AS (
			INSERT INTO tickets (id, resident_id, assignee_id, created_sec, open, v, data, place, brief)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $10)
			ON CONFLICT (id) DO UPDATE SET resident_id = EXCLUDED.resident_id, assignee_id = EXCLUDED.assignee_id,
				created_sec = EXCLUDED.created_sec, open = EXCLUDED.open, v = EXCLUDED.v, data = EXCLUDED.data,
				place = EXCLUDED.place, brief = EXCLUDED.brief)
		INSERT INTO ticket_touches (at_sec, ticket_id) VALUES ($8, $1) ON CONFLICT DO NOTHING`

// NextTicketSeq implements flows.Tx.
func (t *tx) NextTicketSeq(day string) (int, error) { return t.next("ticket:" + day) }

// NextSeq implements flows.Tx.
func (t *tx) NextSeq(name string) (int, error) { return t.next("seq:" + name) }

func (t *tx) next(name string) (int, error) {
	key := text(name)
	if c, ok := t.counters[key]; ok {
		if t.err != nil {
			return 0, t.err
		}
		if t.readOnly {
			return 0, errReadOnly
		}
		c.n++
		t.counters[key] = c
		return int(c.n), nil
	}
	if err := t.takeNumbers(); err != nil {
		return 0, err
	}
	var n int64
	if err := t.row(sqlCounterDraw, []any{key}, &n); err != nil {
		return 0, err
	}
	if t.counters == nil {
		t.counters = map[string]counter{}
	}
	t.counters[key] = counter{n: n, stored: n}
	t.drew = true
	return int(n), nil
}

const (
	sqlCounterDraw = `INSERT INTO counters (name, n) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1 RETURNING n`
	sqlCounterSet  = `UPDATE counters SET n = $2 WHERE name = $1`
)

// TicketsByResident implements flows.Tx: newest first, at most limit.
func (t *tx) TicketsByResident(personID string, limit int) ([]*flows.Ticket, error) {
	return listPtr[flows.Ticket](t, "ticket", `SELECT v, data FROM tickets WHERE resident_id = $1
		ORDER BY created_sec DESC, id DESC LIMIT $2`, text(personID), limitArg(limit))
}

// TicketsByAssignee implements flows.Tx: open tickets, oldest first.
func (t *tx) TicketsByAssignee(personID string) ([]*flows.Ticket, error) {
	if personID == "" {
		return nil, nil // unassigned tickets are nobody's
	}
	return listPtr[flows.Ticket](t, "ticket", `SELECT v, data FROM tickets WHERE open AND assignee_id = $1
		ORDER BY created_sec, id`, text(personID))
}

// OpenTickets implements flows.Tx: oldest first.
func (t *tx) OpenTickets() ([]*flows.Ticket, error) {
	return listPtr[flows.Ticket](t, "ticket", `SELECT v, data FROM tickets WHERE open ORDER BY created_sec, id`)
}

// AppendTicketEvent implements flows.Tx: Seq is the ticket's next number,
// assigned by the server and written into the record too.
func (t *tx) AppendTicketEvent(ticketID string, ev flows.TicketEvent) error {
	raw, err := encode(ev)
	if err != nil {
		return err
	}
	return t.exec(`INSERT INTO ticket_events (ticket_id, seq, v, data)
		SELECT $1, n.s, $2, jsonb_set($3::jsonb, '{seq}', to_jsonb(n.s))
		FROM (SELECT coalesce(max(seq), 0) + 1 AS s FROM ticket_events WHERE ticket_id = $1) n`,
		text(ticketID), schemaVersion, raw)
}

// TicketEvents implements flows.Tx: in order.
func (t *tx) TicketEvents(ticketID string) ([]flows.TicketEvent, error) {
	return list[flows.TicketEvent](t, "ticket event", `SELECT v, data FROM ticket_events WHERE ticket_id = $1 ORDER BY seq`, text(ticketID))
}

// Dialogue implements flows.Tx.
func (t *tx) Dialogue(personID string) (*flows.Dialogue, error) {
	var d flows.Dialogue
	if row, ok := t.dialogues[text(personID)]; ok {
		if !row.found {
			return nil, notFound("dialogue", personID)
		}
		if err := decode("dialogue", row.rec.v, row.rec.raw, &d); err != nil {
			return nil, err
		}
		return &d, nil
	}
	if err := t.get("dialogue", sqlDialogue, personID, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (t *tx) knowDialogue(key string, row dialogueRow) {
	if t.dialogues == nil {
		t.dialogues = map[string]dialogueRow{}
	}
	t.dialogues[key] = row
}

// PutDialogue implements flows.Tx.
func (t *tx) PutDialogue(d *flows.Dialogue) error {
	raw, err := encode(d)
	if err != nil {
		return err
	}
	key := text(d.PersonID)
	if err := t.exec(`INSERT INTO dialogues (person_id, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (person_id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, key, schemaVersion, raw); err != nil {
		return err
	}
	t.knowDialogue(key, dialogueRow{found: true, rec: record{v: schemaVersion, raw: raw}})
	return nil
}

// DeleteDialogue implements flows.Tx.
func (t *tx) DeleteDialogue(personID string) error {
	key := text(personID)
	if err := t.exec(`DELETE FROM dialogues WHERE person_id = $1`, key); err != nil {
		return err
	}
	t.knowDialogue(key, dialogueRow{})
	return nil
}

// Invite implements flows.Tx.
func (t *tx) Invite(code string) (*flows.Invite, error) {
	var inv flows.Invite
	if err := t.get("invite", `SELECT v, data FROM invites WHERE code = $1`, code, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// PutInvite implements flows.Tx.
func (t *tx) PutInvite(inv *flows.Invite) error {
	return t.put(`INSERT INTO invites (code, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (code) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, inv, text(inv.Code))
}

// AddComplaint implements flows.Tx.
func (t *tx) AddComplaint(c flows.Complaint) error {
	return t.put(`INSERT INTO complaints (v, data) VALUES ($1, $2)`, c)
}

// Complaints implements flows.Tx: in the order they were made.
func (t *tx) Complaints() ([]flows.Complaint, error) {
	return list[flows.Complaint](t, "complaint", `SELECT v, data FROM complaints ORDER BY seq`)
}

// PutTimer implements flows.Tx: replaces the timer with that key.
func (t *tx) PutTimer(tm flows.Timer) error {
	return t.put(`INSERT INTO timers (key, due, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET due = EXCLUDED.due, v = EXCLUDED.v, data = EXCLUDED.data`,
		tm, text(tm.Key), tm.Due)
}

// DeleteTimer implements flows.Tx; a missing timer is not an error.
func (t *tx) DeleteTimer(key string) error {
	return t.exec(`DELETE FROM timers WHERE key = $1`, text(key))
}

// DueTimers implements flows.Tx: due at or before now, earliest due first
// (ties by key). The column keeps microseconds; the record's exact time
// decides at the edge.
func (t *tx) DueTimers(now time.Time, limit int) ([]flows.Timer, error) {
	var out []flows.Timer
	err := t.records(`SELECT v, data FROM timers WHERE due <= $1 ORDER BY due, key LIMIT $2`,
		[]any{now, limitArg(limit)}, func(v int, raw []byte) error {
			var tm flows.Timer
			if err := decode("timer", v, raw, &tm); err != nil {
				return err
			}
			if !tm.Due.After(now) {
				out = append(out, tm)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// touchedPage is how many tickets EachTicketTouched reads at a time.
const touchedPage = 500

// EachTicketTouched implements flows.Tx. The ids come first, in the order
// of their first change in the range (a month of a large estate is some
// 40,000 short strings); the tickets follow a page at a time, so only a
// page of decoded tickets is held, and fn may use the transaction between
// pages (the connection is free).
func (t *tx) EachTicketTouched(from, to time.Time, fn func(*flows.Ticket) error) error {
	var ids []string
	err := t.rowsOf(`SELECT ticket_id FROM ticket_touches WHERE at_sec >= $1 AND at_sec < $2
		GROUP BY ticket_id ORDER BY min(at_sec), ticket_id`, []any{sec(from), sec(to)}, func(rows pgx.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		page := ids[:min(touchedPage, len(ids))]
		ids = ids[len(page):]
		byID := make(map[string]*flows.Ticket, len(page))
		err := t.records(`SELECT v, data FROM tickets WHERE id = ANY($1)`, []any{page}, func(v int, raw []byte) error {
			tk := new(flows.Ticket)
			if err := decode("ticket", v, raw, tk); err != nil {
				return err
			}
			byID[text(tk.ID)] = tk
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range page {
			tk, ok := byID[id]
			if !ok {
				return notFound("ticket", id)
			}
			if err := fn(tk); err != nil {
				return err
			}
		}
	}
	return nil
}

// Handover implements flows.Tx.
func (t *tx) Handover(day, techID string) (*flows.Handover, error) {
	var h flows.Handover
	var v int
	var raw []byte
	err := t.row(`SELECT v, data FROM handovers WHERE day = $1 AND tech_id = $2`, []any{text(day), text(techID)}, &v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("handover", day+"/"+techID)
	}
	if err != nil {
		return nil, err
	}
	if err := decode("handover", v, raw, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// PutHandover implements flows.Tx.
func (t *tx) PutHandover(h *flows.Handover) error {
	return t.put(`INSERT INTO handovers (day, tech_id, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (day, tech_id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, h, text(h.Day), text(h.TechID))
}

// Handovers implements flows.Tx: the day's, ordered by technician id.
func (t *tx) Handovers(day string) ([]*flows.Handover, error) {
	return listPtr[flows.Handover](t, "handover", `SELECT v, data FROM handovers WHERE day = $1 ORDER BY tech_id`, text(day))
}

// DailyList implements flows.Tx.
func (t *tx) DailyList(day string) (*flows.DailyList, error) {
	var d flows.DailyList
	if err := t.get("daily list", `SELECT v, data FROM daily_lists WHERE day = $1`, day, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDailyList implements flows.Tx.
func (t *tx) PutDailyList(d *flows.DailyList) error {
	return t.put(`INSERT INTO daily_lists (day, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (day) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, d, text(d.Day))
}

// DutyOverrides implements flows.Tx: ordered by person id.
func (t *tx) DutyOverrides() ([]flows.DutyOverride, error) {
	return list[flows.DutyOverride](t, "duty override", `SELECT v, data FROM duty_overrides ORDER BY person_id`)
}

// PutDutyOverride implements flows.Tx (one override per person).
func (t *tx) PutDutyOverride(o flows.DutyOverride) error {
	return t.put(`INSERT INTO duty_overrides (person_id, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (person_id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, o, text(o.PersonID))
}

// SOPVersions implements flows.Tx: oldest first.
func (t *tx) SOPVersions() ([]flows.SOPVersion, error) {
	return list[flows.SOPVersion](t, "SOP version", `SELECT v, data FROM sop_versions ORDER BY number`)
}

// PutSOPVersion implements flows.Tx.
func (t *tx) PutSOPVersion(sv flows.SOPVersion) error {
	return t.put(`INSERT INTO sop_versions (number, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (number) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, sv, sv.Number)
}

// Acks implements flows.Tx: a version's, ordered by person id.
func (t *tx) Acks(version int) ([]flows.Ack, error) {
	return list[flows.Ack](t, "ack", `SELECT v, data FROM sop_acks WHERE version = $1 ORDER BY person_id`, version)
}

// PutAck implements flows.Tx.
func (t *tx) PutAck(a flows.Ack) error {
	return t.put(`INSERT INTO sop_acks (version, person_id, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (version, person_id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, a, a.Version, text(a.PersonID))
}

// Review implements flows.Tx.
func (t *tx) Review(id string) (*flows.Review, error) {
	var r flows.Review
	if err := t.get("review", `SELECT v, data FROM reviews WHERE id = $1`, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutReview implements flows.Tx.
func (t *tx) PutReview(r *flows.Review) error {
	return t.put(`INSERT INTO reviews (id, opened, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET opened = EXCLUDED.opened, v = EXCLUDED.v, data = EXCLUDED.data`, r, text(r.ID), r.Opened)
}

// Reviews implements flows.Tx: newest first (by Opened; ties by id).
func (t *tx) Reviews() ([]*flows.Review, error) {
	return listPtr[flows.Review](t, "review", `SELECT v, data FROM reviews ORDER BY opened DESC, id`)
}

// PendingSuggestions implements flows.Tx: in the order they were made.
func (t *tx) PendingSuggestions() ([]flows.Suggestion, error) {
	return list[flows.Suggestion](t, "suggestion", `SELECT v, data FROM suggestions ORDER BY seq`)
}

// AddPendingSuggestion implements flows.Tx.
func (t *tx) AddPendingSuggestion(s flows.Suggestion) error {
	return t.put(`INSERT INTO suggestions (v, data) VALUES ($1, $2)`, s)
}

// ClearPendingSuggestions implements flows.Tx.
func (t *tx) ClearPendingSuggestions() error { return t.exec(`DELETE FROM suggestions`) }

// Enqueue implements flows.Tx: the rows get increasing ids in the order
// given.
func (t *tx) Enqueue(msgs ...flows.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	now := t.now().UTC()
	for _, m := range msgs {
		raw, err := encode(m)
		if err != nil {
			return err
		}
		if err := t.exec(`INSERT INTO outbox (chat, prio, created, v, msg) VALUES ($1, $2, $3, $4, $5)`,
			text(m.To.String()), int(m.Priority), now, schemaVersion, raw); err != nil {
			return err
		}
	}
	t.enqueued = true
	return nil
}

// AreaEdits implements flows.Tx: by area key.
func (t *tx) AreaEdits() ([]*flows.AreaEdit, error) {
	return list[*flows.AreaEdit](t, "area edit", `SELECT v, data FROM area_edits ORDER BY area`)
}

// PutAreaEdit implements flows.Tx (one row per area).
func (t *tx) PutAreaEdit(e *flows.AreaEdit) error {
	return t.put(`INSERT INTO area_edits (area, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (area) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, e, text(e.Area))
}
