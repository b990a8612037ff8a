package store

import "github.com/repairbot/repairbot/flows"

// bRoster holds the weekly duty pattern (flows.RosterTx): one record.
var bRoster = []byte("roster")

// rosterKey is the key of the one pattern.
const rosterKey = "weekly"

func init() { allBuckets = append(allBuckets, bRoster) }

// Roster implements flows.RosterTx.
func (t *tx) Roster() (*flows.Roster, error) {
	var r flows.Roster
	if err := t.get(bRoster, rosterKey, "roster", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutRoster implements flows.RosterTx.
func (t *tx) PutRoster(r *flows.Roster) error { return t.put(bRoster, []byte(rosterKey), r) }
