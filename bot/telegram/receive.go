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
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/rs/zerolog"

	rbot "github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

// allowedUpdates are the update types the bot asks for.
var allowedUpdates = []string{"message", "callback_query"}

// maxHandleAttempts bounds retries of one update that keeps failing inside
// the engine (a bug); after that it is parked in the log with its id and
// skipped, so one poison update cannot stop the whole estate. An update
// that fails for the machine's sake (a full disk: bot.Environmental) is
// never parked: it waits until the store takes it.
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

// pollLoop polls getUpdates. It sends the stored offset only when a
// handled batch must be confirmed; otherwise (at start-up, and after a
// poll that brought nothing) it polls without one, which confirms
// nothing and returns whatever Telegram holds, whatever its ids. A poll
// with an offset above Telegram's ids would confirm — drop — every
// update below it: Telegram's ids restart at a random value after a week
// without updates, and a database restored from elsewhere carries someone
// else's offset. Polling without one, the bot sees such updates and moves
// its offset back to them (handleBatch); redelivered ones are recognised
// by their dedupe marks.
// pollWhileLeading polls while this process leads its replicas (only one
// process may call getUpdates for a bot: a second gets 409 Conflict): it
// waits for the lead, polls from the stored offset (the last leader's),
// and stops polling when the lead is lost. A process of its own always
// leads.
func (c *Channel) pollWhileLeading(ctx context.Context) {
	if c.o.Leading == nil {
		c.pollLoop(ctx)
		return
	}
	for ctx.Err() == nil {
		if !c.o.Leading() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(leadPoll):
			}
			continue
		}
		c.o.Log.Info().Msg("leading: polling getUpdates")
		c.opened.Store(c.now().UnixNano()) // the poll check counts from here
		lead, cancel := context.WithCancel(ctx)
		go func() {
			t := time.NewTicker(leadPoll)
			defer t.Stop()
			for {
				select {
				case <-lead.Done():
					return
				case <-t.C:
					if !c.o.Leading() {
						cancel()
						return
					}
				}
			}
		}()
		c.pollLoop(lead)
		cancel()
		if ctx.Err() == nil {
			c.o.Log.Info().Msg("no longer leading: polling stops")
		}
	}
}

// leadPoll is how often the poll loop looks whether it (still) leads.
const leadPoll = 250 * time.Millisecond

func (c *Channel) pollLoop(ctx context.Context) {
	log := c.o.Log.With().Str("loop", "poll").Logger()
	offset, err := c.readOffset(ctx)
	if err != nil {
		log.Error().Err(err).Msg("cannot read the stored offset")
	}
	trouble := &pollTrouble{}
	delay := time.Duration(0)
	attempts := map[int64]int{}
	confirm := false // the next poll carries the offset, to confirm a handled batch
	for ctx.Err() == nil {
		if delay > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
		ask := int64(0)
		if confirm {
			ask = offset
		}
		ups, err := c.getUpdates(ctx, ask)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			delay = trouble.fail()
			var tm *bot.TooManyRequestsError
			if errors.As(err, &tm) && tm.RetryAfter > 0 {
				delay = max(delay, time.Duration(tm.RetryAfter)*time.Second)
			}
			if ok, suppressed := trouble.allowLog(); ok {
				log.Warn().Str("err", err.Error()).Dur("retry_in", delay).Int("failures", trouble.count()).
					Int("suppressed", suppressed).Msg("getUpdates failed")
			}
			continue
		}
		c.lastPoll.Store(c.now().UnixNano())
		if len(ups) == 0 {
			confirm = false // Telegram holds nothing below the offset now
		} else {
			confirm = true
		}
		next, failed := c.handleBatch(ctx, ups, offset, attempts, trouble)
		if ctx.Err() != nil {
			return
		}
		offset = next
		if failed {
			delay = trouble.fail()
			continue
		}
		delay = 0
		if n, suppressed, last, since := trouble.reset(); n > 0 {
			log.Info().Int("failures", n).Int("suppressed", suppressed).Dur("last_delay", last).
				Dur("after", time.Since(since).Round(time.Millisecond)).Msg("polling recovered")
		}
	}
}

// Poll failure backoff: the delay before the next getUpdates doubles from
// pollBackoffMin to pollBackoffMax while polling or handling keeps failing
// (a full disk fails every commit), and the error lines of one failure
// streak come at most once per pollLogEvery, each with the count of lines
// left out since the last.
const (
	pollBackoffMin = 200 * time.Millisecond
	pollBackoffMax = 30 * time.Second
	pollLogEvery   = 10 * time.Second
)

// pollTrouble is the poll loop's current failure streak. The lanes of a
// batch log through it concurrently.
type pollTrouble struct {
	mu         sync.Mutex
	failures   int
	delay      time.Duration
	since      time.Time
	lastLog    time.Time
	suppressed int
}

// fail counts a failed round (getUpdates failed, or an update of its batch
// was not handled) and returns the delay before the next one.
func (p *pollTrouble) fail() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures == 0 {
		p.since = time.Now()
	}
	p.failures++
	p.delay = nextBackoff(p.delay, pollBackoffMin, pollBackoffMax)
	return p.delay
}

func (p *pollTrouble) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failures
}

// allowLog says whether an error line may be written now, and how many
// were left out before it. The first line of a streak always goes.
func (p *pollTrouble) allowLog() (bool, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.lastLog.IsZero() && now.Sub(p.lastLog) < pollLogEvery {
		p.suppressed++
		return false, 0
	}
	n := p.suppressed
	p.lastLog, p.suppressed = now, 0
	return true, n
}

// reset ends a streak after a round that went through, returning how many
// rounds failed, the lines left out since the last one written, the last
// delay and when the streak began.
func (p *pollTrouble) reset() (failures, suppressed int, last time.Duration, since time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	failures, suppressed, last, since = p.failures, p.suppressed, p.delay, p.since
	p.failures, p.suppressed, p.delay, p.since, p.lastLog = 0, 0, 0, time.Time{}, time.Time{}
	return
}

// handleBatch handles one getUpdates batch. Updates that share a person
// or a group chat stay in order in one lane (two taps on one card are
// decided in the order Telegram received them); independent lanes run
// concurrently so the store can group-commit them. An update whose earlier
// updates have all committed carries the new offset in its own
// transaction; otherwise the offset is stored once the batch is done. The
// returned offset is one past the last update before the first failure
// (below the offset the batch began with when its updates are: see
// belowOffset); updates after a failure that did commit come back and are
// recognised by their dedupe marks.
func (c *Channel) handleBatch(ctx context.Context, ups []*models.Update, offset int64, attempts map[int64]int, trouble *pollTrouble) (int64, bool) {
	log := c.o.Log.With().Str("loop", "poll").Logger()
	todo := append([]*models.Update(nil), ups...)
	if len(todo) == 0 {
		return offset, false
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].ID < todo[j].ID })
	c.received(c.now(), len(todo))
	if todo[0].ID < offset {
		c.belowOffset(ctx, log, todo, offset)
	}
	lanes := lanesOf(todo)
	var mu sync.Mutex
	done := map[int64]bool{}
	// stored is the offset in the store: the batch's updates that carry it
	// commit in order (cursorFor), so it is the highest they wrote, or the
	// offset the batch began with when none did.
	stored, wrote := offset, false
	firstFail := int64(-1)
	// cursorFor says whether u may carry the offset: everything before it is done.
	cursorFor := func(u *models.Update) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range todo {
			if x.ID >= u.ID {
				return true
			}
			if !done[x.ID] {
				return false
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Add(1)
		go func(us []*models.Update) {
			defer wg.Done()
			for _, u := range us {
				withCursor := cursorFor(u)
				err := c.handle(ctx, u, withCursor)
				if err == nil {
					mu.Lock()
					done[u.ID] = true
					delete(attempts, u.ID)
					if withCursor && (!wrote || u.ID+1 > stored) {
						stored, wrote = u.ID+1, true
					}
					mu.Unlock()
					continue
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				attempts[u.ID]++
				n := attempts[u.ID]
				mu.Unlock()
				if ok, suppressed := trouble.allowLog(); ok {
					log.Error().Err(err).Int64("update", u.ID).Int("attempt", n).Int("suppressed", suppressed).Msg("update not handled; will retry")
				}
				if n >= maxHandleAttempts && !rbot.Environmental(err) {
					if err := c.skip(ctx, u.ID); err == nil {
						log.Error().Int64("update", u.ID).Msg("update skipped after repeated failures")
						mu.Lock()
						done[u.ID] = true
						delete(attempts, u.ID)
						mu.Unlock()
						continue
					}
				}
				mu.Lock()
				if firstFail < 0 || u.ID < firstFail {
					firstFail = u.ID
				}
				mu.Unlock()
				return // the rest of this lane waits, to keep its order
			}
		}(lane)
	}
	wg.Wait()
	next := todo[len(todo)-1].ID + 1
	if firstFail >= 0 {
		next = firstFail
	}
	if next != stored {
		if err := c.o.Engine.SetCursor(ctx, offsetCursor, strconv.FormatInt(next, 10)); err != nil {
			if ok, suppressed := trouble.allowLog(); ok {
				log.Error().Err(err).Int("suppressed", suppressed).Msg("cannot store the offset; the batch will be fetched again and deduplicated")
			}
			return offset, true
		}
	}
	return next, firstFail >= 0
}

// belowOffset looks at a batch that begins below the stored offset. Updates
// the store has seen are redeliveries (a getUpdates answer lost, the bot
// stopped before it confirmed), harmless; an update it has never seen
// means the offset was ahead of Telegram's ids — they restarted after a
// week without updates, or the offset came from another copy of the
// database — and every poll with it would have dropped updates: counted
// and logged as an offset reset. Either way the batch is handled and the
// offset follows it (the caller), back below the old one if need be.
func (c *Channel) belowOffset(ctx context.Context, log zerolog.Logger, todo []*models.Update, offset int64) {
	fresh := 0
	err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		fresh = 0
		for _, u := range todo {
			if u.ID >= offset {
				break
			}
			seen, err := tx.Seen(UpdateKey(u.ID))
			if err != nil {
				return err
			}
			if !seen {
				fresh++
			}
		}
		return nil
	})
	if err != nil || fresh == 0 {
		log.Debug().Int64("first", todo[0].ID).Int64("offset", offset).Msg("updates below the offset delivered again; their dedupe marks absorb them")
		return
	}
	c.resets.Add(1)
	log.Warn().Int64("first", todo[0].ID).Int64("offset", offset).Int("new", fresh).
		Msg("getUpdates brought updates below the stored offset that were never handled: Telegram's ids restarted (a week without updates) or the offset came from another copy of the database; handling them and moving the offset back (dedupe keeps any repeat harmless)")
}

// lanesOf splits updates into ordered lanes: updates that share a person or
// a group chat are connected (union-find) and keep their order.
func lanesOf(ups []*models.Update) [][]*models.Update {
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		if parent[k] == "" || parent[k] == k {
			parent[k] = k
			return k
		}
		r := find(parent[k])
		parent[k] = r
		return r
	}
	union := func(a, b string) { parent[find(a)] = find(b) }
	keys := make([][]string, len(ups))
	for i, u := range ups {
		keys[i] = laneKeys(u)
		for _, k := range keys[i][1:] {
			union(keys[i][0], k)
		}
		find(keys[i][0])
	}
	index := map[string]int{}
	var lanes [][]*models.Update
	for i, u := range ups {
		r := find(keys[i][0])
		j, ok := index[r]
		if !ok {
			j = len(lanes)
			index[r] = j
			lanes = append(lanes, nil)
		}
		lanes[j] = append(lanes[j], u)
	}
	return lanes
}

// laneKeys are the person and the chat an update belongs to.
func laneKeys(u *models.Update) []string {
	var keys []string
	switch {
	case u.CallbackQuery != nil:
		keys = append(keys, "u"+strconv.FormatInt(u.CallbackQuery.From.ID, 10))
		if m := u.CallbackQuery.Message.Message; m != nil {
			keys = append(keys, "c"+strconv.FormatInt(m.Chat.ID, 10))
		}
	case u.Message != nil:
		if u.Message.From != nil {
			keys = append(keys, "u"+strconv.FormatInt(u.Message.From.ID, 10))
		}
		keys = append(keys, "c"+strconv.FormatInt(u.Message.Chat.ID, 10))
	default:
		keys = append(keys, "other")
	}
	return keys
}

// skip parks an update that cannot be handled (its dedupe mark commits, so
// it is acknowledged and ignored from now on).
func (c *Channel) skip(ctx context.Context, updateID int64) error {
	// Only the dedupe mark: the offset is stored by the batch, which knows
	// whether an earlier update of another chat is still pending.
	_, err := c.o.Engine.Handle(ctx, c.toEvent(&models.Update{ID: updateID}))
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

// WebhookTimeouts bound what one connection to the webhook server may
// hold: without them a client that sends its headers or body slowly, or
// keeps an idle connection open, holds a socket and a goroutine forever.
type WebhookTimeouts struct {
	ReadHeader time.Duration // to read a request's headers
	Read       time.Duration // to read a whole request (body at most 1 MB)
	Write      time.Duration // from the end of the headers to the end of the answer, the commit included
	Idle       time.Duration // a kept-alive connection between requests
}

// DefaultWebhookTimeouts are generous for Telegram, which posts one small
// update per request and waits up to a minute for the answer.
var DefaultWebhookTimeouts = WebhookTimeouts{ReadHeader: 10 * time.Second, Read: 20 * time.Second,
	Write: 60 * time.Second, Idle: 120 * time.Second}

func (t WebhookTimeouts) orDefaults() WebhookTimeouts {
	d := DefaultWebhookTimeouts
	for _, f := range []struct{ v, def *time.Duration }{{&t.ReadHeader, &d.ReadHeader}, {&t.Read, &d.Read}, {&t.Write, &d.Write}, {&t.Idle, &d.Idle}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
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
	t := c.o.WebhookTimeouts.orDefaults()
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: 64 << 10}
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
// and the dedupe mark makes the redelivery harmless. The commit does not
// depend on the caller's connection: a caller that hangs up meanwhile
// (Telegram, a load balancer in front of replicas) posts the update again
// and finds it committed, instead of having cancelled the work half-way.
// It is bounded by the webhook's write timeout.
func (c *Channel) WebhookHandler() http.Handler {
	secret := []byte(c.o.WebhookSecret)
	within := c.o.WebhookTimeouts.orDefaults().Write
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
		c.received(c.now(), 1)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), within)
		defer cancel()
		if err := c.handle(ctx, &u, false); err != nil {
			if n := c.hookAttempts.fail(u.ID); n >= maxHandleAttempts && !rbot.Environmental(err) {
				// The same rule as polling: a poison update is parked after
				// maxHandleAttempts, or Telegram would post it for ever.
				if err := c.skip(ctx, u.ID); err == nil {
					c.hookAttempts.done(u.ID)
					c.o.Log.Error().Int64("update", u.ID).Int("attempts", n).Msg("update skipped after repeated failures")
					w.WriteHeader(http.StatusOK)
					return
				}
			}
			c.o.Log.Error().Err(err).Int64("update", u.ID).Msg("webhook: update not handled; Telegram will retry")
			http.Error(w, "retry later", http.StatusInternalServerError)
			return
		}
		c.hookAttempts.done(u.ID)
		w.WriteHeader(http.StatusOK)
	})
}

// attempts counts the failed attempts of the updates being retried (the
// webhook's; the poll loop keeps its own in its goroutine). It is bounded:
// Telegram gives up on an update after a day of retries, and a full map
// is emptied (the worst is a poison update retried a few more times).
type attempts struct {
	mu sync.Mutex
	n  map[int64]int
}

// maxTracked bounds the updates whose attempts are counted.
const maxTracked = 10_000

func (a *attempts) fail(id int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil || len(a.n) >= maxTracked {
		a.n = map[int64]int{}
	}
	a.n[id]++
	return a.n[id]
}

func (a *attempts) done(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.n, id)
}

// offsetCursor names the stored getUpdates offset.
const offsetCursor = "tg.offset"

func cursorAfter(updateID int64) *flows.Cursor {
	return &flows.Cursor{Name: offsetCursor, Value: strconv.FormatInt(updateID+1, 10)}
}
