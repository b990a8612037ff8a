package flows

import (
	"strconv"
	"strings"
)

// Callback payloads are short, versioned strings: "1|<verb>|<args...>".
// Telegram allows 64 bytes, so verbs are two or three letters. A payload is
// only a request: the engine re-reads role, assignee and state on every tap.
const payloadVersion = "1"

// MaxPayload is the largest callback payload any channel accepts (Telegram: 64 bytes).
const MaxPayload = 64

// Payload is a decoded button payload.
type Payload struct {
	Verb string   // a ticket Action, or a verb of the button table (routes.go): "d" a dialogue choice, "c" a command...
	Args []string //
}

// EncodePayload builds a payload string.
func EncodePayload(verb string, args ...string) string {
	return payloadVersion + "|" + verb + "|" + strings.Join(args, "|")
}

// TicketButton is a button applying a ticket action.
func TicketButton(text string, a Action, ticketID string, extra ...string) Button {
	return Button{Text: text, Data: EncodePayload(string(a), append([]string{ticketID}, extra...)...)}
}

// DialogueButton is a button answering the current prompt of a dialogue;
// seq ties it to that prompt so an old one is recognised as stale.
func DialogueButton(text string, seq int, value string) Button {
	return Button{Text: text, Data: EncodePayload(vbChoice, strconv.Itoa(seq), value)}
}

// CommandButton runs a command as if typed.
func CommandButton(text, command string) Button {
	return Button{Text: text, Data: EncodePayload(vbCommand, command)}
}

// CommandArgButton runs a command with one short argument (a page number);
// the command checks it, and who may run it, as if it had been typed.
func CommandArgButton(text, command, arg string) Button {
	return Button{Text: text, Data: EncodePayload(vbCommand, command, arg)}
}

// DecodePayload parses a payload; ok is false for anything malformed,
// oversized, of another version or with control characters.
func DecodePayload(s string) (Payload, bool) {
	if len(s) == 0 || len(s) > MaxPayload {
		return Payload{}, false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return Payload{}, false
		}
	}
	parts := strings.Split(s, "|")
	if len(parts) < 3 || parts[0] != payloadVersion || parts[1] == "" {
		return Payload{}, false
	}
	args := parts[2:]
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	return Payload{Verb: parts[1], Args: args}, true
}
