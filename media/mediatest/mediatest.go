// Package mediatest is the contract every media.Blobs implementation
// passes (RunBlobs), and an in-memory one (Fake) for tests that need a
// media.Store kept off the file system.
package mediatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/repairbot/repairbot/media"
)

// Fake is an in-memory media.Blobs. The zero value is ready; safe for
// concurrent use.
type Fake struct {
	mu   sync.Mutex
	kept map[string]fakeBlob // by sum.ext
}

type fakeBlob struct {
	data []byte
	at   time.Time
}

var _ media.Blobs = (*Fake)(nil)

// PutBlob implements media.Blobs.
func (f *Fake) PutBlob(_ context.Context, sum, ext string, data []byte, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kept == nil {
		f.kept = map[string]fakeBlob{}
	}
	b, ok := f.kept[sum+"."+ext]
	if !ok {
		b.data = bytes.Clone(data)
	}
	if at.After(b.at) {
		b.at = at
	}
	f.kept[sum+"."+ext] = b
	return nil
}

// OpenBlob implements media.Blobs.
func (f *Fake) OpenBlob(_ context.Context, sum, ext string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.kept[sum+"."+ext]
	if !ok {
		return nil, fmt.Errorf("mediatest: %s.%s: %w", sum, ext, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b.data)), nil
}

// OlderBlobs implements media.Blobs.
func (f *Fake) OlderBlobs(_ context.Context, before time.Time) ([]media.Kept, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []media.Kept
	for key, b := range f.kept {
		if b.at.Before(before) {
			sum := key[:64]
			out = append(out, media.Kept{Sum: sum, Rel: media.Rel(sum, key[65:]), Size: int64(len(b.data)), Modified: b.at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
}

// DeleteBlob implements media.Blobs.
func (f *Fake) DeleteBlob(_ context.Context, sum, ext string, before time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.kept[sum+"."+ext]
	if !ok || !b.at.Before(before) {
		return false, nil
	}
	delete(f.kept, sum+"."+ext)
	return true, nil
}

// Len is the number of copies kept.
func (f *Fake) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.kept)
}

// Digest returns the SHA-256 of data in hex, as a copy is named.
func Digest(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// RunBlobs checks an implementation: a copy is kept once and read back,
// keeping it again moves its kept time forward and never back, the
// listing for the sweep is strict about its cutoff, a deletion re-checks
// the time, and a copy that is not kept is fs.ErrNotExist. b must start
// empty.
func RunBlobs(t *testing.T, b media.Blobs) {
	ctx := context.Background()
	data := []byte("\x89PNG\r\n\x1a\n contract")
	sum := Digest(data)
	t1 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)

	read := func(sum, ext string) ([]byte, error) {
		t.Helper()
		rc, err := b.OpenBlob(ctx, sum, ext)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	older := func(before time.Time) []media.Kept {
		t.Helper()
		got, err := b.OlderBlobs(ctx, before)
		if err != nil {
			t.Fatalf("OlderBlobs: %v", err)
		}
		return got
	}

	if _, err := read(sum, "png"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenBlob of a copy never kept: %v, want fs.ErrNotExist", err)
	}
	if err := b.PutBlob(ctx, sum, "png", data, t1); err != nil {
		t.Fatal(err)
	}
	if got, err := read(sum, "png"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q, %v", got, err)
	}
	if _, err := read(sum, "jpg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenBlob under another extension: %v, want fs.ErrNotExist", err)
	}
	if got := older(t1); len(got) != 0 {
		t.Errorf("OlderBlobs(the kept time itself) = %+v, want none (strictly before)", got)
	}
	got := older(t1.Add(time.Second))
	if len(got) != 1 || got[0].Sum != sum || got[0].Rel != media.Rel(sum, "png") || got[0].Size != int64(len(data)) || !got[0].Modified.Equal(t1) {
		t.Fatalf("OlderBlobs = %+v, want %s of %d bytes kept at %s", got, media.Rel(sum, "png"), len(data), t1)
	}

	// The same bytes under a document's extension are another copy.
	if err := b.PutBlob(ctx, sum, "bin", data, t1); err != nil {
		t.Fatal(err)
	}
	if n := len(older(t2.Add(time.Hour))); n != 2 {
		t.Errorf("two extensions, %d copies listed", n)
	}

	// Kept again later: young; a deletion with the old cutoff leaves it.
	cutoff := t1.Add(24 * time.Hour)
	if err := b.PutBlob(ctx, sum, "png", data, t2); err != nil {
		t.Fatal(err)
	}
	// ... and an older keep does not make it old again.
	if err := b.PutBlob(ctx, sum, "png", data, t1); err != nil {
		t.Fatal(err)
	}
	for _, k := range older(cutoff) {
		if k.Rel == media.Rel(sum, "png") {
			t.Errorf("kept again at %s, still listed before %s: %+v", t2, cutoff, k)
		}
	}
	if gone, err := b.DeleteBlob(ctx, sum, "png", cutoff); err != nil || gone {
		t.Errorf("DeleteBlob of a copy kept since = %v, %v; want kept", gone, err)
	}
	if _, err := read(sum, "png"); err != nil {
		t.Errorf("the copy kept again is gone: %v", err)
	}

	if gone, err := b.DeleteBlob(ctx, sum, "png", t2.Add(time.Second)); err != nil || !gone {
		t.Errorf("DeleteBlob of an old copy = %v, %v; want deleted", gone, err)
	}
	if _, err := read(sum, "png"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenBlob after DeleteBlob: %v, want fs.ErrNotExist", err)
	}
	if gone, err := b.DeleteBlob(ctx, sum, "png", t2.Add(time.Second)); err != nil || gone {
		t.Errorf("DeleteBlob of a copy not kept = %v, %v; want false, nil", gone, err)
	}
	if got, err := read(sum, "bin"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("the other extension's copy: %q, %v", got, err)
	}
}

// ReadAll opens rel through s and returns its bytes.
func ReadAll(tb testing.TB, s *media.Store, rel string) ([]byte, error) {
	tb.Helper()
	rc, err := s.Open(rel)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
