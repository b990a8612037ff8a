package flows

import (
	"fmt"
	"time"
)

// Fault coding (故障编码, the framework's area 6): at the end of the repair,
// before asking for the sign-off, the technician codes the fault by
// buttons — component, symptom (failure mode), cause, action — from the
// trees of the SOP file, one tree per category (and a default). The
// taxonomy follows ISO 14224's split of an equipment's failure mode, its
// failure cause and the maintenance activity. A public-facility order also
// names the asset or place. The codes are stored on the ticket (Ticket.Fault,
// Ticket.Asset) and in its audit trail, printed on the work order and the
// repair log, and counted in the KPIs.

// FaultTrees are the SOP file's fault coding trees. Symptoms, causes and
// actions are defined once; a category's tree lists its components, the
// symptoms each can show, and the causes and actions that apply (all when
// its list is empty). Codes are stored on tickets: retire a code rather
// than give it a new meaning.
type FaultTrees struct {
	Symptoms []FaultNode `json:"symptoms"`
	Causes   []FaultNode `json:"causes"`
	Actions  []FaultNode `json:"actions"`
	Trees    []FaultTree `json:"trees"`
}

// FaultNode is one code with its labels.
type FaultNode struct {
	Code  string          `json:"code"`
	Label map[Lang]string `json:"label"`
}

// FaultTree is one category's tree; Category "*" serves every category
// without a tree of its own.
type FaultTree struct {
	Category   string           `json:"category"`
	Components []FaultComponent `json:"components"`
	Causes     []string         `json:"causes,omitempty"`
	Actions    []string         `json:"actions,omitempty"`
}

// FaultComponent is a component (部件) and the symptoms it can show.
type FaultComponent struct {
	Code     string          `json:"code"`
	Label    map[Lang]string `json:"label"`
	Symptoms []string        `json:"symptoms"`
}

// FaultCode is a ticket's coded fault. The four codes are filled in order;
// the coding is complete when all four are set.
type FaultCode struct {
	Component string    `json:"component,omitempty"`
	Symptom   string    `json:"symptom,omitempty"`
	Cause     string    `json:"cause,omitempty"`
	Action    string    `json:"action,omitempty"`
	By        string    `json:"by,omitempty"`
	At        time.Time `json:"at,omitempty"`
}

// Complete reports whether all four codes are set.
func (f *FaultCode) Complete() bool {
	return f != nil && f.Component != "" && f.Symptom != "" && f.Cause != "" && f.Action != ""
}

// maxFaultCode bounds a code: button payloads carry it (64 bytes).
const maxFaultCode = 8

func validCode(s string) bool {
	if s == "" || len(s) > maxFaultCode {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func (ft *FaultTrees) validate() error {
	if ft == nil {
		return nil
	}
	lists := map[string]map[string]bool{}
	for _, l := range []struct {
		name  string
		nodes []FaultNode
	}{{"symptom", ft.Symptoms}, {"cause", ft.Causes}, {"action", ft.Actions}} {
		seen := map[string]bool{}
		for _, n := range l.nodes {
			if !validCode(n.Code) || seen[n.Code] {
				return fmt.Errorf("fault %s code %q: 1-%d characters A-Z 0-9 _, unique", l.name, n.Code, maxFaultCode)
			}
			if n.Label[LangZH] == "" || n.Label[LangEN] == "" {
				return fmt.Errorf("fault %s %q needs a label in zh-CN and en", l.name, n.Code)
			}
			seen[n.Code] = true
		}
		lists[l.name] = seen
	}
	if len(ft.Trees) > 0 && (len(ft.Causes) == 0 || len(ft.Actions) == 0) {
		return fmt.Errorf("fault trees need causes and actions")
	}
	cats := map[string]bool{}
	for _, tr := range ft.Trees {
		if tr.Category == "" || cats[tr.Category] {
			return fmt.Errorf("fault tree category %q: empty or given twice", tr.Category)
		}
		cats[tr.Category] = true
		if len(tr.Components) == 0 {
			return fmt.Errorf("fault tree %q has no components", tr.Category)
		}
		comps := map[string]bool{}
		for _, c := range tr.Components {
			if !validCode(c.Code) || comps[c.Code] {
				return fmt.Errorf("fault tree %q: component code %q: 1-%d characters A-Z 0-9 _, unique", tr.Category, c.Code, maxFaultCode)
			}
			comps[c.Code] = true
			if c.Label[LangZH] == "" || c.Label[LangEN] == "" {
				return fmt.Errorf("fault tree %q: component %q needs a label in zh-CN and en", tr.Category, c.Code)
			}
			if len(c.Symptoms) == 0 {
				return fmt.Errorf("fault tree %q: component %q lists no symptoms", tr.Category, c.Code)
			}
			for _, s := range c.Symptoms {
				if !lists["symptom"][s] {
					return fmt.Errorf("fault tree %q: component %q: unknown symptom %q", tr.Category, c.Code, s)
				}
			}
		}
		for _, x := range tr.Causes {
			if !lists["cause"][x] {
				return fmt.Errorf("fault tree %q: unknown cause %q", tr.Category, x)
			}
		}
		for _, x := range tr.Actions {
			if !lists["action"][x] {
				return fmt.Errorf("fault tree %q: unknown action %q", tr.Category, x)
			}
		}
	}
	return nil
}

// Fault coding levels, in the order they are asked.
const (
	FaultComponentLevel = "c"
	FaultSymptomLevel   = "s"
	FaultCauseLevel     = "k"
	FaultActionLevel    = "a"
)

// tree is the category's tree, or the default "*" one; nil when the SOP
// has none for it.
func (ft *FaultTrees) tree(category string) *FaultTree {
	if ft == nil {
		return nil
	}
	var def *FaultTree
	for i := range ft.Trees {
		switch ft.Trees[i].Category {
		case category:
			return &ft.Trees[i]
		case "*":
			def = &ft.Trees[i]
		}
	}
	return def
}

func nodeLabel(nodes []FaultNode, code string, l Lang) (string, bool) {
	for _, n := range nodes {
		if n.Code == code {
			if s := n.Label[l]; s != "" {
				return s, true
			}
			return n.Label[LangZH], true
		}
	}
	return "", false
}

// FaultLabel is a code's label in l from the SOP's trees (a component of
// the category's tree, or a symptom, cause or action), the code itself
// when the trees no longer have it.
func FaultLabel(s *SOP, category, level, code string, l Lang) string {
	if s == nil || s.Faults == nil || code == "" {
		return code
	}
	ft := s.Faults
	var label string
	var ok bool
	switch level {
	case FaultComponentLevel:
		if tr := ft.tree(category); tr != nil {
			for _, c := range tr.Components {
				if c.Code == code {
					label, ok = c.Label[l], true
					if label == "" {
						label = c.Label[LangZH]
					}
				}
			}
		}
	case FaultSymptomLevel:
		label, ok = nodeLabel(ft.Symptoms, code, l)
	case FaultCauseLevel:
		label, ok = nodeLabel(ft.Causes, code, l)
	case FaultActionLevel:
		label, ok = nodeLabel(ft.Actions, code, l)
	}
	if !ok {
		return code
	}
	return label
}
