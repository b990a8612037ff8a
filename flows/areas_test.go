package flows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// Two estates served by one bot: east (the default, listing its
// buildings) and west (buildings typed), each with its own group.
var (
	eastGroup = flows.Address{Channel: "tg", Chat: "-100201"}
	westGroup = flows.Address{Channel: "tg", Chat: "-100202"}

	eastRes  = flowstest.Person{ID: 110, Name: "东住户"}
	westRes  = flowstest.Person{ID: 120, Name: "西住户"}
	eastTech = flowstest.Person{ID: 210, Name: "东师傅"}
	westTech = flowstest.Person{ID: 220, Name: "西师傅"}
	eastLead = flowstest.Person{ID: 310, Name: "东经理"}
	westLead = flowstest.Person{ID: 320, Name: "西经理"}
)

func twoAreas(o *flows.Options) {
	o.Areas = []flows.Area{
		{Key: "east", Names: map[flows.Lang]string{flows.LangZH: "东苑小区", flows.LangEN: "East Garden"},
			Buildings: []string{"1栋", "2栋", "3栋"}, Group: eastGroup, ServicePhone: "0571-1111"},
		{Key: "west", Names: map[flows.Lang]string{flows.LangZH: "西苑小区", flows.LangEN: "West Garden"},
			Group: westGroup, ServicePhone: "0571-2222"},
	}
	o.PosterKey = []byte("test-poster-key-0123456789")
}

// areaWorld is a world of two areas with a resident, a technician and a
// lead in each.
func areaWorld(t *testing.T) *flowstest.World {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(twoAreas))
	registerIn(w, eastRes, "east", "3栋")
	registerIn(w, westRes, "west", "8号楼")
	staffIn(w, eastTech, "technician", "east")
	staffIn(w, westTech, "technician", "west")
	staffIn(w, eastLead, "lead", "east")
	staffIn(w, westLead, "lead", "west")
	return w
}

// registerIn registers a resident, picking the area and the building
// with the buttons (or typing the building where the area lists none).
func registerIn(w *flowstest.World, p flowstest.Person, area, building string) {
	w.TB.Helper()
	w.Cmd(p, "start", "")
	w.Text(p, p.Name)
	w.Contact(p, fmt.Sprintf("13800138%03d", p.ID%1000), true)
	m := w.Last(w.Drain(), p.Chat())
	w.Tap(p, buttonWith(w, m, areaLabel(area)), false)
	m = w.Last(w.Drain(), p.Chat())
	if len(m.Buttons) > 0 {
		w.Tap(p, buttonWith(w, m, building), false)
	} else {
		w.Text(p, building)
	}
	w.Text(p, "2单元")
	w.Text(p, "1502")
	w.Drain()
}

func areaLabel(key string) string {
	return map[string]string{"east": "东苑小区", "west": "西苑小区", "north": "北苑小区"}[key]
}

// buttonWith is the data of m's button labelled exactly label.
func buttonWith(w *flowstest.World, m flows.Message, label string) string {
	w.TB.Helper()
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.Text == label {
				return b.Data
			}
		}
	}
	w.TB.Fatalf("no button %q in %q", label, m.Text)
	return ""
}

// staffIn joins p in a role and an area by the admin's invite.
func staffIn(w *flowstest.World, p flowstest.Person, role, area string) {
	w.TB.Helper()
	w.Cmd(admin, "invite", role+" "+area)
	m := w.Last(w.Drain(), admin.Chat())
	i := strings.Index(m.Text, "start=")
	if i < 0 {
		w.TB.Fatalf("no invite link in %q", m.Text)
	}
	w.Cmd(p, "start", strings.Fields(m.Text[i+len("start="):])[0])
	w.Drain()
}

func person(t *testing.T, w *flowstest.World, p flowstest.Person) *flows.Person {
	t.Helper()
	var got *flows.Person
	if err := w.Store.View(t.Context(), func(tx flows.Tx) error {
		var err error
		got, err = tx.Person(p.PID())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestAreasModel: registration, invites and reports store the area from
// the start: a resident's home's area, a staff member's the invite's, a
// ticket its resident's.
func TestAreasModel(t *testing.T) {
	w := areaWorld(t)
	for _, c := range []struct {
		p     flowstest.Person
		areas []string
	}{{eastRes, []string{"east"}}, {westRes, []string{"west"}}, {eastTech, []string{"east"}}, {westLead, []string{"west"}}} {
		if got := person(t, w, c.p).Areas; !slices.Equal(got, c.areas) {
			t.Errorf("%s areas %v, want %v", c.p.Name, got, c.areas)
		}
	}
	if got := person(t, w, eastRes).Building; got != "3栋" {
		t.Errorf("east resident's building %q, want the button's 3栋", got)
	}
	if got := person(t, w, westRes).Building; got != "8号楼" {
		t.Errorf("west resident's building %q, want the typed 8号楼", got)
	}
	for res, want := range map[flowstest.Person]string{eastRes: "east", westRes: "west"} {
		if got := w.Ticket(w.Report(res, "水管漏水")).Area; got != want {
			t.Errorf("%s's ticket in area %q, want %q", res.Name, got, want)
		}
	}
}

// TestAreasRegistrationRefusals: a typed answer where a button is asked,
// a building the area does not list, a forged area button.
func TestAreasRegistrationRefusals(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(twoAreas))
	p := flowstest.Person{ID: 130, Name: "新住户"}
	w.Cmd(p, "start", "")
	w.Text(p, p.Name)
	w.Contact(p, "13800138130", true)
	ask := w.Last(w.Drain(), p.Chat())
	if len(ask.Buttons) != 2 {
		t.Fatalf("the area question has %d buttons, want one per area: %q", len(ask.Buttons), ask.Text)
	}
	w.Text(p, "东苑")
	if m := w.Last(w.Drain(), p.Chat()); !strings.Contains(m.Text, "请点击上面的按钮选择您所在的小区") {
		t.Errorf("typed area answered %q", m.Text)
	}
	data := buttonWith(w, ask, "东苑小区")
	forged := strings.Replace(data, "area:east", "area:north", 1)
	if res := w.Tap(p, forged, false); !res.Alert {
		t.Errorf("a forged area button was taken: %+v", res)
	}
	w.Drain()
	w.Tap(p, data, false)
	w.Drain()
	w.Text(p, "9栋")
	if m := w.Last(w.Drain(), p.Chat()); !strings.Contains(m.Text, "东苑小区没有这个楼栋") {
		t.Errorf("an unlisted building answered %q", m.Text)
	}
	w.Text(p, "2栋") // typed exactly as listed: taken
	w.Text(p, "1单元")
	w.Text(p, "101")
	w.Drain()
	if got := person(t, w, p); !got.Registered || got.Building != "2栋" || !slices.Equal(got.Areas, []string{"east"}) {
		t.Errorf("registered as %+v", got)
	}
}

// TestAreasLegacyStore: records written before areas (no area on the
// ticket, none on the profiles) belong to the default area and keep
// working: the default area's technician accepts the old ticket, another
// area's cannot, and the card is the default area's group's.
func TestAreasLegacyStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  func(*flows.Options)
		group flows.Address
	}{
		{"one area", func(*flows.Options) {}, flowstest.Group},
		{"two areas", twoAreas, eastGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := flowstest.New(t, flowstest.WithOptions(tc.opts))
			if tc.name == "two areas" {
				registerIn(w, resident, "west", "8号楼") // stripped below: a profile from before areas
				staffIn(w, westTech, "technician", "west")
			} else {
				w.Register(resident, "13800138000")
			}
			w.Staff(tech, "technician")
			// Strip the areas, as a store from before areas has them.
			id := "BX-20261127-0901"
			err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
				for _, pid := range []string{resident.PID(), tech.PID()} {
					p, err := tx.Person(pid)
					if err != nil {
						return err
					}
					p.Areas = nil
					if err := tx.PutPerson(p); err != nil {
						return err
					}
				}
				return tx.PutTicket(&flows.Ticket{ID: id, State: flows.StateNew, Category: "water", Description: "旧工单",
					Kind: flows.OrderHousehold, ASAP: true, ResidentID: resident.PID(), Building: "3栋", Created: w.Now, Updated: w.Now, Rev: 1})
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "two areas" {
				w.Refused(w.Tap(westTech, flows.EncodePayload("acc", id), true), "不在您负责的区域")
				w.Drain()
			}
			w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
			msgs := w.Drain()
			if len(To(msgs, tc.group)) == 0 {
				t.Errorf("the accepted card went to %v, want the default area's group %v", msgs, tc.group)
			}
			if got := w.Ticket(id); got.State != flows.StateAccepted || got.Area == "" {
				t.Errorf("old ticket after accept: state %s area %q; want accepted, written back with its area", got.State, got.Area)
			}
			// A new report of the old resident is filed in the default area.
			if got := w.Ticket(w.Report(resident, "又漏了")).Area; got != map[string]string{"one area": flows.DefaultArea, "two areas": "east"}[tc.name] {
				t.Errorf("a new report of the old resident in area %q", got)
			}
		})
	}
}
