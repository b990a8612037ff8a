package flows

import (
	"fmt"
	"strings"
	"time"
)

// Fault coding (故障编码, the framework's area 6): at the end of the repair,
// before asking for the sign-off, the technician codes the fault by
// buttons — component, symptom (failure mode), cause, action — from the
// trees of the SOP file, one tree per category (and a default). The
// taxonomy follows ISO 14224's split of an equipment's failure mode, its
// failure cause and the maintenance activity. A public-facility order also
// names the asset or place. The codes are stored on the ticket (Ticket.Fault,
// Ticket.Place and Asset) and in its audit trail, printed on the work order and the
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

func validFaultCode(s string) bool {
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
			if !validFaultCode(n.Code) || seen[n.Code] {
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
			if !validFaultCode(c.Code) || comps[c.Code] {
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

// ---- the coding at the end of the repair ----

// faultTree is the tree that codes t; nil when the SOP codes nothing for it.
func (c *call) faultTree(t *Ticket) *FaultTree {
	return c.e.SOP().Faults.tree(t.Category)
}

// faultPending reports whether t must still be coded (or, a public order,
// name its asset) before the sign-off can be asked for.
func (c *call) faultPending(t *Ticket) bool {
	if c.faultTree(t) == nil {
		return false
	}
	return !t.Fault.Complete() || (t.Kind == OrderPublic && strings.TrimSpace(t.Place) == "")
}

// faultChoices are the options of the next level to code (its level and
// the codes with their labels in l), nothing when the four are set.
func (c *call) faultChoices(t *Ticket, l Lang) (level string, codes, labels []string) {
	tr := c.faultTree(t)
	ft := c.e.SOP().Faults
	f := t.Fault
	if f == nil {
		f = &FaultCode{}
	}
	add := func(code, label string) {
		codes, labels = append(codes, code), append(labels, label)
	}
	pick := func(nodes []FaultNode, only []string) {
		for _, n := range nodes {
			if len(only) == 0 || contains(only, n.Code) {
				lb, _ := nodeLabel(nodes, n.Code, l)
				add(n.Code, lb)
			}
		}
	}
	switch {
	case f.Component == "":
		level = FaultComponentLevel
		for _, comp := range tr.Components {
			add(comp.Code, FaultLabel(c.e.SOP(), t.Category, level, comp.Code, l))
		}
	case f.Symptom == "":
		level = FaultSymptomLevel
		for _, comp := range tr.Components {
			if comp.Code == f.Component {
				for _, s := range comp.Symptoms {
					lb, _ := nodeLabel(ft.Symptoms, s, l)
					add(s, lb)
				}
			}
		}
	case f.Cause == "":
		level = FaultCauseLevel
		pick(ft.Causes, tr.Causes)
	case f.Action == "":
		level = FaultActionLevel
		pick(ft.Actions, tr.Actions)
	}
	return level, codes, labels
}

// faultText is a coded fault in l: component → symptom → cause → action.
func faultText(s *SOP, t *Ticket, l Lang) string {
	f := t.Fault
	if f == nil {
		return ""
	}
	var parts []string
	for _, x := range [][2]string{{FaultComponentLevel, f.Component}, {FaultSymptomLevel, f.Symptom}, {FaultCauseLevel, f.Cause}, {FaultActionLevel, f.Action}} {
		if x[1] != "" {
			parts = append(parts, FaultLabel(s, t.Category, x[0], x[1], l))
		}
	}
	return strings.Join(parts, " → ")
}

// FaultText is the ticket's coded fault in l ("" when not coded), for the forms.
func FaultText(s *SOP, t *Ticket, l Lang) string { return faultText(s, t, l) }

// faultRows fill the sign-off step's card: the coding while it is
// pending (the next level's buttons), then the sign-off button with the
// coded fault and a way to change it.
func (c *call) faultRows(t *Ticket, l Lang, b *strings.Builder) [][]Button {
	signoff := [][]Button{{TicketButton(c.tl(l, "btn.signoff"), ActDone, t.ID)}}
	if c.faultTree(t) == nil {
		return signoff
	}
	btn := func(label string, args ...string) Button { return TicketButton(label, ActCode, t.ID, args...) }
	if done := faultText(c.e.SOP(), t, l); done != "" {
		b.WriteString("\n" + c.tl(l, "fault.so_far", "fault", done))
	}
	level, codes, labels := c.faultChoices(t, l)
	if level != "" {
		n := map[string]int{FaultComponentLevel: 1, FaultSymptomLevel: 2, FaultCauseLevel: 3, FaultActionLevel: 4}[level]
		b.WriteString("\n" + c.tl(l, "fault.ask_"+level, "n", n))
		var rows [][]Button
		var row []Button
		for i, code := range codes {
			row = append(row, btn(labels[i], level, code))
			if len(row) == 2 {
				rows, row = append(rows, row), nil
			}
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
		if t.Fault != nil && t.Fault.Component != "" {
			rows = append(rows, []Button{btn(c.tl(l, "btn.fault_restart"), faultRestart)})
		}
		return rows
	}
	if t.Kind == OrderPublic && strings.TrimSpace(t.Place) == "" {
		b.WriteString("\n" + c.tl(l, "fault.ask_asset"))
		return [][]Button{{btn(c.tl(l, "btn.fault_asset"), faultAsset)}, {btn(c.tl(l, "btn.fault_restart"), faultRestart)}}
	}
	if t.Kind == OrderPublic {
		b.WriteString("\n" + c.tl(l, "fault.asset_is", "asset", t.Place))
	}
	change := []Button{btn(c.tl(l, "btn.fault_restart"), faultRestart)}
	if t.Kind == OrderPublic {
		change = append(change, btn(c.tl(l, "btn.fault_asset"), faultAsset))
	}
	return append(signoff, change)
}

// The two operations of the coding besides the four levels.
const (
	faultRestart = "r" // start the coding again
	faultAsset   = "p" // name (or rename) a public order's asset or place
)

// code handles "fcd|<ticket>|<level>[|<code>]" from the assignee at the
// sign-off step: each level's code must be one the tree offers now.
func (c *call) code(t *Ticket, args []string) error {
	if st, _ := c.current(t); st.Kind != StepSignoff || len(args) < 1 || len(args) > 2 {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if c.faultTree(t) == nil {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	level := args[0]
	if len(args) == 1 {
		switch level {
		case faultRestart:
			t.Fault = nil
			return c.show(t)
		case faultAsset:
			if t.Kind != OrderPublic {
				return Errorf(CodeInvalid, "err.bad_button")
			}
			return c.askAsset(t)
		}
		return Errorf(CodeInvalid, "err.bad_button")
	}
	want, codes, _ := c.faultChoices(t, c.lang)
	if level != want {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	if !contains(codes, args[1]) {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if t.Fault == nil {
		t.Fault = &FaultCode{}
	}
	f := t.Fault
	switch level {
	case FaultComponentLevel:
		f.Component = args[1]
	case FaultSymptomLevel:
		f.Symptom = args[1]
	case FaultCauseLevel:
		f.Cause = args[1]
	case FaultActionLevel:
		f.Action, f.By, f.At = args[1], c.me.ID, c.now
		if err := c.record(t, "fault", f.Component+"/"+f.Symptom+"/"+f.Cause+"/"+f.Action); err != nil {
			return err
		}
		if t.Kind == OrderPublic && strings.TrimSpace(t.Place) == "" {
			return c.askAsset(t)
		}
	}
	return c.show(t)
}

// askAsset asks the technician to type the public order's asset or place.
func (c *call) askAsset(t *Ticket) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgFaultAsset, Step: stepText, Started: c.now, TicketID: t.ID}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("fault.asset_prompt", "ticket", t.ID, "asset", t.Place, "max", maxPlace))
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	return c.tx.PutDialogue(d)
}

// assetInput takes the typed place of a public order (a listed asset's
// name names that asset).
func (c *call) assetInput(d *Dialogue) error {
	place, err := c.placeText()
	if err != nil {
		return err
	}
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	// The job may have moved on (signed off, taken over) since the prompt.
	if t.State != StateOnSite || t.AssigneeID != c.me.ID {
		return Errorf(CodeConflict, "err.stale", "ticket", t.ID)
	}
	t.Asset, t.Place = c.e.assetNamed(place), place
	if t.Visit == nil {
		t.Visit = &Visit{}
	}
	if err := c.record(t, "asset", place); err != nil {
		return err
	}
	return c.show(t)
}
