package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/pgtest"
)

// TestFillBriefs: tickets stored before 0003_records gave them a brief
// and a place get both at the next Open that migrates, and the walks
// that read them (EachTicketReported, TicketsAtPlace) then find them.
func TestFillBriefs(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	var tickets []*flows.Ticket
	for i, room := range []string{"1502", "1502", ""} {
		tk := &flows.Ticket{ID: "BX-20261127-000" + string(rune('1'+i)), ResidentID: "tg:7", State: flows.StateClosed,
			Kind: flows.OrderHousehold, Building: "3栋", Unit: "2单元", Room: room, Category: "water",
			Created: at.Add(time.Duration(i) * time.Minute), Updated: at.Add(time.Hour)}
		tickets = append(tickets, tk)
	}
	if err := s.Update(ctx, func(tx flows.Tx) error {
		for _, tk := range tickets {
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// As a database written before the step: no briefs, no places.
	if _, err := s.pool.Exec(ctx, `UPDATE tickets SET brief = NULL, place = NULL`); err != nil {
		t.Fatal(err)
	}
	// Until they are filled, the walk decodes those tickets whole.
	var before int
	if err := s.View(ctx, func(tx flows.Tx) error {
		return tx.EachTicketReported(at, at.Add(time.Hour), false, func(b flows.TicketBrief) error {
			if b.ID == tickets[before].ID && b.Room == tickets[before].Room {
				before++
			}
			return nil
		})
	}); err != nil || before != 3 {
		t.Fatalf("briefs before the fill: %d of 3 in order, %v", before, err)
	}
	if err := fillBriefs(ctx, s.pool); err != nil {
		t.Fatal(err)
	}
	var unbriefed, placed int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE brief IS NULL), count(place) FROM tickets`).Scan(&unbriefed, &placed); err != nil {
		t.Fatal(err)
	}
	if unbriefed != 0 || placed != 2 {
		t.Fatalf("%d tickets without a brief, %d with a place; want 0 and 2", unbriefed, placed)
	}
	err = s.View(ctx, func(tx flows.Tx) error {
		at1502, err := tx.TicketsAtPlace(flows.PlaceKey(tickets[0]), 0)
		if err != nil {
			return err
		}
		if len(at1502) != 2 || at1502[0].ID != tickets[1].ID || at1502[1].ID != tickets[0].ID {
			t.Errorf("tickets at 1502: %v", at1502)
		}
		var briefs []flows.TicketBrief
		if err := tx.EachTicketReported(at, at.Add(time.Hour), false, func(b flows.TicketBrief) error {
			briefs = append(briefs, b)
			return nil
		}); err != nil {
			return err
		}
		if len(briefs) != 3 {
			t.Fatalf("%d briefs, want 3", len(briefs))
		}
		for i, b := range briefs {
			want := tickets[i].Brief()
			if b.ID != want.ID || !b.Created.Equal(want.Created) || b.Room != want.Room || b.State != want.State {
				t.Errorf("brief %d: %+v, want %+v", i, b, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
