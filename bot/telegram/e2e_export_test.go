package telegram_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

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
