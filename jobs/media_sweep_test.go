package jobs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
)

// png is a tiny valid-looking PNG (the media store checks the signature);
// n makes each one's bytes, so its digest, distinct.
func png(n byte) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), bytes.Repeat([]byte{n}, 64)...)
}

// The nightly sweep deletes kept files no record refers to once they are
// old enough, and nothing else: a ticket's photo stays, a half-finished
// report's photo stays while its dialogue lives and goes after it was
// dropped, a fresh orphan waits for its grace, and a file outside the
// store's naming is never touched.
func TestSweepMediaDeletesOnlyOldOrphans(t *testing.T) {
	w := flowstest.New(t)
	st := w.Bolt()
	res, quitter := flowstest.Person{ID: 501, Name: "住户甲"}, flowstest.Person{ID: 502, Name: "住户乙"}
	w.Register(res, "13800000501")
	w.Register(quitter, "13800000502")
	first := func(p flowstest.Person) string {
		m := w.Last(w.Drain(), p.Chat())
		if len(m.Buttons) == 0 {
			t.Fatalf("no buttons in %q", m.Text)
		}
		return m.Buttons[0][0].Data
	}
	// A report with a photo: the ticket refers to it.
	w.Cmd(res, "report", "")
	w.Tap(res, first(res), false)
	w.Text(res, "厨房水管漏水")
	w.KeptPhoto(res, png(1))
	w.Tap(res, first(res), false) // no more photos
	w.Tap(res, first(res), false) // household
	w.Tap(res, first(res), false) // as soon as possible
	m := w.Last(w.Drain(), res.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket number in %q", m.Text)
	}
	id := m.Text[i : i+len("BX-20261127-0001")]
	if len(w.Ticket(id).Photos) != 1 || w.Ticket(id).Photos[0].SHA256 == "" {
		t.Fatalf("the report kept no photo: %+v", w.Ticket(id))
	}
	onTicket := w.Ticket(id).Photos[0]
	// A report left half-way with a photo: only its dialogue refers to it.
	w.Cmd(quitter, "report", "")
	w.Tap(quitter, first(quitter), false)
	w.Text(quitter, "门锁坏了")
	w.KeptPhoto(quitter, png(2))
	w.Drain()
	inDialogue := path(w.Media.Dir, digest(png(2)))
	// Two orphans, an old and a fresh one, and a stranger's file.
	orphan, _, err := w.Media.Put(bytes.NewReader(png(3)))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := w.Media.Put(bytes.NewReader(png(4)))
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(w.Media.Dir, "README.txt")
	if err := os.WriteFile(foreign, []byte("not the store's"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := w.Now.Add(-100 * time.Hour)
	for _, p := range []string{filepath.Join(w.Media.Dir, onTicket.Local), inDialogue, path(w.Media.Dir, orphan), foreign} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	young := w.Now.Add(-time.Hour)
	if err := os.Chtimes(path(w.Media.Dir, fresh), young, young); err != nil {
		t.Fatal(err)
	}

	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: st, Tick: time.Hour, Log: zerolog.Nop(), Now: func() time.Time { return w.Now },
		Keep: jobs.Keep{OrphanMedia: 72 * time.Hour, Dialogues: 30 * 24 * time.Hour}, Media: w.Media})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, _ := r.SweepMedia(); n != 1 {
		t.Errorf("first sweep deleted %d files, want 1 (the old orphan)", n)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	for name, p := range map[string]string{"ticket's photo": filepath.Join(w.Media.Dir, onTicket.Local),
		"half-finished report's photo": inDialogue, "fresh orphan": path(w.Media.Dir, fresh), "foreign file": foreign} {
		if !exists(p) {
			t.Errorf("the %s was deleted", name)
		}
	}
	if exists(path(w.Media.Dir, orphan)) {
		t.Error("the old orphan is still there")
	}

	// The dialogue is dropped (a month idle): its photo is an orphan now.
	w.Now = w.Now.Add(31 * 24 * time.Hour)
	if _, err := st.PruneDialogues(w.Now.Add(-30 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.SweepMedia(); n != 2 {
		t.Errorf("second sweep deleted %d files, want 2 (the dropped report's photo and the orphan now old)", n)
	}
	if exists(inDialogue) {
		t.Error("the dropped report's photo is still there")
	}
	if !exists(filepath.Join(w.Media.Dir, onTicket.Local)) {
		t.Error("the ticket's photo was deleted")
	}
	if rc, err := w.Media.Open(onTicket.Local); err != nil {
		t.Errorf("the ticket's photo cannot be opened: %v", err)
	} else {
		rc.Close()
	}
}

// A store that cannot say what it refers to has nothing swept.
func TestSweepMediaNeedsTheStoresReferences(t *testing.T) {
	w := flowstest.New(t)
	sum, _, err := w.Media.Put(bytes.NewReader(png(9)))
	if err != nil {
		t.Fatal(err)
	}
	old := w.Now.Add(-1000 * time.Hour)
	if err := os.Chtimes(path(w.Media.Dir, sum), old, old); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: housekeeperOnly{w.Bolt()}, Tick: time.Hour, Log: zerolog.Nop(),
		Now: func() time.Time { return w.Now }, Media: w.Media})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, _ := r.SweepMedia(); n != 0 {
		t.Errorf("swept %d files without the store's references", n)
	}
	if _, err := os.Stat(path(w.Media.Dir, sum)); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
}

type housekeeperOnly struct{ jobs.Housekeeper }

func path(dir, sum string) string {
	return filepath.Join(dir, sum[:2], sum+".png")
}

func digest(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}
