package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// ReportUndelivered tells every admin, urgently and in their language,
// how many messages a channel gave up, over which spell, for which
// tickets, and how to send them again; nobody else is told.
func TestReportUndelivered(t *testing.T) {
	w := flowstest.New(t)
	admin := flowstest.Person{ID: 1, Name: "Admin", Lang: "en"}
	resident := flowstest.Person{ID: 50, Name: "王芳"}
	w.Cmd(admin, "help", "") // tg:1 is an admin by configuration
	w.Register(resident, "+8613800138000")
	w.Drain()
	since := w.Now.Add(-75 * time.Hour)
	err := w.Eng.ReportUndelivered(context.Background(), flows.UndeliveredReport{Channel: "telegram", Since: since, Until: w.Now,
		Count: 3, Tickets: []string{"BX-20261124-0001", "BX-20261124-0002"}, After: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	msgs := w.Drain()
	if len(msgs) != 1 || msgs[0].To != admin.Chat() || msgs[0].Priority != flows.PrioUrgent {
		t.Fatalf("messages %+v; want one urgent message to the admin", msgs)
	}
	for _, want := range []string{"telegram", "3 message", "72h0m0s", "BX-20261124-0001, BX-20261124-0002", "repairbot outbox requeue", "2026-11-24 07:00"} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("report %q lacks %q", msgs[0].Text, want)
		}
	}
}
