package flows

import "time"

// SOPVersion is one version of the procedure under governance: a number,
// the file's own label, its fingerprint, and the computed change summary.
type SOPVersion struct {
	Number    int         `json:"number"`
	Label     string      `json:"label"`
	Hash      string      `json:"hash"`
	Effective string      `json:"effective"`
	Author    string      `json:"author"`
	Created   time.Time   `json:"created"`
	Changes   []SOPChange `json:"changes,omitempty"`
	SOP       *SOP        `json:"sop"`
	// Review is the review whose measures this version carries, when its
	// closing linked or made it.
	Review string `json:"review,omitempty"`
	// Source is where the definition came from: SourceConsole for a
	// change made in the console (the SOP file does not have it), empty
	// for the SOP file as read (start-up, /sop reload, a review's close;
	// every version stored before the console could change one).
	Source string `json:"source,omitempty"`
}

// SourceConsole marks a version made in the console (SOPVersion.Source).
const SourceConsole = "console"

// SOPChange is one computed difference between two versions.
type SOPChange struct {
	Kind string `json:"kind"` // step_added, step_removed, step_changed, rule_changed, price_added, price_removed, price_changed
	What string `json:"what"` // step id, rule name or price code
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Ack is a person's "read and understood" of a version.
type Ack struct {
	Version  int       `json:"version"`
	PersonID string    `json:"person_id"`
	At       time.Time `json:"at"`
	Quiz     int       `json:"quiz,omitempty"` // questions answered correctly
}

// Review is a review of the SOP (复审): yearly or triggered.
type Review struct {
	ID           string            `json:"id"`
	Trigger      string            `json:"trigger"` // yearly, complaint, sla, safety, repeat, major
	Opened       time.Time         `json:"opened"`
	Deadline     time.Time         `json:"deadline"`
	Owner        string            `json:"owner"`
	Status       string            `json:"status"` // open, closed, effective
	SOPVersion   int               `json:"sop_version"`
	Tickets      []string          `json:"tickets,omitempty"`
	Participants []string          `json:"participants"`
	Answers      map[string]string `json:"answers,omitempty"` // person id → suggested / declined
	Suggestions  []Suggestion      `json:"suggestions,omitempty"`
	Report       *ReviewReport     `json:"report,omitempty"`
	Closed       *time.Time        `json:"closed,omitempty"`
	Escalated    bool              `json:"escalated,omitempty"`
	Effective    *time.Time        `json:"effective,omitempty"`
	// Note is what happened, for a review a lead opened by hand (a major fault).
	Note string `json:"note,omitempty"`
	// NewVersion is the SOP version the review's measures made (0: the
	// review changed no procedure); Changes its change set from the
	// version reviewed (SOPVersion). Both are set when it closes.
	NewVersion int         `json:"new_version,omitempty"`
	Changes    []SOPChange `json:"changes,omitempty"`
}

// Suggestion is a frontline opinion, on a review or waiting for the next one.
type Suggestion struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
	Photos []Photo   `json:"photos,omitempty"`
}

// ReviewReport is the result of a review: reasons, measures, and the plan.
type ReviewReport struct {
	Reasons  string        `json:"reasons"`
	Measures string        `json:"measures"`
	Actions  []Improvement `json:"actions"`
}

// Improvement is one improvement measure with an owner and a due date, tracked until done.
type Improvement struct {
	N        int        `json:"n"`
	Text     string     `json:"text"`
	Owner    string     `json:"owner"`
	Due      time.Time  `json:"due"`
	Done     *time.Time `json:"done,omitempty"`
	Evidence string     `json:"evidence,omitempty"`
}
