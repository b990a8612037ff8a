package telegram

// SendStats are the sender's counters since the process started.
type SendStats struct {
	Sent    int64 // messages delivered (sends, edits, photos)
	Retried int64 // transient failures scheduled for another attempt
	TooMany int64 // 429 Too Many Requests answers
	Failed  int64 // permanent failures (row moved to outbox.failed)
}

// SendStats reads the live sender counters, for health checks and metrics.
func (c *Channel) SendStats() SendStats {
	s := c.sender
	return SendStats{Sent: s.Sent.Load(), Retried: s.Retried.Load(), TooMany: s.Paused.Load(), Failed: s.Failed.Load()}
}
