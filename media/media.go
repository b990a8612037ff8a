// Package media keeps copies of evidence photos and documents,
// content-addressed (SHA-256), so a photo survives the platform's expiry of
// its file ids (WeCom media ids live 3 days) and can be audited later. They
// are files in the data directory, or rows of a database the replicas
// share when the Store has Blobs.
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// ErrNotImage means the bytes are not a JPEG, PNG, WebP or HEIC image.
var ErrNotImage = errors.New("media: not an image")

// ErrTooLarge means the file exceeds the configured limit.
var ErrTooLarge = errors.New("media: file too large")

// Store writes photos under Dir/<first two hex digits>/<sha256>.<ext>, or
// into Blobs when it is set. Either way a copy is read back with Open, by
// the path Put returned: nobody else joins Dir.
type Store struct {
	Dir string
	Max int64
	// Blobs, when set, keeps the copies instead of files under Dir (which
	// is then unused): a database every replica reads.
	Blobs Blobs
	// PerHour bounds the photos one person may have downloaded in any
	// hour (Allow); 0 is no bound.
	PerHour int

	mu     sync.Mutex
	recent map[string][]time.Time // downloads in the last hour, by person
}

// maxTrackedPeople bounds Allow's memory: beyond it, people with no
// download in the last hour are forgotten.
const maxTrackedPeople = 10_000

// Allow counts a download for who at now and reports whether it is within
// PerHour in the last hour. A refused download is not counted.
func (s *Store) Allow(who string, now time.Time) bool {
	if s == nil || s.PerHour <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recent == nil {
		s.recent = map[string][]time.Time{}
	}
	keep := func(ts []time.Time) []time.Time {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) >= time.Hour {
			i++
		}
		return ts[i:]
	}
	if len(s.recent) >= maxTrackedPeople {
		for k, ts := range s.recent {
			if ts = keep(ts); len(ts) == 0 {
				delete(s.recent, k)
			} else {
				s.recent[k] = ts
			}
		}
	}
	ts := keep(s.recent[who])
	if len(ts) >= s.PerHour {
		s.recent[who] = ts
		return false
	}
	s.recent[who] = append(ts, now)
	return true
}

// Kind recognises an image by its first bytes; "" when it is none.
func Kind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "jpg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "webp"
	case len(head) >= 12 && bytes.Equal(head[4:8], []byte("ftyp")) &&
		(bytes.Equal(head[8:12], []byte("heic")) || bytes.Equal(head[8:12], []byte("heix")) || bytes.Equal(head[8:12], []byte("mif1"))):
		return "heic"
	}
	return ""
}

// Put stores r if it is an image within the limit and returns its SHA-256
// and its path relative to Dir. Storing the same bytes twice is a no-op.
func (s *Store) Put(r io.Reader) (sum, rel string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, s.Max+1))
	if err != nil {
		return "", "", fmt.Errorf("media: read: %w", err)
	}
	if int64(len(data)) > s.Max {
		return "", "", ErrTooLarge
	}
	ext := Kind(data)
	if ext == "" {
		return "", "", ErrNotImage
	}
	return s.write(data, ext)
}

// write keeps data content-addressed under ext, atomically.
func (s *Store) write(data []byte, ext string) (sum, rel string, err error) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	rel = Rel(sum, ext)
	if s.Blobs != nil {
		ctx, cancel := s.blobCtx()
		defer cancel()
		if err := s.Blobs.PutBlob(ctx, sum, ext, data, time.Now()); err != nil {
			return "", "", fmt.Errorf("media: %w", err)
		}
		return sum, rel, nil
	}
	path := filepath.Join(s.Dir, rel)
	if _, err := os.Stat(path); err == nil {
		// Kept again: a fresh time tells the orphan sweep (Candidates)
		// that someone wants it now, whoever kept it first.
		now := time.Now()
		if err := os.Chtimes(path, now, now); err != nil {
			return "", "", fmt.Errorf("media: %w", err)
		}
		return sum, rel, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", "", fmt.Errorf("media: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return "", "", fmt.Errorf("media: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("media: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("media: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("media: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", "", fmt.Errorf("media: %w", err)
	}
	return sum, rel, nil
}

// PutFile stores r, a document of any type within the limit, under ext
// (lower-case letters and digits, at most 8; "bin" otherwise) and returns
// its SHA-256 and its path relative to Dir, as Put does for photos.
func (s *Store) PutFile(r io.Reader, ext string) (sum, rel string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, s.Max+1))
	if err != nil {
		return "", "", fmt.Errorf("media: read: %w", err)
	}
	if int64(len(data)) > s.Max {
		return "", "", ErrTooLarge
	}
	return s.write(data, cleanExt(ext))
}

func cleanExt(ext string) string {
	ext = strings.ToLower(strings.TrimPrefix(ext, "."))
	if ext == "" || len(ext) > 8 {
		return "bin"
	}
	for _, r := range ext {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "bin"
		}
	}
	return ext
}

// KeepFile stores an event's document (EvFile) and records the outcome on
// the event: the copy's hash and path, or that it is too large. Any other
// error is returned for the caller to log; the event keeps the platform's
// file id only, and the engine says it could not read the file.
func (s *Store) KeepFile(ev *flows.Event, r io.Reader) error {
	sum, rel, err := s.PutFile(r, filepath.Ext(ev.File.Name))
	switch {
	case errors.Is(err, ErrTooLarge):
		ev.TooLarge = true
	case err != nil:
		return err
	default:
		ev.File.SHA256, ev.File.Local = sum, rel
	}
	return nil
}

// Open opens a kept copy by the path Put or PutFile returned; any other
// path (absolute, outside Dir, not content-addressed) is refused. A copy
// that is not kept is an error satisfying errors.Is(err, fs.ErrNotExist).
func (s *Store) Open(rel string) (io.ReadCloser, error) {
	sum, ext, err := ParseRel(rel)
	if err != nil {
		return nil, err
	}
	if s.Blobs != nil {
		ctx, cancel := s.blobCtx()
		defer cancel()
		return s.Blobs.OpenBlob(ctx, sum, ext)
	}
	return os.Open(filepath.Join(s.Dir, Rel(sum, ext)))
}

// Keep stores an event's photo and records the outcome on the event: the
// copy's hash and path, or that the file is not an image or too large (the
// engine then answers the person). Any other error is returned for the
// caller to log; the event keeps the platform's file id only.
func (s *Store) Keep(ev *flows.Event, r io.Reader) error {
	sum, rel, err := s.Put(r)
	switch {
	case errors.Is(err, ErrNotImage):
		ev.NotImage = true
	case errors.Is(err, ErrTooLarge):
		ev.TooLarge = true
	case err != nil:
		return err
	default:
		ev.Photo.SHA256, ev.Photo.Local = sum, rel
	}
	return nil
}
