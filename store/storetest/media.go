package storetest

import (
	"sort"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
)

// MediaReferrer is what the nightly orphan sweep asks of a store
// (jobs.MediaReferrer).
type MediaReferrer interface {
	MediaRefs(yield func(sum string)) error
}

// RunMediaRefs checks MediaRefs, for a store that has it: every digest in
// any record (a ticket's photos, an audit trail's, a dialogue's draft, a
// queued message), each run of exactly 64 lower-case hex digits and
// nothing shorter or longer, and nothing of a record that is gone.
func RunMediaRefs(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	refs, ok := o.Store.(MediaReferrer)
	if !ok {
		t.Skipf("%T has no MediaRefs", o.Store)
	}
	digest := func(c string) string { return strings.Repeat(c, 64) }
	onTicket, inTrail, inDraft, queued, dropped := digest("a"), digest("b"), digest("c"), digest("d"), digest("e")
	update(t, o.Store, func(tx flows.Tx) error {
		tk := &flows.Ticket{ID: "BX-20261127-0001", ResidentID: "tg:7", State: flows.StateNew, Created: T0, Updated: T0,
			Photos: []flows.Photo{{FileID: "f1", SHA256: onTicket}}, Description: digest("1")[:63] + " " + digest("2") + "3"}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		if err := tx.AppendTicketEvent(tk.ID, flows.TicketEvent{At: T0, Actor: "tg:7", Photos: []flows.Photo{{FileID: "f2", SHA256: inTrail}}}); err != nil {
			return err
		}
		if err := tx.PutDialogue(&flows.Dialogue{PersonID: "tg:7", Kind: "report", Started: T0, Updated: T0,
			Photos: []flows.Photo{{FileID: "f3", SHA256: inDraft}}}); err != nil {
			return err
		}
		if err := tx.PutDialogue(&flows.Dialogue{PersonID: "tg:8", Kind: "report", Started: T0, Updated: T0,
			Photos: []flows.Photo{{FileID: "f5", SHA256: dropped}}}); err != nil {
			return err
		}
		if err := tx.DeleteDialogue("tg:8"); err != nil {
			return err
		}
		return tx.Enqueue(flows.Message{To: flows.Address{Channel: "tg", Chat: "7"}, Kind: flows.KindSend, Text: "photo " + queued})
	})
	seen := map[string]bool{}
	if err := refs.MediaRefs(func(sum string) { seen[sum] = true }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for s := range seen {
		got = append(got, s)
	}
	sort.Strings(got)
	wantSame(t, "digests", got, []string{onTicket, inTrail, inDraft, queued})
}
