package media

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kept is one copy of the store as Candidates found it.
type Kept struct {
	// Sum is the file's SHA-256 (its name without the extension); empty
	// for a temporary file a crash left behind.
	Sum string
	// Rel is its path relative to Dir (the path Put returned).
	Rel      string
	Size     int64
	Modified time.Time
}

// Candidates lists the kept files last written before cutoff: the
// content-addressed copies (<2 hex>/<64 hex>.<ext>) and temporary files a
// crash left half-written. Anything else under Dir is not the store's and is
// never listed. A copy is rewritten (its time refreshed) whenever the same
// bytes are kept again, so an old time means nobody kept it since. With
// Blobs, the copies kept there before cutoff.
func (s *Store) Candidates(before time.Time) ([]Kept, error) {
	if s.Blobs != nil {
		ctx, cancel := s.blobCtx()
		defer cancel()
		out, err := s.Blobs.OlderBlobs(ctx, before)
		if err != nil {
			return nil, fmt.Errorf("media: list: %w", err)
		}
		return out, nil
	}
	var out []Kept
	err := filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == s.Dir {
				return filepath.SkipDir // nothing kept yet
			}
			return err
		}
		if d.IsDir() {
			if path != s.Dir && !isShard(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.Dir, path)
		if err != nil {
			return err
		}
		dir, name := filepath.Split(rel)
		sum, ok := keptName(strings.TrimSuffix(dir, string(filepath.Separator)), name)
		if !ok && !strings.HasPrefix(name, ".tmp-") {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		} else if err != nil {
			return err
		}
		if !info.Mode().IsRegular() || !info.ModTime().Before(before) {
			return nil
		}
		out = append(out, Kept{Sum: sum, Rel: rel, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("media: list: %w", err)
	}
	return out, nil
}

// Remove deletes a file Candidates listed if it is still older than
// cutoff (a copy kept again since then stays) and reports whether it did.
func (s *Store) Remove(k Kept, before time.Time) (bool, error) {
	if s.Blobs != nil {
		sum, ext, err := ParseRel(k.Rel)
		if err != nil {
			return false, err
		}
		ctx, cancel := s.blobCtx()
		defer cancel()
		gone, err := s.Blobs.DeleteBlob(ctx, sum, ext, before)
		if err != nil {
			return false, fmt.Errorf("media: %w", err)
		}
		return gone, nil
	}
	dir, name := filepath.Split(filepath.Clean(k.Rel))
	if _, ok := keptName(strings.TrimSuffix(dir, string(filepath.Separator)), name); !ok && !(isShard(strings.TrimSuffix(dir, string(filepath.Separator))) && strings.HasPrefix(name, ".tmp-")) {
		return false, fmt.Errorf("media: %q is not a kept file", k.Rel)
	}
	path := filepath.Join(s.Dir, k.Rel)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("media: %w", err)
	}
	if !info.ModTime().Before(before) {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("media: %w", err)
	}
	return true, nil
}

// isShard reports whether name is one of the two-hex-digit directories.
func isShard(name string) bool {
	return len(name) == 2 && isHex(name)
}

// keptName returns the digest of a content-addressed file name in shard.
func keptName(shard, name string) (string, bool) {
	sum, ext, ok := strings.Cut(name, ".")
	if !ok || len(sum) != 64 || !isHex(sum) || sum[:2] != shard || ext == "" || strings.ContainsAny(ext, `./\`) {
		return "", false
	}
	return sum, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
