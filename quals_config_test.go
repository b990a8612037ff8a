package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// The configuration's qualification settings reach flows intact, and what
// config.Validate accepts flows accepts too.
func TestQualRulesFromConfig(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	doc := `
[telegram]
group_id = -1001234567890
admins = [123456789]

[[categories]]
key = "electricity"
zh = "电路"
en = "Electricity"
needs_level = "intermediate"
needs_cert = "elec_low_voltage"
[[categories]]
key = "public"
zh = "公共区域"
en = "Public area"

[[emergencies]]
key = "lift"
zh = "电梯困人"
en = "Lift"
category = "public"
arrive_within = "15m"
needs_cert = "lift"
`
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := qualRules(cfg)
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.Need("electricity", ""), (flows.Requirement{Skill: "electricity", Level: "intermediate", Cert: "elec_low_voltage"}); got != want {
		t.Errorf("electricity needs %+v, want %+v", got, want)
	}
	if got, want := r.Need("public", "lift"), (flows.Requirement{Cert: "lift"}); got != want {
		t.Errorf("a lift entrapment needs %+v, want %+v", got, want)
	}
	if got := r.Need("public", ""); !got.IsZero() {
		t.Errorf("public needs %+v, want nothing", got)
	}
	lift, ok := r.CertType("lift")
	if !ok || lift.ApplyMonths != 3 || lift.ApplyDays != 0 || lift.ReviewYears != 4 || lift.Labels.In(flows.LangZH) != "特种设备作业人员证（电梯）" {
		t.Errorf("lift type %+v", lift)
	}
	elec, _ := r.CertType("elec_low_voltage")
	if elec.ApplyDays != 60 || elec.ValidYears != 6 || elec.Class != flows.ClassSpecialOperation {
		t.Errorf("elec type %+v", elec)
	}
	if !reflect.DeepEqual(r.ReminderDays, []int{60, 30, 7, 1}) || len(r.Levels) != 3 || len(r.Skills) != 2 {
		t.Errorf("rules %+v", r)
	}
}

// The configured roster becomes the weekly pattern the store is seeded
// with: a shift per day it starts on, person ids on any channel.
func TestDutySeedFromConfig(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	doc := `
[telegram]
group_id = -1001234567890
admins = [123456789]

[[duty]]
days = ["fri", "sat"]
from = "20:00"
to = "08:00"
people = [333333333, "wecom:zhangsan"]
`
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := dutySeed(cfg)
	// A file without [[areas]]: the shifts are the one area's, "main".
	want := []flows.RosterShift{
		{Day: time.Friday, From: 20 * 60, To: 8 * 60, People: []string{"tg:333333333", "wecom:zhangsan"}, Area: flows.DefaultArea},
		{Day: time.Saturday, From: 20 * 60, To: 8 * 60, People: []string{"tg:333333333", "wecom:zhangsan"}, Area: flows.DefaultArea},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("seed %+v\nwant %+v", got, want)
	}
	r := &flows.Roster{Shifts: got}
	sat7 := time.Date(2026, 11, 28, 7, 0, 0, 0, cfg.Location()) // Saturday 07:00: Friday's night shift
	if ids := r.OnDutyAt(sat7, cfg.Location()); !reflect.DeepEqual(ids, cfg.OnDuty(sat7)) {
		t.Errorf("the pattern says %v, the configuration %v", ids, cfg.OnDuty(sat7))
	}
}
