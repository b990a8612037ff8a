package wecom_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/silenceper/wechat/v2/util"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/sop"
)

// Tencent's published WXBizMsgCrypt sample (WeCom callback documentation).
const (
	sampleToken = "QDG6eK"
	sampleKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	sampleCorp  = "wx5823bf96d3bd56c7"
	// URL verification.
	sampleVerifySig   = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	sampleVerifyTS    = "1409659589"
	sampleVerifyNonce = "263014780"
	sampleEchoStr     = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	sampleEchoPlain   = "1616140317555161061"
	// A message POST.
	samplePostSig   = "477715d11cdb4164915debcba66cb864d751f3e6"
	samplePostTS    = "1409659813"
	samplePostNonce = "1372623149"
	samplePostEnc   = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)

// sampleChannel is a channel with the sample's settings and the clock at
// the sample's time; it is not opened (the handler needs no network).
func sampleChannel(t *testing.T, token, key, corp string) (*wecom.Channel, testkit.Store) {
	t.Helper()
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{NoSync: true})
	t.Cleanup(func() { _ = st.Close() })
	now := func() time.Time { return time.Unix(1409659700, 0) }
	eng, err := flows.NewEngine(flows.Options{Store: st, Texts: i18n.MustLoad(flows.LangZH), Now: now,
		Categories: flowstest.DefaultCategories, SOP: sop.Default()})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := wecom.New(wecom.Options{CorpID: corp, AgentID: 218, Secret: "s", Token: token, EncodingAESKey: key,
		Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Now: now, Log: zerolog.Nop()}, APIURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return ch, st
}

func flip(s string, i int) string {
	b := []byte(s)
	switch {
	case b[i] >= '0' && b[i] < '9', b[i] >= 'a' && b[i] < 'z', b[i] >= 'A' && b[i] < 'Z':
		b[i]++
	default:
		b[i] = 'A'
	}
	return string(b)
}

func TestTencentSampleVerifies(t *testing.T) {
	type params struct{ token, key, corp, sig, ts, nonce, data string }
	verify := func(p params) (int, string) {
		ch, _ := sampleChannel(t, p.token, p.key, p.corp)
		q := url.Values{"msg_signature": {p.sig}, "timestamp": {p.ts}, "nonce": {p.nonce}, "echostr": {p.data}}
		rec := httptest.NewRecorder()
		ch.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/wecom/callback?"+q.Encode(), nil))
		return rec.Code, rec.Body.String()
	}
	post := func(p params) (int, string) {
		ch, _ := sampleChannel(t, p.token, p.key, p.corp)
		q := url.Values{"msg_signature": {p.sig}, "timestamp": {p.ts}, "nonce": {p.nonce}}
		body := "<xml><ToUserName><![CDATA[" + sampleCorp + "]]></ToUserName><Encrypt><![CDATA[" + p.data + "]]></Encrypt></xml>"
		rec := httptest.NewRecorder()
		ch.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/wecom/callback?"+q.Encode(), strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	get := params{sampleToken, sampleKey, sampleCorp, sampleVerifySig, sampleVerifyTS, sampleVerifyNonce, sampleEchoStr}
	msg := params{sampleToken, sampleKey, sampleCorp, samplePostSig, samplePostTS, samplePostNonce, samplePostEnc}
	if code, body := verify(get); code != 200 || body != sampleEchoPlain {
		t.Fatalf("URL verification: %d %q, want 200 %q", code, body, sampleEchoPlain)
	}
	if code, body := post(msg); code != 200 || body != "success" {
		t.Fatalf("sample message: %d %q", code, body)
	}
	for _, c := range []struct {
		name string
		run  func(params) (int, string)
		p    params
	}{{"get", verify, get}, {"post", post, msg}} {
		mutations := map[string]func(p *params){
			"token":     func(p *params) { p.token = flip(p.token, 5) },
			"aes key":   func(p *params) { p.key = flip(p.key, 0) },
			"corp id":   func(p *params) { p.corp = flip(p.corp, len(p.corp)-1) },
			"signature": func(p *params) { p.sig = flip(p.sig, 3) },
			"timestamp": func(p *params) { p.ts = flip(p.ts, len(p.ts)-1) },
			"nonce":     func(p *params) { p.nonce = flip(p.nonce, 0) },
			"payload":   func(p *params) { p.data = flip(p.data, 10) },
		}
		for name, mutate := range mutations {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				p := c.p
				mutate(&p)
				if code, body := c.run(p); code == 200 {
					t.Fatalf("one byte changed in the %s, still accepted: %q", name, body)
				}
			})
		}
	}
}

// seal encrypts and signs a plaintext like WeCom, at timestamp ts.
func seal(t *testing.T, plain, receiver string, ts time.Time) (url.Values, []byte) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), receiver, aesKey)
	if err != nil {
		t.Fatal(err)
	}
	tss, nonce := strconv.FormatInt(ts.Unix(), 10), "42"
	q := url.Values{"msg_signature": {util.Signature(cbToken, tss, nonce, string(enc))}, "timestamp": {tss}, "nonce": {nonce}}
	return q, []byte("<xml><ToUserName><![CDATA[" + receiver + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>")
}

func TestCallbackRefusals(t *testing.T) {
	r := newRig(t, rigOptions{})
	if code, body, err := r.fake.VerifyURL("echo-20261127"); err != nil || code != 200 || body != "echo-20261127" {
		t.Fatalf("URL verification: %d %q %v", code, body, err)
	}
	plain := r.fake.TextXML(admin, "/help")
	now := time.Now()
	for _, c := range []struct {
		name string
		q    url.Values
		body []byte
		want int
	}{
		{"bad signature", func() url.Values {
			q, _ := seal(t, plain, corpID, now)
			q.Set("msg_signature", flip(q.Get("msg_signature"), 0))
			return q
		}(), func() []byte { _, b := seal(t, plain, corpID, now); return b }(), 403},
		{"malformed body", url.Values{"msg_signature": {"x"}, "timestamp": {"1"}, "nonce": {"1"}}, []byte("not xml at all"), 400},
		{"no Encrypt", url.Values{"msg_signature": {"x"}, "timestamp": {"1"}, "nonce": {"1"}}, []byte("<xml><ToUserName>a</ToUserName></xml>"), 400},
		{"wrong CorpID", nil, nil, 403},
		{"old timestamp", nil, nil, 403},
		{"future timestamp", nil, nil, 403},
		{"garbage ciphertext", nil, nil, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, body := c.q, c.body
			switch c.name {
			case "bad signature":
				// The signature was taken from another sealing (random
				// differs), so it is wrong twice over.
				q2, b2 := seal(t, plain, corpID, now)
				q2.Set("msg_signature", flip(q2.Get("msg_signature"), 0))
				q, body = q2, b2
			case "wrong CorpID":
				q, body = seal(t, strings.Replace(plain, corpID, "wwOTHERCORP", 1), "wwOTHERCORP", now)
			case "old timestamp":
				q, body = seal(t, plain, corpID, now.Add(-10*time.Minute))
			case "future timestamp":
				q, body = seal(t, plain, corpID, now.Add(10*time.Minute))
			case "garbage ciphertext":
				enc := "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0IGF0IGFsbCEhISEhISEhISEhISEhIQ=="
				tss := strconv.FormatInt(now.Unix(), 10)
				q = url.Values{"msg_signature": {util.Signature(cbToken, tss, "7", enc)}, "timestamp": {tss}, "nonce": {"7"}}
				body = []byte("<xml><Encrypt>" + enc + "</Encrypt></xml>")
			}
			code, _, err := r.fake.PostRaw(q, body)
			if err != nil || code != c.want {
				t.Fatalf("got %d %v, want %d", code, err, c.want)
			}
		})
	}
	// Nothing was stored: no outbox row, no reply, no dedupe mark.
	time.Sleep(100 * time.Millisecond)
	st, err := r.store().Stats()
	if err != nil || st.Pending+st.Delivered+st.Failed != 0 || len(r.fake.Sent("")) != 0 {
		t.Fatalf("a refused callback left traces: %+v %v, sent %d", st, err, len(r.fake.Sent("")))
	}
	// The same callback, sealed correctly, is accepted.
	q, body := seal(t, plain, corpID, now)
	if code, resp, err := r.fake.PostRaw(q, body); err != nil || code != 200 || resp != "success" {
		t.Fatalf("valid callback: %d %q %v", code, resp, err)
	}
	r.next(admin, 0, "help", withText(r.T("help.head")))
}

// TestDuplicateCallbacks: WeCom retries a callback it got no answer to in
// 5 s; the same body three times (also at once) is one event.
func TestDuplicateCallbacks(t *testing.T) {
	r := newRig(t, rigOptions{})
	q, body := r.fake.Encrypt([]byte(r.fake.TextXML(admin, "/help")), corpID)
	for i := 0; i < 3; i++ {
		if code, resp, err := r.fake.PostRaw(q, body); err != nil || code != 200 || resp != "success" {
			t.Fatalf("post %d: %d %q %v", i, code, resp, err)
		}
	}
	q2, body2 := r.fake.Encrypt([]byte(r.fake.TextXML(admin, "/help")), corpID)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, err := r.fake.PostRaw(q2, body2); err != nil || code != 200 {
				t.Errorf("concurrent post: %d %v", code, err)
			}
		}()
	}
	wg.Wait()
	r.settle()
	all, err := r.store().Rows(outbox.StatusDelivered)
	if err != nil {
		t.Fatal(err)
	}
	var rows []outbox.Row
	for _, row := range all {
		if row.Msg.Kind != flows.KindMenu { // the admin's command menu: not sent on WeCom
			rows = append(rows, row)
		}
	}
	if len(rows) != 2 || len(r.fake.Sent(admin)) != 2 {
		t.Fatalf("6 posts of 2 messages: %d rows, %d sent", len(rows), len(r.fake.Sent(admin)))
	}
}

// TestAppInputs: a menu click is a command, a location is unsupported, an
// image nobody asked for is answered without being downloaded (a report's
// photo is: TestResidentOnKfTechnicianOnWeCom).
func TestAppInputs(t *testing.T) {
	r := newRig(t, rigOptions{})
	before := r.top(admin)
	if code, _, err := r.fake.Post(r.fake.MenuXML(admin, "help")); err != nil || code != 200 {
		t.Fatalf("menu click: %d %v", code, err)
	}
	r.next(admin, before, "help after the menu click", withText(r.T("help.head")))
	before = r.top(admin)
	if code, err := r.fake.UserLocation(admin); err != nil || code != 200 {
		t.Fatalf("location: %d %v", code, err)
	}
	// In plain words what the bot takes, never the platform's name for it.
	loc := r.next(admin, before, "unsupported location", withText(r.T("err.unsupported_now", "takes", r.T("takes.staff"))))
	if strings.Contains(loc.Text, "location") {
		t.Errorf("the answer names the message type: %q", loc.Text)
	}
	before = r.top(admin)
	if code, err := r.fake.UserImage(admin, jpeg); err != nil || code != 200 {
		t.Fatalf("image: %d %v", code, err)
	}
	r.next(admin, before, "an answer to the photo", func(wecomfake.Message) bool { return true })
	if r.fake.Calls("/cgi-bin/media/get") != 0 {
		t.Fatalf("an unasked-for photo was downloaded: media/get calls: %d", r.fake.Calls("/cgi-bin/media/get"))
	}
}

// TestEngineFailureAsksForRetry: when the commit fails the callback is
// answered 500, so WeCom retries; the retry after recovery is handled once.
func TestEngineFailureAsksForRetry(t *testing.T) {
	r := newRig(t, rigOptions{})
	q, body := r.fake.Encrypt([]byte(r.fake.TextXML(admin, "/help")), corpID)
	r.stop() // the store is closed: every commit fails
	r.hook.Config.Handler = func() http.Handler {
		ch, _ := sampleChannelWithClosedStore(t)
		return ch.Handler()
	}()
	if code, _, err := r.fake.PostRaw(q, body); err != nil || code != http.StatusInternalServerError {
		t.Fatalf("got %d %v, want 500", code, err)
	}
	r.start()
	for i := 0; i < 2; i++ {
		if code, _, err := r.fake.PostRaw(q, body); err != nil || code != 200 {
			t.Fatalf("retry %d: %d %v", i, code, err)
		}
	}
	r.settle()
	if n := len(r.fake.Sent(admin)); n != 1 {
		t.Fatalf("%d replies, want 1", n)
	}
}

// sampleChannelWithClosedStore is a channel for the rig's corp whose store
// is closed.
func sampleChannelWithClosedStore(t *testing.T) (*wecom.Channel, testkit.Store) {
	t.Helper()
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "closed.db"), testkit.Options{NoSync: true})
	eng, err := flows.NewEngine(flows.Options{Store: st, Texts: i18n.MustLoad(flows.LangZH), Categories: flowstest.DefaultCategories, SOP: sop.Default()})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := wecom.New(wecom.Options{CorpID: corpID, AgentID: agentID, Secret: secret, Token: cbToken, EncodingAESKey: aesKey,
		Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Log: zerolog.Nop()}, APIURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	return ch, st
}
