package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

func TestGovernanceDefaultsAndProblems(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	base := "[telegram]\ngroup_id = -100123\nadmins = [1]\n"
	c, err := config.Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if m, d := c.Governance.YearlyReviewDate(); m != time.January || d != 15 || !c.Governance.Quiz || c.Governance.AuditCount != 5 {
		t.Fatalf("defaults %+v", c.Governance)
	}
	for _, tc := range []struct{ snippet, want string }{
		{"[governance]\nyearly_review = \"13-40\"\n", "governance.yearly_review"},
		{"[governance]\nreview_roles = [\"janitor\"]\n", "governance.review_roles[0]"},
		{"[governance]\nsafety_types = [\"meteor\"]\n", "governance.safety_types[0]"},
		{"[governance]\naudit_count = 1000\n", "governance.audit_count"},
		{"[governance]\nreview_deadline = \"1h\"\n", "governance.review_deadline"},
	} {
		_, err := config.Parse([]byte(base + tc.snippet))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %s", tc.snippet, err, tc.want)
		}
	}
}

// TestPartsApprovalOver: the requisition limit is yuan with at most two
// decimals, read as fen; a bad value is named.
func TestPartsApprovalOver(t *testing.T) {
	for _, c := range []struct {
		in  string
		fen int64
		ok  bool
	}{{"500.00", 50000, true}, {"0", 0, true}, {"12.5", 1250, true}, {"100000", 10000000, true},
		{"-1", 0, false}, {"1.234", 0, false}, {"abc", 0, false}, {"100000.01", 0, false}, {"", 0, false}} {
		cfg := config.Default()
		cfg.Parts.ApprovalOver = c.in
		err := cfg.Validate()
		named := err != nil && strings.Contains(err.Error(), "parts.approval_over")
		if named == c.ok {
			t.Errorf("approval_over %q: error naming it = %v, want %v (%v)", c.in, named, !c.ok, err)
		}
		if c.ok && cfg.Parts.ApprovalOverFen() != c.fen {
			t.Errorf("approval_over %q = %d fen, want %d", c.in, cfg.Parts.ApprovalOverFen(), c.fen)
		}
	}
}
