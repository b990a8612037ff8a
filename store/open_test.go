package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// seedMany writes n tickets, enough pages for damage in the middle of the
// file to land on data.
func seedMany(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	s := MustOpen(tb, path)
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		for i := range n {
			tk := &flows.Ticket{ID: fmt.Sprintf("BX-20261127-%04d", i+1), State: flows.StateNew, ResidentID: "tg:100",
				Description: strings.Repeat("水管漏水 ", 20), Created: t0}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// A database file that exists but is empty, truncated or garbled is never
// opened as a new database nor crashes the program: Open names the file and
// says how to restore it, and leaves the file as it found it.
func TestOpenRefusesDamagedFile(t *testing.T) {
	const page = 4096
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
		want   error
	}{
		{"empty file", func(t *testing.T, path string, _ int64) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, store.ErrEmpty},
		{"truncated to its meta pages", func(t *testing.T, path string, _ int64) {
			if err := os.Truncate(path, 2*page); err != nil {
				t.Fatal(err)
			}
		}, store.ErrCorrupt},
		{"truncated to a third", func(t *testing.T, path string, size int64) {
			if err := os.Truncate(path, size/3/page*page); err != nil {
				t.Fatal(err)
			}
		}, store.ErrCorrupt},
		{"garbled data pages", func(t *testing.T, path string, size int64) {
			garble(t, path, 2*page, size-2*page)
		}, store.ErrCorrupt},
		{"garbled meta pages", func(t *testing.T, path string, _ int64) {
			garble(t, path, 0, 2*page)
		}, store.ErrCorrupt},
		{"not a database", func(t *testing.T, path string, _ int64) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 2000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, store.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "repair.db")
			size := seedMany(t, path, 300)
			if size < 32*page {
				t.Fatalf("seeded file is only %d bytes; the damage would miss the data", size)
			}
			tc.damage(t, path, size)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, open := range []struct {
				name string
				fn   func(path string) error
			}{
				{"Open", func(path string) error {
					s, err := store.Open(path, store.Options{LockTimeout: 200 * time.Millisecond})
					if err == nil {
						s.Close()
					}
					return err
				}},
				{"Verify", func(path string) error { _, err := store.Verify(path, 200*time.Millisecond); return err }},
			} {
				// A copy each: a garbled file's lock stays with the process
				// that tried it.
				p := filepath.Join(t.TempDir(), "repair.db")
				if err := os.WriteFile(p, before, 0o600); err != nil {
					t.Fatal(err)
				}
				err := open.fn(p)
				if !errors.Is(err, tc.want) {
					t.Fatalf("%s: %v, want %v", open.name, err, tc.want)
				}
				for _, s := range []string{p, "repairbot restore"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("%s: the error does not say %q: %v", open.name, s, err)
					}
				}
				after, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if string(after) != string(before) {
					t.Fatalf("%s changed the damaged file (%d bytes, was %d)", open.name, len(after), len(before))
				}
			}
		})
	}
}

// garble overwrites n bytes at off with fixed pseudo-random bytes.
func garble(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(21, 21))
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	if _, err := f.WriteAt(buf, off); err != nil {
		t.Fatal(err)
	}
}

// A file that does not exist yet is a new database, as before, created
// so that a crash half-way never leaves an empty file under its name.
func TestOpenCreatesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "repair.db")
	s := MustOpen(t, path)
	defer s.Close()
	c, err := s.Counts()
	if err != nil || c.Tickets != 0 || c.Schema != 1 {
		t.Fatalf("new database: %+v %v", c, err)
	}
	// Created under a temporary name and linked into place: nothing else
	// is left in the directory.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("the data directory holds %d entries", len(entries))
	}
}

// A truncated file is recognised before bbolt maps it, so the refusal
// leaves no lock behind: asking again gives the same answer, and restoring
// over it needs no new process.
func TestOpenTruncatedLeavesNoLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "repair.db")
	size := seedMany(t, path, 300)
	if err := os.Truncate(path, size/2); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, err := store.Open(path, store.Options{LockTimeout: 100 * time.Millisecond})
		if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("open %d: %v", i+1, err)
		}
	}
}
