package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

var errSlowDown = errors.New("slow down")
var errGone = errors.New("gone")

// TestDispatcher: per-address order, priorities across addresses, only the
// newest edit of a card, a pause for one address only, permanent failures
// recorded, transient ones retried, other channels' rows left alone.
func TestDispatcher(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	failOnce := map[string]bool{"b1": true, "c1": true}
	p := policy(func(_ context.Context, r outbox.Row) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if r.Msg.Text == "gone" {
			return "", errGone
		}
		if failOnce[r.Msg.Text] {
			failOnce[r.Msg.Text] = false
			if r.Msg.Text == "b1" {
				return "", errSlowDown
			}
			return "", errors.New("HTTP 502")
		}
		sent = append(sent, r.Msg.Text)
		return r.Msg.Text, nil
	})
	p.Judge = func(err error) outbox.Verdict {
		switch {
		case errors.Is(err, errSlowDown):
			return outbox.Verdict{Pause: 300 * time.Millisecond}
		case errors.Is(err, errGone):
			return outbox.Verdict{Permanent: true}
		}
		return outbox.Verdict{}
	}
	r := newRig(t, p, outbox.Options{Workers: 1, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	st, d := r.st, r.d
	a := flows.Address{Channel: "x", Chat: "a"}
	b := flows.Address{Channel: "x", Chat: "b"}
	c := flows.Address{Channel: "x", Chat: "c"}
	other := flows.Address{Channel: "y", Chat: "a"}
	r.enqueue(
		flows.Message{To: a, Kind: flows.KindSend, Text: "a1", Priority: flows.PrioNormal},
		flows.Message{To: a, Kind: flows.KindSend, Text: "a2", Priority: flows.PrioUrgent}, // urgent, but behind a1 in its address
		flows.Message{To: b, Kind: flows.KindSend, Text: "b1", Priority: flows.PrioNormal},
		flows.Message{To: b, Kind: flows.KindSend, Text: "b2", Priority: flows.PrioNormal},
		flows.Message{To: c, Kind: flows.KindSend, Text: "c1", Priority: flows.PrioUrgent},
		flows.Message{To: a, Kind: flows.KindEdit, Text: "card v1", CardKey: "k"},
		flows.Message{To: a, Kind: flows.KindEdit, Text: "card v2", CardKey: "k"},
		flows.Message{To: c, Kind: flows.KindSend, Text: "gone"},
		flows.Message{To: other, Kind: flows.KindSend, Text: "not ours"},
	)
	r.start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, _ := st.Stats()
		if s.Pending == 1 { // only the other channel's row is left
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained: %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.stop()
	pos := map[string]int{}
	for i, s := range sent {
		pos[s] = i
	}
	if _, ok := pos["card v1"]; ok {
		t.Errorf("the superseded edit was sent: %v", sent)
	}
	if !(pos["a1"] < pos["a2"] && pos["a2"] < pos["card v2"] && pos["b1"] < pos["b2"]) {
		t.Errorf("per-address order broken: %v", sent)
	}
	if pos["b1"] < pos["a2"] {
		t.Errorf("the paused address went before the others: %v", sent)
	}
	failed, _ := st.Rows(outbox.StatusFailed)
	if len(failed) != 1 || failed[0].Msg.Text != "gone" || failed[0].LastError != "gone" {
		t.Errorf("failed rows %+v", failed)
	}
	if d.Paused.Load() != 1 || d.Retried.Load() != 1 || d.Failed.Load() != 1 || d.Sent.Load() != int64(len(sent)) {
		t.Errorf("counters sent=%d paused=%d retried=%d failed=%d", d.Sent.Load(), d.Paused.Load(), d.Retried.Load(), d.Failed.Load())
	}
}

// TestDigestFoldsABacklogOfNewCards: with the address's budget spent, new
// cards that have waited are sent as one digest; urgent ones never fold;
// every folded card is delivered and marked as living in a digest.
func TestDigestFoldsABacklogOfNewCards(t *testing.T) {
	var mu sync.Mutex
	var sent []flows.Message
	group := flows.Address{Channel: "x", Chat: "-1"}
	slow := rate.NewLimiter(rate.Every(200*time.Millisecond), 1)
	p := policy(func(_ context.Context, r outbox.Row) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, r.Msg)
		return "m" + r.Msg.Text[:1], nil
	})
	p.Budgets = func(flows.Message) []outbox.Budget { return []outbox.Budget{outbox.Rate(slow)} }
	p.Digest = func(rows []outbox.Row) flows.Message {
		m := flows.Message{Text: "digest"}
		for _, r := range rows {
			m.Text += " " + r.Msg.Ticket
		}
		return m
	}
	p.DigestAfter = 50 * time.Millisecond
	r := newRig(t, p, outbox.Options{Workers: 1})
	st, d := r.st, r.d
	var msgs []flows.Message
	for i := 1; i <= 10; i++ {
		prio := flows.PrioNormal
		if i == 5 {
			prio = flows.PrioUrgent
		}
		id := string(rune('A' + i))
		msgs = append(msgs, flows.Message{To: group, Kind: flows.KindSend, Text: "card " + id, CardKey: "grp:" + id, Ticket: id, Priority: prio})
	}
	r.enqueue(msgs...)
	r.start()
	waitUntil(t, 10*time.Second, "the queue to drain", r.drained)
	r.stop()
	digests, singles := 0, 0
	for _, m := range sent {
		if len(m.Text) >= 6 && m.Text[:6] == "digest" {
			digests++
		} else {
			singles++
		}
	}
	if digests == 0 || len(sent) >= 10 || d.Folded.Load() < 2 {
		t.Fatalf("no folding: %d messages (%d digests), folded %d", len(sent), digests, d.Folded.Load())
	}
	// The urgent card went alone.
	urgentAlone := false
	for _, m := range sent {
		if m.Text == "card F" {
			urgentAlone = true
		}
	}
	if !urgentAlone {
		t.Errorf("the urgent card was folded or lost: %+v", sent)
	}
	done, _ := st.Rows(outbox.StatusDelivered)
	if len(done) != 10 {
		t.Fatalf("%d rows delivered, want 10", len(done))
	}
	folded := 0
	for _, row := range done {
		if ref, ok, _ := st.Card(row.Msg.CardKey); ok && ref.Digest {
			folded++
		}
	}
	if int64(folded) != d.Folded.Load() {
		t.Errorf("%d cards marked as in a digest, %d folded", folded, d.Folded.Load())
	}
}

// TestRetireDoesNotHoldUpTheNextAnswer: a card's Retire edit (it only takes
// old buttons away) lets the next row of its address go first when both
// wait for the address's budget; everything else keeps its order, and the
// retirement still goes out.
func TestRetireDoesNotHoldUpTheNextAnswer(t *testing.T) {
	var texts sentTexts
	chat := flows.Address{Channel: "x", Chat: "200"}
	slow := rate.NewLimiter(rate.Every(100*time.Millisecond), 1)
	p := policy(texts.send)
	p.Budgets = func(flows.Message) []outbox.Budget { return []outbox.Budget{outbox.Rate(slow)} }
	r := newRig(t, p, outbox.Options{Workers: 4})
	r.enqueue(
		flows.Message{To: chat, Kind: flows.KindSend, Text: "card 2", CardKey: "step:T:2", Priority: flows.PrioNormal},
		flows.Message{To: chat, Kind: flows.KindEdit, Text: "retire 1", CardKey: "step:T:1", Retire: true, Priority: flows.PrioEdit},
		flows.Message{To: chat, Kind: flows.KindEdit, Text: "card 2 v2", CardKey: "step:T:2", Priority: flows.PrioNormal},
		flows.Message{To: chat, Kind: flows.KindSend, Text: "reply", Priority: flows.PrioNormal},
	)
	r.start()
	waitUntil(t, 10*time.Second, "the queue to drain", r.drained)
	r.stop()
	sent := texts.got()
	pos := map[string]int{}
	for i, s := range sent {
		pos[s] = i
	}
	if len(sent) != 4 || pos["card 2"] != 0 || pos["card 2 v2"] > pos["retire 1"] || pos["card 2 v2"] > pos["reply"] {
		t.Fatalf("order %v: want card 2, then its edit before the retirement, the reply after the edit", sent)
	}
}

// TestDigestFoldsOnlyDispatchCards: a backlog of other cards (a
// technician's step cards, posted anew) is never folded into a digest.
func TestDigestFoldsOnlyDispatchCards(t *testing.T) {
	var texts sentTexts
	chat := flows.Address{Channel: "x", Chat: "200"}
	slow := rate.NewLimiter(rate.Every(100*time.Millisecond), 1)
	p := policy(texts.send)
	p.Budgets = func(flows.Message) []outbox.Budget { return []outbox.Budget{outbox.Rate(slow)} }
	p.Digest = func(rows []outbox.Row) flows.Message { return flows.Message{Text: "digest"} }
	p.DigestAfter = time.Millisecond
	r := newRig(t, p, outbox.Options{Workers: 2})
	var msgs []flows.Message
	for i := 1; i <= 4; i++ {
		msgs = append(msgs, flows.Message{To: chat, Kind: flows.KindSend, Text: fmt.Sprint("card ", i), CardKey: flows.StepCardKey("T", i), Priority: flows.PrioNormal})
	}
	r.enqueue(msgs...)
	time.Sleep(20 * time.Millisecond) // the backlog has waited past DigestAfter
	r.start()
	waitUntil(t, 10*time.Second, "the queue to drain", r.drained)
	r.stop()
	if sent := texts.got(); len(sent) != 4 || r.d.Folded.Load() != 0 {
		t.Fatalf("sent %v, folded %d: step cards must go one by one", sent, r.d.Folded.Load())
	}
}
