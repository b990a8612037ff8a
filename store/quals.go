package store

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Buckets of the qualifications area (flows.QualsTx).
var (
	// bSkills: person id \0 skill key → flows.Skill.
	bSkills = []byte("skills")
	// bCerts: certificate id → flows.Certificate.
	bCerts = []byte("certs")
	// bCertsByPerson: person id \0 certificate id → nil.
	bCertsByPerson = []byte("certs.by_person")
	// bCertsByDue: YYYYMMDD of the first deadline \0 certificate id → nil,
	// live certificates only: the daily sweep reads a few rows ahead.
	bCertsByDue = []byte("certs.by_due")
	// bCertReminders: certificate id \0 reminder mark → time sent.
	bCertReminders = []byte("certs.reminders")
	// bSessions: session id → flows.Session.
	bSessions = []byte("training_sessions")
	// bSessionsByPerson: person id \0 start \0 session id → nil.
	bSessionsByPerson = []byte("training_sessions.by_person")
	// bSessionsByStart: start \0 session id → nil.
	bSessionsByStart = []byte("training_sessions.by_start")
	// bPersonEvents holds one nested bucket per person: sequence → flows.PersonEvent.
	bPersonEvents = []byte("person_events")
)

// dateKey is a date as sortable index key bytes (YYYYMMDD).
func dateKey(d flows.Date) string { return fmt.Sprintf("%04d%02d%02d", d.Y, d.M, d.D) }

// Skills implements flows.QualsTx.
func (t *tx) Skills(personID string) ([]flows.Skill, error) {
	return decodeAll[flows.Skill](t.bk(bSkills), key(personID, ""))
}

// PutSkill implements flows.QualsTx.
func (t *tx) PutSkill(s flows.Skill) error { return t.put(bSkills, key(s.PersonID, s.Skill), s) }

// DeleteSkill implements flows.QualsTx.
func (t *tx) DeleteSkill(personID, skill string) error {
	return t.bk(bSkills).Delete(key(personID, skill))
}

// Cert implements flows.QualsTx.
func (t *tx) Cert(id string) (*flows.Certificate, error) {
	var c flows.Certificate
	if err := t.get(bCerts, id, "certificate", &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// dueKey is the certificate's row in the due index, nil when it has none
// (not live, or no deadline).
func dueKey(c *flows.Certificate) []byte {
	d := c.FirstDeadline()
	if !c.Live() || d.IsZero() {
		return nil
	}
	return key(dateKey(d), c.ID)
}

// PutCert implements flows.QualsTx and keeps the person and due indexes.
func (t *tx) PutCert(c *flows.Certificate) error {
	if old, err := t.Cert(c.ID); err == nil {
		if k := dueKey(old); k != nil {
			if err := t.bk(bCertsByDue).Delete(k); err != nil {
				return err
			}
		}
		if old.PersonID != c.PersonID {
			if err := t.bk(bCertsByPerson).Delete(key(old.PersonID, old.ID)); err != nil {
				return err
			}
		}
	}
	if k := dueKey(c); k != nil {
		if err := t.bk(bCertsByDue).Put(k, nil); err != nil {
			return err
		}
	}
	if err := t.bk(bCertsByPerson).Put(key(c.PersonID, c.ID), nil); err != nil {
		return err
	}
	return t.put(bCerts, []byte(c.ID), c)
}

// CertsByPerson implements flows.QualsTx: in the order they were submitted.
func (t *tx) CertsByPerson(personID string) ([]*flows.Certificate, error) {
	var out []*flows.Certificate
	prefix := key(personID, "")
	c := t.bk(bCertsByPerson).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		cert, err := t.Cert(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Submitted.Equal(out[j].Submitted) {
			return out[i].Submitted.Before(out[j].Submitted)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// CertsDueBy implements flows.QualsTx from the due index.
func (t *tx) CertsDueBy(d flows.Date) ([]*flows.Certificate, error) {
	var out []*flows.Certificate
	end := []byte(dateKey(d) + "\x01") // every key of day d sorts before it
	c := t.bk(bCertsByDue).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		cert, err := t.Cert(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}

// CertReminders implements flows.QualsTx.
func (t *tx) CertReminders(certID string) (flows.ReminderMarks, error) {
	out := flows.ReminderMarks{}
	prefix := key(certID, "")
	c := t.bk(bCertReminders).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		at, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			return nil, err
		}
		out[string(k[len(prefix):])] = at
	}
	return out, nil
}

// MarkCertReminder implements flows.QualsTx; the first time a mark was
// set is kept.
func (t *tx) MarkCertReminder(certID, mark string, at time.Time) error {
	b := t.bk(bCertReminders)
	k := key(certID, mark)
	if b.Get(k) != nil {
		return nil
	}
	return b.Put(k, []byte(at.UTC().Format(time.RFC3339)))
}

// Session implements flows.QualsTx.
func (t *tx) Session(id string) (*flows.Session, error) {
	var s flows.Session
	if err := t.get(bSessions, id, "training session", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutSession implements flows.QualsTx and keeps the person and start indexes.
func (t *tx) PutSession(s *flows.Session) error {
	if old, err := t.Session(s.ID); err == nil {
		for _, p := range old.People() {
			if err := t.bk(bSessionsByPerson).Delete(key(p, ts(old.Start), old.ID)); err != nil {
				return err
			}
		}
		if err := t.bk(bSessionsByStart).Delete(key(ts(old.Start), old.ID)); err != nil {
			return err
		}
	}
	for _, p := range s.People() {
		if err := t.bk(bSessionsByPerson).Put(key(p, ts(s.Start), s.ID), nil); err != nil {
			return err
		}
	}
	if err := t.bk(bSessionsByStart).Put(key(ts(s.Start), s.ID), nil); err != nil {
		return err
	}
	return t.put(bSessions, []byte(s.ID), s)
}

// SessionsByPerson implements flows.QualsTx.
func (t *tx) SessionsByPerson(personID string) ([]*flows.Session, error) {
	var out []*flows.Session
	prefix := key(personID, "")
	c := t.bk(bSessionsByPerson).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		s, err := t.Session(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// SessionsBetween implements flows.QualsTx.
func (t *tx) SessionsBetween(from, to time.Time) ([]*flows.Session, error) {
	var out []*flows.Session
	end := []byte(ts(to))
	c := t.bk(bSessionsByStart).Cursor()
	for k, _ := c.Seek([]byte(ts(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		s, err := t.Session(lastPart(k))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// AppendPersonEvent implements flows.QualsTx.
func (t *tx) AppendPersonEvent(ev flows.PersonEvent) error {
	return t.appendSeq(bPersonEvents, ev.PersonID, func(seq int) any { ev.Seq = seq; return ev })
}

// PersonEvents implements flows.QualsTx.
func (t *tx) PersonEvents(personID string) ([]flows.PersonEvent, error) {
	b := t.bk(bPersonEvents).Bucket([]byte(personID))
	if b == nil {
		return nil, nil
	}
	return decodeAll[flows.PersonEvent](b, nil)
}
