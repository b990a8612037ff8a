package flows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PersonEvent is one line of a person's audit trail: who changed what
// about them, when. The trail is append-only.
type PersonEvent struct {
	Seq      int       `json:"seq"`
	PersonID string    `json:"person_id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // person id, or "system"
	Action   string    `json:"action"`
	// Ref names the record changed: a skill key, certificate id or session id.
	Ref    string  `json:"ref,omitempty"`
	From   string  `json:"from,omitempty"`
	To     string  `json:"to,omitempty"`
	Note   string  `json:"note,omitempty"`
	Photos []Photo `json:"photos,omitempty"`
}

// Person event actions. Values are stored: never change one's meaning.
const (
	PevSkillSet        = "skill_set"         // From: old level ("" new), To: new level
	PevSkillRemoved    = "skill_removed"     // From: old level
	PevCertSubmitted   = "cert_submitted"    // by the holder, waiting for a lead
	PevCertRecorded    = "cert_recorded"     // by a lead, verified at once
	PevCertVerified    = "cert_verified"     // a lead verified a submission
	PevCertSuperseded  = "cert_superseded"   // To: the id of the certificate that replaced it
	PevCertRevoked     = "cert_revoked"      // Note: why
	PevCertReviewed    = "cert_reviewed"     // a passed 复审: From/To the next review date
	PevCertReminded    = "cert_reminded"     // Note: the reminder mark
	PevCertLapsed      = "cert_lapsed"       // the day after a deadline: excluded from jobs needing it
	PevTrainingInvited = "training_invited"  // Ref: session
	PevTrainingAnswer  = "training_answered" // To: going / not_going
	PevTrainingAttend  = "training_attended" // To: present / absent; Note: pass / fail
	PevTrainingCancel  = "training_cancelled"
)

// ActorSystem is the actor of changes the bot makes by itself.
const ActorSystem = "system"

// Input bounds of the qualifications area (runes).
const (
	maxCertField    = 64
	maxTopic        = 100
	maxSessionPlace = 100
	maxSessionMins  = 24 * 60
	maxInvitees     = 200
)

// staffMember loads person id and checks it is a member of the repair team.
func staffMember(tx Tx, id string) (*Person, error) {
	p, err := tx.Person(id)
	if errors.Is(err, ErrNotFound) || (err == nil && !p.Role.IsStaff()) {
		return nil, Errorf(CodeNotFound, "quals.err_no_person", "who", id)
	}
	return p, err
}

func pevent(tx Tx, ev PersonEvent) error { return tx.AppendPersonEvent(ev) }

// SetSkill records person's level in a skill (new or changed) with its
// audit event. A user mistake (unknown skill or level, unknown person) is
// an *Error.
func (r *QualRules) SetSkill(tx Tx, actor string, s Skill, now time.Time) error {
	if !r.knownSkill(s.Skill) {
		return Errorf(CodeInvalid, "quals.err_unknown_skill", "skill", s.Skill)
	}
	if _, ok := r.Level(s.Level); !ok {
		return Errorf(CodeInvalid, "quals.err_unknown_level", "level", s.Level)
	}
	if _, err := staffMember(tx, s.PersonID); err != nil {
		return err
	}
	old := ""
	skills, err := tx.Skills(s.PersonID)
	if err != nil {
		return err
	}
	for _, h := range skills {
		if h.Skill == s.Skill {
			old = h.Level
		}
	}
	if old == s.Level {
		return nil // nothing changed, nothing to record
	}
	s.By, s.At = actor, now
	if err := tx.PutSkill(s); err != nil {
		return err
	}
	return pevent(tx, PersonEvent{PersonID: s.PersonID, At: now, Actor: actor, Action: PevSkillSet, Ref: s.Skill, From: old, To: s.Level, Note: s.Note})
}

func (r *QualRules) knownSkill(k string) bool {
	for _, s := range r.Skills {
		if s.Key == k {
			return true
		}
	}
	return false
}

// RemoveSkill removes a person's skill with its audit event.
func (r *QualRules) RemoveSkill(tx Tx, actor, personID, skill, note string, now time.Time) error {
	skills, err := tx.Skills(personID)
	if err != nil {
		return err
	}
	for _, h := range skills {
		if h.Skill == skill {
			if err := tx.DeleteSkill(personID, skill); err != nil {
				return err
			}
			return pevent(tx, PersonEvent{PersonID: personID, At: now, Actor: actor, Action: PevSkillRemoved, Ref: skill, From: h.Level, Note: note})
		}
	}
	return Errorf(CodeNotFound, "quals.err_no_skill", "skill", r.SkillLabel(skill))
}

// CheckCert validates a certificate about to be recorded on day today and
// fills what its type implies: valid until (issue date + validity years)
// and the next 复审 (the first issue date + k × review years not before
// today, capped at the expiry; the lead may type the date on the card
// instead). Dates in the past are refused: an expired card is of no use.
func (r *QualRules) CheckCert(c *Certificate, today Date) error {
	ct, ok := r.CertType(c.Type)
	if !ok {
		return Errorf(CodeInvalid, "quals.err_unknown_type", "type", c.Type)
	}
	c.Number, c.Authority = strings.TrimSpace(c.Number), strings.TrimSpace(c.Authority)
	for _, f := range []struct{ key, val string }{{"quals.err_number", c.Number}, {"quals.err_authority", c.Authority}} {
		if f.val == "" || utf8.RuneCountInString(f.val) > maxCertField {
			return Errorf(CodeInvalid, f.key, "max", maxCertField)
		}
	}
	switch {
	case c.Issued.IsZero():
		return Errorf(CodeInvalid, "quals.err_issued")
	case c.Issued.After(today):
		return Errorf(CodeInvalid, "quals.err_issued_future", "date", c.Issued.String())
	}
	if c.ValidUntil.IsZero() && ct.ValidYears > 0 {
		c.ValidUntil = c.Issued.AddDate(ct.ValidYears, 0, 0)
	}
	if !c.ValidUntil.IsZero() {
		if !c.ValidUntil.After(c.Issued) {
			return Errorf(CodeInvalid, "quals.err_until_before_issued", "date", c.ValidUntil.String(), "issued", c.Issued.String())
		}
		if c.ValidUntil.Before(today) {
			return Errorf(CodeInvalid, "quals.err_until_past", "date", c.ValidUntil.String())
		}
	}
	if c.NextReview.IsZero() && ct.ReviewYears > 0 {
		next := c.Issued.AddDate(ct.ReviewYears, 0, 0)
		for k := 2; next.Before(today); k++ {
			next = c.Issued.AddDate(k*ct.ReviewYears, 0, 0)
		}
		if !c.ValidUntil.IsZero() && next.After(c.ValidUntil) {
			next = c.ValidUntil
		}
		c.NextReview = next
	}
	if !c.NextReview.IsZero() {
		switch {
		case c.NextReview.Before(today):
			return Errorf(CodeInvalid, "quals.err_review_past", "date", c.NextReview.String())
		case !c.ValidUntil.IsZero() && c.NextReview.After(c.ValidUntil):
			return Errorf(CodeInvalid, "quals.err_review_after_until", "date", c.NextReview.String(), "until", c.ValidUntil.String())
		}
	}
	return nil
}

// SubmitCert records a certificate for c.PersonID on behalf of actor:
// checked and completed by CheckCert, numbered, stored and audited. With
// verified (the caller's authorisation row lets actor verify, e.g. a lead
// recording a card they hold in their hands) it counts at once and
// replaces the holder's older cards of the type; otherwise it waits for a
// lead (VerifyCert) and needs a photo of the card.
func (r *QualRules) SubmitCert(tx Tx, actor string, c Certificate, verified bool, now time.Time, loc *time.Location) (*Certificate, error) {
	if _, err := staffMember(tx, c.PersonID); err != nil {
		return nil, err
	}
	if err := r.CheckCert(&c, DateOf(now, loc)); err != nil {
		return nil, err
	}
	if !verified && c.Photo == nil {
		return nil, Errorf(CodeInvalid, "quals.err_photo_required")
	}
	n, err := tx.NextSeq("cert")
	if err != nil {
		return nil, err
	}
	c.ID = fmt.Sprintf("CERT-%05d", n)
	c.SubmittedBy, c.Submitted, c.Updated = actor, now, now
	c.VerifiedBy, c.Verified, c.Revoked, c.RevokedBy, c.RevokeNote, c.Superseded = "", nil, nil, "", "", ""
	action := PevCertSubmitted
	if verified {
		at := now
		c.VerifiedBy, c.Verified = actor, &at
		action = PevCertRecorded
	}
	if err := tx.PutCert(&c); err != nil {
		return nil, err
	}
	var photos []Photo
	if c.Photo != nil {
		photos = []Photo{*c.Photo}
	}
	if err := pevent(tx, PersonEvent{PersonID: c.PersonID, At: now, Actor: actor, Action: action, Ref: c.ID, To: c.Type, Photos: photos,
		Note: certSummary(&c)}); err != nil {
		return nil, err
	}
	if verified {
		if err := r.supersede(tx, &c, actor, now); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// certSummary is the audit line of a certificate's fields.
func certSummary(c *Certificate) string {
	return fmt.Sprintf("no=%s authority=%s issued=%s until=%s review=%s", c.Number, c.Authority, c.Issued, c.ValidUntil, c.NextReview)
}

// supersede retires the holder's other live verified cards of c's type.
func (r *QualRules) supersede(tx Tx, c *Certificate, actor string, now time.Time) error {
	certs, err := tx.CertsByPerson(c.PersonID)
	if err != nil {
		return err
	}
	for _, o := range certs {
		if o.ID == c.ID || o.Type != c.Type || !o.Live() || !o.IsVerified() {
			continue
		}
		o.Superseded, o.Updated = c.ID, now
		if err := tx.PutCert(o); err != nil {
			return err
		}
		if err := pevent(tx, PersonEvent{PersonID: o.PersonID, At: now, Actor: actor, Action: PevCertSuperseded, Ref: o.ID, To: c.ID}); err != nil {
			return err
		}
	}
	return nil
}

// liveCert loads certificate id for a change; a revoked or replaced one is
// refused.
func liveCert(tx Tx, id string) (*Certificate, error) {
	c, err := tx.Cert(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "quals.err_no_cert", "id", id)
	}
	if err != nil {
		return nil, err
	}
	if !c.Live() {
		return nil, Errorf(CodeConflict, "quals.err_cert_gone", "id", id)
	}
	return c, nil
}

// VerifyCert is a lead's verification of a submitted certificate; from
// then on it qualifies and replaces the holder's older cards of its type.
// Nobody verifies their own card.
func (r *QualRules) VerifyCert(tx Tx, actor, id string, now time.Time, loc *time.Location) (*Certificate, error) {
	c, err := liveCert(tx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case c.IsVerified():
		return nil, Errorf(CodeConflict, "quals.err_already_verified", "id", id)
	case c.PersonID == actor:
		return nil, Errorf(CodeForbidden, "quals.err_verify_own")
	case !c.ValidUntil.IsZero() && c.ValidUntil.Before(DateOf(now, loc)):
		return nil, Errorf(CodeInvalid, "quals.err_until_past", "date", c.ValidUntil.String())
	}
	at := now
	c.VerifiedBy, c.Verified, c.Updated = actor, &at, now
	if err := tx.PutCert(c); err != nil {
		return nil, err
	}
	if err := pevent(tx, PersonEvent{PersonID: c.PersonID, At: now, Actor: actor, Action: PevCertVerified, Ref: c.ID, To: c.Type}); err != nil {
		return nil, err
	}
	return c, r.supersede(tx, c, actor, now)
}

// RevokeCert withdraws a certificate (recorded by mistake, 注销 by the
// authority, a submission refused); note says why and is required.
func (r *QualRules) RevokeCert(tx Tx, actor, id, note string, now time.Time) (*Certificate, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, Errorf(CodeInvalid, "quals.err_reason_required")
	}
	c, err := liveCert(tx, id)
	if err != nil {
		return nil, err
	}
	at := now
	c.Revoked, c.RevokedBy, c.RevokeNote, c.Updated = &at, actor, note, now
	if err := tx.PutCert(c); err != nil {
		return nil, err
	}
	return c, pevent(tx, PersonEvent{PersonID: c.PersonID, At: now, Actor: actor, Action: PevCertRevoked, Ref: c.ID, Note: note})
}

// ReviewCert records a passed 复审: the next 复审 becomes next (zero: the
// last one plus the type's interval, capped at the expiry), and untilNew,
// when set, the new expiry (a 特种设备 card extended by its 复审). The
// reminders of the old dates stop, those of the new ones start over.
func (r *QualRules) ReviewCert(tx Tx, actor, id string, next, untilNew Date, now time.Time, loc *time.Location) (*Certificate, error) {
	c, err := liveCert(tx, id)
	if err != nil {
		return nil, err
	}
	if !c.IsVerified() {
		return nil, Errorf(CodeConflict, "quals.err_not_verified", "id", id)
	}
	ct, _ := r.CertType(c.Type)
	today := DateOf(now, loc)
	if !untilNew.IsZero() {
		if !untilNew.After(today) {
			return nil, Errorf(CodeInvalid, "quals.err_until_past", "date", untilNew.String())
		}
		c.ValidUntil = untilNew
	}
	if next.IsZero() {
		if ct.ReviewYears <= 0 {
			return nil, Errorf(CodeInvalid, "quals.err_review_none", "cert", r.CertLabel(c.Type))
		}
		base := c.NextReview
		if base.IsZero() {
			base = today
		}
		next = base.AddDate(ct.ReviewYears, 0, 0)
		for !next.After(today) {
			next = next.AddDate(ct.ReviewYears, 0, 0)
		}
		if !c.ValidUntil.IsZero() && next.After(c.ValidUntil) {
			next = c.ValidUntil
		}
	}
	switch {
	case !next.After(today):
		return nil, Errorf(CodeInvalid, "quals.err_review_past", "date", next.String())
	case !c.ValidUntil.IsZero() && next.After(c.ValidUntil):
		return nil, Errorf(CodeInvalid, "quals.err_review_after_until", "date", next.String(), "until", c.ValidUntil.String())
	}
	old := c.NextReview
	c.NextReview, c.Updated = next, now
	if err := tx.PutCert(c); err != nil {
		return nil, err
	}
	return c, pevent(tx, PersonEvent{PersonID: c.PersonID, At: now, Actor: actor, Action: PevCertReviewed, Ref: c.ID, From: old.String(), To: next.String(),
		Note: "until=" + c.ValidUntil.String()})
}

// SweepCerts is the daily certificate sweep: every reminder due today
// (DueReminders over the due index), each marked sent and audited in tx,
// so that sending them in the same transaction makes each go out once,
// across restarts. The caller delivers each Reminder's Holder text to
// the holder and WithName(holder's name) to the leads, and for a Lapsed
// one returns the holder's open jobs that need the type to the group.
func (r *QualRules) SweepCerts(tx Tx, now time.Time, loc *time.Location) ([]Reminder, error) {
	horizon := DateOf(now, loc).AddDate(0, 0, r.maxLead())
	certs, err := tx.CertsDueBy(horizon)
	if err != nil {
		return nil, err
	}
	var out []Reminder
	for _, c := range certs {
		marks, err := tx.CertReminders(c.ID)
		if err != nil {
			return nil, err
		}
		for _, rm := range r.DueReminders(c, marks, now, loc) {
			if err := tx.MarkCertReminder(c.ID, rm.Mark, now); err != nil {
				return nil, err
			}
			action := PevCertReminded
			if rm.Lapsed {
				action = PevCertLapsed
			}
			if err := pevent(tx, PersonEvent{PersonID: c.PersonID, At: now, Actor: ActorSystem, Action: action, Ref: c.ID, Note: rm.Mark}); err != nil {
				return nil, err
			}
			out = append(out, rm)
		}
	}
	return out, nil
}

// CheckSession validates a session about to be scheduled at now.
func (r *QualRules) CheckSession(s *Session, now time.Time) error {
	s.Topic, s.Place, s.TrainerName = strings.TrimSpace(s.Topic), strings.TrimSpace(s.Place), strings.TrimSpace(s.TrainerName)
	switch {
	case s.Topic == "" || utf8.RuneCountInString(s.Topic) > maxTopic:
		return Errorf(CodeInvalid, "quals.err_topic", "max", maxTopic)
	case s.Place == "" || utf8.RuneCountInString(s.Place) > maxSessionPlace:
		return Errorf(CodeInvalid, "quals.err_place", "max", maxSessionPlace)
	case s.TrainerName == "" || utf8.RuneCountInString(s.TrainerName) > maxSessionPlace:
		return Errorf(CodeInvalid, "quals.err_trainer", "max", maxSessionPlace)
	case !s.Start.After(now):
		return Errorf(CodeInvalid, "quals.err_session_past")
	case s.Minutes < 15 || s.Minutes > maxSessionMins:
		return Errorf(CodeInvalid, "quals.err_session_length", "max", maxSessionMins/60)
	case len(s.Invitees) > maxInvitees:
		return Errorf(CodeInvalid, "quals.err_invitees", "max", maxInvitees)
	}
	for _, c := range s.Covers {
		ok := false
		switch c.Kind {
		case CoverSOP:
			n, err := strconv.Atoi(c.Key)
			ok = err == nil && n >= 1
		case CoverCert:
			_, ok = r.CertType(c.Key)
		case CoverSkill:
			ok = r.knownSkill(c.Key)
		}
		if !ok {
			return Errorf(CodeInvalid, "quals.err_cover", "what", c.Kind+" "+c.Key)
		}
	}
	return nil
}

// ScheduleSession stores a new session by actor with an invitation event
// for each invitee (every invitee must be on the team).
func (r *QualRules) ScheduleSession(tx Tx, actor string, s Session, now time.Time) (*Session, error) {
	if err := r.CheckSession(&s, now); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	invitees := make([]Invitee, 0, len(s.Invitees))
	for _, inv := range s.Invitees {
		if seen[inv.PersonID] {
			continue
		}
		seen[inv.PersonID] = true
		if _, err := staffMember(tx, inv.PersonID); err != nil {
			return nil, err
		}
		invitees = append(invitees, Invitee{PersonID: inv.PersonID})
	}
	n, err := tx.NextSeq("training")
	if err != nil {
		return nil, err
	}
	s.ID = fmt.Sprintf("TR-%04d", n)
	s.Invitees, s.Attendance, s.Status = invitees, nil, SessionScheduled
	s.CreatedBy, s.Created, s.Updated = actor, now, now
	if err := tx.PutSession(&s); err != nil {
		return nil, err
	}
	for _, inv := range s.Invitees {
		if err := pevent(tx, PersonEvent{PersonID: inv.PersonID, At: now, Actor: actor, Action: PevTrainingInvited, Ref: s.ID, Note: s.Topic}); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// scheduled loads session id; only a session still scheduled can change.
func scheduled(tx Tx, id string) (*Session, error) {
	s, err := tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "quals.err_no_session", "id", id)
	}
	if err != nil {
		return nil, err
	}
	if s.Status != SessionScheduled {
		return nil, Errorf(CodeConflict, "quals.err_session_closed", "id", id)
	}
	return s, nil
}

// AnswerSession records an invitee's going / not going before the start.
func (r *QualRules) AnswerSession(tx Tx, personID, id string, going bool, now time.Time) (*Session, error) {
	s, err := scheduled(tx, id)
	if err != nil {
		return nil, err
	}
	inv := s.Invitee(personID)
	switch {
	case inv == nil:
		return nil, Errorf(CodeForbidden, "quals.err_not_invited")
	case !now.Before(s.Start):
		return nil, Errorf(CodeConflict, "quals.err_session_started")
	}
	answer := AnswerNotGoing
	if going {
		answer = AnswerGoing
	}
	if inv.Answer == answer {
		return s, nil
	}
	at := now
	inv.Answer, inv.At = answer, &at
	s.Updated = now
	if err := tx.PutSession(s); err != nil {
		return nil, err
	}
	return s, pevent(tx, PersonEvent{PersonID: personID, At: now, Actor: personID, Action: PevTrainingAnswer, Ref: s.ID, To: answer})
}

// RecordAttendance is the trainer's or a lead's record of one person at a
// session that has started: present or absent, an optional result (pass /
// fail) and minutes when not the whole session. A person who was not
// invited is added (a walk-in). Recording again corrects the record.
func (r *QualRules) RecordAttendance(tx Tx, actor, id string, a Attendance, now time.Time) (*Session, error) {
	s, err := tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "quals.err_no_session", "id", id)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case s.Status == SessionCancelled:
		return nil, Errorf(CodeConflict, "quals.err_session_closed", "id", id)
	case now.Before(s.Start):
		return nil, Errorf(CodeConflict, "quals.err_session_not_started")
	case a.Result != "" && a.Result != ResultPass && a.Result != ResultFail:
		return nil, Errorf(CodeInvalid, "quals.err_result")
	case a.Minutes < 0 || a.Minutes > s.Minutes:
		return nil, Errorf(CodeInvalid, "quals.err_minutes", "max", s.Minutes)
	}
	if _, err := staffMember(tx, a.PersonID); err != nil {
		return nil, err
	}
	if !a.Present {
		a.Result, a.Minutes = "", 0
	}
	a.By, a.At = actor, now
	if old := s.Attended(a.PersonID); old != nil {
		*old = a
	} else {
		s.Attendance = append(s.Attendance, a)
	}
	s.Status, s.Updated = SessionDone, now
	if err := tx.PutSession(s); err != nil {
		return nil, err
	}
	to := "absent"
	if a.Present {
		to = "present"
	}
	return s, pevent(tx, PersonEvent{PersonID: a.PersonID, At: now, Actor: actor, Action: PevTrainingAttend, Ref: s.ID, To: to, Note: a.Result})
}

// CancelSession cancels a scheduled session; every invitee's trail says so.
func (r *QualRules) CancelSession(tx Tx, actor, id, note string, now time.Time) (*Session, error) {
	s, err := scheduled(tx, id)
	if err != nil {
		return nil, err
	}
	s.Status, s.Updated = SessionCancelled, now
	if err := tx.PutSession(s); err != nil {
		return nil, err
	}
	for _, inv := range s.Invitees {
		if err := pevent(tx, PersonEvent{PersonID: inv.PersonID, At: now, Actor: actor, Action: PevTrainingCancel, Ref: s.ID, Note: strings.TrimSpace(note)}); err != nil {
			return nil, err
		}
	}
	return s, nil
}
