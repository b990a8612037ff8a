package web_test

import (
	"net/http"
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
