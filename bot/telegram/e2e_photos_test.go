package telegram_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

// photoFiles counts the photos kept in the rig's media directory.
func (r *rig) photoFiles() int {
	n := 0
	_ = filepath.WalkDir(filepath.Join(filepath.Dir(r.path), "photos"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// Photos are downloaded only when a dialogue waits for one, and at most
// limits.max_photos_per_hour per person: a stranger's 20 photos (which
// once filled a small disk) and documents fetch nothing and are each
// answered; a
// resident's report photos are kept, those beyond the hour's allowance
// are filed by their platform id only.
func TestE2EPhotosOnlyWhenWanted(t *testing.T) {
	r := newRig(t, rigOptions{PhotosPerHour: 2})
	stranger := tgfake.User{ID: 4501, FirstName: "Mallory", LanguageCode: "en"}
	for i := range 20 {
		top := r.top(stranger.ID)
		r.fake.SendPhoto(stranger, stranger.ID, "", 100_000+i)
		r.next(stranger.ID, top, "an answer to an unasked-for photo", nil)
	}
	for range 3 { // nor documents, which only a spreadsheet import takes
		top := r.top(stranger.ID)
		r.fake.SendDocument(stranger, stranger.ID, "stock.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 50_000)
		r.next(stranger.ID, top, "an answer to an unasked-for document", nil)
	}
	r.settle()
	if n := r.fake.Calls("getFile"); n != 0 || r.photoFiles() != 0 {
		t.Fatalf("a stranger's uploads were downloaded: %d getFile calls, %d files kept", n, r.photoFiles())
	}
	photos := r.atPhotos()
	id, _ := r.finishReport(zhRes, photos, reportSpec{photos: 3})
	tk := r.ticket(id)
	if len(tk.Photos) != 3 {
		t.Fatalf("%d photos on the ticket, want 3", len(tk.Photos))
	}
	kept := 0
	for _, p := range tk.Photos {
		if p.Local != "" {
			kept++
		}
		if p.FileID == "" {
			t.Errorf("a photo lost its platform id: %+v", p)
		}
	}
	// (The fake's photos of one size are the same bytes: one file.)
	if kept != 2 || r.fake.Calls("getFile") != 2 || r.photoFiles() == 0 {
		t.Errorf("kept %d of 3 (getFile %d, files %d); want the hour's allowance of 2", kept, r.fake.Calls("getFile"), r.photoFiles())
	}
}
