package flows

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// What every dialogue shares: its steps, the reminder of what it awaits,
// and the checks of a typed answer. Each kind is a row of the dialogue
// table (routes.go) with its handlers in the file of its area.

// Dialogue steps. They are stored, so their names never change meaning.
const (
	stepName       = "name"
	stepPhone      = "phone"
	stepBuilding   = "building"
	stepUnit       = "unit"
	stepRoom       = "room"
	stepCategory   = "category"
	stepDesc       = "desc"
	stepPhotos     = "photos"
	stepKind       = "kind"
	stepPlace      = "place"
	stepTiming     = "timing"
	stepTime       = "time"
	stepComment    = "comment"
	stepReason     = "reason"
	stepQty        = "qty"
	stepReply      = "reply"
	stepDetails    = "details"
	stepText       = "text"
	stepReasons    = "reasons"
	stepMeasures   = "measures"
	stepActions    = "actions"
	stepSignedForm = "signed_form"
	stepVersion    = "version"
)

// promptHint reminds the person what the bot is waiting for.
func (c *call) promptHint(d *Dialogue) string {
	return c.t("hint." + d.Step)
}

// textField validates the event as a short single-line text answer.
func (c *call) textField(max int) (string, error) {
	if c.ev.Kind == EvPhoto {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	if c.ev.Kind != EvText {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	return typedText(c.ev.Text, max)
}

// typedText checks a typed answer as a dialogue takes it: control and
// invisible characters removed, not empty, at most max characters (too
// long is refused, never cut). The console's forms pass their fields
// through it, so a field typed there is held to the same rule as in chat.
func typedText(s string, max int) (string, error) {
	v := cleanText(strings.TrimSpace(s), 0)
	if v == "" {
		return "", Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", max)
	}
	return v, nil
}

// longText reads the event as a free-text answer: text only, control and
// invisible characters removed (newlines kept), not empty, and at most
// MaxDescription characters — too long is refused, never silently cut.
func (c *call) longText() (string, error) {
	if c.ev.Kind != EvText {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	text := cleanText(strings.TrimSpace(c.ev.Text), 0)
	if text == "" {
		return "", Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > c.e.o.MaxDescription {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	return text, nil
}

// cleanText removes control characters (keeping newlines), zero-width and
// bidirectional-override characters, which spoof names and break cards.
// max > 0 truncates to that many runes.
func cleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		if r != '\n' && (unicode.IsControl(r) || isInvisible(r)) {
			continue
		}
		if max > 0 && n >= max {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, // zero-width space/joiners, LRM/RLM
		r >= 0x202A && r <= 0x202E, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0xFEFF, r == 0x2060:
		return true
	}
	return false
}

// normalizePhone keeps a leading + and digits; anything implausible is "".
func normalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 5 || len(digits) > 15 {
		return ""
	}
	return b.String()
}

// MaskPhone hides the middle of a phone number for logs and group cards.
func MaskPhone(p string) string {
	if len(p) <= 4 {
		return "****"
	}
	keep := 3
	if len(p) < 8 {
		keep = 1
	}
	return p[:keep] + strings.Repeat("*", len(p)-keep-4) + p[len(p)-4:]
}

// phonePrompt asks for the phone number: with the share-contact button
// where the channel has one, otherwise (key + "_typed") to type it.
func (c *call) phonePrompt(key string, kv ...any) Message {
	if c.ev.From.TypesPhone {
		return Message{To: c.ev.From.Chat, Text: c.t(key+"_typed", kv...), Priority: PrioNormal}
	}
	return Message{To: c.ev.From.Chat, Text: c.t(key, kv...), RequestContact: c.t("btn.share_phone"), Priority: PrioNormal}
}
