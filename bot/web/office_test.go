package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/flows"
)

// fullSnapshot is snapshot and what the management actions change: the
// people's roles and deactivation, the SOP versions, the fee questions,
// the duty overrides and the roster.
func (r *rig) fullSnapshot() string {
	r.t.Helper()
	var lines []string
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		for _, role := range []flows.Role{flows.RoleTechnician, flows.RoleLead, flows.RoleDispatcher, flows.RoleAdmin, flows.RoleResident} {
			ps, _ := tx.PeopleByRole(role)
			for _, p := range ps {
				lines = append(lines, fmt.Sprintf("%s %s %v", p.ID, p.Role, p.Deactivated != nil))
			}
		}
		vs, _ := tx.SOPVersions()
		lines = append(lines, fmt.Sprintf("sop %d", len(vs)))
		qs, _ := tx.OpenFeeQuestions()
		for _, q := range qs {
			lines = append(lines, fmt.Sprintf("fee %s %d", q.TicketID, len(q.Answers)))
		}
		ovs, _ := tx.DutyOverrides()
		lines = append(lines, fmt.Sprintf("overrides %d", len(ovs)))
		if ro, err := tx.Roster(); err == nil {
			lines = append(lines, fmt.Sprintf("roster r%d", ro.Rev))
		}
		return nil
	})
	slices.Sort(lines)
	return r.snapshot() + strings.Join(lines, "\n")
}

// doAction posts a management form with a fresh CSRF token and form key.
func (b *browser) doAction(action string, fields url.Values) response {
	b.r.t.Helper()
	csrf, _ := b.form("/")
	f := url.Values{}
	for k, v := range fields {
		f[k] = v
	}
	f.Set("csrf", csrf)
	if f.Get("k") == "" {
		f.Set("k", newKey())
	}
	return b.post("/do/"+action, f)
}

// TestManagementPages: each page opens for exactly those whose chat
// command shows the same (and the navigation lists exactly those); for
// the others it is refused, also when typed in.
func TestManagementPages(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	design := map[string][]string{
		"/fees": {"lead", "dispatcher", "admin"}, "/daily": {"lead", "dispatcher", "admin"},
		"/staff": {"lead", "admin"}, "/roster": {"lead", "admin"},
		"/training": {"lead", "dispatcher", "admin"}, "/stock": {"lead", "dispatcher", "admin"},
		"/prices": {"lead", "dispatcher", "admin"}, "/reviews": {"lead", "dispatcher", "admin"},
	}
	content := map[string]string{"/staff": tech.Name, "/prices": "W02", "/daily": "核对差异", "/fees": "费用疑问",
		"/roster": "排班", "/training": "培训", "/stock": "备件", "/reviews": "评审"}
	for who, p := range map[string]person{"lead": lead, "dispatcher": dispatcher, "admin": admin} {
		b := r.session(p)
		board := b.get("/").body
		for path, allowed := range design {
			t.Run(who+path, func(t *testing.T) {
				want := in(allowed, who)
				res := b.get(path)
				if want && (res.status != http.StatusOK || !strings.Contains(res.body, content[path])) {
					t.Fatalf("%d, want the page with %q:\n%s", res.status, content[path], res.body)
				}
				if !want && res.status != http.StatusForbidden {
					t.Fatalf("%d, want 403", res.status)
				}
				if got := strings.Contains(board, `href="`+path+`"`); got != want {
					t.Fatalf("navigation lists it: %v, want %v", got, want)
				}
			})
		}
	}
}

// TestOfficeActionsByRole posts every management action as every office
// role: where the engine's row (the chat button's, or the command's)
// refuses it, the answer is an error status and nothing changes; the
// page that carries the form offers it exactly where it is allowed.
func TestOfficeActionsByRole(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	id := r.report(resident, "厨房水管漏水")
	r.drain()
	people := map[string]person{"lead": lead, "dispatcher": dispatcher, "admin": admin}
	sessions := map[string]*browser{}
	for who, p := range people {
		sessions[who] = r.session(p)
	}
	fields := url.Values{"ticket": {id}, "text": {"答复"}, "person": {tech.PID()}, "role": {"dispatcher"}, "skill": {"water"}, "level": {"-"},
		"cert": {"C-404"}, "on": {"maybe"}, "shift": {"99"}, "session": {"TR-9999"}, "request": {"PR-9"}, "part": {"NOPE"},
		"code": {"W02"}, "price": {"x"}, "day": {"mon"}, "hours": {"08:00-12:00"}, "reason": {"原因"}, "mark": {"pass"}, "review": {"RV-2026-001"},
		"n": {"1"}, "evidence": {"证据"}, "qty": {"1"}, "store": {"main"}, "supplier": {"五金城"}, "topic": {"培训"}, "start": {"12-10 14:00"},
		"minutes": {"60"}, "place": {"会议室"}, "trainer": {"me"}, "invite": {tech.PID()}}
	actions := web.OfficeActions()
	slices.Sort(actions)
	for _, a := range flows.ConsoleActions() {
		if !flows.ConsoleTicketAction(a) && a != flows.ConsoleLogin && a != flows.ConsoleLogout && a != flows.ConsolePhoneTicket && !slices.Contains(actions, a) {
			t.Errorf("console action %q has no form on any page", a)
		}
	}
	for _, a := range actions {
		for who, b := range sessions {
			t.Run(a+"/"+who, func(t *testing.T) {
				var p *flows.Person
				_ = r.st.View(context.Background(), func(tx flows.Tx) error { p, _ = tx.Person(people[who].PID()); return nil })
				if flows.ConsoleAllows(a, p, nil) == nil {
					return // the bad fields make it a refusal of another kind: the happy paths are TestOfficeActions
				}
				before := r.manageSnapshot()
				res := b.doAction(a, fields)
				if res.status < 400 {
					t.Fatalf("refused with %d", res.status)
				}
				if after := r.manageSnapshot(); after != before {
					t.Fatalf("a refused action changed something:\n%s\n→\n%s", before, after)
				}
			})
		}
	}
	// Allowed but with a bad argument: refused by the engine, nothing changed.
	for _, tc := range []struct {
		action string
		fields url.Values
		want   string
	}{
		{"price_set", url.Values{"code": {"W02"}, "price": {"abc"}}, "价格"},
		{"price_set", url.Values{"code": {"bad code!"}, "price": {"1"}}, "编码"},
		{"price_set", url.Values{"code": {"NEW1"}, "price": {"1"}}, "名称"},
		{"duty", url.Values{"person": {tech.PID()}, "on": {"maybe"}}, "请求无效"},
		{"staff_role", url.Values{"person": {"tg:x y"}, "role": {"lead"}}, "请求无效"},
		{"fee_answer", url.Values{"ticket": {id}, "text": {"x"}}, id},
	} {
		t.Run("bad "+tc.action+" "+tc.fields.Encode(), func(t *testing.T) {
			before := r.fullSnapshot()
			res := sessions["lead"].doAction(tc.action, tc.fields)
			if res.status < 400 || !strings.Contains(res.body, tc.want) {
				t.Fatalf("%d, want a refusal with %q:\n%s", res.status, tc.want, res.body)
			}
			if r.fullSnapshot() != before {
				t.Fatal("a refused action changed something")
			}
		})
	}
}

// TestOfficeActions walks the management pages' forms as a lead and an
// admin would: each does what chat's button does, the page shows it.
func TestOfficeActions(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	l, a, cs := r.session(lead), r.session(admin), r.session(dispatcher)

	t.Run("price list", func(t *testing.T) {
		before := r.sopVersions()
		if res := l.doAction("price_set", url.Values{"code": {"W02"}, "price": {"30.5"}, "back": {"/prices"}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/prices" {
			t.Fatalf("%d → %q", res.status, res.header.Get("Location"))
		}
		if n := r.sopVersions(); n != before+1 {
			t.Fatalf("SOP versions %d → %d", before, n)
		}
		page := l.get("/prices").body
		contains(t, "price list", page, `value="30.50"`)
		contains(t, "flash", page, "30.50")
		contains(t, "the file lacks it", page, `id="not-in-file"`)
		contains(t, "history", page, "在控制台修改")
		if staff := r.drain(); len(to(staff, tech.Chat())) == 0 {
			t.Fatal("the staff were not asked to acknowledge the new version")
		}
		if res := l.doAction("price_set", url.Values{"code": {"X9"}, "price": {"12"}, "name_zh": {"测试项"}, "name_en": {"Test item"}, "unit_zh": {"次"}, "unit_en": {"job"}}); res.status != http.StatusSeeOther {
			t.Fatalf("add: %d %s", res.status, res.body)
		}
		contains(t, "price list", l.get("/prices").body, "测试项")
		r.drain()
	})
	t.Run("daily check", func(t *testing.T) {
		id := r.report(other, "楼道灯不亮")
		r.drain()
		page := cs.get("/daily").body
		mm := page[strings.Index(page, `id="mismatches"`):]
		mm = mm[:strings.Index(mm, "</ul>")]
		contains(t, "differences", mm, id)
		contains(t, "differences", mm, "无人接单")
		day := r.clk.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02")
		if res := cs.get("/daily?day=" + day); res.status != http.StatusOK || strings.Contains(res.body, id) {
			t.Fatalf("yesterday: %d, shows today's ticket: %v", res.status, strings.Contains(res.body, id))
		}
	})
	t.Run("duty", func(t *testing.T) {
		if res := l.doAction("duty", url.Values{"person": {tech2.PID()}, "on": {"on"}}); res.status != http.StatusSeeOther {
			t.Fatalf("%d %s", res.status, res.body)
		}
		contains(t, "roster", l.get("/roster").body, tech2.Name)
	})
	t.Run("fee question", func(t *testing.T) {
		id := r.report(resident, "水龙头滴水")
		r.update(func(tx flows.Tx) error {
			return tx.PutFeeQuestion(&flows.FeeQuestion{TicketID: id, By: resident.PID(), Asked: r.clk.Now(), Total: 2500})
		})
		r.drain()
		page := cs.get("/fees").body
		contains(t, "queue", page, id)
		contains(t, "queue", page, "¥25.00")
		if res := cs.doAction("fee_answer", url.Values{"ticket": {id}, "text": {"按价目表收费"}, "back": {"/fees"}}); res.status != http.StatusSeeOther {
			t.Fatalf("answer: %d %s", res.status, res.body)
		}
		contains(t, "resident", r.last(r.drain(), resident.Chat()).Text, "按价目表收费")
		contains(t, "queue", cs.get("/fees").body, "按价目表收费")
		if res := cs.doAction("fee_close", url.Values{"ticket": {id}}); res.status != http.StatusSeeOther {
			t.Fatalf("close: %d", res.status)
		}
		if strings.Contains(cs.get("/fees").body, `id="fee-`+id) {
			t.Fatal("a closed question is still in the queue")
		}
		r.drain()
	})
	t.Run("role and leaver", func(t *testing.T) {
		// A lead appoints only technicians: making one customer service is refused.
		before := r.fullSnapshot()
		if res := l.doAction("staff_role", url.Values{"person": {tech2.PID()}, "role": {"dispatcher"}}); res.status != http.StatusForbidden {
			t.Fatalf("a lead appointing customer service: %d", res.status)
		}
		if r.fullSnapshot() != before {
			t.Fatal("refused, but changed")
		}
		if res := a.doAction("staff_role", url.Values{"person": {tech2.PID()}, "role": {"dispatcher"}}); res.status != http.StatusSeeOther {
			t.Fatalf("admin: %d %s", res.status, res.body)
		}
		if p := r.person(tech2); p.Role != flows.RoleDispatcher {
			t.Fatalf("role %s", p.Role)
		}
		contains(t, "staff page", a.get("/staff").body, "客服")
		// The admin deactivates the lead: the lead's session dies with them.
		id := r.report(other, "灯不亮")
		r.drain()
		if res := a.doAction("staff_leave", url.Values{"person": {lead.PID()}}); res.status != http.StatusSeeOther {
			t.Fatalf("deactivate: %d %s", res.status, res.body)
		}
		r.drain()
		if p := r.person(lead); p.Deactivated == nil {
			t.Fatal("not deactivated")
		}
		before = r.fullSnapshot()
		if res := l.get("/"); res.status != http.StatusUnauthorized {
			t.Fatalf("a deactivated lead's session: %d", res.status)
		}
		for _, res := range []response{
			l.post("/t/"+id+"/act/assign", url.Values{"technician": {tech.PID()}, "ticket": {id}, "k": {newKey()}}),
			l.post("/do/duty", url.Values{"person": {tech.PID()}, "on": {"off"}, "k": {newKey()}}),
		} {
			if res.status != http.StatusUnauthorized {
				t.Fatalf("a deactivated lead's post: %d", res.status)
			}
		}
		if r.fullSnapshot() != before {
			t.Fatal("a deactivated lead changed something")
		}
	})
}

func (r *rig) sopVersions() int {
	n := 0
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		vs, err := tx.SOPVersions()
		n = len(vs)
		return err
	})
	return n
}

func (r *rig) person(p person) *flows.Person {
	r.t.Helper()
	var out *flows.Person
	if err := r.st.View(context.Background(), func(tx flows.Tx) error {
		var err error
		out, err = tx.Person(p.PID())
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// jpeg is enough of a JPEG for the media store to keep it.
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{0x42}, 2048)...)

// upload posts the paper sign-off form with a file.
func (b *browser) upload(id string, fields url.Values, name string, file []byte) response {
	b.r.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("photo", name)
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, err := http.NewRequest("POST", b.r.srv.URL+"/t/"+id+"/paper", &body)
	if err != nil {
		b.r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var photoLinkRE = regexp.MustCompile(`/t/BX-[0-9-]+/photo/([0-9a-f]{64})`)

// TestPaperUpload: a lead records a paper sign-off with the photo of the
// signed work order: kept by the media store, in the trail, shown on the
// page; the ticket is confirmed and the technician asked for the goodbye.
// A missing photo, a file that is no image, one too large, a missing CSRF
// token, another ticket in the form: refused, nothing changed.
func TestPaperUpload(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	id := "BX-20261127-0801"
	r.seed(id, flows.StateDone)
	b := r.session(lead)
	csrf, _ := b.form("/t/" + id)
	base := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "k": {newKey()}, "ticket": {id}, "note": {"住户年纪大，纸质签字"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	contains(t, "ticket page", b.get("/t/"+id).body, `/t/`+id+`/paper"`)
	for _, tc := range []struct {
		name   string
		fields url.Values
		file   []byte
		status int
		want   string
	}{
		{"no photo", base(), nil, http.StatusUnprocessableEntity, "照片"},
		{"not an image", base(), []byte("%PDF-1.4 not a photo"), http.StatusUnprocessableEntity, "不是图片"},
		{"too large", base(), bytes.Repeat([]byte{0xFF}, 11<<20), http.StatusRequestEntityTooLarge, "太大"},
		{"missing CSRF token", base("csrf", ""), jpeg, http.StatusForbidden, "表单已过期"},
		{"another ticket in the form", base("ticket", "BX-20261127-0001"), jpeg, http.StatusBadRequest, "不符"},
		{"no form key", base("k", ""), jpeg, http.StatusBadRequest, "请求无效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.snapshot()
			res := b.upload(id, tc.fields, "paper.jpg", tc.file)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) {
				t.Fatalf("got %d, want %d with %q:\n%s", res.status, tc.status, tc.want, res.body)
			}
			if r.snapshot() != before {
				t.Fatal("a refused upload changed something")
			}
		})
	}
	res := b.upload(id, base(), "paper.jpg", jpeg)
	if res.status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	if tk := r.ticket(id); tk.State != flows.StateConfirmed || tk.Signoff != "paper" {
		t.Fatalf("after the upload: %s %q", tk.State, tk.Signoff)
	}
	msgs := r.drain()
	contains(t, "technician", r.last(msgs, tech.Chat()).Text, id)
	page := b.get("/t/" + id).body
	contains(t, "trail", page, "纸质维修工作单")
	m := photoLinkRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no photo on the page:\n%s", page)
	}
	if ph := b.get("/t/" + id + "/photo/" + m[1]); ph.status != http.StatusOK || ph.header.Get("Content-Type") != "image/jpeg" || ph.body != string(jpeg) {
		t.Fatalf("the kept photo: %d %s", ph.status, ph.header.Get("Content-Type"))
	}
}

// TestOfficeFormsAreSafe: a management form without its CSRF token, with
// another session's, from another site, or with a way back to another
// site: refused or sent home, nothing changed.
func TestOfficeFormsAreSafe(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	l := r.session(lead)
	other := r.session(admin)
	csrf, _ := l.form("/")
	foreign, _ := other.form("/")
	form := func(kv ...string) url.Values {
		v := url.Values{"person": {tech.PID()}, "on": {"off"}, "k": {newKey()}, "csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name string
		b    *browser
		f    url.Values
	}{
		{"missing CSRF token", l, form("csrf", "")},
		{"another session's CSRF token", l, form("csrf", foreign)},
		{"cross-site post", &browser{r: r, cookie: l.cookie, origin: "https://evil.example"}, form()},
		{"no session", &browser{r: r}, form()},
		{"an unknown action", l, form()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/do/duty"
			if tc.name == "an unknown action" {
				path = "/do/delete_everything"
			}
			before := r.fullSnapshot()
			if res := tc.b.post(path, tc.f); res.status < 400 {
				t.Fatalf("%d", res.status)
			}
			if r.fullSnapshot() != before {
				t.Fatal("changed")
			}
		})
	}
	for _, back := range []string{"https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"} {
		res := l.post("/do/duty", form("back", back, "k", newKey()))
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
			t.Fatalf("back %q: %d → %q", back, res.status, res.header.Get("Location"))
		}
	}
}
