package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// This file configures the qualifications area (技术人员资质与培训): skill
// levels, certificate types with their rules, what fault categories and
// emergency types need, and reminders and training.

// SkillLevel is one rung of the skill ladder, lowest first in the file.
type SkillLevel struct {
	// Key is the stable identifier stored on skills: ^[a-z][a-z0-9_]{0,15}$,
	// unique. Do not rename a key once skills are recorded.
	Key string `toml:"key"`
	// ZH is the Chinese label (required, at most 16 characters).
	ZH string `toml:"zh"`
	// EN is the English label (required, at most 16 characters).
	EN string `toml:"en"`
}

// CertType is a kind of certificate the company tracks, with its rules.
// The defaults follow Chinese regulation: 特种作业操作证 (安监总局令第30号)
// valid 6 years with a 复审 every 3 years, applied for within 60 days
// before it is due, at least 8 hours of refresher training first;
// 特种设备作业人员证 (质检总局令第140号) with a 复审 every 4 years, applied
// for 3 months ahead, cancelled (注销) when overdue.
type CertType struct {
	// Key is the stable identifier stored on certificates and named by
	// needs_cert: ^[a-z][a-z0-9_]{0,15}$, unique.
	Key string `toml:"key"`
	// ZH is the Chinese label (required, at most 64 characters).
	ZH string `toml:"zh"`
	// EN is the English label (required, at most 64 characters).
	EN string `toml:"en"`
	// Class is "special_operation" (特种作业), "special_equipment"
	// (特种设备) or "other" (default).
	Class string `toml:"class"`
	// ValidYears is how long a card is valid from its issue date, 0..20
	// (0: no fixed expiry; the 复审 keeps it valid).
	ValidYears int `toml:"valid_years"`
	// ReviewYears is the 复审 interval from the issue date, 0..20 (0: no
	// 复审); at most valid_years when both are set.
	ReviewYears int `toml:"review_years"`
	// ApplyAhead is how long before a deadline (expiry or 复审) the holder
	// applies, "<n>d" (1..366 days) or "<n>m" (1..12 months); the first
	// reminder goes out when the window opens. Empty: no window.
	ApplyAhead string `toml:"apply_ahead"`
	// RefresherHours is the refresher training needed before each 复审,
	// 0..200 hours (0: none).
	RefresherHours int `toml:"refresher_hours"`
}

// Needs is what a job needs, in [[categories]] and [[emergencies]]
// tables. Default: nothing.
type Needs struct {
	// NeedsSkill is the skill (a category key: skills are per category)
	// the technician must hold. A needs_level without needs_skill means
	// the category's own skill (for an emergency type, the skill of the
	// category it files under).
	NeedsSkill string `toml:"needs_skill"`
	// NeedsLevel is the minimum skill level (a skill_levels key); empty
	// means the lowest level.
	NeedsLevel string `toml:"needs_level"`
	// NeedsCert is the certificate type (a cert_types key) the law
	// requires for the work, e.g. "elec_low_voltage" for electrical work.
	NeedsCert string `toml:"needs_cert"`
	// NeedsSoft makes the requirement a warning instead of a refusal.
	NeedsSoft bool `toml:"needs_soft"`
}

// IsZero reports whether nothing is needed.
func (n Needs) IsZero() bool { return n.NeedsSkill == "" && n.NeedsLevel == "" && n.NeedsCert == "" }

// People configures reminders and training of the qualifications area.
type People struct {
	// ReminderDays are the days before a certificate's expiry or 复审 a
	// reminder goes to the holder and the leads, each 1..365, no
	// duplicates, at most 10 (default [60, 30, 7, 1]); the start of the
	// type's apply_ahead window is one more. The day after a deadline the
	// holder is excluded from the jobs that need the certificate and the
	// leads are told.
	ReminderDays []int `toml:"reminder_days"`
	// SweepAt is the time of day ("HH:MM" in org.timezone) of the daily
	// certificate sweep that sends those reminders (default "09:00").
	SweepAt string `toml:"sweep_at"`
	// SOPSessionRequired: a new SOP version also needs a training session
	// covering it, besides the acknowledgement and quiz that count as
	// self-study (default false).
	SOPSessionRequired bool `toml:"sop_session_required"`
}

// Certificate classes (cert_types.class).
const (
	CertClassSpecialOperation = "special_operation"
	CertClassSpecialEquipment = "special_equipment"
	CertClassOther            = "other"
)

// Bounds of the qualifications configuration.
const (
	maxSkillLevels    = 10
	maxSkillLevelName = 16
	maxCertTypes      = 30
	maxCertTypeLabel  = 64
	maxReminderDays   = 10
)

// DefaultSkillLevels returns the built-in ladder 初级 / 中级 / 高级.
func DefaultSkillLevels() []SkillLevel {
	return []SkillLevel{
		{Key: "junior", ZH: "初级", EN: "junior"},
		{Key: "intermediate", ZH: "中级", EN: "intermediate"},
		{Key: "senior", ZH: "高级", EN: "senior"},
	}
}

// DefaultCertTypes returns the built-in certificate types: four special
// operations a repair team meets (低压电工作业, 焊接与热切割作业, 高处作业,
// 制冷与空调作业) and the lift card of special equipment.
func DefaultCertTypes() []CertType {
	op := func(key, zh, en string) CertType {
		return CertType{Key: key, ZH: zh, EN: en, Class: CertClassSpecialOperation, ValidYears: 6, ReviewYears: 3, ApplyAhead: "60d", RefresherHours: 8}
	}
	return []CertType{
		op("elec_low_voltage", "低压电工作业证", "low-voltage electrician certificate"),
		{Key: "lift", ZH: "特种设备作业人员证（电梯）", EN: "special equipment operator certificate (lift)", Class: CertClassSpecialEquipment, ReviewYears: 4, ApplyAhead: "3m"},
		op("hot_work", "焊接与热切割作业证", "welding and thermal cutting certificate"),
		op("work_at_height", "高处作业证", "work at height certificate"),
		op("refrigeration", "制冷与空调作业证", "refrigeration and air-conditioning certificate"),
	}
}

// DefaultPeople returns the built-in [people] settings.
func DefaultPeople() People {
	return People{ReminderDays: []int{60, 30, 7, 1}, SweepAt: "09:00"}
}

var periodPattern = regexp.MustCompile(`^([0-9]{1,3})([dm])$`)

// ParsePeriod reads a cert_types.apply_ahead value: "60d" is 60 days,
// "3m" three calendar months; "" is no window.
func ParsePeriod(s string) (months, days int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	m := periodPattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, 0, errors.New(`must be a number of days or months such as "60d" or "3m"`)
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "m" {
		if n < 1 || n > 12 {
			return 0, 0, errors.New("must be 1 to 12 months")
		}
		return n, 0, nil
	}
	if n < 1 || n > 366 {
		return 0, 0, errors.New("must be 1 to 366 days")
	}
	return 0, n, nil
}

// resetPeopleLists empties the list defaults before the file is decoded,
// so tables in the file replace them instead of being overlaid field by
// field (as for categories).
func (c *Config) resetPeopleLists() {
	c.CertTypes, c.SkillLevels = nil, nil
}

// defaultPeopleLists restores the lists the file does not give.
func (c *Config) defaultPeopleLists(md toml.MetaData) {
	if !md.IsDefined("cert_types") {
		c.CertTypes = DefaultCertTypes()
	}
	if !md.IsDefined("skill_levels") {
		c.SkillLevels = DefaultSkillLevels()
	}
}

// CertType returns the certificate type with key k.
func (c Config) CertType(k string) (CertType, bool) {
	for _, ct := range c.CertTypes {
		if ct.Key == k {
			return ct, true
		}
	}
	return CertType{}, false
}

// quotedKeys lists the keys of seen in file order, for a message.
func quotedKeys(seen map[string]int) string {
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return seen[keys[i]] < seen[keys[j]] })
	for i, k := range keys {
		keys[i] = strconv.Quote(k)
	}
	if len(keys) == 0 {
		return "none are configured"
	}
	return "configured: " + strings.Join(keys, ", ")
}

func (c *Config) validatePeople(v *validator) {
	if n := len(c.SkillLevels); n < 1 || n > maxSkillLevels {
		v.add("skill_levels", "must have between 1 and %d entries (got %d)", maxSkillLevels, n)
	}
	levels := map[string]int{}
	for i, l := range c.SkillLevels {
		prefix := fmt.Sprintf("skill_levels[%d].", i)
		v.tableKey(prefix, "skill_levels", l.Key, i, levels)
		v.labels(prefix, l.ZH, l.EN, maxSkillLevelName)
	}

	if n := len(c.CertTypes); n > maxCertTypes {
		v.add("cert_types", "must have at most %d entries (got %d)", maxCertTypes, n)
	}
	certs := map[string]int{}
	for i := range c.CertTypes {
		ct := &c.CertTypes[i]
		prefix := fmt.Sprintf("cert_types[%d].", i)
		v.tableKey(prefix, "cert_types", ct.Key, i, certs)
		v.labels(prefix, ct.ZH, ct.EN, maxCertTypeLabel)
		if ct.Class == "" {
			ct.Class = CertClassOther
		}
		v.oneOf(prefix+"class", &ct.Class, CertClassSpecialOperation, CertClassSpecialEquipment, CertClassOther)
		v.intRange(prefix+"valid_years", int64(ct.ValidYears), 0, 20)
		v.intRange(prefix+"review_years", int64(ct.ReviewYears), 0, 20)
		if ct.ValidYears > 0 && ct.ReviewYears > ct.ValidYears {
			v.add(prefix+"review_years", "must be at most valid_years (%d) (got %d)", ct.ValidYears, ct.ReviewYears)
		}
		if months, days, err := ParsePeriod(ct.ApplyAhead); err != nil {
			v.add(prefix+"apply_ahead", "%v (got %q)", err, ct.ApplyAhead)
		} else {
			ct.ApplyAhead = strings.ToLower(strings.TrimSpace(ct.ApplyAhead))
			shortest := 0
			for _, y := range []int{ct.ValidYears, ct.ReviewYears} {
				if y > 0 && (shortest == 0 || y < shortest) {
					shortest = y
				}
			}
			if shortest > 0 && months*31+days >= shortest*365 {
				v.add(prefix+"apply_ahead", "must be shorter than the %d-year period it is before (got %q)", shortest, ct.ApplyAhead)
			}
		}
		v.intRange(prefix+"refresher_hours", int64(ct.RefresherHours), 0, 200)
	}

	p := &c.People
	if len(p.ReminderDays) > maxReminderDays {
		v.add("people.reminder_days", "must have at most %d entries (got %d)", maxReminderDays, len(p.ReminderDays))
	}
	days := map[int]int{}
	for i, d := range p.ReminderDays {
		k := fmt.Sprintf("people.reminder_days[%d]", i)
		if d < 1 || d > 365 {
			v.add(k, "must be between 1 and 365 days (got %d)", d)
		} else if j, dup := days[d]; dup {
			v.add(k, "duplicate day %d (also people.reminder_days[%d])", d, j)
		} else {
			days[d] = i
		}
	}
	v.clock("people.sweep_at", p.SweepAt)

	cats := map[string]int{}
	for i, cat := range c.Categories {
		if _, dup := cats[cat.Key]; !dup && cat.Key != "" {
			cats[cat.Key] = i
		}
	}
	for i := range c.Categories {
		cat := &c.Categories[i]
		validateNeeds(v, fmt.Sprintf("categories[%d].", i), cat.Key, &cat.Needs, cats, levels, certs)
	}
	for i := range c.Emergencies {
		e := &c.Emergencies[i]
		validateNeeds(v, fmt.Sprintf("emergencies[%d].", i), e.Category, &e.Needs, cats, levels, certs)
	}
}

// validateNeeds checks a category's or emergency type's requirement. A
// needs_level without needs_skill is about own (the category itself, or
// the category the emergency files under): needs_skill is set to it.
func validateNeeds(v *validator, prefix, own string, n *Needs, cats, levels, certs map[string]int) {
	if n.NeedsSkill == "" && n.NeedsLevel != "" {
		n.NeedsSkill = own
	}
	if n.NeedsSkill != "" {
		if _, ok := cats[n.NeedsSkill]; !ok {
			v.add(prefix+"needs_skill", "names skill %q, which is not a configured category (skills are per category; %s)", n.NeedsSkill, quotedKeys(cats))
		}
	}
	if n.NeedsLevel != "" {
		if _, ok := levels[n.NeedsLevel]; !ok {
			v.add(prefix+"needs_level", "names skill level %q, which is not configured (%s)", n.NeedsLevel, quotedKeys(levels))
		}
	}
	if n.NeedsCert != "" {
		if _, ok := certs[n.NeedsCert]; !ok {
			v.add(prefix+"needs_cert", "names certificate type %q, which is not configured (%s)", n.NeedsCert, quotedKeys(certs))
		}
	}
	if n.NeedsSoft && n.IsZero() {
		v.add(prefix+"needs_soft", "is set but there is no needs_skill, needs_level or needs_cert to soften")
	}
}

// peopleStringFields lists the string values of this file's keys for ExpandEnv.
func (c *Config) peopleStringFields() []stringField {
	var f []stringField
	for i := range c.SkillLevels {
		l := &c.SkillLevels[i]
		f = append(f,
			stringField{fmt.Sprintf("skill_levels[%d].key", i), &l.Key},
			stringField{fmt.Sprintf("skill_levels[%d].zh", i), &l.ZH},
			stringField{fmt.Sprintf("skill_levels[%d].en", i), &l.EN},
		)
	}
	for i := range c.CertTypes {
		ct := &c.CertTypes[i]
		f = append(f,
			stringField{fmt.Sprintf("cert_types[%d].key", i), &ct.Key},
			stringField{fmt.Sprintf("cert_types[%d].zh", i), &ct.ZH},
			stringField{fmt.Sprintf("cert_types[%d].en", i), &ct.EN},
			stringField{fmt.Sprintf("cert_types[%d].class", i), &ct.Class},
			stringField{fmt.Sprintf("cert_types[%d].apply_ahead", i), &ct.ApplyAhead},
		)
	}
	needs := func(prefix string, n *Needs) {
		f = append(f,
			stringField{prefix + "needs_skill", &n.NeedsSkill},
			stringField{prefix + "needs_level", &n.NeedsLevel},
			stringField{prefix + "needs_cert", &n.NeedsCert},
		)
	}
	for i := range c.Categories {
		needs(fmt.Sprintf("categories[%d].", i), &c.Categories[i].Needs)
	}
	for i := range c.Emergencies {
		needs(fmt.Sprintf("emergencies[%d].", i), &c.Emergencies[i].Needs)
	}
	return append(f, stringField{"people.sweep_at", &c.People.SweepAt})
}
