package jobs_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
)

// The backup job runs on its own schedule; the runner knows nothing of
// what it does, and a failure is only logged.
func TestBackupSchedule(t *testing.T) {
	w := flowstest.New(t)
	var runs atomic.Int32
	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Tick: time.Minute, Log: zerolog.Nop(),
		BackupSchedule: "@every 1s", Backup: func() (string, error) {
			if runs.Add(1) == 1 {
				return "", errors.New("disk full")
			}
			return "/backups/x.db", nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r.Close()
	if n := runs.Load(); n < 2 {
		t.Fatalf("backup ran %d times in 5 s on @every 1s", n)
	}

	_, err = jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Log: zerolog.Nop(),
		BackupSchedule: "61 * * * *", Backup: func() (string, error) { return "", nil }})
	if err == nil || !strings.Contains(err.Error(), "backup schedule") {
		t.Fatalf("bad schedule: %v", err)
	}
}
