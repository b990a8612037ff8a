package media_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
)

func TestPut(t *testing.T) {
	s := &media.Store{Dir: t.TempDir(), Max: 1024}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 100)...)
	sum, rel, err := s.Put(bytes.NewReader(jpeg))
	if err != nil || len(sum) != 64 || filepath.Ext(rel) != ".jpg" {
		t.Fatalf("%s %s %v", sum, rel, err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir, rel))
	if err != nil || !bytes.Equal(got, jpeg) {
		t.Fatal("stored bytes differ")
	}
	if sum2, _, err := s.Put(bytes.NewReader(jpeg)); err != nil || sum2 != sum {
		t.Fatal("same bytes, different address")
	}
	if _, _, err := s.Put(bytes.NewReader([]byte("%PDF-1.7 not a photo"))); !errors.Is(err, media.ErrNotImage) {
		t.Fatalf("pdf: %v", err)
	}
	if _, _, err := s.Put(bytes.NewReader(append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 2000)...))); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("large: %v", err)
	}
	for name, head := range map[string][]byte{
		"png":  []byte("\x89PNG\r\n\x1a\n...."),
		"webp": []byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
		"heic": []byte("\x00\x00\x00\x18ftypheic...."),
	} {
		if k := media.Kind(head); k != name {
			t.Errorf("%s recognised as %q", name, k)
		}
	}
}

// TestKeep: the outcome of storing an event's photo lands on the event.
func TestKeep(t *testing.T) {
	s := &media.Store{Dir: t.TempDir(), Max: 1024}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 100)...)
	ev := &flows.Event{Photo: &flows.Photo{FileID: "f1"}}
	if err := s.Keep(ev, bytes.NewReader(jpeg)); err != nil || len(ev.Photo.SHA256) != 64 || ev.Photo.Local == "" || ev.NotImage || ev.TooLarge {
		t.Fatalf("jpeg: %v %+v %+v", err, ev, ev.Photo)
	}
	ev = &flows.Event{Photo: &flows.Photo{FileID: "f2"}}
	if err := s.Keep(ev, bytes.NewReader([]byte("%PDF-1.7 not a photo"))); err != nil || !ev.NotImage || ev.Photo.Local != "" {
		t.Fatalf("pdf: %v %+v", err, ev)
	}
	ev = &flows.Event{Photo: &flows.Photo{FileID: "f3"}}
	if err := s.Keep(ev, bytes.NewReader(append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 2000)...))); err != nil || !ev.TooLarge {
		t.Fatalf("large: %v %+v", err, ev)
	}
	ev = &flows.Event{Photo: &flows.Photo{FileID: "f4"}}
	broken := &media.Store{Dir: filepath.Join(s.Dir, "no", "\x00bad"), Max: 1024}
	if err := broken.Keep(ev, bytes.NewReader(jpeg)); err == nil || ev.Photo.Local != "" {
		t.Fatalf("unwritable store: %v %+v", err, ev.Photo)
	}
}
