// Package backup copies and restores the bot's bbolt database.
//
// The running bot holds the database's exclusive file lock, so no second
// process can read it: the bot writes its own daily copies (Rotate, run by
// the jobs runner) through a read transaction, which sees one consistent
// snapshot while the bot keeps committing. The `repairbot backup` and
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
	"sort"
	"time"

	"github.com/repairbot/repairbot/store"
)

// FileLayout names the copies Rotate writes; they sort by time.
const FileLayout = "repair-20060102-150405.db"

// rotated matches the names Rotate writes (and the only files it deletes).
var rotated = regexp.MustCompile(`^repair-\d{8}-\d{6}\.db$`)

// Rotate writes a hot, consistent copy of st to dir as
// repair-YYYYMMDD-HHMMSS.db (now's wall clock) and deletes the oldest such
// files beyond keep. Other files in dir are never touched.
func Rotate(st *store.Store, dir string, keep int, now time.Time) (string, error) {
	if keep < 1 {
		return "", fmt.Errorf("backup: keep must be at least 1 (got %d)", keep)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("backup: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, now.Format(FileLayout))
	if _, err := WriteFile(st, path); err != nil {
		return "", err
	}
	if _, err := Prune(dir, keep); err != nil {
		return path, err
	}
	return path, nil
}

// Prune deletes the oldest rotated backups in dir beyond keep and returns
// the deleted paths.
func Prune(dir string, keep int) ([]string, error) {
	names, err := List(dir)
	if err != nil {
		return nil, err
	}
	var deleted []string
	var errs []error
	for len(names) > keep {
		p := filepath.Join(dir, names[0])
		names = names[1:]
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("backup: delete old copy: %w", err))
			continue
		}
		deleted = append(deleted, p)
	}
	return deleted, errors.Join(errs...)
}

// List returns the names of the rotated backups in dir, oldest first.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && rotated.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
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
