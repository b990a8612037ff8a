package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
)

// TestAreasPage: the admin edits an area in the console as /area does in
// chat — the value in force at once, marked as edited, a bad value
// refused with the engine's answer and nothing changed, "reset" back to
// the configuration; the page and its action are the admins' only.
func TestAreasPage(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	a, l := r.session(admin), r.session(lead)
	page := a.get("/areas")
	if page.status != http.StatusOK {
		t.Fatalf("/areas: %d", page.status)
	}
	contains(t, "areas page", page.body, `id="area-main-phone"`)
	contains(t, "navigation", a.get("/").body, `href="/areas"`)
	if res := l.get("/areas"); res.status != http.StatusForbidden {
		t.Errorf("a lead opens /areas: %d", res.status)
	}
	if strings.Contains(l.get("/").body, `href="/areas"`) {
		t.Error("a lead's navigation lists /areas")
	}

	before := r.fullSnapshot()
	for who, b := range map[string]*browser{"lead": l, "admin": a} {
		value := map[string]string{"lead": "0571-7777", "admin": "call me"}[who]
		res := b.doAction(flows.ConsoleAreaSet, url.Values{"area": {"main"}, "field": {"phone"}, "value": {value}, "back": {"/areas"}})
		if res.status < 400 {
			t.Errorf("%s's area_set %q: %d, want a refusal", who, value, res.status)
		}
	}
	if r.fullSnapshot() != before {
		t.Error("a refused area_set changed something")
	}

	if res := a.doAction(flows.ConsoleAreaSet, url.Values{"area": {"main"}, "field": {"phone"}, "value": {"0571-7777"}, "back": {"/areas"}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/areas" {
		t.Fatalf("area_set: %d → %q", res.status, res.header.Get("Location"))
	}
	row := func() string {
		body := a.get("/areas").body
		i := strings.Index(body, `id="area-main-phone"`)
		if i < 0 {
			t.Fatalf("no phone row:\n%s", body)
		}
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	got := row()
	contains(t, "phone row", got, "0571-7777")
	contains(t, "phone row", got, "已在线修改")
	if area, _ := r.eng.Area("main"); area.ServicePhone != "0571-7777" {
		t.Errorf("the engine's phone %q after the edit", area.ServicePhone)
	}
	if res := a.doAction(flows.ConsoleAreaSet, url.Values{"area": {"main"}, "field": {"phone"}, "value": {"reset"}, "back": {"/areas"}}); res.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.status)
	}
	if got := row(); strings.Contains(got, "0571-7777") || strings.Contains(got, "已在线修改") {
		t.Errorf("after the reset the row is %s", got)
	}
}
