package media_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/repairbot/repairbot/media"
)

// Candidates lists the store's own files older than the cutoff (copies and
// a crash's temporary files), never anything else under Dir; keeping the
// same bytes again makes a copy young; Remove re-checks the age and
// refuses a path that is not the store's.
func TestCandidatesAndRemove(t *testing.T) {
	s := &media.Store{Dir: t.TempDir(), Max: 1 << 20}
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 100)...)
	sum, rel, err := s.Put(bytes.NewReader(jpeg))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.Dir, sum[:2], ".tmp-123")
	foreignDir := filepath.Join(s.Dir, "exports")
	for _, p := range []string{tmp, filepath.Join(s.Dir, "notes.txt"), filepath.Join(foreignDir, sum+".jpg")} {
		_ = os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	old := now.Add(-10 * 24 * time.Hour)
	_ = filepath.Walk(s.Dir, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	cutoff := now.Add(-72 * time.Hour)

	got, err := s.Candidates(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, k := range got {
		names[k.Rel] = k.Sum
	}
	if len(got) != 2 || names[rel] != sum || names[filepath.Join(sum[:2], ".tmp-123")] != "" {
		t.Fatalf("candidates %+v, want the copy %s and the temporary file", got, rel)
	}

	// Kept again: young, not a candidate, and Remove of the old listing
	// leaves it.
	if _, _, err := s.Put(bytes.NewReader(jpeg)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Candidates(cutoff); len(again) != 1 {
		t.Errorf("after keeping the copy again the candidates are %+v, want the temporary file only", again)
	}
	for _, k := range got {
		gone, err := s.Remove(k, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if want := k.Sum == ""; gone != want {
			t.Errorf("Remove(%s) = %v, want %v", k.Rel, gone, want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir, rel)); err != nil {
		t.Errorf("the copy kept again was removed: %v", err)
	}
	for _, bad := range []string{"notes.txt", filepath.Join("exports", sum+".jpg"), "../x", filepath.Join(sum[:2], "..", "..", "x")} {
		if _, err := s.Remove(media.Kept{Rel: bad}, now); err == nil {
			t.Errorf("Remove(%q) was accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not the store's was removed: %v", err)
	}
}

// A directory nothing was ever kept in has no candidates and no error.
func TestCandidatesOfAnEmptyStore(t *testing.T) {
	s := &media.Store{Dir: filepath.Join(t.TempDir(), "never-made"), Max: 1}
	if got, err := s.Candidates(time.Now()); err != nil || len(got) != 0 {
		t.Errorf("Candidates = %v, %v", got, err)
	}
}
