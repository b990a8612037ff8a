package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

const (
	webhookFirstRetry = 50 * time.Millisecond
	webhookMaxRetry   = time.Second
	secretHeader      = "X-Telegram-Bot-Api-Secret-Token"
)

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// webhookState is an active webhook and its delivery goroutine.
type webhookState struct {
	url, secret string
	maxConn     int
	allowed     []string
	cancel      context.CancelFunc
	done        chan struct{}
}

func (w *webhookState) stop() {
	w.cancel()
	<-w.done
}

// webhookStatus is what getWebhookInfo reports about failures.
type webhookStatus struct {
	lastErrDate time.Time
	lastErrMsg  string
}

func (s *Server) hSetWebhook(c *call) (any, *apiError) {
	raw := strings.TrimSpace(c.str("url"))
	if raw == "" {
		return s.removeWebhook(c.boolean("drop_pending_updates"))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	secret := c.str("secret_token")
	if secret != "" && !secretRE.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	var allowedList []string
	setAllowed := false
	if a := strings.TrimSpace(c.str("allowed_updates")); a != "" && a != "null" {
		if err := json.Unmarshal([]byte(a), &allowedList); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
		setAllowed = true
	}
	maxConn := c.intOr("max_connections", 40)

	s.whMu.Lock()
	defer s.whMu.Unlock()
	s.mu.Lock()
	old := s.webhook
	s.webhook = nil
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &apiError{code: http.StatusServiceUnavailable, desc: "Service Unavailable"}
	}
	if c.boolean("drop_pending_updates") {
		s.pending = nil
	}
	if setAllowed {
		s.allowed = nil
		if len(allowedList) > 0 {
			s.allowed = map[string]bool{}
			for _, t := range allowedList {
				s.allowed[t] = true
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	wh := &webhookState{url: raw, secret: secret, maxConn: maxConn, allowed: allowedList, cancel: cancel, done: make(chan struct{})}
	s.webhook = wh
	s.whInfo = webhookStatus{}
	s.notifyLocked()
	go s.webhookLoop(ctx, wh)
	return describedTrue("Webhook was set"), nil
}

func (s *Server) hDeleteWebhook(c *call) (any, *apiError) {
	return s.removeWebhook(c.boolean("drop_pending_updates"))
}

func (s *Server) removeWebhook(drop bool) (any, *apiError) {
	s.whMu.Lock()
	defer s.whMu.Unlock()
	s.mu.Lock()
	old := s.webhook
	s.webhook = nil
	if drop {
		s.pending = nil
	}
	s.notifyLocked()
	s.mu.Unlock()
	if old == nil {
		return describedTrue("Webhook is already deleted"), nil
	}
	old.stop()
	return describedTrue("Webhook was deleted"), nil
}

func (s *Server) hGetWebhookInfo(*call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := models.WebhookInfo{PendingUpdateCount: len(s.pending)}
	if wh := s.webhook; wh != nil {
		info.URL = wh.url
		info.MaxConnections = wh.maxConn
		info.AllowedUpdates = append([]string(nil), wh.allowed...)
		if !s.whInfo.lastErrDate.IsZero() {
			info.LastErrorDate = int(s.whInfo.lastErrDate.Unix())
			info.LastErrorMessage = s.whInfo.lastErrMsg
		}
	}
	return info, nil
}

// webhookLoop delivers pending updates one at a time, in order, retrying a
// failed update with exponential backoff before moving on (or, with
// Options.WebhookConnections, several at once: webhookParallel).
func (s *Server) webhookLoop(ctx context.Context, wh *webhookState) {
	if n := min(s.opts.WebhookConnections, wh.maxConn); n > 1 {
		s.webhookParallel(ctx, wh, n)
		return
	}
	defer close(wh.done)
	backoff := webhookFirstRetry
	for {
		s.mu.Lock()
		if len(s.pending) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		upd := s.pending[0]
		s.delivered[upd.ID]++
		s.notifyLocked()
		s.mu.Unlock()

		body, err := json.Marshal(&upd)
		if err != nil {
			body = []byte(fmt.Sprintf(`{"update_id":%d}`, upd.ID))
		}
		status, err := s.postWebhook(ctx, wh, body)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if err == nil && status >= 200 && status < 300 {
			for i, p := range s.pending {
				if p.ID == upd.ID {
					s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
					break
				}
			}
			if upd.ID+1 > s.confirmed {
				s.confirmed = upd.ID + 1
			}
			s.notifyLocked()
			s.mu.Unlock()
			backoff = webhookFirstRetry
			continue
		}
		s.whInfo.lastErrDate = time.Now()
		if err != nil {
			s.whInfo.lastErrMsg = "Connection refused"
		} else {
			s.whInfo.lastErrMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
		}
		s.notifyLocked()
		s.mu.Unlock()
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(backoff*2, webhookMaxRetry)
	}
}

// webhookParallel keeps up to n posts in flight: the pending updates in
// id order, each retried with a backoff of its own when it fails.
func (s *Server) webhookParallel(ctx context.Context, wh *webhookState, n int) {
	defer close(wh.done)
	type result struct {
		id     int64
		status int
		err    error
	}
	results := make(chan result, n) // never blocks a post: at most n in flight
	inflight := map[int64]bool{}
	retryAt := map[int64]time.Time{}
	backoff := map[int64]time.Duration{}
	for {
		s.mu.Lock()
		now := time.Now()
		var wake time.Time
		started := false
		for _, upd := range s.pending {
			if len(inflight) >= n {
				break
			}
			if inflight[upd.ID] {
				continue
			}
			if at, ok := retryAt[upd.ID]; ok && now.Before(at) {
				if wake.IsZero() || at.Before(wake) {
					wake = at
				}
				continue
			}
			inflight[upd.ID], started = true, true
			s.delivered[upd.ID]++
			body, err := json.Marshal(&upd)
			if err != nil {
				body = []byte(fmt.Sprintf(`{"update_id":%d}`, upd.ID))
			}
			go func(id int64) {
				status, err := s.postWebhook(ctx, wh, body)
				results <- result{id, status, err}
			}(upd.ID)
		}
		if started {
			s.notifyLocked()
		}
		ch := s.changed
		s.mu.Unlock()
		timer := time.NewTimer(time.Hour)
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
		}
		var r result
		got := false
		select {
		case <-ctx.Done():
		case <-ch:
		case <-timer.C:
		case r = <-results:
			got = true
		}
		timer.Stop()
		if ctx.Err() != nil {
			return
		}
		if got {
			delete(inflight, r.id)
			s.mu.Lock()
			if r.err == nil && r.status >= 200 && r.status < 300 {
				delete(retryAt, r.id)
				delete(backoff, r.id)
				for i, p := range s.pending {
					if p.ID == r.id {
						s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
						break
					}
				}
				// Every update below the oldest pending one is confirmed.
				c := s.nextUpdateID
				if len(s.pending) > 0 {
					c = s.pending[0].ID
				}
				if c > s.confirmed {
					s.confirmed = c
				}
			} else {
				b := backoff[r.id]
				if b == 0 {
					b = webhookFirstRetry
				}
				retryAt[r.id], backoff[r.id] = time.Now().Add(b), min(b*2, webhookMaxRetry)
				s.whInfo.lastErrDate = time.Now()
				if r.err != nil {
					s.whInfo.lastErrMsg = "Connection refused"
				} else {
					s.whInfo.lastErrMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", r.status, http.StatusText(r.status))
				}
			}
			s.notifyLocked()
			s.mu.Unlock()
		}
	}
}

func (s *Server) postWebhook(ctx context.Context, wh *webhookState, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set(secretHeader, wh.secret)
	}
	resp, err := s.whClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
