package telegram

import rbot "github.com/repairbot/repairbot/bot"

// SendStats reads the live sender counters, for health checks and metrics
// (Paused counts Telegram's 429 answers).
func (c *Channel) SendStats() rbot.SendStats {
	return rbot.StatsOf(c.sender.Dispatcher)
}
