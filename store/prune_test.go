package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Bounded growth: failed rows, idle dialogues and used or expired invites
// are forgotten once older than the cutoff; younger ones stay, and a
// bucket full of alternating old and young entries loses every old one
// (a cursor that skips after a delete would leave some behind).
func TestPruneBoundedGrowth(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "p.db"))
	defer s.Close()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	cut := t0.Add(30 * 24 * time.Hour)
	old, young := cut.Add(-time.Hour), cut.Add(time.Hour)
	const n = 40
	err := s.Update(context.Background(), func(tx flows.Tx) error {
		for i := range n {
			at := old
			if i%2 == 1 {
				at = young
			}
			if err := tx.PutDialogue(&flows.Dialogue{PersonID: fmt.Sprintf("tg:%d", i), Kind: "report", Started: t0, Updated: at}); err != nil {
				return err
			}
			inv := &flows.Invite{Code: fmt.Sprintf("CODE%03d", i), Role: flows.RoleTechnician, Created: t0, Expires: at}
			if i%4 >= 2 { // used: by the use, not the expiry
				used := at
				inv.Used, inv.UsedBy, inv.Expires = &used, "tg:1", t0
			}
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
			if err := tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: fmt.Sprint(i)}, Kind: flows.KindSend, Text: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := s.Pending(0)
	for i, r := range rows {
		at := old
		if i%2 == 1 {
			at = young
		}
		if err := s.MarkFailed(r.ID, "Forbidden", at); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		prune func(time.Time) (int, error)
	}{{"failed rows", s.PruneFailed}, {"dialogues", s.PruneDialogues}, {"invites", s.PruneInvites}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.prune(cut)
			if err != nil || got != n/2 {
				t.Fatalf("pruned %d (%v), want %d", got, err, n/2)
			}
			if again, _ := c.prune(cut); again != 0 {
				t.Fatalf("a second prune removed %d more", again)
			}
		})
	}
	failed, _ := s.Rows(outbox.StatusFailed)
	if len(failed) != n/2 {
		t.Errorf("%d failed rows left, want %d", len(failed), n/2)
	}
	_ = s.View(context.Background(), func(tx flows.Tx) error {
		for i := range n {
			_, derr := tx.Dialogue(fmt.Sprintf("tg:%d", i))
			_, ierr := tx.Invite(fmt.Sprintf("CODE%03d", i))
			if keep := i%2 == 1; keep != (derr == nil) || keep != (ierr == nil) {
				t.Errorf("entry %d: dialogue %v, invite %v; want kept=%v", i, derr, ierr, keep)
			}
		}
		return nil
	})
}
