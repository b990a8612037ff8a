package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/crashtest"
	"github.com/repairbot/repairbot/internal/partsgen"
	"github.com/repairbot/repairbot/store"
)

var pt0 = time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)

// TestPartsKillChild is the child of TestPartsKillMidPosting: it posts
// random stock operations on PARTS_KILL_DB, fsync on, until it is killed.
func TestPartsKillChild(t *testing.T) {
	path := os.Getenv("PARTS_KILL_DB")
	if path == "" {
		t.Skip("child process of TestPartsKillMidPosting")
	}
	seed, _ := strconv.ParseUint(os.Getenv("PARTS_KILL_SEED"), 10, 64)
	ctx := context.Background()
	s, err := store.Open(path, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d, err := partsgen.Setup(ctx, s, seed, 2, 8, 6, pt0.Add(time.Duration(seed%1000)*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx, s); err != nil {
		t.Fatalf("at start: %v", err)
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		if err := d.Step(ctx, s); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		fmt.Printf("posted %d\n", i)
	}
}

// A process posting stock moves in a loop is SIGKILLed at random moments,
// mid-transaction as often as not; after each kill the reopened store's
// levels equal the ledger's projection, none is negative, the value held
// is what came in less what went out, and the next run's model (loaded
// from the levels) predicts every outcome.
func TestPartsKillMidPosting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parts.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	p := &crashtest.Process{Path: os.Args[0], Args: []string{"-test.run=^TestPartsKillChild$", "-test.count=1"}, Dir: dir}
	var moves int
	for round := 0; round < 5; round++ {
		// Each run its own seed: its own operations and idempotency keys.
		p.Env = append(os.Environ(), "PARTS_KILL_DB="+path, "PARTS_KILL_SEED="+strconv.FormatUint(seed+uint64(round), 10))
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if _, ok := p.WaitOutput("posted 5\n", 30*time.Second); !ok {
			t.Fatalf("round %d: the child did not start posting: %v\n%s", round, p.Crashes(), crashtest.TailFile(p.Logs()[round], 2000))
		}
		time.Sleep(time.Duration(r.IntN(300)) * time.Millisecond)
		if alive, _, _ := p.Kill(); !alive {
			t.Fatalf("round %d: the child had died: %v", round, p.Crashes())
		}
		s, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = s.View(context.Background(), func(tx flows.Tx) error {
			if err := partsgen.CheckTx(tx, nil); err != nil {
				return err
			}
			return tx.EachStockMove(0, func(*flows.StockMove) error { n++; return nil })
		})
		s.Close()
		if err != nil {
			t.Fatalf("round %d after SIGKILL: %v", round, err)
		}
		if n < moves {
			t.Fatalf("round %d: the ledger shrank from %d to %d moves", round, moves, n)
		}
		moves = n
		t.Logf("round %d: %d moves, projection equals the ledger", round, n)
	}
	if c := p.Crashes(); len(c) > 0 {
		t.Fatalf("the child failed on its own: %v", c)
	}
}

func partsStore(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "parts.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Levels damaged behind the ledger's back are found by the verification
// and rebuilt from the ledger alone.
func TestPartsRebuildLevelsFromLedger(t *testing.T) {
	ctx := context.Background()
	s := partsStore(t)
	d, err := partsgen.Setup(ctx, s, 7, 2, 5, 4, pt0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := d.Step(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var good []flows.StockLevel
	err = s.Update(ctx, func(tx flows.Tx) error {
		if err := tx.EachStockLevel(func(l flows.StockLevel) error { good = append(good, l); return nil }); err != nil {
			return err
		}
		if len(good) < 3 {
			return fmt.Errorf("only %d levels: the driver posted too little", len(good))
		}
		bad := append([]flows.StockLevel(nil), good[1:]...)                                                         // one level lost
		bad[0].Qty += 3                                                                                             // one level wrong
		bad = append(bad, flows.StockLevel{Part: "P-00001", Location: flows.JobLocation("BX-X"), Qty: 1, Value: 1}) // one invented
		return tx.ReplaceStockLevels(bad)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx flows.Tx) error {
		diffs, err := flows.VerifyStockLevels(tx)
		if err != nil {
			return err
		}
		if len(diffs) != 3 {
			t.Errorf("verification found %d differences, want 3: %+v", len(diffs), diffs)
		}
		n, err := flows.RebuildStockLevels(tx)
		if err != nil {
			return err
		}
		if n != len(good) {
			t.Errorf("rebuilt %d levels, had %d", n, len(good))
		}
		var i int
		err = tx.EachStockLevel(func(l flows.StockLevel) error {
			if i >= len(good) || l != good[i] {
				t.Errorf("rebuilt level %d is %+v", i, l)
			}
			i++
			return nil
		})
		if err != nil {
			return err
		}
		return partsgen.CheckTx(tx, d.Model)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A range of the ledger by posting time is exactly the moves a full scan
// finds in it, including when the clock stepped back (clamped moves share
// a time) and for ranges before, across and after the ledger.
func TestPartsMovesBetween(t *testing.T) {
	ctx := context.Background()
	s := partsStore(t)
	r := rand.New(rand.NewPCG(3, 4))
	err := s.Update(ctx, func(tx flows.Tx) error {
		at := pt0
		for i := 0; i < 500; i++ {
			at = at.Add(time.Duration(r.IntN(120)-20) * time.Second) // sometimes back
			_, err := tx.AppendStockMove(flows.StockMove{Kind: flows.MoveReceive, Part: "P-1", From: flows.LocSupplier, To: "main", Qty: 1, Value: 1, PostedAt: at})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []flows.StockMove
	_ = s.View(ctx, func(tx flows.Tx) error {
		return tx.EachStockMove(0, func(m *flows.StockMove) error { all = append(all, *m); return nil })
	})
	for i := 1; i < len(all); i++ {
		if all[i].PostedAt.Before(all[i-1].PostedAt) || all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("move %d at %v after %v", all[i].Seq, all[i].PostedAt, all[i-1].PostedAt)
		}
	}
	first, last := all[0].PostedAt, all[len(all)-1].PostedAt
	ranges := [][2]time.Time{{first.Add(-time.Hour), first}, {first.Add(-time.Hour), last.Add(time.Hour)}, {last, last.Add(time.Second)}, {last.Add(time.Second), last.Add(time.Hour)}}
	for i := 0; i < 50; i++ {
		a := first.Add(time.Duration(r.Int64N(int64(last.Sub(first)))))
		ranges = append(ranges, [2]time.Time{a, a.Add(time.Duration(r.IntN(3600)) * time.Second)})
	}
	for _, rg := range ranges {
		var want, got []uint64
		for _, m := range all {
			if !m.PostedAt.Before(rg[0]) && m.PostedAt.Before(rg[1]) {
				want = append(want, m.Seq)
			}
		}
		_ = s.View(ctx, func(tx flows.Tx) error {
			return tx.EachStockMoveBetween(rg[0], rg[1], func(m *flows.StockMove) error { got = append(got, m.Seq); return nil })
		})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("range %v: got %v, want %v", rg, got, want)
		}
	}
}
