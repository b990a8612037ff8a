package wecom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path/filepath"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
)

// media/upload limits (上传临时素材): every file > 5 bytes; image ≤ 10 MB,
// JPG or PNG; file ≤ 20 MB. A media id lives 3 days, so files are
// uploaded at send time, never stored.
const (
	minUpload      = 6
	maxUploadImage = 10 << 20
	maxUploadFile  = 20 << 20
)

// upload sends data to media/upload as type ("image" or "file") named
// name and returns the media id.
func (s *Sender) upload(ctx context.Context, typ, name string, data []byte) (string, error) {
	for attempt := 0; ; attempt++ {
		tok, err := s.c.api.token(ctx, s.c.o.Secret)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="media"; filename=%q; filelength=%d`, name, len(data)))
		h.Set("Content-Type", "application/octet-stream")
		part, err := mw.CreatePart(h)
		if err != nil {
			return "", err
		}
		_, _ = part.Write(data)
		_ = mw.Close()
		u := s.c.api.base + "/cgi-bin/media/upload?" + url.Values{"access_token": {tok}, "type": {typ}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &buf)
		if err != nil {
			return "", errors.New("wecom media/upload: bad request")
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := s.c.api.http.Do(req)
		if err != nil {
			return "", fmt.Errorf("wecom media/upload: %s", redactToken(err.Error()))
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("wecom media/upload: read: %w", err)
		}
		var a struct {
			MediaID string `json:"media_id"`
		}
		err = decode("/cgi-bin/media/upload", raw, &a)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && tokenError(ae.Code) {
			s.c.api.drop(s.c.o.Secret, tok)
			continue
		}
		if err != nil {
			return "", err
		}
		return a.MediaID, nil
	}
}

// sendFile sends a KindFile whose content is Text (a review's notes) as a
// real file: uploaded now, sent by media id (a file the message carries,
// Export, goes through sendExport). Nil id and nil error mean it cannot be
// a file (empty or too large) and the caller sends text.
func (s *Sender) sendFile(ctx context.Context, touser string, m flows.Message) (string, bool, error) {
	data := []byte(m.Text)
	if len(data) < minUpload || len(data) > maxUploadFile {
		return "", false, nil
	}
	name := m.FileName
	if name == "" {
		name = "export.txt"
	}
	id, err := s.upload(ctx, "file", filepath.Base(name), data)
	if err != nil {
		return "", true, err
	}
	mid, err := s.appSend(ctx, touser, "file", map[string]any{"media_id": id})
	return mid, true, err
}

// sendExport renders the form or chart a message carries and sends it as
// a file or an image, uploaded now. What cannot be one (no renderer, a spec
// that names nothing, a file over the upload limit) goes as the text with a
// note; a failure to read the store is retried. WeCom's file and image
// messages carry no caption: the file's name says what it is.
func (s *Sender) sendExport(ctx context.Context, touser string, m flows.Message) (string, error) {
	text := func(key string, kv ...any) (string, error) {
		note := ""
		if key != "" && s.c.o.Texts != nil {
			note = "\n" + s.c.o.Texts.T(m.Export.Lang, key, kv...)
		}
		return s.appSend(ctx, touser, "text", map[string]any{"content": clipBytes(fileText(m)+note, maxTextBytes)})
	}
	exp := s.c.o.Exports
	if exp == nil {
		return text("")
	}
	data, err := exp.Export(ctx, *m.Export)
	switch {
	case errors.Is(err, flows.ErrExportInvalid), errors.Is(err, flows.ErrNotFound):
		return text("export.failed")
	case err != nil:
		return "", err
	}
	typ, limit := "file", maxUploadFile
	if m.Kind == flows.KindPhoto && media.Kind(data) == "png" {
		typ, limit = "image", maxUploadImage
	}
	if len(data) < minUpload || len(data) > limit {
		return text("export.too_large", "mb", len(data)>>20)
	}
	name := m.FileName
	if name == "" {
		name = m.Export.Form
	}
	id, err := s.upload(ctx, typ, filepath.Base(name), data)
	if err != nil {
		return "", err
	}
	return s.appSend(ctx, touser, typ, map[string]any{"media_id": id})
}

// localPhoto finds the kept copy of a photo message: the ticket's photos
// (report, visit steps, audit trail) name the platform file id and the
// content-addressed copy in the media store. Only JPG and PNG qualify
// (media/upload's image types) within 10 MB.
func (s *Sender) localPhoto(ctx context.Context, m flows.Message) ([]byte, string, bool) {
	if s.c.o.Media == nil || m.Ticket == "" || m.Photo == "" {
		return nil, "", false
	}
	var local string
	_ = s.c.o.Store.View(ctx, func(tx flows.Tx) error {
		find := func(ps []flows.Photo) {
			for _, p := range ps {
				if local == "" && p.FileID == m.Photo && p.Local != "" {
					local = p.Local
				}
			}
		}
		t, err := tx.Ticket(m.Ticket)
		if err != nil {
			return nil
		}
		find(t.Photos)
		if t.Visit != nil {
			for _, ps := range t.Visit.Photos {
				find(ps)
			}
		}
		if local == "" {
			evs, err := tx.TicketEvents(m.Ticket)
			if err == nil {
				for _, e := range evs {
					find(e.Photos)
				}
			}
		}
		return nil
	})
	if local == "" {
		return nil, "", false
	}
	rc, err := s.c.o.Media.Open(local) // refuses a path it did not hand out
	if err != nil {
		return nil, "", false
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxUploadImage+1))
	rc.Close()
	if err != nil || len(data) > maxUploadImage || len(data) < minUpload {
		return nil, "", false
	}
	switch media.Kind(data) {
	case "jpg", "png":
		return data, filepath.Base(local), true
	}
	return nil, "", false
}
