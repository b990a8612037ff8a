package flows

import "fmt"

// StepKind is what an on-site checklist step asks of the technician. The
// kinds are code; their order, titles, reminders and limits come from the
// versioned SOP definition (package sop), not from code.
type StepKind string

// Step kinds, in the order the built-in SOP uses them (SOP 4.1–4.2).
const (
	StepDoor    StepKind = "door"    // ring ≤ N / knock ≤ M, resident answered or no one home
	StepEntry   StepKind = "entry"   // consent to enter: resident's button or verbal, recorded which
	StepSurvey  StepKind = "survey"  // diagnosis and plan: a note, optional photos
	StepQuote   StepKind = "quote"   // items from the price list, resident's explicit consent
	StepPhoto   StepKind = "photo"   // a required photo (protection, cleanup)
	StepWork    StepKind = "work"    // the repair itself; a change of plan needs consent again
	StepTests   StepKind = "tests"   // at least N passed tests; a failed test returns to work
	StepCare    StepKind = "care"    // care notes explained
	StepSignoff StepKind = "signoff" // the resident confirms the work order
)

// Step is one checklist step of the SOP definition.
type Step struct {
	ID    string          `json:"id"`
	Kind  StepKind        `json:"kind"`
	Title map[Lang]string `json:"title"`
	// Hint is the reminder shown with the step (conduct rules software
	// cannot enforce: noise, no smoking, protect belongings...).
	Hint map[Lang]string `json:"hint,omitempty"`
	// HouseholdOnly skips the step on public-facility orders (the quote).
	HouseholdOnly bool `json:"household_only,omitempty"`
	// Photos is how many photos the step needs before the technician
	// moves on (0: none; a photo step needs at least one). A lead may
	// waive it with /skip and a reason.
	Photos int `json:"photos,omitempty"`
}

// maxStepPhotos is how many photos one step takes.
const maxStepPhotos = 10

// MinPhotos is how many photos the step needs before the next one.
func (st Step) MinPhotos() int {
	if st.Kind == StepPhoto && st.Photos < 1 {
		return 1
	}
	return st.Photos
}

// PriceItem is one line of the service price list (服务价目表).
type PriceItem struct {
	Code string          `json:"code"`
	Name map[Lang]string `json:"name"`
	Unit map[Lang]string `json:"unit"`
	// Cents is the unit price in fen (1/100 yuan), so sums are exact.
	Cents int64 `json:"cents"`
}

// CareNote is a typical care note (注意事项) the technician explains at
// the care step, offered as a button (SOP 4.2.4).
type CareNote struct {
	ID string `json:"id"`
	// Category is the fault category it is offered for; "" for every one.
	Category string          `json:"category,omitempty"`
	Text     map[Lang]string `json:"text"`
}

// SOP is one version of the in-home repair procedure as the bot runs it.
type SOP struct {
	Version   string      `json:"version"`
	Effective string      `json:"effective"`
	MaxRings  int         `json:"max_rings"`
	MaxKnocks int         `json:"max_knocks"`
	MinTests  int         `json:"min_tests"`
	Steps     []Step      `json:"steps"`
	Prices    []PriceItem `json:"prices"`
	// Faults are the fault coding trees (faultcode.go); none turns the
	// coding off.
	Faults    *FaultTrees `json:"faults,omitempty"`
	CareNotes []CareNote  `json:"care_notes,omitempty"`
}

// Validate checks what the engine relies on.
func (s *SOP) Validate() error {
	if s.Version == "" {
		return fmt.Errorf("sop: version is required")
	}
	if s.MaxRings < 1 || s.MaxKnocks < 1 || s.MinTests < 1 {
		return fmt.Errorf("sop %s: max_rings, max_knocks and min_tests must be at least 1", s.Version)
	}
	seen := map[string]bool{}
	kinds := map[StepKind]int{}
	for i, st := range s.Steps {
		if st.ID == "" || len(st.ID) > 12 {
			return fmt.Errorf("sop %s: step %d: id must be 1-12 characters", s.Version, i+1)
		}
		if seen[st.ID] {
			return fmt.Errorf("sop %s: step id %q is used twice", s.Version, st.ID)
		}
		seen[st.ID] = true
		switch st.Kind {
		case StepDoor, StepEntry, StepSurvey, StepQuote, StepPhoto, StepWork, StepTests, StepCare, StepSignoff:
		default:
			return fmt.Errorf("sop %s: step %q: unknown kind %q", s.Version, st.ID, st.Kind)
		}
		kinds[st.Kind]++
		switch {
		case st.Photos < 0 || st.Photos > maxStepPhotos:
			return fmt.Errorf("sop %s: step %q: photos must be 0-%d", s.Version, st.ID, maxStepPhotos)
		case st.Photos > 0 && (st.Kind == StepEntry || st.Kind == StepQuote):
			// The resident's own answer moves these on; a photo cannot hold it.
			return fmt.Errorf("sop %s: step %q: a %s step cannot require photos", s.Version, st.ID, st.Kind)
		}
		if st.Title[LangZH] == "" || st.Title[LangEN] == "" {
			return fmt.Errorf("sop %s: step %q needs a title in zh-CN and en", s.Version, st.ID)
		}
	}
	for _, k := range []StepKind{StepWork, StepTests, StepSignoff} {
		if kinds[k] != 1 {
			return fmt.Errorf("sop %s: exactly one %q step is required", s.Version, k)
		}
	}
	if s.Steps[len(s.Steps)-1].Kind != StepSignoff {
		return fmt.Errorf("sop %s: the last step must be the sign-off", s.Version)
	}
	codes := map[string]bool{}
	for _, p := range s.Prices {
		if p.Code == "" || len(p.Code) > 12 || codes[p.Code] {
			return fmt.Errorf("sop %s: price code %q is empty, longer than 12 or duplicated", s.Version, p.Code)
		}
		codes[p.Code] = true
		if p.Cents < 0 || p.Name[LangZH] == "" || p.Name[LangEN] == "" {
			return fmt.Errorf("sop %s: price %q needs names in zh-CN and en and a price ≥ 0", s.Version, p.Code)
		}
	}
	if err := s.Faults.validate(); err != nil {
		return fmt.Errorf("sop %s: %w", s.Version, err)
	}
	notes := map[string]bool{}
	for _, n := range s.CareNotes {
		if n.ID == "" || len(n.ID) > 12 || notes[n.ID] {
			return fmt.Errorf("sop %s: care note id %q is empty, longer than 12 or duplicated", s.Version, n.ID)
		}
		notes[n.ID] = true
		if n.Text[LangZH] == "" || n.Text[LangEN] == "" {
			return fmt.Errorf("sop %s: care note %q needs a text in zh-CN and en", s.Version, n.ID)
		}
	}
	return nil
}

// careNote finds a typical care note.
func (s *SOP) careNote(id string) (CareNote, bool) {
	for _, n := range s.CareNotes {
		if n.ID == id {
			return n, true
		}
	}
	return CareNote{}, false
}

// index returns the position of the step with id, or -1.
func (s *SOP) index(id string) int {
	for i, st := range s.Steps {
		if st.ID == id {
			return i
		}
	}
	return -1
}

// indexKind returns the position of the first step of kind k, or -1.
func (s *SOP) indexKind(k StepKind) int {
	for i, st := range s.Steps {
		if st.Kind == k {
			return i
		}
	}
	return -1
}

// price finds a price-list item.
func (s *SOP) price(code string) (PriceItem, bool) {
	for _, p := range s.Prices {
		if p.Code == code {
			return p, true
		}
	}
	return PriceItem{}, false
}

// Money renders fen as yuan with two decimals.
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, cents/100, cents%100)
}
