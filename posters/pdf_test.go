package posters_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/image/font/sfnt"

	"github.com/repairbot/repairbot/charts"
	"github.com/repairbot/repairbot/posters"
)

// TestTTCFace: the first face of the embedded collection comes out as a
// TrueType font a strict parser reads (x/image's sfnt refuses the
// collection itself), with the whole CJK repertoire.
func TestTTCFace(t *testing.T) {
	ttc, err := charts.CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	ttf, err := posters.TTCFace(ttc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(ttf[:4]) == "ttcf" || len(ttf) > len(ttc) {
		t.Fatalf("not one face: %q, %d bytes of %d", ttf[:4], len(ttf), len(ttc))
	}
	f, err := sfnt.Parse(ttf)
	if err != nil {
		t.Fatalf("the extracted face does not parse: %v", err)
	}
	if n := f.NumGlyphs(); n < 20000 {
		t.Errorf("%d glyphs, want the CJK repertoire", n)
	}
	var b sfnt.Buffer
	for _, r := range "东苑小区3栋扫码报修" {
		if g, err := f.GlyphIndex(&b, r); err != nil || g == 0 {
			t.Errorf("no glyph for %q (%v)", r, err)
		}
	}
	if _, err := posters.TTCFace(ttc, 9); err == nil {
		t.Error("a face the collection does not have was extracted")
	}
	if _, err := posters.TTCFace([]byte("ttcf"), 0); err == nil {
		t.Error("a truncated collection was read")
	}
}

// TestPDF: an A4 PDF with the CJK font embedded, every line of the poster
// as text, the QR code as an image linking to the deep link.
func TestPDF(t *testing.T) {
	p := posters.Poster{Org: "测试物业", Area: "东苑小区", Building: "3栋", Call: "扫码登记，在线报修",
		Link: "https://t.me/test_bot?start=b_ZWFzdC4z5qCLabcdefghijk", Footer: "服务中心电话：0571-1111"}
	data, err := posters.PDF(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", data[:16])
	}
	raw := string(data)
	for _, want := range []string{"/MediaBox [0 0 595.28 841.89]", "/FontFile2", "/Subtype /Image", "/URI (" + p.Link + ")"} {
		if !strings.Contains(raw, want) {
			t.Errorf("the PDF has no %q", want)
		}
	}
	// The page's text: each line as UTF-16 in a text-showing operator.
	var content strings.Builder
	for _, m := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(data, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		if b, err := io.ReadAll(zr); err == nil {
			content.Write(b)
		}
	}
	for _, line := range []string{p.Org, p.Area, p.Building, p.Call, p.Footer} {
		if !strings.Contains(content.String(), "("+pdfUTF16(line)+")Tj") {
			t.Errorf("the page does not show %q", line)
		}
	}
	if _, err := posters.PDF(posters.Poster{Area: "x"}); err == nil {
		t.Error("a poster without a link was drawn")
	}
}

// pdfUTF16 is s as a PDF string of UTF-16BE with ( ) \ and CR escaped.
func pdfUTF16(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		for _, c := range []byte{byte(u >> 8), byte(u)} {
			switch c {
			case '(', ')', '\\':
				b.WriteByte('\\')
			case '\r':
				b.WriteString(`\r`)
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
