package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// areaDuty puts each area's technician on duty around the clock in the
// stored roster, each shift in its area.
func areaDuty(o *flows.Options) {
	twoAreas(o)
	for d := time.Sunday; d <= time.Saturday; d++ {
		o.DutySeed = append(o.DutySeed,
			flows.RosterShift{Day: d, From: 0, To: 0, People: []string{eastTech.PID()}, Area: "east"},
			flows.RosterShift{Day: d, From: 0, To: 0, People: []string{westTech.PID()}, Area: "west"})
	}
}

func dutyWorld(t *testing.T) *flowstest.World {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(areaDuty))
	registerIn(w, eastRes, "east", "3栋")
	registerIn(w, westRes, "west", "8号楼")
	staffIn(w, eastTech, "technician", "east")
	staffIn(w, westTech, "technician", "west")
	staffIn(w, eastLead, "lead", "east")
	staffIn(w, westLead, "lead", "west")
	w.Cmd(admin, "help", "")
	w.Drain()
	return w
}

// reportAll files a normal ticket like World.Report and returns its id
// with every message the report queued (World.Report drains them).
func reportAll(t *testing.T, w *flowstest.World, p flowstest.Person, desc string) (string, []flows.Message) {
	t.Helper()
	var all []flows.Message
	tapFirst := func() {
		msgs := w.Drain()
		all = append(all, msgs...)
		w.Tap(p, w.Last(msgs, p.Chat()).Buttons[0][0].Data, false)
	}
	w.Cmd(p, "report", "")
	tapFirst() // the first category
	w.Text(p, desc)
	tapFirst() // no more photos
	tapFirst() // household
	tapFirst() // as soon as possible
	msgs := w.Drain()
	all = append(all, msgs...)
	ack := w.Last(msgs, p.Chat()).Text
	i := strings.Index(ack, "BX-")
	if i < 0 {
		t.Fatalf("no ticket number in %q", ack)
	}
	return ack[i : i+len("BX-20261127-0001")], all
}

// TestAreasReportReachesItsGroup: each area's report is carded in its own
// group only, and its acceptance clock escalates to its own lead (and the
// admins), never to the other area's.
func TestAreasReportReachesItsGroup(t *testing.T) {
	w := dutyWorld(t)
	t0 := w.Now
	ids := map[string]string{}
	for _, c := range []struct {
		res         flowstest.Person
		area        string
		mine, other flows.Address
	}{{eastRes, "east", eastGroup, westGroup}, {westRes, "west", westGroup, eastGroup}} {
		id, msgs := reportAll(t, w, c.res, "水管漏水")
		ids[c.area] = id
		if got := w.Ticket(id).Area; got != c.area {
			t.Fatalf("%s's ticket in %q", c.res.Name, got)
		}
		if got := To(msgs, c.mine); len(got) != 1 || !strings.Contains(got[0].Text, id) {
			t.Errorf("%s's card in its group: %+v", c.res.Name, got)
		}
		if got := To(msgs, c.other); len(got) != 0 {
			t.Errorf("%s's report reached the other area's group: %+v", c.res.Name, got)
		}
	}
	// Not accepted in time: each area's lead hears of their own only.
	w.Now = t0.Add(16 * time.Minute)
	w.Tick()
	msgs := w.Drain()
	for area, lead := range map[string]flowstest.Person{"east": eastLead, "west": westLead} {
		other := map[string]string{"east": "west", "west": "east"}[area]
		if count(msgs, lead.Chat(), ids[area]) == 0 {
			t.Errorf("%s's lead not told of their own late ticket %s: %+v", area, ids[area], To(msgs, lead.Chat()))
		}
		if count(msgs, lead.Chat(), ids[other]) != 0 {
			t.Errorf("%s's lead told of the other area's ticket %s", area, ids[other])
		}
		if count(msgs, admin.Chat(), ids[area]) == 0 {
			t.Errorf("the admin not told of %s's late ticket", area)
		}
	}
}

// TestAreasEmergencyPagesItsRoster: an emergency in west pages west's
// on-duty technician (not east's), and unreached at five minutes
// escalates to west's lead (not east's); at ten to the admins.
func TestAreasEmergencyPagesItsRoster(t *testing.T) {
	w := dutyWorld(t)
	t0 := w.Now
	w.Cmd(westRes, "report", "")
	prompt := w.Last(w.Drain(), westRes.Chat())
	w.Tap(westRes, w.ButtonData(prompt, "🚨 跑水"), false)
	msgs := w.Drain()
	ack := w.Last(msgs, westRes.Chat())
	i := strings.Index(ack.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket in %q", ack.Text)
	}
	id := ack.Text[i : i+len("BX-20261127-0001")]
	if count(msgs, westTech.Chat(), id) != 1 || count(msgs, eastTech.Chat(), id) != 0 {
		t.Fatalf("paged: west's technician %d, east's %d; want 1 and 0", count(msgs, westTech.Chat(), id), count(msgs, eastTech.Chat(), id))
	}
	if len(To(msgs, westGroup)) == 0 || len(To(msgs, eastGroup)) != 0 {
		t.Fatalf("the emergency card: west's group %d, east's %d", len(To(msgs, westGroup)), len(To(msgs, eastGroup)))
	}
	w.Now = t0.Add(2 * time.Minute)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, westTech.Chat(), "再次呼叫") != 1 || count(msgs, eastTech.Chat(), id) != 0 || count(msgs, westGroup, "🚨 再次呼叫") != 1 {
		t.Fatalf("rung 1 re-paged: %+v", msgs)
	}
	w.Now = t0.Add(5 * time.Minute)
	w.Tick()
	msgs = w.Drain()
	// (The SLA breach also opens the company's SOP review, which every
	// lead takes part in: the ladder's own message is what is counted.)
	if count(msgs, westLead.Chat(), "仍未到场") != 1 || count(msgs, eastLead.Chat(), "仍未到场") != 0 || count(msgs, admin.Chat(), "仍未到场") != 0 {
		t.Fatalf("rung 2: west's lead %d, east's %d, admin %d; want 1, 0, 0", count(msgs, westLead.Chat(), "仍未到场"), count(msgs, eastLead.Chat(), "仍未到场"), count(msgs, admin.Chat(), "仍未到场"))
	}
	w.Now = t0.Add(10 * time.Minute)
	w.Tick()
	msgs = w.Drain()
	if count(msgs, admin.Chat(), "升级") != 1 || count(msgs, eastLead.Chat(), "升级") != 0 || count(msgs, westLead.Chat(), "升级") != 0 {
		t.Fatalf("rung 3: admin %d, east's lead %d", count(msgs, admin.Chat(), "升级"), count(msgs, eastLead.Chat(), "升级"))
	}
}

// TestAreasAcceptAndAssign: a card of east cannot be accepted by west's
// technician, nor managed by west's lead; east's lead may assign it to
// west's technician (a roving hand), who then works it as its assignee.
func TestAreasAcceptAndAssign(t *testing.T) {
	w := areaWorld(t)
	id := w.Report(eastRes, "水管漏水")
	w.Drain()
	w.Refused(w.Tap(westTech, flows.EncodePayload("acc", id), true), "不在您负责的区域")
	w.Refused(w.Tap(westLead, flows.EncodePayload("acc", id), true), "不在您负责的区域")
	w.Refused(w.Tap(westLead, flows.EncodePayload("ra", id, westTech.PID()), false), "不在您负责的区域")
	if got := w.Ticket(id); got.State != flows.StateNew {
		t.Fatalf("refused taps moved the ticket to %s", got.State)
	}
	w.Drain()
	w.Expect(w.Tap(eastLead, flows.EncodePayload("ra", id, westTech.PID()), false))
	w.Drain()
	if got := w.Ticket(id); got.AssigneeID != westTech.PID() || got.Area != "east" {
		t.Fatalf("after the assignment: %+v", got)
	}
	w.Expect(w.Tap(westTech, flows.EncodePayload("way", id), false))
	w.Expect(w.Tap(westTech, flows.EncodePayload("arr", id), false))
	if got := w.Ticket(id); got.State != flows.StateOnSite || got.Area != "east" {
		t.Fatalf("the assignee from west could not work it: %s, area %q", got.State, got.Area)
	}
	// The admin belongs to every area.
	w.Drain()
	w.Expect(w.Tap(admin, flows.EncodePayload("tk", id), false))
}

// TestAreasPrices: a quote in an area with its own price of W02 charges
// it; the other area charges the SOP's.
func TestAreasPrices(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		twoAreas(o)
		o.Areas[1].Prices = map[string]int64{"W02": 4321}
	}))
	registerIn(w, eastRes, "east", "3栋")
	registerIn(w, westRes, "west", "8号楼")
	staffIn(w, eastTech, "technician", "east")
	staffIn(w, westTech, "technician", "west")
	sopCents := int64(-1)
	for _, p := range w.Eng.SOP().Prices {
		if p.Code == "W02" {
			sopCents = p.Cents
		}
	}
	for _, c := range []struct {
		res, tech flowstest.Person
		want      int64
	}{{eastRes, eastTech, sopCents}, {westRes, westTech, 4321}} {
		id := w.Report(c.res, "角阀漏水")
		w.Expect(w.Tap(c.tech, flows.EncodePayload("acc", id), true))
		w.WalkToSignoff(c.tech, c.res, id)
		if q := w.Ticket(id).Visit.Quote; q == nil || len(q.Lines) != 1 || q.Lines[0].Cents != c.want {
			t.Errorf("%s's quote %+v, want W02 at %d fen", c.res.Name, q, c.want)
		}
	}
}
