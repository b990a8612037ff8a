// Package sop loads the versioned on-site procedure (checklist steps, door
// rule, minimum tests, price list) from TOML: a sop.toml next to the config,
// or the built-in default that follows the company's SOP text.
package sop

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/repairbot/repairbot/flows"
)

//go:embed default.toml
var defaultTOML []byte

// Default returns the built-in SOP.
func Default() *flows.SOP {
	s, err := Parse(defaultTOML)
	if err != nil {
		panic("sop: built-in default is invalid: " + err.Error())
	}
	return s
}

// DefaultTOML is the built-in definition, for operators to copy and edit.
func DefaultTOML() []byte { return append([]byte(nil), defaultTOML...) }

// Load reads path; an empty path means the built-in default. A configured
// file that is missing is an error, never a silent fall-back.
func Load(path string) (*flows.SOP, error) {
	if path == "" {
		return Default(), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sop: %w", err)
	}
	s, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sop: %s: %w", path, err)
	}
	return s, nil
}

type fileStep struct {
	ID            string            `toml:"id"`
	Kind          string            `toml:"kind"`
	Title         map[string]string `toml:"title"`
	Hint          map[string]string `toml:"hint"`
	HouseholdOnly bool              `toml:"household_only"`
	Photos        *int              `toml:"photos"`
}

type filePrice struct {
	Code  string            `toml:"code"`
	Name  map[string]string `toml:"name"`
	Unit  map[string]string `toml:"unit"`
	Price string            `toml:"price"`
}

type fileCareNote struct {
	ID       string            `toml:"id"`
	Category string            `toml:"category"`
	Text     map[string]string `toml:"text"`
}

type file struct {
	Version   string         `toml:"version"`
	Effective string         `toml:"effective"`
	MaxRings  int            `toml:"max_rings"`
	MaxKnocks int            `toml:"max_knocks"`
	MinTests  int            `toml:"min_tests"`
	Steps     []fileStep     `toml:"steps"`
	Prices    []filePrice    `toml:"prices"`
	CareNotes []fileCareNote `toml:"care_notes"`
	// FaultCoding false turns the coding off; a file without trees gets
	// the built-in ones.
	FaultCoding   *bool      `toml:"fault_coding"`
	FaultSymptoms []fileNode `toml:"fault_symptoms"`
	FaultCauses   []fileNode `toml:"fault_causes"`
	FaultActions  []fileNode `toml:"fault_actions"`
	FaultTrees    []fileTree `toml:"fault_trees"`
}

type fileNode struct {
	Code  string            `toml:"code"`
	Label map[string]string `toml:"label"`
}

type fileComponent struct {
	Code     string            `toml:"code"`
	Label    map[string]string `toml:"label"`
	Symptoms []string          `toml:"symptoms"`
}

type fileTree struct {
	Category   string          `toml:"category"`
	Components []fileComponent `toml:"components"`
	Causes     []string        `toml:"causes"`
	Actions    []string        `toml:"actions"`
}

func nodes(ns []fileNode) []flows.FaultNode {
	var out []flows.FaultNode
	for _, n := range ns {
		out = append(out, flows.FaultNode{Code: n.Code, Label: langs(n.Label)})
	}
	return out
}

// faults converts the file's trees; nil when it has none.
func (f *file) faults() *flows.FaultTrees {
	if len(f.FaultTrees) == 0 && len(f.FaultSymptoms) == 0 && len(f.FaultCauses) == 0 && len(f.FaultActions) == 0 {
		return nil
	}
	ft := &flows.FaultTrees{Symptoms: nodes(f.FaultSymptoms), Causes: nodes(f.FaultCauses), Actions: nodes(f.FaultActions)}
	for _, t := range f.FaultTrees {
		tr := flows.FaultTree{Category: t.Category, Causes: t.Causes, Actions: t.Actions}
		for _, c := range t.Components {
			tr.Components = append(tr.Components, flows.FaultComponent{Code: c.Code, Label: langs(c.Label), Symptoms: c.Symptoms})
		}
		ft.Trees = append(ft.Trees, tr)
	}
	return ft
}

// defaultFaults are the built-in trees, for a file that has none.
func defaultFaults() *flows.FaultTrees {
	var f file
	if _, err := toml.Decode(string(defaultTOML), &f); err != nil {
		panic("sop: built-in default is invalid: " + err.Error())
	}
	return f.faults()
}

// Parse decodes and validates a definition. Unknown keys are errors.
func Parse(raw []byte) (*flows.SOP, error) {
	var f file
	md, err := toml.Decode(string(raw), &f)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("unknown keys: %s", strings.Join(keys, ", "))
	}
	s := &flows.SOP{Version: f.Version, Effective: f.Effective, MaxRings: f.MaxRings, MaxKnocks: f.MaxKnocks, MinTests: f.MinTests,
		Faults: f.faults()}
	switch {
	case f.FaultCoding != nil && !*f.FaultCoding:
		s.Faults = nil
	case s.Faults == nil:
		s.Faults = defaultFaults()
	}
	for _, st := range f.Steps {
		step := flows.Step{ID: st.ID, Kind: flows.StepKind(st.Kind), Title: langs(st.Title), Hint: langs(st.Hint), HouseholdOnly: st.HouseholdOnly}
		if st.Photos != nil {
			if *st.Photos < 1 && step.Kind == flows.StepPhoto {
				return nil, fmt.Errorf("step %q: a photo step needs photos = 1 or more", st.ID)
			}
			step.Photos = *st.Photos
		}
		s.Steps = append(s.Steps, step)
	}
	for _, p := range f.Prices {
		cents, err := parseYuan(p.Price)
		if err != nil {
			return nil, fmt.Errorf("price %s: %w", p.Code, err)
		}
		s.Prices = append(s.Prices, flows.PriceItem{Code: p.Code, Name: langs(p.Name), Unit: langs(p.Unit), Cents: cents})
	}
	for _, n := range f.CareNotes {
		s.CareNotes = append(s.CareNotes, flows.CareNote{ID: n.ID, Category: n.Category, Text: langs(n.Text)})
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func langs(m map[string]string) map[flows.Lang]string {
	out := map[flows.Lang]string{}
	for k, v := range m {
		out[flows.Lang(k)] = v
	}
	return out
}

// parseYuan reads "12", "12.5" or "12.50" into fen without floating point.
func parseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, fmt.Errorf("price %q: use yuan with at most two decimals, e.g. \"35.00\"", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || y < 0 || y > 1_000_000 {
		return 0, fmt.Errorf("price %q: not a valid amount", s)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("price %q: not a valid amount", s)
	}
	return y*100 + f, nil
}
