package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

var posterKey = []byte("test-poster-key-0123456789")

// posterWorld is the two-area world; a poster is an export whose spec
// (Export.Poster) says what the drawn poster would.
func posterWorld(t *testing.T) *flowstest.World {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(twoAreas))
	staffIn(w, eastLead, "lead", "east")
	return w
}

func TestPosterCodes(t *testing.T) {
	code := flows.PosterCode(posterKey, "east", "12栋")
	if len(code) > 64 || !strings.HasPrefix(code, "b_") || strings.Trim(code, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		t.Fatalf("code %q does not fit a Telegram start parameter", code)
	}
	if a, b, ok := flows.ReadPosterCode(posterKey, code); !ok || a != "east" || b != "12栋" {
		t.Fatalf("read back %q %q %v", a, b, ok)
	}
	flip := func(s string, i int) string {
		r := []byte(s)
		if r[i] == 'A' {
			r[i] = 'B'
		} else {
			r[i] = 'A'
		}
		return string(r)
	}
	for name, bad := range map[string]string{
		"another key":       flows.PosterCode([]byte("another-key-0123456789"), "east", "12栋"),
		"payload changed":   flip(code, 3),
		"signature changed": flip(code, len(code)-2),
		"cut short":         code[:len(code)-1],
		"no prefix":         strings.TrimPrefix(code, "b_"),
		"empty":             "b_",
		"garbage":           "b_!!!!!!!!!!!!!!!!!!",
	} {
		if _, _, ok := flows.ReadPosterCode(posterKey, bad); ok {
			t.Errorf("%s: %q was read as a poster", name, bad)
		}
	}
	if _, _, ok := flows.ReadPosterCode(nil, code); ok {
		t.Error("a code was read without a key")
	}
}

// TestPosterRegisters: the poster's link registers a new resident with
// the area and the building already chosen; a forged or stale code is
// refused and registers nobody.
func TestPosterRegisters(t *testing.T) {
	w := posterWorld(t)
	p := flowstest.Person{ID: 140, Name: "扫码住户"}
	w.Cmd(p, "start", flows.PosterCode(posterKey, "east", "2栋"))
	if m := w.Last(w.Drain(), p.Chat()); !strings.Contains(m.Text, "东苑小区 2栋") || !strings.Contains(m.Text, "姓名") {
		t.Fatalf("the poster's welcome: %q", m.Text)
	}
	w.Text(p, p.Name)
	w.Contact(p, "13800138140", true)
	if m := w.Last(w.Drain(), p.Chat()); !strings.Contains(m.Text, w.Opts.Texts.T(flows.LangZH, "register.ask_unit")) {
		t.Fatalf("after the phone, want the unit (area and building chosen), got %q", m.Text)
	}
	w.Text(p, "1单元")
	w.Text(p, "301")
	w.Drain()
	got := person(t, w, p)
	if !got.Registered || got.Building != "2栋" || len(got.Areas) != 1 || got.Areas[0] != "east" {
		t.Fatalf("registered as %+v", got)
	}
	if tk := w.Ticket(w.Report(p, "灯坏了")); tk.Area != "east" || tk.Building != "2栋" {
		t.Fatalf("their report: area %q building %q", tk.Area, tk.Building)
	}

	for _, c := range []struct{ name, code, want string }{
		{"forged", flows.PosterCode([]byte("not-our-key-0123456789"), "east", "2栋"), "这个二维码无效"},
		{"building no longer listed", flows.PosterCode(posterKey, "east", "9栋"), "这张海报已过期"},
		{"area no longer served", flows.PosterCode(posterKey, "north", "1栋"), "这张海报已过期"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := flowstest.Person{ID: 150, Name: "路人甲"}
			w.Cmd(q, "start", c.code)
			if m := w.Last(w.Drain(), q.Chat()); !strings.Contains(m.Text, c.want) {
				t.Fatalf("answered %q, want %q", m.Text, c.want)
			}
			w.Text(q, "路人甲") // no registration was started by the code
			w.Drain()
			var d *flows.Dialogue
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error { d, _ = tx.Dialogue(q.PID()); return nil })
			if d != nil && (d.Area != "" || d.Building != "") {
				t.Fatalf("a refused code left a registration with its building: %+v", d)
			}
		})
	}
}

// TestPosterCommand: a lead makes their building's poster, whose link
// reads back as that building; another area's and an unlisted building
// are refused.
func TestPosterCommand(t *testing.T) {
	w := posterWorld(t)
	w.Cmd(eastLead, "poster", "2栋")
	files := flowstest.Files(w.Drain(), eastLead.Chat())
	if len(files) != 2 {
		t.Fatalf("the poster's files: %+v", files)
	}
	m, pdf := files[0], files[1]
	if m.Kind != flows.KindFile || !strings.HasSuffix(m.FileName, ".png") || m.Export == nil || m.Export.Form != flows.ExportPoster || m.Export.Check() != nil {
		t.Fatalf("the poster: %+v", m)
	}
	if !strings.HasSuffix(pdf.FileName, ".pdf") || pdf.Export == nil || pdf.Export.Form != flows.ExportPosterPDF || pdf.Export.Check() != nil || *pdf.Export.Poster != *m.Export.Poster {
		t.Fatalf("the poster's PDF: %+v", pdf)
	}
	s := m.Export.Poster
	lines := []string{s.Org, s.Area, s.Building, s.Call, s.Link, s.Footer}
	i := strings.Index(lines[4], "start=")
	if i < 0 {
		t.Fatalf("no deep link on the poster: %q", lines)
	}
	if a, b, ok := flows.ReadPosterCode(posterKey, lines[4][i+len("start="):]); !ok || a != "east" || b != "2栋" {
		t.Fatalf("the poster's link reads as %q %q %v", a, b, ok)
	}
	if lines[1] != "东苑小区" || lines[2] != "2栋" || !strings.Contains(lines[5], "0571-1111") {
		t.Errorf("the poster says %q", lines)
	}
	w.Cmd(eastLead, "poster", "west 1号楼")
	if m := w.Last(w.Drain(), eastLead.Chat()); !strings.Contains(m.Text, "您不负责西苑小区") {
		t.Errorf("another area's poster: %q", m.Text)
	}
	w.Cmd(eastLead, "poster", "9栋")
	if m := w.Last(w.Drain(), eastLead.Chat()); !strings.Contains(m.Text, "东苑小区没有这个楼栋") {
		t.Errorf("an unlisted building: %q", m.Text)
	}
	w.Cmd(admin, "poster", "west 1号楼") // the admin, any area; west types its buildings
	if m := w.Last(w.Drain(), admin.Chat()); m.Kind != flows.KindFile || m.Export.Form != flows.ExportPosterPDF {
		t.Errorf("the admin's poster of west: %+v", m)
	}
}
