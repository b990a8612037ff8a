package postgres

import (
	"context"
	"fmt"
	"sort"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store/storekit"
)

// Import and ImportCounts are the receiving end of a copy of another
// store (repairbot migrate-store). Every record is written under its own
// key with an upsert, and the records that the engine numbers as it
// appends them (audit trails, outbox rows, complaints, suggestions, stock
// moves) keep their numbers: importing the same records twice leaves one
// copy of each. A counter never goes back: a database that has gone on
// numbering tickets keeps its numbers.

// Import writes recs in one transaction.
func (s *Store) Import(ctx context.Context, recs []storekit.Export) error {
	return s.Update(ctx, func(ft flows.Tx) error {
		t := ft.(*tx)
		for _, r := range recs {
			if err := t.importOne(r); err != nil {
				return fmt.Errorf("store/postgres: import %s: %w", r.Area, err)
			}
		}
		return nil
	})
}

func (t *tx) importOne(r storekit.Export) error {
	switch v := r.Value.(type) {
	case storekit.Cursor:
		return t.SetCursor(v.Name, v.Value)
	case storekit.Seen:
		return t.MarkSeen(v.Key, v.At)
	case *flows.Person:
		return t.PutPerson(v)
	case *flows.Ticket:
		return t.PutTicket(v)
	case storekit.Touch:
		return t.exec(`INSERT INTO ticket_touches (at_sec, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			sec(v.At), text(v.TicketID))
	case storekit.TicketEvent:
		return t.put(`INSERT INTO ticket_events (ticket_id, seq, v, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (ticket_id, seq) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`,
			v.Event, text(v.TicketID), v.Event.Seq)
	case storekit.Counter:
		return t.exec(`INSERT INTO counters (name, n) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET n = GREATEST(counters.n, EXCLUDED.n)`, text(v.Name), v.N)
	case *flows.Dialogue:
		return t.PutDialogue(v)
	case *flows.Invite:
		return t.PutInvite(v)
	case storekit.Complaint:
		return t.put(`INSERT INTO complaints (seq, v, data) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)
			ON CONFLICT (seq) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, v.Complaint, int64(v.Seq))
	case flows.Timer:
		return t.PutTimer(v)
	case *flows.Handover:
		return t.PutHandover(v)
	case *flows.DailyList:
		return t.PutDailyList(v)
	case flows.DutyOverride:
		return t.PutDutyOverride(v)
	case flows.SOPVersion:
		return t.PutSOPVersion(v)
	case flows.Ack:
		return t.PutAck(v)
	case *flows.Review:
		return t.PutReview(v)
	case storekit.Suggestion:
		return t.put(`INSERT INTO suggestions (seq, v, data) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)
			ON CONFLICT (seq) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, v.Suggestion, int64(v.Seq))
	case outbox.Row:
		return t.importRow(v)
	case storekit.Card:
		return t.put(`INSERT INTO cards (card_key, v, data) VALUES ($1, $2, $3)
			ON CONFLICT (card_key) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, v.Ref, text(v.Key))
	case *flows.FeeQuestion:
		return t.PutFeeQuestion(v)
	case *flows.Roster:
		return t.PutRoster(v)
	case *flows.ConsoleLink:
		return t.PutConsoleLink(v)
	case *flows.ConsoleSession:
		return t.PutConsoleSession(v)
	case flows.Skill:
		return t.PutSkill(v)
	case *flows.Certificate:
		return t.PutCert(v)
	case storekit.CertReminder:
		return t.MarkCertReminder(v.CertID, v.Mark, v.At)
	case *flows.Session:
		return t.PutSession(v)
	case flows.PersonEvent:
		return t.put(`INSERT INTO person_events (person_id, seq, v, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (person_id, seq) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`,
			v, text(v.PersonID), v.Seq)
	case *flows.Part:
		return t.PutPart(v)
	case *flows.StockLocation:
		return t.PutStockLocation(v)
	case flows.StockMove:
		return t.importMove(v)
	case flows.StockLevel:
		return t.putLevel(v)
	case *flows.PurchaseRequest:
		return t.PutPurchaseRequest(v)
	case *flows.ScrapRequest:
		return t.PutScrapRequest(v)
	case *flows.Stocktake:
		return t.PutStocktake(v)
	case flows.LowStockAlert:
		return t.PutLowStockAlert(v)
	case *flows.QCReview:
		return t.PutQCReview(v)
	case flows.PhoneCallback:
		return t.AddPhoneCallback(v)
	case *flows.AreaEdit:
		return t.PutAreaEdit(v)
	}
	return fmt.Errorf("no import for %T", r.Value)
}

// importRow writes an outbox row under its id with its delivery record,
// unclaimed.
func (t *tx) importRow(r outbox.Row) error {
	var done any
	if r.Done != nil {
		done = *r.Done
	}
	return t.put(`INSERT INTO outbox (id, chat, prio, created, status, attempts, next_attempt, last_error, done,
			platform_id, requeued, v, msg) OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id) DO UPDATE SET chat = EXCLUDED.chat, prio = EXCLUDED.prio, created = EXCLUDED.created,
			status = EXCLUDED.status, attempts = EXCLUDED.attempts, next_attempt = EXCLUDED.next_attempt,
			last_error = EXCLUDED.last_error, done = EXCLUDED.done, platform_id = EXCLUDED.platform_id,
			requeued = EXCLUDED.requeued, v = EXCLUDED.v, msg = EXCLUDED.msg`,
		r.Msg, int64(r.ID), text(r.Msg.To.String()), int(r.Msg.Priority), r.Created, r.Status, r.Attempts,
		nullTime(r.NextAttempt), text(r.LastError), done, text(r.PlatformID), nullTime(r.Requeued))
}

// importMove writes a ledger entry under its number, with the columns of
// its indexes; the levels are copied as they are, not recomputed.
func (t *tx) importMove(m flows.StockMove) error {
	var ticket, key, reverses any
	if tk, ok := m.Ticket(); ok {
		ticket = text(tk)
	}
	if m.Key != "" {
		key = text(m.Key)
	}
	if m.Reverses != 0 {
		reverses = int64(m.Reverses)
	}
	return t.put(`INSERT INTO stock_moves (seq, posted_at, part, ticket, key, reverses, v, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (seq) DO UPDATE SET posted_at = EXCLUDED.posted_at, part = EXCLUDED.part, ticket = EXCLUDED.ticket,
			key = EXCLUDED.key, reverses = EXCLUDED.reverses, v = EXCLUDED.v, data = EXCLUDED.data`,
		m, int64(m.Seq), m.PostedAt, text(m.Part), ticket, key, reverses)
}

// identities are the tables whose numbers the database hands out; after
// an import each continues after the largest number imported.
var identities = []struct{ table, column string }{{"outbox", "id"}, {"complaints", "seq"}, {"suggestions", "seq"}}

// FinishImport moves the database's own numbering past what Import wrote:
// the next outbox row, complaint and suggestion get a number larger than
// every imported one.
func (s *Store) FinishImport(ctx context.Context) error {
	for _, id := range identities {
		var seq string
		var last *int64
		err := s.pool.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, $2), (SELECT max(`+id.column+`) FROM `+id.table+`)`,
			id.table, id.column).Scan(&seq, &last)
		if err == nil && last != nil {
			// Never back: numbers the database handed out since stay used.
			_, err = s.pool.Exec(ctx, `SELECT setval($1::regclass, GREATEST($2, (SELECT last_value FROM `+seq+`)))`, seq, *last)
		}
		if err != nil {
			return fmt.Errorf("store/postgres: continue %s numbering: %w", id.table, err)
		}
	}
	return nil
}

// ImportCounts counts the rows of every area Import writes (the tables
// are named for the areas), for comparing with what was exported.
func (s *Store) ImportCounts(ctx context.Context) (map[string]int, error) {
	areas := storekit.Areas()
	sort.Strings(areas)
	out := make(map[string]int, len(areas))
	for _, a := range areas {
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+a).Scan(&n); err != nil {
			return nil, fmt.Errorf("store/postgres: count %s: %w", a, err)
		}
		out[a] = n
	}
	return out, nil
}
