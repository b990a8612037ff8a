package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
)

// The example file shows the qualification defaults, like every other section.
func TestPeopleExampleShowsDefaults(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Load(examplePth)
	if err != nil {
		t.Fatalf("example file does not load:\n%v", err)
	}
	def := config.Default()
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"skill_levels", cfg.SkillLevels, def.SkillLevels},
		{"cert_types", cfg.CertTypes, def.CertTypes},
		{"people", cfg.People, def.People},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("[%s] in example differs from defaults:\n got %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
	for _, cat := range cfg.Categories {
		if !cat.Needs.IsZero() {
			t.Errorf("category %s needs %+v by default; defaults need nothing", cat.Key, cat.Needs)
		}
	}
}

func TestPeopleDefaults(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range cfg.SkillLevels {
		keys = append(keys, l.ZH)
	}
	if got := strings.Join(keys, ","); got != "初级,中级,高级" {
		t.Errorf("levels %s", got)
	}
	elec, ok := cfg.CertType("elec_low_voltage")
	if !ok || elec.ValidYears != 6 || elec.ReviewYears != 3 || elec.ApplyAhead != "60d" || elec.Class != config.CertClassSpecialOperation || elec.RefresherHours != 8 {
		t.Errorf("低压电工作业: %+v", elec)
	}
	lift, ok := cfg.CertType("lift")
	if !ok || lift.ValidYears != 0 || lift.ReviewYears != 4 || lift.ApplyAhead != "3m" || lift.Class != config.CertClassSpecialEquipment {
		t.Errorf("lift: %+v", lift)
	}
	if !reflect.DeepEqual(cfg.People.ReminderDays, []int{60, 30, 7, 1}) || cfg.People.SweepAt != "09:00" || cfg.People.SOPSessionRequired {
		t.Errorf("people: %+v", cfg.People)
	}
}

func TestPeopleParse(t *testing.T) {
	cleanEnv(t)
	doc := minimal + `
[[skill_levels]]
key = "a"
zh = "一级"
en = "one"
[[skill_levels]]
key = "b"
zh = "二级"
en = "two"

[[cert_types]]
key = "elec"
zh = "电工证"
en = "electrician"
valid_years = 6
review_years = 3
apply_ahead = "60D"

[[categories]]
key = "electricity"
zh = "电"
en = "Power"
needs_level = "b"
needs_cert = "elec"
[[categories]]
key = "public"
zh = "公共"
en = "Public"

[[emergencies]]
key = "power_cut"
zh = "停电"
en = "Power cut"
category = "public"
needs_level = "a"
needs_soft = true

[people]
reminder_days = [90, 14]
sweep_at = "08:00"
sop_session_required = true
`
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SkillLevels) != 2 || len(cfg.CertTypes) != 1 {
		t.Fatalf("tables should replace the defaults: %d levels, %d types", len(cfg.SkillLevels), len(cfg.CertTypes))
	}
	if ct := cfg.CertTypes[0]; ct.ApplyAhead != "60d" || ct.Class != config.CertClassOther {
		t.Errorf("normalised type: %+v", ct)
	}
	want := config.Needs{NeedsSkill: "electricity", NeedsLevel: "b", NeedsCert: "elec"}
	if cfg.Categories[0].Needs != want {
		t.Errorf("category needs %+v, want %+v (needs_level alone is about the category's own skill)", cfg.Categories[0].Needs, want)
	}
	wantEm := config.Needs{NeedsSkill: "public", NeedsLevel: "a", NeedsSoft: true}
	if cfg.Emergencies[0].Needs != wantEm {
		t.Errorf("emergency needs %+v, want %+v (its category's skill)", cfg.Emergencies[0].Needs, wantEm)
	}
	if !reflect.DeepEqual(cfg.People.ReminderDays, []int{90, 14}) || cfg.People.SweepAt != "08:00" || !cfg.People.SOPSessionRequired {
		t.Errorf("people %+v", cfg.People)
	}

	// No certificate types at all is allowed.
	cfg, err = config.Parse([]byte("cert_types = []\n" + minimal))
	if err != nil || len(cfg.CertTypes) != 0 {
		t.Fatalf("cert_types = []: %v, %d types", err, len(cfg.CertTypes))
	}
}

func TestPeopleParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in           string
		months, days int
		ok           bool
	}{
		{"", 0, 0, true}, {"60d", 0, 60, true}, {"3m", 3, 0, true}, {"366d", 0, 366, true}, {"12m", 12, 0, true},
		{"0d", 0, 0, false}, {"367d", 0, 0, false}, {"13m", 0, 0, false}, {"3 months", 0, 0, false}, {"2y", 0, 0, false}, {"-5d", 0, 0, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			m, d, err := config.ParsePeriod(c.in)
			if (err == nil) != c.ok || m != c.months || d != c.days {
				t.Errorf("ParsePeriod(%q) = %d, %d, %v", c.in, m, d, err)
			}
		})
	}
}

// Each bad value is reported once, on its own key.
func TestPeopleProblems(t *testing.T) {
	elec := "[[categories]]\nkey = \"electricity\"\nzh = \"电\"\nen = \"Power\"\n"
	emergencyOK := "emergencies = []\n"
	for _, c := range []struct {
		name, top, toml, key, reason string
	}{
		{"unknown cert type on a category", emergencyOK, elec + "needs_cert = \"elec\"\n", "categories[0].needs_cert", `names certificate type "elec", which is not configured (configured: "elec_low_voltage"`},
		{"unknown level on a category", emergencyOK, elec + "needs_level = \"master\"\n", "categories[0].needs_level", `names skill level "master", which is not configured (configured: "junior", "intermediate", "senior")`},
		{"unknown skill on a category", emergencyOK, elec + "needs_skill = \"gas\"\n", "categories[0].needs_skill", `names skill "gas", which is not a configured category`},
		{"soft with nothing to soften", emergencyOK, elec + "needs_soft = true\n", "categories[0].needs_soft", "no needs_skill, needs_level or needs_cert to soften"},
		{"unknown cert type on an emergency", "", "[[emergencies]]\nkey = \"lift\"\nzh = \"电梯困人\"\nen = \"Lift\"\ncategory = \"public\"\nneeds_cert = \"lift_card\"\n", "emergencies[0].needs_cert", `names certificate type "lift_card"`},
		{"no levels", "skill_levels = []\n", "", "skill_levels", "between 1 and 10"},
		{"bad level key", "", "[[skill_levels]]\nkey = \"Senior\"\nzh = \"高级\"\nen = \"senior\"\n", "skill_levels[0].key", "must match"},
		{"level label missing", "", "[[skill_levels]]\nkey = \"senior\"\nzh = \"高级\"\n", "skill_levels[0].en", "is required"},
		{"duplicate cert type", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\n[[cert_types]]\nkey = \"a\"\nzh = \"乙\"\nen = \"B\"\n", "cert_types[1].key", `duplicate key "a" (also used by cert_types[0])`},
		{"bad class", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nclass = \"special\"\n", "cert_types[0].class", `must be "special_operation", "special_equipment" or "other"`},
		{"review longer than validity", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nvalid_years = 3\nreview_years = 4\n", "cert_types[0].review_years", "at most valid_years (3)"},
		{"validity out of range", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nvalid_years = 21\n", "cert_types[0].valid_years", "between 0 and 20"},
		{"bad apply_ahead", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nreview_years = 3\napply_ahead = \"2 months\"\n", "cert_types[0].apply_ahead", `"60d" or "3m"`},
		{"apply_ahead as long as the period", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nreview_years = 1\napply_ahead = \"12m\"\n", "cert_types[0].apply_ahead", "shorter than the 1-year period"},
		{"refresher hours out of range", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nrefresher_hours = 201\n", "cert_types[0].refresher_hours", "between 0 and 200"},
		{"reminder day zero", "", "[people]\nreminder_days = [30, 0]\n", "people.reminder_days[1]", "between 1 and 365"},
		{"reminder day duplicate", "", "[people]\nreminder_days = [30, 7, 30]\n", "people.reminder_days[2]", "duplicate day 30 (also people.reminder_days[0])"},
		{"bad sweep time", "", "[people]\nsweep_at = \"9am\"\n", "people.sweep_at", "HH:MM"},
		{"typo in a cert type", "", "[[cert_types]]\nkey = \"a\"\nzh = \"甲\"\nen = \"A\"\nvalid_year = 6\n", "cert_types.valid_year", "unknown key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cleanEnv(t)
			// Top-level keys go before the first table; a case replacing the
			// categories turns emergencies off (the defaults file under "water").
			doc := c.top + minimal + c.toml
			_, err := config.Parse([]byte(doc))
			ps := config.Problems(err)
			if len(ps) != 1 {
				t.Fatalf("want one problem on %s, got %d:\n%v", c.key, len(ps), err)
			}
			if ps[0].Key != c.key || !strings.Contains(ps[0].Reason, c.reason) {
				t.Errorf("got %s: %s\nwant %s: …%s…", ps[0].Key, ps[0].Reason, c.key, c.reason)
			}
		})
	}
}

// Redacted copies the new lists, so changing the copy leaves the original.
func TestPeopleRedactedCopies(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	r.CertTypes[0].Key, r.SkillLevels[0].Key, r.People.ReminderDays[0] = "x", "x", 5
	if cfg.CertTypes[0].Key == "x" || cfg.SkillLevels[0].Key == "x" || cfg.People.ReminderDays[0] == 5 {
		t.Error("Redacted shares the qualification lists with the original")
	}
}
