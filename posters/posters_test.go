package posters_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/repairbot/repairbot/posters"
)

// TestPNG: an A4 page at 150 dpi whose QR code is exactly the link's, with
// the Chinese text drawn (ink above the code), and the same poster twice
// is the same file.
func TestPNG(t *testing.T) {
	p := posters.Poster{Org: "测试物业", Area: "东苑小区", Building: "3栋", Call: "扫码登记，在线报修",
		Link: "https://t.me/test_bot?start=b_ZWFzdC4z5qCLabcdefghijk", Footer: "服务中心电话：0571-1111"}
	data, err := posters.PNG(p)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := posters.PNG(p)
	if !bytes.Equal(data, again) {
		t.Error("the same poster drew two different files")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1240 || b.Dy() != 1754 {
		t.Fatalf("page %v, want 1240×1754", b)
	}
	qr, err := qrcode.New(p.Link, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	want := qr.Image(760)
	// Find the code: the first row from the top, below the text, where
	// the page matches the code's first row at the centre.
	x0 := (1240 - want.Bounds().Dx()) / 2
	found := -1
	for y := 200; y < 1754-want.Bounds().Dy() && found < 0; y++ {
		if sameImage(img, want, x0, y) {
			found = y
		}
	}
	if found < 0 {
		t.Fatal("the link's QR code is not on the page")
	}
	if ink(img, image.Rect(100, 100, 1140, found)) < 2000 {
		t.Error("no text above the code (the CJK font did not draw)")
	}
	if _, err := posters.PNG(posters.Poster{Area: "x"}); err == nil {
		t.Error("a poster without a link was drawn")
	}
}

func sameImage(page image.Image, code image.Image, x0, y0 int) bool {
	b := code.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if gray(page.At(x0+x, y0+y)) != gray(code.At(x, y)) {
				return false
			}
		}
	}
	return true
}

func gray(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return (r+g+b)/3 < 0x8000
}

func ink(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if gray(img.At(x, y)) {
				n++
			}
		}
	}
	return n
}
