package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestAreasScope: a lead sees their area's tickets in /open, /daily and
// /month; the admin sees every area's, broken down by area.
func TestAreasScope(t *testing.T) {
	w := areaWorld(t)
	east := w.Report(eastRes, "东边漏水")
	west := w.Report(westRes, "西边漏水")
	w.Drain()
	answer := func(p flowstest.Person, cmd string) string {
		t.Helper()
		w.Cmd(p, cmd, "")
		return w.Last(w.Drain(), p.Chat()).Text
	}
	for _, cmd := range []string{"open", "daily"} {
		for _, c := range []struct {
			who         flowstest.Person
			sees, hides string
		}{{eastLead, east, west}, {westLead, west, east}} {
			got := answer(c.who, cmd)
			if !strings.Contains(got, c.sees) || strings.Contains(got, c.hides) {
				t.Errorf("/%s of %s: want %s and not %s in\n%s", cmd, c.who.Name, c.sees, c.hides, got)
			}
		}
		got := answer(admin, cmd)
		if !strings.Contains(got, east) || !strings.Contains(got, west) {
			t.Errorf("/%s of the admin misses an area:\n%s", cmd, got)
		}
	}
	if got := answer(admin, "open"); !strings.Contains(got, "按小区：东苑小区 1；西苑小区 1") {
		t.Errorf("the admin's /open has no breakdown by area:\n%s", got)
	}
	if got := answer(eastLead, "open"); strings.Contains(got, "按小区") {
		t.Errorf("a lead's /open is broken down by area:\n%s", got)
	}
	monthHas(t, w, answer(westLead, "month"), 1)
	got := answer(admin, "month")
	monthHas(t, w, got, 2)
	if !strings.Contains(got, "按小区：东苑小区 1；西苑小区 1") {
		t.Errorf("the admin's /month has no breakdown by area:\n%s", got)
	}
}

// monthHas checks the month report's count of reported tickets.
func monthHas(t *testing.T, w *flowstest.World, report string, n int) {
	t.Helper()
	want := w.Opts.Texts.T(flows.LangZH, "month.reported", "n", n, "household", n, "public", 0, "emergencies", 0)
	if !strings.Contains(report, want) {
		t.Errorf("month report: want %q in\n%s", want, report)
	}
}

// TestAreasScopedButtons: a lead of another area is refused on a
// technician's handover and duty, the admin is not.
func TestAreasScopedButtons(t *testing.T) {
	w := areaWorld(t)
	day := w.Now.In(w.Opts.Location).Format("20060102")
	for _, data := range []string{
		flows.EncodePayload("du", eastTech.PID(), "on"),
		flows.EncodePayload("sx", eastTech.PID()),
		flows.EncodePayload("sr", eastTech.PID(), "lead"),
	} {
		w.Refused(w.Tap(westLead, data, false), "您不负责东苑小区")
		w.Drain()
	}
	// A submitted handover goes to the technician's area lead, whom
	// the other area's lead cannot stand in for.
	w.Tick() // schedules today's handover
	id := w.Report(eastRes, "漏水")
	w.Expect(w.Tap(eastTech, flows.EncodePayload("acc", id), true))
	w.Drain()
	w.Now = w.Now.Add(7 * time.Hour)
	w.Tick()
	w.Drain()
	w.Tap(eastTech, flows.EncodePayload("hs", day), false)
	msgs := w.Drain()
	if len(To(msgs, eastLead.Chat())) != 1 || len(To(msgs, westLead.Chat())) != 0 || len(To(msgs, admin.Chat())) != 1 {
		t.Fatalf("the handover went to east's lead %d, west's %d, the admin %d; want 1, 0, 1",
			len(To(msgs, eastLead.Chat())), len(To(msgs, westLead.Chat())), len(To(msgs, admin.Chat())))
	}
	w.Refused(w.Tap(westLead, flows.EncodePayload("hv", day, eastTech.PID(), "ok"), false), "您不负责东苑小区")
	w.Expect(w.Tap(eastLead, flows.EncodePayload("hv", day, eastTech.PID(), "ok"), false))
}
