package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

func qualsStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "repair.db")
	s := MustOpen(t, path)
	t.Cleanup(func() { s.Close() })
	return s, path
}

func update(t *testing.T, s *store.Store, fn func(flows.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func ids(certs []*flows.Certificate) []string {
	out := []string{}
	for _, c := range certs {
		out = append(out, c.ID)
	}
	return out
}

func TestQualsSkillsRoundTrip(t *testing.T) {
	s, path := qualsStore(t)
	at := t0.Truncate(time.Second)
	update(t, s, func(tx flows.Tx) error {
		for _, sk := range []flows.Skill{
			{PersonID: "tg:200", Skill: "water", Level: "junior", By: "tg:1", At: at},
			{PersonID: "tg:200", Skill: "electricity", Level: "senior", By: "tg:1", At: at, Note: "十年经验"},
			{PersonID: "tg:2000", Skill: "door", Level: "junior", By: "tg:1", At: at},       // a longer id with the same prefix
			{PersonID: "tg:200", Skill: "water", Level: "intermediate", By: "tg:2", At: at}, // replaces
		} {
			if err := tx.PutSkill(sk); err != nil {
				return err
			}
		}
		return tx.DeleteSkill("tg:200", "no-such-skill")
	})
	s.Close()
	s = MustOpen(t, path)
	defer s.Close()
	update(t, s, func(tx flows.Tx) error {
		got, err := tx.Skills("tg:200")
		if err != nil {
			return err
		}
		want := []flows.Skill{
			{PersonID: "tg:200", Skill: "electricity", Level: "senior", By: "tg:1", At: at, Note: "十年经验"},
			{PersonID: "tg:200", Skill: "water", Level: "intermediate", By: "tg:2", At: at},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("skills %+v\nwant %+v", got, want)
		}
		if err := tx.DeleteSkill("tg:200", "water"); err != nil {
			return err
		}
		got, err = tx.Skills("tg:200")
		if len(got) != 1 || got[0].Skill != "electricity" {
			t.Errorf("after delete %+v", got)
		}
		return err
	})
}

func TestQualsCertsRoundTrip(t *testing.T) {
	s, path := qualsStore(t)
	at := t0.Truncate(time.Second)
	d := flows.NewDate
	cert := func(id, person string, until, review flows.Date) *flows.Certificate {
		v := at
		return &flows.Certificate{ID: id, PersonID: person, Type: "elec_low_voltage", Number: "T" + id, Authority: "上海市应急管理局",
			Issued: d(2020, 10, 1), ValidUntil: until, NextReview: review, Photo: &flows.Photo{FileID: "f" + id},
			SubmittedBy: person, Submitted: at, VerifiedBy: "tg:1", Verified: &v, Updated: at}
	}
	a := cert("CERT-00001", "tg:200", d(2026, 10, 1), d(2026, 10, 1))
	b := cert("CERT-00002", "tg:200", d(2029, 10, 1), d(2026, 12, 5))
	c := cert("CERT-00003", "tg:300", d(2027, 1, 1), flows.Date{})
	none := cert("CERT-00004", "tg:300", flows.Date{}, flows.Date{})
	update(t, s, func(tx flows.Tx) error {
		for _, x := range []*flows.Certificate{c, b, a, none} {
			if err := tx.PutCert(x); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	s = MustOpen(t, path)
	defer s.Close()
	update(t, s, func(tx flows.Tx) error {
		got, err := tx.Cert(a.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("round trip\n%+v\nwant\n%+v", got, a)
		}
		if _, err := tx.Cert("CERT-09999"); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("missing cert: %v", err)
		}
		mine, err := tx.CertsByPerson("tg:200")
		if err != nil {
			return err
		}
		if got := ids(mine); !reflect.DeepEqual(got, []string{a.ID, b.ID}) {
			t.Errorf("by person %v", got)
		}
		for _, c := range []struct {
			by   flows.Date
			want []string
		}{
			{d(2026, 9, 30), []string{}},
			{d(2026, 10, 1), []string{a.ID}},
			{d(2026, 12, 5), []string{a.ID, b.ID}},
			{d(2030, 1, 1), []string{a.ID, b.ID, c.ID}}, // no deadline: never swept
		} {
			due, err := tx.CertsDueBy(c.by)
			if err != nil {
				return err
			}
			if got := ids(due); !reflect.DeepEqual(got, c.want) {
				t.Errorf("due by %s: %v, want %v", c.by, got, c.want)
			}
		}
		// A renewed 复审 moves the row; a revoked or replaced card leaves the index.
		a.NextReview, a.ValidUntil = d(2027, 3, 1), d(2027, 3, 1)
		if err := tx.PutCert(a); err != nil {
			return err
		}
		b.Superseded = a.ID
		if err := tx.PutCert(b); err != nil {
			return err
		}
		c.Revoked = &at
		if err := tx.PutCert(c); err != nil {
			return err
		}
		due, err := tx.CertsDueBy(d(2030, 1, 1))
		if got := ids(due); !reflect.DeepEqual(got, []string{a.ID}) {
			t.Errorf("after changes: %v", got)
		}
		return err
	})
}

func TestQualsReminderMarks(t *testing.T) {
	s, path := qualsStore(t)
	first := t0.Truncate(time.Second)
	update(t, s, func(tx flows.Tx) error {
		for _, m := range []struct {
			cert, mark string
			at         time.Time
		}{
			{"CERT-00001", "expiry:2026-10-01:60", first},
			{"CERT-00001", "expiry:2026-10-01:60", first.Add(time.Hour)}, // again: the first time stays
			{"CERT-00001", "expiry:2026-10-01:30", first.Add(24 * time.Hour)},
			{"CERT-000010", "expiry:2026-10-01:60", first}, // an id with the first as prefix
		} {
			if err := tx.MarkCertReminder(m.cert, m.mark, m.at); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	s = MustOpen(t, path)
	defer s.Close()
	update(t, s, func(tx flows.Tx) error {
		got, err := tx.CertReminders("CERT-00001")
		want := flows.ReminderMarks{"expiry:2026-10-01:60": first.UTC(), "expiry:2026-10-01:30": first.Add(24 * time.Hour).UTC()}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("marks %v\nwant %v", got, want)
		}
		none, _ := tx.CertReminders("CERT-00002")
		if len(none) != 0 {
			t.Errorf("unmarked cert %v", none)
		}
		return err
	})
}

func TestQualsSessionsRoundTrip(t *testing.T) {
	s, path := qualsStore(t)
	start := time.Date(2026, 9, 10, 6, 0, 0, 0, time.UTC)
	sess := &flows.Session{ID: "TR-0001", Topic: "复训", Start: start, Minutes: 240, Place: "三楼", TrainerName: "李班长", TrainerID: "tg:1",
		Covers:   []flows.Cover{{Kind: flows.CoverCert, Key: "elec_low_voltage"}},
		Invitees: []flows.Invitee{{PersonID: "tg:200"}, {PersonID: "tg:300"}}, Status: flows.SessionScheduled, CreatedBy: "tg:1",
		Created: t0.Truncate(time.Second), Updated: t0.Truncate(time.Second)}
	later := &flows.Session{ID: "TR-0002", Topic: "SOP v2", Start: start.Add(48 * time.Hour), Minutes: 60, Place: "三楼", TrainerName: "王",
		Invitees: []flows.Invitee{{PersonID: "tg:200"}}, Status: flows.SessionScheduled}
	update(t, s, func(tx flows.Tx) error {
		if err := tx.PutSession(later); err != nil {
			return err
		}
		return tx.PutSession(sess)
	})
	s.Close()
	s = MustOpen(t, path)
	defer s.Close()
	sessIDs := func(ss []*flows.Session) []string {
		out := []string{}
		for _, x := range ss {
			out = append(out, x.ID)
		}
		return out
	}
	update(t, s, func(tx flows.Tx) error {
		got, err := tx.Session(sess.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, sess) {
			t.Errorf("round trip\n%+v\nwant\n%+v", got, sess)
		}
		mine, _ := tx.SessionsByPerson("tg:200")
		if ids := sessIDs(mine); !reflect.DeepEqual(ids, []string{"TR-0001", "TR-0002"}) {
			t.Errorf("tg:200's sessions %v", ids)
		}
		between, _ := tx.SessionsBetween(start, start.Add(time.Hour))
		if ids := sessIDs(between); !reflect.DeepEqual(ids, []string{"TR-0001"}) {
			t.Errorf("between %v", ids)
		}
		// Moved, one invitee dropped, a walk-in attended: the indexes follow.
		got.Start = start.Add(72 * time.Hour)
		got.Invitees = got.Invitees[:1]
		got.Attendance = []flows.Attendance{{PersonID: "tg:400", Present: true, By: "tg:1", At: got.Start}}
		if err := tx.PutSession(got); err != nil {
			return err
		}
		for id, want := range map[string][]string{"tg:200": {"TR-0002", "TR-0001"}, "tg:300": {}, "tg:400": {"TR-0001"}} {
			ss, err := tx.SessionsByPerson(id)
			if err != nil {
				return err
			}
			if ids := sessIDs(ss); !reflect.DeepEqual(ids, want) {
				t.Errorf("%s after the move: %v, want %v", id, ids, want)
			}
		}
		between, err = tx.SessionsBetween(start, start.Add(time.Hour))
		if len(between) != 0 {
			t.Errorf("the old start still indexed: %v", sessIDs(between))
		}
		return err
	})
}

func TestQualsPersonEvents(t *testing.T) {
	s, path := qualsStore(t)
	at := t0.Truncate(time.Second)
	update(t, s, func(tx flows.Tx) error {
		for i, a := range []string{flows.PevCertSubmitted, flows.PevCertVerified} {
			if err := tx.AppendPersonEvent(flows.PersonEvent{PersonID: "tg:200", At: at.Add(time.Duration(i) * time.Minute), Actor: "tg:1", Action: a, Ref: "CERT-00001"}); err != nil {
				return err
			}
		}
		return tx.AppendPersonEvent(flows.PersonEvent{PersonID: "tg:300", At: at, Actor: "system", Action: flows.PevCertLapsed})
	})
	s.Close()
	s = MustOpen(t, path)
	defer s.Close()
	update(t, s, func(tx flows.Tx) error {
		if err := tx.AppendPersonEvent(flows.PersonEvent{PersonID: "tg:200", At: at.Add(time.Hour), Actor: "tg:2", Action: flows.PevCertRevoked, Note: "注销"}); err != nil {
			return err
		}
		evs, err := tx.PersonEvents("tg:200")
		if err != nil {
			return err
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Action)
			if ev.Seq != len(got) || ev.PersonID != "tg:200" {
				t.Errorf("event %d: %+v", len(got), ev)
			}
		}
		if want := []string{flows.PevCertSubmitted, flows.PevCertVerified, flows.PevCertRevoked}; !reflect.DeepEqual(got, want) {
			t.Errorf("trail %v, want %v", got, want)
		}
		none, err := tx.PersonEvents("tg:999")
		if len(none) != 0 {
			t.Errorf("a person with no trail: %v", none)
		}
		return err
	})
}
