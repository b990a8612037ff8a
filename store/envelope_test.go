package store

import (
	"strconv"
	"strings"
	"testing"
)

// TestDecodeEnvelope: the hand-read envelope agrees with encoding/json on
// what encode writes, and other spellings still decode (or fail) as JSON.
func TestDecodeEnvelope(t *testing.T) {
	type rec struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	raw, err := encode(rec{A: `x"}y`, N: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, raw, want, err string
	}{
		{"encoded", string(raw), `x"}y/7`, ""},
		{"spaced", `{ "v": 1, "d": {"a":"s","n":2} }`, "s/2", ""},
		{"fields swapped", `{"d":{"a":"w","n":3},"v":1}`, "w/3", ""},
		{"newer", `{"v":2,"d":{"a":"s"}}`, "", "newer"},
		{"newer spaced", `{"v": 99, "d": {}}`, "", "newer"},
		{"corrupt value", `{"v":1,"d":{"a":}`, "", "corrupt"},
		{"trailing field", `{"v":1,"d":{"a":"s"},"x":1}`, "", "corrupt"},
		{"not json", `garbage`, "", "corrupt"},
		{"empty", ``, "", "corrupt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r rec
			err := decode([]byte(c.raw), &r)
			switch {
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("err = %v, want %q", err, c.err)
			case c.err == "" && c.want != "" && (err != nil || r.A+"/"+strconv.Itoa(r.N) != c.want):
				t.Fatalf("got %+v, %v; want %s", r, err, c.want)
			}
		})
	}
}
