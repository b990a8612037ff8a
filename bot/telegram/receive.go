package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/repairbot/repairbot/flows"
)

// allowedUpdates are the update types the bot asks for.
var allowedUpdates = []string{"message", "callback_query"}

// maxHandleAttempts bounds retries of one update that keeps failing inside
// the engine (a bug or a broken store); after that it is parked in the log
// with its id and skipped, so one poison update cannot stop the whole estate.
const maxHandleAttempts = 5

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates is our own long poll: the offset comes from the store and is
// only advanced inside the transaction that handled the update.
func (c *Channel) getUpdates(ctx context.Context, offset int64) ([]*models.Update, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(c.o.PollTimeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.APIURL+"/bot"+c.o.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("getUpdates: bad request")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, errors.New(redact(err.Error(), c.o.Token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read: %w", err)
	}
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d, undecodable body", resp.StatusCode)
	}
	if !r.OK {
		if r.ErrorCode == http.StatusTooManyRequests {
			return nil, &bot.TooManyRequestsError{Message: r.Description, RetryAfter: r.Parameters.RetryAfter}
		}
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	var ups []*models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		return nil, fmt.Errorf("getUpdates: decode: %w", err)
	}
	return ups, nil
}

// readOffset is the first update id not yet committed.
func (c *Channel) readOffset(ctx context.Context) (int64, error) {
	var off int64
	err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		v, err := tx.Cursor(offsetCursor)
		if err != nil || v == "" {
			return err
		}
		off, err = strconv.ParseInt(v, 10, 64)
		return err
	})
	return off, err
}

func (c *Channel) pollLoop(ctx context.Context) {
	log := c.o.Log.With().Str("loop", "poll").Logger()
	offset, err := c.readOffset(ctx)
	if err != nil {
		log.Error().Err(err).Msg("cannot read the stored offset")
	}
	backoff := time.Duration(0)
	attempts := map[int64]int{}
	for ctx.Err() == nil {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		ups, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var tm *bot.TooManyRequestsError
			if errors.As(err, &tm) && tm.RetryAfter > 0 {
				backoff = time.Duration(tm.RetryAfter) * time.Second
			} else {
				backoff = nextBackoff(backoff, 500*time.Millisecond, 30*time.Second)
			}
			log.Warn().Str("err", err.Error()).Dur("retry_in", backoff).Msg("getUpdates failed")
			continue
		}
		backoff = 0
		c.lastPoll.Store(c.now().UnixNano())
		for _, u := range ups {
			if u.ID < offset {
				continue // already confirmed; a misbehaving server resent it
			}
			err := c.handle(ctx, u, true)
			if err == nil {
				offset = u.ID + 1
				delete(attempts, u.ID)
				continue
			}
			if ctx.Err() != nil {
				return
			}
			attempts[u.ID]++
			log.Error().Err(err).Int64("update", u.ID).Int("attempt", attempts[u.ID]).Msg("update not handled; will retry")
			if attempts[u.ID] >= maxHandleAttempts {
				if err := c.skip(ctx, u.ID); err != nil {
					log.Error().Err(err).Int64("update", u.ID).Msg("cannot skip poison update")
				} else {
					log.Error().Int64("update", u.ID).Msg("update skipped after repeated failures")
					offset = u.ID + 1
					delete(attempts, u.ID)
				}
			}
			backoff = nextBackoff(backoff, 200*time.Millisecond, 10*time.Second)
			break // re-poll from the same offset: nothing after it is confirmed
		}
	}
}

// skip commits the offset past an update that cannot be handled.
func (c *Channel) skip(ctx context.Context, updateID int64) error {
	ev := c.toEvent(&models.Update{ID: updateID})
	ev.Cursor = cursorAfter(updateID)
	_, err := c.o.Engine.Handle(ctx, ev)
	return err
}

func nextBackoff(cur, min, max time.Duration) time.Duration {
	if cur < min {
		return min
	}
	cur *= 2
	if cur > max {
		return max
	}
	return cur
}

// openWebhook listens, then registers the webhook with Telegram.
func (c *Channel) openWebhook(ctx context.Context) error {
	ln, err := net.Listen("tcp", c.o.WebhookListen)
	if err != nil {
		return fmt.Errorf("telegram: webhook listen %s: %w", c.o.WebhookListen, err)
	}
	c.ln = ln
	mux := http.NewServeMux()
	mux.Handle(c.o.WebhookPath, c.WebhookHandler())
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.o.Log.Error().Err(err).Msg("webhook server stopped")
		}
	}()
	if _, err := c.api.SetWebhook(ctx, &bot.SetWebhookParams{
		URL: c.o.WebhookURL, SecretToken: c.o.WebhookSecret, AllowedUpdates: allowedUpdates,
	}); err != nil {
		_ = c.srv.Close()
		return fmt.Errorf("telegram: setWebhook: %s", redact(err.Error(), c.o.Token))
	}
	return nil
}

// WebhookHandler verifies the secret in constant time, commits the update,
// and only then answers 200; a failure answers 500 so Telegram redelivers,
// and the dedupe mark makes the redelivery harmless.
func (c *Channel) WebhookHandler() http.Handler {
	secret := []byte(c.o.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			c.o.Log.Warn().Str("remote", r.RemoteAddr).Msg("webhook: bad or missing secret token")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u models.Update
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		if err := dec.Decode(&u); err != nil || u.ID <= 0 {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if err := c.handle(r.Context(), &u, false); err != nil {
			c.o.Log.Error().Err(err).Int64("update", u.ID).Msg("webhook: update not handled; Telegram will retry")
			http.Error(w, "retry later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// offsetCursor names the stored getUpdates offset.
const offsetCursor = "tg.offset"

func cursorAfter(updateID int64) *flows.Cursor {
	return &flows.Cursor{Name: offsetCursor, Value: strconv.FormatInt(updateID+1, 10)}
}
