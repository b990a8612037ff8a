// Package posters draws a building's QR poster (issue 20): a printable
// A4 page at 150 dpi with the estate, the building, a call to scan, the
// QR code of the deep link that registers a resident with the building
// already chosen, the link itself and the service phone. Chinese renders
// with the CJK font that ships in the binary (charts.CJKFont).
package posters

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"github.com/golang/freetype/truetype"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/repairbot/repairbot/charts"
)

// Poster is what one poster says.
type Poster struct {
	// Org is the company's name, at the top.
	Org string
	// Area and Building are the estate's name and the building, large.
	Area, Building string
	// Call is the call to scan ("扫码登记，在线报修").
	Call string
	// Link is the deep link the QR code holds, printed under it.
	Link string
	// Footer is the last line (the service phone).
	Footer string
}

// A4 at 150 dpi.
const (
	width  = 1240
	height = 1754
)

var (
	faceOnce sync.Once
	faceErr  error
	cjk      *truetype.Font
)

func fontFace(size float64) (font.Face, error) {
	faceOnce.Do(func() {
		data, err := charts.CJKFont()
		if err != nil {
			faceErr = err
			return
		}
		// freetype reads the collection's first font (x/image's sfnt
		// refuses this file: "invalid table offset").
		cjk, faceErr = truetype.Parse(data)
	})
	if faceErr != nil {
		return nil, faceErr
	}
	return truetype.NewFace(cjk, &truetype.Options{Size: size, DPI: 72, Hinting: font.HintingFull}), nil
}

// PNG draws the poster as a PNG image.
func PNG(p Poster) ([]byte, error) {
	if p.Link == "" {
		return nil, errors.New("posters: no link")
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	// A border a printer will not cut off.
	frame := color.RGBA{0x1f, 0x4e, 0x79, 0xff}
	for _, r := range []image.Rectangle{
		image.Rect(40, 40, width-40, 52), image.Rect(40, height-52, width-40, height-40),
		image.Rect(40, 40, 52, height-40), image.Rect(width-52, 40, width-40, height-40),
	} {
		draw.Draw(img, r, image.NewUniform(frame), image.Point{}, draw.Src)
	}
	y := 180
	for _, line := range []struct {
		text string
		size float64
		c    color.Color
	}{
		{p.Org, 44, color.Black},
		{p.Area, 96, frame},
		{p.Building, 140, frame},
		{p.Call, 56, color.Black},
	} {
		if line.text == "" {
			continue
		}
		h, err := centred(img, line.text, line.size, y, line.c)
		if err != nil {
			return nil, err
		}
		y += h + 40
	}
	qr, err := qrcode.New(p.Link, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("posters: qr code: %w", err)
	}
	qr.DisableBorder = false
	code := qr.Image(760)
	at := image.Pt((width-code.Bounds().Dx())/2, y)
	draw.Draw(img, code.Bounds().Add(at), code, image.Point{}, draw.Src)
	y += code.Bounds().Dy() + 30
	if _, err := centred(img, p.Link, 26, y, color.Gray{0x40}); err != nil {
		return nil, err
	}
	if p.Footer != "" {
		if _, err := centred(img, p.Footer, 40, height-140, color.Black); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// centred draws one line of text centred at top y and returns its height;
// a line wider than the page is drawn smaller until it fits.
func centred(img *image.RGBA, text string, size float64, y int, c color.Color) (int, error) {
	for ; ; size *= 0.9 {
		face, err := fontFace(size)
		if err != nil {
			return 0, err
		}
		d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face}
		w := d.MeasureString(text).Ceil()
		if w > width-160 && size > 12 {
			face.Close()
			continue
		}
		m := face.Metrics()
		d.Dot = fixed.P((width-w)/2, y+m.Ascent.Ceil())
		d.DrawString(text)
		h := (m.Ascent + m.Descent).Ceil()
		face.Close()
		return h, nil
	}
}
