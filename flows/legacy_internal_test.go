package flows

// An internal test: the legacy rules are unexported rows of the tables.

import (
	"reflect"
	"testing"
)

// TestLegacyRulesKeepNewRecords: a rule changes nothing in a record
// written in the new form, so applying it on every read is safe.
func TestLegacyRulesKeepNewRecords(t *testing.T) {
	dialogueCases := map[string]Dialogue{
		dlgQty:            {Kind: dlgQty, TicketID: "BX-1", PriceCode: "W03"},
		dlgHandoverReturn: {Kind: dlgHandoverReturn, Day: "20261127", TechID: "tg:200"},
		dlgSuggest:        {Kind: dlgSuggest, Review: "RV-2026-002"},
		dlgReviewClose:    {Kind: dlgReviewClose, Review: "RV-2026-002"},
		dlgActionDone:     {Kind: dlgActionDone, Review: "RV-2026-001", Action: 2},
	}
	for kind, k := range dialogues {
		if k.legacy == nil {
			continue
		}
		d, ok := dialogueCases[kind]
		if !ok {
			t.Errorf("dialogue kind %s has a legacy rule and no case here", kind)
			continue
		}
		got := d
		k.legacy(&got)
		if !reflect.DeepEqual(got, d) {
			t.Errorf("%s: %+v became %+v", kind, d, got)
		}
	}
	timerCases := map[string]Timer{
		tmAckRemind:    {Kind: tmAckRemind, Version: 2},
		tmYearly:       {Kind: tmYearly, Year: 2027},
		tmReviewRemind: {Kind: tmReviewRemind, Review: "RV-2026-002"},
		tmReviewDue:    {Kind: tmReviewDue, Review: "RV-2026-002"},
		tmActionPre:    {Kind: tmActionPre, Review: "RV-2026-001", Action: 1},
		tmActionDue:    {Kind: tmActionDue, Review: "RV-2026-001", Action: 1},
		tmActionEsc:    {Kind: tmActionEsc, Review: "RV-2026-001", Action: 1},
		tmAudit:        {Kind: tmAudit, Month: "202611"},
	}
	for kind, k := range timerKinds {
		if k.legacy == nil {
			continue
		}
		tm, ok := timerCases[kind]
		if !ok {
			t.Errorf("timer kind %s has a legacy rule and no case here", kind)
			continue
		}
		if got := readTimer(tm); !reflect.DeepEqual(got, tm) {
			t.Errorf("%s: %+v became %+v", kind, tm, got)
		}
	}
}
