package outbox_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
)

// TestFollowerSendsNothing: a dispatcher whose replica does not lead
// (Options.Leading false) claims and sends nothing, however long the queue
// waits; once it leads it delivers the whole queue in order.
func TestFollowerSendsNothing(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "o.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	var sent []string
	p := outbox.Policy{
		Name:   "test",
		Owns:   func(a flows.Address) bool { return a.Channel == "x" },
		Global: rate.NewLimiter(rate.Inf, 1),
		Send: func(_ context.Context, r outbox.Row) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, r.Msg.Text)
			return r.Msg.Text, nil
		},
		Judge: func(error) outbox.Verdict { return outbox.Verdict{} },
	}
	var leading atomic.Bool
	d := outbox.New(p, outbox.Options{Queue: st, Log: zerolog.Nop(), Workers: 2, Leading: leading.Load})
	a := flows.Address{Channel: "x", Chat: "a"}
	err = st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "1"}, flows.Message{To: a, Kind: flows.KindSend, Text: "2"})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.Open(ctx)
	defer func() { cancel(); d.Close() }()
	// Several of the follower's looks at the lead, and new rows meanwhile.
	time.Sleep(700 * time.Millisecond)
	err = st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "3"})
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	if len(sent) != 0 {
		t.Fatalf("a follower sent %v", sent)
	}
	mu.Unlock()
	if rows, err := st.Pending(0); err != nil || len(rows) != 3 {
		t.Fatalf("pending on the follower: %d rows, %v; want all 3 left for the leader", len(rows), err)
	}
	leading.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), sent...)
		mu.Unlock()
		if len(got) == 3 {
			if got[0] != "1" || got[1] != "2" || got[2] != "3" {
				t.Fatalf("the new leader sent %v, want 1 2 3 in order", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new leader sent %v within 5 s, want 1 2 3", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
