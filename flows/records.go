package flows

import "time"

// Helpers for what is derived from tickets outside the engine (the forms,
// the reports): the same rules the chat texts follow, exported once.

// CategoryLabel is a category's label in l (any label, else the key).
func CategoryLabel(cats []Category, key string, l Lang) string {
	for _, c := range cats {
		if c.Key != key {
			continue
		}
		if s := c.Labels[l]; s != "" {
			return s
		}
		for _, lang := range []Lang{LangZH, LangEN} {
			if s := c.Labels[lang]; s != "" {
				return s
			}
		}
	}
	return key
}

// LastTestPasses are the times of the passed on-site tests of the latest
// round (after the last failed test, rework or change of plan), as the
// chat work order lists them.
func LastTestPasses(events []TicketEvent) []time.Time { return lastPasses(events) }
