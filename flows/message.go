package flows

import "time"

// MsgKind says what the sender does with a message.
type MsgKind string

// Message kinds.
const (
	KindSend  MsgKind = "send"  // a new message
	KindEdit  MsgKind = "edit"  // replace the text and buttons of the card named by CardKey
	KindPhoto MsgKind = "photo" // a photo by channel file id, or an Export's image, with Text as caption
	KindFile  MsgKind = "file"  // a document named FileName rendered from Export with Text as caption, or whose content is Text
	// KindMenu sets the person's command menu: Buttons[0] lists the
	// commands, Text the description and Data the command name. A channel
	// without per-person menus marks it delivered.
	KindMenu MsgKind = "menu"
)

// Priority orders the outbox: lower goes first.
type Priority int

// Priorities, as DESIGN.md's "The outbox under platform limits" lists them.
const (
	PrioUrgent   Priority = 0 // emergency pages, SLA escalations
	PrioNormal   Priority = 1 // new cards and replies to a person's own action
	PrioEdit     Priority = 2 // card edits
	PrioReminder Priority = 3 // reminders and digests
)

// Button is an inline button. Data is a callback payload (see payload.go).
type Button struct {
	Text string `json:"text"`
	Data string `json:"data"`
}

// Message is one outgoing message, already rendered in the recipient's language.
type Message struct {
	To       Address    `json:"to"`
	Kind     MsgKind    `json:"kind"`
	Text     string     `json:"text"`
	Buttons  [][]Button `json:"buttons,omitempty"`
	CardKey  string     `json:"card,omitempty"`
	Photo    string     `json:"photo,omitempty"`
	Priority Priority   `json:"prio"`
	// RequestContact, when set, shows a reply keyboard with one button with
	// this label that shares the user's phone number.
	RequestContact string `json:"request_contact,omitempty"`
	// RemoveKeyboard hides a reply keyboard shown earlier.
	RemoveKeyboard bool   `json:"remove_keyboard,omitempty"`
	Ticket         string `json:"ticket,omitempty"` // for logs and metrics only
	// FileName names a KindFile document.
	FileName string `json:"file_name,omitempty"`
	// Document sends Photo as a file: an image the person sent as a file
	// has a document file id, which the platform refuses as a photo.
	Document bool `json:"document,omitempty"`
	// Refresh marks an edit that only brings a card's clock up to date (an
	// emergency's countdown), not a change of the job. A channel that
	// cannot edit in place and would post each edit anew (WeCom) skips it.
	// An edit that supersedes a real one before it went out stops being a
	// refresh (the store carries that over), so no state change is lost.
	Refresh bool `json:"refresh,omitempty"`
	// Status is a card's one-line state ("✅ 张师傅 已接单（10:05）"), for a
	// channel that can only replace the buttons of a card already sent
	// (WeCom's update_template_card) rather than edit it.
	Status string `json:"status,omitempty"`
	// Retire marks an edit that only takes the buttons off the card
	// CardKey, which a newer card below replaces; its text stays as it is.
	// A card never delivered or gone is left alone (never posted anew),
	// and a channel that cannot edit in place skips it. Text and Status
	// say where the card went, for a channel that can only replace the
	// buttons with a line.
	Retire bool `json:"retire,omitempty"`
	// Export, on a KindFile or KindPhoto, names the file the message
	// carries — a form, a chart, a spare-parts workbook — which the
	// channel's sender renders at send time (export.go); Text is then the
	// caption, and what is sent where no file can be. It is the one way a
	// message carries a file the engine makes: a KindFile without it is a
	// text document whose content is Text (a review's notes).
	Export *Export `json:"export,omitempty"`
}

// photoMessage forwards a stored photo (or image file) to someone.
func photoMessage(to Address, ph Photo, caption string, prio Priority) Message {
	return Message{To: to, Kind: KindPhoto, Photo: ph.FileID, Document: ph.Document, Text: caption, Priority: prio, Ticket: caption}
}

// EventKind classifies an inbound event.
type EventKind string

// Event kinds.
const (
	EvText        EventKind = "text"
	EvCommand     EventKind = "command"
	EvCallback    EventKind = "callback"
	EvContact     EventKind = "contact"
	EvPhoto       EventKind = "photo"
	EvUnsupported EventKind = "unsupported" // stickers, voice, non-image files...
	// EvFile is a document the bot may read (a spreadsheet), kept by the
	// channel (Event.File); where no dialogue asks for one it is answered
	// as unsupported, What naming it.
	EvFile EventKind = "file"
	// EvNone is an update the bot ignores (edits, membership changes); it
	// still commits its dedupe mark and cursor so it is not fetched again.
	EvNone EventKind = "none"
	// EvConsole is an action taken in the office console (bot/web);
	// Event.Console names it. It goes through the same tables as a chat
	// command or a tap (routes.go), and its answer is the Result, not a
	// chat message.
	EvConsole EventKind = "console"
)

// Sender is who caused an event, as the channel knows them.
type Sender struct {
	ID       string  // "tg:<user id>"
	Chat     Address // their private chat with the bot
	Name     string  // display name from the platform profile
	LangCode string  // platform language code, e.g. "zh-hans", "en-US"
	// TypesPhone says the channel has no share-contact button (微信客服):
	// the person types their number, and the channel turns a text that is
	// only a phone number into a contact. Prompts say so.
	TypesPhone bool
}

// Cursor is a channel position stored in the same transaction as the event.
type Cursor struct {
	Name  string
	Value string
}

// Event is one inbound thing that happened, in channel-neutral form.
type Event struct {
	Key     string    // dedupe key, unique per channel update
	Cursor  *Cursor   // optional; advanced in the same transaction
	Kind    EventKind //
	From    Sender
	Chat    Address // where it happened: the private chat or the group
	InGroup bool
	At      time.Time

	Text    string // text, caption, or command arguments
	Command string // without slash and @bot suffix, lower case
	Data    string // callback payload
	Phone   string // contact
	// ContactIsOwn is true when a shared contact belongs to the sender.
	ContactIsOwn bool
	Photo        *Photo
	// File is the document of an EvFile.
	File *File
	// What names an unsupported input for the reply ("sticker", "document").
	What string
	// TooLarge is set when the platform says the file exceeds what the bot may fetch.
	TooLarge bool
	// NotImage is set when a file sent as a photo turned out not to be an image.
	NotImage bool
	// Console is the action of an EvConsole event.
	Console *ConsoleRequest
}

// File is a document a person sent, as the channel kept it: the platform's
// id, the name and type the sender's client gave, and the copy in the media
// store the engine reads it from (Options.Parts.OpenFile).
type File struct {
	FileID string `json:"file_id"`
	Name   string `json:"name,omitempty"`
	Mime   string `json:"mime,omitempty"`
	Size   int64  `json:"size,omitempty"`
	// SHA256 and Local name the kept copy (empty if the download failed).
	SHA256 string `json:"sha256,omitempty"`
	Local  string `json:"local,omitempty"`
}

// Result is what the channel needs right away, outside the outbox: the
// answer to a button tap (a short toast the client shows at once), or to
// a console action (Toast is then the engine's whole answer, Alert set
// when it refused).
type Result struct {
	Toast     string
	Alert     bool
	Duplicate bool
	// Ticket is the ticket a console action created (a phone report).
	Ticket string
	// Refused is the code of the refusal when the event was a user's
	// mistake or not theirs to make (the answer is in Toast).
	Refused Code
}
