package flows

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// This file is the qualifications area (技术人员资质与培训, management area
// 2): skill levels, certificates with their expiry and 复审 (periodic
// review), what a fault category needs, and the one function that decides
// whether a person may take a job. Reminders are in quals_remind.go,
// training in quals_training.go, the changes with their audit events in
// quals_ops.go.

// QualsTx is what the qualifications area needs from a transaction.
// Implementations return ErrNotFound (wrapped or not) for missing records.
type QualsTx interface {
	// Skills lists a person's skills, ordered by skill key.
	Skills(personID string) ([]Skill, error)
	// PutSkill stores or replaces the person's skill with that key.
	PutSkill(s Skill) error
	// DeleteSkill removes a skill; a missing one is not an error.
	DeleteSkill(personID, skill string) error

	Cert(id string) (*Certificate, error)
	// PutCert stores a certificate and keeps the per-person and the
	// due-date indexes (only live certificates are in the due index).
	PutCert(c *Certificate) error
	// CertsByPerson lists a person's certificates, oldest id first.
	CertsByPerson(personID string) ([]*Certificate, error)
	// CertsDueBy lists live certificates whose earliest deadline (valid
	// until or next 复审) is on or before d, earliest first: the daily sweep.
	CertsDueBy(d Date) ([]*Certificate, error)

	// CertReminders returns the reminder marks already set for a certificate.
	CertReminders(certID string) (ReminderMarks, error)
	// MarkCertReminder records that a reminder was sent (idempotent).
	MarkCertReminder(certID, mark string, at time.Time) error

	Session(id string) (*Session, error)
	// PutSession stores a training session and keeps the per-person
	// (invitees and attendees) and by-start indexes.
	PutSession(s *Session) error
	// SessionsByPerson lists the sessions a person was invited to or
	// attended, by start time.
	SessionsByPerson(personID string) ([]*Session, error)
	// SessionsBetween lists sessions starting in [from, to), by start time.
	SessionsBetween(from, to time.Time) ([]*Session, error)

	// AppendPersonEvent adds a line to the person's audit trail; Seq is
	// assigned. The trail is append-only.
	AppendPersonEvent(ev PersonEvent) error
	// PersonEvents returns a person's audit trail in order.
	PersonEvents(personID string) ([]PersonEvent, error)
}

// Label is a text in each catalog language, from the configuration.
type Label map[Lang]string

// In returns the label in lang, falling back to Chinese, then to any.
func (l Label) In(lang Lang) string {
	if s := l[lang]; s != "" {
		return s
	}
	if s := l[LangZH]; s != "" {
		return s
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s := l[Lang(k)]; s != "" {
			return s
		}
	}
	return ""
}

// SkillLevel is one rung of the skill ladder (default 初级, 中级, 高级).
// Skills store the key, so reordering or relabelling levels never changes
// what a stored skill means.
type SkillLevel struct {
	Key    string
	Labels Label
}

// SkillDef is a skill a person can hold: one per fault category (the
// category key), labelled like the category.
type SkillDef struct {
	Key    string
	Labels Label
}

// Skill is a person's level in one skill.
type Skill struct {
	PersonID string    `json:"person_id"`
	Skill    string    `json:"skill"` // a SkillDef key (a category key)
	Level    string    `json:"level"` // a SkillLevel key
	By       string    `json:"by"`    // who recorded it
	At       time.Time `json:"at"`
	Note     string    `json:"note,omitempty"`
}

// CertClass is the regulatory family of a certificate type.
type CertClass string

// Certificate classes.
const (
	// ClassSpecialOperation is 特种作业操作证 (安监总局令第30号).
	ClassSpecialOperation CertClass = "special_operation"
	// ClassSpecialEquipment is 特种设备作业人员证 (质检总局令第140号).
	ClassSpecialEquipment CertClass = "special_equipment"
	// ClassOther is any other certificate the company tracks.
	ClassOther CertClass = "other"
)

// CertType is a kind of certificate with its rules, from the configuration.
type CertType struct {
	Key    string
	Labels Label
	Class  CertClass
	// ValidYears is how long a certificate is valid from its issue date
	// (0: no fixed expiry, e.g. a 特种设备 card renewed by its 复审).
	ValidYears int
	// ReviewYears is the 复审 interval from the issue date (0: none).
	ReviewYears int
	// ApplyMonths and ApplyDays are how long before a deadline the holder
	// may (and should) apply: the first reminder goes out then.
	ApplyMonths, ApplyDays int
	// RefresherHours is the refresher training needed before each 复审
	// (特种作业: at least 8 学时); 0 for none.
	RefresherHours int
}

// applyFrom is the first day of the application window before deadline due.
func (ct CertType) applyFrom(due Date) Date { return due.AddDate(0, -ct.ApplyMonths, -ct.ApplyDays) }

// Certificate is one card a person holds. A lead records it (verified at
// once) or the holder submits it with a photo for a lead to verify; an
// unverified certificate never qualifies.
type Certificate struct {
	ID         string `json:"id"`
	PersonID   string `json:"person_id"`
	Type       string `json:"type"` // a CertType key
	Number     string `json:"number"`
	Authority  string `json:"authority"`
	Issued     Date   `json:"issued"`
	ValidUntil Date   `json:"valid_until,omitzero"` // zero: no fixed expiry
	NextReview Date   `json:"next_review,omitzero"` // zero: no 复审
	Photo      *Photo `json:"photo,omitempty"`

	SubmittedBy string     `json:"submitted_by"`
	Submitted   time.Time  `json:"submitted"`
	VerifiedBy  string     `json:"verified_by,omitempty"`
	Verified    *time.Time `json:"verified,omitempty"`
	// Revoked is set when a lead withdraws the record (entered by mistake,
	// 注销 by the authority); RevokedBy and RevokeNote say who and why.
	Revoked    *time.Time `json:"revoked,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	RevokeNote string     `json:"revoke_note,omitempty"`
	// Superseded names the certificate that replaced this one (a renewed
	// card of the same type); a superseded certificate is history.
	Superseded string    `json:"superseded,omitempty"`
	Updated    time.Time `json:"updated"`
}

// IsVerified reports whether a lead verified the certificate.
func (c *Certificate) IsVerified() bool { return c.Verified != nil && c.VerifiedBy != "" }

// Live reports whether the certificate still counts for anything (not
// revoked, not replaced): only live certificates are swept for reminders.
func (c *Certificate) Live() bool { return c.Revoked == nil && c.Superseded == "" }

// FirstDeadline is the earliest of its expiry and next 复审 (zero if
// neither is set); the due index is ordered by it.
func (c *Certificate) FirstDeadline() Date {
	switch {
	case c.ValidUntil.IsZero():
		return c.NextReview
	case c.NextReview.IsZero() || c.ValidUntil.Before(c.NextReview):
		return c.ValidUntil
	}
	return c.NextReview
}

// CertStatus is a certificate's standing on a day.
type CertStatus string

// Certificate statuses, in the order Status tests them.
const (
	CertRevoked       CertStatus = "revoked"
	CertPending       CertStatus = "pending" // submitted, not yet verified
	CertNotYetValid   CertStatus = "not_yet_valid"
	CertExpired       CertStatus = "expired"        // the day after valid until
	CertReviewOverdue CertStatus = "review_overdue" // the day after the 复审 date
	CertReviewDue     CertStatus = "review_due"     // inside the application window of a deadline
	CertValid         CertStatus = "valid"
)

// Qualifies reports whether a certificate of this status counts for a job.
func (s CertStatus) Qualifies() bool { return s == CertValid || s == CertReviewDue }

// Status is the certificate's standing on day today, under its type's rules
// (only the application window, for CertReviewDue, depends on them).
func (c *Certificate) Status(ct CertType, today Date) CertStatus {
	switch {
	case c.Revoked != nil || c.Superseded != "":
		return CertRevoked
	case !c.IsVerified():
		return CertPending
	case !c.Issued.IsZero() && today.Before(c.Issued):
		return CertNotYetValid
	case !c.ValidUntil.IsZero() && today.After(c.ValidUntil):
		return CertExpired
	case !c.NextReview.IsZero() && today.After(c.NextReview):
		return CertReviewOverdue
	}
	for _, due := range []Date{c.ValidUntil, c.NextReview} {
		if !due.IsZero() && !today.Before(ct.applyFrom(due)) {
			return CertReviewDue
		}
	}
	return CertValid
}

// StatusOf is c's status on the day of now in loc under its type's rules
// (for /staff and the certificate list).
func (r *QualRules) StatusOf(c *Certificate, now time.Time, loc *time.Location) CertStatus {
	ct, _ := r.CertType(c.Type)
	return c.Status(ct, DateOf(now, loc))
}

// Requirement is what a job needs: a skill at a minimum level and, where
// the law requires it, a certificate type. A soft requirement only warns.
type Requirement struct {
	Skill string // SkillDef key; "" for none
	Level string // SkillLevel key; "" means the lowest level
	Cert  string // CertType key; "" for none
	Soft  bool
}

// IsZero reports whether the requirement asks for nothing.
func (r Requirement) IsZero() bool { return r.Skill == "" && r.Cert == "" }

// Merge returns r with every field o sets taking o's value: an emergency
// type's requirement refines its category's.
func (r Requirement) Merge(o Requirement) Requirement {
	if o.Skill != "" {
		r.Skill, r.Level = o.Skill, o.Level
	}
	if o.Cert != "" {
		r.Cert = o.Cert
	}
	if !o.IsZero() {
		r.Soft = o.Soft
	}
	return r
}

// QualRules are the qualification rules from the configuration: the skill
// ladder, the skills, the certificate types and what each fault category
// and emergency type needs.
type QualRules struct {
	// Levels lowest first (default 初级, 中级, 高级).
	Levels    []SkillLevel
	Skills    []SkillDef
	CertTypes []CertType
	// Categories maps a category key to its requirement.
	Categories map[string]Requirement
	// Emergencies maps an emergency type key to its requirement, which
	// refines the requirement of the category it files under.
	Emergencies map[string]Requirement
	// ReminderDays are the days before a deadline a reminder goes out
	// (default 60, 30, 7, 1); the start of each type's application window
	// is one more.
	ReminderDays []int
	// SOPSessionRequired: a new SOP version also needs a training session
	// besides the acknowledgement and quiz (self-study).
	SOPSessionRequired bool
}

// DefaultSkillLevels is the built-in ladder.
func DefaultSkillLevels() []SkillLevel {
	return []SkillLevel{
		{Key: "junior", Labels: Label{LangZH: "初级", LangEN: "junior"}},
		{Key: "intermediate", Labels: Label{LangZH: "中级", LangEN: "intermediate"}},
		{Key: "senior", Labels: Label{LangZH: "高级", LangEN: "senior"}},
	}
}

// DefaultReminderDays are the built-in reminder offsets.
func DefaultReminderDays() []int { return []int{60, 30, 7, 1} }

// Validate checks that the rules are consistent (the configuration's
// Validate names the bad key; this guards other callers).
func (r *QualRules) Validate() error {
	if len(r.Levels) == 0 {
		return errors.New("flows: at least one skill level is required")
	}
	levels, skills, certs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range r.Levels {
		if l.Key == "" || levels[l.Key] {
			return fmt.Errorf("flows: skill level %q is empty or duplicate", l.Key)
		}
		levels[l.Key] = true
	}
	for _, s := range r.Skills {
		skills[s.Key] = true
	}
	for _, ct := range r.CertTypes {
		if ct.Key == "" || certs[ct.Key] {
			return fmt.Errorf("flows: certificate type %q is empty or duplicate", ct.Key)
		}
		if ct.ValidYears < 0 || ct.ReviewYears < 0 || ct.ApplyMonths < 0 || ct.ApplyDays < 0 || ct.RefresherHours < 0 {
			return fmt.Errorf("flows: certificate type %q has a negative period", ct.Key)
		}
		certs[ct.Key] = true
	}
	for _, d := range r.ReminderDays {
		if d < 1 {
			return fmt.Errorf("flows: reminder day %d must be at least 1", d)
		}
	}
	check := func(what, key string, q Requirement) error {
		if q.Skill != "" && !skills[q.Skill] {
			return fmt.Errorf("flows: %s %q needs unknown skill %q", what, key, q.Skill)
		}
		if q.Level != "" && !levels[q.Level] {
			return fmt.Errorf("flows: %s %q needs unknown level %q", what, key, q.Level)
		}
		if q.Cert != "" && !certs[q.Cert] {
			return fmt.Errorf("flows: %s %q needs unknown certificate type %q", what, key, q.Cert)
		}
		return nil
	}
	for k, q := range r.Categories {
		if err := check("category", k, q); err != nil {
			return err
		}
	}
	for k, q := range r.Emergencies {
		if err := check("emergency", k, q); err != nil {
			return err
		}
	}
	return nil
}

// Need is the requirement of a job in category with emergency type
// emergency ("" for none).
func (r *QualRules) Need(category, emergency string) Requirement {
	q := r.Categories[category]
	if emergency != "" {
		q = q.Merge(r.Emergencies[emergency])
	}
	return q
}

// NeedOf is the requirement of a ticket.
func (r *QualRules) NeedOf(t *Ticket) Requirement { return r.Need(t.Category, t.Emergency) }

// CertType returns the type with key k.
func (r *QualRules) CertType(k string) (CertType, bool) {
	for _, ct := range r.CertTypes {
		if ct.Key == k {
			return ct, true
		}
	}
	return CertType{}, false
}

// rank is the position of level k on the ladder, -1 when unknown (a level
// removed from the configuration qualifies for nothing).
func (r *QualRules) rank(k string) int {
	for i, l := range r.Levels {
		if l.Key == k {
			return i
		}
	}
	return -1
}

// Level returns the level with key k.
func (r *QualRules) Level(k string) (SkillLevel, bool) {
	if i := r.rank(k); i >= 0 {
		return r.Levels[i], true
	}
	return SkillLevel{}, false
}

// minLevel is the level a requirement asks for (its own, or the lowest).
func (r *QualRules) minLevel(q Requirement) string {
	if q.Level != "" || len(r.Levels) == 0 {
		return q.Level
	}
	return r.Levels[0].Key
}

// LevelLabel labels a level key (the key itself when unknown).
func (r *QualRules) LevelLabel(k string) Label {
	if l, ok := r.Level(k); ok {
		return l.Labels
	}
	return Label{LangZH: k}
}

// SkillLabel labels a skill key (the key itself when unknown).
func (r *QualRules) SkillLabel(k string) Label {
	for _, s := range r.Skills {
		if s.Key == k {
			return s.Labels
		}
	}
	return Label{LangZH: k}
}

// CertLabel labels a certificate type key (the key itself when unknown).
func (r *QualRules) CertLabel(k string) Label {
	if ct, ok := r.CertType(k); ok {
		return ct.Labels
	}
	return Label{LangZH: k}
}

// Reason is why a person does or does not qualify: a catalog key (prefix
// "quals.") and its name/value arguments. Label arguments are rendered in
// the reader's language by Args or Text.
type Reason struct {
	Key  string
	Args []any
}

// IsZero reports whether there is no reason (qualified, nothing to say).
func (r Reason) IsZero() bool { return r.Key == "" }

// Arg returns the argument with that name (nil when absent), for tests
// and renderers.
func (r Reason) Arg(name string) any {
	for i := 0; i+1 < len(r.Args); i += 2 {
		if r.Args[i] == name {
			return r.Args[i+1]
		}
	}
	return nil
}

// LocalArgs returns the arguments with every Label rendered in lang.
func (r Reason) LocalArgs(lang Lang) []any { return LocalArgs(r.Args, lang) }

// LocalArgs returns catalog arguments with every Label rendered in lang.
// The errors of the qualification operations carry Labels (a certificate
// type's name in each language): render them with this before Texts.T.
func LocalArgs(args []any, lang Lang) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if l, ok := a.(Label); ok {
			a = l.In(lang)
		}
		out[i] = a
	}
	return out
}

// Text renders the reason in lang.
func (r Reason) Text(t Texts, lang Lang) string { return t.T(lang, r.Key, r.LocalArgs(lang)...) }

// Err is the refusal as a user-safe error, for a handler to return (the
// engine renders it in the sender's language, who is the person refused).
func (r Reason) Err(lang Lang) *Error { return Errorf(CodeForbidden, r.Key, r.LocalArgs(lang)...) }

// Qualify decides whether person p may take a job that needs q, from the
// person's certificates and skills, on the calendar day of now in loc.
// ok false means refuse, with reason saying why and what to do. For a
// soft requirement that is not met ok is true and reason is the warning
// to show; when everything is met reason is zero. Records of other people
// in certs or skills are ignored. Pure: no store, no clock.
func (r *QualRules) Qualify(p *Person, q Requirement, certs []*Certificate, skills []Skill, now time.Time, loc *time.Location) (ok bool, reason Reason) {
	if q.IsZero() {
		return true, Reason{}
	}
	if p == nil {
		return false, Reason{Key: "quals.unknown_person"}
	}
	why := r.unmet(p, q, certs, skills, DateOf(now, loc))
	if why.IsZero() {
		return true, Reason{}
	}
	return q.Soft, why
}

// unmet is the first unmet part of q (skill first, then certificate), or zero.
func (r *QualRules) unmet(p *Person, q Requirement, certs []*Certificate, skills []Skill, today Date) Reason {
	if q.Skill != "" {
		need := r.minLevel(q)
		args := []any{"skill", r.SkillLabel(q.Skill), "level", r.LevelLabel(need)}
		var have *Skill
		for i := range skills {
			if skills[i].PersonID == p.ID && skills[i].Skill == q.Skill {
				have = &skills[i]
			}
		}
		switch {
		case have == nil:
			return Reason{Key: "quals.need_skill", Args: args}
		case r.rank(have.Level) < r.rank(need) || r.rank(have.Level) < 0:
			return Reason{Key: "quals.need_level", Args: append(args, "have", r.LevelLabel(have.Level))}
		}
	}
	if q.Cert != "" {
		return r.certUnmet(p, q.Cert, certs, today)
	}
	return Reason{}
}

// certUnmet explains the most useful failure among the person's
// certificates of type k, or returns zero when one qualifies. A card
// waiting for verification is the most useful news (the fix is on its
// way), then one not yet valid, then an overdue 复审, then an expiry,
// then a revoked card; among equals the later deadline wins.
func (r *QualRules) certUnmet(p *Person, k string, certs []*Certificate, today Date) Reason {
	ct, _ := r.CertType(k)
	label := r.CertLabel(k)
	order := map[CertStatus]int{CertPending: 1, CertNotYetValid: 2, CertReviewOverdue: 3, CertExpired: 4, CertRevoked: 5}
	var best *Certificate
	var bestSt CertStatus
	for _, c := range certs {
		if c.PersonID != p.ID || c.Type != k {
			continue
		}
		st := c.Status(ct, today)
		if st.Qualifies() {
			return Reason{}
		}
		if best == nil || order[st] < order[bestSt] || (order[st] == order[bestSt] && best.FirstDeadline().Before(c.FirstDeadline())) {
			best, bestSt = c, st
		}
	}
	args := []any{"cert", label}
	if best == nil {
		return Reason{Key: "quals.need_cert", Args: args}
	}
	switch bestSt {
	case CertPending:
		return Reason{Key: "quals.cert_pending", Args: args}
	case CertNotYetValid:
		return Reason{Key: "quals.cert_not_yet_valid", Args: append(args, "date", best.Issued.String())}
	case CertReviewOverdue:
		return Reason{Key: "quals.cert_review_overdue", Args: append(args, "date", best.NextReview.String())}
	case CertExpired:
		return Reason{Key: "quals.cert_expired", Args: append(args, "date", best.ValidUntil.String())}
	}
	return Reason{Key: "quals.cert_revoked", Args: args}
}

// QualifyTx is Qualify reading the person's certificates and skills from
// tx: the one call the accept gate makes inside the accept transaction.
func (r *QualRules) QualifyTx(tx QualsTx, p *Person, q Requirement, now time.Time, loc *time.Location) (bool, Reason, error) {
	if q.IsZero() {
		return true, Reason{}, nil
	}
	if p == nil {
		ok, why := r.Qualify(nil, q, nil, nil, now, loc)
		return ok, why, nil
	}
	var skills []Skill
	var certs []*Certificate
	var err error
	if q.Skill != "" {
		if skills, err = tx.Skills(p.ID); err != nil {
			return false, Reason{}, err
		}
	}
	if q.Cert != "" {
		if certs, err = tx.CertsByPerson(p.ID); err != nil {
			return false, Reason{}, err
		}
	}
	ok, why := r.Qualify(p, q, certs, skills, now, loc)
	return ok, why, nil
}

// NeedText describes a requirement for the dispatch card ("needs
// electricity 中级+ · 低压电工作业证"); zero when q asks for nothing.
func (r *QualRules) NeedText(q Requirement) Reason {
	switch {
	case q.IsZero():
		return Reason{}
	case q.Skill != "" && q.Cert != "":
		return Reason{Key: "quals.needs_skill_cert", Args: []any{"skill", r.SkillLabel(q.Skill), "level", r.LevelLabel(r.minLevel(q)), "cert", r.CertLabel(q.Cert)}}
	case q.Skill != "":
		return Reason{Key: "quals.needs_skill", Args: []any{"skill", r.SkillLabel(q.Skill), "level", r.LevelLabel(r.minLevel(q))}}
	}
	return Reason{Key: "quals.needs_cert", Args: []any{"cert", r.CertLabel(q.Cert)}}
}

// defaults fills what the engine needs of rules left zero: the default
// ladder and reminder days, and one skill per fault category (labelled
// like it) when no skills are given; then the rules must be consistent.
func (r *QualRules) defaults(cats []Category) error {
	if len(r.Levels) == 0 {
		r.Levels = DefaultSkillLevels()
	}
	if r.ReminderDays == nil {
		r.ReminderDays = DefaultReminderDays()
	}
	if len(r.Skills) == 0 {
		for _, c := range cats {
			r.Skills = append(r.Skills, SkillDef{Key: c.Key, Labels: Label(c.Labels)})
		}
	}
	return r.Validate()
}

// quals are the engine's qualification rules.
func (e *Engine) quals() *QualRules { return &e.o.Quals }
