package flowstest_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/store/storetest"
)

// counting is "another store implementation": the bbolt store behind a
// type that is not *store.Store, counting its transactions.
type counting struct {
	flows.Store
	updates *atomic.Int64
}

func (c counting) Update(ctx context.Context, fn func(flows.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

func (c counting) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Batch(ctx, fn)
}

// countingStore wraps every store OpenBolt opens, reopened ones included.
func countingStore(updates *atomic.Int64, opened *int) storetest.Open {
	var wrap func(o storetest.Opened) storetest.Opened
	wrap = func(o storetest.Opened) storetest.Opened {
		*opened++
		reopen := o.Reopen
		return storetest.Opened{Store: counting{o.Store, updates}, Queue: o.Queue,
			Reopen: func(tb testing.TB) storetest.Opened { return wrap(reopen(tb)) }}
	}
	return func(tb testing.TB, now func() time.Time) storetest.Opened { return wrap(flowstest.OpenBolt(tb, now)) }
}

// TestWorldRunsOnTheStoreItIsGiven: a World built WithStore runs the
// engine, its reads and a restart on that store, not on bbolt directly.
func TestWorldRunsOnTheStoreItIsGiven(t *testing.T) {
	var updates atomic.Int64
	opened := 0
	w := flowstest.New(t, flowstest.WithStore(countingStore(&updates, &opened)))
	resident, tech := flowstest.Person{ID: 100, Name: "王芳"}, flowstest.Person{ID: 200, Name: "张师傅"}
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(resident, "厨房水管漏水")
	before := updates.Load()
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	if updates.Load() <= before {
		t.Fatal("accepting the ticket did not go through the given store")
	}
	w.Reopen()
	if opened != 2 {
		t.Fatalf("the store was opened %d times, want 2 (New and Reopen)", opened)
	}
	before = updates.Load()
	if tk := w.Ticket(id); tk.State != flows.StateAccepted || tk.AssigneeID != tech.PID() {
		t.Fatalf("after the restart: %+v", tk)
	}
	w.Cmd(tech, "mytickets", "")
	if updates.Load() <= before {
		t.Fatal("the restarted engine does not run on the given store")
	}
	if m := w.Last(w.Drain(), tech.Chat()); !strings.Contains(m.Text, id) {
		t.Fatalf("/mytickets after the restart does not list %s: %q", id, m.Text)
	}
}

// TestBoltSkipsOnAnotherStore: a test that needs the concrete bbolt store
// is skipped, not failed, when the World runs on another implementation.
func TestBoltSkipsOnAnotherStore(t *testing.T) {
	if flowstest.New(t).Bolt() == nil {
		t.Fatal("no bbolt store under the default World")
	}
	var sub *testing.T
	var updates atomic.Int64
	opened := 0
	t.Run("other store", func(t *testing.T) {
		sub = t
		flowstest.New(t, flowstest.WithStore(countingStore(&updates, &opened))).Bolt()
		t.Error("Bolt returned on another store")
	})
	if !sub.Skipped() {
		t.Fatal("Bolt did not skip the test")
	}
}
