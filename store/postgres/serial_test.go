package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

// TestConversationsRunOneAtATime: two stores on one database (two
// replicas). While one handles an update of a conversation, the other's
// update of the same conversation waits, by Update or by Batch, and then
// runs once and sees what the first committed; another conversation's
// update does not wait.
func TestConversationsRunOneAtATime(t *testing.T) {
	dsn := pgstoretest.DSN(t)
	a := mustOpenDSN(t, dsn, postgres.Options{})
	b := mustOpenDSN(t, dsn, postgres.Options{})
	k := flows.WithSerialKey(context.Background(), "tg:1001")
	l := flows.WithSerialKey(context.Background(), "tg:1002")

	var inside, release chan struct{}
	var once *sync.Once
	let := func() { once.Do(func() { close(release) }) }
	hold := func() {
		inside, release, once = make(chan struct{}), make(chan struct{}), &sync.Once{}
	}
	hold()
	// A failing check must not leave the first store's transaction
	// waiting forever (its Close would wait for it).
	t.Cleanup(func() { let() })
	first := make(chan error, 1)
	go func() {
		first <- a.Update(k, func(tx flows.Tx) error {
			if err := tx.SetCursor("k", "a"); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside

	// Another conversation goes ahead while the first is held.
	if err := b.Update(l, func(tx flows.Tx) error { return tx.SetCursor("l", "b") }); err != nil {
		t.Fatal(err)
	}

	type run struct {
		saw string
		err error
	}
	var runs atomic.Int32
	waits := func(name string, write func(context.Context, func(flows.Tx) error) error) <-chan run {
		out := make(chan run, 1)
		go func() {
			var saw string
			err := write(k, func(tx flows.Tx) error {
				runs.Add(1)
				var err error
				saw, err = tx.Cursor("k")
				if err != nil {
					return err
				}
				return tx.SetCursor("k", saw+"+"+name)
			})
			out <- run{saw, err}
		}()
		return out
	}
	byUpdate := waits("update", b.Update)
	select {
	case r := <-byUpdate:
		t.Fatalf("the same conversation's update ran while the first held it (saw %q, %v)", r.saw, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := runs.Load(); n != 0 {
		t.Fatalf("the waiting update's function ran %d times before the first committed", n)
	}
	let()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	r := <-byUpdate
	if r.err != nil || r.saw != "a" {
		t.Fatalf("the waiting update saw %q (%v), want the first's %q", r.saw, r.err, "a")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the waiting update ran %d times, want once (it waited outside its transaction)", n)
	}

	// Batch (group commit) serialises the same way.
	hold()
	go func() {
		first <- a.Batch(k, func(tx flows.Tx) error {
			close(inside)
			<-release
			return tx.SetCursor("k", "batch-a")
		})
	}()
	<-inside
	runs.Store(0)
	byBatch := waits("batch", b.Batch)
	select {
	case r := <-byBatch:
		t.Fatalf("the same conversation's batch ran while the first held it (saw %q, %v)", r.saw, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	let()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if r := <-byBatch; r.err != nil || r.saw != "batch-a" {
		t.Fatalf("the waiting batch saw %q (%v), want %q", r.saw, r.err, "batch-a")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the waiting batch ran %d times, want once", n)
	}
	view(t, a, func(tx flows.Tx) error {
		for name, want := range map[string]string{"k": "batch-a+batch", "l": "b"} {
			if got, err := tx.Cursor(name); err != nil || got != want {
				t.Errorf("cursor %s = %q (%v), want %q", name, got, err, want)
			}
		}
		return nil
	})
}
