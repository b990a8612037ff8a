package posters

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/repairbot/repairbot/charts"
)

var (
	ttfOnce sync.Once
	ttfErr  error
	ttf     []byte
)

// cjkTTF is the embedded CJK font's first face as a .ttf, for fpdf.
func cjkTTF() ([]byte, error) {
	ttfOnce.Do(func() {
		data, err := charts.CJKFont()
		if err != nil {
			ttfErr = err
			return
		}
		ttf, ttfErr = ttcFace(data, 0)
	})
	return ttf, ttfErr
}

// PDF draws the poster as a printable A4 PDF: the same page as PNG, with
// the text as text (the font subset embedded) and the QR code as an image
// sharp at any printer's resolution.
func PDF(p Poster) ([]byte, error) {
	if p.Link == "" {
		return nil, errors.New("posters: no link")
	}
	font, err := cjkTTF()
	if err != nil {
		return nil, err
	}
	qr, err := qrcode.New(p.Link, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("posters: qr code: %w", err)
	}
	code, err := qr.PNG(1024)
	if err != nil {
		return nil, fmt.Errorf("posters: qr code: %w", err)
	}
	const w, h, margin = 210.0, 297.0, 7.0 // A4 in mm
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetTitle(p.Area+" "+p.Building, true)
	pdf.SetCreator("repairbot", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes("cjk", "", font)
	pdf.AddPage()
	// The frame, as on the PNG.
	pdf.SetDrawColor(0x1f, 0x4e, 0x79)
	pdf.SetLineWidth(2)
	pdf.Rect(margin, margin, w-2*margin, h-2*margin, "D")
	y := 28.0
	line := func(text string, pt float64, r, g, b int) {
		if text == "" {
			return
		}
		// Smaller until it fits between the margins.
		pdf.SetFont("cjk", "", pt)
		for pdf.GetStringWidth(text) > w-30 && pt > 8 {
			pt *= 0.9
			pdf.SetFont("cjk", "", pt)
		}
		pdf.SetTextColor(r, g, b)
		lh := pt * 0.3528 * 1.25 // points to mm, with leading
		pdf.SetXY(0, y)
		pdf.CellFormat(w, lh, text, "", 0, "C", false, 0, "")
		y += lh + 5
	}
	line(p.Org, 22, 0, 0, 0)
	line(p.Area, 46, 0x1f, 0x4e, 0x79)
	line(p.Building, 66, 0x1f, 0x4e, 0x79)
	line(p.Call, 27, 0, 0, 0)
	const side = 125.0
	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(code))
	pdf.ImageOptions("qr", (w-side)/2, y, side, side, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, p.Link)
	y += side + 4
	line(p.Link, 12, 0x40, 0x40, 0x40)
	if p.Footer != "" {
		y = h - 32
		line(p.Footer, 19, 0, 0, 0)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("posters: pdf: %w", err)
	}
	return buf.Bytes(), nil
}
