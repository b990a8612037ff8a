package media_test

import (
	"bytes"
	"errors"
	"io"
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

// TestKeepFile: a document is kept content-addressed under its extension,
// read back through Open, and Open refuses any path it did not hand out.
func TestKeepFile(t *testing.T) {
	s := &media.Store{Dir: t.TempDir(), Max: 1024}
	doc := []byte("PK\x03\x04 a workbook")
	ev := &flows.Event{File: &flows.File{FileID: "d1", Name: "配件目录.XLSX"}}
	if err := s.KeepFile(ev, bytes.NewReader(doc)); err != nil || len(ev.File.SHA256) != 64 || filepath.Ext(ev.File.Local) != ".xlsx" {
		t.Fatalf("kept %+v, %v", ev.File, err)
	}
	f, err := s.Open(ev.File.Local)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, doc) {
		t.Fatal("read back other bytes")
	}
	if _, rel, err := s.PutFile(bytes.NewReader(doc), "../../x"); err != nil || filepath.Ext(rel) != ".bin" {
		t.Fatalf("odd extension kept as %q, %v", rel, err)
	}
	big := &flows.Event{File: &flows.File{FileID: "d2", Name: "big.xlsx"}}
	if err := s.KeepFile(big, bytes.NewReader(make([]byte, 2000))); err != nil || !big.TooLarge || big.File.Local != "" {
		t.Fatalf("large: %v %+v", err, big)
	}
	for _, bad := range []string{"/etc/passwd", "../x", filepath.Join("ab", "..", "..", "x"), filepath.Join(ev.File.Local[:2], "short.xlsx"),
		filepath.Join("zz", ev.File.SHA256+".xlsx")} {
		if f, err := s.Open(bad); err == nil {
			f.Close()
			t.Errorf("Open(%q) opened", bad)
		}
	}
}
