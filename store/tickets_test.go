package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

func putTicket(tb testing.TB, s *store.Store, tk *flows.Ticket) {
	tb.Helper()
	if err := s.Update(context.Background(), func(tx flows.Tx) error { return tx.PutTicket(tk) }); err != nil {
		tb.Fatal(err)
	}
}

func openIDs(tb testing.TB, s *store.Store) []string {
	tb.Helper()
	var ids []string
	err := s.View(context.Background(), func(tx flows.Tx) error {
		ts, err := tx.OpenTickets()
		for _, t := range ts {
			ids = append(ids, t.ID+":"+string(t.State))
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// TestOpenIndexCarriesCurrentTicket: /open reads the ticket from the open
// index's copy, which must follow every change and leave with the close.
func TestOpenIndexCarriesCurrentTicket(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "r.db"))
	defer s.Close()
	a := &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateNew, Created: t0, Updated: t0}
	b := &flows.Ticket{ID: "BX-20261127-0002", State: flows.StateNew, Created: t0.Add(time.Minute), Updated: t0.Add(time.Minute)}
	putTicket(t, s, a)
	putTicket(t, s, b)
	a.State, a.AssigneeID, a.Updated = flows.StateAccepted, "tg:200", t0.Add(2*time.Minute)
	putTicket(t, s, a)
	if got := fmt.Sprint(openIDs(t, s)); got != "[BX-20261127-0001:accepted BX-20261127-0002:new]" {
		t.Fatalf("open = %s", got)
	}
	closed := t0.Add(time.Hour)
	a.State, a.Closed, a.Updated = flows.StateClosed, &closed, closed
	putTicket(t, s, a)
	if got := fmt.Sprint(openIDs(t, s)); got != "[BX-20261127-0002:new]" {
		t.Fatalf("open after close = %s", got)
	}
}

// TestOpenIndexMigration: a file whose open index holds bare keys (before
// it carried copies) is filled once at Open, and reads right either way.
func TestOpenIndexMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := MustOpen(t, path)
	putTicket(t, s, &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateAccepted, Created: t0, Updated: t0})
	s.Close()
	// Make it look like an old file: empty values, no migration mark.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("tickets.open"))
		k, _ := b.Cursor().First()
		if k == nil {
			return errors.New("no open row")
		}
		if err := b.Put(append([]byte(nil), k...), nil); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("migrated.open_copies"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, path)
	if got := fmt.Sprint(openIDs(t, s)); got != "[BX-20261127-0001:accepted]" {
		t.Fatalf("open after migration = %s", got)
	}
	s.Close()
	// The copy is now in the index itself.
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if _, v := tx.Bucket([]byte("tickets.open")).Cursor().First(); len(v) == 0 {
			t.Error("the open row still has no copy after the migration")
		}
		return nil
	})
}

// TestEachTicketTouched: each ticket once, in the range only, and an error
// from the callback stops the walk.
func TestEachTicketTouched(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "r.db"))
	defer s.Close()
	for i := 0; i < 5; i++ {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		tk := &flows.Ticket{ID: fmt.Sprintf("BX-2026112%d-0001", 7+i), State: flows.StateNew, Created: at, Updated: at}
		putTicket(t, s, tk)
		tk.State, tk.Updated = flows.StateAccepted, at.Add(time.Hour)
		putTicket(t, s, tk)
	}
	walk := func(from, to time.Time, stopAfter int) ([]string, error) {
		var ids []string
		err := s.View(context.Background(), func(tx flows.Tx) error {
			return tx.EachTicketTouched(from, to, func(tk *flows.Ticket) error {
				if len(ids) == stopAfter {
					return errors.New("enough")
				}
				ids = append(ids, tk.ID)
				return nil
			})
		})
		return ids, err
	}
	ids, err := walk(t0.Add(24*time.Hour), t0.Add(72*time.Hour), -1)
	if err != nil || fmt.Sprint(ids) != "[BX-20261128-0001 BX-20261129-0001]" {
		t.Fatalf("walk = %v, %v", ids, err)
	}
	ids, err = walk(t0, t0.Add(10*24*time.Hour), 2)
	if err == nil || err.Error() != "enough" || len(ids) != 2 {
		t.Fatalf("stopped walk = %v, %v", ids, err)
	}
}

// TestLongReadsReleaseSafely: a long read hands the mapped pages back
// (madvise) at its end, while writers keep growing (and remapping) the
// file and other readers keep reading; everything read stays right.
func TestLongReadsReleaseSafely(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "r.db"))
	defer s.Close()
	ctx := context.Background()
	mk := func(i int) *flows.Ticket {
		at := t0.Add(time.Duration(i) * time.Second)
		return &flows.Ticket{ID: fmt.Sprintf("BX-20261127-%06d", i), State: flows.StateClosed, Category: "water",
			Description: fmt.Sprintf("ticket %d", i), Created: at, Updated: at}
	}
	const first = 3000
	err := s.Update(ctx, func(tx flows.Tx) error {
		for i := 0; i < first; i++ {
			if err := tx.PutTicket(mk(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	scan := func(write bool) error {
		n := 0
		fn := func(tx flows.Tx) error {
			return tx.EachTicketTouched(t0, t0.Add(first*time.Second), func(tk *flows.Ticket) error {
				if want := fmt.Sprintf("ticket %d", n); tk.Description != want {
					return fmt.Errorf("read %q, want %q", tk.Description, want)
				}
				n++
				return nil
			})
		}
		var err error
		if write {
			err = s.Update(ctx, fn)
		} else {
			err = s.View(ctx, fn)
		}
		if err == nil && n != first {
			err = fmt.Errorf("scanned %d tickets, want %d", n, first)
		}
		return err
	}
	done := make(chan error, 3)
	go func() { // the writer grows the file
		for i := first; i < first+8_000; i += 500 {
			err := s.Batch(ctx, func(tx flows.Tx) error {
				for j := i; j < i+500; j++ {
					if err := tx.PutTicket(mk(j)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for _, write := range []bool{false, true} {
		go func() {
			for k := 0; k < 6; k++ {
				if err := scan(write); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for k := 0; k < 3; k++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestResidentIndexFollowsTheTicket: a ticket whose resident changes is
// listed under its new resident only (the old index row used to stay, so
// the first resident kept seeing a ticket that was no longer theirs).
func TestResidentIndexFollowsTheTicket(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "r.db"))
	defer s.Close()
	tk := &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateNew, ResidentID: "tg:100", Created: t0, Updated: t0}
	putTicket(t, s, tk)
	tk.ResidentID, tk.Updated = "tg:101", t0.Add(time.Minute)
	putTicket(t, s, tk)
	for resident, want := range map[string]string{"tg:100": "[]", "tg:101": "[BX-20261127-0001]"} {
		var ids []string
		err := s.View(context.Background(), func(tx flows.Tx) error {
			ts, err := tx.TicketsByResident(resident, 0)
			for _, t := range ts {
				ids = append(ids, t.ID)
			}
			return err
		})
		if err != nil || fmt.Sprint(ids) != want {
			t.Errorf("tickets of %s = %v, %v; want %s", resident, ids, err, want)
		}
	}
}

// TestReportedAndPlaceIndexMigration: a file written before the reported
// and place indexes existed gets them once at Open, for every ticket.
func TestReportedAndPlaceIndexMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := MustOpen(t, path)
	tk := &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateClosed, Kind: flows.OrderHousehold, Category: "water",
		Building: "3栋", Unit: "2单元", Room: "1502", Created: t0, Updated: t0}
	putTicket(t, s, tk)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"tickets.reported", "tickets.by_place"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		// A file from before areas and the b4 briefs: the areas'
		// migration runs first, so the rebuilt briefs carry the area.
		for _, mark := range []string{"migrated.reported_place.b4", "migrated.areas"} {
			if err := tx.Bucket([]byte("meta")).Delete([]byte(mark)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, path)
	defer s.Close()
	var reported []string
	var at []*flows.Ticket
	if err := s.View(context.Background(), func(tx flows.Tx) error {
		if err := tx.EachTicketReported(t0, t0.Add(time.Hour), false, func(b flows.TicketBrief) error {
			reported = append(reported, b.ID+":"+b.Category+":"+b.Area)
			return nil
		}); err != nil {
			return err
		}
		at, err = tx.TicketsAtPlace(flows.PlaceKey(tk), 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(reported) != "[BX-20261127-0001:water:main]" || len(at) != 1 || at[0].ID != tk.ID {
		t.Fatalf("after the migration: reported %v, at the place %d", reported, len(at))
	}
}

// TestTrailProjectionRebuilt: a ticket whose trail has no fold (a file
// written before the projection) gets one rebuilt from all its events at
// its next append; it then equals the trail folded anew.
func TestTrailProjectionRebuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := MustOpen(t, path)
	tk := &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateNew, Created: t0, Updated: t0}
	putTicket(t, s, tk)
	appendEv := func(s *store.Store, at time.Duration, action string, from, to flows.State) {
		t.Helper()
		if err := s.Update(context.Background(), func(tx flows.Tx) error {
			return tx.AppendTicketEvent(tk.ID, flows.TicketEvent{At: t0.Add(at), Actor: "tg:1", Action: action, From: from, To: to})
		}); err != nil {
			t.Fatal(err)
		}
	}
	appendEv(s, 0, "reported", "", flows.StateNew)
	appendEv(s, 10*time.Minute, "acc", flows.StateNew, flows.StateAccepted)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("tickets.trail")).Delete([]byte(tk.ID)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = MustOpen(t, path)
	defer s.Close()
	appendEv(s, 40*time.Minute, "arr", flows.StateAccepted, flows.StateOnSite)
	var fold *flows.TrailFold
	var events []flows.TicketEvent
	if err := s.View(context.Background(), func(tx flows.Tx) error {
		if err := tx.EachTicketReported(t0, t0.Add(time.Hour), true, func(b flows.TicketBrief) error { fold = b.Trail; return nil }); err != nil {
			return err
		}
		events, err = tx.TicketEvents(tk.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := flows.FoldTrail(events)
	if fold == nil || fold.Events != 3 || fold.Accepted == nil || !fold.Accepted.Equal(*want.Accepted) || fold.Arrived == nil || !fold.Arrived.Equal(*want.Arrived) {
		t.Fatalf("fold %+v, want %+v", fold, want)
	}
}
