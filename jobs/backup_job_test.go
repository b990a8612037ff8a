package jobs_test

import (
	"errors"
	"strings"
	"sync"
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

// A backup written with a warning (the backup func returns its path and an
// error) is logged at error level with the path, not as a failure.
func TestBackupWarningLogged(t *testing.T) {
	w := flowstest.New(t)
	for _, tc := range []struct {
		name, path, want string
		err              error
	}{
		{"written with a warning", "/backups/repair-20261127-033000Z.db", "backup written, but look at this", errors.New("fewer tickets")},
		{"failed", "", "backup failed", errors.New("disk full")},
		{"written", "/backups/repair-20261127-033000Z.db", "backup written", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuf // the cron goroutine logs too
			r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Tick: time.Minute, Log: zerolog.New(&buf),
				Backup: func() (string, error) { return tc.path, tc.err }})
			if err != nil {
				t.Fatal(err)
			}
			r.Backup()
			r.Close()
			line := buf.String()
			if !strings.Contains(line, tc.want) || (tc.path != "" && !strings.Contains(line, tc.path)) {
				t.Fatalf("logged %q", line)
			}
			if wantErr := tc.err != nil; strings.Contains(line, `"level":"error"`) != wantErr {
				t.Fatalf("level: %q", line)
			}
		})
	}
}

// syncBuf is a log sink safe for the runner's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
