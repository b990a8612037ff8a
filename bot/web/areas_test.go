package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
)

// TestConsoleAreaScope: a lead and customer service see their areas'
// tickets on the board, the daily check and the fee questions; a ticket
// of another area is not found for them (its page and its photos); the
// admin sees every area's.
func TestConsoleAreaScope(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	mine := r.report(resident, "厨房水管漏水")
	theirs := r.report(other, "客厅灯不亮")
	r.drain()
	r.update(func(tx flows.Tx) error {
		tk, err := tx.Ticket(theirs)
		if err != nil {
			return err
		}
		tk.Area = "west" // another area's ticket: nobody of the rig belongs to it but the admin
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		for _, id := range []string{mine, theirs} {
			if err := tx.PutFeeQuestion(&flows.FeeQuestion{TicketID: id, By: resident.PID(), Asked: r.clk.Now(), Total: 3500}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		who  person
		path string
		all  bool
	}{
		{lead, "/", false}, {dispatcher, "/", false}, {admin, "/", true},
		{lead, "/daily", false}, {admin, "/daily", true},
		{dispatcher, "/fees", false}, {admin, "/fees", true},
	} {
		t.Run(c.who.Name+c.path, func(t *testing.T) {
			page := r.session(c.who).get(c.path)
			if page.status != http.StatusOK {
				t.Fatalf("%s: %d", c.path, page.status)
			}
			contains(t, c.path, page.body, mine)
			if got := strings.Contains(page.body, theirs); got != c.all {
				t.Errorf("%s of %s lists the other area's %s: %v", c.path, c.who.Name, theirs, got)
			}
		})
	}
	for _, c := range []struct {
		who  person
		want int
	}{{lead, http.StatusNotFound}, {dispatcher, http.StatusNotFound}, {admin, http.StatusOK}} {
		if got := r.session(c.who).get("/t/" + theirs).status; got != c.want {
			t.Errorf("the other area's ticket page for %s: %d, want %d", c.who.Name, got, c.want)
		}
	}
	if got := r.session(lead).get("/t/" + mine).status; got != http.StatusOK {
		t.Errorf("the lead's own area's ticket page: %d", got)
	}
}

// TestConsoleRecordsAreaScope: the records' pages keep to the visitor's
// areas as the other pages do — the phone-callback list and the QC queue
// list their areas' tickets only, another area's work order is not found,
// and a QC review of another area's ticket is refused as the chat's
// button is; the admin sees and downloads every area's.
func TestConsoleRecordsAreaScope(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	mineCB, theirsCB := "BX-20261120-0001", "BX-20261120-0002"
	mineQC, theirsQC := "BX-20261121-0001", "BX-20261121-0002"
	r.onCallbackList(mineCB)
	r.onCallbackList(theirsCB)
	r.sampled(mineQC)
	r.sampled(theirsQC)
	r.update(func(tx flows.Tx) error {
		for _, id := range []string{theirsCB, theirsQC} {
			tk, err := tx.Ticket(id)
			if err != nil {
				return err
			}
			tk.Area = "west" // nobody of the rig belongs to it but the admin
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		who          person
		path         string
		mine, theirs string
		all          bool
	}{
		{dispatcher, "/callbacks", mineCB, theirsCB, false}, {admin, "/callbacks", mineCB, theirsCB, true},
		{lead, "/qc", mineQC, theirsQC, false}, {admin, "/qc", mineQC, theirsQC, true},
	} {
		t.Run(c.who.Name+c.path, func(t *testing.T) {
			page := r.session(c.who).get(c.path)
			if page.status != http.StatusOK {
				t.Fatalf("%s: %d", c.path, page.status)
			}
			contains(t, c.path, page.body, c.mine)
			if got := strings.Contains(page.body, c.theirs); got != c.all {
				t.Errorf("%s of %s lists the other area's %s: %v", c.path, c.who.Name, c.theirs, got)
			}
		})
	}
	for _, c := range []struct {
		who  person
		id   string
		want int
	}{{lead, theirsCB, http.StatusNotFound}, {dispatcher, theirsCB, http.StatusNotFound}, {admin, theirsCB, http.StatusOK}, {lead, mineCB, http.StatusOK}} {
		if got := r.session(c.who).get("/t/" + c.id + "/order.xlsx").status; got != c.want {
			t.Errorf("the work order of %s for %s: %d, want %d", c.id, c.who.Name, got, c.want)
		}
	}
	before := r.recordsSnapshot(theirsQC)
	res := r.session(lead).doAction("qc_review", url.Values{"ticket": {theirsQC}, "score": {"4"}, "back": {"/qc"}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "不负责") {
		t.Errorf("a QC review of another area's ticket: %d %q", res.status, res.body)
	}
	if after := r.recordsSnapshot(theirsQC); after != before {
		t.Errorf("the refused review changed something:\n%s\n%s", before, after)
	}
}
