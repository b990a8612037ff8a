package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

func TestRecordsDefaultsAndProblems(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	base := "[telegram]\ngroup_id = -100123\nadmins = [1]\n"
	c, err := config.Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Records
	day, at, ok := r.Weekly()
	if !ok || day != time.Monday || at != 8*60+30 || r.QCShare != 10 || !r.QC || r.CallbackAfter.Duration != 7*24*time.Hour ||
		r.CallbackAnswerWithin.Duration != 48*time.Hour || r.RepeatWithin.Duration != 30*24*time.Hour || r.ArchiveMinutes() != 30 {
		t.Fatalf("defaults %+v", r)
	}
	c, err = config.Parse([]byte(base + "[records]\nweekly_report = \"\"\ncallback_categories = { electricity = \"72h\", other = \"0s\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Records.Weekly(); ok || c.Records.CallbackCategories["electricity"].Duration != 72*time.Hour {
		t.Fatalf("weekly off and a category override: %+v", c.Records)
	}
	for _, tc := range []struct{ snippet, want string }{
		{"[records]\nweekly_report = \"monday 8am\"\n", "records.weekly_report"},
		{"[records]\nweekly_report = \"xyz 08:30\"\n", "records.weekly_report"},
		{"[records]\nqc_share = 101\n", "records.qc_share"},
		{"[records]\nrepeat_offer = \"48h\"\n", "records.repeat_offer"},
		{"[records]\nrepeat_offer = \"20m\"\n", "shorter than sla.accept_within"},
		{"[records]\ncallback_after = \"3000h\"\n", "records.callback_after"},
		{"[records]\ncallback_answer_within = \"10m\"\n", "records.callback_answer_within"},
		{"[records]\ncallback_categories = { lift = \"24h\" }\n", "records.callback_categories.lift"},
		{"[records]\narchive_at = \"25:00\"\n", "records.archive_at"},
	} {
		_, err := config.Parse([]byte(base + tc.snippet))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %s", tc.snippet, err, tc.want)
		}
	}
}
