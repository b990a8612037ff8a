package telegram

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/rs/zerolog"

	rbot "github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
)

// FuzzUpdateJSON: any JSON a Bot API server (or an attacker posting to the
// webhook) sends, once decoded into models.Update, maps to an event
// without panicking; callback data is passed through byte for byte, even
// past Telegram's 64 bytes, because refusing it is the engine's job
// (flows.DecodePayload rejects it).
//
// Seeds are in testdata/fuzz/FuzzUpdateJSON; run longer with
//
//	go test -run '^$' -fuzz FuzzUpdateJSON -fuzztime 20s ./bot/telegram
func FuzzUpdateJSON(f *testing.F) {
	w := flowstest.New(f)
	c, err := New(Options{Token: "123456:fuzz", BotUsername: "repair_test_bot", Deps: rbot.Deps{Engine: w.Eng, Store: w.Store, Outbox: w.Store,
		Texts: i18n.MustLoad(flows.LangZH), Log: zerolog.Nop(), Now: func() time.Time { return w.Now }}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"first_name":"王"},"text":"/start abc"}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":7,"first_name":"a"},"data":"1|acc|BX-20261127-0001","message":{"message_id":9,"date":5,"chat":{"id":-100,"type":"supergroup"}}}}`,
		`{"update_id":3,"callback_query":{"id":"q","from":{"id":7},"data":"` + strings.Repeat("1|acc|", 20) + `","message":{"message_id":9,"date":0,"chat":{"id":7,"type":"private"}}}}`,
		`{"update_id":4,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7},"photo":[{"file_id":"a","file_size":99999999},{"file_id":"b","width":10,"height":10}]}}`,
		`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7},"contact":{"phone_number":"+8613800138000","user_id":7}}}`,
		`{"update_id":6,"message":{"message_id":1,"date":1,"chat":{"id":-5,"type":"group"},"from":{"id":7,"is_bot":true},"text":"hi"}}`,
		`{"update_id":7,"message":{"chat":{"id":7},"from":{"id":7},"document":{"file_id":"d","mime_type":"image/png","file_size":5}}}`,
		`{"update_id":8,"callback_query":{"from":{"id":7},"message":null}}`,
		`{"update_id":9,"message":{"from":{"id":1},"text":"/@"}}`,
		`{}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var u models.Update
		if err := json.Unmarshal(data, &u); err != nil {
			return
		}
		ev := c.toEvent(&u)
		if ev.Key != UpdateKey(u.ID) {
			t.Fatalf("key %q for update %d", ev.Key, u.ID)
		}
		if q := u.CallbackQuery; q != nil {
			if ev.Kind != flows.EvCallback || ev.Data != q.Data {
				t.Fatalf("callback data %q (%d bytes) became %s %q", q.Data, len(q.Data), ev.Kind, ev.Data)
			}
			if len(q.Data) > flows.MaxPayload {
				if _, ok := flows.DecodePayload(ev.Data); ok {
					t.Fatalf("the engine would accept %d bytes of callback data", len(ev.Data))
				}
			}
		}
		if ev.Kind != flows.EvNone && ev.From.ID == "" {
			t.Fatalf("%s event without a sender", ev.Kind)
		}
	})
}
