package telegram_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
)

// documentIn waits for the bot's document in chat after message after and
// returns its file name and bytes as the fake received them.
func (r *rig) documentIn(chat int64, after int, what string) (string, []byte) {
	r.t.Helper()
	m := r.next(chat, after, what, func(m tgfake.Message) bool { return m.DocumentFileID != "" })
	name, data, ok := r.fake.File(m.DocumentFileID)
	if !ok {
		r.t.Fatalf("%s: the fake has no bytes for %s", what, m.DocumentFileID)
	}
	return name, data
}

// cellContaining is the first cell of the sheet holding s, or "".
func cellContaining(f *excelize.File, sheet, s string) string {
	rows, _ := f.GetRows(sheet)
	for i, row := range rows {
		for j, v := range row {
			if strings.Contains(v, s) {
				c, _ := excelize.CoordinatesToCellName(j+1, i+1)
				return c
			}
		}
	}
	return ""
}

// TestE2EOrderSendsTheWorkOrderXLSX: a resident's /order after the repair
// sends the work order as a document (sendDocument, multipart) rendered at
// send time; the bytes the platform received open with excelize and hold
// the form code, the ticket, the quote total and the confirmation time.
func TestE2EOrderSendsTheWorkOrderXLSX(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.hire(zhAdmin, zhTech, "technician")
	r.register(zhRes, zhHome)
	id, _ := r.report(zhRes, reportSpec{desc: "厨房水管漏水"})
	r.acceptJob2(zhTech, id)
	r.walkVisit(zhTech, zhRes, true)
	r.tapNewest(zhRes, zhRes.ID, r.T(zhRes, "btn.fixed"))
	r.settle()
	top := r.top(zhRes.ID)
	r.say(zhRes, "/order "+id, withText(id))
	name, data := r.documentIn(zhRes.ID, top, "work order file")
	if !strings.HasPrefix(name, id) || !strings.HasSuffix(name, ".xlsx") {
		t.Errorf("file name %q", name)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the work order does not open: %v", err)
	}
	defer f.Close()
	sh := f.GetSheetName(0)
	tk := r.ticket(id)
	for _, want := range []string{"zc-qr-010", "工单号：" + id, flows.Money(tk.Visit.Quote.Total()), "确认维修完成"} {
		if cellContaining(f, sh, want) == "" {
			t.Errorf("the work order has no cell with %q", want)
		}
	}
	confirm := cellContaining(f, sh, "确认维修完成")
	if v, _ := f.GetCellValue(sh, confirm); !strings.Contains(v, tk.Updated.In(shanghai).Format("2006-01-02")) {
		t.Errorf("confirmation %q", v)
	}
	r.noFailedRows()
}

// TestE2EStatsSendsChartsAndTheWorkbook: a lead's /stats answers with the
// summary, then the two charts as photos (sendPhoto, multipart) whose
// bytes decode as PNG, then the KPI workbook as a document.
func TestE2EStatsSendsChartsAndTheWorkbook(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	lead := tgfake.User{ID: 1002, FirstName: "刘主管", LanguageCode: "zh-hans"}
	r.hire(zhAdmin, lead, "lead")
	r.register(zhRes, zhHome)
	r.report(zhRes, reportSpec{desc: "厨房水管漏水"})
	top := r.top(lead.ID)
	r.say(lead, "/stats week", withText(r.T(lead, "stats.more")))
	// The sender renders the two charts and the workbook (with its charts)
	// when it sends them: under -race on a loaded machine that outlasts the
	// rig's default wait (seen at 12 s in a full run), so wait longer.
	r.settleWithin(45 * time.Second)
	var photos, docs int
	for _, m := range r.fake.Messages(lead.ID) {
		if m.ID <= top {
			continue
		}
		switch {
		case m.PhotoFileID != "":
			photos++
			_, data, ok := r.fake.File(m.PhotoFileID)
			if !ok {
				t.Fatalf("no bytes for the chart %s", m.PhotoFileID)
			}
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("the chart does not decode: %v", err)
			}
		case m.DocumentFileID != "":
			docs++
			if _, err := excelize.OpenReader(bytes.NewReader(mustFile(t, r, m.DocumentFileID))); err != nil {
				t.Fatalf("the workbook does not open: %v", err)
			}
		}
	}
	if photos != 2 || docs != 1 {
		t.Fatalf("%d photos and %d documents, want 2 and 1", photos, docs)
	}
	r.noFailedRows()
}

func mustFile(t *testing.T, r *rig, id string) []byte {
	t.Helper()
	_, data, ok := r.fake.File(id)
	if !ok {
		t.Fatalf("no bytes for %s", id)
	}
	return data
}

// TestE2EExportThatCannotBeMade: an export naming a ticket that is gone
// goes out as its caption with a note, and the row is delivered, not
// failed or retried for ever.
func TestE2EExportThatCannotBeMade(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.register(zhRes, zhHome)
	top := r.top(zhRes.ID)
	m := flows.Message{To: telegram.ChatAddress(zhRes.ID), Kind: flows.KindFile, FileName: "BX-20261127-0999.xlsx",
		Text: "📎 维修工作单（BX-20261127-0999）", Priority: flows.PrioNormal,
		Export: &flows.Export{Form: flows.ExportWorkOrder, Ticket: "BX-20261127-0999", Lang: flows.LangZH}}
	if err := r.store().Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(m) }); err != nil {
		t.Fatal(err)
	}
	got := r.next(zhRes.ID, top, "the caption", withText(r.T(zhRes, "export.failed")))
	if !strings.Contains(got.Text, "BX-20261127-0999") || got.DocumentFileID != "" {
		t.Fatalf("got %+v", got)
	}
	r.noFailedRows()
}
