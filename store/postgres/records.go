package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repairbot/repairbot/flows"
)

// The records areas (0003_records): the KPI walk (StatsTx), the tickets
// of a place (RepeatsTx), the QC reviews (QCTx) and the phone-callback
// list (CallbacksTx).

// placeArg is a ticket's place column: NULL when it names no place.
func placeArg(tk *flows.Ticket) any {
	if p := flows.PlaceKey(tk); p != "" {
		return text(p)
	}
	return nil
}

// EachTicketReported implements flows.StatsTx: the briefs of the tickets
// reported in [from, to), by exact Created then id. The briefs are read
// from their column (a ticket written before it existed is decoded
// whole); with trails, each ticket's events are read and folded
// (flows.FoldTrail), a hundred tickets a query.
func (t *tx) EachTicketReported(from, to time.Time, trails bool, fn func(flows.TicketBrief) error) error {
	if !from.Before(to) {
		return nil
	}
	var briefs []flows.TicketBrief
	err := t.rowsOf(`SELECT v, brief, CASE WHEN brief IS NULL THEN data END FROM tickets
		WHERE created_sec >= $1 AND created_sec <= $2 ORDER BY created_sec, id`, []any{sec(from), sec(to)},
		func(rows pgx.Rows) error {
			var v int
			var brief, data []byte
			if err := rows.Scan(&v, &brief, &data); err != nil {
				return err
			}
			var b flows.TicketBrief
			if brief != nil {
				if err := json.Unmarshal(brief, &b); err != nil {
					return fmt.Errorf("store/postgres: corrupt ticket brief: %w", err)
				}
			} else {
				var tk flows.Ticket
				if err := decode("ticket", v, data, &tk); err != nil {
					return err
				}
				b = tk.Brief()
			}
			if !b.Created.Before(from) && b.Created.Before(to) {
				briefs = append(briefs, b)
			}
			return nil
		})
	if err != nil {
		return err
	}
	sort.SliceStable(briefs, func(i, j int) bool {
		if !briefs[i].Created.Equal(briefs[j].Created) {
			return briefs[i].Created.Before(briefs[j].Created)
		}
		return briefs[i].ID < briefs[j].ID
	})
	const chunk = 100
	for i := 0; i < len(briefs); i += chunk {
		part := briefs[i:min(i+chunk, len(briefs))]
		if trails {
			if err := t.foldTrails(part); err != nil {
				return err
			}
		}
		for _, b := range part {
			if err := fn(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// foldTrails sets the Trail of each brief from its ticket's events (nil
// for a ticket without any).
func (t *tx) foldTrails(briefs []flows.TicketBrief) error {
	ids := make([]string, len(briefs))
	for i, b := range briefs {
		ids[i] = text(b.ID)
	}
	events := map[string][]flows.TicketEvent{}
	err := t.rowsOf(`SELECT ticket_id, v, data FROM ticket_events WHERE ticket_id = ANY($1) ORDER BY ticket_id, seq`,
		[]any{ids}, func(rows pgx.Rows) error {
			var id string
			var v int
			var raw []byte
			if err := rows.Scan(&id, &v, &raw); err != nil {
				return err
			}
			var ev flows.TicketEvent
			if err := decode("ticket event", v, raw, &ev); err != nil {
				return err
			}
			events[id] = append(events[id], ev)
			return nil
		})
	if err != nil {
		return err
	}
	for i := range briefs {
		if evs := events[text(briefs[i].ID)]; len(evs) > 0 {
			briefs[i].Trail = flows.FoldTrail(evs)
		}
	}
	return nil
}

// TicketsAtPlace implements flows.RepeatsTx: newest Created (to the
// second) first, then by id descending, as bbolt's place index reads.
func (t *tx) TicketsAtPlace(place string, limit int) ([]*flows.Ticket, error) {
	if place == "" {
		return nil, nil
	}
	return listPtr[flows.Ticket](t, "ticket", `SELECT v, data FROM tickets WHERE place = $1
		ORDER BY created_sec DESC, id DESC LIMIT $2`, text(place), limitArg(limit))
}

// QCReview implements flows.QCTx.
func (t *tx) QCReview(ticketID string) (*flows.QCReview, error) {
	var r flows.QCReview
	if err := t.get("qc review", `SELECT v, data FROM qc_reviews WHERE ticket_id = $1`, ticketID, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutQCReview implements flows.QCTx; open (not done) is a column.
func (t *tx) PutQCReview(r *flows.QCReview) error {
	return t.put(`INSERT INTO qc_reviews (ticket_id, created_sec, open, v, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (ticket_id) DO UPDATE SET created_sec = EXCLUDED.created_sec, open = EXCLUDED.open, v = EXCLUDED.v, data = EXCLUDED.data`,
		r, text(r.Ticket), sec(r.Created), r.Status != "done")
}

// OpenQCReviews implements flows.QCTx: oldest Created (to the second)
// first, then by ticket.
func (t *tx) OpenQCReviews() ([]*flows.QCReview, error) {
	return listPtr[flows.QCReview](t, "qc review", `SELECT v, data FROM qc_reviews WHERE open ORDER BY created_sec, ticket_id`)
}

// AddPhoneCallback implements flows.CallbacksTx: one line per ticket.
func (t *tx) AddPhoneCallback(c flows.PhoneCallback) error {
	return t.put(`INSERT INTO phone_callbacks (ticket_id, since_sec, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ticket_id) DO UPDATE SET since_sec = EXCLUDED.since_sec, v = EXCLUDED.v, data = EXCLUDED.data`,
		c, text(c.TicketID), sec(c.Since))
}

// RemovePhoneCallback implements flows.CallbacksTx.
func (t *tx) RemovePhoneCallback(ticketID string) error {
	return t.exec(`DELETE FROM phone_callbacks WHERE ticket_id = $1`, text(ticketID))
}

// PhoneCallbacks implements flows.CallbacksTx: oldest Since (to the
// second) first, then by ticket.
func (t *tx) PhoneCallbacks() ([]flows.PhoneCallback, error) {
	return list[flows.PhoneCallback](t, "phone callback", `SELECT v, data FROM phone_callbacks ORDER BY since_sec, ticket_id`)
}

// fillBriefs writes the brief and place columns of the tickets stored
// before they existed (0003_records), a thousand a transaction; a
// database without such tickets costs one index probe.
func fillBriefs(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, v, data FROM tickets WHERE brief IS NULL ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED`)
			if err != nil {
				return err
			}
			type fill struct {
				id    string
				brief []byte
				place any
			}
			var fills []fill
			for rows.Next() {
				var id string
				var v int
				var raw []byte
				if err := rows.Scan(&id, &v, &raw); err != nil {
					rows.Close()
					return err
				}
				var tk flows.Ticket
				if err := decode("ticket", v, raw, &tk); err != nil {
					rows.Close()
					return err
				}
				brief, err := encode(tk.Brief())
				if err != nil {
					rows.Close()
					return err
				}
				fills = append(fills, fill{id, brief, placeArg(&tk)})
			}
			if err := rows.Err(); err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, f := range fills {
				b.Queue(`UPDATE tickets SET brief = $2, place = $3 WHERE id = $1`, f.id, f.brief, f.place)
			}
			n = len(fills)
			return tx.SendBatch(ctx, b).Close()
		})
		if err != nil {
			return fmt.Errorf("store/postgres: fill the ticket briefs: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}
