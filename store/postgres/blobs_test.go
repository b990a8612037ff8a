package postgres_test

// The media store's backend on PostgreSQL (Blobs): the contract, two
// replicas sharing their photos through the database, and the nightly
// sweep over the rows.

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/internal/pgtest"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/media/mediatest"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
	"github.com/repairbot/repairbot/store/storetest"
)

func TestBlobsContract(t *testing.T) {
	mediatest.RunBlobs(t, MustOpen(t, postgres.Options{}).Blobs())
}

func pngOf(n byte) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), bytes.Repeat([]byte{n}, 64)...)
}

// Two replicas on one database, each with a data directory of its own: a
// photo and a document one of them kept are read by the other, nothing is
// written under either directory, and the same photo kept by both at once
// is one row.
func TestMediaSharedByReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := mustOpenDSN(t, dsn, postgres.Options{}), mustOpenDSN(t, dsn, postgres.Options{})
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	ma := &media.Store{Dir: dirA, Max: 1 << 20, Blobs: a.Blobs()}
	mb := &media.Store{Dir: dirB, Max: 1 << 20, Blobs: b.Blobs()}

	ev := &flows.Event{Photo: &flows.Photo{FileID: "f1"}}
	if err := ma.Keep(ev, bytes.NewReader(pngOf(1))); err != nil || ev.Photo.Local == "" {
		t.Fatalf("replica A keeps: %v %+v", err, ev.Photo)
	}
	if got, err := mediatest.ReadAll(t, mb, ev.Photo.Local); err != nil || !bytes.Equal(got, pngOf(1)) {
		t.Fatalf("replica B opens A's photo: %d bytes, %v", len(got), err)
	}
	doc := &flows.Event{File: &flows.File{FileID: "d1", Name: "目录.xlsx"}}
	if err := mb.KeepFile(doc, bytes.NewReader([]byte("PK\x03\x04 sheet"))); err != nil || doc.File.Local == "" {
		t.Fatalf("replica B keeps a document: %v %+v", err, doc.File)
	}
	if got, err := mediatest.ReadAll(t, ma, doc.File.Local); err != nil || string(got) != "PK\x03\x04 sheet" {
		t.Fatalf("replica A opens B's document: %q, %v", got, err)
	}
	for _, d := range []string{dirA, dirB} {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a replica wrote under its data directory %s: %v", d, err)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := ma
			if i%2 == 1 {
				s = mb
			}
			_, _, err := s.Put(bytes.NewReader(pngOf(2)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("keeping the same photo on both replicas at once: %v", err)
		}
	}
	if n := count(t, a, `SELECT count(*) FROM media WHERE sum = $1`, mediatest.Digest(pngOf(2))); n != 1 {
		t.Errorf("the same photo is %d rows", n)
	}

	other := mediatest.Digest([]byte("never kept"))
	if _, err := mb.Open(media.Rel(other, "png")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a photo nobody kept: %v, want fs.ErrNotExist", err)
	}
	for _, bad := range []string{"/etc/passwd", "../" + ev.Photo.Local, filepath.Join("zz", ev.Photo.SHA256+".png"), ev.Photo.SHA256 + ".png"} {
		if _, err := mb.Open(bad); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v, want refused", bad, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mediatest.ReadAll(t, mb, ev.Photo.Local); err != nil {
		t.Errorf("replica A gone, B still opens the photo: %v", err)
	}
}

// The nightly sweep on PostgreSQL: a row no record mentions goes once it
// is older than the grace, a ticket's photo and a fresh orphan stay, and
// a photo kept again after the listing is not deleted.
func TestMediaSweepOnPostgres(t *testing.T) {
	var pg *postgres.Store
	w := flowstest.New(t, flowstest.WithStore(func(tb testing.TB, now func() time.Time) storetest.Opened {
		o := pgstoretest.OpenDSN(tb, pgstoretest.DSN(tb), postgres.Options{Now: now})
		pg = o.Store.(*postgres.Store)
		return o
	}))
	w.Media = &media.Store{Dir: filepath.Join(t.TempDir(), "unused"), Max: 10 << 20, Blobs: pg.Blobs()}
	res := flowstest.Person{ID: 501, Name: "住户甲"}
	w.Register(res, "13800000501")
	first := func() string {
		m := w.Last(w.Drain(), res.Chat())
		if len(m.Buttons) == 0 {
			t.Fatalf("no buttons in %q", m.Text)
		}
		return m.Buttons[0][0].Data
	}
	w.Cmd(res, "report", "")
	w.Tap(res, first(), false)
	w.Text(res, "厨房水管漏水")
	w.KeptPhoto(res, pngOf(1))
	w.Tap(res, first(), false) // no more photos
	w.Tap(res, first(), false) // household
	w.Tap(res, first(), false) // as soon as possible
	m := w.Last(w.Drain(), res.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket number in %q", m.Text)
	}
	onTicket := w.Ticket(m.Text[i : i+len("BX-20261127-0001")]).Photos[0]
	if onTicket.Local == "" {
		t.Fatalf("the report kept no photo: %+v", onTicket)
	}
	orphan, _, err := w.Media.Put(bytes.NewReader(pngOf(3)))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := w.Media.Put(bytes.NewReader(pngOf(4)))
	if err != nil {
		t.Fatal(err)
	}
	age := func(sum string, at time.Time) {
		t.Helper()
		if _, err := pg.Pool().Exec(context.Background(), `UPDATE media SET kept_at = $2 WHERE sum = $1`, sum, at); err != nil {
			t.Fatal(err)
		}
	}
	age(onTicket.SHA256, w.Now.Add(-100*time.Hour))
	age(orphan, w.Now.Add(-100*time.Hour))
	age(fresh, w.Now.Add(-time.Hour))

	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: pg, Tick: time.Hour, Log: zerolog.Nop(), Now: func() time.Time { return w.Now },
		Keep: jobs.Keep{OrphanMedia: 72 * time.Hour}, Media: w.Media})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, size := r.SweepMedia(); n != 1 || size != int64(len(pngOf(3))) {
		t.Errorf("the sweep deleted %d rows (%d bytes), want 1 (the old orphan)", n, size)
	}
	if _, err := mediatest.ReadAll(t, w.Media, media.Rel(orphan, "png")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old orphan: %v, want gone", err)
	}
	for name, rel := range map[string]string{"ticket's photo": onTicket.Local, "fresh orphan": media.Rel(fresh, "png")} {
		if _, err := mediatest.ReadAll(t, w.Media, rel); err != nil {
			t.Errorf("the %s: %v", name, err)
		}
	}

	// Listed as old, then kept again before its turn (at the real time,
	// after the pinned one): it stays.
	age(fresh, w.Now.Add(-100*time.Hour))
	before := w.Now.Add(-72 * time.Hour)
	listed, err := w.Media.Candidates(before)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Media.Put(bytes.NewReader(pngOf(4))); err != nil {
		t.Fatal(err)
	}
	for _, k := range listed {
		if k.Sum != fresh {
			continue
		}
		if gone, err := w.Media.Remove(k, before); err != nil || gone {
			t.Errorf("Remove of a photo kept again since the listing = %v, %v", gone, err)
		}
	}
	if _, err := mediatest.ReadAll(t, w.Media, media.Rel(fresh, "png")); err != nil {
		t.Errorf("the photo kept again: %v", err)
	}
}
