package posters

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ttcFace extracts face i of a TrueType collection (.ttc) as a single
// TrueType font (.ttf): the face's table directory with its tables copied
// after it (tables the collection's faces share are copied too). fpdf
// reads only a .ttf, and the binary already carries the CJK font as a
// collection (charts.CJKFont), so the PDF poster needs no second font
// file. A font that is not a collection is returned as it is.
func ttcFace(data []byte, i int) ([]byte, error) {
	if len(data) < 12 {
		return nil, errors.New("posters: font too short")
	}
	if string(data[:4]) != "ttcf" {
		return data, nil
	}
	n := int(binary.BigEndian.Uint32(data[8:12]))
	if i < 0 || i >= n || len(data) < 12+4*n {
		return nil, fmt.Errorf("posters: the collection has no face %d", i)
	}
	at := int(binary.BigEndian.Uint32(data[12+4*i:]))
	if at+12 > len(data) {
		return nil, errors.New("posters: bad face offset")
	}
	tables := int(binary.BigEndian.Uint16(data[at+4:]))
	dir := 12 + 16*tables
	if at+dir > len(data) {
		return nil, errors.New("posters: bad table directory")
	}
	out := make([]byte, dir, len(data))
	copy(out, data[at:at+dir])
	for t := 0; t < tables; t++ {
		rec := out[12+16*t:]
		off := int(binary.BigEndian.Uint32(rec[8:]))
		length := int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(data) {
			return nil, fmt.Errorf("posters: table %q out of the file", rec[:4])
		}
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		out = append(out, data[off:off+length]...)
		for len(out)%4 != 0 { // tables start on 4-byte boundaries
			out = append(out, 0)
		}
	}
	return out, nil
}
