package outbox_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// TestFollowerSendsNothing: a dispatcher whose replica does not lead
// (Options.Leading false) claims and sends nothing, however long the queue
// waits; once it leads it delivers the whole queue in order.
func TestFollowerSendsNothing(t *testing.T) {
	var sent sentTexts
	p := policy(sent.send)
	p.Judge = func(error) outbox.Verdict { return outbox.Verdict{} }
	var leading atomic.Bool
	r := newRig(t, p, outbox.Options{Workers: 2, Leading: leading.Load})
	a := flows.Address{Channel: "x", Chat: "a"}
	r.enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "1"}, flows.Message{To: a, Kind: flows.KindSend, Text: "2"})
	r.start()
	// Several of the follower's looks at the lead, and new rows meanwhile.
	time.Sleep(700 * time.Millisecond)
	r.enqueue(flows.Message{To: a, Kind: flows.KindSend, Text: "3"})
	time.Sleep(300 * time.Millisecond)
	if got := sent.got(); len(got) != 0 {
		t.Fatalf("a follower sent %v", got)
	}
	if rows, err := r.st.Pending(0); err != nil || len(rows) != 3 {
		t.Fatalf("pending on the follower: %d rows, %v; want all 3 left for the leader", len(rows), err)
	}
	leading.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := sent.got()
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
