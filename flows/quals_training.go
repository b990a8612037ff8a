package flows

import (
	"strconv"
	"time"
)

// What a training session covers.
const (
	CoverSOP   = "sop"   // Key: the SOP version number ("3")
	CoverCert  = "cert"  // Key: a certificate type key (refresher before 复审)
	CoverSkill = "skill" // Key: a skill key
)

// Cover is one thing a session trains.
type Cover struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
}

// Answers to an invitation.
const (
	AnswerGoing    = "going"
	AnswerNotGoing = "not_going"
)

// Results of an assessed attendance ("" when the session has no test).
const (
	ResultPass = "pass"
	ResultFail = "fail"
)

// Session states.
const (
	SessionScheduled = "scheduled"
	SessionDone      = "done" // attendance recorded
	SessionCancelled = "cancelled"
)

// Invitee is one invited person and their answer ("" until they answer).
type Invitee struct {
	PersonID string     `json:"person_id"`
	Answer   string     `json:"answer,omitempty"`
	At       *time.Time `json:"at,omitempty"`
}

// Attendance is the trainer's or lead's record of one person at a session.
type Attendance struct {
	PersonID string `json:"person_id"`
	Present  bool   `json:"present"`
	Result   string `json:"result,omitempty"` // "", ResultPass, ResultFail
	// Minutes attended when not the whole session (0: the whole session).
	Minutes int       `json:"minutes,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Session is a training session (培训): what, when, where, by whom, what
// it covers, who was invited and who came.
type Session struct {
	ID      string    `json:"id"`
	Topic   string    `json:"topic"`
	Start   time.Time `json:"start"`
	Minutes int       `json:"minutes"`
	Place   string    `json:"place"`
	// TrainerID is the trainer's person id when they use the bot (they
	// may record attendance); TrainerName is shown either way.
	TrainerID   string       `json:"trainer_id,omitempty"`
	TrainerName string       `json:"trainer_name"`
	Covers      []Cover      `json:"covers,omitempty"`
	Invitees    []Invitee    `json:"invitees,omitempty"`
	Attendance  []Attendance `json:"attendance,omitempty"`
	Status      string       `json:"status"`
	CreatedBy   string       `json:"created_by"`
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"`
}

// End is when the session is over.
func (s *Session) End() time.Time { return s.Start.Add(time.Duration(s.Minutes) * time.Minute) }

// Invitee returns the invitation of person id, nil when not invited.
func (s *Session) Invitee(id string) *Invitee {
	for i := range s.Invitees {
		if s.Invitees[i].PersonID == id {
			return &s.Invitees[i]
		}
	}
	return nil
}

// Attended returns the attendance record of person id, nil when none.
func (s *Session) Attended(id string) *Attendance {
	for i := range s.Attendance {
		if s.Attendance[i].PersonID == id {
			return &s.Attendance[i]
		}
	}
	return nil
}

// People lists everyone the session concerns (invitees, then walk-ins
// with attendance), each once: the per-person index.
func (s *Session) People() []string {
	seen := map[string]bool{}
	var out []string
	for _, inv := range s.Invitees {
		if !seen[inv.PersonID] {
			seen[inv.PersonID] = true
			out = append(out, inv.PersonID)
		}
	}
	for _, a := range s.Attendance {
		if !seen[a.PersonID] {
			seen[a.PersonID] = true
			out = append(out, a.PersonID)
		}
	}
	return out
}

// creditFor is the minutes of training person id earned at the session:
// present at a session that was not cancelled; 0 otherwise.
func (s *Session) creditFor(id string) int {
	a := s.Attended(id)
	if s.Status == SessionCancelled || a == nil || !a.Present {
		return 0
	}
	if a.Minutes > 0 && a.Minutes < s.Minutes {
		return a.Minutes
	}
	return s.Minutes
}

// covers reports whether the session trains kind/key; for the SOP a
// session on a later version covers an earlier one.
func (s *Session) covers(kind, key string) bool {
	for _, c := range s.Covers {
		if c.Kind != kind {
			continue
		}
		if c.Key == key {
			return true
		}
		if kind == CoverSOP {
			a, err1 := strconv.Atoi(c.Key)
			b, err2 := strconv.Atoi(key)
			if err1 == nil && err2 == nil && a >= b {
				return true
			}
		}
	}
	return false
}

// passed reports whether person id attended and did not fail.
func (s *Session) passed(id string) bool {
	a := s.Attended(id)
	return s.creditFor(id) > 0 && a.Result != ResultFail
}

// TrainingMinutes is the training person id attended in sessions starting
// in [from, to) (zero times: unbounded), in minutes.
func TrainingMinutes(sessions []*Session, id string, from, to time.Time) int {
	n := 0
	for _, s := range sessions {
		if (!from.IsZero() && s.Start.Before(from)) || (!to.IsZero() && !s.Start.Before(to)) {
			continue
		}
		n += s.creditFor(id)
	}
	return n
}

// Kinds of training need.
const (
	NeedSOP       = "sop"       // a new SOP version: acknowledgement + quiz, and a session if configured
	NeedRefresher = "refresher" // refresher hours before a certificate's 复审
)

// TrainingNeed is one piece of training a person owes or has completed.
type TrainingNeed struct {
	Kind string
	// Key is the SOP version number (NeedSOP) or the certificate id (NeedRefresher).
	Key string
	// Type is the certificate type (NeedRefresher).
	Type string
	// Due is the 复审 date the refresher is for (NeedRefresher).
	Due Date
	// SelfStudy: self-study is part of the need (the acknowledgement and
	// quiz of a new version); SelfStudyDone: it is done.
	SelfStudy, SelfStudyDone bool
	// Session: a session is part of the need; SessionDone: one was attended.
	Session, SessionDone bool
	// MinutesDone and MinutesNeeded count refresher training.
	MinutesDone, MinutesNeeded int
	Met                        bool
	// Text describes the need for /training.
	Text Reason
}

// TrainingInput is what TrainingNeeds reads about one person.
type TrainingInput struct {
	// SOP is the version in force (nil: none installed).
	SOP *SOPVersion
	// Ack is the person's acknowledgement of that version (nil: none).
	Ack *Ack
	// Sessions the person was invited to or attended (SessionsByPerson).
	Sessions []*Session
	// Certs are the person's certificates (CertsByPerson).
	Certs []*Certificate
}

// TrainingNeeds lists person p's current training needs, met or not, on
// the day of now in loc, for a person who executes the SOP:
//   - the SOP version in force: from version 2 on its acknowledgement and
//     quiz are the self-study; when SOPSessionRequired, a session covering
//     that version (or a later one), attended and not failed, is also needed;
//   - each live verified certificate whose type asks for refresher hours,
//     from the day its application window opens before the first
//     deadline: that many hours of sessions covering the type, attended
//     since the previous 复审 (or the issue date).
//
// Pure.
func (r *QualRules) TrainingNeeds(p *Person, in TrainingInput, now time.Time, loc *time.Location) []TrainingNeed {
	var out []TrainingNeed
	if v := in.SOP; v != nil && (v.Number > 1 || r.SOPSessionRequired) {
		key := strconv.Itoa(v.Number)
		n := TrainingNeed{Kind: NeedSOP, Key: key, SelfStudy: v.Number > 1, Session: r.SOPSessionRequired}
		n.SelfStudyDone = in.Ack != nil && in.Ack.Version == v.Number && in.Ack.PersonID == p.ID
		for _, s := range in.Sessions {
			if s.covers(CoverSOP, key) && s.passed(p.ID) {
				n.SessionDone = true
			}
		}
		n.Met = (!n.SelfStudy || n.SelfStudyDone) && (!n.Session || n.SessionDone)
		n.Text = Reason{Key: "quals.training_sop", Args: []any{"n", v.Number, "label", v.Label}}
		out = append(out, n)
	}
	today := DateOf(now, loc)
	for _, c := range in.Certs {
		ct, ok := r.CertType(c.Type)
		if !ok || ct.RefresherHours <= 0 || c.PersonID != p.ID || !c.Live() || !c.IsVerified() {
			continue
		}
		due := c.FirstDeadline()
		if due.IsZero() || today.Before(ct.applyFrom(due)) {
			continue
		}
		since := c.Issued
		if years := ct.ReviewYears; years > 0 && due.AddDate(-years, 0, 0).After(since) {
			since = due.AddDate(-years, 0, 0)
		}
		n := TrainingNeed{Kind: NeedRefresher, Key: c.ID, Type: c.Type, Due: due, Session: true, MinutesNeeded: ct.RefresherHours * 60}
		for _, s := range in.Sessions {
			if s.covers(CoverCert, c.Type) && !s.Start.Before(since.Start(loc)) {
				n.MinutesDone += s.creditFor(p.ID)
			}
		}
		n.SessionDone = n.MinutesDone >= n.MinutesNeeded
		n.Met = n.SessionDone
		n.Text = Reason{Key: "quals.training_refresher", Args: []any{"cert", r.CertLabel(c.Type), "date", due.String(),
			"done", hours(n.MinutesDone), "need", ct.RefresherHours}}
		out = append(out, n)
	}
	return out
}

// Behind reports whether any need is unmet: the lead's "who is behind".
func Behind(needs []TrainingNeed) bool {
	for _, n := range needs {
		if !n.Met {
			return true
		}
	}
	return false
}

// hours renders minutes as hours with at most one decimal ("1.5", "8").
func hours(min int) string {
	if min%60 == 0 {
		return strconv.Itoa(min / 60)
	}
	return strconv.FormatFloat(float64(min)/60, 'f', 1, 64)
}
