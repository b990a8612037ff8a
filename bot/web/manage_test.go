package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/flows"
)

// seedStock gives the rig two stores, two parts and their opening count.
func (r *rig) seedStock() {
	r.t.Helper()
	lp := r.person(lead)
	at := flows.Posting{By: lp, At: r.clk.Now()}
	r.update(func(tx flows.Tx) error {
		for _, l := range []flows.StockLocation{{ID: "main", Name: "总仓"}, {ID: "east", Name: "东区仓"}} {
			if _, err := flows.SaveStockLocation(tx, at, l); err != nil {
				return err
			}
		}
		probs, _, err := flows.ImportParts(tx, at, []flows.Part{
			{Code: "P-VALVE", Name: "角阀", Unit: "个", UnitCost: 1200, Stores: []string{"main"}},
			{Code: "P-TAPE", Name: "生料带", Unit: "卷", UnitCost: 100, Stores: []string{"main", "east"}},
		})
		if err != nil || len(probs) > 0 {
			return fmt.Errorf("catalog: %v %v", probs, err)
		}
		_, _, err = flows.PostStocktake(tx, at, "main", []flows.CountInput{{Part: "P-VALVE", Qty: 5}, {Part: "P-TAPE", Qty: 20}}, "opening count")
		return err
	})
}

// stockOf is a part's quantity in a store.
func (r *rig) stockOf(part, store string) int64 {
	r.t.Helper()
	var l flows.StockLevel
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		var err error
		l, err = tx.StockLevel(part, store)
		return err
	})
	return l.Qty
}

// manageSnapshot is fullSnapshot and what the management forms change:
// the stock ledger, the certificates, the training sessions, the review
// actions done and the people's records.
func (r *rig) manageSnapshot() string {
	r.t.Helper()
	var lines []string
	_ = r.st.View(context.Background(), func(tx flows.Tx) error {
		n := 0
		_ = tx.EachStockMove(0, func(*flows.StockMove) error { n++; return nil })
		lines = append(lines, fmt.Sprintf("moves %d", n))
		for _, p := range []person{tech, tech2, lead} {
			cs, _ := tx.CertsByPerson(p.PID())
			for _, c := range cs {
				lines = append(lines, fmt.Sprintf("cert %s %v", c.ID, c.Revoked != nil))
			}
			evs, _ := tx.PersonEvents(p.PID())
			lines = append(lines, fmt.Sprintf("record %s %d", p.PID(), len(evs)))
		}
		ss, _ := tx.SessionsBetween(r.clk.Now().AddDate(-1, 0, 0), r.clk.Now().AddDate(1, 0, 0))
		for _, s := range ss {
			lines = append(lines, fmt.Sprintf("session %s %s %d", s.ID, s.Status, len(s.Attendance)))
		}
		rs, _ := tx.Reviews()
		for _, rv := range rs {
			if rv.Report != nil {
				for _, a := range rv.Report.Actions {
					lines = append(lines, fmt.Sprintf("action %s %d %v", rv.ID, a.N, a.Done != nil))
				}
			}
		}
		return nil
	})
	return r.fullSnapshot() + "\n" + strings.Join(lines, "\n")
}

// doUpload posts a management form as multipart, with a file.
func (b *browser) doUpload(action string, fields url.Values, file []byte) response {
	b.r.t.Helper()
	csrf, _ := b.form("/")
	return b.uploadWith(action, csrf, fields, file)
}

// uploadWith posts a multipart management form with the given CSRF token.
func (b *browser) uploadWith(action, csrf string, fields url.Values, file []byte) response {
	b.r.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		_ = mw.WriteField("csrf", csrf)
	}
	_ = mw.WriteField("k", newKey())
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("photo", "note.jpg")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, err := http.NewRequest("POST", b.r.srv.URL+"/do/"+action, &body)
	if err != nil {
		b.r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// TestManagementForms walks the management pages' new forms as a lead
// would: a shift added and its hours changed, a certificate revoked with a
// reason, a training session scheduled and its attendance recorded, a
// delivery received with its note's photo, a job's unused parts returned,
// a store adjusted to a count, a review action marked done. Each does
// what chat's dialogue does and the page shows it; every bad field is
// refused with the catalog's words and changes nothing.
func TestManagementForms(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	r.seedStock()
	l, cs := r.session(lead), r.session(dispatcher)
	refused := func(t *testing.T, b *browser, action string, fields url.Values, want string) {
		t.Helper()
		before := r.manageSnapshot()
		res := b.doAction(action, fields)
		if res.status < 400 || !strings.Contains(res.body, want) {
			t.Fatalf("%d, want a refusal with %q:\n%s", res.status, want, res.body)
		}
		if after := r.manageSnapshot(); after != before {
			t.Fatalf("a refused form changed something:\n%s\n→\n%s", before, after)
		}
	}
	done := func(t *testing.T, res response) {
		t.Helper()
		if res.status != http.StatusSeeOther {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}

	t.Run("roster", func(t *testing.T) {
		contains(t, "roster form", l.get("/roster").body, `id="shift-add"`)
		refused(t, l, "roster_add", url.Values{"day": {"mon"}, "hours": {"早八点"}}, "早八点")
		refused(t, l, "roster_add", url.Values{"day": {"mon"}, "hours": {""}}, "班次时间")
		refused(t, l, "roster_hours", url.Values{"shift": {"99"}, "hours": {"08:00-12:00"}}, "99")
		done(t, l.doAction("roster_add", url.Values{"day": {"tue"}, "hours": {"07:00-15:00"}, "back": {"/roster"}}))
		page := l.get("/roster").body
		contains(t, "new shift", page, "07:00–15:00")
		var id int
		r.update(func(tx flows.Tx) error {
			ro, err := tx.Roster()
			id = ro.Shifts[len(ro.Shifts)-1].ID
			return err
		})
		done(t, l.doAction("roster_person", url.Values{"shift": {strconv.Itoa(id)}, "person": {tech.PID()}, "on": {"on"}}))
		done(t, l.doAction("roster_hours", url.Values{"shift": {strconv.Itoa(id)}, "hours": {"08:30-16:30"}}))
		contains(t, "changed hours", l.get("/roster").body, "08:30–16:30")
	})

	t.Run("certificate", func(t *testing.T) {
		v := r.clk.Now()
		r.update(func(tx flows.Tx) error {
			return tx.PutCert(&flows.Certificate{ID: "CERT-00007", PersonID: tech.PID(), Type: "elec_low_voltage", Number: "T3101",
				Issued: flows.Date{Y: 2024, M: 3, D: 1}, ValidUntil: flows.Date{Y: 2030, M: 3, D: 1}, NextReview: flows.Date{Y: 2027, M: 3, D: 1}, VerifiedBy: lead.PID(), Verified: &v})
		})
		contains(t, "revoke form", l.get("/staff").body, `action="/do/cert_revoke"`)
		refused(t, l, "cert_revoke", url.Values{"cert": {"CERT-00007"}, "reason": {" "}}, "原因")
		refused(t, cs, "cert_revoke", url.Values{"cert": {"CERT-00007"}, "reason": {"x"}}, "主管")
		done(t, l.doAction("cert_revoke", url.Values{"cert": {"CERT-00007"}, "reason": {"证书已被发证机关注销"}, "back": {"/staff"}}))
		contains(t, "staff page", l.get("/staff").body, "已吊销")
		contains(t, "holder", r.last(r.drain(), tech.Chat()).Text, "证书已被发证机关注销")
	})

	t.Run("certificate recorded", func(t *testing.T) {
		contains(t, "form", l.get("/staff").body, `id="cert-new"`)
		form := url.Values{"person": {tech2.PID()}, "type": {"elec_low_voltage"}, "number": {"T3102"}, "authority": {"上海市应急管理局"}, "issued": {"2024-03-01"}, "back": {"/staff"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("issued", "去年")
		before := r.manageSnapshot()
		if res := l.doUpload("cert_new", bad, nil); res.status < 400 || !strings.Contains(res.body, "去年") {
			t.Fatalf("a bad date: %d %s", res.status, res.body)
		}
		if r.manageSnapshot() != before {
			t.Fatal("a refused certificate was stored")
		}
		if res := l.doUpload("cert_new", form, jpeg); res.status != http.StatusSeeOther {
			t.Fatalf("record: %d %s", res.status, res.body)
		}
		page := l.get("/staff").body
		row := page[strings.Index(page, `id="p-`+tech2.PID()+`"`):]
		row = row[:strings.Index(row, "</tr>")]
		contains(t, "the holder's row", row, "T3102")
		contains(t, "the holder's row", row, "已核验")
		contains(t, "holder", r.last(r.drain(), tech2.Chat()).Text, "为你登记了证书")
	})

	t.Run("stock", func(t *testing.T) {
		id := r.report(resident, "厨房水管漏水")
		r.drain()
		r.tap(tech, flows.EncodePayload("acc", id), true)
		tp := r.person(tech)
		var pr string
		r.update(func(tx flows.Tx) error {
			if _, err := flows.Issue(tx, flows.Posting{By: tp, At: r.clk.Now(), Key: "seed-issue"}, flows.PartsPolicy{}, flows.IssueInput{Part: "P-VALVE", Store: "main", Ticket: id, Qty: 2}); err != nil {
				return err
			}
			req, err := flows.RequestPurchase(tx, flows.Posting{By: tp, At: r.clk.Now()}, flows.PurchaseInput{Part: "P-TAPE", Store: "main", Qty: 10, Why: "补货"})
			if err != nil {
				return err
			}
			pr = req.ID
			_, err = flows.DecidePurchase(tx, flows.Posting{By: r.person(lead), At: r.clk.Now()}, pr, true, "")
			return err
		})
		r.drain()
		page := l.get("/stock").body
		for _, f := range []string{`id="stock-receive"`, `enctype="multipart/form-data"`, `id="stock-return"`, `id="stock-count"`} {
			contains(t, "forms", page, f)
		}
		// A purchase request: refused with chat's words, filed for the leads.
		contains(t, "forms", page, `id="stock-buy"`)
		refused(t, l, "stock_buy", url.Values{"part": {"P-VALVE"}, "store": {"east"}, "qty": {"3"}, "reason": {"补货"}}, "east")
		refused(t, l, "stock_buy", url.Values{"part": {"P-VALVE"}, "store": {"main"}, "qty": {"3"}}, "原因")
		done(t, l.doAction("stock_buy", url.Values{"part": {"P-VALVE"}, "store": {"main"}, "qty": {"3"}, "reason": {"维修备用"}, "back": {"/stock"}}))
		contains(t, "open requests", l.get("/stock").body, "维修备用")
		r.drain()
		// A delivery: without its note's photo refused, with it received.
		before := r.manageSnapshot()
		if res := l.doUpload("stock_receive", url.Values{"request": {pr}, "qty": {"4"}, "supplier": {"五金城"}}, nil); res.status < 400 || !strings.Contains(res.body, "照片") {
			t.Fatalf("no photo: %d %s", res.status, res.body)
		}
		if res := l.doUpload("stock_receive", url.Values{"request": {pr}, "qty": {"40"}, "supplier": {"五金城"}}, jpeg); res.status < 400 {
			t.Fatalf("over the order: %d", res.status)
		}
		if res := l.uploadWith("stock_receive", "", url.Values{"request": {pr}, "qty": {"4"}, "supplier": {"五金城"}}, jpeg); res.status != http.StatusForbidden {
			t.Fatalf("without its CSRF token: %d", res.status)
		}
		if res := cs.doUpload("stock_receive", url.Values{"request": {pr}, "qty": {"4"}, "supplier": {"五金城"}}, jpeg); res.status != http.StatusForbidden {
			t.Fatalf("customer service receiving: %d", res.status)
		}
		if r.manageSnapshot() != before {
			t.Fatal("a refused delivery moved stock")
		}
		if res := l.doUpload("stock_receive", url.Values{"request": {pr}, "qty": {"4"}, "supplier": {"五金城"}, "back": {"/stock"}}, jpeg); res.status != http.StatusSeeOther {
			t.Fatalf("receive: %d %s", res.status, res.body)
		}
		if n := r.stockOf("P-TAPE", "main"); n != 24 {
			t.Fatalf("after the delivery %d", n)
		}
		// A return from the job, then a count with its reason.
		refused(t, l, "stock_return", url.Values{"ticket": {id}, "part": {"P-VALVE"}, "qty": {"3"}}, "2")
		done(t, l.doAction("stock_return", url.Values{"ticket": {id}, "part": {"P-VALVE"}, "qty": {"1"}}))
		if n := r.stockOf("P-VALVE", "main"); n != 4 {
			t.Fatalf("after the return %d", n)
		}
		refused(t, l, "stock_count", url.Values{"store": {"main"}, "part": {"P-TAPE"}, "qty": {"很多"}}, "P-TAPE")
		refused(t, l, "stock_count", url.Values{"store": {"west"}, "part": {"P-TAPE"}, "qty": {"3"}}, "west")
		refused(t, cs, "stock_count", url.Values{"store": {"main"}, "part": {"P-TAPE"}, "qty": {"3"}}, "")
		done(t, l.doAction("stock_count", url.Values{"store": {"main"}, "part": {"P-TAPE"}, "qty": {"21"}, "reason": {"受潮报损"}, "back": {"/stock"}}))
		if n := r.stockOf("P-TAPE", "main"); n != 21 {
			t.Fatalf("after the count %d", n)
		}
		contains(t, "ledger", l.get("/stock").body, "受潮报损")
		r.drain()
	})

	t.Run("review action", func(t *testing.T) {
		now := r.clk.Now()
		r.update(func(tx flows.Tx) error {
			return tx.PutReview(&flows.Review{ID: "RV-2026-001", Trigger: "yearly", Opened: now, Deadline: now.AddDate(0, 0, 14), Owner: lead.PID(), Status: "closed",
				Report: &flows.ReviewReport{Reasons: "r", Measures: "m", Actions: []flows.Improvement{
					{N: 1, Text: "更新报价单模板", Owner: lead.PID(), Due: now.AddDate(0, 0, 7)},
					{N: 2, Text: "培训鞋套规范", Owner: tech.PID(), Due: now.AddDate(0, 0, 7)}}}})
		})
		page := l.get("/reviews").body
		row1 := page[strings.Index(page, `id="action-RV-2026-001-1"`):]
		row1 = row1[:strings.Index(row1, "</tr>")]
		contains(t, "own action's form", row1, `action="/do/action_done"`)
		row2 := page[strings.Index(page, `id="action-RV-2026-001-2"`):]
		if row2 = row2[:strings.Index(row2, "</tr>")]; strings.Contains(row2, "action_done") {
			t.Fatal("a form on someone else's action")
		}
		refused(t, l, "action_done", url.Values{"review": {"RV-2026-001"}, "n": {"2"}, "evidence": {"x"}}, "负责人")
		refused(t, l, "action_done", url.Values{"review": {"RV-2026-001"}, "n": {"1"}, "evidence": {""}}, "完成证据")
		done(t, l.doAction("action_done", url.Values{"review": {"RV-2026-001"}, "n": {"1"}, "evidence": {"新模板已启用"}, "back": {"/reviews"}}))
		contains(t, "done", l.get("/reviews").body, "已完成")
	})

	t.Run("training", func(t *testing.T) {
		page := l.get("/training").body
		contains(t, "form", page, `id="training-new"`)
		contains(t, "covers", page, `value="cert:elec_low_voltage"`)
		form := url.Values{"topic": {"登高作业安全"}, "start": {"12-03 14:00"}, "minutes": {"90"}, "place": {"物业办公室"}, "trainer": {"me"},
			"invite": {tech.PID(), tech2.PID()}, "covers": {"cert:elec_low_voltage"}, "back": {"/training"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("start", "昨天")
		refused(t, l, "training_new", bad, "昨天")
		bad.Set("start", "12-03 14:00")
		bad.Del("invite")
		refused(t, l, "training_new", bad, "邀请")
		done(t, l.doAction("training_new", form))
		contains(t, "session", l.get("/training").body, "登高作业安全")
		contains(t, "invitee", r.last(r.drain(), tech.Chat()).Text, "登高作业安全")
		var id string
		_ = r.st.View(context.Background(), func(tx flows.Tx) error {
			ss, err := tx.SessionsBetween(r.clk.Now(), r.clk.Now().AddDate(0, 1, 0))
			id = ss[0].ID
			return err
		})
		refused(t, l, "training_attend", url.Values{"session": {id}, "person": {tech.PID()}, "mark": {"pass"}}, "")
		r.clk.Set(time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)) // 15:00 local: it has started
		l := r.session(lead)                                    // the morning's session has expired
		contains(t, "attendance form", l.get("/training").body, `action="/do/training_attend"`)
		done(t, l.doAction("training_attend", url.Values{"session": {id}, "person": {tech.PID()}, "mark": {"pass"}, "back": {"/training"}}))
		contains(t, "attendance", l.get("/training").body, tech.Name+" 出席")
	})

}

var doFormRE = regexp.MustCompile(`action="/do/([a-z_]+)"`)

// TestManagementFormsOffered: with something for every form to act on,
// each office role's pages offer a management form only where the
// console's row allows that person the action (flows.ConsoleAllows, the
// engine's own check), and a lead is offered every one of them.
func TestManagementFormsOffered(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.world()
	r.seedStock()
	now := r.clk.Now()
	lp, tp := r.person(lead), r.person(tech)
	r.update(func(tx flows.Tx) error {
		for _, c := range []*flows.Certificate{
			{ID: "CERT-00001", PersonID: tech.PID(), Type: "elec_low_voltage", Number: "A1", Issued: flows.Date{Y: 2024, M: 3, D: 1}, ValidUntil: flows.Date{Y: 2030, M: 3, D: 1}, NextReview: flows.Date{Y: 2027, M: 3, D: 1}, VerifiedBy: lead.PID(), Verified: &now},
			{ID: "CERT-00002", PersonID: tech2.PID(), Type: "elec_low_voltage", Number: "A2", Issued: flows.Date{Y: 2024, M: 3, D: 1}, ValidUntil: flows.Date{Y: 2030, M: 3, D: 1}, NextReview: flows.Date{Y: 2027, M: 3, D: 1}},
		} {
			if err := tx.PutCert(c); err != nil {
				return err
			}
		}
		req, err := flows.RequestPurchase(tx, flows.Posting{By: tp, At: now}, flows.PurchaseInput{Part: "P-TAPE", Store: "main", Qty: 10, Why: "补货"})
		if err != nil {
			return err
		}
		if _, err := flows.DecidePurchase(tx, flows.Posting{By: lp, At: now}, req.ID, true, ""); err != nil {
			return err
		}
		if _, err := flows.RequestPurchase(tx, flows.Posting{By: tp, At: now}, flows.PurchaseInput{Part: "P-VALVE", Store: "main", Qty: 3, Why: "补货"}); err != nil {
			return err
		}
		if err := tx.PutRoster(&flows.Roster{NextID: 1, Shifts: []flows.RosterShift{{ID: 1, Day: time.Monday, From: 8 * 60, To: 20 * 60, People: []string{tech.PID()}}}}); err != nil {
			return err
		}
		if err := tx.PutSession(&flows.Session{ID: "TR-0001", Topic: "安全", Start: now.Add(-time.Hour), Minutes: 60, Place: "会议室", TrainerID: lead.PID(), TrainerName: lead.Name,
			Status: flows.SessionScheduled, Invitees: []flows.Invitee{{PersonID: tech.PID()}}}); err != nil {
			return err
		}
		if err := tx.PutSession(&flows.Session{ID: "TR-0002", Topic: "规程", Start: now.Add(48 * time.Hour), Minutes: 60, Place: "会议室", TrainerID: lead.PID(), TrainerName: lead.Name,
			Status: flows.SessionScheduled, Invitees: []flows.Invitee{{PersonID: tech.PID()}}}); err != nil {
			return err
		}
		return tx.PutReview(&flows.Review{ID: "RV-2026-001", Trigger: "yearly", Opened: now, Deadline: now.AddDate(0, 0, 14), Owner: lead.PID(), Status: "closed",
			Report: &flows.ReviewReport{Actions: []flows.Improvement{
				{N: 1, Text: "a", Owner: lead.PID(), Due: now.AddDate(0, 0, 7)}, {N: 2, Text: "b", Owner: dispatcher.PID(), Due: now.AddDate(0, 0, 7)},
				{N: 3, Text: "c", Owner: admin.PID(), Due: now.AddDate(0, 0, 7)}}}})
	})
	r.drain()
	pages := []string{"/staff", "/roster", "/training", "/stock", "/prices", "/reviews", "/fees", "/daily", "/callbacks", "/qc", "/areas"}
	for who, p := range map[string]person{"lead": lead, "dispatcher": dispatcher, "admin": admin} {
		b := r.session(p)
		pp := r.person(p)
		offered := map[string]bool{}
		for _, path := range pages {
			res := b.get(path)
			if res.status == http.StatusForbidden {
				continue
			}
			for _, m := range doFormRE.FindAllStringSubmatch(res.body, -1) {
				offered[m[1]] = true
				if err := flows.ConsoleAllows(m[1], pp, nil); err != nil {
					t.Errorf("%s is offered %s on %s, which the engine refuses: %v", who, m[1], path, err)
				}
			}
		}
		if who == "admin" && !offered[flows.ConsoleAreaSet] {
			t.Errorf("the admin is offered no form for %s", flows.ConsoleAreaSet)
		}
		if who != "lead" {
			continue
		}
		for _, a := range web.OfficeActions() {
			if a == flows.ConsoleAreaSet {
				continue // the admins' alone (above)
			}
			if a == flows.ConsoleFeeAnswer || a == flows.ConsoleFeeClose || a == flows.ConsoleQCReview {
				continue // their queues are empty here (TestOfficeActions, TestQCQueue)
			}
			if !offered[a] {
				t.Errorf("the lead is offered no form for %s", a)
			}
		}
	}
}
