package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// PersonID names a person on any channel the way the bot does: "tg:<user
// id>" on Telegram, "wecom:<userid>" on the WeCom app. In the file it is a
// string ("tg:123456789", "wecom:zhangsan"); a bare integer is a Telegram
// user id, the only form before person ids, so older files keep working
// (people = [111111111] is people = ["tg:111111111"]).
type PersonID string

// rosterChannels are the address channels staff can be on, with what
// their ids look like (the channel packages' PersonID constructors).
var rosterChannels = map[string]struct {
	what string
	ok   func(string) bool
}{
	"tg": {"a positive Telegram user id", func(id string) bool {
		// Canonical only: "tg:0123" would never match the person "tg:123".
		n, err := strconv.ParseInt(id, 10, 64)
		return err == nil && n > 0 && strconv.FormatInt(n, 10) == id
	}},
	"wecom": {"a WeCom userid (1-64 letters, digits, '_', '-', '.', '@')", wecomUserID.MatchString},
}

// wecomUserID is what a WeCom member userid (账号) may hold: 1-64
// letters, digits and _-.@.
var wecomUserID = regexp.MustCompile(`^[0-9A-Za-z_.@-]{1,64}$`)

// UnmarshalTOML reads a string as it is and an integer n as "tg:<n>";
// Validate judges the result (naming the key), so a bad entry is reported
// with the others instead of stopping the decode.
func (p *PersonID) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*p = PersonID(x)
	case int64:
		*p = PersonID("tg:" + strconv.FormatInt(x, 10))
	default:
		// Decode names the key and line (a toml.ParseError).
		return fmt.Errorf(`expected a person id like "tg:123456789" or "wecom:zhangsan", or a Telegram user id; got %s`, tomlType(v))
	}
	return nil
}

// tomlType names a decoded TOML value's type as the file spells it.
func tomlType(v any) string {
	switch v.(type) {
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "datetime"
}

// Channel is the address channel of the id ("tg", "wecom"), "" when it has none.
func (p PersonID) Channel() string {
	ch, _, ok := strings.Cut(string(p), ":")
	if !ok {
		return ""
	}
	return ch
}

// check says what is wrong with the id ("" when nothing is).
func (p PersonID) check() string {
	ch, id, ok := strings.Cut(string(p), ":")
	rule, known := rosterChannels[ch]
	switch {
	case !ok || ch == "" || id == "":
		return fmt.Sprintf(`must be a person id like "tg:123456789" or "wecom:zhangsan", or a Telegram user id (got %q)`, string(p))
	case !known:
		return fmt.Sprintf(`names channel %q; staff are on "tg" or "wecom" (got %q)`, ch, string(p))
	case !rule.ok(id):
		if ch == "tg" {
			// The wording of the integer-only roster, which most files use.
			return "must be a positive Telegram user id (got " + id + ")"
		}
		return fmt.Sprintf("must be %s after %q (got %q)", rule.what, ch+":", id)
	}
	return ""
}
