package flows

import (
	"strings"
	"unicode"
)

// RepeatsTx finds the tickets of one place: a home (any resident of it)
// or a public asset.
type RepeatsTx interface {
	// TicketsAtPlace lists the tickets whose PlaceKey is place, newest
	// Created first, at most limit.
	TicketsAtPlace(place string, limit int) ([]*Ticket, error)
}

// PlaceKey is where a ticket's fault is, for finding repeats: the home
// (building, unit and room of a household order) or the asset of a public
// one, normalised so two residents typing "3栋 2单元" and "3栋2单元" meet.
// It is "" when the ticket names no such place. Stores index it.
func PlaceKey(t *Ticket) string {
	if t.Kind == OrderPublic {
		if a := normPlace(t.Asset); a != "" {
			return "asset\x1f" + a
		}
		return ""
	}
	if normPlace(t.Room) == "" {
		return ""
	}
	return "home\x1f" + normPlace(t.Building) + "\x1f" + normPlace(t.Unit) + "\x1f" + normPlace(t.Room)
}

// normPlace drops spaces and control characters, folds full-width forms
// and letter case.
func normPlace(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			continue
		case r >= '！' && r <= '～': // full-width ASCII
			r -= '！' - '!'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
