package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/storekit"
)

func TestExport(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	t.Run("every bucket Open creates is known", func(t *testing.T) {
		s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		counts, err := s.ExportCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for a, n := range counts {
			t.Errorf("an empty store exports %d %s", n, a)
		}
	})
	t.Run("records come out decoded and counted", func(t *testing.T) {
		s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Update(ctx, func(tx flows.Tx) error {
			tk := &flows.Ticket{ID: "BX-20261127-0001", ResidentID: "tg:7", State: flows.StateNew, Created: at, Updated: at}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			for range 3 {
				if err := tx.AppendTicketEvent(tk.ID, flows.TicketEvent{At: at, Actor: "tg:7"}); err != nil {
					return err
				}
			}
			if _, err := tx.NextTicketSeq("20261127"); err != nil {
				return err
			}
			if err := tx.MarkSeen("tg:update:1", at); err != nil {
				return err
			}
			return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "7"}, Text: "hi"})
		})
		if err != nil {
			t.Fatal(err)
		}
		var events []storekit.TicketEvent
		counts, err := s.Export(ctx, func(r storekit.Export) error {
			if ev, ok := r.Value.(storekit.TicketEvent); ok {
				events = append(events, ev)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{storekit.AreaTickets: 1, storekit.AreaTicketTouches: 1, storekit.AreaTicketEvents: 3,
			storekit.AreaCounters: 1, storekit.AreaSeen: 1, storekit.AreaOutbox: 1}
		if len(counts) != len(want) {
			t.Errorf("counts %v, want %v", counts, want)
		}
		for a, n := range want {
			if counts[a] != n {
				t.Errorf("%s: %d, want %d", a, counts[a], n)
			}
		}
		for i, ev := range events {
			if ev.TicketID != "BX-20261127-0001" || ev.Event.Seq != i+1 {
				t.Errorf("event %d: %+v", i, ev)
			}
		}
		again, err := s.ExportCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for a, n := range counts {
			if again[a] != n {
				t.Errorf("ExportCounts %s: %d, Export handed out %d", a, again[a], n)
			}
		}
	})
	t.Run("an unknown bucket stops the export", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		s, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("mystery"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		handed := 0
		_, err = s.Export(ctx, func(storekit.Export) error { handed++; return nil })
		var unknown *store.UnknownBucketError
		if !errors.As(err, &unknown) || unknown.Bucket != "mystery" {
			t.Fatalf("err = %v, want the unknown bucket mystery", err)
		}
		if handed != 0 {
			t.Errorf("%d records handed out before the error", handed)
		}
	})
}
