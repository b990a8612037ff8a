package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrEmpty means the database file exists but holds nothing (0 bytes).
// bbolt would initialise it as a new database, restarting ticket numbers,
// and the nightly rotation would then replace every good backup with empty
// copies; Open refuses instead.
var ErrEmpty = errors.New("store: the database file is empty (0 bytes)")

// ErrCorrupt means the database file is damaged: bbolt cannot read its
// meta pages, its freelist or its buckets (it would panic or fault).
var ErrCorrupt = errors.New("store: the database file is damaged")

// restoreHint is what an operator does about ErrEmpty and ErrCorrupt.
const restoreHint = "stop the bot and restore the newest backup with `repairbot restore <backup.db>` " +
	"(it keeps this file aside as <file>.before-restore-…)"

func emptyError(path string) error {
	return fmt.Errorf("%w: %s. An existing database that holds nothing was wiped or damaged; "+
		"opening it would start a new database with ticket numbers from 1. To recover, %s. "+
		"On a brand-new installation that never ran, delete the empty file", ErrEmpty, path, restoreHint)
}

func corruptError(path string, cause any) error {
	return fmt.Errorf("%w: %s (%v). To recover, %s", ErrCorrupt, path, cause, restoreHint)
}

// openBolt opens path with bbolt and runs first (the first read or the
// migration) on it, turning a damaged file into ErrCorrupt and an existing
// empty file into ErrEmpty. bbolt trusts its file: a truncated or garbled
// one makes it panic ("invalid freelist page", "invalid page type") or
// touch a page beyond the end of the file through its map (SIGBUS, fatal
// to the whole program unless the goroutine asked for a panic). Both are
// recovered here, on this goroutine, for the open and the first read only.
// A truncated file is recognised before bbolt maps it (checkLength); a
// garbled one after a recovered panic, and then bbolt's map of it, which
// holds the file's lock, stays until the process exits (bbolt never hands
// the half-opened database out), so the lock is this process's until then.
func openBolt(path string, opts bolt.Options, first func(*bolt.DB) error) (db *bolt.DB, err error) {
	if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() {
		if fi.Size() == 0 {
			return nil, emptyError(path)
		}
		if cerr := checkLength(path, fi.Size()); cerr != nil {
			return nil, corruptError(path, cerr)
		}
	}
	var file *os.File
	opts.OpenFile = func(name string, flag int, mode os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, mode)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		// The map of a database that panicked half-way is not unmapped
		// (bbolt never handed it out); the file and its lock are let go.
		if db != nil {
			closeQuietly(db)
		} else if file != nil {
			file.Close()
		}
		db, err = nil, corruptError(path, r)
	}()
	db, err = bolt.Open(path, 0o600, &opts)
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return nil, corruptError(path, err)
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if first != nil {
		if err := first(db); err != nil {
			closeQuietly(db)
			return nil, err
		}
	}
	return db, nil
}

// closeQuietly closes a database that may be in a bad state.
func closeQuietly(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// checkLength compares the file's size with the end of the last page its
// newest valid meta page says is in use: a shorter file was cut off (a
// full disk, a copy that stopped half-way) and bbolt would read beyond its
// end. A file without a valid meta page is left to bbolt to judge.
func checkLength(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt reports it
	}
	defer f.Close()
	var best *boltMeta
	consider := func(off int64) {
		if m, ok := readMeta(f, off); ok && (best == nil || m.txid > best.txid) {
			best = &m
		}
	}
	consider(0)
	if best != nil {
		consider(int64(best.pageSize))
	} else {
		// The second meta page's place depends on the page size, which the
		// damaged first one would have said: try them all, like bbolt.
		for i := 0; i <= 14; i++ {
			consider(1024 << i)
		}
	}
	if best == nil {
		return nil
	}
	if end := int64(best.pgid) * int64(best.pageSize); end > size {
		return fmt.Errorf("truncated: the file is %d bytes, its pages end at %d", size, end)
	}
	return nil
}

// boltMeta is the part of bbolt's meta page checkLength reads.
type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

// readMeta reads a bbolt meta page at off: a 16-byte page header, then
// magic, version, page size, flags (uint32 each), the root bucket (16
// bytes), the freelist page, the high-water page id, the transaction id
// and an FNV-64a checksum of everything before it (uint64 each), in the
// machine's byte order.
func readMeta(r io.ReaderAt, off int64) (boltMeta, bool) {
	const (
		magic   = 0xED0CDAED
		version = 2
	)
	var b [80]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return boltMeta{}, false
	}
	m := b[16:]
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(m[:56])
	if e.Uint32(m[0:]) != magic || e.Uint32(m[4:]) != version || e.Uint64(m[56:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: e.Uint32(m[8:]), pgid: e.Uint64(m[40:]), txid: e.Uint64(m[48:])}, true
}

// create makes a new, initialised database at path if there is no file
// there, so that a crash while the first start-up creates it never leaves
// an empty file behind (which Open would refuse, ErrEmpty): the file is
// initialised under a temporary name, fsynced and linked into place. A
// file another process created meanwhile wins; a filesystem without hard
// links gets the rename.
func create(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return nil // there is a file (or Open reports the problem)
	}
	tmp := fmt.Sprintf("%s.new-%d", path, os.Getpid())
	_ = os.Remove(tmp) // left by an earlier crash of this same pid
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("store: create %s: %w", path, err)
		}
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
