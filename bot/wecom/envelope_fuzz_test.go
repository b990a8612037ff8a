package wecom_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
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
	"github.com/repairbot/repairbot/sop"
)

// fuzzHandler is a WeCom callback handler on a real engine and store.
func fuzzHandler(f *testing.F) http.Handler {
	fake := wecomfake.New(wecomfake.Options{CorpID: corpID, AgentID: agentID, Secret: secret, KfSecret: kfSec, Token: cbToken, EncodingAESKey: aesKey})
	f.Cleanup(fake.Close)
	st := testkit.MustOpen(f, filepath.Join(f.TempDir(), "fuzz.db"), testkit.Options{NoSync: true})
	f.Cleanup(func() { st.Close() })
	eng, err := flows.NewEngine(flows.Options{Store: st, Texts: i18n.MustLoad(flows.LangZH), Categories: flowstest.DefaultCategories, SOP: sop.Default()})
	if err != nil {
		f.Fatal(err)
	}
	ch, err := wecom.New(wecom.Options{CorpID: corpID, AgentID: agentID, Secret: secret, Token: cbToken, EncodingAESKey: aesKey,
		KfEnabled: true, KfSecret: kfSec, APIURL: fake.URL(), Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Log: zerolog.Nop()}, HTTPTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	if err := ch.Open(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ch.Close() })
	return ch.Handler()
}

func post(h http.Handler, q url.Values, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/wecom/callback?"+q.Encode(), bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// FuzzEnvelope posts arbitrary bodies and query values: never a panic,
// always one of the documented answers, and nothing unsigned gets in.
func FuzzEnvelope(f *testing.F) {
	h := fuzzHandler(f)
	f.Add([]byte("<xml><Encrypt>abc</Encrypt></xml>"), "sig", "1700000000", "7")
	f.Add([]byte("not xml"), "", "", "")
	f.Add([]byte("<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[%%%]]></Encrypt></xml>"), "x", "-1", "n")
	f.Fuzz(func(t *testing.T, body []byte, sig, ts, nonce string) {
		code := post(h, url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}, body)
		if code != http.StatusBadRequest && code != http.StatusForbidden {
			t.Fatalf("unsigned input answered %d", code)
		}
	})
}

// FuzzDecryptedXML seals arbitrary plaintext correctly, so the fuzzer
// reaches the XML parsing and the mapping to engine events.
func FuzzDecryptedXML(f *testing.F) {
	h := fuzzHandler(f)
	for _, seed := range []string{
		"<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[/help]]></Content><MsgId>1</MsgId><AgentID>1000002</AgentID></xml>",
		"<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[1|acc|BX-1]]></EventKey><TaskId><![CDATA[r1]]></TaskId><ResponseCode><![CDATA[rc]]></ResponseCode></xml>",
		"<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[t]]></Token><OpenKfId><![CDATA[wk1]]></OpenKfId></xml>",
		"<xml><ToUserName>" + corpID + "</ToUserName><MsgType>image</MsgType><MediaId>m</MediaId></xml>",
		"<xml>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, plain string) {
		enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), corpID, aesKey)
		if err != nil {
			t.Skip()
		}
		tss := strconv.FormatInt(time.Now().Unix(), 10)
		q := url.Values{"msg_signature": {util.Signature(cbToken, tss, "9", string(enc))}, "timestamp": {tss}, "nonce": {"9"}}
		body := []byte("<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>")
		switch code := post(h, q, body); code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusInternalServerError:
		default:
			t.Fatalf("answered %d", code)
		}
	})
}
