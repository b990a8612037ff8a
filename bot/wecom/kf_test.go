package wecom_test

import (
	"context"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
)

func (r *rig) cursor() string {
	r.t.Helper()
	var cur string
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		var err error
		cur, err = tx.Cursor(wecom.KfCursor)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return cur
}

func count(msgs []string, sub string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

func (r *rig) kfTexts(ext string) []string {
	var out []string
	for _, m := range r.fake.Sent(ext) {
		out = append(out, m.Text)
	}
	return out
}

// TestKfCursorSurvivesRestart: messages are synced in order with the
// stored cursor; what arrived while the bot was down (callbacks lost) is
// fetched at start-up, and nothing handled before is handled again.
func TestKfCursorSurvivesRestart(t *testing.T) {
	r := newRig(t, rigOptions{KfPageSize: 2})
	before := r.top("cust02")
	if st, err := r.fake.KfEnter(kfID, "cust02"); err != nil || st != 200 {
		t.Fatal(st, err)
	}
	r.next("cust02", before, "welcome", withText(r.T("register.ask_name")))
	r.kfSay("cust02", "李雷", withText(r.T("register.ask_phone_typed", "name", "李雷")))
	r.eventually("cursor c2 after two messages", func() bool { return r.cursor() == "c2" })
	r.stop()
	// While down: three messages, no callback reaches the bot.
	r.fake.AddKf(map[string]any{"open_kfid": kfID, "external_userid": "cust02", "origin": 3, "msgtype": "text", "text": map[string]any{"content": "13912345678"}})
	r.fake.AddKf(map[string]any{"open_kfid": kfID, "external_userid": "cust02", "origin": 3, "msgtype": "text", "text": map[string]any{"content": "5栋"}})
	r.fake.AddKf(map[string]any{"open_kfid": kfID, "external_userid": "cust02", "origin": 5, "msgtype": "text", "text": map[string]any{"content": "servicer note"}})
	r.start()
	r.next("cust02", before, "unit prompt after restart", withText(r.T("register.ask_unit")))
	// The last page holds only the servicer's note (no reply): wait for
	// its cursor, which commits alone.
	r.eventually("cursor c5", func() bool { return r.cursor() == "c5" })
	r.settle()
	got := r.kfTexts("cust02")
	if count(got, r.T("register.ask_name")) != 1 || count(got, r.T("register.ask_phone_typed", "name", "李雷")) != 1 || count(got, r.T("register.ask_building")) != 1 {
		t.Fatalf("something was handled twice: %q", got)
	}
	// A redundant callback (WeCom may send several) changes nothing.
	n := r.channel().KfSyncs()
	if _, err := r.fake.KfNotify(kfID); err != nil {
		t.Fatal(err)
	}
	r.eventually("a sync round", func() bool { return r.channel().KfSyncs() > n })
	r.settle()
	if len(r.kfTexts("cust02")) != len(got) {
		t.Fatalf("a redundant callback produced messages: %q", r.kfTexts("cust02"))
	}
}

// TestKfMenuClick: buttons are a msgmenu; the click comes back as a text
// with the menu id, which is the button payload.
func TestKfMenuClick(t *testing.T) {
	r := newRig(t, rigOptions{})
	m := r.registerKf("cust03", "韩梅梅")
	if m.MsgType != "msgmenu" {
		t.Fatalf("buttons not a msgmenu: %+v", m)
	}
	for _, b := range m.Buttons {
		if _, ok := flows.DecodePayload(b.Key); !ok {
			t.Fatalf("menu id %q is not a payload", b.Key)
		}
	}
	r.kfClick("cust03", r.T("btn.report"), withButton("水管/漏水"))
	r.kfClick("cust03", "水管/漏水", withText(r.T("report.ask_desc", "category", "水管/漏水", "max", 1000)))
}

// TestKfPhoneTyped: on WeChat the phone number is typed (no share-contact
// button); anything else at that step is asked again, for typing.
func TestKfPhoneTyped(t *testing.T) {
	r := newRig(t, rigOptions{})
	before := r.top("cust07")
	if st, err := r.fake.KfEnter(kfID, "cust07"); err != nil || st != 200 {
		t.Fatalf("enter_session: %d %v", st, err)
	}
	r.next("cust07", before, "registration prompt", withText(r.T("register.ask_name")))
	r.kfSay("cust07", "赵敏", withText(r.T("register.ask_phone_typed", "name", "赵敏")))
	r.kfSay("cust07", "我的电话是幺三八", withText(r.T("register.phone_button_only_typed")))
	r.kfSay("cust07", "138 0013 8000", withText(r.T("register.ask_building")))
}
