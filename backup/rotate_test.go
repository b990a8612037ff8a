package backup_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/store"
)

// Copies are named in UTC whatever zone the clock handed to Rotate is in:
// the jobs runner passes the organisation's zone, the ops endpoint the
// process's, and pruning orders by name.
func TestRotateNamesInUTC(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	newYork := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		name string
		kind backup.Kind
		now  time.Time
		want string
	}{
		{"scheduled in the org's zone", backup.Scheduled, t0.In(shanghai), "repair-20261127-033000Z.db"},
		{"scheduled in UTC", backup.Scheduled, t0, "repair-20261127-033000Z.db"},
		{"on demand in the process's zone", backup.OnDemand, t0.In(newYork), "repair-manual-20261127-033000Z.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := open(t, filepath.Join(dir, "repair.db"))
			defer st.Close()
			path, err := backup.RotateKind(st, filepath.Join(dir, "backups"), tc.kind, 3, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := filepath.Base(path); got != tc.want {
				t.Fatalf("named %s, want %s", got, tc.want)
			}
		})
	}
}

// The zone bug, end to end: a nightly copy at 03:30 in Shanghai (19:30 UTC
// the day before) and an on-demand copy a few hours later are both kept,
// in time order; named in two zones, the fresh on-demand copy sorted first
// and was deleted by its own rotation.
func TestRotateTwoZonesKeepsTheFreshCopy(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "repair.db"))
	defer st.Close()
	bdir := filepath.Join(dir, "backups")
	shanghai := time.FixedZone("CST", 8*3600)
	nightly := time.Date(2026, 11, 27, 3, 30, 0, 0, shanghai)
	if _, err := backup.Rotate(st, bdir, 1, nightly); err != nil {
		t.Fatal(err)
	}
	later := nightly.Add(3 * time.Hour).UTC() // 22:30 UTC, 06:30 in Shanghai
	fresh, err := backup.Rotate(st, bdir, 1, later)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("the fresh copy was deleted by its own rotation: %v", err)
	}
	names, _ := backup.List(bdir)
	if len(names) != 1 || names[0] != filepath.Base(fresh) {
		t.Fatalf("kept %v, want only %s", names, filepath.Base(fresh))
	}
}

// On-demand copies rotate among themselves: any number of them never
// evicts a nightly copy, and nightly ones never evict them.
func TestOnDemandNeverEvictsScheduled(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "repair.db"))
	defer st.Close()
	bdir := filepath.Join(dir, "backups")
	var nightly []string
	for i := range 3 {
		p, err := backup.Rotate(st, bdir, 3, t0.Add(time.Duration(i)*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		nightly = append(nightly, filepath.Base(p))
	}
	var manual []string
	for i := range 10 { // an operator (or a script) asking ten times, after the last nightly copy
		p, err := backup.RotateKind(st, bdir, backup.OnDemand, 3, t0.Add(3*24*time.Hour+time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		manual = append(manual, filepath.Base(p))
	}
	if got, _ := backup.Scheduled.List(bdir); !slices.Equal(got, nightly) {
		t.Fatalf("nightly copies %v, want %v", got, nightly)
	}
	if got, _ := backup.OnDemand.List(bdir); !slices.Equal(got, manual[7:]) {
		t.Fatalf("on-demand copies %v, want %v", got, manual[7:])
	}
	// And the next night rotates only the nightly copies.
	p, err := backup.Rotate(st, bdir, 3, t0.Add(4*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := backup.Scheduled.List(bdir); !slices.Equal(got, append(nightly[1:], filepath.Base(p))) {
		t.Fatalf("nightly copies %v", got)
	}
	if got, _ := backup.OnDemand.List(bdir); len(got) != 3 {
		t.Fatalf("a nightly rotation touched the on-demand copies: %v", got)
	}
	if n := backup.Newest(bdir); filepath.Base(n) != filepath.Base(p) {
		t.Fatalf("newest %s, want %s", n, p)
	}
}

// Copies named before the names carried their zone are the oldest of the
// scheduled rotation and go first; they are never mistaken for new ones.
func TestRotateRetiresLegacyNamesFirst(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "repair.db"))
	defer st.Close()
	bdir := filepath.Join(dir, "backups")
	if err := os.MkdirAll(bdir, 0o750); err != nil {
		t.Fatal(err)
	}
	// Legacy names that sort after the new ones by name (a later local date).
	for _, n := range []string{"repair-20261201-033000.db", "repair-20261202-033000.db"} {
		if _, err := backup.WriteFile(st, filepath.Join(bdir, n)); err != nil {
			t.Fatal(err)
		}
	}
	var fresh []string
	for i := range 2 {
		p, err := backup.Rotate(st, bdir, 2, t0.Add(time.Duration(i)*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, filepath.Base(p))
	}
	if got, _ := backup.List(bdir); !slices.Equal(got, fresh) {
		t.Fatalf("kept %v, want the two new copies %v", got, fresh)
	}
}

// A database that lost its tickets (wiped, replaced by an empty file, an
// old copy restored) must not age every good copy out of the rotation:
// the last copy holding more tickets than the new one is kept beyond keep,
// and every rotation says so through its error, with the new copy's path.
// Once the database holds more tickets again, the copy goes.
func TestRotateKeepsLastCopyWithMoreTickets(t *testing.T) {
	dir := t.TempDir()
	bdir := filepath.Join(dir, "backups")
	good := open(t, filepath.Join(dir, "good.db"))
	for i := range 5 {
		if err := putTicket(good, fmt.Sprintf("BX-GOOD-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	day := func(i int) time.Time { return t0.Add(time.Duration(i) * 24 * time.Hour) }
	for i := range 3 {
		if _, err := backup.Rotate(good, bdir, 3, day(i)); err != nil {
			t.Fatal(err)
		}
	}
	good.Close()
	lastGood := filepath.Base(backup.Scheduled.Name(day(2)))

	wiped := open(t, filepath.Join(dir, "wiped.db")) // the database now: no tickets
	defer wiped.Close()
	for i := 3; i < 10; i++ {
		path, err := backup.Rotate(wiped, bdir, 3, day(i))
		if !errors.Is(err, backup.ErrFewerTickets) {
			t.Fatalf("night %d: %v, want ErrFewerTickets", i, err)
		}
		if path == "" {
			t.Fatalf("night %d: no path for the copy that was written", i)
		}
		if _, serr := os.Stat(path); serr != nil {
			t.Fatalf("night %d: %v", i, serr)
		}
		if i == 3 && !strings.Contains(err.Error(), "the copy before it") {
			t.Errorf("the first night does not say the copy shrank: %v", err)
		}
		if i >= 5 && !strings.Contains(err.Error(), lastGood+" (5 tickets) is kept beyond backup.keep") {
			t.Errorf("night %d does not name the kept copy: %v", i, err)
		}
		names, _ := backup.List(bdir)
		if !slices.Contains(names, lastGood) {
			t.Fatalf("night %d deleted %s, the last copy with the tickets: %v", i, lastGood, names)
		}
		if len(names) > 4 {
			t.Fatalf("night %d kept %d copies (keep 3, plus the one with the tickets): %v", i, len(names), names)
		}
	}
	c, err := store.Verify(filepath.Join(bdir, lastGood), time.Second)
	if err != nil || c.Tickets != 5 {
		t.Fatalf("the kept copy: %+v %v", c, err)
	}

	// Six tickets now, more than the kept copy: it is an ordinary old copy again.
	for i := range 6 {
		if err := putTicket(wiped, fmt.Sprintf("BX-NEW-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := backup.Rotate(wiped, bdir, 3, day(10)); err != nil {
		t.Fatal(err)
	}
	if names, _ := backup.List(bdir); len(names) != 3 || slices.Contains(names, lastGood) {
		t.Fatalf("after the tickets came back: %v", names)
	}
}
