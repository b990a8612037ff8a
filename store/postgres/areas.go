package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
)

// The areas added after the first schema (0002_areas): fee questions, the
// weekly duty pattern, the office console and the qualifications. Spare
// parts are parts.go.

// FeeQuestion implements flows.FeesTx.
func (t *tx) FeeQuestion(ticketID string) (*flows.FeeQuestion, error) {
	var q flows.FeeQuestion
	if err := t.get("fee question", `SELECT v, data FROM fee_questions WHERE ticket_id = $1`, ticketID, &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// PutFeeQuestion implements flows.FeesTx; the open index is a column.
func (t *tx) PutFeeQuestion(q *flows.FeeQuestion) error {
	return t.put(`INSERT INTO fee_questions (ticket_id, asked, open, v, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (ticket_id) DO UPDATE SET asked = EXCLUDED.asked, open = EXCLUDED.open, v = EXCLUDED.v, data = EXCLUDED.data`,
		q, text(q.TicketID), q.Asked, q.Closed == nil)
}

// OpenFeeQuestions implements flows.FeesTx: oldest Asked first.
func (t *tx) OpenFeeQuestions() ([]*flows.FeeQuestion, error) {
	return listPtr[flows.FeeQuestion](t, "fee question", `SELECT v, data FROM fee_questions WHERE open ORDER BY asked, ticket_id`)
}

// rosterName is the key of the one weekly pattern.
const rosterName = "weekly"

// Roster implements flows.RosterTx.
func (t *tx) Roster() (*flows.Roster, error) {
	var r flows.Roster
	if err := t.get("roster", `SELECT v, data FROM roster WHERE name = $1`, rosterName, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutRoster implements flows.RosterTx.
func (t *tx) PutRoster(r *flows.Roster) error {
	return t.put(`INSERT INTO roster (name, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, r, rosterName)
}

// ConsoleLink implements flows.ConsoleTx.
func (t *tx) ConsoleLink(hash string) (*flows.ConsoleLink, error) {
	var l flows.ConsoleLink
	if err := t.get("console link", `SELECT v, data FROM console_links WHERE hash = $1`, hash, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// PutConsoleLink implements flows.ConsoleTx.
func (t *tx) PutConsoleLink(l *flows.ConsoleLink) error {
	return t.put(`INSERT INTO console_links (hash, expires, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO UPDATE SET expires = EXCLUDED.expires, v = EXCLUDED.v, data = EXCLUDED.data`,
		l, text(l.Hash), l.Expires)
}

// ConsoleSession implements flows.ConsoleTx.
func (t *tx) ConsoleSession(hash string) (*flows.ConsoleSession, error) {
	var s flows.ConsoleSession
	if err := t.get("console session", `SELECT v, data FROM console_sessions WHERE hash = $1`, hash, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutConsoleSession implements flows.ConsoleTx; the by-person index is a column.
func (t *tx) PutConsoleSession(s *flows.ConsoleSession) error {
	return t.put(`INSERT INTO console_sessions (hash, person_id, expires, v, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (hash) DO UPDATE SET person_id = EXCLUDED.person_id, expires = EXCLUDED.expires, v = EXCLUDED.v, data = EXCLUDED.data`,
		s, text(s.Hash), text(s.PersonID), s.Expires)
}

// DeleteConsoleSession implements flows.ConsoleTx.
func (t *tx) DeleteConsoleSession(hash string) error {
	return t.exec(`DELETE FROM console_sessions WHERE hash = $1`, text(hash))
}

// ConsoleSessions implements flows.ConsoleTx: ordered by hash.
func (t *tx) ConsoleSessions(personID string) ([]*flows.ConsoleSession, error) {
	return listPtr[flows.ConsoleSession](t, "console session",
		`SELECT v, data FROM console_sessions WHERE person_id = $1 ORDER BY hash`, text(personID))
}

// PruneConsole implements flows.ConsoleTx.
func (t *tx) PruneConsole(before time.Time) (int, error) {
	if t.readOnly {
		return 0, errReadOnly
	}
	var n int
	err := t.row(`WITH l AS (DELETE FROM console_links WHERE expires < $1 RETURNING 1),
			s AS (DELETE FROM console_sessions WHERE expires < $1 RETURNING 1)
		SELECT (SELECT count(*) FROM l) + (SELECT count(*) FROM s)`, []any{before}, &n)
	return n, err
}

// Skills implements flows.QualsTx: ordered by skill key.
func (t *tx) Skills(personID string) ([]flows.Skill, error) {
	return list[flows.Skill](t, "skill", `SELECT v, data FROM skills WHERE person_id = $1 ORDER BY skill`, text(personID))
}

// PutSkill implements flows.QualsTx.
func (t *tx) PutSkill(s flows.Skill) error {
	return t.put(`INSERT INTO skills (person_id, skill, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (person_id, skill) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, s, text(s.PersonID), text(s.Skill))
}

// DeleteSkill implements flows.QualsTx.
func (t *tx) DeleteSkill(personID, skill string) error {
	return t.exec(`DELETE FROM skills WHERE person_id = $1 AND skill = $2`, text(personID), text(skill))
}

// Cert implements flows.QualsTx.
func (t *tx) Cert(id string) (*flows.Certificate, error) {
	var c flows.Certificate
	if err := t.get("certificate", `SELECT v, data FROM certs WHERE id = $1`, id, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// certDue is the certificate's due column: the first deadline of a live
// certificate as YYYYMMDD, NULL when it is not live or has none.
func certDue(c *flows.Certificate) any {
	d := c.FirstDeadline()
	if !c.Live() || d.IsZero() {
		return nil
	}
	return dateKey(d)
}

// dateKey is a date as a sortable key (YYYYMMDD).
func dateKey(d flows.Date) string { return fmt.Sprintf("%04d%02d%02d", d.Y, d.M, d.D) }

// PutCert implements flows.QualsTx; the person and due indexes are columns.
func (t *tx) PutCert(c *flows.Certificate) error {
	return t.put(`INSERT INTO certs (id, person_id, submitted, due, v, data) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET person_id = EXCLUDED.person_id, submitted = EXCLUDED.submitted, due = EXCLUDED.due,
			v = EXCLUDED.v, data = EXCLUDED.data`,
		c, text(c.ID), text(c.PersonID), c.Submitted, certDue(c))
}

// CertsByPerson implements flows.QualsTx: by Submitted, then id.
func (t *tx) CertsByPerson(personID string) ([]*flows.Certificate, error) {
	return listPtr[flows.Certificate](t, "certificate",
		`SELECT v, data FROM certs WHERE person_id = $1 ORDER BY submitted, id`, text(personID))
}

// CertsDueBy implements flows.QualsTx: earliest deadline first.
func (t *tx) CertsDueBy(d flows.Date) ([]*flows.Certificate, error) {
	return listPtr[flows.Certificate](t, "certificate",
		`SELECT v, data FROM certs WHERE due IS NOT NULL AND due <= $1 ORDER BY due, id`, dateKey(d))
}

// CertReminders implements flows.QualsTx.
func (t *tx) CertReminders(certID string) (flows.ReminderMarks, error) {
	out := flows.ReminderMarks{}
	err := t.rowsOf(`SELECT mark, at FROM cert_reminders WHERE cert_id = $1`, []any{text(certID)}, func(rows pgx.Rows) error {
		var mark string
		var at time.Time
		if err := rows.Scan(&mark, &at); err != nil {
			return err
		}
		out[mark] = at.UTC()
		return nil
	})
	return out, err
}

// MarkCertReminder implements flows.QualsTx: the first time a mark was set
// is kept, to the second (as the bbolt store keeps it).
func (t *tx) MarkCertReminder(certID, mark string, at time.Time) error {
	return t.exec(`INSERT INTO cert_reminders (cert_id, mark, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		text(certID), text(mark), sec(at))
}

// Session implements flows.QualsTx.
func (t *tx) Session(id string) (*flows.Session, error) {
	var s flows.Session
	if err := t.get("training session", `SELECT v, data FROM training_sessions WHERE id = $1`, id, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutSession implements flows.QualsTx: the start index is a column, the
// people (invitees and attendees) a table of their own.
func (t *tx) PutSession(s *flows.Session) error {
	id := text(s.ID)
	if err := t.put(`INSERT INTO training_sessions (id, start_sec, v, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET start_sec = EXCLUDED.start_sec, v = EXCLUDED.v, data = EXCLUDED.data`,
		s, id, sec(s.Start)); err != nil {
		return err
	}
	people := s.People()
	for i := range people {
		people[i] = text(people[i])
	}
	if err := t.exec(`DELETE FROM training_session_people WHERE session_id = $1`, id); err != nil {
		return err
	}
	return t.exec(`INSERT INTO training_session_people (person_id, session_id)
		SELECT DISTINCT p, $1 FROM unnest($2::text[]) AS p`, id, people)
}

// SessionsByPerson implements flows.QualsTx: by start.
func (t *tx) SessionsByPerson(personID string) ([]*flows.Session, error) {
	return listPtr[flows.Session](t, "training session", `SELECT s.v, s.data FROM training_session_people p
		JOIN training_sessions s ON s.id = p.session_id WHERE p.person_id = $1 ORDER BY s.start_sec, s.id`, text(personID))
}

// SessionsBetween implements flows.QualsTx: starting in [from, to), by start.
func (t *tx) SessionsBetween(from, to time.Time) ([]*flows.Session, error) {
	return listPtr[flows.Session](t, "training session", `SELECT v, data FROM training_sessions
		WHERE start_sec >= $1 AND start_sec < $2 ORDER BY start_sec, id`, sec(from), sec(to))
}

// AppendPersonEvent implements flows.QualsTx: Seq is the person's next
// number, assigned by the server and written into the record too.
func (t *tx) AppendPersonEvent(ev flows.PersonEvent) error {
	raw, err := encode(ev)
	if err != nil {
		return err
	}
	return t.exec(`INSERT INTO person_events (person_id, seq, v, data)
		SELECT $1, n.s, $2, jsonb_set($3::jsonb, '{seq}', to_jsonb(n.s))
		FROM (SELECT coalesce(max(seq), 0) + 1 AS s FROM person_events WHERE person_id = $1) n`,
		text(ev.PersonID), schemaVersion, raw)
}

// PersonEvents implements flows.QualsTx: in order.
func (t *tx) PersonEvents(personID string) ([]flows.PersonEvent, error) {
	return list[flows.PersonEvent](t, "person event", `SELECT v, data FROM person_events WHERE person_id = $1 ORDER BY seq`, text(personID))
}
