package media_test

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/media"
)

// Allow counts a person's downloads in any hour: PerHour go, the next is
// refused (and not counted), an hour after the first one goes again;
// people are counted apart, and no bound means every download goes.
func TestAllowPerHour(t *testing.T) {
	s := &media.Store{PerHour: 3}
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !s.Allow("tg:1", t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("download %d refused within the allowance", i+1)
		}
	}
	for range 5 {
		if s.Allow("tg:1", t0.Add(10*time.Minute)) {
			t.Fatal("a fourth download in the hour went")
		}
	}
	if !s.Allow("tg:2", t0.Add(10*time.Minute)) {
		t.Fatal("another person was refused")
	}
	if !s.Allow("tg:1", t0.Add(time.Hour)) {
		t.Fatal("an hour after the first, still refused")
	}
	unbounded := &media.Store{}
	for range 100 {
		if !unbounded.Allow("tg:1", t0) {
			t.Fatal("no bound, yet refused")
		}
	}
}
