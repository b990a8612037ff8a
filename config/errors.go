package config

import (
	"errors"
	"fmt"
	"regexp"
)

// ErrInvalid matches (via errors.Is) every problem reported by Parse, Load
// and Validate about the configuration's content, so callers can tell "the
// operator wrote something wrong" apart from I/O failures such as a missing
// file (which wrap the underlying os error instead).
var ErrInvalid = errors.New("config: invalid configuration")

// ValidationError is one problem with the configuration. Validate and Parse
// report all problems they find at once (joined with errors.Join), so an
// operator can fix a whole file in one round instead of one error per restart.
// Use errors.As to get the first one, or Problems to get all of them.
type ValidationError struct {
	// Key is the dotted TOML key the problem is about, e.g.
	// "telegram.group_id" or "categories[2].key". Empty for syntax errors
	// that cannot be attributed to a key.
	Key string
	// Reason says what is wrong, in English, without echoing secret values.
	Reason string
	// Line is the 1-based line in the TOML input, or 0 when unknown (the
	// TOML library only exposes positions for syntax and value errors).
	Line int
}

// Error formats the problem as "config: <key>: <reason>", with the line
// number when known, so that the key an operator must edit comes first.
func (e *ValidationError) Error() string {
	switch {
	case e.Key == "" && e.Line > 0:
		return fmt.Sprintf("config: line %d: %s", e.Line, e.Reason)
	case e.Key == "":
		return "config: " + e.Reason
	case e.Line > 0:
		return fmt.Sprintf("config: %s (line %d): %s", e.Key, e.Line, e.Reason)
	default:
		return "config: " + e.Key + ": " + e.Reason
	}
}

// Is makes errors.Is(err, ErrInvalid) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Problems flattens an error returned by Parse, Load or Validate into its
// individual ValidationErrors (for example to show them as a list in an admin
// chat). It returns nil when err contains none.
func Problems(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ve, ok := e.(*ValidationError); ok {
			out = append(out, ve)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// tokenShape finds anything that looks like a Telegram bot token. Every
// message we build is passed through scrub as a last line of defence, because
// error strings end up in logs and chat messages where a leaked token would
// let anyone impersonate the bot.
var tokenShape = regexp.MustCompile(`[0-9]{3,}:[A-Za-z0-9_-]{20,}`)

// problem builds a ValidationError with secrets scrubbed from the reason.
func problem(key string, line int, format string, args ...any) *ValidationError {
	return &ValidationError{Key: key, Line: line, Reason: scrub(fmt.Sprintf(format, args...))}
}

func scrub(s string) string { return tokenShape.ReplaceAllString(s, "***") }
