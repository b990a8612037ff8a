package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/outbox"
)

// The hourly housekeeping bounds growth: a failed row, a dialogue and a
// used invite older than their Keep are forgotten, younger ones stay.
func TestHousekeepingBoundsGrowth(t *testing.T) {
	w := flowstest.New(t)
	st := w.Bolt()
	now := w.Now
	old, young := now.Add(-10*24*time.Hour), now.Add(-time.Hour)
	err := st.Update(context.Background(), func(tx flows.Tx) error {
		for _, d := range []*flows.Dialogue{{PersonID: "tg:7", Kind: "report", Started: old, Updated: old},
			{PersonID: "tg:8", Kind: "report", Started: young, Updated: young}} {
			if err := tx.PutDialogue(d); err != nil {
				return err
			}
		}
		for _, code := range []string{"OLD", "NEW"} {
			at := old
			if code == "NEW" {
				at = young
			}
			if err := tx.PutInvite(&flows.Invite{Code: code, Role: flows.RoleTechnician, Created: at, Expires: at.Add(time.Hour), Used: &at, UsedBy: "tg:9"}); err != nil {
				return err
			}
		}
		return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "1"}, Kind: flows.KindSend, Text: "a"},
			flows.Message{To: flows.Address{Channel: "tg", Chat: "2"}, Kind: flows.KindSend, Text: "b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := st.Pending(0)
	_ = st.MarkFailed(rows[0].ID, "Forbidden", old)
	_ = st.MarkFailed(rows[1].ID, "Forbidden", young)
	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: st, Tick: time.Hour, Log: zerolog.Nop(), Now: func() time.Time { return now },
		Keep: jobs.Keep{Failed: 7 * 24 * time.Hour, Dialogues: 7 * 24 * time.Hour, Invites: 7 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // Open ran the housekeeping once
	if failed, _ := st.Rows(outbox.StatusFailed); len(failed) != 1 || failed[0].ID != rows[1].ID {
		t.Errorf("failed rows left %+v", failed)
	}
	_ = st.View(context.Background(), func(tx flows.Tx) error {
		if _, err := tx.Dialogue("tg:7"); err == nil {
			t.Error("the idle dialogue is still there")
		}
		if _, err := tx.Dialogue("tg:8"); err != nil {
			t.Errorf("the fresh dialogue was pruned: %v", err)
		}
		if _, err := tx.Invite("OLD"); err == nil {
			t.Error("the old invite is still there")
		}
		if _, err := tx.Invite("NEW"); err != nil {
			t.Errorf("the fresh invite was pruned: %v", err)
		}
		return nil
	})
}
