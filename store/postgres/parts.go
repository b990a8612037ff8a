package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store/storekit"
)

// Spare parts (flows.PartsTx). The ledger (stock_moves) is append-only:
// seq is the move's Seq, and its indexes (part, ticket, idempotency key,
// the move it reverses) are columns with their own indexes. stock_levels
// is its projection, written in the same transaction as each move; the
// checks a move passes and the levels it makes are storekit's, shared with
// the bbolt store.

var _ flows.PartsTx = (*tx)(nil)

// Part implements flows.PartsTx.
func (t *tx) Part(code string) (*flows.Part, error) {
	var p flows.Part
	if err := t.get("part", `SELECT v, data FROM parts WHERE code = $1`, code, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPart implements flows.PartsTx.
func (t *tx) PutPart(p *flows.Part) error {
	if p.Code == "" {
		return errors.New("store: part without a code")
	}
	return t.put(`INSERT INTO parts (code, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (code) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, p, text(p.Code))
}

// EachPart implements flows.PartsTx: in code order.
func (t *tx) EachPart(fn func(*flows.Part) error) error {
	return t.records(`SELECT v, data FROM parts ORDER BY code`, nil, func(v int, raw []byte) error {
		var p flows.Part
		if err := decode("part", v, raw, &p); err != nil {
			return err
		}
		return fn(&p)
	})
}

// FindParts implements flows.PartsTx (storekit.FindParts).
func (t *tx) FindParts(query string, limit int) ([]*flows.Part, error) {
	return storekit.FindParts(query, limit, t.EachPart)
}

// StockLocation implements flows.PartsTx.
func (t *tx) StockLocation(id string) (*flows.StockLocation, error) {
	var l flows.StockLocation
	if err := t.get("store", `SELECT v, data FROM stock_locations WHERE id = $1`, id, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// PutStockLocation implements flows.PartsTx.
func (t *tx) PutStockLocation(l *flows.StockLocation) error {
	return t.put(`INSERT INTO stock_locations (id, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, l, text(l.ID))
}

// StockLocations implements flows.PartsTx: by id.
func (t *tx) StockLocations() ([]*flows.StockLocation, error) {
	return listPtr[flows.StockLocation](t, "store", `SELECT v, data FROM stock_locations ORDER BY id`)
}

// AppendStockMove implements flows.PartsTx. What the ledger says of the
// move (its last move, whether the key or the reversal was posted
// already) is one round trip; concurrent posts conflict under
// SERIALIZABLE and run again, so Seq has neither gaps nor duplicates.
func (t *tx) AppendStockMove(m flows.StockMove) (flows.StockMove, error) {
	var p storekit.Posted
	var lastSeq *int64
	var lastV *int
	var lastRaw []byte
	var key, reverses any
	if m.Key != "" {
		key = text(m.Key)
	}
	if m.Reverses != 0 {
		reverses = int64(m.Reverses)
	}
	err := t.row(`SELECT l.seq, l.v, l.data, EXISTS (SELECT 1 FROM stock_moves WHERE key = $1),
			EXISTS (SELECT 1 FROM stock_moves WHERE reverses = $2)
		FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT seq, v, data FROM stock_moves ORDER BY seq DESC LIMIT 1) l ON true`,
		[]any{key, reverses}, &lastSeq, &lastV, &lastRaw, &p.KeyTaken, &p.Reversed)
	if err != nil {
		return m, err
	}
	next := uint64(1)
	if lastSeq != nil {
		p.Last = new(flows.StockMove)
		if err := decode("stock move", *lastV, lastRaw, p.Last); err != nil {
			return m, err
		}
		next = uint64(*lastSeq) + 1
	}
	m, levels, err := storekit.PrepareStockMove(m, p, t.StockLevel)
	if err != nil {
		return m, err
	}
	m.Seq = next
	var ticket any
	if tk, ok := m.Ticket(); ok {
		ticket = text(tk)
	}
	if err := t.put(`INSERT INTO stock_moves (seq, posted_at, part, ticket, key, reverses, v, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		m, int64(m.Seq), m.PostedAt, text(m.Part), ticket, key, reverses); err != nil {
		return m, err
	}
	for _, l := range levels {
		if err := t.putLevel(l); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (t *tx) putLevel(l flows.StockLevel) error {
	if storekit.EmptyLevel(l) {
		return t.exec(`DELETE FROM stock_levels WHERE location = $1 AND part = $2`, text(l.Location), text(l.Part))
	}
	return t.put(`INSERT INTO stock_levels (location, part, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (location, part) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, l, text(l.Location), text(l.Part))
}

// StockMove implements flows.PartsTx.
func (t *tx) StockMove(seq uint64) (*flows.StockMove, error) {
	var m flows.StockMove
	var v int
	var raw []byte
	err := t.row(`SELECT v, data FROM stock_moves WHERE seq = $1`, []any{int64(seq)}, &v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("stock move", fmt.Sprint(seq))
	}
	if err != nil {
		return nil, err
	}
	return &m, decode("stock move", v, raw, &m)
}

// StockMoveByKey implements flows.PartsTx.
func (t *tx) StockMoveByKey(key string) (*flows.StockMove, error) {
	var m flows.StockMove
	if err := t.get("stock move key", `SELECT v, data FROM stock_moves WHERE key = $1`, key, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// StockMoveReversal implements flows.PartsTx: 0 when never reversed.
func (t *tx) StockMoveReversal(seq uint64) (uint64, error) {
	var by int64
	err := t.row(`SELECT seq FROM stock_moves WHERE reverses = $1`, []any{int64(seq)}, &by)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return uint64(by), err
}

// movesPage is how many moves a ledger walk reads at a time: a walk holds
// a page of moves, not the ledger, and fn may use the transaction between
// pages.
const movesPage = 1000

// eachMove walks the moves matching where (a condition on $2...) in seq
// order after after, a page at a time.
func (t *tx) eachMove(after uint64, where string, args []any, fn func(*flows.StockMove) error) error {
	cursor := int64(after)
	for {
		var page []flows.StockMove
		err := t.records(`SELECT v, data FROM stock_moves WHERE seq > $1`+where+` ORDER BY seq LIMIT `+fmt.Sprint(movesPage),
			append([]any{cursor}, args...), func(v int, raw []byte) error {
				var m flows.StockMove
				if err := decode("stock move", v, raw, &m); err != nil {
					return err
				}
				page = append(page, m)
				return nil
			})
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < movesPage {
			return nil
		}
		cursor = int64(page[len(page)-1].Seq)
	}
}

// EachStockMove implements flows.PartsTx.
func (t *tx) EachStockMove(after uint64, fn func(*flows.StockMove) error) error {
	return t.eachMove(after, "", nil, fn)
}

// EachStockMoveBetween implements flows.PartsTx: posted in [from, to), a
// zero to meaning no end. Posting times never decrease along seq, so the
// range is read in seq order.
func (t *tx) EachStockMoveBetween(from, to time.Time, fn func(*flows.StockMove) error) error {
	if to.IsZero() {
		return t.eachMove(0, ` AND posted_at >= $2`, []any{from}, fn)
	}
	return t.eachMove(0, ` AND posted_at >= $2 AND posted_at < $3`, []any{from, to}, fn)
}

// EachStockMoveOfPart implements flows.PartsTx.
func (t *tx) EachStockMoveOfPart(code string, fn func(*flows.StockMove) error) error {
	return t.eachMove(0, ` AND part = $2`, []any{text(code)}, fn)
}

// StockMovesOfTicket implements flows.PartsTx.
func (t *tx) StockMovesOfTicket(ticketID string) ([]flows.StockMove, error) {
	return list[flows.StockMove](t, "stock move", `SELECT v, data FROM stock_moves WHERE ticket = $1 ORDER BY seq`, text(ticketID))
}

// StockLevel implements flows.PartsTx: a zero level when there is none.
func (t *tx) StockLevel(part, loc string) (flows.StockLevel, error) {
	l := flows.StockLevel{Part: part, Location: loc}
	var v int
	var raw []byte
	err := t.row(`SELECT v, data FROM stock_levels WHERE location = $1 AND part = $2`, []any{text(loc), text(part)}, &v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return l, err
	}
	return l, decode("stock level", v, raw, &l)
}

// StockLevels implements flows.PartsTx: one location's, by part.
func (t *tx) StockLevels(loc string) ([]flows.StockLevel, error) {
	return list[flows.StockLevel](t, "stock level", `SELECT v, data FROM stock_levels WHERE location = $1 ORDER BY part`, text(loc))
}

// EachStockLevel implements flows.PartsTx: by location, then part.
func (t *tx) EachStockLevel(fn func(flows.StockLevel) error) error {
	return t.records(`SELECT v, data FROM stock_levels ORDER BY location, part`, nil, func(v int, raw []byte) error {
		var l flows.StockLevel
		if err := decode("stock level", v, raw, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// ReplaceStockLevels implements flows.PartsTx.
func (t *tx) ReplaceStockLevels(levels []flows.StockLevel) error {
	if err := t.exec(`DELETE FROM stock_levels`); err != nil {
		return err
	}
	for _, l := range levels {
		if err := t.putLevel(l); err != nil {
			return err
		}
	}
	return nil
}

// PurchaseRequest implements flows.PartsTx.
func (t *tx) PurchaseRequest(id string) (*flows.PurchaseRequest, error) {
	var r flows.PurchaseRequest
	if err := t.get("purchase request", `SELECT v, data FROM purchase_requests WHERE id = $1`, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutPurchaseRequest implements flows.PartsTx; the open index is a column.
func (t *tx) PutPurchaseRequest(r *flows.PurchaseRequest) error {
	return t.put(`INSERT INTO purchase_requests (id, requested_sec, open, v, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET requested_sec = EXCLUDED.requested_sec, open = EXCLUDED.open, v = EXCLUDED.v, data = EXCLUDED.data`,
		r, text(r.ID), sec(r.Requested), storekit.PurchaseOpen(r))
}

// OpenPurchaseRequests implements flows.PartsTx: oldest first.
func (t *tx) OpenPurchaseRequests() ([]*flows.PurchaseRequest, error) {
	return listPtr[flows.PurchaseRequest](t, "purchase request",
		`SELECT v, data FROM purchase_requests WHERE open ORDER BY requested_sec, id`)
}

// ScrapRequest implements flows.PartsTx.
func (t *tx) ScrapRequest(id string) (*flows.ScrapRequest, error) {
	var r flows.ScrapRequest
	if err := t.get("scrap request", `SELECT v, data FROM scrap_requests WHERE id = $1`, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutScrapRequest implements flows.PartsTx.
func (t *tx) PutScrapRequest(r *flows.ScrapRequest) error {
	return t.put(`INSERT INTO scrap_requests (id, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, r, text(r.ID))
}

// Stocktake implements flows.PartsTx.
func (t *tx) Stocktake(id string) (*flows.Stocktake, error) {
	var s flows.Stocktake
	if err := t.get("stocktake", `SELECT v, data FROM stocktakes WHERE id = $1`, id, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutStocktake implements flows.PartsTx.
func (t *tx) PutStocktake(s *flows.Stocktake) error {
	return t.put(`INSERT INTO stocktakes (id, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, s, text(s.ID))
}

// LowStockAlert implements flows.PartsTx.
func (t *tx) LowStockAlert(part, store string) (*flows.LowStockAlert, error) {
	var a flows.LowStockAlert
	var v int
	var raw []byte
	err := t.row(`SELECT v, data FROM low_stock_alerts WHERE part = $1 AND store = $2`, []any{text(part), text(store)}, &v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("low-stock alert", part+"/"+store)
	}
	if err != nil {
		return nil, err
	}
	return &a, decode("low-stock alert", v, raw, &a)
}

// PutLowStockAlert implements flows.PartsTx.
func (t *tx) PutLowStockAlert(a flows.LowStockAlert) error {
	return t.put(`INSERT INTO low_stock_alerts (part, store, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (part, store) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, a, text(a.Part), text(a.Store))
}

// DeleteLowStockAlert implements flows.PartsTx.
func (t *tx) DeleteLowStockAlert(part, store string) error {
	return t.exec(`DELETE FROM low_stock_alerts WHERE part = $1 AND store = $2`, text(part), text(store))
}

// LowStockAlerts implements flows.PartsTx: by part, then store.
func (t *tx) LowStockAlerts() ([]flows.LowStockAlert, error) {
	return list[flows.LowStockAlert](t, "low-stock alert", `SELECT v, data FROM low_stock_alerts ORDER BY part, store`)
}
