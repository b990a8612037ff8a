package flows_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// sh is a wall-clock time in Shanghai.
func sh(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, shanghai)
}

func day(y int, m time.Month, d int) flows.Date { return flows.NewDate(y, m, d) }

// qualRules mirror the configuration defaults: 特种作业 6 years with a 复审
// every 3 applied for 60 days ahead; the lift card 复审 every 4 years, 3
// months ahead.
func qualRules() *flows.QualRules {
	return &flows.QualRules{
		Levels: flows.DefaultSkillLevels(),
		Skills: []flows.SkillDef{
			{Key: "electricity", Labels: flows.Label{flows.LangZH: "电路/停电", flows.LangEN: "Electricity"}},
			{Key: "public", Labels: flows.Label{flows.LangZH: "公共区域", flows.LangEN: "Public area"}},
		},
		CertTypes: []flows.CertType{
			{Key: "elec_low_voltage", Labels: flows.Label{flows.LangZH: "低压电工作业证", flows.LangEN: "low-voltage electrician certificate"},
				Class: flows.ClassSpecialOperation, ValidYears: 6, ReviewYears: 3, ApplyDays: 60, RefresherHours: 8},
			{Key: "lift", Labels: flows.Label{flows.LangZH: "特种设备作业人员证（电梯）", flows.LangEN: "special equipment operator certificate (lift)"},
				Class: flows.ClassSpecialEquipment, ReviewYears: 4, ApplyMonths: 3},
		},
		Categories: map[string]flows.Requirement{
			"electricity": {Skill: "electricity", Level: "intermediate", Cert: "elec_low_voltage"},
		},
		Emergencies:  map[string]flows.Requirement{"lift": {Cert: "lift"}},
		ReminderDays: flows.DefaultReminderDays(),
	}
}

var (
	qtech    = &flows.Person{ID: "tg:200", Role: flows.RoleTechnician, Name: "张师傅", Lang: flows.LangZH}
	verified = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// elecCert is a verified 低压电工作业证 of the technician.
func elecCert(id string, until, review flows.Date) *flows.Certificate {
	v := verified
	return &flows.Certificate{ID: id, PersonID: qtech.ID, Type: "elec_low_voltage", Number: "T3101", Authority: "上海市应急管理局",
		Issued: day(2020, 10, 1), ValidUntil: until, NextReview: review, VerifiedBy: "tg:1", Verified: &v}
}

func skill(level string) flows.Skill {
	return flows.Skill{PersonID: qtech.ID, Skill: "electricity", Level: level}
}

func TestQualify(t *testing.T) {
	r := qualRules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	need := r.Need("electricity", "")
	valid := elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1))
	pending := elecCert("CERT-2", day(2026, 10, 1), day(2026, 10, 1))
	pending.VerifiedBy, pending.Verified = "", nil
	overdue := elecCert("CERT-3", day(2029, 10, 1), day(2026, 5, 1))
	revoked := elecCert("CERT-4", day(2029, 10, 1), day(2027, 10, 1))
	revoked.Revoked = &verified
	superseded := elecCert("CERT-5", day(2025, 10, 1), day(2025, 10, 1))
	superseded.Superseded = "CERT-6"
	renewed := elecCert("CERT-6", day(2031, 10, 1), day(2028, 10, 1))
	future := elecCert("CERT-7", day(2032, 10, 1), day(2029, 10, 1))
	future.Issued = day(2026, 12, 1)
	others := elecCert("CERT-8", day(2031, 10, 1), day(2028, 10, 1))
	others.PersonID = "tg:300"
	expiredOld := elecCert("CERT-9", day(2026, 3, 1), day(2026, 3, 1))

	for _, c := range []struct {
		name   string
		p      *flows.Person
		need   flows.Requirement
		certs  []*flows.Certificate
		skills []flows.Skill
		now    time.Time
		ok     bool
		key    string
		date   string
	}{
		{"nothing needed", qtech, r.Need("public", ""), nil, nil, sh(2026, 9, 1, 10, 0, 0), true, "", ""},
		{"qualified", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), true, "", ""},
		{"qualified at exactly the level", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("intermediate")}, sh(2026, 9, 1, 10, 0, 0), true, "", ""},
		{"no skill", qtech, need, []*flows.Certificate{valid}, nil, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_skill", ""},
		{"level too low", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("junior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_level", ""},
		{"level no longer configured", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("master")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_level", ""},
		{"missing cert", qtech, need, nil, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_cert", ""},
		{"someone else's cert", qtech, need, []*flows.Certificate{others}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_cert", ""},
		{"unverified cert", qtech, need, []*flows.Certificate{pending}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.cert_pending", ""},
		{"valid on its last day, 00:00", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, sh(2026, 10, 1, 0, 0, 0), true, "", ""},
		{"valid on its last day, 23:59:59", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, sh(2026, 10, 1, 23, 59, 59), true, "", ""},
		{"valid on its last day by UTC clock", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, time.Date(2026, 10, 1, 15, 59, 59, 0, time.UTC), true, "", ""},
		{"expired the day after, 00:00", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, sh(2026, 10, 2, 0, 0, 0), false, "quals.cert_expired", "2026-10-01"},
		{"expired the day after by UTC clock", qtech, need, []*flows.Certificate{valid}, []flows.Skill{skill("senior")}, time.Date(2026, 10, 1, 16, 0, 0, 0, time.UTC), false, "quals.cert_expired", "2026-10-01"},
		{"复审 due today still qualifies", qtech, need, []*flows.Certificate{overdue}, []flows.Skill{skill("senior")}, sh(2026, 5, 1, 18, 0, 0), true, "", ""},
		{"复审 overdue", qtech, need, []*flows.Certificate{overdue}, []flows.Skill{skill("senior")}, sh(2026, 5, 2, 8, 0, 0), false, "quals.cert_review_overdue", "2026-05-01"},
		{"revoked", qtech, need, []*flows.Certificate{revoked}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.cert_revoked", ""},
		{"renewed card counts, old one replaced", qtech, need, []*flows.Certificate{superseded, renewed}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), true, "", ""},
		{"not yet valid", qtech, need, []*flows.Certificate{future}, []flows.Skill{skill("senior")}, sh(2026, 11, 1, 10, 0, 0), false, "quals.cert_not_yet_valid", "2026-12-01"},
		{"expired card and a new one waiting: the wait is the news", qtech, need, []*flows.Certificate{expiredOld, pending}, []flows.Skill{skill("senior")}, sh(2026, 9, 1, 10, 0, 0), false, "quals.cert_pending", ""},
		{"two expired cards: the later expiry is named", qtech, need, []*flows.Certificate{expiredOld, superseded, valid}, []flows.Skill{skill("senior")}, sh(2026, 11, 1, 10, 0, 0), false, "quals.cert_expired", "2026-10-01"},
		{"lift entrapment needs the lift card", qtech, r.Need("public", "lift"), []*flows.Certificate{valid}, nil, sh(2026, 9, 1, 10, 0, 0), false, "quals.need_cert", ""},
		{"soft requirement unmet warns", qtech, flows.Requirement{Cert: "lift", Soft: true}, nil, nil, sh(2026, 9, 1, 10, 0, 0), true, "quals.need_cert", ""},
		{"unknown person", nil, need, nil, nil, sh(2026, 9, 1, 10, 0, 0), false, "quals.unknown_person", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, why := r.Qualify(c.p, c.need, c.certs, c.skills, c.now, shanghai)
			if ok != c.ok || why.Key != c.key {
				t.Fatalf("Qualify = %v, %q %v; want %v, %q", ok, why.Key, why.Args, c.ok, c.key)
			}
			if c.date != "" && why.Arg("date") != c.date {
				t.Errorf("date argument %v, want %s", why.Arg("date"), c.date)
			}
		})
	}
}

// The refusal a technician reads, in both languages, from the catalogs.
func TestQualifyRefusalText(t *testing.T) {
	r := qualRules()
	texts := i18n.MustLoad(flows.LangZH)
	cert := elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1))
	ok, why := r.Qualify(qtech, r.Need("electricity", ""), []*flows.Certificate{cert}, []flows.Skill{skill("senior")}, sh(2026, 10, 2, 9, 0, 0), shanghai)
	if ok {
		t.Fatal("an expired certificate qualified")
	}
	for lang, want := range map[flows.Lang]string{
		flows.LangZH: "这项工作需要低压电工作业证；你的证已于 2026-10-01 过期——请联系班长。",
		flows.LangEN: "This job needs low-voltage electrician certificate; yours expired on 2026-10-01 — ask your lead.",
	} {
		if got := why.Text(texts, lang); got != want {
			t.Errorf("%s: %q\nwant %q", lang, got, want)
		}
		if e := why.Err(lang); e.Code != flows.CodeForbidden || texts.T(lang, e.Key, e.Args...) != want {
			t.Errorf("%s: Err renders %q (%s)", lang, texts.T(lang, e.Key, e.Args...), e.Code)
		}
	}
	_, why = r.Qualify(qtech, r.Need("electricity", ""), []*flows.Certificate{cert}, []flows.Skill{skill("junior")}, sh(2026, 9, 2, 9, 0, 0), shanghai)
	if got, want := why.Text(texts, flows.LangEN), "This job needs the Electricity skill at intermediate level or above; yours is junior — ask your lead."; got != want {
		t.Errorf("level refusal %q\nwant %q", got, want)
	}
	if got, want := r.NeedText(r.Need("electricity", "")).Text(texts, flows.LangZH), "需要：电路/停电（中级及以上）· 低压电工作业证"; got != want {
		t.Errorf("card line %q, want %q", got, want)
	}
}

func TestQualCertStatus(t *testing.T) {
	r := qualRules()
	elec, _ := r.CertType("elec_low_voltage")
	lift, _ := r.CertType("lift")
	c := elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1))
	liftCard := &flows.Certificate{ID: "CERT-2", PersonID: qtech.ID, Type: "lift", Issued: day(2022, 10, 1), NextReview: day(2026, 10, 1), VerifiedBy: "tg:1", Verified: &verified}
	for _, s := range []struct {
		name  string
		c     *flows.Certificate
		ct    flows.CertType
		today flows.Date
		want  flows.CertStatus
	}{
		{"valid before the window", c, elec, day(2026, 8, 1), flows.CertValid},
		{"window opens 60 days ahead", c, elec, day(2026, 8, 2), flows.CertReviewDue},
		{"last day", c, elec, day(2026, 10, 1), flows.CertReviewDue},
		{"day after", c, elec, day(2026, 10, 2), flows.CertExpired},
		{"lift before its 3-month window", liftCard, lift, day(2026, 6, 30), flows.CertValid},
		{"lift window opens 3 months ahead", liftCard, lift, day(2026, 7, 1), flows.CertReviewDue},
		{"lift review overdue", liftCard, lift, day(2026, 10, 2), flows.CertReviewOverdue},
	} {
		t.Run(s.name, func(t *testing.T) {
			if got := s.c.Status(s.ct, s.today); got != s.want {
				t.Errorf("Status(%s) = %s, want %s", s.today, got, s.want)
			}
			if got := r.StatusOf(s.c, s.today.End(shanghai).Add(-time.Second), shanghai); got != s.want {
				t.Errorf("StatusOf(last second of %s) = %s, want %s", s.today, got, s.want)
			}
		})
	}
}

func TestQualDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want flows.Date
		ok   bool
	}{
		{"2026-10-01", day(2026, 10, 1), true},
		{" 2026/10/1 ", day(2026, 10, 1), true},
		{"2026.10.01", day(2026, 10, 1), true},
		{"20261001", day(2026, 10, 1), true},
		{"2026年10月1日", day(2026, 10, 1), true},
		{"２０２６－１０－０１", day(2026, 10, 1), true},
		{"2026-02-30", flows.Date{}, false},
		{"10-01", flows.Date{}, false},
		{"1900-01-01", flows.Date{}, false},
		{"tomorrow", flows.Date{}, false},
		{"", flows.Date{}, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := flows.ParseDate(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseDate(%q) = %v, %v", c.in, got, err)
			}
		})
	}
	d := day(2026, 10, 1)
	if got := d.End(shanghai); !got.Equal(time.Date(2026, 10, 1, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("End = %v", got)
	}
	if got := flows.DateOf(time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), shanghai); got != d {
		t.Errorf("DateOf = %v", got)
	}
	if got := day(2024, 2, 29).AddDate(3, 0, 0); got != day(2027, 3, 1) {
		t.Errorf("leap day + 3 years = %v", got)
	}
	if n := day(2026, 8, 2).DaysUntil(d); n != 60 {
		t.Errorf("DaysUntil = %d", n)
	}
	raw, err := json.Marshal(struct {
		A flows.Date `json:"a"`
		B flows.Date `json:"b,omitzero"`
	}{A: d})
	if err != nil || string(raw) != `{"a":"2026-10-01"}` {
		t.Fatalf("json %s %v", raw, err)
	}
	var back struct{ A, B flows.Date }
	if err := json.Unmarshal([]byte(`{"A":"2026-10-01","B":""}`), &back); err != nil || back.A != d || !back.B.IsZero() {
		t.Errorf("round trip %+v %v", back, err)
	}
}

// Every reason and reminder key the area produces exists in both
// catalogs and renders with every placeholder filled.
func TestQualCatalogKeys(t *testing.T) {
	r := qualRules()
	texts := i18n.MustLoad(flows.LangZH)
	var reasons []flows.Reason
	cert := elecCert("CERT-1", day(2029, 10, 1), day(2026, 10, 1))
	liftCard := &flows.Certificate{ID: "CERT-2", PersonID: qtech.ID, Type: "lift", Number: "T9", Issued: day(2022, 10, 1), NextReview: day(2026, 10, 1), VerifiedBy: "tg:1", Verified: &verified}
	exp := elecCert("CERT-3", day(2026, 10, 1), day(2026, 10, 1))
	for _, now := range []time.Time{sh(2026, 9, 30, 9, 0, 0), sh(2026, 10, 2, 9, 0, 0)} {
		for _, c := range []*flows.Certificate{cert, liftCard, exp} {
			for _, rm := range r.DueReminders(c, nil, now, shanghai) {
				reasons = append(reasons, rm.Holder, rm.WithName("张师傅"))
			}
		}
	}
	keys := map[string]bool{}
	for _, rs := range reasons {
		keys[rs.Key] = true
	}
	for _, k := range []string{"quals.remind_review_holder", "quals.remind_review_leads", "quals.remind_expiry_holder", "quals.remind_expiry_leads",
		"quals.lapsed_review_holder", "quals.lapsed_review_leads", "quals.lapsed_expiry_holder", "quals.lapsed_expiry_leads"} {
		if !keys[k] {
			t.Errorf("no reminder produced %s", k)
		}
	}
	needs := r.TrainingNeeds(qtech, flows.TrainingInput{SOP: &flows.SOPVersion{Number: 2, Label: "2026.2"}, Certs: []*flows.Certificate{exp}}, sh(2026, 9, 1, 9, 0, 0), shanghai)
	for _, n := range needs {
		reasons = append(reasons, n.Text)
	}
	reasons = append(reasons, r.NeedText(flows.Requirement{Skill: "electricity"}), r.NeedText(flows.Requirement{Cert: "lift"}),
		r.NeedText(r.Need("electricity", "")))
	if len(needs) != 2 {
		t.Errorf("training needs %+v", needs)
	}
	for _, rs := range reasons {
		for _, lang := range []flows.Lang{flows.LangZH, flows.LangEN} {
			if !texts.Has(lang, rs.Key) {
				t.Errorf("%s missing in %s", rs.Key, lang)
				continue
			}
			if s := rs.Text(texts, lang); strings.ContainsAny(s, "{}") || strings.Contains(s, "map[") {
				t.Errorf("%s in %s renders %q", rs.Key, lang, s)
			}
		}
	}
}
