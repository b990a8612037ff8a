package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Head-of-line blocking: a backlog of 400 low-priority rows to distinct
// chats (reminders and command menus, as the start-up's menus and the
// 17:30 handover lists make) is draining at the global rate when a lead
// who also has a reminder and a menu queued gets a reply and an emergency
// page. The lead's oldest row goes with the page's priority (inheritance)
// and the menu holds up nothing (its own lane), so the reminder, the reply
// and the page go within a few sends, in their order, long before the
// backlog is done.
func TestNoHeadOfLineBlocking(t *testing.T) {
	var mu sync.Mutex
	var order []string
	p := policy(func(_ context.Context, r outbox.Row) (string, error) {
		mu.Lock()
		order = append(order, r.Msg.Text)
		mu.Unlock()
		return fmt.Sprint(r.ID), nil
	})
	p.Global = rate.NewLimiter(200, 1)
	r := newRig(t, p, outbox.Options{Workers: 4})
	lead := flows.Address{Channel: "x", Chat: "lead"}
	// The lead's menu and reminder are older than most of the backlog.
	backlog := []flows.Message{
		{To: lead, Kind: flows.KindMenu, Text: "lead menu", Priority: flows.PrioReminder},
		{To: lead, Kind: flows.KindSend, Text: "lead reminder", Priority: flows.PrioReminder},
	}
	for i := range 400 {
		m := flows.Message{To: flows.Address{Channel: "x", Chat: fmt.Sprintf("staff%03d", i)}, Kind: flows.KindMenu, Text: "menu", Priority: flows.PrioReminder}
		if i%2 == 1 {
			m.Kind, m.Text = flows.KindSend, "handover list"
		}
		backlog = append(backlog, m)
	}
	r.enqueue(backlog[2:200]...)
	r.enqueue(backlog[:2]...)
	r.enqueue(backlog[200:]...)
	r.start()
	sent := func() int { mu.Lock(); defer mu.Unlock(); return len(order) }
	waitUntil(t, 10*time.Second, "the backlog to start draining", func() bool { return sent() >= 20 })
	r.enqueue(flows.Message{To: lead, Kind: flows.KindSend, Text: "lead reply", Priority: flows.PrioNormal},
		flows.Message{To: lead, Kind: flows.KindSend, Text: "lead page", Priority: flows.PrioUrgent})
	from := sent()
	waitUntil(t, 20*time.Second, "everything", r.drained)
	r.stop()
	pos := map[string]int{}
	for i, text := range order {
		if _, ok := pos[text]; !ok {
			pos[text] = i
		}
	}
	if len(order) != 404 {
		t.Fatalf("%d sends, want 404", len(order))
	}
	// At most the sends already in flight (4 workers) and a few of the
	// other lanes while the lead's three go one after another.
	const within = 20
	if pos["lead page"]-from > within {
		t.Errorf("the page went %d sends after it was queued (the reminder at %d, the reply at %d); want within %d",
			pos["lead page"]-from, pos["lead reminder"]-from, pos["lead reply"]-from, within)
	}
	if !(pos["lead reminder"] < pos["lead reply"] && pos["lead reply"] < pos["lead page"]) {
		t.Errorf("the lead's messages out of order: reminder %d, reply %d, page %d", pos["lead reminder"], pos["lead reply"], pos["lead page"])
	}
}

// Menus keep an order of their own: a newer menu for a chat lands after
// the older one, even though neither waits for the chat's messages.
func TestMenusKeepTheirOwnOrder(t *testing.T) {
	var mu sync.Mutex
	var got []string
	r := newRig(t, policy(func(_ context.Context, r outbox.Row) (string, error) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		got = append(got, r.Msg.Text)
		mu.Unlock()
		return "", nil
	}), outbox.Options{Workers: 4})
	a := flows.Address{Channel: "x", Chat: "a"}
	r.enqueue(flows.Message{To: a, Kind: flows.KindMenu, Text: "menu 1", Priority: flows.PrioReminder},
		flows.Message{To: a, Kind: flows.KindSend, Text: "reply", Priority: flows.PrioNormal},
		flows.Message{To: a, Kind: flows.KindMenu, Text: "menu 2", Priority: flows.PrioReminder},
		flows.Message{To: a, Kind: flows.KindMenu, Text: "menu 3", Priority: flows.PrioReminder})
	r.start()
	waitUntil(t, 5*time.Second, "all four", r.drained)
	r.stop()
	var menus []string
	for _, s := range got {
		if s != "reply" {
			menus = append(menus, s)
		}
	}
	if fmt.Sprint(menus) != "[menu 1 menu 2 menu 3]" {
		t.Errorf("menus went %v (all sends %v)", menus, got)
	}
}

// The dispatcher's per-address state is bounded: after rows to 1,500
// distinct chats have gone out, it keeps at most outbox.MaxTracked of them
// (idle state behaves as new and is forgotten).
func TestDispatcherForgetsIdleAddresses(t *testing.T) {
	p := policy(func(context.Context, outbox.Row) (string, error) { return "", nil })
	// Many workers: each pass of the loop reads the whole backlog and
	// starts at most a free worker's worth of sends, and what is measured
	// here is the memory, not the pace (under -race on a busy machine 8
	// workers took 25–30 s).
	r := newRig(t, p, outbox.Options{Workers: 64})
	var ms []flows.Message
	for i := range 1500 {
		ms = append(ms, flows.Message{To: flows.Address{Channel: "x", Chat: fmt.Sprint(i)}, Kind: flows.KindSend, Text: "x"})
	}
	r.enqueue(ms...)
	r.start()
	waitUntil(t, 30*time.Second, "all sent", r.drained)
	r.stop()
	if n := r.d.Tracked(); n > outbox.MaxTracked {
		t.Errorf("the dispatcher keeps state of %d addresses after 1,500 went idle; want at most %d", n, outbox.MaxTracked)
	}
}
