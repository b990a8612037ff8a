package postgres

import (
	"context"
	"strconv"
	"time"
)

// notifyChannel carries "a commit added outbox rows" between the
// processes that share the database: a write transaction that enqueued
// sends it (pg_notify, delivered at commit) with its store's claimer
// number, and every store listens on a connection of its own. Another
// process's notification signals Notify and Subscribe as a local commit
// does, so the leader's dispatcher sends a follower's answers at once
// rather than at its next idle pass, and a console served by any replica
// sees every replica's changes.
const notifyChannel = "repairbot_outbox"

// notifyCommit queues the notification in t (before its COMMIT).
func (s *Store) notifyCommit(t *tx) {
	if t.enqueued {
		_ = t.exec(`SELECT pg_notify($1, $2)`, notifyChannel, strconv.Itoa(int(s.claimer)))
	}
}

// listen relays other processes' notifications until ctx ends, connecting
// again (and signalling once, for what it may have missed) when its
// connection breaks.
func (s *Store) listen(ctx context.Context) {
	self := strconv.Itoa(int(s.claimer))
	for ctx.Err() == nil {
		conn, err := connectSession(ctx, s.connCfg)
		if err == nil {
			if _, err = conn.Exec(ctx, `LISTEN `+notifyChannel); err == nil {
				s.poke()
				for {
					n, err := conn.WaitForNotification(ctx)
					if err != nil {
						break
					}
					if n.Payload != self {
						s.poke()
					}
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
