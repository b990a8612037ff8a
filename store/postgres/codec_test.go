//go:build postgres

package postgres

import (
	"encoding/json"
	"testing"
)

func TestReplaceNULEscapes(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"none", "plain", `"plain"`},
		{"a NUL", "\x00", `"\ufffd"`},
		{"NUL between", "a\x00b\x00", `"a\ufffdb\ufffd"`},
		{"an escaped backslash then u0000 as text", `\u0000`, `"\\u0000"`},
		{"a backslash then a NUL", "\\\x00", `"\\\ufffd"`},
		{"two backslashes then u0000 as text", `\\u0000`, `"\\\\u0000"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := encode(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != c.want {
				t.Fatalf("encode(%q) = %s, want %s", c.in, raw, c.want)
			}
			var back string
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatalf("%s does not decode: %v", raw, err)
			}
		})
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{"tg:1": "tg:1", "a\x00b": "a\uFFFDb", "\xffx": "\uFFFDx", "": ""} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}
