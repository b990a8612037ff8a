// Package backup copies and restores the bot's bbolt database.
//
// The running bot holds the database's exclusive file lock, so no second
// process can read it: the bot writes its own copies (Rotate, run by the
// jobs runner on backup.schedule, and RotateKind(OnDemand) for the ops
// endpoint) through a read transaction, which sees one consistent snapshot
// while the bot keeps committing. The two kinds are named apart, in UTC,
// and rotated apart; rotation never deletes the last copy that holds more
// tickets than the new one (ErrFewerTickets). The `repairbot backup` and
// `repairbot restore` commands (Command) work on a stopped bot's file.
//
// Every copy is written to a temporary file in the destination directory,
// fsynced, renamed into place and the directory fsynced, so a crash never
// leaves a half-written file under a backup's name.
package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/repairbot/repairbot/store"
)

// Kind is one rotation of copies in the backup directory. The nightly
// copies and the ones asked for on demand are rotated separately, so an
// on-demand copy never evicts a nightly one.
type Kind int

const (
	// Scheduled copies are written by the jobs runner on backup.schedule.
	Scheduled Kind = iota
	// OnDemand copies are asked for through the ops endpoint (POST
	// /backup, which `repairbot backup` uses while the bot runs) or
	// written by `repairbot backup <dir>`.
	OnDemand
)

// The names of the copies, both in UTC whatever the process's or the
// organisation's zone, so that their names sort by time.
const (
	ScheduledLayout = "repair-20060102-150405Z.db"
	OnDemandLayout  = "repair-manual-20060102-150405Z.db"
)

var (
	scheduledName = regexp.MustCompile(`^repair-\d{8}-\d{6}Z\.db$`)
	onDemandName  = regexp.MustCompile(`^repair-manual-\d{8}-\d{6}Z\.db$`)
	// legacyName is how both kinds were named before the names carried
	// their zone (the process's zone on demand, the organisation's on
	// schedule). Such copies are older than any UTC-named one; they join
	// the scheduled rotation, oldest first.
	legacyName = regexp.MustCompile(`^repair-\d{8}-\d{6}\.db$`)
)

// Name is the file name of a copy of this kind written at t.
func (k Kind) Name(t time.Time) string {
	if k == OnDemand {
		return t.UTC().Format(OnDemandLayout)
	}
	return t.UTC().Format(ScheduledLayout)
}

func (k Kind) String() string {
	if k == OnDemand {
		return "on-demand"
	}
	return "scheduled"
}

// List returns the names of this kind's copies in dir, oldest first.
func (k Kind) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var legacy, names []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case !e.Type().IsRegular():
		case k == OnDemand && onDemandName.MatchString(n), k == Scheduled && scheduledName.MatchString(n):
			names = append(names, n)
		case k == Scheduled && legacyName.MatchString(n):
			legacy = append(legacy, n)
		}
	}
	sort.Strings(legacy)
	sort.Strings(names)
	return append(legacy, names...), nil
}

// List returns the names of the scheduled copies in dir, oldest first.
func List(dir string) ([]string, error) { return Scheduled.List(dir) }

// Newest is the path of the most recent copy of either kind in dir, ""
// when there is none.
func Newest(dir string) string {
	var best string
	var bestAt time.Time
	for _, k := range []Kind{Scheduled, OnDemand} {
		names, err := k.List(dir)
		if err != nil || len(names) == 0 {
			continue
		}
		n := names[len(names)-1]
		digits := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(n, "repair-"), "manual-"), ".db")
		at, err := time.Parse("20060102-150405", strings.TrimSuffix(digits, "Z"))
		if err == nil && (best == "" || at.After(bestAt)) {
			best, bestAt = filepath.Join(dir, n), at
		}
	}
	return best
}

// WithNewest adds the newest copy in dir to err (a database that is empty
// or damaged), so the operator's message names the file to restore.
func WithNewest(err error, dir string) error {
	if p := Newest(dir); p != "" {
		return fmt.Errorf("%w\nThe newest backup is %s: repairbot restore %s", err, p, p)
	}
	return fmt.Errorf("%w\n(no backups found in %s)", err, dir)
}

// ErrFewerTickets is returned, with the new copy's path, when a copy
// holds fewer tickets than the copy before it or than a copy rotation
// deleted, and when rotation kept an older copy beyond keep because it is
// the last one holding more tickets than the new copy. Tickets are never deleted, so either means the
// database lost data (or an older copy was restored): nothing is deleted
// that could bring the tickets back.
var ErrFewerTickets = errors.New("backup: the new copy holds fewer tickets than an older one")

// Rotate writes a hot, consistent scheduled copy of st to dir (see
// RotateKind).
func Rotate(st *store.Store, dir string, keep int, now time.Time) (string, error) {
	return RotateKind(st, dir, Scheduled, keep, now)
}

// RotateKind writes a hot, consistent copy of st to dir, named for kind
// and now (in UTC), and deletes that kind's oldest copies beyond keep.
// Other files in dir, the other kind's copies among them, are never
// touched. The last copy holding more tickets than the new one is never
// deleted: it is kept beyond keep and the error (with the new copy's
// path) wraps ErrFewerTickets, as it does when the new copy holds fewer
// tickets than the one before it or an older copy deleted held more.
func RotateKind(st *store.Store, dir string, kind Kind, keep int, now time.Time) (string, error) {
	if keep < 1 {
		return "", fmt.Errorf("backup: keep must be at least 1 (got %d)", keep)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("backup: create %s: %w", dir, err)
	}
	name := kind.Name(now)
	path := filepath.Join(dir, name)
	if _, err := WriteFile(st, path); err != nil {
		return "", err
	}
	fresh, err := store.Verify(path, lockWait)
	if err != nil {
		return path, fmt.Errorf("backup: the new copy %s does not open: %w", name, err)
	}
	names, err := kind.List(dir)
	if err != nil {
		return path, err
	}
	var warns []string
	// The copy before the new one, for a shrink seen the first night.
	for i := len(names) - 1; i >= 0; i-- {
		if names[i] == name {
			if i > 0 {
				if prev, err := store.Verify(filepath.Join(dir, names[i-1]), lockWait); err == nil && prev.Tickets > fresh.Tickets {
					warns = append(warns, fmt.Sprintf("%s holds %d tickets, the copy before it (%s) %d",
						name, fresh.Tickets, names[i-1], prev.Tickets))
				}
			}
			break
		}
	}
	kept, keptN, gone, err := prune(dir, names, keep, name, fresh.Tickets)
	if len(gone) > 0 {
		warns = append(warns, fmt.Sprintf("deleted %s holding more tickets than %s (%d), while newer copies still hold more",
			strings.Join(gone, ", "), name, fresh.Tickets))
	}
	if kept != "" {
		warns = append(warns, fmt.Sprintf("%s (%d tickets) is kept beyond backup.keep = %d: it is the last %s copy holding more tickets than %s (%d)",
			kept, keptN, keep, kind, name, fresh.Tickets))
	}
	if len(warns) > 0 {
		err = errors.Join(fmt.Errorf("%w: %s. If the database lost data, stop the bot and restore the copy with more tickets "+
			"(repairbot restore <copy>); if an older copy was restored on purpose, delete the older copies by hand once they are not needed",
			ErrFewerTickets, strings.Join(warns, "; ")), err)
	}
	return path, err
}

// prune deletes the oldest of names (one kind's copies in dir, oldest
// first, fresh among them) beyond keep, except the newest of those that
// holds more tickets than fresh when no copy that stays does: that one is
// kept and named in kept (keptN its tickets). gone names the deleted copies that held more
// tickets than fresh. Only the copies to be deleted are counted (one a
// night, usually), and the ones that stay only when one of those held more.
func prune(dir string, names []string, keep int, fresh string, tickets int) (kept string, keptN int, gone []string, err error) {
	if len(names) <= keep {
		return "", 0, nil, nil
	}
	del, stay := names[:len(names)-keep], names[len(names)-keep:]
	var bigger []string // newest first
	for i := len(del) - 1; i >= 0; i-- {
		if c, err := store.Verify(filepath.Join(dir, del[i]), lockWait); err == nil && c.Tickets > tickets {
			if len(bigger) == 0 {
				keptN = c.Tickets
			}
			bigger = append(bigger, del[i])
		}
	}
	if len(bigger) > 0 {
		kept = bigger[0]
		for i := len(stay) - 1; i >= 0; i-- {
			if stay[i] == fresh {
				continue
			}
			if c, err := store.Verify(filepath.Join(dir, stay[i]), lockWait); err == nil && c.Tickets > tickets {
				kept = ""
				break
			}
		}
	}
	var errs []error
	for _, n := range del {
		if n == kept {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("backup: delete old copy: %w", err))
			continue
		}
		if slices.Contains(bigger, n) {
			gone = append(gone, n)
		}
	}
	return kept, keptN, gone, errors.Join(errs...)
}

// WriteFile writes a consistent copy of st (Store.Backup, one read
// transaction) to path atomically and returns its size.
func WriteFile(st *store.Store, path string) (int64, error) {
	var n int64
	err := writeAtomic(path, func(w io.Writer) error {
		var err error
		n, err = st.Backup(w)
		return err
	})
	return n, err
}

// copyFile copies the file at src to dst atomically.
func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer in.Close()
	var n int64
	err = writeAtomic(dst, func(w io.Writer) error {
		var err error
		n, err = io.Copy(w, in)
		return err
	})
	return n, err
}

// writeAtomic writes through fill to a temporary file next to path, fsyncs
// it, renames it to path and fsyncs the directory. On failure the
// temporary file is removed and path is untouched.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("backup: write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable. Some platforms cannot fsync a directory;
// the rename itself has happened either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
