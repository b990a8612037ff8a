package media_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/media/mediatest"
)

// The in-memory Blobs passes the contract the database's does.
func TestFakeBlobs(t *testing.T) {
	mediatest.RunBlobs(t, &mediatest.Fake{})
}

// With Blobs a Store keeps nothing under Dir: photos and documents go to
// the backend under the same paths the files have, are read back by Open,
// the same checks (image, size) hold, and a copy that is not kept is
// fs.ErrNotExist.
func TestStoreOnBlobs(t *testing.T) {
	blobs := &mediatest.Fake{}
	files := &media.Store{Dir: t.TempDir(), Max: 1024}
	s := &media.Store{Dir: filepath.Join(t.TempDir(), "unused"), Max: 1024, Blobs: blobs}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{3}, 100)...)

	ev := &flows.Event{Photo: &flows.Photo{FileID: "f1"}}
	if err := s.Keep(ev, bytes.NewReader(jpeg)); err != nil || ev.Photo.Local == "" {
		t.Fatalf("keep: %v %+v", err, ev.Photo)
	}
	_, fileRel, err := files.Put(bytes.NewReader(jpeg))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Photo.Local != fileRel || ev.Photo.SHA256 != mediatest.Digest(jpeg) {
		t.Errorf("kept as %s (%s), files keep it as %s", ev.Photo.Local, ev.Photo.SHA256, fileRel)
	}
	if got, err := mediatest.ReadAll(t, s, ev.Photo.Local); err != nil || !bytes.Equal(got, jpeg) {
		t.Fatalf("read back %v, %v", got, err)
	}
	doc := &flows.Event{File: &flows.File{FileID: "d1", Name: "报价.PDF"}}
	if err := s.KeepFile(doc, bytes.NewReader([]byte("%PDF-1.7 quote"))); err != nil || filepath.Ext(doc.File.Local) != ".pdf" {
		t.Fatalf("keep file: %v %+v", err, doc.File)
	}
	if got, err := mediatest.ReadAll(t, s, doc.File.Local); err != nil || string(got) != "%PDF-1.7 quote" {
		t.Fatalf("document read back %q, %v", got, err)
	}
	if blobs.Len() != 2 {
		t.Errorf("%d copies in the backend, want 2", blobs.Len())
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the store on Blobs wrote under Dir: %v", err)
	}

	notImage := &flows.Event{Photo: &flows.Photo{FileID: "f2"}}
	if err := s.Keep(notImage, bytes.NewReader([]byte("%PDF-1.7"))); err != nil || !notImage.NotImage {
		t.Errorf("not an image: %v %+v", err, notImage)
	}
	big := &flows.Event{Photo: &flows.Photo{FileID: "f3"}}
	if err := s.Keep(big, bytes.NewReader(append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 2000)...))); err != nil || !big.TooLarge {
		t.Errorf("too large: %v %+v", err, big)
	}
	if blobs.Len() != 2 {
		t.Errorf("refused photos reached the backend: %d copies", blobs.Len())
	}

	other := mediatest.Digest([]byte("never kept"))
	if _, err := s.Open(media.Rel(other, "jpg")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a copy never kept: %v, want fs.ErrNotExist", err)
	}
}

// Open refuses, with either backend, every path that is not one Put hands
// out, before asking the backend.
func TestOpenRefusesPathsNotKept(t *testing.T) {
	sum := mediatest.Digest([]byte("x"))
	good := media.Rel(sum, "jpg")
	bad := []string{"", "/etc/passwd", "../x", filepath.Join("ab", "..", "..", "x"), filepath.Join(sum[:2], "short.jpg"),
		filepath.Join("zz", sum+".jpg"), filepath.Join(sum[:2], sum), filepath.Join(sum[:2], sum+"."),
		filepath.Join(sum[:2], sum+".tar.gz"), sum[:2] + "/../" + good, "/" + good,
		filepath.Join("x", good), filepath.Join(sum[:2], ".tmp-123")}
	for name, s := range map[string]*media.Store{
		"files": {Dir: t.TempDir()},
		"blobs": {Blobs: &mediatest.Fake{}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, rel := range bad {
				if rc, err := s.Open(rel); err == nil || errors.Is(err, fs.ErrNotExist) {
					if rc != nil {
						rc.Close()
					}
					t.Errorf("Open(%q) = %v, want refused", rel, err)
				}
			}
			if _, err := s.Open(good); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open(%q) of a well-formed path never kept = %v, want fs.ErrNotExist", good, err)
			}
		})
	}
}

// The sweep's listing and removal work on Blobs as on files: an old copy
// is listed and removed, one kept again since stays, and Remove refuses a
// path that is not the store's.
func TestCandidatesOnBlobs(t *testing.T) {
	blobs := &mediatest.Fake{}
	s := &media.Store{Max: 1 << 20, Blobs: blobs}
	old := time.Now().Add(-10 * 24 * time.Hour)
	orphan := append([]byte("\x89PNG\r\n\x1a\n"), 1)
	keptAgain := append([]byte("\x89PNG\r\n\x1a\n"), 2)
	for _, b := range [][]byte{orphan, keptAgain} {
		if err := blobs.PutBlob(context.Background(), mediatest.Digest(b), "png", b, old); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := time.Now().Add(-72 * time.Hour)
	got, err := s.Candidates(cutoff)
	if err != nil || len(got) != 2 {
		t.Fatalf("candidates %+v, %v; want both", got, err)
	}
	if _, _, err := s.Put(bytes.NewReader(keptAgain)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Candidates(cutoff); len(again) != 1 || again[0].Sum != mediatest.Digest(orphan) {
		t.Errorf("after keeping one again the candidates are %+v, want the other only", again)
	}
	for _, k := range got {
		gone, err := s.Remove(k, cutoff)
		if want := k.Sum == mediatest.Digest(orphan); err != nil || gone != want {
			t.Errorf("Remove(%s) = %v, %v; want %v", k.Rel, gone, err, want)
		}
	}
	if _, err := mediatest.ReadAll(t, s, media.Rel(mediatest.Digest(keptAgain), "png")); err != nil {
		t.Errorf("the copy kept again was removed: %v", err)
	}
	for _, bad := range []string{"notes.txt", "../x", filepath.Join("exports", mediatest.Digest(orphan)+".png")} {
		if _, err := s.Remove(media.Kept{Rel: bad}, time.Now()); err == nil {
			t.Errorf("Remove(%q) was accepted", bad)
		}
	}
}

// CopyFiles moves a file store's copies into Blobs with their times, skips
// a crash's temporary file and a damaged copy, and can run again.
func TestCopyFiles(t *testing.T) {
	dir := t.TempDir()
	files := &media.Store{Dir: dir, Max: 1 << 20}
	photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 9, 9, 9)
	_, photoRel, err := files.Put(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	_, docRel, err := files.PutFile(bytes.NewReader([]byte("PK\x03\x04 sheet")), "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	damaged := media.Rel(mediatest.Digest([]byte("original")), "jpg")
	for _, p := range []string{damaged, filepath.Join(photoRel[:2], ".tmp-1")} {
		_ = os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o750)
		if err := os.WriteFile(filepath.Join(dir, p), []byte("other bytes"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	when := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, photoRel), when, when); err != nil {
		t.Fatal(err)
	}
	blobs := &mediatest.Fake{}
	for run := range 2 {
		n, size, bad, err := media.CopyFiles(context.Background(), dir, blobs)
		if err != nil || n != 2 || size != int64(len(photo)+len("PK\x03\x04 sheet")) || len(bad) != 1 || bad[0] != damaged {
			t.Fatalf("run %d: copied %d (%d bytes), bad %v, %v", run+1, n, size, bad, err)
		}
	}
	s := &media.Store{Blobs: blobs}
	for _, rel := range []string{photoRel, docRel} {
		if _, err := mediatest.ReadAll(t, s, rel); err != nil {
			t.Errorf("%s not copied: %v", rel, err)
		}
	}
	if old, _ := s.Candidates(when.Add(time.Second)); len(old) != 1 || old[0].Rel != photoRel {
		t.Errorf("the photo's time was not kept: %+v", old)
	}
	if n, _, _, err := media.CopyFiles(context.Background(), filepath.Join(dir, "none"), blobs); err != nil || n != 0 {
		t.Errorf("a missing directory: %d, %v", n, err)
	}
}
