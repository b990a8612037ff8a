package ops_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/ops"
)

// /healthz checks what matters besides the store's tiny write: that real
// events commit, that there is room on the disk, and that each channel's
// queue moves.
func TestHealthChecksWhatMatters(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, c := range []struct {
		name    string
		set     func(e *flows.EngineStats, s *bot.SendStats)
		free    func(string) (uint64, error)
		failing []string
		detail  string
	}{
		{"all well", func(e *flows.EngineStats, s *bot.SendStats) {
			e.LastCommit.Store(now.Add(-time.Minute).UnixNano())
			s.Waiting, s.Oldest, s.LastSent = 3, now.Add(-time.Hour), now.Add(-time.Second)
		}, nil, nil, ""},
		{"events failing a moment", func(e *flows.EngineStats, _ *bot.SendStats) {
			e.FailingSince.Store(now.Add(-5 * time.Second).UnixNano())
		}, nil, nil, ""},
		{"events failing", func(e *flows.EngineStats, _ *bot.SendStats) {
			e.LastCommit.Store(now.Add(-time.Hour).UnixNano())
			e.FailingSince.Store(now.Add(-time.Minute).UnixNano())
		}, nil, []string{"events"}, "no event has committed since 2026-11-27T02:59:00Z"},
		{"disk low", nil, func(string) (uint64, error) { return 100 << 20, nil }, []string{"disk"}, "100.0 MiB free under the data directory, below ops.min_free_mb (256 MiB)"},
		{"disk unmeasurable", nil, func(string) (uint64, error) { return 0, errors.New("statfs: permission denied") }, []string{"disk"}, "cannot measure the free space"},
		{"queue stuck", func(_ *flows.EngineStats, s *bot.SendStats) {
			s.Waiting, s.Oldest, s.LastSent = 4, now.Add(-20*time.Minute), now.Add(-15*time.Minute)
		}, nil, []string{"telegram_outbox"}, "4 messages waiting, the oldest for 20m0s, none delivered for 15m0s"},
		{"queue stuck, nothing ever sent", func(_ *flows.EngineStats, s *bot.SendStats) {
			s.Waiting, s.Oldest = 1, now.Add(-11*time.Minute)
		}, nil, []string{"telegram_outbox"}, "none delivered for 11m0s"},
		{"a long backlog that moves", func(_ *flows.EngineStats, s *bot.SendStats) {
			s.Waiting, s.Oldest, s.LastSent = 400, now.Add(-30*time.Minute), now.Add(-2*time.Minute)
		}, nil, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{})
			t.Cleanup(func() { st.Close() })
			var es flows.EngineStats
			ch := &fakeStats{fakeChannel: fakeChannel{"telegram"}}
			if c.set != nil {
				c.set(&es, &ch.stats)
			}
			free := c.free
			if free == nil {
				free = func(string) (uint64, error) { return 10 << 30, nil }
			}
			srv, err := ops.New(ops.Options{Store: st, Outbox: st, Channels: []bot.Channel{ch}, Engine: &es,
				DataDir: "/data", MinFree: 256 << 20, DiskFree: free, Now: func() time.Time { return now }, Log: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			h := srv.Check()
			if !slices.Equal(h.Failing, c.failing) {
				t.Fatalf("failing %v, want %v (%+v)", h.Failing, c.failing, h)
			}
			raw, _ := json.Marshal(h)
			if c.detail != "" && !strings.Contains(string(raw), c.detail) {
				t.Errorf("%s lacks %q", raw, c.detail)
			}
			if c.failing == nil && h.Status != "ok" {
				t.Errorf("status %s", h.Status)
			}
		})
	}
}

// Without an injected measure the disk check reads the real file system.
func TestDiskFreeMeasured(t *testing.T) {
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{})
	t.Cleanup(func() { st.Close() })
	srv, err := ops.New(ops.Options{Store: st, Outbox: st, DataDir: t.TempDir(), MinFree: 1, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if h := srv.Check(); h.DiskFreeMB == nil || *h.DiskFreeMB <= 0 || slices.Contains(h.Failing, "disk") {
		t.Fatalf("%+v", h)
	}
}
