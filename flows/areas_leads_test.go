package flows_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestAreasInviteNamesTheArea: with several areas /help shows /invite's
// area argument and a wrong /invite answers with the areas to pick from;
// with one area neither mentions areas.
func TestAreasInviteNamesTheArea(t *testing.T) {
	for _, multi := range []bool{true, false} {
		t.Run(map[bool]string{true: "two areas", false: "one area"}[multi], func(t *testing.T) {
			opts := func(o *flows.Options) {}
			if multi {
				opts = twoAreas
			}
			w := flowstest.New(t, flowstest.WithOptions(opts))
			w.Cmd(admin, "help", "")
			help := w.LastText(w.Drain(), admin.Chat()).Text
			line := ""
			for _, l := range strings.Split(help, "\n") {
				if strings.HasPrefix(l, "/invite") {
					line = l
				}
			}
			if got := strings.Contains(line, "[小区]"); line == "" || got != multi {
				t.Errorf("/help's /invite line %q names the area: %v, want %v", line, got, multi)
			}
			res := w.Cmd(admin, "invite", "plumber")
			usage := w.LastText(w.Drain(), admin.Chat()).Text
			if res.Refused == "" || strings.Contains(usage, "east (东苑小区)") != multi || strings.Contains(usage, "[区域]") != multi {
				t.Errorf("/invite plumber: refused %q, answer %q (areas named: want %v)", res.Refused, usage, multi)
			}
		})
	}
}

// TestAreasConfiguredLeadsAtStartup: a lead the configuration names for
// an area has it in their profile from the next start-up on, before they
// say anything; their other areas stay.
func TestAreasConfiguredLeadsAtStartup(t *testing.T) {
	var westLeads []string
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) {
		twoAreas(o)
		o.Areas[1].Leads = westLeads
	}))
	staffIn(w, eastLead, "lead", "east")
	if got := person(t, w, eastLead).Areas; !slices.Equal(got, []string{"east"}) {
		t.Fatalf("the east lead's areas %v", got)
	}
	westLeads = []string{eastLead.PID()}
	w.Reopen()
	if got := person(t, w, eastLead).Areas; !slices.Equal(got, []string{"east", "west"}) {
		t.Errorf("after a start-up naming them west's lead, the east lead's areas are %v", got)
	}
}
