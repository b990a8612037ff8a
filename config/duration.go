package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration that is written in TOML as a human-readable
// string such as "72h", "1s" or "500ms".
//
// TOML has no duration type, and a bare integer would leave the unit to guess
// (seconds? nanoseconds?), so durations are always strings with a unit. It
// implements encoding.TextUnmarshaler for decoding and encoding.TextMarshaler
// so that the effective configuration can be logged or re-encoded in the same
// form it was written.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string ("50s", "5m", "72h"). A bare
// number is rejected on purpose: "poll_timeout = 50" is ambiguous.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a string with a unit such as \"500ms\", \"50s\", \"5m\" or \"72h\"", string(text))
	}
	d.Duration = v
	return nil
}

// MarshalText renders the duration the way time.Duration.String does
// ("1m0s"), which UnmarshalText accepts, so values round-trip.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}
