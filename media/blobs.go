package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Blobs is where a Store keeps its copies when they are not files under
// Dir: a database the replicas share (store/postgres implements it), so a
// photo one replica received is there for every other one. A copy is
// named by its SHA-256 (64 lower-case hex digits) and extension, as the
// files are; the path Put returns is the same with either (Rel), so
// records written on files still find their copies after a move to a
// database.
type Blobs interface {
	// PutBlob keeps data under sum and ext unless a copy is kept there
	// already, and sets the copy's kept time to at (never back) either
	// way: keeping the same bytes again tells the sweep someone wants them
	// now, as a file's refreshed time does.
	PutBlob(ctx context.Context, sum, ext string, data []byte, at time.Time) error
	// OpenBlob returns the copy of sum.ext; an error satisfying
	// errors.Is(err, fs.ErrNotExist) when there is none. The reader must
	// not need ctx after OpenBlob returns (it ends with the call).
	OpenBlob(ctx context.Context, sum, ext string) (io.ReadCloser, error)
	// OlderBlobs lists the copies last kept before before, with their
	// size and kept time (Kept.Rel as Rel names them).
	OlderBlobs(ctx context.Context, before time.Time) ([]Kept, error)
	// DeleteBlob deletes sum.ext if it was last kept before before (a
	// copy kept again since stays) and reports whether it did; none at
	// all is no error.
	DeleteBlob(ctx context.Context, sum, ext string, before time.Time) (bool, error)
}

// blobTimeout bounds one call to Blobs: a database that does not answer
// fails the photo (the event keeps the platform's file id) rather than
// holding a webhook.
const blobTimeout = time.Minute

// Rel is the path of the copy of sum.ext relative to Dir, as Put returns
// it: <first two hex digits>/<sum>.<ext>.
func Rel(sum, ext string) string {
	return filepath.Join(sum[:2], sum+"."+ext)
}

// ParseRel returns the digest and extension of a path Put or PutFile
// returned, or an error for any other path (absolute, outside Dir, not
// content-addressed).
func ParseRel(rel string) (sum, ext string, err error) {
	if filepath.IsAbs(rel) || strings.Contains(rel, "..") {
		return "", "", fmt.Errorf("media: %q is not a kept file", rel)
	}
	dir, name := filepath.Split(filepath.Clean(rel))
	sum, ok := keptName(strings.TrimSuffix(dir, string(filepath.Separator)), name)
	if !ok || dir != sum[:2]+string(filepath.Separator) {
		return "", "", fmt.Errorf("media: %q is not a kept file", rel)
	}
	return sum, name[len(sum)+1:], nil
}

func (s *Store) blobCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), blobTimeout)
}

// CopyFiles puts every copy kept as a file under dir (a Store without
// Blobs, as bbolt deployments keep them) into to, each with its file's
// time as its kept time, and returns how many and their bytes. A file
// whose bytes do not match its name (damaged) is skipped and counted in
// bad; copying again is harmless (a copy kept already stays). A missing
// dir copies nothing.
func CopyFiles(ctx context.Context, dir string, to Blobs) (n int, size int64, bad []string, err error) {
	files := &Store{Dir: dir}
	kept, err := files.Candidates(time.Now().Add(24 * time.Hour))
	if err != nil {
		return 0, 0, nil, err
	}
	for _, k := range kept {
		if k.Sum == "" {
			continue // a crash's temporary file
		}
		if err := ctx.Err(); err != nil {
			return n, size, bad, err
		}
		data, err := os.ReadFile(filepath.Join(dir, k.Rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return n, size, bad, fmt.Errorf("media: %w", err)
		}
		if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != k.Sum {
			bad = append(bad, k.Rel)
			continue
		}
		_, ext, _ := ParseRel(k.Rel)
		if err := to.PutBlob(ctx, k.Sum, ext, data, k.Modified); err != nil {
			return n, size, bad, fmt.Errorf("media: copy %s: %w", k.Rel, err)
		}
		n++
		size += int64(len(data))
	}
	return n, size, bad, nil
}
