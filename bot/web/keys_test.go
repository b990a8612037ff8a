package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

// TestEveryKeyExists: every catalog key the console names — in its Go
// code and its templates, and the ones it completes at run time (a state,
// an SLA state, a role, a quote's status, a timing, the trail's line of
// every ticket action) — is in both
// catalogs, so nobody sees ⟦key⟧.
func TestEveryKeyExists(t *testing.T) {
	c := i18n.MustLoad(flows.LangZH)
	files, _ := filepath.Glob("*.go")
	tmpls, _ := filepath.Glob("templates/*.tmpl")
	re := regexp.MustCompile(`"((?:web|console|err|state|age|kind|sla)\.[a-z_.]*[a-z])"`)
	keys := map[string]bool{}
	for _, f := range append(files, tmpls...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 60 {
		t.Fatalf("found only %d keys: the scan is broken", len(keys))
	}
	for _, s := range flows.AllStates {
		keys["web.state."+string(s)] = true
	}
	for _, s := range []flows.SLAState{flows.SLAOnTime, flows.SLAAtRisk, flows.SLABreached, flows.SLAEmergency} {
		keys["web.sla."+string(s)] = true
	}
	for _, r := range []flows.Role{flows.RoleLead, flows.RoleDispatcher, flows.RoleAdmin} {
		keys["web.role."+string(r)] = true
	}
	for _, k := range []string{"draft", "sent", "agreed", "refused"} {
		keys["web.quote."+k] = true
	}
	for _, k := range []string{"asap", "tam", "tpm", "other"} {
		keys["web.when."+k] = true
	}
	for _, k := range []flows.OrderKind{flows.OrderHousehold, flows.OrderPublic} {
		keys["kind."+string(k)] = true
	}
	for a := range flows.Transitions {
		keys["web.audit."+string(a)] = true // every state change has its words in the trail
	}
	for _, a := range flows.ConsoleActions() {
		keys["web.audit."+a] = true // every console action has its name
	}
	for k := range keys {
		for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
			if !c.Has(l, k) {
				t.Errorf("key %q missing in %s", k, l)
			}
		}
	}
}
