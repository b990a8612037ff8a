package wecom

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

// names looks members' display names up in the address book (user/get;
// a self-built app still reads names, not mobiles or avatars), so
// residents and the group see "张师傅", not "zhangwei01". It never runs in
// a callback's critical path: a callback commits its event with the
// userid standing in for the name, and only then asks for a lookup, which
// runs on a goroutine of its own and writes the name it finds into the
// profile (bot.NameSetter) when the profile still carries the userid. A
// hanging address book therefore delays a name, never a message (WeCom
// gives a callback 5 s and then retries it three times).
type names struct {
	c *Channel
	// sem bounds the lookups running at once.
	sem chan struct{}

	mu sync.Mutex
	// tried is when a member was last looked up (a failed lookup waits
	// retryAfter); found holds the names found, for the events that
	// follow. Both are bounded (maxNames): they are emptied when full.
	tried map[string]time.Time
	found map[string]string
	wg    sync.WaitGroup
	ctx   context.Context
}

const (
	// lookupTimeout bounds one user/get.
	lookupTimeout = 10 * time.Second
	// retryAfter is how long a failed lookup waits before the next.
	retryAfter = 10 * time.Minute
	// maxNames bounds the per-member maps.
	maxNames = 4096
)

func newNames(c *Channel) *names {
	return &names{c: c, sem: make(chan struct{}, 2), tried: map[string]time.Time{}, found: map[string]string{}, ctx: context.Background()}
}

// cached is the name found for a member, if any (no network).
func (n *names) cached(userID string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.found[userID]
}

// after runs once an event of userID has committed: when the store's
// profile of them still carries the userid as its name (a technician who
// just joined by invite, a configured admin), a lookup starts.
func (n *names) after(userID string) {
	c := n.c
	if _, ok := c.o.Engine.(bot.NameSetter); !ok || c.o.Store == nil {
		return
	}
	placeholder := false
	_ = c.o.Store.View(n.ctx, func(tx flows.Tx) error {
		p, err := tx.Person(PersonID(userID))
		placeholder = err == nil && p.Registered && p.Name == userID
		return nil
	})
	if !placeholder {
		return
	}
	now := c.now()
	n.mu.Lock()
	if last, ok := n.tried[userID]; ok && now.Sub(last) < retryAfter {
		n.mu.Unlock()
		return
	}
	if len(n.tried) >= maxNames {
		clear(n.tried)
	}
	n.tried[userID] = now
	ctx := n.ctx
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case n.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-n.sem }()
		n.lookup(ctx, userID)
	}()
}

// lookup asks user/get and writes the name into the profile.
func (n *names) lookup(ctx context.Context, userID string) {
	c := n.c
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var u struct {
		Name string `json:"name"`
	}
	if err := c.api.call(lctx, c.o.Secret, "GET", "/cgi-bin/user/get", url.Values{"userid": {userID}}, nil, &u); err != nil {
		c.o.Log.Info().Err(err).Msg("wecom: user/get failed; the userid stands in for the name, asked again later")
		return
	}
	name := strings.TrimSpace(u.Name)
	if name == "" || name == userID {
		return
	}
	n.mu.Lock()
	if len(n.found) >= maxNames {
		clear(n.found)
	}
	n.found[userID] = name
	n.mu.Unlock()
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if _, err := c.o.Engine.(bot.NameSetter).SetPlatformName(wctx, PersonID(userID), userID, name); err != nil {
		c.o.Log.Warn().Err(err).Msg("wecom: the name from the address book was not stored; asked again later")
		n.mu.Lock()
		delete(n.tried, userID)
		n.mu.Unlock()
	}
}

// open binds the lookups to the channel's run (Close ends them).
func (n *names) open(ctx context.Context) { n.mu.Lock(); n.ctx = ctx; n.mu.Unlock() }

// wait waits for the lookups to end (after the run's context ended).
func (n *names) wait() { n.wg.Wait() }
