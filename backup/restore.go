package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/repairbot/repairbot/store"
)

// ErrBotRunning wraps store.ErrLocked when the configured database is held
// by a running bot (or any other process).
var ErrBotRunning = errors.New("the database is locked: is the bot running? Stop it first")

// Restored says what Restore did.
type Restored struct {
	// Aside is where the previous database was moved ("" when there was none).
	Aside string
	// Counts are the restored database's.
	Counts store.Counts
	// Bytes copied.
	Bytes int64
}

// Restore replaces the database at dbPath with a copy of src. It refuses
// while another process (or another handle in this one) holds dbPath's
// lock, and when src is not a repairbot database. The previous file is
// kept as <dbPath>.before-restore-<YYYYMMDD-HHMMSS>Z (now in UTC);
// the path never goes missing in between, so nothing can create an empty
// database there halfway through.
func Restore(dbPath, src string, lockTimeout time.Duration, now time.Time) (Restored, error) {
	var res Restored
	if lockTimeout <= 0 {
		lockTimeout = 2 * time.Second
	}
	if same(dbPath, src) {
		return res, fmt.Errorf("backup: %s is the configured database itself", src)
	}
	if _, err := store.Verify(src, lockTimeout); err != nil {
		return res, fmt.Errorf("backup: %s cannot be restored: %w", src, err)
	}

	_, statErr := os.Stat(dbPath)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return res, fmt.Errorf("backup: %w", statErr)
	}
	if exists {
		// Hold the lock for the swap. A file that cannot even be opened
		// (a damaged database, the usual reason to restore) was not locked
		// either: bbolt takes the lock before reading anything.
		cur, err := store.Open(dbPath, store.Options{LockTimeout: lockTimeout})
		switch {
		case errors.Is(err, store.ErrLocked):
			return res, fmt.Errorf("backup: %w: %w", ErrBotRunning, err)
		case err == nil:
			defer cur.Close()
		}
		res.Aside = dbPath + ".before-restore-" + now.UTC().Format("20060102-150405Z")
		if _, err := os.Lstat(res.Aside); err == nil {
			return Restored{}, fmt.Errorf("backup: %s already exists", res.Aside)
		}
		// A hard link keeps dbPath in place until the copy is renamed over
		// it; where links are not supported, move the file.
		moved := false
		if err := os.Link(dbPath, res.Aside); err != nil {
			if err := os.Rename(dbPath, res.Aside); err != nil {
				return Restored{}, fmt.Errorf("backup: move the current database aside: %w", err)
			}
			moved = true
		}
		n, err := copyFile(src, dbPath)
		if err != nil {
			if moved {
				_ = os.Rename(res.Aside, dbPath)
			} else {
				_ = os.Remove(res.Aside)
			}
			return Restored{}, err
		}
		res.Bytes = n
	} else {
		if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
			return res, fmt.Errorf("backup: %w", err)
		}
		n, err := copyFile(src, dbPath)
		if err != nil {
			return res, err
		}
		res.Bytes = n
	}

	st, err := store.Open(dbPath, store.Options{LockTimeout: lockTimeout})
	if err != nil {
		return res, fmt.Errorf("backup: the restored file does not open: %w", err)
	}
	defer st.Close()
	res.Counts, err = st.Counts()
	return res, err
}

// same reports whether a and b name the same existing file.
func same(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}
