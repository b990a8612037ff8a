package tgfake

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// userMessageLocked stores a message from u in chatID and returns its Bot
// API form, ready to be completed and queued. A positive chatID is the
// private chat with u (normally chatID == u.ID); writing there opens the
// chat for the bot and lifts a block. A negative chatID is a group; unknown
// groups are registered on the fly.
func (s *Server) userMessageLocked(u User, chatID int64, fill func(*msgRec)) (*msgRec, models.Message) {
	if chatID > 0 {
		s.privateOK[chatID] = true
		delete(s.blocked, chatID)
		if chatID == u.ID || s.users[chatID].ID == 0 {
			s.users[chatID] = u
		}
	} else if _, ok := s.groups[chatID]; !ok {
		s.groups[chatID] = fmt.Sprintf("Group %d", -chatID)
	}
	m := &msgRec{chatID: chatID, from: u, date: time.Now()}
	if fill != nil {
		fill(m)
	}
	s.chatLocked(chatID).add(m)
	return m, s.modelLocked(m)
}

// queueUserMessage finishes a simulated user action: it queues the update,
// records the transcript entry and delivers OnEntry callbacks.
func (s *Server) queueUserMessage(msg models.Message, e Entry) int64 {
	id := s.enqueueLocked(models.Update{Message: &msg})
	e.MessageID = msg.ID
	s.addEntryLocked(e)
	s.notifyLocked()
	s.mu.Unlock()
	s.flushEntries()
	return id
}

// SendText simulates u writing text in chatID (u.ID for the private chat, a
// negative id for a group). A leading "/command" (optionally "@bot") gets a
// bot_command entity, as on Telegram. It returns the update_id.
func (s *Server) SendText(u User, chatID int64, text string) int64 {
	s.mu.Lock()
	_, msg := s.userMessageLocked(u, chatID, func(m *msgRec) {
		m.text = text
		if strings.HasPrefix(text, "/") {
			word := text
			if i := strings.IndexAny(text, " \t\n"); i >= 0 {
				word = text[:i]
			}
			m.entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(word)}}
		}
	})
	return s.queueUserMessage(msg, Entry{Kind: "user_text", ChatID: chatID, From: u, Text: text})
}

// SendContact simulates u sharing a contact in the private chat. With
// ownContact the contact is u's own (contact.user_id == u.ID, as produced by
// a request_contact button); otherwise it is someone else's.
func (s *Server) SendContact(u User, phone string, ownContact bool) int64 {
	s.mu.Lock()
	contact := &models.Contact{PhoneNumber: phone, FirstName: u.FirstName, LastName: u.LastName, UserID: u.ID}
	if !ownContact {
		s.otherSeq++
		contact.FirstName, contact.LastName = "Other", "Person"
		contact.UserID = 5100000000 + s.otherSeq
	}
	_, msg := s.userMessageLocked(u, u.ID, func(m *msgRec) { m.contact = phone })
	msg.Contact = contact
	return s.queueUserMessage(msg, Entry{Kind: "user_contact", ChatID: u.ID, From: u, Text: phone})
}

// SendPhoto simulates u sending a photo of sizeBytes bytes (a fake JPEG that
// getFile and the download URL serve). message.photo has two sizes; the
// largest has file_size == sizeBytes.
func (s *Server) SendPhoto(u User, chatID int64, caption string, sizeBytes int) int64 {
	s.mu.Lock()
	f := s.newPhotoSetLocked(int64(sizeBytes), nil)
	_, msg := s.userMessageLocked(u, chatID, func(m *msgRec) {
		m.photo = append([]models.PhotoSize(nil), f.set...)
		m.caption = caption
	})
	return s.queueUserMessage(msg, Entry{Kind: "user_photo", ChatID: chatID, From: u, Text: caption})
}

// SendPhotoData simulates u sending a photo with these bytes (a JPEG or
// PNG picture): getFile and the download URL serve them as they are for
// the full size. It returns the update_id.
func (s *Server) SendPhotoData(u User, chatID int64, caption string, data []byte) int64 {
	s.mu.Lock()
	f := s.newPhotoSetLocked(int64(len(data)), append([]byte(nil), data...))
	_, msg := s.userMessageLocked(u, chatID, func(m *msgRec) {
		m.photo = append([]models.PhotoSize(nil), f.set...)
		m.caption = caption
	})
	return s.queueUserMessage(msg, Entry{Kind: "user_photo", ChatID: chatID, From: u, Text: caption})
}

// SendDocument simulates u sending a file. The bytes served on download are
// synthesised with a magic number matching mimeType (JPEG, PNG, PDF, WebP).
func (s *Server) SendDocument(u User, chatID int64, fileName, mimeType string, sizeBytes int) int64 {
	s.mu.Lock()
	f := s.newFileLocked(kindDocument, fileName, mimeType, int64(sizeBytes), nil)
	_, msg := s.userMessageLocked(u, chatID, func(m *msgRec) { m.document = f.document() })
	return s.queueUserMessage(msg, Entry{Kind: "user_document", ChatID: chatID, From: u, Text: fileName})
}

// SendFile simulates u sending a document with these bytes (a workbook
// the bot reads), served as they are on download.
func (s *Server) SendFile(u User, chatID int64, fileName, mimeType string, data []byte) int64 {
	s.mu.Lock()
	f := s.newFileLocked(kindDocument, fileName, mimeType, int64(len(data)), append([]byte(nil), data...))
	_, msg := s.userMessageLocked(u, chatID, func(m *msgRec) { m.document = f.document() })
	return s.queueUserMessage(msg, Entry{Kind: "user_document", ChatID: chatID, From: u, Text: fileName})
}

// SendSticker simulates u sending a (static WebP) sticker.
func (s *Server) SendSticker(u User, chatID int64) int64 {
	s.mu.Lock()
	f := s.newFileLocked(kindSticker, "", "image/webp", 18000, nil)
	_, msg := s.userMessageLocked(u, chatID, nil)
	msg.Sticker = &models.Sticker{
		FileID: f.id, FileUniqueID: f.unique, Type: "regular", Width: 512, Height: 512,
		Emoji: "👍", SetName: "FakeStickers", FileSize: int(f.size),
	}
	return s.queueUserMessage(msg, Entry{Kind: "user_sticker", ChatID: chatID, From: u, Text: "👍"})
}

func (s *Server) newQueryIDLocked() string {
	s.querySeq++
	return strconv.FormatUint(4611686018427387904+uint64(s.querySeq)*7919, 10)
}

// callbackLocked queues a callback query from u on message (nil: the message
// is inaccessible) and returns the update_id.
func (s *Server) callbackLocked(u User, chatID int64, messageID int, m *msgRec, data, buttonText string) int64 {
	if chatID > 0 {
		s.privateOK[chatID] = true
		delete(s.blocked, chatID)
		if s.users[chatID].ID == 0 {
			s.users[chatID] = u
		}
	}
	id := s.newQueryIDLocked()
	cq := &models.CallbackQuery{ID: id, From: u.model(), ChatInstance: s.chatLocked(chatID).instance, Data: data}
	if m != nil && !m.deleted {
		model := s.modelLocked(m)
		cq.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &model}
	} else {
		cq.Message = models.MaybeInaccessibleMessage{
			Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: s.chatObject(chatID), MessageID: messageID},
		}
	}
	s.queries[id] = &queryRec{chatID: chatID, messageID: messageID, from: u}
	upd := s.enqueueLocked(models.Update{CallbackQuery: cq})
	s.addEntryLocked(Entry{Kind: "user_tap", ChatID: chatID, From: u, MessageID: messageID, Text: buttonText, Data: data})
	s.notifyLocked()
	return upd
}

// Tap simulates u pressing an inline button of the bot message messageID in
// chatID. The button is looked up in the message's current keyboard by exact
// text, or else by substring. It fails when there is no such message or
// button, or the button has no callback_data (e.g. a URL button). It returns
// the update_id.
func (s *Server) Tap(u User, chatID int64, messageID int, buttonText string) (int64, error) {
	s.mu.Lock()
	var m *msgRec
	if ch := s.chats[chatID]; ch != nil {
		m = ch.byID[messageID]
	}
	if m == nil || !m.fromBot || m.deleted {
		s.mu.Unlock()
		return 0, fmt.Errorf("tgfake: no bot message %d in chat %d", messageID, chatID)
	}
	var found *models.InlineKeyboardButton
	if m.inline != nil {
		for pass := 0; pass < 2 && found == nil; pass++ {
			for _, row := range m.inline.InlineKeyboard {
				for j := range row {
					if pass == 0 && row[j].Text == buttonText || pass == 1 && strings.Contains(row[j].Text, buttonText) {
						b := row[j]
						found = &b
						break
					}
				}
				if found != nil {
					break
				}
			}
		}
	}
	if found == nil {
		var labels []string
		for _, row := range inlineButtons(m.inline) {
			for _, b := range row {
				labels = append(labels, fmt.Sprintf("%q", b.Text))
			}
		}
		s.mu.Unlock()
		return 0, fmt.Errorf("tgfake: message %d in chat %d has no button %q (buttons: %s)", messageID, chatID, buttonText, strings.Join(labels, ", "))
	}
	if found.CallbackData == "" {
		s.mu.Unlock()
		return 0, fmt.Errorf("tgfake: button %q of message %d has no callback_data", found.Text, messageID)
	}
	id := s.callbackLocked(u, chatID, messageID, m, found.CallbackData, found.Text)
	s.mu.Unlock()
	s.flushEntries()
	return id, nil
}

// TapData simulates a callback query with arbitrary data on messageID,
// without checking the keyboard: a stale button of an edited message or a
// forged query. If the bot message does not exist the query carries an
// inaccessible message (date 0). It returns the update_id.
func (s *Server) TapData(u User, chatID int64, messageID int, data string) int64 {
	s.mu.Lock()
	var m *msgRec
	if ch := s.chats[chatID]; ch != nil {
		if mm := ch.byID[messageID]; mm != nil && mm.fromBot {
			m = mm
		}
	}
	id := s.callbackLocked(u, chatID, messageID, m, data, "")
	s.mu.Unlock()
	s.flushEntries()
	return id
}
