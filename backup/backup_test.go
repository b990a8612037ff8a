package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

var t0 = time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)

func open(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func putTicket(st *store.Store, id string) error {
	return st.Update(context.Background(), func(tx flows.Tx) error {
		return tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, ResidentID: "tg:100", Created: t0})
	})
}

func ticketIDs(t *testing.T, st *store.Store) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	err := st.View(context.Background(), func(tx flows.Tx) error {
		open, err := tx.OpenTickets()
		for _, tk := range open {
			ids[tk.ID] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// A backup taken while goroutines keep committing is a consistent
// snapshot: it opens, and every ticket committed before it started is in it.
func TestRotateUnderConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "repair.db"))
	defer st.Close()
	for i := 0; i < 200; i++ {
		if err := putTicket(st, fmt.Sprintf("BX-PRE-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}

	var started, stop atomic.Bool
	var commits atomic.Int64
	var mu sync.Mutex
	before := map[string]bool{} // committed before the backup started
	var wg sync.WaitGroup
	var writeErr atomic.Value
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("BX-W%d-%05d", w, i)
				if err := putTicket(st, id); err != nil {
					writeErr.Store(err)
					return
				}
				// The commit returned before this load; if the backup had
				// not started then, the ticket must be in the copy.
				if !started.Load() {
					mu.Lock()
					before[id] = true
					mu.Unlock()
				}
				commits.Add(1)
			}
		}()
	}
	// Let the writers get going: a fixed 30 ms saw no commit at all on a
	// loaded machine under -race.
	for deadline := time.Now().Add(10 * time.Second); commits.Load() < 8 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	started.Store(true)
	path, err := backup.Rotate(st, filepath.Join(dir, "backups"), 7, t0)
	time.Sleep(10 * time.Millisecond) // writers keep going after the snapshot
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if e := writeErr.Load(); e != nil {
		t.Fatal(e)
	}
	if want := filepath.Join(dir, "backups", "repair-20261127-033000Z.db"); path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	cp := open(t, path)
	defer cp.Close()
	got := ticketIDs(t, cp)
	for i := 0; i < 200; i++ {
		if id := fmt.Sprintf("BX-PRE-%04d", i); !got[id] {
			t.Fatalf("copy lacks %s", id)
		}
	}
	if len(before) == 0 {
		t.Fatal("the writers committed nothing before the backup; the test proves nothing")
	}
	for id := range before {
		if !got[id] {
			t.Fatalf("copy lacks %s, committed before the backup started", id)
		}
	}
	live := ticketIDs(t, st)
	if len(live) <= len(got) {
		t.Logf("note: no commits landed after the snapshot (live %d, copy %d)", len(live), len(got))
	}
	c, err := cp.Counts()
	if err != nil || c.Tickets != len(got) || c.Schema != 1 {
		t.Fatalf("counts %+v %v (tickets in index %d)", c, err, len(got))
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("backup dir holds %d entries (temp files left?)", len(entries))
	}
}

// Retention keeps exactly the newest keep copies and never touches other files.
func TestRotateKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "repair.db"))
	defer st.Close()
	bdir := filepath.Join(dir, "backups")
	if err := os.MkdirAll(bdir, 0o750); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(bdir, "keep-me.db")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := 0; i < 10; i++ {
		p, err := backup.Rotate(st, bdir, 3, t0.Add(time.Duration(i)*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	names, err := backup.List(bdir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Base(paths[7]), filepath.Base(paths[8]), filepath.Base(paths[9])}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("kept %v, want %v", names, want)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("an unrelated file was deleted: %v", err)
	}
	if _, err := backup.Rotate(st, bdir, 0, t0); err == nil {
		t.Fatal("keep 0 accepted")
	}
}

func seedStore(t *testing.T, path string, ids ...string) {
	t.Helper()
	st := open(t, path)
	defer st.Close()
	for _, id := range ids {
		if err := putTicket(st, id); err != nil {
			t.Fatal(err)
		}
	}
}

// Restore moves the old file aside and the restored store has the source's data.
func TestRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "repair.db")
	src := filepath.Join(dir, "src.db")
	seedStore(t, db, "BX-OLD-0001")
	seedStore(t, src, "BX-SRC-0001", "BX-SRC-0002")

	res, err := backup.Restore(db, src, 200*time.Millisecond, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := db + ".before-restore-20261127-033000Z"; res.Aside != want {
		t.Fatalf("aside %q, want %q", res.Aside, want)
	}
	if res.Counts.Tickets != 2 {
		t.Fatalf("counts %+v", res.Counts)
	}
	st := open(t, db)
	got := ticketIDs(t, st)
	st.Close()
	if !got["BX-SRC-0001"] || !got["BX-SRC-0002"] || got["BX-OLD-0001"] {
		t.Fatalf("restored store holds %v", got)
	}
	old := open(t, res.Aside)
	got = ticketIDs(t, old)
	old.Close()
	if len(got) != 1 || !got["BX-OLD-0001"] {
		t.Fatalf("the file moved aside holds %v", got)
	}

	// Into an empty place: nothing to move aside.
	fresh := filepath.Join(dir, "fresh", "repair.db")
	res, err = backup.Restore(fresh, src, 200*time.Millisecond, t0)
	if err != nil || res.Aside != "" || res.Counts.Tickets != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

// Restore refuses while another handle holds the database (a running bot),
// and refuses a source that is not a repairbot database.
func TestRestoreRefuses(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "repair.db")
	src := filepath.Join(dir, "src.db")
	seedStore(t, src, "BX-SRC-0001")
	running := open(t, db) // the "bot"
	if err := putTicket(running, "BX-LIVE-0001"); err != nil {
		t.Fatal(err)
	}
	_, err := backup.Restore(db, src, 100*time.Millisecond, t0)
	if !errors.Is(err, store.ErrLocked) || !errors.Is(err, backup.ErrBotRunning) {
		t.Fatalf("restore over a held database: %v", err)
	}
	if matches, _ := filepath.Glob(db + ".before-restore-*"); len(matches) != 0 {
		t.Fatalf("files moved aside: %v", matches)
	}
	if got := ticketIDs(t, running); !got["BX-LIVE-0001"] {
		t.Fatal("the running database was changed")
	}
	running.Close()

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(db, junk, 100*time.Millisecond, t0); err == nil {
		t.Fatal("restored a file that is not a database")
	}
	if _, err := backup.Restore(db, db, 100*time.Millisecond, t0); err == nil {
		t.Fatal("restored the database onto itself")
	}
	if _, err := backup.Restore(db, filepath.Join(dir, "missing.db"), 100*time.Millisecond, t0); err == nil {
		t.Fatal("restored a missing file")
	}
}

// The command-line front-ends, through a configuration file.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "config.toml")
	// Only [store] matters; the token is deliberately unset.
	t.Setenv("TELEGRAM_TOKEN", "")
	cfg := fmt.Sprintf("[store]\ndata_dir = %q\n[backup]\nkeep = 3\n", data)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return t0 }
	run := func(args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		err := backup.Command(args[0], args[1:], &out, &errs, now)
		return out.String(), errs.String(), err
	}

	if _, _, err := run("backup", "-config", cfgPath, filepath.Join(dir, "b.db")); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("backup without a database: %v", err)
	}
	db := filepath.Join(data, "repair.db")
	seedStore(t, db, "BX-1", "BX-2", "BX-3")

	dest := filepath.Join(dir, "b.db")
	out, errs, err := run("backup", "-config", cfgPath, dest)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	if !strings.Contains(out, "3 tickets, 0 people, 0 outbox pending") {
		t.Fatalf("output %q", out)
	}
	if !strings.Contains(errs, "telegram.token") {
		t.Errorf("ignored problems not mentioned: %q", errs)
	}
	if _, _, err := run("backup", "-config", cfgPath, dest); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("overwrote without -force: %v", err)
	}
	if _, _, err := run("backup", "-config", cfgPath, "-force", dest); err != nil {
		t.Fatal(err)
	}
	// A new directory named with a trailing separator gets a dated file.
	out, _, err = run("backup", "-config", cfgPath, filepath.Join(dir, "new")+string(os.PathSeparator))
	if err != nil || !strings.Contains(out, filepath.Join(dir, "new", "repair-manual-20261127-033000Z.db")) {
		t.Fatalf("backup into a new directory: %v %q", err, out)
	}

	// While the bot runs, backup explains where the bot's own copies are,
	// and restore refuses.
	bot := open(t, db)
	if _, err := backup.Rotate(bot, filepath.Join(data, "backups"), 3, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err = run("backup", "-config", cfgPath, filepath.Join(dir, "c.db"))
	if err == nil || !strings.Contains(err.Error(), "running bot") || !strings.Contains(err.Error(), "repair-20261127-033000Z.db") {
		t.Fatalf("backup of a running bot: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file was written for a running bot")
	}
	_, _, err = run("restore", "-config", cfgPath, dest)
	if err == nil || !strings.Contains(err.Error(), "restore refused") {
		t.Fatalf("restore under a running bot: %v", err)
	}
	bot.Close()

	out, _, err = run("restore", "-config", cfgPath, dest)
	if err != nil || !strings.Contains(out, "3 tickets") || !strings.Contains(out, "before-restore-20261127-033000Z") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if _, _, err := run("restore", "-config", cfgPath); err == nil {
		t.Fatal("restore without a file accepted")
	}
}
