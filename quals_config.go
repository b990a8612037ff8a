package main

import (
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// qualRules maps the qualification settings of a validated configuration
// to the rules the engine applies: the skill ladder, one skill per fault
// category, the certificate types, and what each category and emergency
// type needs.
func qualRules(cfg config.Config) flows.QualRules {
	label := func(zh, en string) flows.Label { return flows.Label{flows.LangZH: zh, flows.LangEN: en} }
	need := func(n config.Needs) flows.Requirement {
		return flows.Requirement{Skill: n.NeedsSkill, Level: n.NeedsLevel, Cert: n.NeedsCert, Soft: n.NeedsSoft}
	}
	r := flows.QualRules{
		Categories:         map[string]flows.Requirement{},
		Emergencies:        map[string]flows.Requirement{},
		ReminderDays:       append([]int(nil), cfg.People.ReminderDays...),
		SOPSessionRequired: cfg.People.SOPSessionRequired,
	}
	for _, l := range cfg.SkillLevels {
		r.Levels = append(r.Levels, flows.SkillLevel{Key: l.Key, Labels: label(l.ZH, l.EN)})
	}
	for _, ct := range cfg.CertTypes {
		months, days, _ := config.ParsePeriod(ct.ApplyAhead) // Validate checked it
		r.CertTypes = append(r.CertTypes, flows.CertType{Key: ct.Key, Labels: label(ct.ZH, ct.EN), Class: flows.CertClass(ct.Class),
			ValidYears: ct.ValidYears, ReviewYears: ct.ReviewYears, ApplyMonths: months, ApplyDays: days, RefresherHours: ct.RefresherHours})
	}
	for _, c := range cfg.Categories {
		r.Skills = append(r.Skills, flows.SkillDef{Key: c.Key, Labels: label(c.ZH, c.EN)})
		if !c.Needs.IsZero() {
			r.Categories[c.Key] = need(c.Needs)
		}
	}
	for _, e := range cfg.Emergencies {
		if !e.Needs.IsZero() {
			r.Emergencies[e.Key] = need(e.Needs)
		}
	}
	return r
}

// dutySeed maps the configured roster ([[duty]]) to the weekly pattern
// the store starts with: one shift per weekday it starts on. From then on
// the pattern is edited in chat; a changed [[duty]] does not replace it.
func dutySeed(cfg config.Config) []flows.RosterShift {
	var out []flows.RosterShift
	for _, s := range cfg.Duty {
		from, _ := config.ParseClock(s.From) // Validate checked them
		to, _ := config.ParseClock(s.To)
		people := make([]string, len(s.People))
		for i, p := range s.People {
			people[i] = string(p)
		}
		for _, d := range s.Weekdays() {
			out = append(out, flows.RosterShift{Day: d, From: from, To: to, People: people, Area: shiftArea(cfg, s)})
		}
	}
	return out
}
