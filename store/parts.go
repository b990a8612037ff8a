package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
)

// Spare-parts buckets. parts.moves is the ledger: append-only, keyed by the
// big-endian move sequence, never rewritten. parts.levels is its
// projection, written in the same transaction as each move (flows.ApplyStockMove)
// and rebuildable from it (flows.RebuildStockLevels).
var (
	bParts              = []byte("parts.items")         // code → Part
	bPartsLocations     = []byte("parts.locations")     // store id → StockLocation
	bPartsMoves         = []byte("parts.moves")         // u64 seq → StockMove (append-only)
	bPartsMovesByPart   = []byte("parts.moves.by_part") // code \0 u64 seq → nil
	bPartsMovesByTicket = []byte("parts.moves.by_ticket")
	bPartsMovesByKey    = []byte("parts.moves.by_key")   // idempotency key → u64 seq
	bPartsMovesReversed = []byte("parts.moves.reversed") // u64 seq → u64 seq of its reversal
	bPartsLevels        = []byte("parts.levels")         // location \0 code → StockLevel
	bPartsPurchases     = []byte("parts.purchases")      // PR-n → PurchaseRequest
	bPartsPurchasesOpen = []byte("parts.purchases.open") // requested time \0 id → nil, while open
	bPartsScraps        = []byte("parts.scraps")
	bPartsStocktakes    = []byte("parts.stocktakes")
	bPartsLow           = []byte("parts.low") // code \0 store → LowStockAlert, while open
)

var _ flows.PartsTx = (*tx)(nil)

func seqKey(prefix string, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+9)
	k = append(k, prefix...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// Part implements flows.PartsTx.
func (t *tx) Part(code string) (*flows.Part, error) {
	var p flows.Part
	if err := t.get(bParts, code, "part", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPart implements flows.PartsTx.
func (t *tx) PutPart(p *flows.Part) error {
	if p.Code == "" {
		return errors.New("store: part without a code")
	}
	return t.put(bParts, []byte(p.Code), p)
}

// EachPart implements flows.PartsTx.
func (t *tx) EachPart(fn func(*flows.Part) error) error {
	return t.bk(bParts).ForEach(func(_, v []byte) error {
		var p flows.Part
		if err := decode(v, &p); err != nil {
			return err
		}
		return fn(&p)
	})
}

// FindParts implements flows.PartsTx: the exact code, then codes starting
// with the query, then names and specifications containing it. A catalog
// of a few thousand items is scanned in milliseconds.
func (t *tx) FindParts(query string, limit int) ([]*flows.Part, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, nil
	}
	code, lower := flows.NormalizePartCode(q), strings.ToLower(q)
	var out []*flows.Part
	seen := map[string]bool{}
	full := func() bool { return limit > 0 && len(out) >= limit }
	add := func(p *flows.Part) {
		if !seen[p.Code] && !full() {
			seen[p.Code] = true
			out = append(out, p)
		}
	}
	if p, err := t.Part(code); err == nil {
		add(p)
	} else if !errors.Is(err, flows.ErrNotFound) {
		return nil, err
	}
	c := t.bk(bParts).Cursor()
	for k, v := c.Seek([]byte(code)); k != nil && bytes.HasPrefix(k, []byte(code)) && !full(); k, v = c.Next() {
		var p flows.Part
		if err := decode(v, &p); err != nil {
			return nil, err
		}
		add(&p)
	}
	errFull := errors.New("full")
	err := t.EachPart(func(p *flows.Part) error {
		if full() {
			return errFull
		}
		if strings.Contains(strings.ToLower(p.Name), lower) || strings.Contains(strings.ToLower(p.Spec), lower) {
			add(p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, err
	}
	return out, nil
}

// StockLocation implements flows.PartsTx.
func (t *tx) StockLocation(id string) (*flows.StockLocation, error) {
	var l flows.StockLocation
	if err := t.get(bPartsLocations, id, "store", &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// PutStockLocation implements flows.PartsTx.
func (t *tx) PutStockLocation(l *flows.StockLocation) error {
	return t.put(bPartsLocations, []byte(l.ID), l)
}

// StockLocations implements flows.PartsTx.
func (t *tx) StockLocations() ([]*flows.StockLocation, error) {
	ls, err := decodeAll[flows.StockLocation](t.bk(bPartsLocations), nil)
	return ptrs(ls), err
}

// AppendStockMove implements flows.PartsTx.
func (t *tx) AppendStockMove(m flows.StockMove) (flows.StockMove, error) {
	if m.Part == "" || m.Kind == "" {
		return m, errors.New("store: stock move without a part or a kind")
	}
	moves := t.bk(bPartsMoves)
	if k, v := moves.Cursor().Last(); k != nil {
		var last flows.StockMove
		if err := decode(v, &last); err != nil {
			return m, err
		}
		if m.PostedAt.Before(last.PostedAt) {
			m.PostedAt = last.PostedAt
		}
	}
	byKey := t.bk(bPartsMovesByKey)
	if m.Key != "" && byKey.Get([]byte(m.Key)) != nil {
		return m, fmt.Errorf("store: stock move key %q was posted already", m.Key)
	}
	reversed := t.bk(bPartsMovesReversed)
	if m.Reverses != 0 && reversed.Get(u64(m.Reverses)) != nil {
		return m, fmt.Errorf("store: stock move %d was reversed already", m.Reverses)
	}
	levels, err := flows.ApplyStockMove(t.StockLevel, m)
	if err != nil {
		return m, err
	}
	seq, err := moves.NextSequence()
	if err != nil {
		return m, err
	}
	m.Seq = seq
	raw, err := encode(m)
	if err != nil {
		return m, err
	}
	if err := moves.Put(u64(seq), raw); err != nil {
		return m, err
	}
	if err := t.bk(bPartsMovesByPart).Put(seqKey(m.Part, seq), nil); err != nil {
		return m, err
	}
	if ticket, ok := m.Ticket(); ok {
		if err := t.bk(bPartsMovesByTicket).Put(seqKey(ticket, seq), nil); err != nil {
			return m, err
		}
	}
	if m.Key != "" {
		if err := byKey.Put([]byte(m.Key), u64(seq)); err != nil {
			return m, err
		}
	}
	if m.Reverses != 0 {
		if err := reversed.Put(u64(m.Reverses), u64(seq)); err != nil {
			return m, err
		}
	}
	for _, l := range levels {
		if err := t.putLevel(l); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (t *tx) putLevel(l flows.StockLevel) error {
	k := key(l.Location, l.Part)
	if l.Qty == 0 && l.Value == 0 {
		return t.bk(bPartsLevels).Delete(k) // an empty level is no level
	}
	return t.put(bPartsLevels, k, l)
}

// StockMove implements flows.PartsTx.
func (t *tx) StockMove(seq uint64) (*flows.StockMove, error) {
	raw := t.bk(bPartsMoves).Get(u64(seq))
	if raw == nil {
		return nil, notFound("stock move", fmt.Sprint(seq))
	}
	var m flows.StockMove
	return &m, decode(raw, &m)
}

// StockMoveByKey implements flows.PartsTx.
func (t *tx) StockMoveByKey(k string) (*flows.StockMove, error) {
	v := t.bk(bPartsMovesByKey).Get([]byte(k))
	if len(v) != 8 {
		return nil, notFound("stock move key", k)
	}
	return t.StockMove(binary.BigEndian.Uint64(v))
}

// StockMoveReversal implements flows.PartsTx.
func (t *tx) StockMoveReversal(seq uint64) (uint64, error) {
	v := t.bk(bPartsMovesReversed).Get(u64(seq))
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// EachStockMove implements flows.PartsTx. It hands the pages it mapped back
// as it goes (see release), so replaying a long ledger does not keep it
// resident.
func (t *tx) EachStockMove(after uint64, fn func(*flows.StockMove) error) error {
	return t.eachMoveFrom(t.bk(bPartsMoves).Cursor(), u64(after+1), time.Time{}, fn)
}

func (t *tx) eachMoveFrom(c *bolt.Cursor, start []byte, to time.Time, fn func(*flows.StockMove) error) error {
	n := 0
	defer func() {
		if n >= releaseEvery {
			release(t.b)
		}
	}()
	for k, v := c.Seek(start); k != nil; k, v = c.Next() {
		var m flows.StockMove
		if err := decode(v, &m); err != nil {
			return err
		}
		if !to.IsZero() && !m.PostedAt.Before(to) {
			return nil
		}
		if n++; n%releaseEvery == 0 {
			release(t.b)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	return nil
}

// EachStockMoveBetween implements flows.PartsTx. Posting times never
// decrease along the sequence (AppendStockMove), so the first move of the
// range is found by bisecting the sequence, and the range is then read in
// key order from the ledger itself: no time index to keep.
func (t *tx) EachStockMoveBetween(from, to time.Time, fn func(*flows.StockMove) error) error {
	c := t.bk(bPartsMoves).Cursor()
	first, _ := c.First()
	last, _ := c.Last()
	if first == nil {
		return nil
	}
	lo, hi := binary.BigEndian.Uint64(first), binary.BigEndian.Uint64(last)+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		k, v := c.Seek(u64(mid))
		var m flows.StockMove
		if err := decode(v, &m); err != nil {
			return err
		}
		if m.PostedAt.Before(from) {
			lo = binary.BigEndian.Uint64(k) + 1
		} else {
			hi = mid
		}
	}
	if to.IsZero() {
		to = time.Unix(1<<40, 0)
	}
	return t.eachMoveFrom(c, u64(lo), to, fn)
}

// EachStockMoveOfPart implements flows.PartsTx.
func (t *tx) EachStockMoveOfPart(code string, fn func(*flows.StockMove) error) error {
	return t.eachIndexed(bPartsMovesByPart, code, fn)
}

// StockMovesOfTicket implements flows.PartsTx.
func (t *tx) StockMovesOfTicket(ticketID string) ([]flows.StockMove, error) {
	var out []flows.StockMove
	err := t.eachIndexed(bPartsMovesByTicket, ticketID, func(m *flows.StockMove) error {
		out = append(out, *m)
		return nil
	})
	return out, err
}

func (t *tx) eachIndexed(index []byte, prefix string, fn func(*flows.StockMove) error) error {
	p := key(prefix, "")
	c := t.bk(index).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) != len(p)+8 {
			continue // a longer prefix sharing these bytes
		}
		m, err := t.StockMove(binary.BigEndian.Uint64(k[len(p):]))
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// StockLevel implements flows.PartsTx: a zero level when there is none.
func (t *tx) StockLevel(part, loc string) (flows.StockLevel, error) {
	l := flows.StockLevel{Part: part, Location: loc}
	raw := t.bk(bPartsLevels).Get(key(loc, part))
	if raw == nil {
		return l, nil
	}
	err := decode(raw, &l)
	return l, err
}

// StockLevels implements flows.PartsTx.
func (t *tx) StockLevels(loc string) ([]flows.StockLevel, error) {
	return decodeAll[flows.StockLevel](t.bk(bPartsLevels), key(loc, ""))
}

// EachStockLevel implements flows.PartsTx.
func (t *tx) EachStockLevel(fn func(flows.StockLevel) error) error {
	return t.bk(bPartsLevels).ForEach(func(_, v []byte) error {
		var l flows.StockLevel
		if err := decode(v, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// ReplaceStockLevels implements flows.PartsTx.
func (t *tx) ReplaceStockLevels(levels []flows.StockLevel) error {
	if err := t.b.DeleteBucket(bPartsLevels); err != nil {
		return err
	}
	if _, err := t.b.CreateBucket(bPartsLevels); err != nil {
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
	if err := t.get(bPartsPurchases, id, "purchase request", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutPurchaseRequest implements flows.PartsTx and keeps the open index.
func (t *tx) PutPurchaseRequest(r *flows.PurchaseRequest) error {
	k := key(ts(r.Requested), r.ID)
	open := t.bk(bPartsPurchasesOpen)
	if r.Status == flows.PurchaseRequested || r.Status.Open() {
		if err := open.Put(k, nil); err != nil {
			return err
		}
	} else if err := open.Delete(k); err != nil {
		return err
	}
	return t.put(bPartsPurchases, []byte(r.ID), r)
}

// OpenPurchaseRequests implements flows.PartsTx.
func (t *tx) OpenPurchaseRequests() ([]*flows.PurchaseRequest, error) {
	var out []*flows.PurchaseRequest
	c := t.bk(bPartsPurchasesOpen).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		r, err := t.PurchaseRequest(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ScrapRequest implements flows.PartsTx.
func (t *tx) ScrapRequest(id string) (*flows.ScrapRequest, error) {
	var r flows.ScrapRequest
	if err := t.get(bPartsScraps, id, "scrap request", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutScrapRequest implements flows.PartsTx.
func (t *tx) PutScrapRequest(r *flows.ScrapRequest) error {
	return t.put(bPartsScraps, []byte(r.ID), r)
}

// Stocktake implements flows.PartsTx.
func (t *tx) Stocktake(id string) (*flows.Stocktake, error) {
	var s flows.Stocktake
	if err := t.get(bPartsStocktakes, id, "stocktake", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutStocktake implements flows.PartsTx.
func (t *tx) PutStocktake(s *flows.Stocktake) error {
	return t.put(bPartsStocktakes, []byte(s.ID), s)
}

// LowStockAlert implements flows.PartsTx.
func (t *tx) LowStockAlert(part, store string) (*flows.LowStockAlert, error) {
	var a flows.LowStockAlert
	if err := t.get(bPartsLow, joinKey(part, store), "low-stock alert", &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// PutLowStockAlert implements flows.PartsTx.
func (t *tx) PutLowStockAlert(a flows.LowStockAlert) error {
	return t.put(bPartsLow, key(a.Part, a.Store), a)
}

// DeleteLowStockAlert implements flows.PartsTx.
func (t *tx) DeleteLowStockAlert(part, store string) error {
	return t.bk(bPartsLow).Delete(key(part, store))
}

// LowStockAlerts implements flows.PartsTx.
func (t *tx) LowStockAlerts() ([]flows.LowStockAlert, error) {
	return decodeAll[flows.LowStockAlert](t.bk(bPartsLow), nil)
}
