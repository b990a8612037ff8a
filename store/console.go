package store

import (
	"bytes"
	"errors"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The office console's links and sessions, each under the hash of its
// token (the tokens themselves are never stored), and a person's sessions
// by person for /console logout. Both buckets stay small: a link lives ten
// minutes, a session hours, and PruneConsole drops them after.
var (
	bConsoleLinks            = []byte("console.links")
	bConsoleSessions         = []byte("console.sessions")
	bConsoleSessionsByPerson = []byte("console.sessions.by_person")
)

func init() {
	// Appended here rather than in allBuckets' declaration, so the areas
	// that add buckets do not all edit one line.
	allBuckets = append(allBuckets, bConsoleLinks, bConsoleSessions, bConsoleSessionsByPerson)
}

// ConsoleLink implements flows.Tx.
func (t *tx) ConsoleLink(hash string) (*flows.ConsoleLink, error) {
	var l flows.ConsoleLink
	if err := t.get(bConsoleLinks, hash, "console link", &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// PutConsoleLink implements flows.Tx.
func (t *tx) PutConsoleLink(l *flows.ConsoleLink) error {
	return t.put(bConsoleLinks, []byte(l.Hash), l)
}

// ConsoleSession implements flows.Tx.
func (t *tx) ConsoleSession(hash string) (*flows.ConsoleSession, error) {
	var s flows.ConsoleSession
	if err := t.get(bConsoleSessions, hash, "console session", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutConsoleSession implements flows.Tx and keeps the by-person index.
func (t *tx) PutConsoleSession(s *flows.ConsoleSession) error {
	if old, err := t.ConsoleSession(s.Hash); err == nil && old.PersonID != s.PersonID {
		if err := t.bk(bConsoleSessionsByPerson).Delete(key(old.PersonID, old.Hash)); err != nil {
			return err
		}
	}
	if err := t.bk(bConsoleSessionsByPerson).Put(key(s.PersonID, s.Hash), nil); err != nil {
		return err
	}
	return t.put(bConsoleSessions, []byte(s.Hash), s)
}

// DeleteConsoleSession implements flows.Tx.
func (t *tx) DeleteConsoleSession(hash string) error {
	s, err := t.ConsoleSession(hash)
	if errors.Is(err, flows.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.bk(bConsoleSessionsByPerson).Delete(key(s.PersonID, s.Hash)); err != nil {
		return err
	}
	return t.bk(bConsoleSessions).Delete([]byte(hash))
}

// ConsoleSessions implements flows.Tx.
func (t *tx) ConsoleSessions(personID string) ([]*flows.ConsoleSession, error) {
	var out []*flows.ConsoleSession
	prefix := key(personID, "")
	c := t.bk(bConsoleSessionsByPerson).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		s, err := t.ConsoleSession(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// PruneConsole implements flows.Tx.
func (t *tx) PruneConsole(before time.Time) (int, error) {
	var links, sessions []string
	err := t.bk(bConsoleLinks).ForEach(func(k, v []byte) error {
		var l flows.ConsoleLink
		if err := decode(v, &l); err != nil {
			return err
		}
		if l.Expires.Before(before) {
			links = append(links, string(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	err = t.bk(bConsoleSessions).ForEach(func(k, v []byte) error {
		var s flows.ConsoleSession
		if err := decode(v, &s); err != nil {
			return err
		}
		if s.Expires.Before(before) {
			sessions = append(sessions, string(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range links {
		if err := t.bk(bConsoleLinks).Delete([]byte(k)); err != nil {
			return 0, err
		}
	}
	for _, k := range sessions {
		if err := t.DeleteConsoleSession(k); err != nil {
			return 0, err
		}
	}
	return len(links) + len(sessions), nil
}
