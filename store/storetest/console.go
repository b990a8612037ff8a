package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// testConsole: the console's links and sessions are read back by hash
// (flows.ErrNotFound when missing) and replaced by a put (a link's
// redemption); ConsoleSessions lists one person's sessions ordered by
// hash, and a deleted session leaves it (deleting a missing one is not an
// error); PruneConsole(t) deletes every link and session that expired
// before t — not at t — says how many, and takes pruned sessions out of
// their person's list.
func testConsole(t *testing.T, open Open) {
	o, _ := fresh(t, open)
	s := o.Store
	h := func(c byte) string { return strings.Repeat(string(c), 64) }
	link := &flows.ConsoleLink{Hash: h('a'), PersonID: "tg:7", Created: T0, Expires: T0.Add(10 * time.Minute)}
	stale := &flows.ConsoleLink{Hash: h('b'), PersonID: "tg:7", Created: T0.Add(-time.Hour), Expires: T0.Add(-50 * time.Minute)}
	sess := func(c byte, person string, expires time.Time) *flows.ConsoleSession {
		return &flows.ConsoleSession{Hash: h(c), PersonID: person, Created: T0, Expires: expires, Link: h('a')}
	}
	s1, s2, s3 := sess('e', "tg:7", T0.Add(12*time.Hour)), sess('c', "tg:7", T0.Add(time.Hour)), sess('d', "tg:70", T0.Add(12*time.Hour))
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.PutConsoleLink(link), tx.PutConsoleLink(stale),
			tx.PutConsoleSession(s1), tx.PutConsoleSession(s2), tx.PutConsoleSession(s3))
	})
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.ConsoleLink(h('f')); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("missing link: %v, want flows.ErrNotFound", err)
		}
		if _, err := tx.ConsoleSession(h('f')); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("missing session: %v, want flows.ErrNotFound", err)
		}
		return nil
	})
	used := *link
	at := T0.Add(time.Minute)
	used.Used = &at
	update(t, s, func(tx flows.Tx) error { return tx.PutConsoleLink(&used) })
	wantSame(t, "redeemed link", read(t, s, func(tx flows.Tx) (*flows.ConsoleLink, error) { return tx.ConsoleLink(h('a')) }), &used)
	wantSame(t, "session", read(t, s, func(tx flows.Tx) (*flows.ConsoleSession, error) { return tx.ConsoleSession(h('e')) }), s1)
	sessions := func(person string) []*flows.ConsoleSession {
		return read(t, s, func(tx flows.Tx) ([]*flows.ConsoleSession, error) { return tx.ConsoleSessions(person) })
	}
	wantSame(t, "tg:7's sessions, by hash", sessions("tg:7"), []*flows.ConsoleSession{s2, s1})
	wantSame(t, "tg:70's sessions (no prefix match)", sessions("tg:70"), []*flows.ConsoleSession{s3})
	update(t, s, func(tx flows.Tx) error {
		return errors.Join(tx.DeleteConsoleSession(h('e')), tx.DeleteConsoleSession(h('f')))
	})
	wantSame(t, "tg:7's sessions after a delete", sessions("tg:7"), []*flows.ConsoleSession{s2})

	// At T0 + 1h both links (expired at T0 - 50m and T0 + 10m) go and s2,
	// expiring exactly then, stays; a second later s2 goes.
	var n int
	update(t, s, func(tx flows.Tx) error {
		var err error
		n, err = tx.PruneConsole(T0.Add(time.Hour))
		return err
	})
	if n != 2 {
		t.Errorf("PruneConsole(T0+1h) = %d, want 2 (both links)", n)
	}
	wantSame(t, "session expiring at the bound", sessions("tg:7"), []*flows.ConsoleSession{s2})
	update(t, s, func(tx flows.Tx) error {
		var err error
		n, err = tx.PruneConsole(T0.Add(time.Hour + time.Second))
		return err
	})
	if n != 1 {
		t.Errorf("PruneConsole(T0+1h1s) = %d, want 1 (s2)", n)
	}
	if got := sessions("tg:7"); len(got) != 0 {
		t.Errorf("a pruned session is still listed: %v", show(got))
	}
	view(t, s, func(tx flows.Tx) error {
		if _, err := tx.ConsoleLink(h('a')); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("pruned link: %v, want flows.ErrNotFound", err)
		}
		if _, err := tx.ConsoleSession(h('c')); !errors.Is(err, flows.ErrNotFound) {
			t.Errorf("pruned session: %v, want flows.ErrNotFound", err)
		}
		return nil
	})
	wantSame(t, "tg:70's session survives", sessions("tg:70"), []*flows.ConsoleSession{s3})
}
