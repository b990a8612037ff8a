package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The qualifications area (flows.QualsTx) and the weekly duty pattern
// (flows.RosterTx). The rules, each checked by the subtest named after it:
//   - QualsSkills: Skills lists a person's skills ordered by skill key; a
//     put replaces the person's skill with that key; deleting a missing
//     one is not an error; people are independent ("tg:20" is not "tg:200").
//   - QualsCerts: Cert returns flows.ErrNotFound for a missing id; every
//     field reads back as written; CertsByPerson lists a person's
//     certificates by Submitted, then id, and follows a change of holder;
//     CertsDueBy(d) lists the live certificates (not revoked, not
//     superseded) whose FirstDeadline is on or before d, earliest first,
//     and follows a changed deadline; a certificate with no deadline is
//     never due.
//   - QualsReminders: a mark is kept with the time it was first set
//     (setting it again changes nothing); certificates are independent.
//   - QualsSessions: Session returns flows.ErrNotFound for a missing id;
//     every field reads back; SessionsByPerson lists the sessions a person
//     is invited to or attended, by start, and follows changed invitees,
//     attendees and start; SessionsBetween lists the sessions starting in
//     [from, to), by start.
//   - PersonEvents: events are numbered 1, 2, 3... per person in append
//     order (the Seq the caller set is ignored) and listed in that order;
//     a person with none has an empty trail.
//   - Roster: flows.ErrNotFound before the first put; a put replaces it;
//     every field reads back.
//
// Each subtest reopens the store (when it can) before it reads, so what
// it pins survives a restart.

// RunQuals runs the rules of the qualifications area and the roster.
func RunQuals(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"QualsSkills", testQualsSkills},
		{"QualsCerts", testQualsCerts},
		{"QualsReminders", testQualsReminders},
		{"QualsSessions", testQualsSessions},
		{"PersonEvents", testPersonEvents},
		{"Roster", testRoster},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// reopened is the store again after a restart, or the same one when the
// implementation cannot reopen.
func reopened(tb testing.TB, o Opened) Opened {
	tb.Helper()
	if o.Reopen == nil {
		return o
	}
	return o.Reopen(tb)
}

func certIDs(cs []*flows.Certificate) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return strings.Join(out, ",")
}

func sessionIDs(ss []*flows.Session) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return strings.Join(out, ",")
}

func testQualsSkills(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	at := T0
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(
			tx.PutSkill(flows.Skill{PersonID: "tg:200", Skill: "water", Level: "junior", By: "tg:1", At: at}),
			tx.PutSkill(flows.Skill{PersonID: "tg:200", Skill: "electricity", Level: "senior", By: "tg:1", At: at, Note: "十年经验"}),
			tx.PutSkill(flows.Skill{PersonID: "tg:20", Skill: "door", Level: "junior", By: "tg:1", At: at}),
			tx.PutSkill(flows.Skill{PersonID: "tg:200", Skill: "water", Level: "intermediate", By: "tg:2", At: at.Add(time.Hour)}),
			tx.DeleteSkill("tg:200", "no-such-skill"))
	})
	s := reopened(t, o).Store
	wantSame(t, "skills", read(t, s, func(tx flows.Tx) ([]flows.Skill, error) { return tx.Skills("tg:200") }), []flows.Skill{
		{PersonID: "tg:200", Skill: "electricity", Level: "senior", By: "tg:1", At: at, Note: "十年经验"},
		{PersonID: "tg:200", Skill: "water", Level: "intermediate", By: "tg:2", At: at.Add(time.Hour)},
	})
	update(t, s, func(tx flows.Tx) error { return tx.DeleteSkill("tg:200", "water") })
	wantSame(t, "after a delete", read(t, s, func(tx flows.Tx) ([]flows.Skill, error) { return tx.Skills("tg:200") }), []flows.Skill{
		{PersonID: "tg:200", Skill: "electricity", Level: "senior", By: "tg:1", At: at, Note: "十年经验"},
	})
	wantSame(t, "nobody's", read(t, s, func(tx flows.Tx) ([]flows.Skill, error) { return tx.Skills("tg:2") }), []flows.Skill{})
}

func testQualsCerts(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	d := flows.NewDate
	cert := func(id, person string, submitted time.Time, until, review flows.Date) *flows.Certificate {
		var c flows.Certificate
		fill(&c, len(id))
		c.ID, c.PersonID, c.Submitted, c.ValidUntil, c.NextReview = id, person, submitted, until, review
		c.Issued = d(2020, 10, 1)
		c.Revoked, c.Superseded = nil, ""
		return &c
	}
	a := cert("CERT-00001", "tg:200", T0, d(2026, 10, 1), d(2026, 10, 1))
	b := cert("CERT-00002", "tg:200", T0.Add(-time.Hour), d(2029, 10, 1), d(2026, 12, 5))
	c := cert("CERT-00003", "tg:20", T0, d(2027, 1, 1), flows.Date{})
	none := cert("CERT-00004", "tg:20", T0, flows.Date{}, flows.Date{})
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(tx.PutCert(c), tx.PutCert(a), tx.PutCert(b), tx.PutCert(none))
	})
	o = reopened(t, o)
	s := o.Store
	wantSame(t, "Cert", read(t, s, func(tx flows.Tx) (*flows.Certificate, error) { return tx.Cert(a.ID) }), a)
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.Cert("CERT-09999"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("a missing certificate: %v", err)
		}
		return nil
	})
	byPerson := func(id string) string {
		return certIDs(read(t, s, func(tx flows.Tx) ([]*flows.Certificate, error) { return tx.CertsByPerson(id) }))
	}
	wantIDs(t, "tg:200's, by submission", byPerson("tg:200"), "CERT-00002,CERT-00001")
	wantIDs(t, "tg:20's", byPerson("tg:20"), "CERT-00003,CERT-00004")
	due := func(by flows.Date) string {
		return certIDs(read(t, s, func(tx flows.Tx) ([]*flows.Certificate, error) { return tx.CertsDueBy(by) }))
	}
	for _, c := range []struct {
		by   flows.Date
		want string
	}{
		{d(2026, 9, 30), ""},
		{d(2026, 10, 1), "CERT-00001"},
		{d(2026, 12, 5), "CERT-00001,CERT-00002"},
		{d(2030, 1, 1), "CERT-00001,CERT-00002,CERT-00003"}, // no deadline: never due
	} {
		wantIDs(t, "due by "+c.by.String(), due(c.by), c.want)
	}
	// A renewed deadline moves the row; a revoked or replaced card leaves
	// the due list; a card given to another holder moves between lists.
	a.NextReview, a.ValidUntil = d(2027, 3, 1), d(2027, 3, 1)
	b.Superseded = a.ID
	at := T0
	c.Revoked = &at
	none.PersonID = "tg:200"
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutCert(a), tx.PutCert(b), tx.PutCert(c), tx.PutCert(none))
	})
	s = reopened(t, o).Store
	wantIDs(t, "due after the changes", due(d(2030, 1, 1)), "CERT-00001")
	wantIDs(t, "due before the renewed date", due(d(2027, 2, 28)), "")
	wantIDs(t, "tg:200's after the move", byPerson("tg:200"), "CERT-00002,CERT-00001,CERT-00004")
	wantIDs(t, "tg:20's after the move", byPerson("tg:20"), "CERT-00003")
}

func testQualsReminders(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(
			tx.MarkCertReminder("CERT-00001", "expiry:2026-10-01:60", T0),
			tx.MarkCertReminder("CERT-00001", "expiry:2026-10-01:60", T0.Add(time.Hour)), // again: the first time stays
			tx.MarkCertReminder("CERT-00001", "expiry:2026-10-01:30", T0.Add(24*time.Hour)),
			tx.MarkCertReminder("CERT-000010", "expiry:2026-10-01:60", T0)) // an id with the first as prefix
	})
	s := reopened(t, o).Store
	wantSame(t, "marks", read(t, s, func(tx flows.Tx) (flows.ReminderMarks, error) { return tx.CertReminders("CERT-00001") }),
		flows.ReminderMarks{"expiry:2026-10-01:60": T0, "expiry:2026-10-01:30": T0.Add(24 * time.Hour)})
	wantSame(t, "an unmarked certificate", read(t, s, func(tx flows.Tx) (flows.ReminderMarks, error) { return tx.CertReminders("CERT-00002") }),
		flows.ReminderMarks{})
}

func testQualsSessions(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	start := T0.Add(10 * 24 * time.Hour)
	var sess flows.Session
	fill(&sess, 1)
	sess.ID, sess.Start = "TR-0001", start
	sess.Invitees = []flows.Invitee{{PersonID: "tg:200"}, {PersonID: "tg:300"}}
	sess.Attendance = nil
	later := &flows.Session{ID: "TR-0002", Topic: "SOP v2", Start: start.Add(48 * time.Hour), Minutes: 60, Place: "三楼", TrainerName: "王",
		Invitees: []flows.Invitee{{PersonID: "tg:200"}}, Status: flows.SessionScheduled}
	update(t, o.Store, func(tx flows.Tx) error { return errors.Join(tx.PutSession(later), tx.PutSession(&sess)) })
	o = reopened(t, o)
	s := o.Store
	wantSame(t, "Session", read(t, s, func(tx flows.Tx) (*flows.Session, error) { return tx.Session(sess.ID) }), &sess)
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.Session("TR-9999"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("a missing session: %v", err)
		}
		return nil
	})
	mine := func(id string) string {
		return sessionIDs(read(t, s, func(tx flows.Tx) ([]*flows.Session, error) { return tx.SessionsByPerson(id) }))
	}
	between := func(from, to time.Time) string {
		return sessionIDs(read(t, s, func(tx flows.Tx) ([]*flows.Session, error) { return tx.SessionsBetween(from, to) }))
	}
	wantIDs(t, "tg:200's", mine("tg:200"), "TR-0001,TR-0002")
	wantIDs(t, "tg:20's", mine("tg:20"), "")
	wantIDs(t, "between", between(start, start.Add(time.Hour)), "TR-0001")
	wantIDs(t, "to is excluded", between(start.Add(-time.Hour), start), "")
	wantIDs(t, "both", between(start, start.Add(49*time.Hour)), "TR-0001,TR-0002")
	// Moved, one invitee dropped, a walk-in attended: the lists follow.
	sess.Start = start.Add(72 * time.Hour)
	sess.Invitees = sess.Invitees[:1]
	sess.Attendance = []flows.Attendance{{PersonID: "tg:400", Present: true, By: "tg:1", At: sess.Start}}
	update(t, s, func(tx flows.Tx) error { return tx.PutSession(&sess) })
	s = reopened(t, o).Store
	wantIDs(t, "tg:200's after the move", mine("tg:200"), "TR-0002,TR-0001")
	wantIDs(t, "tg:300's after the move", mine("tg:300"), "")
	wantIDs(t, "the walk-in's", mine("tg:400"), "TR-0001")
	wantIDs(t, "the old start", between(start, start.Add(time.Hour)), "")
}

func testPersonEvents(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	ev := func(person, action string, i int) flows.PersonEvent {
		var e flows.PersonEvent
		fill(&e, i)
		e.Seq, e.PersonID, e.Action = 99, person, action
		return e
	}
	update(t, o.Store, func(tx flows.Tx) error {
		return errors.Join(tx.AppendPersonEvent(ev("tg:200", flows.PevCertSubmitted, 1)), tx.AppendPersonEvent(ev("tg:200", flows.PevCertVerified, 2)),
			tx.AppendPersonEvent(ev("tg:20", flows.PevCertLapsed, 3)))
	})
	s := reopened(t, o).Store
	update(t, s, func(tx flows.Tx) error { return tx.AppendPersonEvent(ev("tg:200", flows.PevCertRevoked, 4)) })
	want := []flows.PersonEvent{ev("tg:200", flows.PevCertSubmitted, 1), ev("tg:200", flows.PevCertVerified, 2), ev("tg:200", flows.PevCertRevoked, 4)}
	for i := range want {
		want[i].Seq = i + 1
	}
	wantSame(t, "tg:200's trail", read(t, s, func(tx flows.Tx) ([]flows.PersonEvent, error) { return tx.PersonEvents("tg:200") }), want)
	other := ev("tg:20", flows.PevCertLapsed, 3)
	other.Seq = 1
	wantSame(t, "tg:20's trail", read(t, s, func(tx flows.Tx) ([]flows.PersonEvent, error) { return tx.PersonEvents("tg:20") }), []flows.PersonEvent{other})
	wantSame(t, "no trail", read(t, s, func(tx flows.Tx) ([]flows.PersonEvent, error) { return tx.PersonEvents("tg:999") }), []flows.PersonEvent{})
}

func testRoster(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	view(t, o.Store, func(tx flows.Tx) error {
		if _, err := tx.Roster(); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("a roster before the first put: %v", err)
		}
		return nil
	})
	for seed := 1; seed <= 2; seed++ {
		var r flows.Roster
		fill(&r, seed)
		update(t, o.Store, func(tx flows.Tx) error { return tx.PutRoster(&r) })
		o = reopened(t, o)
		wantSame(t, "Roster", read(t, o.Store, func(tx flows.Tx) (*flows.Roster, error) { return tx.Roster() }), &r)
	}
}
