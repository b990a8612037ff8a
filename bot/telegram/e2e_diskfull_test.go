package telegram_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/ops"
)

// fullDisk is a store on a full disk: while full is set, a transaction
// that writes a message (which needs new pages) fails with ENOSPC, as
// bbolt's commit does, and one that only records a dedupe mark or the
// offset still fits in freed pages and commits — as in the incident,
// where the health check's tiny write passed too.
type fullDisk struct {
	flows.Store
	full *atomic.Bool
}

// countingTx counts the messages a transaction enqueues.
type countingTx struct {
	flows.Tx
	n *int
}

func (c countingTx) Enqueue(ms ...flows.Message) error {
	*c.n += len(ms)
	return c.Tx.Enqueue(ms...)
}

func (f fullDisk) wrap(fn func(flows.Tx) error) func(flows.Tx) error {
	if !f.full.Load() {
		return fn
	}
	return func(tx flows.Tx) error {
		n := 0
		if err := fn(countingTx{tx, &n}); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("write repair.db: %w", syscall.ENOSPC)
		}
		return nil
	}
}

func (f fullDisk) Update(ctx context.Context, fn func(flows.Tx) error) error {
	return f.Store.Update(ctx, f.wrap(fn))
}

func (f fullDisk) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	return f.Store.Batch(ctx, f.wrap(fn))
}

// A full disk: every commit fails with ENOSPC while the store's own ping
// still passes (it did in the incident: /healthz said ok). /healthz now
// fails on what matters — no event has committed ("events"), the free
// space ("disk"), updates arriving unhandled ("telegram_handle") — and the
// resident's message is neither lost nor parked as poison, however many
// attempts fail; once space is freed it is answered and health recovers.
func TestE2EDiskFull(t *testing.T) {
	var full atomic.Bool
	r := newRig(t, rigOptions{WrapStore: func(s flows.Store) flows.Store { return fullDisk{s, &full} }})
	u := tgfake.User{ID: 5201, FirstName: "王芳", LanguageCode: "zh-hans"}
	r.seedResident(u, zhHome)
	r.say(u, "/help", nil)
	r.settle()
	var offset atomic.Int64 // the health check's clock runs ahead of the bot's
	free := func(string) (uint64, error) {
		if full.Load() {
			return 1 << 20, nil
		}
		return 10 << 30, nil
	}
	srv, err := ops.New(ops.Options{Store: r.store(), Outbox: r.store(), Channels: []bot.Channel{r.channel()},
		Engine: r.engine().Stats(), DataDir: filepath.Dir(r.path), MinFree: 256 << 20, DiskFree: free,
		Now: func() time.Time { return r.now().Add(time.Duration(offset.Load())) }, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	health := func() (int, ops.Health, string) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		var h ops.Health
		_ = json.Unmarshal(rec.Body.Bytes(), &h)
		return rec.Code, h, rec.Body.String()
	}
	if code, _, body := health(); code != http.StatusOK {
		t.Fatalf("before: %d %s", code, body)
	}

	full.Store(true)
	mark := r.logMark()
	top := r.top(u.ID)
	id := r.fake.SendText(u, u.ID, "/mytickets")
	r.waitLog(mark, "update not handled; will retry")
	// More failures than maxHandleAttempts (5), after which a poison
	// update is parked.
	failures := r.engine().Stats().Failures.Load()
	deadline := time.Now().Add(30 * time.Second)
	for r.engine().Stats().Failures.Load() < failures+6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	offset.Store(int64(2 * time.Minute))
	code, h, body := health()
	for _, want := range []string{"events", "disk", "telegram_handle"} {
		if !slices.Contains(h.Failing, want) {
			t.Errorf("a full disk: %s not failing (%d %s)", want, code, body)
		}
	}
	if code != http.StatusServiceUnavailable || h.Store != "writable" || h.DiskFreeMB == nil || *h.DiskFreeMB != 1 {
		t.Errorf("a full disk: %d %s", code, body)
	}
	if r.seen(id) {
		t.Fatal("the update was marked handled (parked) while the disk was full")
	}
	if n := len(r.logLines(mark, "update skipped after repeated failures")); n != 0 {
		t.Fatalf("the update was parked as poison on a full disk (%d)", n)
	}

	full.Store(false)
	offset.Store(0)
	// The poll has backed off meanwhile (up to 30 s between attempts).
	if _, ok := r.fake.WaitMessage(u.ID, 45*time.Second, func(m tgfake.Message) bool { return m.ID > top }); !ok {
		t.Fatal("no answer within 45 s of the disk recovering")
	}
	r.settleWithin(45 * time.Second)
	if !r.seen(id) {
		t.Error("the update is not marked handled after the disk recovered")
	}
	if !r.fake.WaitFor(e2eWait, func() bool { code, _, _ := health(); return code == http.StatusOK }) {
		_, _, body := health()
		t.Errorf("after the disk recovered: %s", body)
	}
}
