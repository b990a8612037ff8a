package web

import (
	"fmt"
	"net/http"
	"time"
)

// The live board: a server-sent event stream that says "something
// changed" after every commit (bot.Domain.Subscribe); the page then asks
// for its table again. Bursts are coalesced to one event per interval,
// and the stream checks its session on every heartbeat, so a session
// that expired or whose person lost the role stops streaming.

// Stream timing; tests shorten them.
var (
	coalesce  = 300 * time.Millisecond
	heartbeat = 20 * time.Second
)

func (c *Channel) events(w http.ResponseWriter, r *http.Request, v *visitor) {
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout by design.
	_ = rc.SetWriteDeadline(time.Time{})
	changes, cancel := c.o.Domain.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var last time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.ctx.Done():
			return
		case <-beat.C:
			if _, err := c.lookup(r.Context(), v.token); err != nil {
				fmt.Fprint(w, "event: logout\ndata: 1\n\n")
				_ = rc.Flush()
				return
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-changes:
			if wait := coalesce - time.Since(last); wait > 0 {
				select {
				case <-time.After(wait):
				case <-r.Context().Done():
					return
				case <-c.ctx.Done():
					return
				}
			}
			last = time.Now()
			if _, err := fmt.Fprint(w, "event: change\ndata: 1\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
