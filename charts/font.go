package charts

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// CJKFont is the embedded CJK font (WenQuanYi Micro Hei, a TrueType
// collection), decompressed, for other renderers of Chinese text (the
// buildings' QR posters).
func CJKFont() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(wqyMicroHei))
	if err != nil {
		return nil, fmt.Errorf("charts: embedded font: %w", err)
	}
	return io.ReadAll(zr)
}
