package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The spare-parts records of flows.PartsTx (parts.go in flows): the
// catalog, the stores, the append-only stock ledger with its projection
// (the levels), purchases, scraps, stocktakes and low-stock alerts. The
// rules, each checked by the subtest of runParts named after it:
//
//   - NotFound: Part, StockLocation, StockMove, StockMoveByKey,
//     PurchaseRequest, ScrapRequest, Stocktake and LowStockAlert return an
//     error matching flows.ErrNotFound for a missing record; StockLevel
//     of nothing is a zero level (no error); StockMoveReversal of a move
//     never reversed is 0; lists of nothing are empty.
//   - RoundTrip: every field of a part, store, purchase, scrap, stocktake
//     and alert is read back as written; a put replaces.
//   - Catalog: EachPart walks the parts in code order (bytes), StockLocations
//     lists the stores by id. FindParts finds the exact code first, then the
//     codes starting with the query, then names or specifications containing
//     it (case-insensitive), each part once, at most limit; an empty query
//     finds nothing.
//   - Ledger: AppendStockMove assigns increasing sequence numbers, never
//     lets PostedAt go below the previous move's, applies
//     flows.ApplyStockMove to the levels in the same transaction, and
//     refuses (an error, nothing written) a move that would leave a held
//     level negative, a second move under an idempotency key, and a second
//     reversal of a move. StockMove, StockMoveByKey and StockMoveReversal
//     read what was posted; the sequence continues after a reopen.
//   - LedgerWalks: EachStockMove streams in sequence order from after+1;
//     EachStockMoveBetween the moves posted in [from, to) (a zero to: no
//     end); EachStockMoveOfPart one part's moves and StockMovesOfTicket the
//     moves into or out of JOB:<ticket>, in order, with no prefix matches
//     ("P-1" is not "P-10").
//   - Levels: StockLevels(loc) lists one location's levels by part (a level
//     back at zero quantity and value is no level), EachStockLevel every
//     level by location then part, ReplaceStockLevels drops them all and
//     writes the given ones.
//   - OpenPurchases: OpenPurchaseRequests lists the requests waiting for a
//     decision or a delivery (requested, approved, partial), oldest
//     Requested first; one received, refused or closed leaves the list.
//   - LowStock: one alert per (part, store); LowStockAlerts lists them by
//     part then store; deleting a missing alert is not an error.
func runParts(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"NotFound", testPartsNotFound},
		{"RoundTrip", testPartsRoundTrip},
		{"Catalog", testPartsCatalog},
		{"Ledger", testPartsLedger},
		{"LedgerWalks", testPartsLedgerWalks},
		{"Levels", testPartsLevels},
		{"OpenPurchases", testPartsOpenPurchases},
		{"LowStock", testPartsLowStock},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

func testPartsNotFound(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	for name, get := range map[string]func(tx flows.Tx) error{
		"Part":            func(tx flows.Tx) error { _, err := tx.Part("P-404"); return err },
		"StockLocation":   func(tx flows.Tx) error { _, err := tx.StockLocation("nowhere"); return err },
		"StockMove":       func(tx flows.Tx) error { _, err := tx.StockMove(404); return err },
		"StockMoveByKey":  func(tx flows.Tx) error { _, err := tx.StockMoveByKey("tg:u:404"); return err },
		"PurchaseRequest": func(tx flows.Tx) error { _, err := tx.PurchaseRequest("PR-404"); return err },
		"ScrapRequest":    func(tx flows.Tx) error { _, err := tx.ScrapRequest("SC-404"); return err },
		"Stocktake":       func(tx flows.Tx) error { _, err := tx.Stocktake("ST-404"); return err },
		"LowStockAlert":   func(tx flows.Tx) error { _, err := tx.LowStockAlert("P-404", "main"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			if err := o.Store.View(t.Context(), get); !errors.Is(err, flows.ErrNotFound) {
				t.Fatalf("missing %s: err = %v, want one matching flows.ErrNotFound", name, err)
			}
		})
	}
	view(t, o.Store, func(tx flows.Tx) error {
		if l, err := tx.StockLevel("P-404", "main"); err != nil || l.Qty != 0 || l.Value != 0 {
			t.Errorf("StockLevel of nothing = %+v, %v; want a zero level", l, err)
		}
		if seq, err := tx.StockMoveReversal(404); err != nil || seq != 0 {
			t.Errorf("StockMoveReversal of nothing = %d, %v; want 0", seq, err)
		}
		counts := map[string]func() (int, error){
			"FindParts":      func() (int, error) { v, err := tx.FindParts("P", 0); return len(v), err },
			"StockLocations": func() (int, error) { v, err := tx.StockLocations(); return len(v), err },
			"StockLevels":    func() (int, error) { v, err := tx.StockLevels("main"); return len(v), err },
			"StockMovesOfTicket": func() (int, error) {
				v, err := tx.StockMovesOfTicket("BX-20261127-0404")
				return len(v), err
			},
			"OpenPurchaseRequests": func() (int, error) { v, err := tx.OpenPurchaseRequests(); return len(v), err },
			"LowStockAlerts":       func() (int, error) { v, err := tx.LowStockAlerts(); return len(v), err },
			"EachPart":             func() (int, error) { n := 0; return n, tx.EachPart(func(*flows.Part) error { n++; return nil }) },
			"EachStockLevel": func() (int, error) {
				n := 0
				err := tx.EachStockLevel(func(flows.StockLevel) error { n++; return nil })
				return n, err
			},
			"EachStockMove": func() (int, error) {
				n := 0
				err := tx.EachStockMove(0, func(*flows.StockMove) error { n++; return nil })
				return n, err
			},
		}
		for name, count := range counts {
			if n, err := count(); err != nil || n != 0 {
				t.Errorf("%s on an empty store: %d, %v; want none and no error", name, n, err)
			}
		}
		return nil
	})
}

func testPartsRoundTrip(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	for seed := 1; seed <= 2; seed++ {
		t.Run(fmt.Sprintf("version %d", seed), func(t *testing.T) {
			var (
				p  flows.Part
				l  flows.StockLocation
				pr flows.PurchaseRequest
				sc flows.ScrapRequest
				st flows.Stocktake
				a  flows.LowStockAlert
			)
			for _, v := range []any{&p, &l, &pr, &sc, &st, &a} {
				fill(v, seed)
			}
			p.Code, l.ID, pr.ID, sc.ID, st.ID, a.Part, a.Store = "P-1", "main", "PR-1", "SC-1", "ST-1", "P-1", "main"
			update(t, s, func(tx flows.Tx) error {
				return errors.Join(tx.PutPart(&p), tx.PutStockLocation(&l), tx.PutPurchaseRequest(&pr), tx.PutScrapRequest(&sc),
					tx.PutStocktake(&st), tx.PutLowStockAlert(a))
			})
			view(t, s, func(tx flows.Tx) error {
				gp, err1 := tx.Part(p.Code)
				gl, err2 := tx.StockLocation(l.ID)
				gpr, err3 := tx.PurchaseRequest(pr.ID)
				gsc, err4 := tx.ScrapRequest(sc.ID)
				gst, err5 := tx.Stocktake(st.ID)
				ga, err6 := tx.LowStockAlert(a.Part, a.Store)
				if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
					return err
				}
				wantSame(t, "Part", gp, &p)
				wantSame(t, "StockLocation", gl, &l)
				wantSame(t, "PurchaseRequest", gpr, &pr)
				wantSame(t, "ScrapRequest", gsc, &sc)
				wantSame(t, "Stocktake", gst, &st)
				wantSame(t, "LowStockAlert", ga, &a)
				var parts []*flows.Part
				if err := tx.EachPart(func(q *flows.Part) error { parts = append(parts, q); return nil }); err != nil {
					return err
				}
				wantSame(t, "EachPart after a replace", parts, []*flows.Part{&p})
				return nil
			})
		})
	}
}

func part(code, name, spec string) *flows.Part {
	return &flows.Part{Code: code, Name: name, Spec: spec, Unit: "个", Stores: []string{"main"}, Created: T0, Updated: T0}
}

func partCodes(ps []*flows.Part) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return strings.Join(out, " ")
}

func testPartsCatalog(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(
			tx.PutPart(part("VALVE", "角阀", "DN15")), tx.PutPart(part("TAP-2", "水龙头", "冷热")),
			tx.PutPart(part("TAP", "Mixer tap", "")), tx.PutPart(part("HOSE", "软管 for tap", "60cm")),
			tx.PutPart(part("A-1", "Tape", "for taps")), tx.PutPart(part("TAPX", "阀芯", "")),
			tx.PutStockLocation(&flows.StockLocation{ID: "east", Name: "东区", Created: T0}),
			tx.PutStockLocation(&flows.StockLocation{ID: "main", Name: "总仓", Created: T0}),
			tx.PutStockLocation(&flows.StockLocation{ID: "east-2", Name: "东区二", Created: T0}))
	})
	view(t, s, func(tx flows.Tx) error {
		var all []*flows.Part
		if err := tx.EachPart(func(p *flows.Part) error { all = append(all, p); return nil }); err != nil {
			return err
		}
		wantIDs(t, "EachPart", partCodes(all), "A-1 HOSE TAP TAP-2 TAPX VALVE")
		locs, err := tx.StockLocations()
		if err != nil {
			return err
		}
		var ids []string
		for _, l := range locs {
			ids = append(ids, l.ID)
		}
		wantIDs(t, "StockLocations", strings.Join(ids, " "), "east east-2 main")
		for _, c := range []struct {
			query string
			limit int
			want  string
		}{
			{"tap", 0, "TAP TAP-2 TAPX A-1 HOSE"}, // exact, prefixes in code order, then names/specs
			{"TAP", 2, "TAP TAP-2"},
			{"水龙", 0, "TAP-2"},
			{"dn15", 0, "VALVE"},
			{"  ", 0, ""},
			{"nothing", 0, ""},
		} {
			got, err := tx.FindParts(c.query, c.limit)
			if err != nil {
				return err
			}
			wantIDs(t, fmt.Sprintf("FindParts(%q, %d)", c.query, c.limit), partCodes(got), c.want)
		}
		return nil
	})
}

// post appends moves in one transaction and returns them as stored.
func post(tb testing.TB, s flows.Store, moves ...flows.StockMove) []flows.StockMove {
	tb.Helper()
	var out []flows.StockMove
	update(tb, s, func(tx flows.Tx) error {
		out = out[:0]
		for _, m := range moves {
			got, err := tx.AppendStockMove(m)
			if err != nil {
				return err
			}
			out = append(out, got)
		}
		return nil
	})
	return out
}

func receive(part, store string, qty, cost int64, at time.Time) flows.StockMove {
	return flows.StockMove{Kind: flows.MoveReceive, Part: part, From: flows.LocSupplier, To: store, Qty: qty,
		UnitCost: cost, Value: qty * cost, PostedAt: at, Actor: "tg:2"}
}

func issue(part, store, ticket string, qty, value int64, at time.Time) flows.StockMove {
	return flows.StockMove{Kind: flows.MoveIssue, Part: part, From: store, To: flows.JobLocation(ticket), Qty: qty,
		Value: value, PostedAt: at, Ref: ticket, Actor: "tg:2"}
}

func level(tb testing.TB, s flows.Store, part, loc string) flows.StockLevel {
	tb.Helper()
	return read(tb, s, func(tx flows.Tx) (flows.StockLevel, error) { return tx.StockLevel(part, loc) })
}

func testPartsLedger(t *testing.T, open Open) {
	o, clock := fresh(t, open)
	s := o.Store
	r := receive("P-1", "main", 10, 150, T0)
	r.Key = "k1"
	got := post(t, s, r, receive("P-1", "main", 5, 150, T0.Add(-time.Hour))) // the clock stepped back
	if got[0].Seq == 0 || got[1].Seq <= got[0].Seq {
		t.Fatalf("sequence numbers %d, %d; want increasing from 1", got[0].Seq, got[1].Seq)
	}
	if !got[1].PostedAt.Equal(T0) {
		t.Fatalf("a move posted at %v after one at %v; want it kept at %v", got[1].PostedAt, T0, T0)
	}
	if l := level(t, s, "P-1", "main"); l.Qty != 15 || l.Value != 2250 {
		t.Fatalf("level after two receipts = %+v, want 15 worth 2250", l)
	}
	view(t, s, func(tx flows.Tx) error {
		m, err := tx.StockMove(got[0].Seq)
		if err != nil {
			return err
		}
		wantSame(t, "StockMove", m, &got[0])
		if m, err := tx.StockMoveByKey("k1"); err != nil || m.Seq != got[0].Seq {
			t.Errorf("StockMoveByKey = %+v, %v; want move %d", m, err, got[0].Seq)
		}
		return nil
	})
	refused := func(what string, m flows.StockMove) {
		t.Helper()
		err := s.Update(t.Context(), func(tx flows.Tx) error { _, err := tx.AppendStockMove(m); return err })
		if err == nil {
			t.Fatalf("%s: posted", what)
		}
		if n := len(read(t, s, func(tx flows.Tx) ([]flows.StockMove, error) {
			var all []flows.StockMove
			err := tx.EachStockMove(0, func(m *flows.StockMove) error { all = append(all, *m); return nil })
			return all, err
		})); n != 2 {
			t.Fatalf("%s: %d moves in the ledger, want 2", what, n)
		}
		if l := level(t, s, "P-1", "main"); l.Qty != 15 || l.Value != 2250 {
			t.Fatalf("%s: level %+v, want it unchanged", what, l)
		}
	}
	refused("more out than held", issue("P-1", "main", "BX-20261127-0001", 16, 2400, T0))
	dup := receive("P-1", "main", 1, 150, T0)
	dup.Key = "k1"
	refused("a second move under a key", dup)
	rev := flows.StockMove{Kind: flows.MoveReverse, Of: flows.MoveReceive, Part: "P-1", From: "main", To: flows.LocSupplier,
		Qty: 10, UnitCost: 150, Value: 1500, PostedAt: T0, Actor: "tg:1", Reverses: got[0].Seq}
	rv := post(t, s, rev)[0]
	if by := read(t, s, func(tx flows.Tx) (uint64, error) { return tx.StockMoveReversal(got[0].Seq) }); by != rv.Seq {
		t.Fatalf("StockMoveReversal = %d, want %d", by, rv.Seq)
	}
	if l := level(t, s, "P-1", "main"); l.Qty != 5 || l.Value != 750 {
		t.Fatalf("level after the reversal = %+v, want 5 worth 750", l)
	}
	rev.Qty, rev.Value = 1, 150
	err := s.Update(t.Context(), func(tx flows.Tx) error { _, err := tx.AppendStockMove(rev); return err })
	if err == nil {
		t.Fatal("a move was reversed twice")
	}
	if o.Reopen != nil {
		o = o.Reopen(t)
		clock.Set(T0.Add(time.Hour))
		next := post(t, o.Store, receive("P-1", "main", 1, 150, T0.Add(time.Hour)))[0]
		if next.Seq <= rv.Seq {
			t.Fatalf("after a reopen the ledger numbered %d after %d", next.Seq, rv.Seq)
		}
	}
}

func moveSeqs(ms []flows.StockMove) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprint(m.Seq))
	}
	return strings.Join(out, " ")
}

func testPartsLedgerWalks(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	const t1, t10 = "BX-20261127-0001", "BX-20261127-00010"
	got := post(t, s,
		receive("P-1", "main", 10, 100, T0),
		receive("P-10", "main", 10, 100, T0.Add(time.Minute)),
		issue("P-1", "main", t1, 2, 200, T0.Add(2*time.Minute)),
		issue("P-10", "main", t10, 3, 300, T0.Add(3*time.Minute)),
		flows.StockMove{Kind: flows.MoveReturn, Part: "P-1", From: flows.JobLocation(t1), To: "main", Qty: 1, Value: 100,
			PostedAt: T0.Add(4 * time.Minute), Ref: t1, Actor: "tg:2"},
	)
	seq := func(i ...int) string {
		var ms []flows.StockMove
		for _, j := range i {
			ms = append(ms, got[j])
		}
		return moveSeqs(ms)
	}
	collect := func(walk func(tx flows.Tx, fn func(*flows.StockMove) error) error) string {
		return moveSeqs(read(t, s, func(tx flows.Tx) ([]flows.StockMove, error) {
			var out []flows.StockMove
			err := walk(tx, func(m *flows.StockMove) error { out = append(out, *m); return nil })
			return out, err
		}))
	}
	wantIDs(t, "EachStockMove(0)", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error { return tx.EachStockMove(0, fn) }), seq(0, 1, 2, 3, 4))
	wantIDs(t, "EachStockMove(after the 2nd)", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error {
		return tx.EachStockMove(got[1].Seq, fn)
	}), seq(2, 3, 4))
	wantIDs(t, "EachStockMoveBetween [1m, 3m)", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error {
		return tx.EachStockMoveBetween(T0.Add(time.Minute), T0.Add(3*time.Minute), fn)
	}), seq(1, 2))
	wantIDs(t, "EachStockMoveBetween [2m, no end)", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error {
		return tx.EachStockMoveBetween(T0.Add(2*time.Minute), time.Time{}, fn)
	}), seq(2, 3, 4))
	wantIDs(t, "EachStockMoveBetween after the last", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error {
		return tx.EachStockMoveBetween(T0.Add(time.Hour), time.Time{}, fn)
	}), "")
	wantIDs(t, "EachStockMoveOfPart(P-1)", collect(func(tx flows.Tx, fn func(*flows.StockMove) error) error {
		return tx.EachStockMoveOfPart("P-1", fn)
	}), seq(0, 2, 4))
	wantIDs(t, "StockMovesOfTicket", moveSeqs(read(t, s, func(tx flows.Tx) ([]flows.StockMove, error) { return tx.StockMovesOfTicket(t1) })), seq(2, 4))
	wantIDs(t, "StockMovesOfTicket (longer id)", moveSeqs(read(t, s, func(tx flows.Tx) ([]flows.StockMove, error) { return tx.StockMovesOfTicket(t10) })), seq(3))
}

func levelList(ls []flows.StockLevel) string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%s/%s=%d:%d", l.Location, l.Part, l.Qty, l.Value))
	}
	return strings.Join(out, " ")
}

func testPartsLevels(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	post(t, s,
		receive("P-2", "main", 4, 100, T0), receive("P-1", "main", 3, 100, T0),
		receive("P-1", "main2", 2, 50, T0),
		issue("P-1", "main2", "BX-20261127-0001", 2, 100, T0), // main2 back at zero: no level
	)
	levels := func(loc string) string {
		return levelList(read(t, s, func(tx flows.Tx) ([]flows.StockLevel, error) { return tx.StockLevels(loc) }))
	}
	wantIDs(t, "StockLevels(main)", levels("main"), "main/P-1=3:300 main/P-2=4:400")
	wantIDs(t, "StockLevels(main2)", levels("main2"), "")
	wantIDs(t, "StockLevels(job)", levels(flows.JobLocation("BX-20261127-0001")), "JOB:BX-20261127-0001/P-1=2:100")
	each := func() string {
		return levelList(read(t, s, func(tx flows.Tx) ([]flows.StockLevel, error) {
			var out []flows.StockLevel
			err := tx.EachStockLevel(func(l flows.StockLevel) error { out = append(out, l); return nil })
			return out, err
		}))
	}
	wantIDs(t, "EachStockLevel", each(), "JOB:BX-20261127-0001/P-1=2:100 main/P-1=3:300 main/P-2=4:400")
	update(t, s, func(tx flows.Tx) error {
		return tx.ReplaceStockLevels([]flows.StockLevel{{Part: "P-9", Location: "east", Qty: 1, Value: 7}})
	})
	wantIDs(t, "EachStockLevel after ReplaceStockLevels", each(), "east/P-9=1:7")
}

func testPartsOpenPurchases(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	pr := func(id string, st flows.PurchaseStatus, at time.Time) *flows.PurchaseRequest {
		return &flows.PurchaseRequest{ID: id, Part: "P-1", Store: "main", Qty: 5, Status: st, Requested: at, Updated: at}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(
			tx.PutPurchaseRequest(pr("PR-3", flows.PurchaseRequested, T0.Add(2*time.Hour))),
			tx.PutPurchaseRequest(pr("PR-1", flows.PurchaseApproved, T0)),
			tx.PutPurchaseRequest(pr("PR-2", flows.PurchasePartial, T0.Add(time.Hour))),
			tx.PutPurchaseRequest(pr("PR-4", flows.PurchaseRefused, T0)),
			tx.PutPurchaseRequest(pr("PR-5", flows.PurchaseReceived, T0)),
			tx.PutPurchaseRequest(pr("PR-6", flows.PurchaseClosed, T0)))
	})
	ids := func() string {
		rs := read(t, s, func(tx flows.Tx) ([]*flows.PurchaseRequest, error) { return tx.OpenPurchaseRequests() })
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	wantIDs(t, "OpenPurchaseRequests", ids(), "PR-1 PR-2 PR-3")
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutPurchaseRequest(pr("PR-1", flows.PurchaseReceived, T0)),
			tx.PutPurchaseRequest(pr("PR-4", flows.PurchaseRequested, T0.Add(3*time.Hour))))
	})
	wantIDs(t, "OpenPurchaseRequests after changes", ids(), "PR-2 PR-3 PR-4")
}

func testPartsLowStock(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	alert := func(part, store string) flows.LowStockAlert {
		return flows.LowStockAlert{Part: part, Store: store, Since: T0, Qty: 1, Min: 2, SeqAt: 3}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutLowStockAlert(alert("P-2", "main")), tx.PutLowStockAlert(alert("P-1", "main")),
			tx.PutLowStockAlert(alert("P-1", "east")), tx.PutLowStockAlert(alert("P-1", "east")))
	})
	keys := func() string {
		as := read(t, s, func(tx flows.Tx) ([]flows.LowStockAlert, error) { return tx.LowStockAlerts() })
		var out []string
		for _, a := range as {
			out = append(out, a.Part+"@"+a.Store)
		}
		return strings.Join(out, " ")
	}
	wantIDs(t, "LowStockAlerts", keys(), "P-1@east P-1@main P-2@main")
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.DeleteLowStockAlert("P-1", "main"), tx.DeleteLowStockAlert("P-9", "main"))
	})
	wantIDs(t, "LowStockAlerts after a delete", keys(), "P-1@east P-2@main")
}
