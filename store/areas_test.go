package store_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// TestAreasMigration: a file written before areas — tickets, profiles and
// a roster without an area — is put in the default area once, at Open:
// the records and the open index's copies get it, nothing counts as
// touched, a record that had an area keeps it, and a later Open with
// another default changes nothing.
func TestAreasMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := MustOpen(t, path)
	ctx := context.Background()
	err := s.Update(ctx, func(tx flows.Tx) error {
		for _, tk := range []*flows.Ticket{
			{ID: "BX-20261127-0001", State: flows.StateNew, Created: t0, Updated: t0},
			{ID: "BX-20261127-0002", State: flows.StateClosed, Created: t0, Updated: t0},
			{ID: "BX-20261127-0003", State: flows.StateNew, Created: t0, Updated: t0, Area: "west"},
		} {
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		for _, p := range []*flows.Person{
			{ID: "tg:200", Role: flows.RoleTechnician, Registered: true},
			{ID: "tg:300", Role: flows.RoleResident, Registered: true},
			{ID: "tg:400", Role: flows.RoleTechnician, Registered: true, Areas: []string{"west", "north"}},
			{ID: "tg:500"}, // a stranger half-way through registration
		} {
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		return tx.PutRoster(&flows.Roster{Shifts: []flows.RosterShift{{ID: 1, Day: time.Monday, People: []string{"tg:200"}}}, NextID: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Make it look like a file from before areas: no migration mark.
	touched := func() int {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n := 0
		_ = db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("tickets.touched")).Stats().KeyN; return nil })
		return n
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte("migrated.areas")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := touched()

	for i, def := range []string{"east", "south"} {
		s, err := store.Open(path, store.Options{LockTimeout: time.Second, DefaultArea: def})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MigratedArea(); got != "east" {
			t.Errorf("open %d: migrated to %q, want east (once)", i, got)
		}
		err = s.View(ctx, func(tx flows.Tx) error {
			for id, want := range map[string]string{"BX-20261127-0001": "east", "BX-20261127-0002": "east", "BX-20261127-0003": "west"} {
				if tk, err := tx.Ticket(id); err != nil || tk.Area != want {
					t.Errorf("open %d: ticket %s area %q (%v), want %q", i, id, tk.Area, err, want)
				}
			}
			open, err := tx.OpenTickets()
			if err != nil {
				return err
			}
			for _, tk := range open {
				if tk.Area == "" {
					t.Errorf("open %d: the open index's copy of %s has no area", i, tk.ID)
				}
			}
			for id, want := range map[string][]string{"tg:200": {"east"}, "tg:300": {"east"}, "tg:400": {"west", "north"}, "tg:500": nil} {
				if p, err := tx.Person(id); err != nil || !reflect.DeepEqual(p.Areas, want) {
					t.Errorf("open %d: %s areas %v (%v), want %v", i, id, p.Areas, err, want)
				}
			}
			r, err := tx.Roster()
			if err != nil || r.Shifts[0].Area != "east" {
				t.Errorf("open %d: roster %+v (%v), want its shift in east", i, r, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got := touched(); got != before {
			t.Errorf("open %d: the migration touched tickets: %d rows, were %d", i, got, before)
		}
	}
}
