package flows

import (
	"context"
	"strings"
	"time"
)

// UndeliveredReport is what a channel's sender tells the admins once its
// platform answers again: messages it gave up because they were still
// failing (the platform down, transient errors) when older than the
// configured outbox.give_up_after.
type UndeliveredReport struct {
	// Channel names the channel ("telegram", "wecom").
	Channel string
	// Since is when the spell of failures began (zero when the platform
	// kept answering other chats); Until when it answered again.
	Since, Until time.Time
	// Count is how many messages were given up; Tickets those they were about.
	Count   int
	Tickets []string
	// After is the age at which messages are given up.
	After time.Duration
}

// ReportUndelivered tells every admin, in their language and first in the
// queue, which messages were given up, so someone re-queues them
// (`repairbot outbox requeue`) or tells the people concerned.
func (e *Engine) ReportUndelivered(ctx context.Context, r UndeliveredReport) error {
	now := e.o.Now().UTC()
	return e.o.Store.Update(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
		admins, err := tx.PeopleByRole(RoleAdmin)
		if err != nil {
			return err
		}
		tickets := strings.Join(r.Tickets, ", ")
		if tickets == "" {
			tickets = "—"
		}
		since := "—"
		if !r.Since.IsZero() {
			since = c.localTime(r.Since)
		}
		for _, p := range admins {
			if !p.Registered || p.Chat.IsZero() {
				continue
			}
			c.send(Message{To: p.Chat, Priority: PrioUrgent, Text: c.tl(p.Lang, "outbox.gave_up",
				"channel", r.Channel, "n", r.Count, "since", since, "until", c.localTime(r.Until),
				"after", r.After.String(), "tickets", tickets)})
		}
		return c.flush()
	})
}
