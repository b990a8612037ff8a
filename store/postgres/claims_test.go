package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

func texts(rows []outbox.Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Msg.Text)
	}
	return strings.Join(out, " ")
}

// TestClaims: two stores on one database (two replicas that both run a
// dispatcher) never get the same row, nor rows of one address out of
// order; a closed store's claims lapse at once.
func TestClaims(t *testing.T) {
	dsn := pgstoretest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	x, y, z := flows.Address{Channel: "tg", Chat: "1"}, flows.Address{Channel: "tg", Chat: "2"}, flows.Address{Channel: "tg", Chat: "3"}
	send := func(to flows.Address, text string) flows.Message {
		return flows.Message{To: to, Kind: flows.KindSend, Text: text}
	}
	update(t, a, func(tx flows.Tx) error { return tx.Enqueue(send(x, "x1"), send(y, "y1"), send(x, "x2")) })
	pending := func(s *postgres.Store, want string) []outbox.Row {
		t.Helper()
		rows, err := s.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(rows); got != want {
			t.Fatalf("pending: %q, want %q", got, want)
		}
		return rows
	}
	first := pending(a, "x1 y1 x2")
	pending(a, "x1 y1 x2") // its own claims are its own
	pending(b, "")
	update(t, b, func(tx flows.Tx) error { return tx.Enqueue(send(x, "x3"), send(z, "z1")) })
	pending(b, "z1") // x3 waits behind the other store's x1 and x2
	if err := a.MarkDelivered(first[0].ID, "1", t0); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkDelivered(first[2].ID, "2", t0); err != nil {
		t.Fatal(err)
	}
	pending(b, "x3 z1")
	pending(a, "y1") // x3 is now the other store's
	a.Close()
	// The server ends the closed session (and its locks) a moment after
	// the client hung up.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, err := b.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(rows); got == "y1 x3 z1" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("pending after the other store closed: %q, want its claims lapsed", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
