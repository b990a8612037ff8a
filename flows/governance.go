package flows

import (
	"strconv"
	"time"
)

// The SOP's own life cycle (the source's framework, method and review
// clauses): versions with computed change summaries (sop_versions.go),
// acknowledgements with a short quiz (quiz.go), yearly and triggered
// reviews with suggestions and a report (reviews.go), tracked improvement
// actions (actions.go), complaints that trigger reviews (complaints.go),
// and a monthly audit sample of finished work (audit.go). This file holds
// their options and the timers that keep the yearly review and the audit
// scheduled.

// GovernanceOptions configure the SOP's governance.
type GovernanceOptions struct {
	// ReviewRoles take part in every review (default technician, lead, dispatcher).
	ReviewRoles []Role
	// ReviewDeadline is how long a review stays open (default 14 days).
	ReviewDeadline time.Duration
	// TriggerWindow groups triggers into one review (default 7 days).
	TriggerWindow time.Duration
	// YearlyMonth and YearlyDay open the yearly review (default 1-15).
	YearlyMonth time.Month
	YearlyDay   int
	// SafetyTypes are emergency keys that count as safety incidents.
	SafetyTypes []string
	// AuditCount is the monthly audit sample size (0 disables the audit).
	AuditCount int
	// Quiz asks up to three questions before an acknowledgement counts.
	Quiz bool
	// LoadSOP re-reads the definition for /sop reload.
	LoadSOP func() (*SOP, error)
}

func (g *GovernanceOptions) defaults() {
	if len(g.ReviewRoles) == 0 {
		g.ReviewRoles = []Role{RoleTechnician, RoleLead, RoleDispatcher}
	}
	if g.ReviewDeadline <= 0 {
		g.ReviewDeadline = 14 * 24 * time.Hour
	}
	if g.TriggerWindow <= 0 {
		g.TriggerWindow = 7 * 24 * time.Hour
	}
	if g.YearlyMonth == 0 {
		g.YearlyMonth = time.January
	}
	if g.YearlyDay == 0 {
		g.YearlyDay = 15
	}
}

// ensureGovernance keeps the next yearly review and monthly audit scheduled.
func (c *call) ensureGovernance() error {
	g := c.e.o.Governance
	loc := c.e.o.Location
	local := c.now.In(loc)
	for y := local.Year(); y <= local.Year()+1; y++ {
		due := time.Date(y, g.YearlyMonth, g.YearlyDay, 9, 0, 0, 0, loc)
		if due.After(c.now) {
			if err := c.tx.PutTimer(Timer{Key: tmYearly + ":" + strconv.Itoa(y), Due: due.UTC(), Kind: tmYearly, Year: y}); err != nil {
				return err
			}
			break
		}
	}
	if g.AuditCount > 0 {
		next := time.Date(local.Year(), local.Month()+1, 1, 9, 0, 0, 0, loc)
		month := next.AddDate(0, -1, 0).Format("200601")
		if err := c.tx.PutTimer(Timer{Key: tmAudit + ":" + month, Due: next.UTC(), Kind: tmAudit, Month: month}); err != nil {
			return err
		}
	}
	return nil
}
