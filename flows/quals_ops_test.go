package flows_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

var (
	qlead  = &flows.Person{ID: "tg:1", Role: flows.RoleLead, Name: "李班长"}
	qlead2 = &flows.Person{ID: "tg:2", Role: flows.RoleLead, Name: "王主管"}
	qres   = &flows.Person{ID: "tg:100", Role: flows.RoleResident, Name: "王芳"}
)

// qualWorld is a store with a technician, two leads and a resident.
func qualWorld(t *testing.T) (*flows.QualRules, func(fn func(flows.Tx) error) error) {
	t.Helper()
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	update := func(fn func(flows.Tx) error) error { return st.Update(context.Background(), fn) }
	if err := update(func(tx flows.Tx) error {
		for _, p := range []*flows.Person{qtech, qlead, qlead2, qres} {
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return qualRules(), update
}

// mistake asserts err is a user-safe error with that catalog key.
func mistake(t *testing.T, err error, key string) {
	t.Helper()
	var fe *flows.Error
	if !errors.As(err, &fe) || fe.Key != key {
		t.Fatalf("got %v, want the user mistake %s", err, key)
	}
}

func personTrail(t *testing.T, update func(fn func(flows.Tx) error) error, id string) []string {
	t.Helper()
	var out []string
	if err := update(func(tx flows.Tx) error {
		evs, err := tx.PersonEvents(id)
		for _, ev := range evs {
			out = append(out, ev.Action+" "+ev.Actor+" "+ev.Ref+" "+ev.From+">"+ev.To)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQualCheckCert(t *testing.T) {
	r := qualRules()
	today := day(2026, 9, 1)
	base := flows.Certificate{PersonID: qtech.ID, Type: "elec_low_voltage", Number: " T3101 ", Authority: "上海市应急管理局", Issued: day(2025, 1, 10)}
	for _, c := range []struct {
		name        string
		edit        func(*flows.Certificate)
		key         string
		until, next flows.Date
	}{
		{"defaults from the type", func(*flows.Certificate) {}, "", day(2031, 1, 10), day(2028, 1, 10)},
		{"old card: next 复审 is the first one ahead, capped at the expiry", func(c *flows.Certificate) { c.Issued = day(2021, 3, 1) }, "", day(2027, 3, 1), day(2027, 3, 1)},
		{"dates typed from the card are kept", func(c *flows.Certificate) { c.ValidUntil, c.NextReview = day(2030, 1, 1), day(2027, 6, 1) }, "", day(2030, 1, 1), day(2027, 6, 1)},
		{"lift card has no fixed expiry", func(c *flows.Certificate) { c.Type, c.Issued = "lift", day(2024, 5, 1) }, "", flows.Date{}, day(2028, 5, 1)},
		{"unknown type", func(c *flows.Certificate) { c.Type = "gas" }, "quals.err_unknown_type", flows.Date{}, flows.Date{}},
		{"no number", func(c *flows.Certificate) { c.Number = "  " }, "quals.err_number", flows.Date{}, flows.Date{}},
		{"no authority", func(c *flows.Certificate) { c.Authority = "" }, "quals.err_authority", flows.Date{}, flows.Date{}},
		{"no issue date", func(c *flows.Certificate) { c.Issued = flows.Date{} }, "quals.err_issued", flows.Date{}, flows.Date{}},
		{"issued in the future", func(c *flows.Certificate) { c.Issued = day(2026, 9, 2) }, "quals.err_issued_future", flows.Date{}, flows.Date{}},
		{"valid until before issued", func(c *flows.Certificate) { c.ValidUntil = day(2025, 1, 10) }, "quals.err_until_before_issued", flows.Date{}, flows.Date{}},
		{"already expired (a date in the past)", func(c *flows.Certificate) { c.Issued = day(2020, 8, 1) }, "quals.err_until_past", flows.Date{}, flows.Date{}},
		{"复审 date in the past", func(c *flows.Certificate) { c.NextReview = day(2026, 8, 31) }, "quals.err_review_past", flows.Date{}, flows.Date{}},
		{"复审 after the expiry", func(c *flows.Certificate) { c.NextReview = day(2031, 2, 1) }, "quals.err_review_after_until", flows.Date{}, flows.Date{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert := base
			c.edit(&cert)
			err := r.CheckCert(&cert, today)
			if c.key != "" {
				mistake(t, err, c.key)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cert.ValidUntil != c.until || cert.NextReview != c.next || cert.Number != "T3101" {
				t.Errorf("until %s next %s number %q; want %s %s", cert.ValidUntil, cert.NextReview, cert.Number, c.until, c.next)
			}
		})
	}
}

// A technician submits a card with a photo; it does not qualify until a
// lead (not the holder) verifies it; a lead's later card replaces it.
func TestQualCertLifecycle(t *testing.T) {
	r, update := qualWorld(t)
	now := sh(2026, 9, 1, 10, 0, 0)
	need := flows.Requirement{Cert: "elec_low_voltage"}
	card := flows.Certificate{PersonID: qtech.ID, Type: "elec_low_voltage", Number: "T3101", Authority: "上海市应急管理局", Issued: day(2025, 1, 10)}
	qualifies := func(at time.Time) (bool, string) {
		var ok bool
		var why flows.Reason
		if err := update(func(tx flows.Tx) error {
			var err error
			ok, why, err = r.QualifyTx(tx, qtech, need, at, shanghai)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok, why.Key
	}

	mistake(t, update(func(tx flows.Tx) error {
		_, err := r.SubmitCert(tx, qtech.ID, card, false, now, shanghai)
		return err
	}), "quals.err_photo_required")
	mistake(t, update(func(tx flows.Tx) error {
		c := card
		c.PersonID = qres.ID
		_, err := r.SubmitCert(tx, qlead.ID, c, true, now, shanghai)
		return err
	}), "quals.err_no_person")

	var first *flows.Certificate
	card.Photo = &flows.Photo{FileID: "AgAD-card"}
	if err := update(func(tx flows.Tx) (err error) {
		first, err = r.SubmitCert(tx, qtech.ID, card, false, now, shanghai)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if first.ID != "CERT-00001" || first.IsVerified() || first.SubmittedBy != qtech.ID {
		t.Fatalf("submitted %+v", first)
	}
	if ok, key := qualifies(now); ok || key != "quals.cert_pending" {
		t.Fatalf("an unverified card qualifies: %v %s", ok, key)
	}
	mistake(t, update(func(tx flows.Tx) error { _, err := r.VerifyCert(tx, qtech.ID, first.ID, now, shanghai); return err }), "quals.err_verify_own")
	mistake(t, update(func(tx flows.Tx) error { _, err := r.VerifyCert(tx, qlead.ID, "CERT-09999", now, shanghai); return err }), "quals.err_no_cert")
	if err := update(func(tx flows.Tx) error { _, err := r.VerifyCert(tx, qlead.ID, first.ID, now, shanghai); return err }); err != nil {
		t.Fatal(err)
	}
	mistake(t, update(func(tx flows.Tx) error { _, err := r.VerifyCert(tx, qlead2.ID, first.ID, now, shanghai); return err }), "quals.err_already_verified")
	if ok, key := qualifies(now); !ok {
		t.Fatalf("a verified card does not qualify: %s", key)
	}

	// A passed 复审 moves the next one by the interval.
	var reviewed *flows.Certificate
	if err := update(func(tx flows.Tx) (err error) {
		reviewed, err = r.ReviewCert(tx, qlead.ID, first.ID, flows.Date{}, flows.Date{}, sh(2027, 12, 1, 9, 0, 0), shanghai)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if reviewed.NextReview != day(2031, 1, 10) || reviewed.ValidUntil != day(2031, 1, 10) {
		t.Errorf("after 复审: next %s until %s", reviewed.NextReview, reviewed.ValidUntil)
	}

	// A lead records a renewed card: verified at once, the old one is replaced.
	renewed := card
	renewed.Number, renewed.Issued, renewed.Photo = "T3102", day(2026, 8, 1), nil
	var second *flows.Certificate
	if err := update(func(tx flows.Tx) (err error) {
		second, err = r.SubmitCert(tx, qlead.ID, renewed, true, now, shanghai)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mistake(t, update(func(tx flows.Tx) error { _, err := r.RevokeCert(tx, qlead.ID, first.ID, "mistake", now); return err }), "quals.err_cert_gone")
	mistake(t, update(func(tx flows.Tx) error { _, err := r.RevokeCert(tx, qlead.ID, second.ID, " ", now); return err }), "quals.err_reason_required")
	if err := update(func(tx flows.Tx) error {
		_, err := r.RevokeCert(tx, qlead.ID, second.ID, "注销 by the authority", now.Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if ok, key := qualifies(now.Add(2 * time.Hour)); ok || key != "quals.cert_revoked" {
		t.Errorf("after revoking every card: %v %s", ok, key)
	}

	want := []string{
		"cert_submitted tg:200 CERT-00001 >elec_low_voltage",
		"cert_verified tg:1 CERT-00001 >elec_low_voltage",
		"cert_reviewed tg:1 CERT-00001 2028-01-10>2031-01-10",
		"cert_recorded tg:1 CERT-00002 >elec_low_voltage",
		"cert_superseded tg:1 CERT-00001 >CERT-00002",
		"cert_revoked tg:1 CERT-00002 >",
	}
	if got := personTrail(t, update, qtech.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("trail\n%v\nwant\n%v", got, want)
	}
}

func TestQualSkills(t *testing.T) {
	r, update := qualWorld(t)
	now := sh(2026, 9, 1, 10, 0, 0)
	set := func(actor, level string) error {
		return update(func(tx flows.Tx) error {
			return r.SetSkill(tx, actor, flows.Skill{PersonID: qtech.ID, Skill: "electricity", Level: level}, now)
		})
	}
	if err := set(qlead.ID, "junior"); err != nil {
		t.Fatal(err)
	}
	if err := set(qlead.ID, "junior"); err != nil { // unchanged: no event
		t.Fatal(err)
	}
	if err := set(qlead2.ID, "senior"); err != nil {
		t.Fatal(err)
	}
	mistake(t, set(qlead.ID, "master"), "quals.err_unknown_level")
	mistake(t, update(func(tx flows.Tx) error {
		return r.SetSkill(tx, qlead.ID, flows.Skill{PersonID: qtech.ID, Skill: "gas", Level: "junior"}, now)
	}), "quals.err_unknown_skill")
	need := r.Need("electricity", "")
	need.Cert = ""
	err := update(func(tx flows.Tx) error {
		ok, why, err := r.QualifyTx(tx, qtech, need, now, shanghai)
		if err == nil && !ok {
			t.Errorf("senior does not qualify for intermediate: %s", why.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx flows.Tx) error {
		return r.RemoveSkill(tx, qlead.ID, qtech.ID, "electricity", "left the team", now)
	}); err != nil {
		t.Fatal(err)
	}
	mistake(t, update(func(tx flows.Tx) error { return r.RemoveSkill(tx, qlead.ID, qtech.ID, "electricity", "", now) }), "quals.err_no_skill")
	want := []string{"skill_set tg:1 electricity >junior", "skill_set tg:2 electricity junior>senior", "skill_removed tg:1 electricity senior>"}
	if got := personTrail(t, update, qtech.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("trail %v\nwant %v", got, want)
	}
}

func TestQualTraining(t *testing.T) {
	r, update := qualWorld(t)
	r.SOPSessionRequired = true
	now := sh(2026, 9, 1, 10, 0, 0)
	s := flows.Session{Topic: "SOP v2 与低压电工复训", Start: sh(2026, 9, 10, 14, 0, 0), Minutes: 240, Place: "三楼会议室", TrainerName: "李班长", TrainerID: qlead.ID,
		Covers:   []flows.Cover{{Kind: flows.CoverSOP, Key: "2"}, {Kind: flows.CoverCert, Key: "elec_low_voltage"}},
		Invitees: []flows.Invitee{{PersonID: qtech.ID}, {PersonID: qtech.ID}, {PersonID: qlead2.ID}}}
	for _, c := range []struct {
		name string
		edit func(*flows.Session)
		key  string
	}{
		{"in the past", func(s *flows.Session) { s.Start = now.Add(-time.Minute) }, "quals.err_session_past"},
		{"no topic", func(s *flows.Session) { s.Topic = " " }, "quals.err_topic"},
		{"too short", func(s *flows.Session) { s.Minutes = 5 }, "quals.err_session_length"},
		{"unknown cover", func(s *flows.Session) { s.Covers = []flows.Cover{{Kind: flows.CoverCert, Key: "gas"}} }, "quals.err_cover"},
		{"resident invited", func(s *flows.Session) { s.Invitees = []flows.Invitee{{PersonID: qres.ID}} }, "quals.err_no_person"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := s
			c.edit(&bad)
			mistake(t, update(func(tx flows.Tx) error { _, err := r.ScheduleSession(tx, qlead.ID, bad, now); return err }), c.key)
		})
	}
	var got *flows.Session
	if err := update(func(tx flows.Tx) (err error) { got, err = r.ScheduleSession(tx, qlead.ID, s, now); return err }); err != nil {
		t.Fatal(err)
	}
	if got.ID != "TR-0001" || len(got.Invitees) != 2 || got.Status != flows.SessionScheduled {
		t.Fatalf("scheduled %+v", got)
	}
	mistake(t, update(func(tx flows.Tx) error { _, err := r.AnswerSession(tx, qres.ID, got.ID, true, now); return err }), "quals.err_not_invited")
	if err := update(func(tx flows.Tx) error { _, err := r.AnswerSession(tx, qtech.ID, got.ID, true, now); return err }); err != nil {
		t.Fatal(err)
	}
	start := got.Start
	mistake(t, update(func(tx flows.Tx) error { _, err := r.AnswerSession(tx, qtech.ID, got.ID, false, start); return err }), "quals.err_session_started")
	mistake(t, update(func(tx flows.Tx) error {
		_, err := r.RecordAttendance(tx, qlead.ID, got.ID, flows.Attendance{PersonID: qtech.ID, Present: true}, start.Add(-time.Minute))
		return err
	}), "quals.err_session_not_started")
	after := start.Add(4 * time.Hour)
	if err := update(func(tx flows.Tx) error {
		if _, err := r.RecordAttendance(tx, qlead.ID, got.ID, flows.Attendance{PersonID: qtech.ID, Present: true, Result: flows.ResultPass}, after); err != nil {
			return err
		}
		_, err := r.RecordAttendance(tx, qlead.ID, got.ID, flows.Attendance{PersonID: qlead2.ID, Present: false}, after)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mistake(t, update(func(tx flows.Tx) error {
		_, err := r.RecordAttendance(tx, qlead.ID, got.ID, flows.Attendance{PersonID: qtech.ID, Present: true, Result: "A+"}, after)
		return err
	}), "quals.err_result")

	var sessions []*flows.Session
	if err := update(func(tx flows.Tx) (err error) { sessions, err = tx.SessionsByPerson(qtech.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if n := flows.TrainingMinutes(sessions, qtech.ID, time.Time{}, time.Time{}); n != 240 {
		t.Errorf("technician trained %d minutes, want 240", n)
	}
	if n := flows.TrainingMinutes(sessions, qlead2.ID, time.Time{}, time.Time{}); n != 0 {
		t.Errorf("an absent invitee trained %d minutes", n)
	}

	// Needs: SOP v2 (ack + session) and the refresher before the 复审.
	v2 := &flows.SOPVersion{Number: 2, Label: "2026.2"}
	cert := elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1))
	in := flows.TrainingInput{SOP: v2, Certs: []*flows.Certificate{cert}}
	needs := r.TrainingNeeds(qtech, in, sh(2026, 9, 1, 9, 0, 0), shanghai)
	if len(needs) != 2 || needs[0].Kind != flows.NeedSOP || needs[0].Met || needs[1].Kind != flows.NeedRefresher || needs[1].Met || needs[1].MinutesNeeded != 480 {
		t.Fatalf("before training: %+v", needs)
	}
	if !flows.Behind(needs) {
		t.Error("not behind before training")
	}
	in.Sessions = sessions
	in.Ack = &flows.Ack{Version: 2, PersonID: qtech.ID}
	needs = r.TrainingNeeds(qtech, in, after, shanghai)
	if !needs[0].Met || !needs[0].SelfStudyDone || !needs[0].SessionDone {
		t.Errorf("SOP need after ack and session: %+v", needs[0])
	}
	if needs[1].Met || needs[1].MinutesDone != 240 {
		t.Errorf("refresher after 4 of 8 hours: %+v", needs[1])
	}
	if !flows.Behind(needs) {
		t.Error("not behind with 4 of 8 refresher hours")
	}
	r.SOPSessionRequired = false
	if needs = r.TrainingNeeds(qtech, flows.TrainingInput{SOP: v2, Ack: in.Ack}, after, shanghai); len(needs) != 1 || !needs[0].Met || needs[0].Session {
		t.Errorf("self-study only: %+v", needs)
	}
	if needs = r.TrainingNeeds(qtech, flows.TrainingInput{SOP: &flows.SOPVersion{Number: 1}}, after, shanghai); len(needs) != 0 {
		t.Errorf("the first version without a required session: %+v", needs)
	}

	want := []string{"training_invited tg:1 TR-0001 >", "training_answered tg:200 TR-0001 >going", "training_attended tg:1 TR-0001 >present"}
	if got := personTrail(t, update, qtech.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("trail %v\nwant %v", got, want)
	}
}
