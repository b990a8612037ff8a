package flows

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Deadline kinds of a certificate.
const (
	DeadlineExpiry = "expiry" // valid until
	DeadlineReview = "review" // next 复审
)

// markLapsed ends a reminder mark for the notice sent the day after a deadline.
const markLapsed = "lapsed"

// ReminderMarks are the reminders already sent for one certificate, by
// mark (see Reminder.Mark), with the time each was sent.
type ReminderMarks map[string]time.Time

// Reminder is one expiry or 复审 reminder that is due for a certificate.
// Whoever sends it calls MarkCertReminder(CertID, Mark, now) in the same
// transaction, and it is never due again.
type Reminder struct {
	CertID   string
	PersonID string
	Type     string // certificate type key
	Deadline string // DeadlineExpiry or DeadlineReview
	Due      Date
	// Days left until the deadline (0: the deadline is today); meaningless
	// when Lapsed.
	Days int
	// Lapsed: the deadline has passed (this is the day after it or later).
	// From now on the certificate does not qualify: the holder is out of
	// the jobs that need it, the leads are told, and the holder's open
	// jobs that need it go back to the group.
	Lapsed bool
	// Mark identifies the reminder: deadline, deadline date and milestone
	// ("review:2026-10-01:30", "expiry:2026-10-01:lapsed"). A renewed
	// deadline has new marks, so its reminders start over.
	Mark string
	// Holder is the text for the certificate's holder.
	Holder Reason
	// Leads is the text for the leads; it names the holder by the
	// argument "name", which the sender fills (WithName).
	Leads Reason
}

// WithName returns the leads' text naming the holder.
func (rm Reminder) WithName(name string) Reason {
	args := make([]any, 0, len(rm.Leads.Args)+2)
	for i := 0; i+1 < len(rm.Leads.Args); i += 2 {
		if rm.Leads.Args[i] != "name" {
			args = append(args, rm.Leads.Args[i], rm.Leads.Args[i+1])
		}
	}
	return Reason{Key: rm.Leads.Key, Args: append(args, "name", name)}
}

// milestones are the days before a deadline of type ct at which a
// reminder goes out, largest first: the configured days and the start of
// the application window.
func (r *QualRules) milestones(ct CertType, due Date) []int {
	set := map[int]bool{}
	for _, d := range r.ReminderDays {
		if d > 0 {
			set[d] = true
		}
	}
	if w := ct.applyFrom(due).DaysUntil(due); w > 0 {
		set[w] = true
	}
	out := make([]int, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

// maxLead is the furthest ahead any reminder can fall, in days: how far
// ahead the daily sweep reads the due index.
func (r *QualRules) maxLead() int {
	n := 0
	for _, d := range r.ReminderDays {
		n = max(n, d)
	}
	for _, ct := range r.CertTypes {
		n = max(n, ct.ApplyMonths*31+ct.ApplyDays)
	}
	return n
}

// certDeadline is one deadline of a certificate.
type certDeadline struct {
	kind string
	due  Date
}

// deadlines are the certificate's deadlines that can be reminded of: its
// expiry, and its 复审 unless that falls on or after the expiry (then the
// expiry is the one to act on).
func (c *Certificate) deadlines() []certDeadline {
	var out []certDeadline
	if !c.ValidUntil.IsZero() {
		out = append(out, certDeadline{DeadlineExpiry, c.ValidUntil})
	}
	if !c.NextReview.IsZero() && (c.ValidUntil.IsZero() || c.NextReview.Before(c.ValidUntil)) {
		out = append(out, certDeadline{DeadlineReview, c.NextReview})
	}
	return out
}

// DueReminders says which reminders are due for certificate c on the day
// of now in loc, given the marks already sent: for each deadline at most
// one — the most urgent milestone reached (60, 30, 7, 1 days and the
// application window by default) unless it or a later one was sent, or,
// from the day after the deadline, the lapse notice once. After a restart
// or a missed day the skipped milestones are not sent late: only the most
// urgent one. Unverified, revoked and replaced certificates get none, and
// once a certificate has expired its 复审 is not reminded of. Pure.
func (r *QualRules) DueReminders(c *Certificate, sent ReminderMarks, now time.Time, loc *time.Location) []Reminder {
	if !c.Live() || !c.IsVerified() {
		return nil
	}
	ct, _ := r.CertType(c.Type)
	today := DateOf(now, loc)
	expired := !c.ValidUntil.IsZero() && today.After(c.ValidUntil)
	var out []Reminder
	for _, dl := range c.deadlines() {
		if expired && dl.kind == DeadlineReview {
			continue
		}
		prefix := dl.kind + ":" + dl.due.String() + ":"
		rm := Reminder{CertID: c.ID, PersonID: c.PersonID, Type: c.Type, Deadline: dl.kind, Due: dl.due, Days: today.DaysUntil(dl.due)}
		args := []any{"cert", r.CertLabel(c.Type), "number", c.Number, "date", dl.due.String()}
		if rm.Days < 0 {
			rm.Lapsed, rm.Mark = true, prefix+markLapsed
			if _, done := sent[rm.Mark]; done {
				continue
			}
			rm.Holder = Reason{Key: "quals.lapsed_" + dl.kind + "_holder", Args: args}
			rm.Leads = Reason{Key: "quals.lapsed_" + dl.kind + "_leads", Args: args}
			out = append(out, rm)
			continue
		}
		reached := -1
		for _, m := range r.milestones(ct, dl.due) {
			if m >= rm.Days {
				reached = m // the list is largest first: the last hit is the most urgent
			}
		}
		if reached < 0 || coveredBy(sent, prefix, reached) {
			continue
		}
		rm.Mark = prefix + strconv.Itoa(reached)
		args = append(args, "days", rm.Days, "apply", ct.applyFrom(dl.due).String())
		rm.Holder = Reason{Key: "quals.remind_" + dl.kind + "_holder", Args: args}
		rm.Leads = Reason{Key: "quals.remind_" + dl.kind + "_leads", Args: args}
		out = append(out, rm)
	}
	return out
}

// coveredBy reports whether a reminder at milestone m (or a more urgent
// one, or the lapse notice) was sent for the deadline the prefix names.
func coveredBy(sent ReminderMarks, prefix string, m int) bool {
	for k := range sent {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if rest == markLapsed {
			return true
		}
		if n, err := strconv.Atoi(rest); err == nil && n <= m {
			return true
		}
	}
	return false
}
