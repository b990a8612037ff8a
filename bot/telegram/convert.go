package telegram

import (
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/repairbot/repairbot/flows"
)

// ChannelName prefixes Telegram identities and addresses.
const ChannelName = "tg"

// PersonID is the flows identity of a Telegram user.
func PersonID(userID int64) string { return ChannelName + ":" + strconv.FormatInt(userID, 10) }

// ChatAddress is the flows address of a Telegram chat.
func ChatAddress(chatID int64) flows.Address {
	return flows.Address{Channel: ChannelName, Chat: strconv.FormatInt(chatID, 10)}
}

// UpdateKey is the inbound dedupe key of an update.
func UpdateKey(updateID int64) string { return ChannelName + ":u:" + strconv.FormatInt(updateID, 10) }

func sender(u *models.User) flows.Sender {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Username
	}
	return flows.Sender{ID: PersonID(u.ID), Chat: ChatAddress(u.ID), Name: name, LangCode: u.LanguageCode}
}

// toEvent maps a Telegram update to a channel-neutral event. Updates the
// bot does not act on become EvNone, so their dedupe mark and offset still
// commit and they are not fetched again.
func (c *Channel) toEvent(u *models.Update) flows.Event {
	ev := flows.Event{Key: UpdateKey(u.ID), Kind: flows.EvNone, At: c.now()}
	switch {
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		ev.Kind = flows.EvCallback
		ev.From = sender(&q.From)
		ev.Data = q.Data
		ev.Chat = ev.From.Chat
		if m := q.Message.Message; m != nil {
			ev.Chat = ChatAddress(m.Chat.ID)
			ev.InGroup = m.Chat.Type != models.ChatTypePrivate
		} else if m := q.Message.InaccessibleMessage; m != nil {
			ev.Chat = ChatAddress(m.Chat.ID)
			ev.InGroup = m.Chat.Type != models.ChatTypePrivate
		}
	case u.Message != nil && u.Message.From != nil && !u.Message.From.IsBot:
		c.messageEvent(u.Message, &ev)
	}
	return ev
}

func (c *Channel) messageEvent(m *models.Message, ev *flows.Event) {
	ev.From = sender(m.From)
	ev.Chat = ChatAddress(m.Chat.ID)
	ev.InGroup = m.Chat.Type != models.ChatTypePrivate
	switch {
	case m.Text != "":
		if cmd, args, ok := c.command(m); ok {
			if cmd == "" {
				return // a command addressed to another bot in a group
			}
			ev.Kind, ev.Command, ev.Text = flows.EvCommand, cmd, args
			return
		}
		ev.Kind, ev.Text = flows.EvText, m.Text
	case m.Contact != nil:
		ev.Kind = flows.EvContact
		ev.Phone = m.Contact.PhoneNumber
		ev.ContactIsOwn = m.Contact.UserID == m.From.ID
	case len(m.Photo) > 0:
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.FileSize > best.FileSize || (p.FileSize == best.FileSize && p.Width*p.Height > best.Width*best.Height) {
				best = p
			}
		}
		ev.Kind, ev.Text = flows.EvPhoto, m.Caption
		ev.Photo = &flows.Photo{FileID: best.FileID, UniqueID: best.FileUniqueID, Size: int64(best.FileSize)}
		ev.TooLarge = int64(best.FileSize) > c.o.MaxPhotoBytes
	case m.Document != nil:
		d := m.Document
		if strings.HasPrefix(d.MimeType, "image/") && (d.MimeType == "image/jpeg" || d.MimeType == "image/png" || d.MimeType == "image/webp" || d.MimeType == "image/heic") {
			ev.Kind, ev.Text = flows.EvPhoto, m.Caption
			ev.Photo = &flows.Photo{FileID: d.FileID, UniqueID: d.FileUniqueID, Size: d.FileSize, Document: true}
			ev.TooLarge = d.FileSize > c.o.MaxPhotoBytes
			return
		}
		ev.Kind, ev.What = flows.EvUnsupported, "file "+d.MimeType
		if spreadsheet(d) {
			// A workbook the engine may read (a catalog import): the
			// channel keeps a copy before the event is handled.
			ev.Kind, ev.Text = flows.EvFile, m.Caption
			ev.File = &flows.File{FileID: d.FileID, Name: d.FileName, Mime: d.MimeType, Size: d.FileSize}
			ev.TooLarge = d.FileSize > c.o.MaxPhotoBytes
		}
	case m.Sticker != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "sticker"
	case m.Voice != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "voice"
	case m.Video != nil || m.VideoNote != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "video"
	case m.Animation != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "GIF"
	case m.Location != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "location"
	case m.Audio != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "audio"
	case m.Poll != nil || m.Dice != nil:
		ev.Kind, ev.What = flows.EvUnsupported, "poll"
	default:
		if !ev.InGroup { // service messages in groups (joins, titles) are ignored
			ev.Kind, ev.What = flows.EvUnsupported, "message"
		}
	}
}

// xlsxMime is the type of an Excel workbook (.xlsx).
const xlsxMime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// spreadsheet reports whether a document is an .xlsx workbook, by its type
// or, as some clients send application/octet-stream, by its name.
func spreadsheet(d *models.Document) bool {
	return d.MimeType == xlsxMime || strings.HasSuffix(strings.ToLower(d.FileName), ".xlsx")
}

// command parses "/name@bot args". ok is false for plain text; an empty
// name with ok means the command is for another bot.
func (c *Channel) command(m *models.Message) (name, args string, ok bool) {
	if !strings.HasPrefix(m.Text, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(m.Text, " ")
	word = strings.TrimPrefix(word, "/")
	if at := strings.IndexByte(word, '@'); at >= 0 {
		if !strings.EqualFold(word[at+1:], c.username()) {
			return "", "", true
		}
		word = word[:at]
	}
	if word == "" {
		return "", "", false
	}
	return strings.ToLower(word), strings.TrimSpace(rest), true
}
