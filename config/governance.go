package config

import (
	"fmt"
	"strings"
	"time"
)

// Governance configures the SOP's own life cycle: reviews, their
// participants and deadlines, the acknowledgement quiz and the audit.
type Governance struct {
	// YearlyReview is the month and day ("MM-DD") the yearly full review
	// opens (SOP review clause 1: at least once a year). Default "01-15".
	YearlyReview string `toml:"yearly_review"`
	// ReviewDeadline is how long a review stays open before it escalates
	// to the administrators, 1 day..90 days (default 14 days).
	ReviewDeadline Duration `toml:"review_deadline"`
	// TriggerWindow groups triggering events (complaints, emergency SLA
	// breaches, safety incidents, repeat failures) into one review,
	// 1h..90 days (default 7 days).
	TriggerWindow Duration `toml:"trigger_window"`
	// ReviewRoles take part in every review: technician, lead, dispatcher,
	// admin (default technician, lead, dispatcher).
	ReviewRoles []string `toml:"review_roles"`
	// SafetyTypes are emergency keys that count as safety incidents and
	// open a review at once (default safety, gas, fire).
	SafetyTypes []string `toml:"safety_types"`
	// Quiz asks up to three questions from the definition before an
	// acknowledgement of a new SOP version counts (default true).
	Quiz bool `toml:"quiz"`
	// AuditCount is the monthly audit sample of finished tickets of each
	// area, 0..100 (0 disables the audit; default 5).
	AuditCount int `toml:"audit_count"`
}

// DefaultGovernance is the built-in governance.
func DefaultGovernance() Governance {
	return Governance{
		YearlyReview:   "01-15",
		ReviewDeadline: Duration{14 * 24 * time.Hour},
		TriggerWindow:  Duration{7 * 24 * time.Hour},
		ReviewRoles:    []string{"technician", "lead", "dispatcher"},
		SafetyTypes:    []string{"safety", "gas", "fire"},
		Quiz:           true,
		AuditCount:     5,
	}
}

// YearlyReviewDate returns the month and day of the yearly review.
func (g Governance) YearlyReviewDate() (time.Month, int) {
	t, err := time.Parse("01-02", g.YearlyReview)
	if err != nil {
		return time.January, 15
	}
	return t.Month(), t.Day()
}

func (c *Config) validateGovernance(v *validator) {
	g := c.Governance
	if _, err := time.Parse("01-02", g.YearlyReview); err != nil {
		v.add("governance.yearly_review", "must be a month and day as MM-DD, e.g. \"01-15\" (got %q)", g.YearlyReview)
	}
	v.durRange("governance.review_deadline", g.ReviewDeadline, 24*time.Hour, 90*24*time.Hour)
	v.durRange("governance.trigger_window", g.TriggerWindow, time.Hour, 90*24*time.Hour)
	v.intRange("governance.audit_count", int64(g.AuditCount), 0, 100)
	if len(g.ReviewRoles) == 0 {
		v.add("governance.review_roles", "at least one role is required")
	}
	for i, r := range g.ReviewRoles {
		switch r {
		case "technician", "lead", "dispatcher", "admin":
		default:
			v.add(fmt.Sprintf("governance.review_roles[%d]", i), "must be technician, lead, dispatcher or admin (got %q)", r)
		}
	}
	known := map[string]bool{}
	for _, e := range c.Emergencies {
		known[e.Key] = true
	}
	// The default list may name emergencies a deployment replaced; only a
	// list the operator wrote must name configured emergencies.
	if strings.Join(g.SafetyTypes, ",") == strings.Join(DefaultGovernance().SafetyTypes, ",") {
		return
	}
	for i, k := range g.SafetyTypes {
		if !known[k] {
			v.add(fmt.Sprintf("governance.safety_types[%d]", i), "names no configured emergency (got %q)", k)
		}
	}
}
