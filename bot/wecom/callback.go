package wecom

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// errCorp means a payload decrypted for another enterprise.
var errCorp = errors.New("wecom: payload is for another CorpID")

// maxCallbackBody bounds a callback body (WeCom's are a few KB).
const maxCallbackBody = 1 << 20

// envelopeXML is the outer, encrypted POST body.
type envelopeXML struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
	AgentID    string   `xml:"AgentID"`
}

// inbound is a decrypted callback: a message or an event of the app, or
// the kf "something new" event.
type inbound struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	MsgID        string   `xml:"MsgId"`
	AgentID      string   `xml:"AgentID"`
	PicURL       string   `xml:"PicUrl"`
	MediaID      string   `xml:"MediaId"`
	LocationX    string   `xml:"Location_X"`
	LocationY    string   `xml:"Location_Y"`
	Label        string   `xml:"Label"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	TaskID       string   `xml:"TaskId"`
	CardType     string   `xml:"CardType"`
	ResponseCode string   `xml:"ResponseCode"`
	// kf_msg_or_event
	Token    string `xml:"Token"`
	OpenKfID string `xml:"OpenKfId"`
}

// Handler serves the app's callback URL: GET is WeCom's URL verification,
// POST an encrypted message or event. A POST is answered 200 only after the
// engine committed it; a failure answers 500 so WeCom retries (the dedupe
// mark makes the retry harmless). kf callbacks may arrive here too.
func (c *Channel) Handler() http.Handler { return http.HandlerFunc(c.serve) }

// KfHandler serves the 微信客服 callback URL (the same handler: the event
// type tells them apart).
func (c *Channel) KfHandler() http.Handler { return http.HandlerFunc(c.serve) }

func (c *Channel) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sig, ts, nonce := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce")
	log := c.o.Log.With().Str("remote", r.RemoteAddr).Logger()
	switch r.Method {
	case http.MethodGet:
		echo := q.Get("echostr")
		if echo == "" {
			http.Error(w, "missing echostr", http.StatusBadRequest)
			return
		}
		if err := c.check(sig, ts, nonce, echo); err != nil {
			log.Warn().Str("why", err.Error()).Msg("wecom: URL verification refused")
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		plain, err := c.decrypt(echo)
		if err != nil {
			log.Warn().Str("why", err.Error()).Msg("wecom: URL verification: cannot decrypt echostr")
			status := http.StatusBadRequest
			if errors.Is(err, errCorp) {
				status = http.StatusForbidden
			}
			http.Error(w, "bad echostr", status)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(plain)
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusBadRequest)
			return
		}
		var env envelopeXML
		if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
			http.Error(w, "malformed body", http.StatusBadRequest)
			return
		}
		if err := c.check(sig, ts, nonce, env.Encrypt); err != nil {
			log.Warn().Str("why", err.Error()).Msg("wecom: callback refused")
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		plain, err := c.decrypt(env.Encrypt)
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, errCorp) {
				status = http.StatusForbidden
			}
			log.Warn().Str("why", err.Error()).Msg("wecom: callback not decrypted")
			http.Error(w, "cannot decrypt", status)
			return
		}
		var m inbound
		if err := xml.Unmarshal(plain, &m); err != nil {
			http.Error(w, "malformed message", http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(m.ToUserName), []byte(c.o.CorpID)) != 1 {
			log.Warn().Msg("wecom: callback for another CorpID")
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if err := c.dispatch(r.Context(), &m); err != nil {
			log.Error().Err(err).Str("type", m.MsgType).Str("event", m.Event).Msg("wecom: callback not handled; WeCom will retry")
			http.Error(w, "retry later", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "success")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// check refuses a stale or replayed timestamp and a wrong signature. The
// signature is compared in constant time.
func (c *Channel) check(sig, ts, nonce, encrypted string) error {
	if sig == "" || ts == "" || nonce == "" {
		return errors.New("missing msg_signature, timestamp or nonce")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	d := c.now().Sub(time.Unix(sec, 0))
	if d < 0 {
		d = -d
	}
	if d > c.o.TimestampWindow {
		return fmt.Errorf("timestamp %s is outside the %s window", ts, c.o.TimestampWindow)
	}
	want := util.Signature(c.o.Token, ts, nonce, encrypted)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return errors.New("bad signature")
	}
	return nil
}

// decrypt opens an Encrypt/echostr value and checks that it was made for
// this enterprise (the receiveid at its end).
func (c *Channel) decrypt(encrypted string) (plain []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			plain, err = nil, fmt.Errorf("wecom: decrypt: %v", r)
		}
	}()
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, errors.New("wecom: decrypt: not base64")
	}
	_, msg, receiver, err := util.AESDecryptMsg(raw, c.aesKey)
	if err != nil {
		return nil, fmt.Errorf("wecom: decrypt: %w", err)
	}
	if subtle.ConstantTimeCompare(receiver, []byte(c.o.CorpID)) != 1 {
		return nil, errCorp
	}
	return msg, nil
}

// dispatch hands a decrypted callback to the app or the kf path.
func (c *Channel) dispatch(ctx context.Context, m *inbound) error {
	if m.MsgType == "event" && m.Event == "kf_msg_or_event" {
		if !c.o.KfEnabled {
			return nil // acknowledged, nothing to do
		}
		c.kf.poke(m.Token)
		return nil
	}
	return c.handleApp(ctx, m)
}
