package telegram

import rbot "github.com/repairbot/repairbot/bot"

// SendStats reads the live sender counters, for health checks and metrics
// (Paused counts Telegram's 429 answers).
func (c *Channel) SendStats() rbot.SendStats {
	s := c.sender
	since, _ := s.Unreachable()
	return rbot.SendStats{Sent: s.Sent.Load(), Retried: s.Retried.Load(), Paused: s.Paused.Load(), Failed: s.Failed.Load(),
		GaveUp: s.GaveUp.Load(), UnreachableSince: since}
}
