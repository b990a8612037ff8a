package flows_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// refusedWith asserts a console answer is a refusal whose text contains want.
func refusedWith(t *testing.T, res flows.Result, want string) {
	t.Helper()
	if !res.Alert || !strings.Contains(res.Toast, want) {
		t.Fatalf("want a refusal with %q, got %+v", want, res)
	}
}

func okResult(t *testing.T, res flows.Result) {
	t.Helper()
	if res.Alert {
		t.Fatalf("refused: %s", res.Toast)
	}
}

// TestConsoleRosterForms: a lead adds a shift with its hours and changes
// them from the console, as chat's typed answer does; bad hours are
// refused with chat's words and change nothing; the people on a changed
// shift have it in their record.
func TestConsoleRosterForms(t *testing.T) {
	w, _ := consoleWorld(t)
	roster := func() *flows.Roster {
		r := &flows.Roster{} // none stored yet: the seed, empty here
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
			if got, err := tx.Roster(); err == nil {
				r = got
			}
			return nil
		})
		return r
	}
	before := len(roster().Shifts)
	for _, tc := range []struct{ name, day, hours, want string }{
		{"unreadable hours", "mon", "8点到12点", "8点到12点"},
		{"no hours", "mon", " ", "班次时间"},
		{"a forged day", "someday", "08:00-12:00", "请求无效"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refusedWith(t, w.Console(lead, flows.ConsoleRosterAdd, "", map[string]string{"day": tc.day, "hours": tc.hours}), tc.want)
			if n := len(roster().Shifts); n != before {
				t.Fatalf("shifts %d → %d", before, n)
			}
		})
	}
	okResult(t, w.Console(lead, flows.ConsoleRosterAdd, "", map[string]string{"day": "mon", "hours": "07:30-11:00"}))
	r := roster()
	s := r.Shifts[len(r.Shifts)-1]
	if len(r.Shifts) != before+1 || s.Day != time.Monday || s.From != 7*60+30 || s.To != 11*60 || r.By != lead.PID() {
		t.Fatalf("new shift %+v in %+v", s, r)
	}
	id := s.ID
	okResult(t, w.Console(lead, flows.ConsoleRosterPerson, "", map[string]string{"shift": strconv.Itoa(id), "person": tech.PID(), "on": "on"}))
	okResult(t, w.Console(lead, flows.ConsoleRosterHours, "", map[string]string{"shift": strconv.Itoa(id), "hours": "08:00—12:30"}))
	if s := roster().Shift(id); s.From != 8*60 || s.To != 12*60+30 {
		t.Fatalf("hours not changed: %+v", s)
	}
	var evs []flows.PersonEvent
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error { evs, _ = tx.PersonEvents(tech.PID()); return nil })
	last := evs[len(evs)-1]
	if last.Action != flows.PevDutyHours || last.Actor != lead.PID() || last.From != "07:30-11:00" || last.To != "08:00-12:30" {
		t.Fatalf("record %+v", last)
	}
	refusedWith(t, w.Console(lead, flows.ConsoleRosterHours, "", map[string]string{"shift": "999", "hours": "08:00-12:00"}), "999")
	w.Drain()
}

// TestConsoleCertReason: a lead revokes a card with a reason from the
// console; without one it is refused and nothing changes; the holder is
// told why.
func TestConsoleCertReason(t *testing.T) {
	w, _ := consoleWorld(t)
	ct := elecCert("CERT-00009", flows.Date{Y: 2030, M: 1, D: 1}, flows.Date{Y: 2027, M: 1, D: 1})
	ct.PersonID = tech.PID()
	update(t, w, func(tx flows.Tx) error { return tx.PutCert(ct) })
	cert := func() *flows.Certificate {
		var c *flows.Certificate
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { c, _ = tx.Cert(ct.ID); return nil })
		return c
	}
	refusedWith(t, w.Console(lead, flows.ConsoleCertRevoke, "", map[string]string{"cert": ct.ID, "reason": "  "}), "原因")
	refusedWith(t, w.Console(lead, flows.ConsoleCertRevoke, "", map[string]string{"cert": "CERT-404", "reason": "注销"}), "CERT-404")
	if cert().Revoked != nil {
		t.Fatal("revoked without a reason")
	}
	okResult(t, w.Console(lead, flows.ConsoleCertRevoke, "", map[string]string{"cert": ct.ID, "reason": "发证机关已注销"}))
	if c := cert(); c.Revoked == nil || c.RevokedBy != lead.PID() || c.RevokeNote != "发证机关已注销" {
		t.Fatalf("cert %+v", c)
	}
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "发证机关已注销")
	refusedWith(t, w.Console(lead, flows.ConsoleCertRefuse, "", map[string]string{"cert": ct.ID, "reason": "again"}), ct.ID)
}

// TestConsoleTraining: a lead schedules a session in one form (each field
// checked as chat's step checks it), the invitees are invited; the
// trainer records attendance and a result after it starts.
func TestConsoleTraining(t *testing.T) {
	w, _ := consoleWorld(t)
	form := func(kv ...string) map[string]string {
		m := map[string]string{"topic": "电梯困人救援", "start": "12-10 14:00", "minutes": "90", "place": "三楼会议室", "trainer": "me", "invite": tech.PID() + "," + tech2.PID()}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	sessions := func() []*flows.Session {
		var out []*flows.Session
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
			out, _ = tx.SessionsBetween(w.Now.AddDate(0, 0, -1), w.Now.AddDate(0, 2, 0))
			return nil
		})
		return out
	}
	for _, tc := range []struct {
		name string
		form map[string]string
		want string
	}{
		{"no topic", form("topic", ""), "培训主题"},
		{"a time in the past", form("start", "2026-11-01 09:00"), "已经过去"},
		{"an unreadable time", form("start", "下周"), "下周"},
		{"too short", form("minutes", "5"), "时长"},
		{"nobody invited", form("invite", ""), "邀请"},
		{"an unknown person", form("invite", "tg:424242"), "tg:424242"},
		{"an unknown cover", form("covers", "cert:nuclear"), "nuclear"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refusedWith(t, w.Console(lead, flows.ConsoleTrainingNew, "", tc.form), tc.want)
			if n := len(sessions()); n != 0 {
				t.Fatalf("%d sessions stored", n)
			}
		})
	}
	okResult(t, w.Console(lead, flows.ConsoleTrainingNew, "", form("covers", "cert:elec_low_voltage")))
	ss := sessions()
	if len(ss) != 1 || ss[0].Topic != "电梯困人救援" || ss[0].Minutes != 90 || ss[0].TrainerID != lead.PID() || len(ss[0].Invitees) != 2 || len(ss[0].Covers) != 1 {
		t.Fatalf("sessions %+v", ss)
	}
	msgs := w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "电梯困人救援")
	contains(t, w.Last(msgs, tech2.Chat()).Text, "电梯困人救援")
	id := ss[0].ID
	w.Now = ss[0].Start.Add(30 * time.Minute)
	refusedWith(t, w.Console(dispatcher, flows.ConsoleTrainingAttend, "", map[string]string{"session": id, "person": tech.PID(), "mark": "pass"}), "")
	okResult(t, w.Console(lead, flows.ConsoleTrainingAttend, "", map[string]string{"session": id, "person": tech.PID(), "mark": "pass"}))
	okResult(t, w.Console(lead, flows.ConsoleTrainingAttend, "", map[string]string{"session": id, "person": tech2.PID(), "mark": "a"}))
	s := sessions()[0]
	if a := s.Attended(tech.PID()); a == nil || !a.Present || a.Result != flows.ResultPass {
		t.Fatalf("attendance %+v", s.Attendance)
	}
	if a := s.Attended(tech2.PID()); a == nil || a.Present {
		t.Fatalf("attendance %+v", s.Attendance)
	}
	w.Drain()
}

// TestConsoleActionDone: an improvement action's owner marks it done with
// the evidence; anyone else is refused as chat refuses them; the review
// with all its actions done is effective.
func TestConsoleActionDone(t *testing.T) {
	w, _ := consoleWorld(t)
	rv := &flows.Review{ID: "RV-2026-001", Trigger: "yearly", Opened: w.Now, Deadline: w.Now.AddDate(0, 0, 14), Owner: lead.PID(), Status: "closed",
		Report: &flows.ReviewReport{Reasons: "r", Measures: "m", Actions: []flows.Improvement{{N: 1, Text: "更新报价单模板", Owner: lead.PID(), Due: w.Now.AddDate(0, 0, 7)}}}}
	update(t, w, func(tx flows.Tx) error { return tx.PutReview(rv) })
	review := func() *flows.Review {
		var r *flows.Review
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { r, _ = tx.Review(rv.ID); return nil })
		return r
	}
	args := map[string]string{"review": rv.ID, "n": "1", "evidence": "新模板已启用"}
	chat := w.Tap(dispatcher, flows.EncodePayload("acd", rv.ID, "1"), false)
	refusedWith(t, w.Console(dispatcher, flows.ConsoleActionDone, "", args), chat.Toast)
	refusedWith(t, w.Console(lead, flows.ConsoleActionDone, "", map[string]string{"review": rv.ID, "n": "1"}), "完成证据")
	refusedWith(t, w.Console(lead, flows.ConsoleActionDone, "", map[string]string{"review": rv.ID, "n": "7", "evidence": "x"}), "请求无效")
	if review().Report.Actions[0].Done != nil {
		t.Fatal("done by a refusal")
	}
	okResult(t, w.Console(lead, flows.ConsoleActionDone, "", args))
	r := review()
	if a := r.Report.Actions[0]; a.Done == nil || a.Evidence != "新模板已启用" || r.Status != "effective" {
		t.Fatalf("review %+v action %+v", r, a)
	}
	refusedWith(t, w.Console(lead, flows.ConsoleActionDone, "", args), "")
	w.Drain()
}

// TestConsoleStock: a delivery received against an approved purchase
// (with the delivery note's photo), unused parts returned from a job, and
// a store adjusted to a count with its reason, each through the chat
// dialogue's own steps; every bad field is refused with chat's words and
// moves nothing.
func TestConsoleStock(t *testing.T) {
	w, _ := consoleWorld(t)
	seedParts(t, w)
	id := w.Report(resident, "厨房水管漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	techP := personOf(t, w, tech)
	var prID string
	update(t, w, func(tx flows.Tx) error {
		if _, err := flows.Issue(tx, flows.Posting{By: techP, At: w.Now, Key: "t1"}, flows.PartsPolicy{}, flows.IssueInput{Part: "P-VALVE", Store: "main", Ticket: id, Qty: 2}); err != nil {
			return err
		}
		pr, err := flows.RequestPurchase(tx, flows.Posting{By: techP, At: w.Now}, flows.PurchaseInput{Part: "P-TAP", Store: "main", Qty: 10, Why: "补货"})
		if err != nil {
			return err
		}
		prID = pr.ID
		_, err = flows.DecidePurchase(tx, flows.Posting{By: partsLead, At: w.Now}, pr.ID, true, "")
		return err
	})
	w.Drain()
	photo := &flows.Photo{FileID: "note-1", Size: 1000}

	t.Run("purchase request", func(t *testing.T) {
		open := func() int {
			var n int
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error { prs, _ := tx.OpenPurchaseRequests(); n = len(prs); return nil })
			return n
		}
		before := open()
		for _, tc := range []struct {
			name string
			form map[string]string
			want string
		}{
			{"an unknown part", map[string]string{"part": "NOPE", "store": "main", "qty": "3", "reason": "补货"}, "NOPE"},
			{"a store it is not kept in", map[string]string{"part": "P-VALVE", "store": "east", "qty": "3", "reason": "补货"}, "east"},
			{"a bad quantity", map[string]string{"part": "P-TAP", "store": "main", "qty": "0", "reason": "补货"}, "数量"},
			{"no reason", map[string]string{"part": "P-TAP", "store": "main", "qty": "3"}, "原因"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				refusedWith(t, w.Console(tech, flows.ConsoleStockBuy, "", tc.form), tc.want)
				if open() != before {
					t.Fatal("a request was filed")
				}
			})
		}
		refusedWith(t, w.Console(dispatcher, flows.ConsoleStockBuy, "", map[string]string{"part": "P-TAP", "store": "main", "qty": "3", "reason": "补货"}), "")
		okResult(t, w.Console(tech, flows.ConsoleStockBuy, "", map[string]string{"part": "P-TAP", "store": "east", "qty": "6", "reason": "东区仓缺货"}))
		if open() != before+1 {
			t.Fatal("no request filed")
		}
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "东区仓缺货")
	})
	t.Run("receive", func(t *testing.T) {
		form := map[string]string{"request": prID, "qty": "4", "supplier": "五金城"}
		for _, tc := range []struct {
			name  string
			form  map[string]string
			photo *flows.Photo
			want  string
		}{
			{"no photo", form, nil, "照片"},
			{"too many", map[string]string{"request": prID, "qty": "40", "supplier": "五金城"}, photo, "10"},
			{"a bad quantity", map[string]string{"request": prID, "qty": "-1", "supplier": "五金城"}, photo, "数量"},
			{"no supplier", map[string]string{"request": prID, "qty": "4"}, photo, "供应商"},
			{"an unknown purchase", map[string]string{"request": "PR-99", "qty": "4", "supplier": "五金城"}, photo, "PR-99"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				refusedWith(t, w.ConsolePhoto(lead, flows.ConsoleStockReceive, "", tc.form, tc.photo), tc.want)
				if l := level(t, w, "P-TAP", "main"); l.Qty != 3 {
					t.Fatalf("stock moved: %+v", l)
				}
			})
		}
		okResult(t, w.ConsolePhoto(lead, flows.ConsoleStockReceive, "", form, photo))
		if l := level(t, w, "P-TAP", "main"); l.Qty != 7 || l.Value != 7*3500 {
			t.Fatalf("after the delivery (at the catalog's cost): %+v", l)
		}
	})
	t.Run("return", func(t *testing.T) {
		refusedWith(t, w.Console(lead, flows.ConsoleStockReturn, "", map[string]string{"ticket": id, "part": "P-VALVE", "qty": "3"}), "2")
		refusedWith(t, w.Console(lead, flows.ConsoleStockReturn, "", map[string]string{"ticket": id, "part": "P-PUMP", "qty": "1"}), "P-PUMP")
		refusedWith(t, w.Console(tech2, flows.ConsoleStockReturn, "", map[string]string{"ticket": id, "part": "P-VALVE", "qty": "1"}), id)
		okResult(t, w.Console(lead, flows.ConsoleStockReturn, "", map[string]string{"ticket": id, "part": "P-VALVE", "qty": "1"}))
		if l := level(t, w, "P-VALVE", "main"); l.Qty != 4 {
			t.Fatalf("after the return: %+v", l)
		}
	})
	t.Run("count", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			form map[string]string
			want string
		}{
			{"an unknown part", map[string]string{"store": "main", "part": "NOPE", "qty": "3"}, "NOPE"},
			{"a part not kept there", map[string]string{"store": "east", "part": "P-TAPE", "qty": "3"}, "P-TAPE"},
			{"a bad count", map[string]string{"store": "main", "part": "P-TAPE", "qty": "many"}, "P-TAPE"},
			{"no count", map[string]string{"store": "main", "part": "P-TAPE"}, "盘点"},
			{"an unknown store", map[string]string{"store": "west", "part": "P-TAPE", "qty": "3"}, "west"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				refusedWith(t, w.Console(lead, flows.ConsoleStockCount, "", tc.form), tc.want)
				if l := level(t, w, "P-TAPE", "main"); l.Qty != 20 {
					t.Fatalf("stock moved: %+v", l)
				}
			})
		}
		okResult(t, w.Console(lead, flows.ConsoleStockCount, "", map[string]string{"store": "main", "part": "P-TAPE", "qty": "18", "reason": "受潮报损前清点"}))
		if l := level(t, w, "P-TAPE", "main"); l.Qty != 18 {
			t.Fatalf("after the count: %+v", l)
		}
		var moves []flows.StockMove
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
			return tx.EachStockMove(0, func(m *flows.StockMove) error { moves = append(moves, *m); return nil })
		})
		m := moves[len(moves)-1]
		if m.Kind != flows.MoveAdjust || m.Qty != 2 || m.Reason != "受潮报损前清点" || m.Actor != lead.PID() {
			t.Fatalf("adjustment %+v", m)
		}
		// No reason typed: chat's button, a routine count.
		okResult(t, w.Console(lead, flows.ConsoleStockCount, "", map[string]string{"store": "main", "part": "P-TAPE", "qty": "17"}))
		verifyLevels(t, w)
	})
	w.Drain()
}

// update changes the world's store directly (a setup step).
func update(t *testing.T, w *flowstest.World, f func(tx flows.Tx) error) {
	t.Helper()
	if err := w.Store.Update(t.Context(), f); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleCertNew: a lead records a team member's certificate in one
// form, each field checked as chat's step checks it, the dates left to the
// type's rules; it is verified at once and its holder told. A technician's
// own needs its photo and waits for a lead.
func TestConsoleCertNew(t *testing.T) {
	w := gateWorld(t)
	certs := func(p flowstest.Person) []*flows.Certificate {
		var out []*flows.Certificate
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { out, _ = tx.CertsByPerson(p.PID()); return nil })
		return out
	}
	form := func(kv ...string) map[string]string {
		m := map[string]string{"person": tech.PID(), "type": "elec_low_voltage", "number": "T310110198001011234", "authority": "上海市应急管理局", "issued": "2024-03-01"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		who  flowstest.Person
		form map[string]string
		want string
	}{
		{"an unknown type", lead, form("type", "电焊工证"), "电焊工证"},
		{"no number", lead, form("number", " "), "证书编号"},
		{"an unreadable date", lead, form("issued", "去年"), "去年"},
		{"issued in the future", lead, form("issued", "2027-01-01"), "2027-01-01"},
		{"an expiry before it was issued", lead, form("until", "2023-01-01"), "2023-01-01"},
		{"a stranger as holder", lead, form("person", "tg:424242"), "tg:424242"},
		{"a technician for someone else", tech2, form(), "只有主管"},
		{"one's own without a photo", tech, form(), "照片"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refusedWith(t, w.Console(tc.who, flows.ConsoleCertNew, "", tc.form), tc.want)
			if n := len(certs(tech)); n != 0 {
				t.Fatalf("%d certificates stored", n)
			}
		})
	}
	okResult(t, w.Console(lead, flows.ConsoleCertNew, "", form()))
	cs := certs(tech)
	if len(cs) != 1 || cs[0].Verified == nil || cs[0].Number != "T310110198001011234" || cs[0].ValidUntil.String() != "2030-03-01" || cs[0].NextReview.String() != "2027-03-01" {
		t.Fatalf("certificates %+v", cs)
	}
	contains(t, w.Last(w.Drain(), tech.Chat()).Text, "陈主管 为你登记了证书")
	okResult(t, w.ConsolePhoto(tech2, flows.ConsoleCertNew, "", form("person", tech2.PID(), "number", "T2"), &flows.Photo{FileID: "card-1", Size: 1000}))
	if cs := certs(tech2); len(cs) != 1 || cs[0].Verified != nil || cs[0].Photo == nil {
		t.Fatalf("own submission %+v", cs)
	}
	w.Drain()
}
