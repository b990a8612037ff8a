package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

// TestQualsChatCatalogKeys: the keys the chat phase builds at run time
// (a status, a step, a reason's "_of" form, a weekday) exist in both
// catalogs; the static ones are checked by the i18n package's scan.
func TestQualsChatCatalogKeys(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	var keys []string
	for _, st := range []flows.CertStatus{flows.CertRevoked, flows.CertPending, flows.CertNotYetValid, flows.CertExpired,
		flows.CertReviewOverdue, flows.CertReviewDue, flows.CertValid} {
		keys = append(keys, "certs.status."+string(st))
	}
	for _, k := range []string{"unknown_person", "need_skill", "need_level", "need_cert", "cert_pending", "cert_not_yet_valid",
		"cert_expired", "cert_review_overdue", "cert_revoked"} {
		keys = append(keys, "quals."+k, "quals."+k+"_of")
	}
	for _, step := range []string{"override_reason", "cert_type", "cert_number", "cert_authority", "cert_issued", "cert_until",
		"cert_review", "cert_photo", "cert_confirm", "cert_reason", "training_topic", "training_start", "training_length",
		"training_place", "training_trainer", "training_covers", "training_invite", "training_confirm", "shift_hours"} {
		keys = append(keys, "hint."+step)
	}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		keys = append(keys, "roster.day."+d)
	}
	for _, a := range []string{"none", "going", "notgoing"} {
		keys = append(keys, "training.answer."+a)
	}
	for _, s := range []string{flows.SessionScheduled, flows.SessionDone, flows.SessionCancelled} {
		keys = append(keys, "training.status."+s)
	}
	for _, k := range keys {
		for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
			if !texts.Has(l, k) {
				t.Errorf("%s missing in %s", k, l)
			}
		}
	}
}

// TestQualsCommandsInMenus: the new commands are in the menus of the
// roles that may use them, and only there.
func TestQualsCommandsInMenus(t *testing.T) {
	menu := func(r flows.Role) string {
		var names []string
		for _, c := range flows.MenuFor(r) {
			names = append(names, c.Name)
		}
		return " " + strings.Join(names, " ") + " "
	}
	for _, c := range []struct {
		role     flows.Role
		has, not []string
	}{
		{flows.RoleTechnician, []string{"skills", "certs", "training"}, []string{"staff", "duty"}},
		{flows.RoleLead, []string{"staff", "skills", "certs", "training", "duty"}, nil},
		{flows.RoleAdmin, []string{"staff", "skills", "certs", "training", "duty"}, nil},
		{flows.RoleDispatcher, []string{"training"}, []string{"staff", "skills", "certs"}},
		{flows.RoleResident, nil, []string{"staff", "skills", "certs", "training"}},
		{flows.RoleNone, nil, []string{"staff", "skills", "certs", "training"}},
	} {
		got := menu(c.role)
		for _, n := range c.has {
			if !strings.Contains(got, " "+n+" ") {
				t.Errorf("%s's menu lacks /%s: %s", c.role, n, got)
			}
		}
		for _, n := range c.not {
			if strings.Contains(got, " "+n+" ") {
				t.Errorf("%s's menu offers /%s: %s", c.role, n, got)
			}
		}
	}
}
