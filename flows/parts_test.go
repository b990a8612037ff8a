package flows_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/store"
)

var (
	pLead  = &flows.Person{ID: "tg:1", Role: flows.RoleLead, Name: "李主管", Registered: true}
	pTech  = &flows.Person{ID: "tg:2", Role: flows.RoleTechnician, Name: "张师傅", Registered: true}
	pTech2 = &flows.Person{ID: "tg:3", Role: flows.RoleTechnician, Name: "王师傅", Registered: true}
	pRes   = &flows.Person{ID: "tg:9", Role: flows.RoleResident, Name: "住户", Registered: true}
	pt0    = time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	photo  = flows.Photo{FileID: "ph-invoice"}
)

// partsWorld is a store with two stores and a small catalog.
type partsWorld struct {
	tb  testing.TB
	s   *store.Store
	now time.Time
	key int
}

func newPartsWorld(tb testing.TB) *partsWorld {
	tb.Helper()
	return openPartsWorld(tb, filepath.Join(tb.TempDir(), "parts.db"), true)
}

func openPartsWorld(tb testing.TB, path string, seed bool) *partsWorld {
	tb.Helper()
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	w := &partsWorld{tb: tb, s: s, now: pt0}
	if seed {
		w.must(func(tx flows.Tx) error {
			for _, l := range []flows.StockLocation{{ID: "main", Name: "总仓"}, {ID: "east", Name: "东区仓"}} {
				if _, err := flows.SaveStockLocation(tx, w.at(pLead), l); err != nil {
					return err
				}
			}
			_, _, err := flows.ImportParts(tx, w.at(pLead), []flows.Part{
				{Code: "p-tap", Name: "水龙头", Spec: "DN15 铜", Unit: "个", UnitCost: 3500, SalePrice: 6000, Billable: true, MinStock: 2, ReorderQty: 10, Stores: []string{"main", "east"}},
				{Code: "P-VALVE", Name: "角阀", Unit: "个", UnitCost: 1200, SalePrice: 2500, Billable: true, MinStock: 0, Stores: []string{"main"}},
				{Code: "P-TAPE", Name: "生料带", Unit: "卷", UnitCost: 100, Stores: []string{"main"}},
			})
			return err
		})
	}
	return w
}

// at is a posting by p at the world's clock, with a fresh key.
func (w *partsWorld) at(p *flows.Person) flows.Posting {
	w.key++
	w.now = w.now.Add(time.Minute)
	return flows.Posting{By: p, At: w.now, Key: fmt.Sprintf("k%d", w.key)}
}

func (w *partsWorld) do(fn func(tx flows.Tx) error) error {
	return w.s.Update(context.Background(), fn)
}

func (w *partsWorld) must(fn func(tx flows.Tx) error) {
	w.tb.Helper()
	if err := w.do(fn); err != nil {
		w.tb.Fatal(err)
	}
}

func (w *partsWorld) level(part, loc string) flows.StockLevel {
	w.tb.Helper()
	var l flows.StockLevel
	err := w.s.View(context.Background(), func(tx flows.Tx) error {
		var err error
		l, err = tx.StockLevel(part, loc)
		return err
	})
	if err != nil {
		w.tb.Fatal(err)
	}
	return l
}

// stock buys and receives qty at cost into a store.
func (w *partsWorld) stock(part, storeID string, qty, cost int64) flows.StockResult {
	w.tb.Helper()
	var res flows.StockResult
	w.must(func(tx flows.Tx) error {
		r, err := flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: part, Store: storeID, Qty: qty, Why: "补货"})
		if err != nil {
			return err
		}
		if _, err := flows.DecidePurchase(tx, w.at(pLead), r.ID, true, ""); err != nil {
			return err
		}
		_, res, err = flows.ReceiveDelivery(tx, w.at(pTech), r.ID, flows.DeliveryInput{Qty: qty, Supplier: "五金店", UnitCost: cost, Photo: photo})
		return err
	})
	return res
}

func (w *partsWorld) verify() {
	w.tb.Helper()
	err := w.s.View(context.Background(), func(tx flows.Tx) error {
		diffs, err := flows.VerifyStockLevels(tx)
		if err != nil {
			return err
		}
		if len(diffs) > 0 {
			w.tb.Errorf("stored levels differ from the ledger: %+v", diffs)
		}
		return tx.EachStockLevel(func(l flows.StockLevel) error {
			if l.Qty < 0 || l.Value < 0 || (l.Qty == 0 && l.Value != 0) {
				w.tb.Errorf("impossible level %+v", l)
			}
			return nil
		})
	})
	if err != nil {
		w.tb.Fatal(err)
	}
}

func wantKey(tb testing.TB, err error, code flows.Code, key string) {
	tb.Helper()
	var fe *flows.Error
	if !errors.As(err, &fe) {
		tb.Fatalf("want %s %s, got %v", code, key, err)
	}
	if fe.Code != code || fe.Key != key {
		tb.Fatalf("want %s %s, got %s %s %v", code, key, fe.Code, fe.Key, fe.Args)
	}
	// Every refusal renders in both languages.
	c := i18n.MustLoad(flows.LangZH)
	for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
		if !c.Has(l, fe.Key) {
			tb.Fatalf("%s has no %s text", fe.Key, l)
		}
	}
}

// A part's whole life: bought in two deliveries, issued to a job at the
// moving average, partly returned, scrapped with approval, counted, and a
// mistake reversed. Every step is checked against levels, values, the
// purchase and the ticket's audit trail.
func TestPartsLifecycle(t *testing.T) {
	w := newPartsWorld(t)
	var pr *flows.PurchaseRequest
	w.must(func(tx flows.Tx) error {
		var err error
		pr, err = flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: "p-tap", Store: "main", Qty: 10, Why: "库存不足"})
		if err != nil {
			return err
		}
		if pr.Status != flows.PurchaseRequested || pr.ID != "PR-1" || pr.Part != "P-TAP" {
			t.Errorf("request %+v", pr)
		}
		pr, err = flows.DecidePurchase(tx, w.at(pLead), pr.ID, true, "同意")
		return err
	})
	if l := w.level("P-TAP", "main"); l.Qty != 0 {
		t.Fatalf("stock rose before any receipt: %+v", l)
	}
	// Two deliveries at different costs: 4 @ ¥30 and 6 @ ¥40.
	w.must(func(tx flows.Tx) error {
		r, res, err := flows.ReceiveDelivery(tx, w.at(pTech), pr.ID, flows.DeliveryInput{Qty: 4, Supplier: "五金店", UnitCost: 3000, Photo: photo})
		if err != nil {
			return err
		}
		if r.Status != flows.PurchasePartial || r.Received != 4 || r.OnOrder() != 6 {
			t.Errorf("after the first delivery %+v", r)
		}
		if len(res.Moves) != 1 || res.Moves[0].From != flows.LocSupplier || res.Moves[0].Value != 12000 || res.Moves[0].Ref != "PR-1" {
			t.Errorf("receipt move %+v", res.Moves)
		}
		r, _, err = flows.ReceiveDelivery(tx, w.at(pTech), pr.ID, flows.DeliveryInput{Qty: 6, Supplier: "五金店", UnitCost: 4000, Photo: photo})
		if err != nil {
			return err
		}
		if r.Status != flows.PurchaseReceived || r.OnOrder() != 0 || len(r.Deliveries) != 2 {
			t.Errorf("after the second delivery %+v", r)
		}
		return nil
	})
	if l := w.level("P-TAP", "main"); l.Qty != 10 || l.Value != 36000 || l.Avg() != 3600 {
		t.Fatalf("level after receipts %+v", l)
	}
	// Issue 3 to a job at the average ¥36: the job's cost is frozen.
	const job = "BX-20261102-0001"
	w.must(func(tx flows.Tx) error {
		res, err := flows.Issue(tx, w.at(pTech), flows.PartsPolicy{}, flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 3})
		if err != nil {
			return err
		}
		m := res.Moves[0]
		if m.Kind != flows.MoveIssue || m.To != flows.JobLocation(job) || m.UnitCost != 3600 || m.Value != 10800 {
			t.Errorf("issue %+v", m)
		}
		return nil
	})
	// A later, dearer receipt does not re-cost the job.
	w.stock("P-TAP", "main", 3, 9000)
	w.must(func(tx flows.Tx) error {
		jp, err := flows.JobParts(tx, job)
		if err != nil {
			return err
		}
		if len(jp) != 1 || jp[0].Qty != 3 || jp[0].Cost != 10800 || jp[0].Sale != 18000 {
			t.Errorf("job parts %+v", jp)
		}
		// One unused tap goes back at the job's cost.
		res, err := flows.ReturnToStock(tx, w.at(pTech), flows.ReturnInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 1, Reason: "多领了"})
		if err != nil {
			return err
		}
		if res.Moves[0].Value != 3600 {
			t.Errorf("return %+v", res.Moves[0])
		}
		return nil
	})
	// main: 10 − 3 + 3 + 1 = 11 units; 36000 − 10800 + 27000 + 3600 = 55800.
	if l := w.level("P-TAP", "main"); l.Qty != 11 || l.Value != 55800 {
		t.Fatalf("level after the job %+v", l)
	}
	// A broken one is scrapped: requested by the technician, moved only on approval.
	w.must(func(tx flows.Tx) error {
		sr, err := flows.RequestScrap(tx, w.at(pTech), flows.ScrapInput{Part: "P-TAP", Store: "main", Qty: 1, Reason: "运输损坏", Photo: photo})
		if err != nil {
			return err
		}
		if l, _ := tx.StockLevel("P-TAP", "main"); l.Qty != 11 {
			t.Errorf("scrap moved stock before approval: %+v", l)
		}
		sr, res, err := flows.DecideScrap(tx, w.at(pLead), sr.ID, true, "")
		if err != nil {
			return err
		}
		if sr.Status != flows.ScrapApproved || sr.Move != res.Moves[0].Seq || res.Moves[0].To != flows.LocScrap {
			t.Errorf("scrap %+v %+v", sr, res.Moves)
		}
		return nil
	})
	// The count finds 9 (books: 10): one adjustment out, with the reason.
	w.must(func(tx flows.Tx) error {
		st, res, err := flows.PostStocktake(tx, w.at(pLead), "main", []flows.CountInput{{Part: "P-TAP", Qty: 9}, {Part: "P-TAPE", Qty: 5}}, "月末盘点")
		if err != nil {
			return err
		}
		if len(st.Lines) != 2 || st.Lines[0].Book != 10 || st.Lines[0].Counted != 9 || st.Lines[1].Book != 0 || len(res.Moves) != 2 {
			t.Errorf("stocktake %+v %+v", st, res.Moves)
		}
		if m := res.Moves[1]; m.From != flows.LocAdjust || m.Value != 500 || m.Reason != "月末盘点" {
			t.Errorf("found tape valued at the catalog cost: %+v", m)
		}
		return nil
	})
	// The dear receipt was a typing mistake: reversed at its own value.
	var dear uint64
	w.must(func(tx flows.Tx) error {
		return tx.EachStockMoveOfPart("P-TAP", func(m *flows.StockMove) error {
			if m.Kind == flows.MoveReceive && m.UnitCost == 9000 {
				dear = m.Seq
			}
			return nil
		})
	})
	before := w.level("P-TAP", "main")
	w.must(func(tx flows.Tx) error {
		res, err := flows.Reverse(tx, w.at(pLead), dear, "单价录错")
		if err != nil {
			return err
		}
		m := res.Moves[0]
		if m.Kind != flows.MoveReverse || m.Of != flows.MoveReceive || m.Reverses != dear || m.Value != 27000 || m.To != flows.LocSupplier {
			t.Errorf("reversal %+v", m)
		}
		r, err := tx.PurchaseRequest(m.Ref)
		if err != nil {
			return err
		}
		if r.Received != 0 || r.Status != flows.PurchaseApproved || r.Deliveries[0].Reversed != m.Seq {
			t.Errorf("purchase after the reversal %+v", r)
		}
		return nil
	})
	if l := w.level("P-TAP", "main"); l.Qty != before.Qty-3 || l.Value != before.Value-27000 {
		t.Fatalf("level after the reversal %+v (before %+v)", l, before)
	}
	// The job's moves are on the ticket's audit trail.
	w.must(func(tx flows.Tx) error {
		evs, err := tx.TicketEvents(job)
		if err != nil {
			return err
		}
		if len(evs) != 2 || evs[0].Action != "parts_issue" || evs[1].Action != "parts_return" || evs[0].Actor != pTech.ID {
			t.Errorf("audit trail %+v", evs)
		}
		return nil
	})
	w.verify()
}

// Bad input gets a clear refusal with a catalog key, and changes nothing.
func TestPartsRefusals(t *testing.T) {
	w := newPartsWorld(t)
	w.stock("P-TAP", "main", 2, 3000)
	w.stock("P-VALVE", "main", 10, 50000)
	const job = "BX-20261102-0002"
	w.must(func(tx flows.Tx) error {
		_, err := flows.Issue(tx, w.at(pTech), flows.PartsPolicy{}, flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 1})
		return err
	})
	var receipt uint64
	w.must(func(tx flows.Tx) error {
		m, err := tx.StockMove(1)
		receipt = m.Seq
		return err
	})
	openPR := func(tx flows.Tx) string {
		r, err := flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: "P-TAP", Store: "main", Qty: 2, Why: "补"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := flows.DecidePurchase(tx, w.at(pLead), r.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	issue := func(in flows.IssueInput) func(tx flows.Tx) error {
		return func(tx flows.Tx) error {
			_, err := flows.Issue(tx, w.at(pTech), flows.PartsPolicy{ApprovalOver: 100000}, in)
			return err
		}
	}
	cases := []struct {
		name string
		fn   func(tx flows.Tx) error
		code flows.Code
		key  string
	}{
		{"zero quantity", issue(flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 0}), flows.CodeInvalid, "parts.bad_qty"},
		{"negative quantity", issue(flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: -1}), flows.CodeInvalid, "parts.bad_qty"},
		{"absurd quantity", issue(flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: flows.MaxStockQty + 1}), flows.CodeInvalid, "parts.bad_qty"},
		{"unknown code", issue(flows.IssueInput{Part: "NOPE", Store: "main", Ticket: job, Qty: 1}), flows.CodeNotFound, "parts.unknown_part"},
		{"unknown store", issue(flows.IssueInput{Part: "P-TAP", Store: "west", Ticket: job, Qty: 1}), flows.CodeNotFound, "parts.unknown_store"},
		{"not kept there", issue(flows.IssueInput{Part: "P-VALVE", Store: "east", Ticket: job, Qty: 1}), flows.CodeInvalid, "parts.not_kept"},
		{"no ticket", issue(flows.IssueInput{Part: "P-TAP", Store: "main", Qty: 1}), flows.CodeInvalid, "parts.no_ticket"},
		{"more than on hand", issue(flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 2}), flows.CodeConflict, "parts.short"},
		{"over the approval limit", issue(flows.IssueInput{Part: "P-VALVE", Store: "main", Ticket: job, Qty: 3}), flows.CodeForbidden, "parts.needs_approval"},
		{"approved by a technician", issue(flows.IssueInput{Part: "P-VALVE", Store: "main", Ticket: job, Qty: 3, ApprovedBy: pTech2}), flows.CodeForbidden, "parts.needs_approval"},
		{"resident takes parts", func(tx flows.Tx) error {
			_, err := flows.Issue(tx, w.at(pRes), flows.PartsPolicy{}, flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 1})
			return err
		}, flows.CodeForbidden, "err.role"},
		{"return more than the job holds", func(tx flows.Tx) error {
			_, err := flows.ReturnToStock(tx, w.at(pTech), flows.ReturnInput{Part: "P-TAP", Store: "main", Ticket: job, Qty: 2})
			return err
		}, flows.CodeConflict, "parts.job_short"},
		{"technician approves a purchase", func(tx flows.Tx) error {
			r, _ := flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: "P-TAP", Store: "main", Qty: 2, Why: "补"})
			_, err := flows.DecidePurchase(tx, w.at(pTech2), r.ID, true, "")
			return err
		}, flows.CodeForbidden, "err.role"},
		{"purchase without a reason", func(tx flows.Tx) error {
			_, err := flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: "P-TAP", Store: "main", Qty: 2, Why: "  "})
			return err
		}, flows.CodeInvalid, "parts.reason_required"},
		{"receipt before approval", func(tx flows.Tx) error {
			r, _ := flows.RequestPurchase(tx, w.at(pTech), flows.PurchaseInput{Part: "P-TAP", Store: "main", Qty: 2, Why: "补"})
			_, _, err := flows.ReceiveDelivery(tx, w.at(pTech), r.ID, flows.DeliveryInput{Qty: 1, Supplier: "店", UnitCost: 1, Photo: photo})
			return err
		}, flows.CodeConflict, "parts.purchase_not_open"},
		{"receipt over the order", func(tx flows.Tx) error {
			_, _, err := flows.ReceiveDelivery(tx, w.at(pTech), openPR(tx), flows.DeliveryInput{Qty: 3, Supplier: "店", UnitCost: 1, Photo: photo})
			return err
		}, flows.CodeInvalid, "parts.receive_over"},
		{"receipt without a photo", func(tx flows.Tx) error {
			_, _, err := flows.ReceiveDelivery(tx, w.at(pTech), openPR(tx), flows.DeliveryInput{Qty: 1, Supplier: "店", UnitCost: 1})
			return err
		}, flows.CodeInvalid, "parts.photo_required"},
		{"receipt at an absurd cost", func(tx flows.Tx) error {
			_, _, err := flows.ReceiveDelivery(tx, w.at(pTech), openPR(tx), flows.DeliveryInput{Qty: 1, Supplier: "店", UnitCost: flows.MaxPartCents + 1, Photo: photo})
			return err
		}, flows.CodeInvalid, "parts.bad_cost"},
		{"unknown purchase", func(tx flows.Tx) error {
			_, _, err := flows.ReceiveDelivery(tx, w.at(pTech), "PR-999", flows.DeliveryInput{Qty: 1, Supplier: "店", UnitCost: 1, Photo: photo})
			return err
		}, flows.CodeNotFound, "parts.unknown_purchase"},
		{"scrap without a photo", func(tx flows.Tx) error {
			_, err := flows.RequestScrap(tx, w.at(pTech), flows.ScrapInput{Part: "P-TAP", Store: "main", Qty: 1, Reason: "坏了"})
			return err
		}, flows.CodeInvalid, "parts.photo_required"},
		{"scrap more than on hand", func(tx flows.Tx) error {
			_, err := flows.RequestScrap(tx, w.at(pTech), flows.ScrapInput{Part: "P-TAP", Store: "main", Qty: 5, Reason: "坏了", Photo: photo})
			return err
		}, flows.CodeConflict, "parts.short"},
		{"stocktake by a technician", func(tx flows.Tx) error {
			_, _, err := flows.PostStocktake(tx, w.at(pTech), "main", []flows.CountInput{{Part: "P-TAP", Qty: 1}}, "盘点")
			return err
		}, flows.CodeForbidden, "err.role"},
		{"stocktake counts a part twice", func(tx flows.Tx) error {
			_, _, err := flows.PostStocktake(tx, w.at(pLead), "main", []flows.CountInput{{Part: "P-TAP", Qty: 1}, {Part: "p-tap", Qty: 2}}, "盘点")
			return err
		}, flows.CodeInvalid, "parts.count_dup"},
		{"stocktake negative count", func(tx flows.Tx) error {
			_, _, err := flows.PostStocktake(tx, w.at(pLead), "main", []flows.CountInput{{Part: "P-TAP", Qty: -1}}, "盘点")
			return err
		}, flows.CodeInvalid, "parts.bad_count"},
		{"reverse an unknown move", func(tx flows.Tx) error {
			_, err := flows.Reverse(tx, w.at(pLead), 999, "错")
			return err
		}, flows.CodeNotFound, "parts.unknown_move"},
		{"reverse a receipt whose stock is gone", func(tx flows.Tx) error {
			_, err := flows.Reverse(tx, w.at(pLead), receipt, "错")
			return err
		}, flows.CodeConflict, "parts.short"},
		{"reverse twice", func(tx flows.Tx) error {
			if _, err := flows.Reverse(tx, w.at(pLead), 2, "错"); err != nil { // the valve receipt
				t.Fatal(err)
			}
			_, err := flows.Reverse(tx, w.at(pLead), 2, "错")
			return err
		}, flows.CodeConflict, "parts.already_reversed"},
		{"reverse a reversal", func(tx flows.Tx) error {
			res, err := flows.Reverse(tx, w.at(pLead), 2, "错")
			if err != nil {
				t.Fatal(err)
			}
			_, err = flows.Reverse(tx, w.at(pLead), res.Moves[0].Seq, "错")
			return err
		}, flows.CodeConflict, "parts.reverse_reversal"},
		{"catalog edit by a technician", func(tx flows.Tx) error {
			_, _, err := flows.SavePart(tx, w.at(pTech), flows.Part{Code: "X", Name: "x", Unit: "个", Stores: []string{"main"}})
			return err
		}, flows.CodeForbidden, "err.role"},
		{"billable part without a price", func(tx flows.Tx) error {
			_, _, err := flows.SavePart(tx, w.at(pLead), flows.Part{Code: "X", Name: "x", Unit: "个", Billable: true, Stores: []string{"main"}})
			return err
		}, flows.CodeInvalid, "parts.billable_no_price"},
		{"remove a store that holds stock", func(tx flows.Tx) error {
			p, _ := tx.Part("P-TAP")
			p.Stores = []string{"east"}
			_, _, err := flows.SavePart(tx, w.at(pLead), *p)
			return err
		}, flows.CodeConflict, "parts.store_has_stock"},
		{"store id in capitals", func(tx flows.Tx) error {
			_, err := flows.SaveStockLocation(tx, w.at(pLead), flows.StockLocation{ID: "SUPPLIER", Name: "假仓"})
			return err
		}, flows.CodeInvalid, "parts.bad_store_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before []flows.StockMove
			w.must(func(tx flows.Tx) error {
				return tx.EachStockMove(0, func(m *flows.StockMove) error { before = append(before, *m); return nil })
			})
			err := w.do(tc.fn)
			wantKey(t, err, tc.code, tc.key)
			var after int
			w.must(func(tx flows.Tx) error {
				return tx.EachStockMove(0, func(*flows.StockMove) error { after++; return nil })
			})
			if after != len(before) {
				t.Fatalf("a refused posting left %d moves (was %d)", after, len(before))
			}
		})
	}
	w.verify()
}

// A requisition over the limit goes through once a lead approves it.
func TestPartsApprovalOverLimit(t *testing.T) {
	w := newPartsWorld(t)
	w.stock("P-VALVE", "main", 10, 50000)
	pol := flows.PartsPolicy{ApprovalOver: 100000}
	in := flows.IssueInput{Part: "P-VALVE", Store: "main", Ticket: "BX-1", Qty: 3}
	wantKey(t, w.do(func(tx flows.Tx) error { _, err := flows.Issue(tx, w.at(pTech), pol, in); return err }), flows.CodeForbidden, "parts.needs_approval")
	in.ApprovedBy = pLead
	w.must(func(tx flows.Tx) error { _, err := flows.Issue(tx, w.at(pTech), pol, in); return err })
	in.ApprovedBy = nil
	w.must(func(tx flows.Tx) error { _, err := flows.Issue(tx, w.at(pLead), pol, in); return err }) // a lead needs nobody
	if l := w.level("P-VALVE", flows.JobLocation("BX-1")); l.Qty != 6 || l.Value != 300000 {
		t.Fatalf("job level %+v", l)
	}
}

// The leads hear once per shortage: when the level falls below the
// minimum, not on every move below it, and again only after it recovered.
func TestPartsLowStockAlertOnce(t *testing.T) {
	w := newPartsWorld(t) // P-TAP minimum 2
	res := w.stock("P-TAP", "main", 3, 1000)
	if len(res.Alerts) != 0 {
		t.Fatalf("alert above the minimum: %+v", res.Alerts)
	}
	issue := func() flows.StockResult {
		var r flows.StockResult
		w.must(func(tx flows.Tx) error {
			var err error
			r, err = flows.Issue(tx, w.at(pTech), flows.PartsPolicy{}, flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: "BX-9", Qty: 1})
			return err
		})
		return r
	}
	steps := []struct {
		name             string
		do               func() flows.StockResult
		alerts, recovers int
	}{
		{"3 → 2: at the minimum", issue, 0, 0},
		{"2 → 1: below, alert", issue, 1, 0},
		{"1 → 0: still below, quiet", issue, 0, 0},
		{"0 → 5: recovered", func() flows.StockResult { return w.stock("P-TAP", "main", 5, 1000) }, 0, 1},
		{"5 → 4", issue, 0, 0},
		{"4 → 3", issue, 0, 0},
		{"3 → 2", issue, 0, 0},
		{"2 → 1: below again, alert again", issue, 1, 0},
	}
	for _, s := range steps {
		r := s.do()
		if len(r.Alerts) != s.alerts || len(r.Recovered) != s.recovers {
			t.Fatalf("%s: %d alerts, %d recovered, want %d, %d", s.name, len(r.Alerts), len(r.Recovered), s.alerts, s.recovers)
		}
	}
	w.must(func(tx flows.Tx) error {
		as, err := tx.LowStockAlerts()
		if err != nil || len(as) != 1 || as[0].Part != "P-TAP" || as[0].Store != "main" || as[0].Qty != 1 {
			t.Errorf("open alerts %+v %v", as, err)
		}
		// Lowering the minimum below the level clears the alert at once;
		// a catalog change never raises one (the empty east store stays quiet).
		p, _ := tx.Part("P-TAP")
		p.MinStock = 1
		_, res, err := flows.SavePart(tx, w.at(pLead), *p)
		if err != nil {
			return err
		}
		if len(res.Alerts) != 0 || len(res.Recovered) != 1 || res.Recovered[0].Store != "main" {
			t.Errorf("a new minimum: alerts %+v, recovered %+v", res.Alerts, res.Recovered)
		}
		return nil
	})
}

// A refused quote gives every part back to the store it came from.
func TestPartsReturnJobParts(t *testing.T) {
	w := newPartsWorld(t)
	w.stock("P-TAP", "main", 5, 3000)
	w.stock("P-TAP", "east", 5, 5000)
	w.stock("P-VALVE", "main", 5, 1000)
	const job = "BX-20261102-0003"
	w.must(func(tx flows.Tx) error {
		for _, in := range []flows.IssueInput{{Part: "P-TAP", Store: "main", Qty: 2}, {Part: "P-TAP", Store: "east", Qty: 1}, {Part: "P-VALVE", Store: "main", Qty: 1}} {
			in.Ticket = job
			if _, err := flows.Issue(tx, w.at(pTech), flows.PartsPolicy{}, in); err != nil {
				return err
			}
		}
		lines, err := flows.StockOverview(tx, "", []string{job})
		if err != nil {
			return err
		}
		for _, l := range lines {
			if l.Part.Code == "P-TAP" && l.Store == "east" && (l.Reserved != 1 || l.OnHand != 4) {
				t.Errorf("overview %+v", l)
			}
			if l.Part.Code == "P-TAP" && l.Store == "main" && l.Reserved != 2 {
				t.Errorf("overview %+v", l)
			}
		}
		res, err := flows.ReturnJobParts(tx, w.at(pRes), job, "住户拒绝报价")
		if err != nil {
			return err
		}
		if len(res.Moves) != 3 {
			t.Errorf("return moves %+v", res.Moves)
		}
		held, err := tx.StockLevels(flows.JobLocation(job))
		if err != nil || len(held) != 0 {
			t.Errorf("the job still holds %+v %v", held, err)
		}
		return nil
	})
	for _, c := range []struct {
		part, store string
		qty, value  int64
	}{{"P-TAP", "main", 5, 15000}, {"P-TAP", "east", 5, 25000}, {"P-VALVE", "main", 5, 5000}} {
		if l := w.level(c.part, c.store); l.Qty != c.qty || l.Value != c.value {
			t.Errorf("%s in %s: %+v", c.part, c.store, l)
		}
	}
	w.verify()
}

// A redelivered tap (same key) posts nothing twice.
func TestPartsIdempotencyKey(t *testing.T) {
	w := newPartsWorld(t)
	w.stock("P-TAP", "main", 5, 3000)
	p := w.at(pTech)
	in := flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: "BX-1", Qty: 2}
	var first, second flows.StockResult
	w.must(func(tx flows.Tx) error {
		var err error
		first, err = flows.Issue(tx, p, flows.PartsPolicy{}, in)
		return err
	})
	w.must(func(tx flows.Tx) error {
		var err error
		second, err = flows.Issue(tx, p, flows.PartsPolicy{}, in)
		return err
	})
	if first.Replayed || !second.Replayed || second.Moves[0].Seq != first.Moves[0].Seq {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if l := w.level("P-TAP", "main"); l.Qty != 3 {
		t.Fatalf("level %+v", l)
	}
}

// A clock stepped back never back-dates the ledger: the move is posted at
// the previous move's time, so the ledger's order stays its time order.
func TestPartsNoBackDating(t *testing.T) {
	w := newPartsWorld(t)
	w.stock("P-TAP", "main", 5, 3000)
	last := w.now
	w.must(func(tx flows.Tx) error {
		res, err := flows.Issue(tx, flows.Posting{By: pTech, At: last.Add(-time.Hour)}, flows.PartsPolicy{}, flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: "BX-1", Qty: 1})
		if err != nil {
			return err
		}
		if !res.Moves[0].PostedAt.Equal(last) {
			t.Errorf("posted at %v, want %v", res.Moves[0].PostedAt, last)
		}
		return nil
	})
}
