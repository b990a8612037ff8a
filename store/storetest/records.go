package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The records areas of flows.Tx: the reported walk (StatsTx), the tickets
// of a place (RepeatsTx), the QC reviews (QCTx) and the phone-callback
// list (CallbacksTx).

func briefIDs(bs []flows.TicketBrief) string {
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.ID)
	}
	return strings.Join(ids, " ")
}

// testEachTicketReported: every ticket reported in [from, to) once, oldest
// Created first (to the sub-second), as its latest brief; with trails, a
// ticket with events carries its trail folded (the same as folding its
// events anew), one without none; an error stops the walk.
func testEachTicketReported(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	day := 24 * time.Hour
	mk := func(id string, at time.Duration) *flows.Ticket {
		tk := ticket(id, "tg:100", T0.Add(at), flows.StateNew)
		tk.Building, tk.Unit, tk.Room, tk.Kind, tk.Emergency = "3栋", "2单元", "1502", flows.OrderHousehold, "water_leak"
		return tk
	}
	// C and B in the same second, C earlier by 300 ms.
	a, b, c, d := mk("A", 0), mk("B", day+500*time.Millisecond), mk("C", day+200*time.Millisecond), mk("D", 2*day)
	putTickets(t, s, d, b, a, c)
	// A changes later: the walk sees its latest brief, once, every field.
	agreed := T0.Add(2*day + 90*time.Minute)
	a.State, a.Updated, a.Asset, a.AgreedTime = flows.StateClosed, T0.Add(3*day), "3栋 电梯", &agreed
	a.AssigneeID, a.Assignee, a.Score = "tg:7", "师傅甲", 4
	a.Fault = &flows.FaultCode{Component: "VALVE", Symptom: "LEAK", Cause: "WEAR", Action: "REPLACE"}
	a.Visit = &flows.Visit{Quote: &flows.Quote{Seq: 1, Status: "agreed", Lines: []flows.QuoteLine{{Code: "W02", Qty: 2, Cents: 2500}}}}
	putTickets(t, s, a)
	if b := a.Brief(); b.Quote != 5000 || b.FaultCause != "WEAR" || b.AgreedTime == nil {
		t.Fatalf("the brief of A lacks fields: %+v", b)
	}
	walk := func(from, to time.Time, stopAt int) ([]flows.TicketBrief, error) {
		var got []flows.TicketBrief
		err := s.View(t.Context(), func(tx flows.Tx) error {
			return tx.EachTicketReported(from, to, false, func(b flows.TicketBrief) error {
				got = append(got, b)
				if len(got) == stopAt {
					return fmt.Errorf("stop here: %w", errFail)
				}
				return nil
			})
		})
		return got, err
	}
	for _, cs := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"everything", T0.Add(-day), T0.Add(9 * day), "A C B D"},
		{"day 1", T0.Add(day), T0.Add(2 * day), "C B"},
		{"inside a second", T0.Add(day + 300*time.Millisecond), T0.Add(2 * day), "B"},
		{"to is exclusive", T0, T0.Add(2 * day), "A C B"},
		{"empty range", T0.Add(day), T0.Add(day), ""},
	} {
		t.Run(cs.name, func(t *testing.T) {
			got, err := walk(cs.from, cs.to, -1)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "reported", briefIDs(got), cs.want)
		})
	}
	t.Run("latest brief", func(t *testing.T) {
		got, err := walk(T0, T0.Add(time.Second), -1)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		wantSame(t, "brief of A", got[0], a.Brief())
	})
	t.Run("trails", func(t *testing.T) {
		// The fold a walk with trails hands out is the trail folded anew,
		// however many transactions appended it.
		for i, act := range []string{"reported", "acc", "arr", "done", "fix", "bye", "sc"} {
			update(t, s, func(tx flows.Tx) error {
				return tx.AppendTicketEvent("B", flows.TicketEvent{At: T0.Add(day + time.Duration(i)*time.Minute), Actor: "tg:7", Action: act,
					From: flows.StateNew, To: map[bool]flows.State{true: flows.StateClosed, false: flows.StateNew}[act == "sc"], Note: "5"})
			})
		}
		var got []flows.TicketBrief
		view(t, s, func(tx flows.Tx) error {
			return tx.EachTicketReported(T0.Add(day), T0.Add(2*day), true, func(b flows.TicketBrief) error {
				got = append(got, b)
				return nil
			})
		})
		events := read(t, s, func(tx flows.Tx) ([]flows.TicketEvent, error) { return tx.TicketEvents("B") })
		if len(got) != 2 || got[0].ID != "C" || got[0].Trail != nil || got[1].Trail == nil {
			t.Fatalf("briefs %+v", got)
		}
		wantSame(t, "B's fold", got[1].Trail, flows.FoldTrail(events))
		if got[1].Trail.Events != 7 || !got[1].Trail.Scored || got[1].Trail.Score != 5 {
			t.Fatalf("fold %+v", got[1].Trail)
		}
	})
	t.Run("error stops", func(t *testing.T) {
		got, err := walk(T0, T0.Add(9*day), 2)
		if !errors.Is(err, errFail) {
			t.Fatalf("err = %v, want fn's error", err)
		}
		wantIDs(t, "called before the error", briefIDs(got), "A C")
	})
}

// testTicketsAtPlace: the tickets whose flows.PlaceKey is the place, any
// resident, newest Created first, at most limit; a ticket that moves to
// another place (a public asset named later) leaves the old one.
func testTicketsAtPlace(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	home := func(id, resident string, at time.Duration, room string) *flows.Ticket {
		tk := ticket(id, resident, T0.Add(at), flows.StateClosed)
		tk.Kind, tk.Building, tk.Unit, tk.Room = flows.OrderHousehold, "3栋", "2单元", room
		return tk
	}
	lift := ticket("L", "tg:7", T0.Add(time.Hour), flows.StateNew)
	lift.Kind, lift.Asset = flows.OrderPublic, "3栋 电梯 2号"
	putTickets(t, s, home("A", "tg:1", 0, "1502"), home("B", "tg:2", 2*time.Hour, "1502"), home("C", "tg:1", 3*time.Hour, "1502"),
		home("X", "tg:3", time.Hour, "1503"), lift)
	// The same home typed another way by a second resident.
	other := home("D", "tg:4", 4*time.Hour, "1502")
	other.Building, other.Unit = "3 栋", "2单元 "
	putTickets(t, s, other)
	at := func(place string, limit int) string {
		return ticketIDs(read(t, s, func(tx flows.Tx) ([]*flows.Ticket, error) { return tx.TicketsAtPlace(place, limit) }))
	}
	wantIDs(t, "home 1502", at(flows.PlaceKey(home("", "", 0, "1502")), 0), "D C B A")
	wantIDs(t, "home 1502, limit 2", at(flows.PlaceKey(home("", "", 0, "1502")), 2), "D C")
	wantIDs(t, "home 1503", at(flows.PlaceKey(home("", "", 0, "1503")), 0), "X")
	wantIDs(t, "the lift", at(flows.PlaceKey(lift), 0), "L")
	wantIDs(t, "no place", at("", 0), "")
	lift.Asset = "3栋 电梯 1号"
	putTickets(t, s, lift)
	wantIDs(t, "the lift after it was renamed", at(flows.PlaceKey(lift), 0), "L")
	old := *lift
	old.Asset = "3栋 电梯 2号"
	wantIDs(t, "the old name", at(flows.PlaceKey(&old), 0), "")
}

// testQCReviews: one review per ticket, replaced by a put; the open list
// holds the reviews not done, oldest Created first.
func testQCReviews(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	r := func(id string, at time.Duration, status string) *flows.QCReview {
		return &flows.QCReview{Ticket: id, Reason: "sample", Created: T0.Add(at), Status: status}
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutQCReview(r("B", time.Hour, "pending")), tx.PutQCReview(r("A", 2*time.Hour, "pending")),
			tx.PutQCReview(r("C", 0, "done")))
	})
	wantIDs(t, "open", qcIDs(read(t, s, func(tx flows.Tx) ([]*flows.QCReview, error) { return tx.OpenQCReviews() })), "B A")
	done := r("B", time.Hour, "done")
	now := T0.Add(3 * time.Hour)
	done.Score, done.Findings, done.Done = 4, []string{"photos"}, &now
	update(t, s, func(tx flows.Tx) error { return tx.PutQCReview(done) })
	wantSame(t, "review B", read(t, s, func(tx flows.Tx) (*flows.QCReview, error) { return tx.QCReview("B") }), done)
	wantIDs(t, "open after B is done", qcIDs(read(t, s, func(tx flows.Tx) ([]*flows.QCReview, error) { return tx.OpenQCReviews() })), "A")
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.QCReview("Z"); !errors.Is(err, flows.ErrNotFound) {
			t.Fatalf("missing review: %v", err)
		}
		return nil
	})
}

func qcIDs(rs []*flows.QCReview) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.Ticket)
	}
	return strings.Join(ids, " ")
}

// testPhoneCallbacks: one line per ticket (an add replaces it), oldest
// Since first; removing a missing line is not an error.
func testPhoneCallbacks(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	pc := func(id string, at time.Duration) flows.PhoneCallback {
		return flows.PhoneCallback{TicketID: id, Since: T0.Add(at)}
	}
	list := func() string {
		var ids []string
		for _, c := range read(t, s, func(tx flows.Tx) ([]flows.PhoneCallback, error) { return tx.PhoneCallbacks() }) {
			ids = append(ids, c.TicketID)
		}
		return strings.Join(ids, " ")
	}
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.AddPhoneCallback(pc("B", time.Hour)), tx.AddPhoneCallback(pc("A", 2*time.Hour)), tx.AddPhoneCallback(pc("C", 3*time.Hour)))
	})
	wantIDs(t, "list", list(), "B A C")
	update(t, s, func(tx flows.Tx) error { return tx.AddPhoneCallback(pc("B", 4*time.Hour)) })
	wantIDs(t, "B added again", list(), "A C B")
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.RemovePhoneCallback("A"), tx.RemovePhoneCallback("nope"))
	})
	wantIDs(t, "A removed", list(), "C B")
	wantSame(t, "lines", read(t, s, func(tx flows.Tx) ([]flows.PhoneCallback, error) { return tx.PhoneCallbacks() }),
		[]flows.PhoneCallback{pc("C", 3*time.Hour), pc("B", 4*time.Hour)})
}
