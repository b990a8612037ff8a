package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
)

func MustOpen(tb testing.TB, path string) *store.Store {
	tb.Helper()
	s, err := store.Open(path, store.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func seed(tb testing.TB, s *store.Store) {
	tb.Helper()
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		if err := tx.MarkSeen("tg:u:7", t0); err != nil {
			return err
		}
		if err := tx.SetCursor("tg.offset", "8"); err != nil {
			return err
		}
		if err := tx.PutPerson(&flows.Person{ID: "tg:100", Role: flows.RoleResident, Name: "王芳", Registered: true}); err != nil {
			return err
		}
		if err := tx.PutPerson(&flows.Person{ID: "tg:200", Role: flows.RoleTechnician, Name: "张师傅", Registered: true}); err != nil {
			return err
		}
		for i, st := range []flows.State{flows.StateNew, flows.StateAccepted, flows.StateClosed} {
			tk := &flows.Ticket{ID: fmt.Sprintf("BX-20261127-%04d", i+1), State: st, ResidentID: "tg:100", Created: t0.Add(time.Duration(i) * time.Minute)}
			if st != flows.StateNew {
				tk.AssigneeID = "tg:200"
			}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			if err := tx.AppendTicketEvent(tk.ID, flows.TicketEvent{At: t0, Action: "reported"}); err != nil {
				return err
			}
		}
		if err := tx.PutDialogue(&flows.Dialogue{PersonID: "tg:100", Kind: "report", Step: "desc", Category: "water"}); err != nil {
			return err
		}
		return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "100"}, Kind: flows.KindSend, Text: "hello"})
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func check(tb testing.TB, s *store.Store) {
	tb.Helper()
	err := s.View(context.Background(), func(tx flows.Tx) error {
		if ok, _ := tx.Seen("tg:u:7"); !ok {
			return errors.New("dedupe mark lost")
		}
		if v, _ := tx.Cursor("tg.offset"); v != "8" {
			return fmt.Errorf("cursor %q", v)
		}
		techs, err := tx.PeopleByRole(flows.RoleTechnician)
		if err != nil || len(techs) != 1 || techs[0].Name != "张师傅" {
			return fmt.Errorf("technicians %v %v", techs, err)
		}
		open, err := tx.OpenTickets()
		if err != nil || len(open) != 2 || open[0].ID != "BX-20261127-0001" {
			return fmt.Errorf("open tickets %d %v", len(open), err)
		}
		mine, err := tx.TicketsByResident("tg:100", 0)
		if err != nil || len(mine) != 3 || mine[0].ID != "BX-20261127-0003" {
			return fmt.Errorf("by resident %d %v", len(mine), err)
		}
		jobs, err := tx.TicketsByAssignee("tg:200")
		if err != nil || len(jobs) != 1 || jobs[0].ID != "BX-20261127-0002" {
			return fmt.Errorf("by assignee (closed excluded) %d %v", len(jobs), err)
		}
		evs, err := tx.TicketEvents("BX-20261127-0002")
		if err != nil || len(evs) != 1 || evs[0].Seq != 1 {
			return fmt.Errorf("events %v %v", evs, err)
		}
		d, err := tx.Dialogue("tg:100")
		if err != nil || d.Step != "desc" || d.Category != "water" {
			return fmt.Errorf("dialogue %+v %v", d, err)
		}
		if _, err := tx.Ticket("BX-nope"); !errors.Is(err, flows.ErrNotFound) {
			return fmt.Errorf("missing ticket: %v", err)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	rows, err := s.Pending(0)
	if err != nil || len(rows) != 1 || rows[0].Msg.Text != "hello" {
		tb.Fatalf("outbox %v %v", rows, err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "repair.db")
	s := MustOpen(t, path)
	seed(t, s)
	check(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpen(t, path)
	defer s.Close()
	check(t, s)
}

// TestCrashBetweenCommitAndDelivery runs a child process that commits an
// event with its outbox row and is then killed with SIGKILL before any
// sender runs. The reopened store has the row, still pending.
func TestCrashBetweenCommitAndDelivery(t *testing.T) {
	if os.Getenv("STORE_CRASH_CHILD") != "" {
		s, err := store.Open(os.Getenv("STORE_CRASH_CHILD"), store.Options{})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(2)
		}
		seed(t, s)
		fmt.Println("committed")
		os.Stdout.Sync()
		time.Sleep(time.Minute) // wait to be killed, store still open
		return
	}
	path := filepath.Join(t.TempDir(), "repair.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBetweenCommitAndDelivery$")
	cmd.Env = append(os.Environ(), "STORE_CRASH_CHILD="+path)
	var out bytes.Buffer
	pr, pw, _ := os.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	buf := make([]byte, 64)
	n, _ := pr.Read(buf)
	out.Write(buf[:n])
	if !bytes.Contains(out.Bytes(), []byte("committed")) {
		t.Fatalf("child said %q", out.String())
	}
	// While the child holds the file, a second open fails clearly.
	if _, err := store.Open(path, store.Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second process: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s := MustOpen(t, path)
	defer s.Close()
	check(t, s)
}

func TestOutboxLifecycle(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "repair.db"))
	defer s.Close()
	to := flows.Address{Channel: "tg", Chat: "-100"}
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(
			flows.Message{To: to, Kind: flows.KindSend, Text: "card", CardKey: "grp:A"},
			flows.Message{To: to, Kind: flows.KindEdit, Text: "card v2", CardKey: "grp:A"},
			flows.Message{To: flows.Address{Channel: "tg", Chat: "5"}, Kind: flows.KindSend, Text: "to a blocked user"},
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Notify():
	default:
		t.Fatal("commit with outbox rows did not notify the sender")
	}
	rows, _ := s.Pending(0)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	if err := s.MarkDelivered(rows[0].ID, "77", t0); err != nil {
		t.Fatal(err)
	}
	ref, ok, err := s.Card("grp:A")
	if err != nil || !ok || ref.MessageID != "77" || ref.Chat != to {
		t.Fatalf("card %+v %v %v", ref, ok, err)
	}
	if err := s.MarkRetry(rows[1].ID, t0.Add(time.Second), "HTTP 502", true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(rows[2].ID, "Forbidden: bot was blocked by the user", t0); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.Pending(0)
	if len(rows) != 1 || rows[0].Attempts != 1 || rows[0].LastError != "HTTP 502" || !rows[0].NextAttempt.Equal(t0.Add(time.Second)) {
		t.Fatalf("retry row %+v", rows)
	}
	failed, _ := s.Rows(outbox.StatusFailed)
	if len(failed) != 1 || failed[0].Status != outbox.StatusFailed || failed[0].LastError == "" {
		t.Fatalf("failed rows %+v", failed)
	}
	st, _ := s.Stats()
	if st.Pending != 1 || st.Delivered != 1 || st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n, err := s.PruneDelivered(t0); err != nil || n != 0 {
		t.Fatalf("pruned %d rows finished at the cutoff: %v", n, err)
	}
	if n, err := s.PruneDelivered(t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d %v", n, err)
	}
	if _, ok, _ := s.Card("grp:A"); !ok {
		t.Fatal("pruning forgot the card's message id")
	}
	if st, _ := s.Stats(); st.Delivered != 0 || st.Failed != 1 {
		t.Fatalf("after prune %+v", st)
	}
}

func TestPruneSeen(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "repair.db"))
	defer s.Close()
	_ = s.Update(context.Background(), func(tx flows.Tx) error {
		_ = tx.MarkSeen("old", t0.Add(-48*time.Hour))
		return tx.MarkSeen("new", t0)
	})
	n, err := s.PruneSeen(t0.Add(-24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d %v", n, err)
	}
	_ = s.View(context.Background(), func(tx flows.Tx) error {
		if old, _ := tx.Seen("old"); old {
			t.Error("old key kept")
		}
		if nw, _ := tx.Seen("new"); !nw {
			t.Error("new key pruned")
		}
		return nil
	})
}

func TestBackupOpens(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, filepath.Join(dir, "repair.db"))
	defer s.Close()
	seed(t, s)
	f, err := os.Create(filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := MustOpen(t, filepath.Join(dir, "copy.db"))
	defer c.Close()
	check(t, c)
}

// TestSupersedeKeepsARealChange: a card's clock refresh that supersedes a
// real edit before it went out stops being a refresh, so a channel that
// skips refreshes still shows the change; a refresh superseding a refresh
// stays one.
func TestSupersedeKeepsARealChange(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "repair.db"))
	defer s.Close()
	to := flows.Address{Channel: "wecom", Chat: "appchat:ops"}
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		return tx.Enqueue(
			flows.Message{To: to, Kind: flows.KindEdit, Text: "clock 1", CardKey: "grp:A", Refresh: true},
			flows.Message{To: to, Kind: flows.KindEdit, Text: "clock 2", CardKey: "grp:A", Refresh: true},
			flows.Message{To: to, Kind: flows.KindEdit, Text: "accepted by 张师傅", CardKey: "grp:A"},
			flows.Message{To: to, Kind: flows.KindEdit, Text: "accepted by 张师傅, clock 3", CardKey: "grp:A", Refresh: true},
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := s.Pending(0)
	if err := s.MarkSuperseded(rows[0].ID, rows[1].ID, t0); err != nil {
		t.Fatal(err)
	}
	if rows, _ = s.Pending(0); !rows[0].Msg.Refresh {
		t.Fatal("a refresh superseding a refresh became a real edit")
	}
	if err := s.MarkSuperseded(rows[0].ID, rows[2].ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSuperseded(rows[1].ID, rows[2].ID, t0); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.Pending(0)
	if len(rows) != 1 || rows[0].Msg.Refresh || rows[0].Msg.Text != "accepted by 张师傅, clock 3" {
		t.Fatalf("after superseding the real edit: %+v", rows)
	}
}

// TestDueTimersWithinASecond: timer keys sort by due second, then by
// timer key. A timer due later in now's second came first and ended the
// scan, hiding a timer of the same second that was due (it fired a tick
// late), and timers of one second came in key order, not due order.
func TestDueTimersWithinASecond(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "repair.db"))
	defer s.Close()
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		for key, ms := range map[string]int{"a": 900, "b": 100, "c": 0} {
			if err := tx.PutTimer(flows.Timer{Key: key, Due: t0.Add(time.Duration(ms) * time.Millisecond), Kind: "sla"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ms    int
		limit int
		want  string
	}{{500, 0, "[c b]"}, {950, 0, "[c b a]"}, {950, 2, "[c b]"}} {
		var keys []string
		err := s.View(context.Background(), func(tx flows.Tx) error {
			due, err := tx.DueTimers(t0.Add(time.Duration(c.ms)*time.Millisecond), c.limit)
			for _, tm := range due {
				keys = append(keys, tm.Key)
			}
			return err
		})
		if err != nil || fmt.Sprint(keys) != c.want {
			t.Errorf("due at +%dms (limit %d) = %v, %v; want %s", c.ms, c.limit, keys, err, c.want)
		}
	}
}
