package flows_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// script is a registration and a report, as the events a channel delivers.
func script(w *flowstest.World, p flowstest.Person) []flows.Event {
	ev := func(key string, kind flows.EventKind) flows.Event {
		return flows.Event{Key: key, Kind: kind, At: w.Now, Chat: p.Chat(),
			From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: "zh-hans"}}
	}
	var out []flows.Event
	add := func(kind flows.EventKind, f func(*flows.Event)) {
		e := ev(fmt.Sprintf("u:%d:%d", p.ID, len(out)), kind)
		f(&e)
		out = append(out, e)
	}
	add(flows.EvCommand, func(e *flows.Event) { e.Command = "start" })
	add(flows.EvText, func(e *flows.Event) { e.Text = p.Name })
	add(flows.EvContact, func(e *flows.Event) { e.Phone, e.ContactIsOwn = "13800138000", true })
	for _, s := range []string{"3栋", "2单元", "1502"} {
		s := s
		add(flows.EvText, func(e *flows.Event) { e.Text = s })
	}
	add(flows.EvCommand, func(e *flows.Event) { e.Command = "report" })
	add(flows.EvCallback, func(e *flows.Event) { e.Data = "1|d|1|cat:water" })
	add(flows.EvText, func(e *flows.Event) { e.Text = "漏水" })
	add(flows.EvCallback, func(e *flows.Event) { e.Data = "1|d|3|done" })
	add(flows.EvCallback, func(e *flows.Event) { e.Data = "1|d|4|kind:household" })
	add(flows.EvCallback, func(e *flows.Event) { e.Data = "1|d|5|asap" })
	return out
}

// TestRedeliveryInRandomOrder delivers every update 1–3 times, duplicates
// at random later positions, for several people at once: the outcome is
// the same as delivering each once — one ticket per person, the same
// number of messages.
func TestRedeliveryInRandomOrder(t *testing.T) {
	people := []flowstest.Person{{ID: 100, Name: "王芳"}, {ID: 101, Name: "李雷"}, {ID: 102, Name: "韩梅"}}
	once := flowstest.New(t)
	for _, p := range people {
		for _, e := range script(once, p) {
			once.Do(e)
		}
	}
	want := len(once.Drain())
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		w := flowstest.New(t)
		// Interleave people, keep each person's order, then add duplicates.
		queues := map[int64][]flows.Event{}
		for _, p := range people {
			queues[p.ID] = script(w, p)
		}
		var stream []flows.Event
		total := 0
		for _, q := range queues {
			total += len(q)
		}
		for len(stream) < total {
			p := people[rng.Intn(len(people))]
			if q := queues[p.ID]; len(q) > 0 {
				stream = append(stream, q[0])
				queues[p.ID] = q[1:]
			}
		}
		delivered := append([]flows.Event(nil), stream...)
		for _, e := range stream {
			for k := rng.Intn(3); k > 0; k-- { // 0–2 extra copies, somewhere after the original
				pos := 0
				for delivered[pos].Key != e.Key {
					pos++
				}
				at := pos + 1 + rng.Intn(len(delivered)-pos)
				delivered = append(delivered[:at], append([]flows.Event{e}, delivered[at:]...)...)
			}
		}
		dups := 0
		for _, e := range delivered {
			if w.Do(e).Duplicate {
				dups++
			}
		}
		if got := len(w.Drain()); got != want || dups != len(delivered)-len(stream) {
			t.Fatalf("seed %d: %d messages (want %d), %d duplicates recognised of %d", seed, got, want, dups, len(delivered)-len(stream))
		}
		for _, p := range people {
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
				ts, err := tx.TicketsByResident(p.PID(), 0)
				if err != nil || len(ts) != 1 {
					t.Fatalf("seed %d: %s has %d tickets", seed, p.Name, len(ts))
				}
				return nil
			})
		}
	}
}
