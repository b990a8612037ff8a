package flows_test

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/partsgen"
	"github.com/repairbot/repairbot/store"
)

var partsSeed = flag.Uint64("parts.seed", 0, "TestPartsLedgerProperty: the seed (0 picks one from the clock)")

// Random purchases, receipts, requisitions, returns, scraps, stocktakes and
// reversals: after every operation the outcome is the one the driver's own
// model predicts (a refusal exactly when stock is short), and every few
// operations the stored levels equal the ledger's projection, none is
// negative, the quantities are the model's and the value held is what came
// in less what went out. Reopening the store changes none of it, and the
// all-time stock report closes on the levels.
func TestPartsLedgerProperty(t *testing.T) {
	seed := *partsSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -parts.seed=%d)", seed, seed)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parts.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := partsgen.Setup(ctx, st, seed, 2, 6, 5, pt0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600; i++ {
		if err := d.Step(ctx, st); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if i%25 == 0 {
			if err := d.Check(ctx, st); err != nil {
				t.Fatalf("after step %d: %v", i, err)
			}
		}
	}
	if err := d.Check(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"receive ok", "issue ok", "issue parts.short", "return ok", "stocktake ok", "reverse ok", "scrap ok"} {
		if d.Stats[op] == 0 {
			t.Errorf("no %q in %v: the driver does not cover it", op, d.Stats)
		}
	}
	t.Logf("operations: %v", d.Stats)
	st.Close()
	st, err = store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := d.Check(ctx, st); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	err = st.View(ctx, func(tx flows.Tx) error {
		rows, err := flows.StockMonth(tx, pt0.Add(-time.Hour), d.Now.Add(time.Hour))
		if err != nil {
			return err
		}
		for _, r := range rows {
			l, err := tx.StockLevel(r.Part, r.Store)
			if err != nil {
				return err
			}
			if r.Opening != (flows.StockAmount{}) || r.Closing.Qty != l.Qty || r.Closing.Value != l.Value {
				t.Errorf("all-time report row %+v, level %+v", r, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Many technicians take the last units at once, through group commit
// (Batch) and single transactions (Update): exactly the units on hand are
// issued, everyone else is told the stock is short, and the store agrees
// after reopening.
func TestPartsConcurrentLastUnits(t *testing.T) {
	for _, mode := range []string{"batch", "update"} {
		t.Run(mode, func(t *testing.T) {
			w := newPartsWorld(t)
			const onHand, takers = 5, 40
			w.stock("P-TAP", "main", onHand, 3000)
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, short := 0, 0
			var other []error
			start := make(chan struct{})
			for i := 0; i < takers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					tech := &flows.Person{ID: "tg:" + string(rune('a'+i%26)) + string(rune('0'+i/26)), Role: flows.RoleTechnician, Registered: true}
					fn := func(tx flows.Tx) error {
						_, err := flows.Issue(tx, flows.Posting{By: tech, At: pt0.Add(time.Hour)}, flows.PartsPolicy{},
							flows.IssueInput{Part: "P-TAP", Store: "main", Ticket: "BX-20261102-0100", Qty: 1})
						return err
					}
					var err error
					if mode == "batch" {
						err = w.s.Batch(context.Background(), fn)
					} else {
						err = w.s.Update(context.Background(), fn)
					}
					var fe *flows.Error
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.As(err, &fe) && fe.Key == "parts.short" && fe.Code == flows.CodeConflict:
						short++
					default:
						other = append(other, err)
					}
				}(i)
			}
			close(start)
			wg.Wait()
			if ok != onHand || short != takers-onHand || len(other) > 0 {
				t.Fatalf("%d issued, %d told short, other errors %v; want %d and %d", ok, short, other, onHand, takers-onHand)
			}
			path := w.s.Path()
			w.s.Close()
			w2 := openPartsWorld(t, path, false)
			if l := w2.level("P-TAP", "main"); l.Qty != 0 || l.Value != 0 {
				t.Fatalf("store level after reopening %+v", l)
			}
			if l := w2.level("P-TAP", flows.JobLocation("BX-20261102-0100")); l.Qty != onHand {
				t.Fatalf("job level after reopening %+v", l)
			}
			w2.verify()
		})
	}
}
