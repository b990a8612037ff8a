package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
)

// TestFollowerRunsNoClock: a replica that does not lead (Options.Leading
// false) fires no timer, neither at Open nor on its tick schedule, and runs
// no scheduled job, nor archives at Open; when the lead comes to it (Led),
// the timers that fell due meanwhile fire once and yesterday is archived,
// as at a leader's start.
func TestFollowerRunsNoClock(t *testing.T) {
	w := flowstest.New(t)
	res := flowstest.Person{ID: 100, Name: "王芳"}
	w.Register(res, "13800138000")
	id := w.Report(res, "门锁坏了") // schedules the 15-minute acceptance check
	w.Drain()
	w.Now = w.Now.Add(time.Hour)
	var leading atomic.Bool
	var backups atomic.Int32
	archived := make(chan string, 4)
	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Tick: time.Second, Log: zerolog.Nop(),
		Now: func() time.Time { return w.Now }, Leading: leading.Load,
		Backup: func() (string, error) { backups.Add(1); return "b", nil }, BackupSchedule: "@every 1s",
		Archive: func(_ context.Context, day string) ([]string, error) { archived <- day; return nil, nil },
		// The nightly archive half a day away: only Led's catch-up archives.
		ArchiveAt: (time.Now().UTC().Hour()*60 + 12*60) % (24 * 60)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.Sleep(2500 * time.Millisecond) // two ticks and two backups of a leader
	if n := len(w.Events(id)); n != 1 {
		t.Fatalf("a follower's clock fired: %d events on the ticket, want 1 (reported)", n)
	}
	if n := backups.Load(); n != 0 {
		t.Fatalf("a follower ran %d scheduled backups", n)
	}
	select {
	case day := <-archived:
		t.Fatalf("a follower archived %s", day)
	default:
	}
	leading.Store(true)
	r.Led()
	deadline := time.Now().Add(5 * time.Second)
	for len(w.Events(id)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the overdue acceptance check did not fire once the replica led")
		}
		time.Sleep(20 * time.Millisecond)
	}
	evs := w.Events(id)
	if last := evs[len(evs)-1]; last != "sla_accept:breach late" {
		t.Fatalf("the new leader fired %s, want sla_accept:breach late", last)
	}
	select {
	case day := <-archived:
		if want := w.Now.UTC().AddDate(0, 0, -1).Format("20060102"); day != want {
			t.Fatalf("the new leader archived %s, want yesterday (%s)", day, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the new leader did not catch up yesterday's archive")
	}
	for backups.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the leader's backup schedule did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
