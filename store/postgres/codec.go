//go:build postgres

package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// schemaVersion is the version of the record encoding, stored in every
// row's v column; a row written by a newer program is refused, not guessed.
const schemaVersion = 1

// encode marshals a record for a jsonb column. PostgreSQL's text cannot
// hold U+0000, and jsonb refuses the escape \u0000 that encoding/json
// writes for it, so a NUL in any string (bbolt would have kept it) is
// stored as U+FFFD instead: a bad character must not make the event's
// whole transaction fail.
func encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return replaceNULEscapes(raw), nil
}

// replaceNULEscapes rewrites every \u0000 escape of a JSON document as
// \ufffd. An escape is a backslash preceded by an even number of
// backslashes; `\\u0000` is a backslash followed by the text "u0000".
func replaceNULEscapes(raw []byte) []byte {
	const nul = `\u0000`
	if !bytes.Contains(raw, []byte(nul)) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		j := bytes.Index(raw[i:], []byte(nul))
		if j < 0 {
			out = append(out, raw[i:]...)
			break
		}
		j += i
		slashes := 0
		for k := j - 1; k >= 0 && raw[k] == '\\'; k-- {
			slashes++
		}
		out = append(out, raw[i:j]...)
		if slashes%2 == 0 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, nul...)
		}
		i = j + len(nul)
	}
	return out
}

// decode unmarshals a row's record after checking its encoding version.
func decode(what string, v int, raw []byte, out any) error {
	if v > schemaVersion {
		return fmt.Errorf("store/postgres: %s record schema %d is newer than %d; upgrade the program", what, v, schemaVersion)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("store/postgres: corrupt %s record: %w", what, err)
	}
	return nil
}

// text makes a string storable in a text column: PostgreSQL refuses NUL
// and invalid UTF-8, which a Go string (a key built from a platform's
// input) may hold. Both become U+FFFD, the same way for a write and a
// later read of the same key, as encoding/json does in the records.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// sec truncates a time to the second in UTC: the resolution of the bbolt
// index keys the *_sec columns stand for.
func sec(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
