package tgfake

import (
	"bytes"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/go-telegram/bot/models"
)

const (
	kindPhoto    = "photo"
	kindDocument = "document"
	kindSticker  = "sticker"
)

func kindTitle(kind string) string {
	switch kind {
	case kindPhoto:
		return "Photo"
	case kindSticker:
		return "Sticker"
	}
	return "Document"
}

// fileRec is a stored file. Files created by simulated users have no data;
// their bytes are synthesised on download so large sizes cost no memory.
type fileRec struct {
	id, unique, path string
	kind             string
	size             int64
	name, mime       string
	width, height    int
	data             []byte
	set              []models.PhotoSize // photo sizes this file belongs to
}

var fileIDPrefix = map[string]string{
	kindPhoto:    "AgACAgIAAxkBAAI",
	kindDocument: "BQACAgIAAxkBAAI",
	kindSticker:  "CAACAgIAAxkBAAI",
}

// newFileLocked stores a new file. name and mimeType may be empty.
func (s *Server) newFileLocked(kind, name, mimeType string, size int64, data []byte) *fileRec {
	s.fileSeq++
	n := s.fileSeq
	ext := strings.ToLower(path.Ext(name))
	switch kind {
	case kindPhoto:
		ext = ".jpg"
	case kindSticker:
		ext = ".webp"
	}
	if mimeType == "" {
		mimeType = mime.TypeByExtension(ext)
		if i := strings.IndexByte(mimeType, ';'); i >= 0 {
			mimeType = mimeType[:i]
		}
	}
	if ext == "" {
		if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	dir := map[string]string{kindPhoto: "photos", kindDocument: "documents", kindSticker: "stickers"}[kind]
	f := &fileRec{
		id:     fmt.Sprintf("%s%06dZx%08x_%d", fileIDPrefix[kind], n, uint32(n*2654435761), s.opts.BotID%1000),
		unique: fmt.Sprintf("AQAD%06dX%05x", n, uint32(n*40503)&0xfffff),
		path:   fmt.Sprintf("%s/file_%d%s", dir, n, ext),
		kind:   kind,
		size:   size,
		name:   name,
		mime:   mimeType,
		data:   data,
	}
	s.files[f.id] = f
	s.paths[f.path] = f
	return f
}

// newPhotoSetLocked stores a photo in two sizes (a 320x240 thumbnail and the
// full 1280x960 picture of size bytes) and returns the largest one.
func (s *Server) newPhotoSetLocked(size int64, data []byte) *fileRec {
	thumbSize := size / 16
	if thumbSize < 64 {
		thumbSize = min(size, 64)
	}
	thumb := s.newFileLocked(kindPhoto, "", "image/jpeg", thumbSize, nil)
	thumb.width, thumb.height = 320, 240
	full := s.newFileLocked(kindPhoto, "", "image/jpeg", size, data)
	full.width, full.height = 1280, 960
	set := []models.PhotoSize{
		{FileID: thumb.id, FileUniqueID: thumb.unique, Width: thumb.width, Height: thumb.height, FileSize: int(thumb.size)},
		{FileID: full.id, FileUniqueID: full.unique, Width: full.width, Height: full.height, FileSize: int(full.size)},
	}
	thumb.set, full.set = set, set
	return full
}

func (f *fileRec) document() *models.Document {
	return &models.Document{FileID: f.id, FileUniqueID: f.unique, FileName: f.name, MimeType: f.mime, FileSize: f.size}
}

func (f *fileRec) contentType() string {
	if f.mime != "" {
		return f.mime
	}
	return "application/octet-stream"
}

// content returns the stored bytes or synthesises size bytes with the magic
// number matching the file type.
func (f *fileRec) content() []byte {
	if f.data != nil {
		return f.data
	}
	var head, tail []byte
	switch {
	case f.kind == kindPhoto || f.mime == "image/jpeg":
		head = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}
		tail = []byte{0xFF, 0xD9}
	case f.kind == kindSticker || f.mime == "image/webp":
		head = []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")
	case f.mime == "image/png":
		head = []byte("\x89PNG\r\n\x1a\n")
	case f.mime == "application/pdf":
		head = []byte("%PDF-1.4\n")
		tail = []byte("\n%%EOF\n")
	}
	n := int(f.size)
	if n < 3 && len(head) >= 3 {
		n = 3
	}
	out := make([]byte, n)
	copy(out, head)
	if len(head)+len(tail) <= n {
		copy(out[n-len(tail):], tail)
	}
	return out
}

// isImage reports whether data starts with a JPEG, PNG, GIF or WebP header.
func isImage(data []byte) bool {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(data, []byte("GIF8")),
		len(data) >= 12 && bytes.Equal(data[:4], []byte("RIFF")) && bytes.Equal(data[8:12], []byte("WEBP")):
		return true
	}
	return false
}
