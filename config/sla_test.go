package config_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
)

func TestStuckVisitTimers(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SLA.SignoffRemind.Hours() != 24 || cfg.SLA.SignoffCloseAfter.Hours() != 72 || cfg.SLA.SurveyCloseAfter.Hours() != 72 {
		t.Fatalf("defaults %+v", cfg.SLA)
	}
	if _, err := config.Parse([]byte(minimal + "\n[sla]\nsignoff_remind = \"0s\"\nsignoff_close_after = \"0s\"\n")); err != nil {
		t.Fatalf("off must be allowed: %v", err)
	}
	for _, tc := range []struct{ doc, want string }{
		{"signoff_remind = \"48h\"\nsignoff_close_after = \"24h\"\n", "sla.signoff_close_after: must be 0 (never) or at least sla.signoff_remind"},
		{"survey_close_after = \"1000h\"\n", "sla.survey_close_after"},
		{"survey_remind = \"-1h\"\n", "sla.survey_remind"},
	} {
		if _, err := config.Parse([]byte(minimal + "\n[sla]\n" + tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}
