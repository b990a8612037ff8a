package tgfake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// defaultExcluded are the update types Telegram does not send unless they
// are listed in allowed_updates explicitly.
var defaultExcluded = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

// updateType returns the allowed_updates name of the update's payload.
func updateType(u *models.Update) string {
	b, err := json.Marshal(u)
	if err != nil {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	for k := range m {
		if k != "update_id" {
			return k
		}
	}
	return ""
}

// enqueueLocked assigns an update_id if needed and queues the update unless
// the bot's allowed_updates filter drops it. It returns the update_id.
func (s *Server) enqueueLocked(u models.Update) int64 {
	if u.ID == 0 {
		u.ID = s.nextUpdateID
	}
	if u.ID >= s.nextUpdateID {
		s.nextUpdateID = u.ID + 1
	}
	t := updateType(&u)
	if s.allowed != nil && !s.allowed[t] || s.allowed == nil && defaultExcluded[t] {
		s.notifyLocked()
		return u.ID
	}
	s.pending = append(s.pending, u)
	if n := len(s.pending); n > 1 && s.pending[n-2].ID > u.ID {
		sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].ID < s.pending[j].ID })
	}
	s.history = append(s.history, u)
	if n := len(s.history); n > 1 && s.history[n-2].ID > u.ID {
		sort.SliceStable(s.history, func(i, j int) bool { return s.history[i].ID < s.history[j].ID })
	}
	s.notifyLocked()
	return u.ID
}

// Redeliver makes every update with from <= update_id that was already
// confirmed pending again and forgets the confirmations from from on, as
// Telegram serves updates to a bot that polls with an older offset than
// the one it confirmed (its stored offset was lost, rewound or restored
// from an older copy). A bot that dedupes by update_id must recognise
// each one. It returns how many updates became pending again; a poll
// with a higher offset confirms them again at once.
func (s *Server) Redeliver(from int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued := map[int64]bool{}
	for _, u := range s.pending {
		queued[u.ID] = true
	}
	n := 0
	for _, u := range s.history {
		if u.ID >= from && u.ID < s.confirmed && !queued[u.ID] {
			s.pending = append(s.pending, u)
			n++
		}
	}
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].ID < s.pending[j].ID })
	if from < s.confirmed {
		s.confirmed = from
	}
	s.notifyLocked()
	return n
}

// Hold keeps every update with update_id >= from out of getUpdates answers
// (they stay pending, and new ones queue up behind them) until Release: a
// test can let a bot work through older updates alone.
func (s *Server) Hold(from int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdFrom = from
	s.notifyLocked()
}

// Release ends Hold.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdFrom = 0
	s.notifyLocked()
}

// confirmLocked forgets every update with id < offset.
func (s *Server) confirmLocked(offset int64) {
	i := 0
	for i < len(s.pending) && s.pending[i].ID < offset {
		i++
	}
	if i > 0 {
		s.pending = append([]models.Update(nil), s.pending[i:]...)
	}
	if offset > s.confirmed {
		s.confirmed = offset
	}
	s.notifyLocked()
}

// Inject queues an arbitrary update and returns its update_id (assigned
// when u.ID is zero). The update is deep-copied. A callback query in it
// becomes answerable; a private message from a user opens the private chat.
func (s *Server) Inject(u models.Update) int64 {
	if b, err := json.Marshal(&u); err == nil {
		var cp models.Update
		if json.Unmarshal(b, &cp) == nil {
			u = cp
		}
	}
	s.mu.Lock()
	if cq := u.CallbackQuery; cq != nil {
		if cq.ID == "" {
			cq.ID = s.newQueryIDLocked()
		}
		q := &queryRec{}
		if m := cq.Message.Message; m != nil {
			q.chatID, q.messageID = m.Chat.ID, m.ID
		} else if m := cq.Message.InaccessibleMessage; m != nil {
			q.chatID, q.messageID = m.Chat.ID, m.MessageID
		}
		s.queries[cq.ID] = q
	}
	if m := u.Message; m != nil && m.Chat.Type == models.ChatTypePrivate && m.Chat.ID > 0 {
		s.privateOK[m.Chat.ID] = true
		if m.From != nil {
			s.users[m.Chat.ID] = User{ID: m.From.ID, FirstName: m.From.FirstName, LastName: m.From.LastName, Username: m.From.Username, LanguageCode: m.From.LanguageCode}
		}
	}
	id := s.enqueueLocked(u)
	s.mu.Unlock()
	return id
}

func conflict(desc string) *apiError {
	return &apiError{code: http.StatusConflict, desc: "Conflict: " + desc}
}

func (s *Server) hGetUpdates(c *call) (any, *apiError) {
	offset, _, err := c.int64("offset")
	if err != nil {
		return nil, badRequest("invalid offset specified")
	}
	limit := c.intOr("limit", 100)
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	wait := time.Duration(c.intOr("timeout", 0)) * time.Second
	wait = min(wait, s.opts.MaxLongPoll)
	var allowed map[string]bool
	setAllowed := false
	if raw := strings.TrimSpace(c.str("allowed_updates")); raw != "" && raw != "null" {
		var list []string
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
		setAllowed = true
		if len(list) > 0 {
			allowed = map[string]bool{}
			for _, t := range list {
				allowed[t] = true
			}
		}
	}
	deadline := time.Now().Add(wait)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook != nil {
		return nil, conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	s.pollGen++
	gen := s.pollGen
	if setAllowed {
		s.allowed = allowed
	}
	if offset > 0 {
		s.confirmLocked(offset)
	} else {
		s.notifyLocked() // wake a superseded poller
	}
	for {
		if s.pollGen != gen {
			return nil, conflict("terminated by other getUpdates request; make sure that only one bot instance is running")
		}
		if s.webhook != nil {
			return nil, conflict("terminated by setWebhook request")
		}
		batch := []models.Update{}
		for _, u := range s.pending {
			if len(batch) == limit {
				break
			}
			if s.holdFrom > 0 && u.ID >= s.holdFrom {
				break // pending is in id order
			}
			if u.ID >= offset {
				batch = append(batch, u)
			}
		}
		if len(batch) > 0 {
			for _, u := range batch {
				s.delivered[u.ID]++
			}
			s.notifyLocked()
			return batch, nil
		}
		remaining := time.Until(deadline)
		if s.closed || remaining <= 0 || c.ctx.Err() != nil {
			return batch, nil
		}
		ch := s.changed
		s.mu.Unlock()
		timer := time.NewTimer(remaining)
		select {
		case <-ch:
		case <-timer.C:
		case <-c.ctx.Done():
		case <-s.closeCh:
		}
		timer.Stop()
		s.mu.Lock()
	}
}
