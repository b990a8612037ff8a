package wecom_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/media/mediatest"
)

// TestMediaUpload: a report export goes to a technician as a real file
// (media/upload at send time, then message/send by media id), and a photo
// — here one that came from Telegram, whose file id WeCom cannot use — as
// the kept content-addressed copy uploaded as an image, read from the
// media store's files or from its Blobs (the database replicas share).
func TestMediaUpload(t *testing.T) {
	t.Run("files", func(t *testing.T) { testMediaUpload(t, nil) })
	t.Run("blobs", func(t *testing.T) { testMediaUpload(t, &mediatest.Fake{}) })
}

func testMediaUpload(t *testing.T, blobs media.Blobs) {
	r := newRig(t, rigOptions{Blobs: blobs})
	report := "# 月报\n\n工单 12 张，按时 11 张。\n"
	r.enqueue(flows.Message{To: wecom.UserAddress("tech01"), Kind: flows.KindFile, FileName: "report-2026-11.md", Text: report, Priority: flows.PrioNormal})
	r.settle()

	ms := &media.Store{Dir: filepath.Join(filepath.Dir(r.path), "photos"), Max: 10 << 20, Blobs: blobs}
	sum, rel, err := ms.Put(bytes.NewReader(jpeg))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tk := &flows.Ticket{ID: "BX-20261127-0001", State: flows.StateNew, Category: "water", Description: "漏水", Created: now, Updated: now,
		Photos: []flows.Photo{{FileID: "AgACAgUAAxkBAAIB", SHA256: sum, Local: rel, Size: int64(len(jpeg))}}}
	if err := r.store().Update(context.Background(), func(tx flows.Tx) error { return tx.PutTicket(tk) }); err != nil {
		t.Fatal(err)
	}
	r.enqueue(flows.Message{To: wecom.UserAddress("tech01"), Kind: flows.KindPhoto, Photo: "AgACAgUAAxkBAAIB", Text: tk.ID, Ticket: tk.ID, Priority: flows.PrioNormal})
	r.settle()

	sent := r.fake.Sent("tech01")
	ups := r.fake.Uploads()
	if len(sent) != 2 || len(ups) != 2 {
		t.Fatalf("sent %+v, uploads %d", sent, len(ups))
	}
	if sent[0].MsgType != "file" || ups[0].Type != "file" || ups[0].Name != "report-2026-11.md" || string(ups[0].Data) != report || sent[0].MediaID != ups[0].MediaID {
		t.Fatalf("report: sent %+v, upload %+v", sent[0], ups[0].Name)
	}
	if sent[1].MsgType != "image" || ups[1].Type != "image" || !bytes.Equal(ups[1].Data, jpeg) || sent[1].MediaID != ups[1].MediaID {
		t.Fatalf("photo: sent %+v, upload type %s", sent[1], ups[1].Type)
	}
}

// TestMediaUploadLimits: what media/upload cannot take is not lost: an
// empty export and a photo without a kept copy go as text.
func TestMediaUploadLimits(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.enqueue(flows.Message{To: wecom.UserAddress("tech01"), Kind: flows.KindFile, FileName: "empty.md", Text: "", Priority: flows.PrioNormal},
		flows.Message{To: wecom.UserAddress("tech01"), Kind: flows.KindPhoto, Photo: "AgACAgUAAxkBAAIC", Text: "BX-20261127-0009", Ticket: "BX-20261127-0009", Priority: flows.PrioNormal})
	r.settle()
	sent := r.fake.Sent("tech01")
	if len(sent) != 2 || sent[0].MsgType != "text" || sent[1].MsgType != "text" || len(r.fake.Uploads()) != 0 {
		t.Fatalf("sent %+v", sent)
	}
}

// stubExporter renders every export as its bytes, or fails with err.
type stubExporter struct {
	data []byte
	err  error
}

func (s stubExporter) Export(context.Context, flows.Export) ([]byte, error) { return s.data, s.err }

// TestExportUpload: a form export goes to a member as a file rendered at
// send time, a chart export (a PNG) as an image; an export that names
// nothing goes as its caption with the catalog's note.
func TestExportUpload(t *testing.T) {
	xlsx := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 100)...)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{2}, 100)...)
	for _, c := range []struct {
		name     string
		exp      stubExporter
		kind     flows.MsgKind
		wantType string
		wantData []byte
	}{
		{"form as a file", stubExporter{data: xlsx}, flows.KindFile, "file", xlsx},
		{"chart as an image", stubExporter{data: png}, flows.KindPhoto, "image", png},
		{"missing ticket as text", stubExporter{err: flows.ErrNotFound}, flows.KindFile, "text", nil},
		{"invalid spec as text", stubExporter{err: flows.ErrExportInvalid}, flows.KindPhoto, "text", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOptions{Exports: c.exp})
			r.enqueue(flows.Message{To: wecom.UserAddress("tech01"), Kind: c.kind, FileName: "BX-20261127-0001_维修工作单.xlsx",
				Text: "📎 维修工作单（BX-20261127-0001）", Priority: flows.PrioNormal,
				Export: &flows.Export{Form: flows.ExportWorkOrder, Ticket: "BX-20261127-0001", Lang: flows.LangZH}})
			r.settle()
			sent, ups := r.fake.Sent("tech01"), r.fake.Uploads()
			if len(sent) != 1 || sent[0].MsgType != c.wantType {
				t.Fatalf("sent %+v", sent)
			}
			if c.wantData == nil {
				if len(ups) != 0 || !strings.Contains(sent[0].Text, "BX-20261127-0001") || !strings.Contains(sent[0].Text, r.T("export.failed")) {
					t.Fatalf("%d uploads, text %q", len(ups), sent[0].Text)
				}
				return
			}
			if len(ups) != 1 || ups[0].Type != c.wantType || !bytes.Equal(ups[0].Data, c.wantData) || sent[0].MediaID != ups[0].MediaID {
				t.Fatalf("upload %+v", ups)
			}
		})
	}
}
