package telegram_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
)

const xlsxMime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestE2EPartsCatalogThroughTheChannel: a lead imports the catalog by
// sending an .xlsx in the private chat. The channel keeps the file in the
// media store and the engine reads that copy: a file with bad rows is
// refused as a whole with each row and column named, the corrected one is
// imported, and /parts export comes back as a document whose bytes are
// the workbook.
func TestE2EPartsCatalogThroughTheChannel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{NoPhotos: true})
	admin := tgfake.User{ID: adminID, FirstName: "管理员", LanguageCode: "zh-hans"}
	lead := tgfake.User{ID: 2101, FirstName: "陈主管", LanguageCode: "zh-hans"}
	r.hire(admin, lead, "lead")
	r.say(lead, "/parts store main 总仓", withText(r.T(lead, "parts.store_saved", "id", "main", "name", "总仓")))
	r.say(lead, "/parts import", withText(r.T(lead, "parts.ask_file")))

	head := []any{"编码", "名称", "单位", "成本单价", "售价", "收费", "存放仓库"}
	send := func(data []byte, what string, pred func(tgfake.Message) bool) tgfake.Message {
		t.Helper()
		before := r.top(lead.ID)
		r.fake.SendFile(lead, lead.ID, "配件目录.xlsx", xlsxMime, data)
		return r.next(lead.ID, before, what, pred)
	}
	bad := send(workbook(t, [][]any{head,
		{"P-1", "角阀", "个", "12.00", "25.00", "是", "main"},
		{"P-2", "软管", "", "x", "", "否", "main"},
	}), "the refusal", func(m tgfake.Message) bool { return strings.Contains(m.Text, "导入未执行") })
	for _, want := range []string{"第 3 行 C 列（单位）", "第 3 行 D 列（成本单价）"} {
		if !strings.Contains(bad.Text, want) {
			t.Fatalf("refusal %q does not name %q", bad.Text, want)
		}
	}
	send(workbook(t, [][]any{head,
		{"P-1", "角阀", "个", "12.00", "25.00", "是", "main"},
		{"P-2", "软管", "根", "8", "", "否", "main"},
	}), "the import", withText(r.T(lead, "parts.xlsx.imported", "n", 2)))

	doc := r.say(lead, "/parts export", func(m tgfake.Message) bool { return m.DocumentFileID != "" })
	data, ok := r.fake.FileData(doc.DocumentFileID)
	if !ok {
		t.Fatal("the export has no bytes")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the export is not a workbook: %v", err)
	}
	defer f.Close()
	rows, _ := f.GetRows(f.GetSheetName(0))
	if len(rows) != 3 || rows[1][0] != "P-1" || rows[2][1] != "软管" {
		t.Fatalf("exported rows %v", rows)
	}
	if !strings.Contains(doc.Caption, "配件目录") {
		t.Fatalf("the export's caption %q", doc.Caption)
	}
	r.noFailedRows()
}
