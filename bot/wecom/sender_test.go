package wecom_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

func (r *rig) enqueue(msgs ...flows.Message) {
	r.t.Helper()
	err := r.store().Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(msgs...) })
	if err != nil {
		r.t.Fatal(err)
	}
}

func texts(to flows.Address, n int) []flows.Message {
	var out []flows.Message
	for i := 0; i < n; i++ {
		out = append(out, flows.Message{To: to, Kind: flows.KindSend, Text: fmt.Sprintf("message %d", i), Priority: flows.PrioNormal})
	}
	return out
}

// TestMemberLimitNeverExceeded: 45 messages to one member against a fake
// that drops (silently, like WeCom) anything beyond 30 in any window: all
// arrive, in order, none dropped; the sender queued and reported the delay.
func TestMemberLimitNeverExceeded(t *testing.T) {
	r := newRig(t, rigOptions{MemberWindow: time.Second})
	start := time.Now()
	r.enqueue(texts(wecom.UserAddress("tech01"), 45)...)
	r.settle()
	sent := r.fake.Sent("tech01")
	if len(sent) != 45 || r.fake.Dropped("tech01") != 0 {
		t.Fatalf("sent %d, dropped %d", len(sent), r.fake.Dropped("tech01"))
	}
	for i, m := range sent {
		if m.Text != fmt.Sprintf("message %d", i) {
			t.Fatalf("out of order at %d: %q", i, m.Text)
		}
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("45 messages in %s: the budget was not applied", time.Since(start))
	}
	if r.channel().Sender().Delayed.Load() == 0 {
		t.Error("the delay was not reported")
	}
}

// TestFakeCountsDrops: the fake really drops beyond the limit (a sender
// with a budget above the platform's loses messages silently).
func TestFakeCountsDrops(t *testing.T) {
	r := newRig(t, rigOptions{MemberWindow: time.Minute, Send: &wecom.SendLimits{Member: wecom.Budget{N: 1000, Per: time.Minute}}})
	r.enqueue(texts(wecom.UserAddress("tech01"), 35)...)
	r.settle()
	if got, dropped := len(r.fake.Sent("tech01")), r.fake.Dropped("tech01"); got != 30 || dropped != 5 {
		t.Fatalf("delivered %d, dropped %d; want 30 and 5", got, dropped)
	}
}

// TestTokenRefresh: 40014 and 42001 drop the cached token; the call is
// retried once with a fresh one and nothing fails.
func TestTokenRefresh(t *testing.T) {
	r := newRig(t, rigOptions{})
	// The 微信客服 sync goroutine fetches its own token for its first
	// round; counted before that, it lands after the base and looks like
	// an uncached fetch.
	r.eventually("the first 微信客服 sync round", func() bool { return r.channel().KfSyncs() >= 1 })
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	base := r.fake.Calls("/cgi-bin/gettoken")
	if base != 2 {
		t.Fatalf("gettoken %d times for the app's first send and the kf sync, want 2 (one token each)", base)
	}
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	if n := r.fake.Calls("/cgi-bin/gettoken"); n != base {
		t.Fatalf("gettoken %d times, want %d (cached)", n, base)
	}
	r.fake.FailTokens(1)
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	r.fake.ExpireTokens()
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	if n := r.fake.Calls("/cgi-bin/gettoken"); n != base+2 {
		t.Fatalf("gettoken %d times, want %d (one more per refused token)", n, base+2)
	}
	if got := len(r.fake.Sent("tech01")); got != 4 {
		t.Fatalf("sent %d", got)
	}
	failed, _ := r.store().Rows(outbox.StatusFailed)
	if len(failed) != 0 || r.channel().Sender().Retried.Load() != 0 {
		t.Fatalf("token trouble must not fail or delay a row: %+v", failed)
	}
}

// TestPermanentErrors are recorded on the row and not retried.
func TestPermanentErrors(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake.FailNext("/cgi-bin/message/send", 60020)
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	r.enqueue(texts(wecom.UserAddress("ghost"), 1)...)
	r.settle()
	r.fake.FailNext("/cgi-bin/message/send", -1) // busy: retried
	r.enqueue(texts(wecom.UserAddress("tech02"), 1)...)
	r.settle()
	failed, err := r.store().Rows(outbox.StatusFailed)
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string]string{}
	for _, row := range failed {
		errs[row.Msg.To.Chat] = row.LastError
	}
	if len(failed) != 2 || !strings.Contains(errs["tech01"], "60020") || !strings.Contains(errs["ghost"], "invalid user") {
		t.Fatalf("failed rows: %+v", errs)
	}
	if len(r.fake.Sent("tech02")) != 1 {
		t.Fatal("a busy answer must be retried")
	}
}

// TestEditsAndButtons: an edit is a new message (WeCom cannot edit), more
// than six buttons make several cards with unique task ids, a group
// message without buttons goes to the appchat.
func TestEditsAndButtons(t *testing.T) {
	r := newRig(t, rigOptions{})
	var row []flows.Button
	for i := 0; i < 8; i++ {
		row = append(row, flows.Button{Text: fmt.Sprintf("选项%d", i), Data: flows.EncodePayload("c", "help")})
	}
	to := wecom.UserAddress("tech01")
	r.enqueue(flows.Message{To: to, Kind: flows.KindSend, Text: "请选择", Buttons: [][]flows.Button{row}, CardKey: "k1"},
		flows.Message{To: to, Kind: flows.KindEdit, Text: "已更新", CardKey: "k1"},
		flows.Message{To: wecom.GroupAddress(groupID), Kind: flows.KindSend, Text: "群消息"})
	r.settle()
	sent := r.fake.Sent("tech01")
	if len(sent) != 3 || len(sent[0].Buttons) != 6 || len(sent[1].Buttons) != 2 || sent[0].TaskID == sent[1].TaskID || sent[2].Text != "已更新" {
		t.Fatalf("sent %+v", sent)
	}
	if g := r.fake.Sent("appchat:" + groupID); len(g) != 1 || g[0].Text != "群消息" {
		t.Fatalf("group %+v", g)
	}
}

// TestCardClickedTwice: WeCom redelivers a click callback; it is one
// action and one card update (a response code works once).
func TestCardClickedTwice(t *testing.T) {
	r := newRig(t, rigOptions{})
	to := wecom.UserAddress(admin)
	r.enqueue(flows.Message{To: to, Kind: flows.KindSend, Text: "菜单", Buttons: [][]flows.Button{{flows.CommandButton("帮助", "help")}}})
	r.settle()
	card, b, ok := r.fake.FindButton(admin, "帮助")
	if !ok {
		t.Fatal("no card")
	}
	x, rc := r.fake.ClickXML(admin, card.TaskID, b.Key)
	q, body := r.fake.Encrypt([]byte(x), corpID)
	for i := 0; i < 3; i++ {
		if code, _, err := r.fake.PostRaw(q, body); err != nil || code != 200 {
			t.Fatalf("click %d: %d %v", i, code, err)
		}
	}
	r.update(rc)
	r.settle()
	helps := 0
	for _, m := range r.fake.Sent(admin) {
		if strings.Contains(m.Text, r.T("help.head")) {
			helps++
		}
	}
	if helps != 1 || len(r.fake.Updates()) != 1 {
		t.Fatalf("one click, %d actions and %d card updates", helps, len(r.fake.Updates()))
	}
}

// TestCountdownRefreshesNotPosted: WeCom posts every edit anew, so a card's
// clock refresh is not sent (no new group post, no new cards each minute),
// but a real change queued before a refresh still goes out, with the
// refresh's newer text.
func TestCountdownRefreshesNotPosted(t *testing.T) {
	r := newRig(t, rigOptions{})
	group := wecom.GroupAddress(groupID)
	accept := [][]flows.Button{{flows.TicketButton("✋ 接单", flows.ActAccept, "BX-20261127-0001")}}
	r.enqueue(flows.Message{To: group, Kind: flows.KindSend, Text: "🚨 跑水 还剩 5 分钟", Buttons: accept, CardKey: "grp:BX-20261127-0001"})
	r.settle()
	cards, posts := len(r.fake.Sent("tech01")), len(r.fake.Sent("appchat:"+groupID))
	if cards != 1 {
		t.Fatalf("tech01 got %d cards", cards)
	}
	r.enqueue(flows.Message{To: group, Kind: flows.KindEdit, Text: "🚨 跑水 还剩 4 分钟", Buttons: accept, CardKey: "grp:BX-20261127-0001", Refresh: true})
	r.settle()
	if n, p := len(r.fake.Sent("tech01")), len(r.fake.Sent("appchat:"+groupID)); n != cards || p != posts {
		t.Fatalf("a clock refresh was posted: cards %d→%d, group posts %d→%d", cards, n, posts, p)
	}
	st, _ := r.store().Stats()
	if st.Pending != 0 {
		t.Fatalf("the refresh is still pending: %+v", st)
	}
	// The acceptance and a refresh right behind it, queued together: the
	// acceptance is superseded, its change goes out in the refresh's text.
	r.enqueue(flows.Message{To: group, Kind: flows.KindEdit, Text: "🚨 跑水 张师傅已接单 还剩 3 分钟", CardKey: "grp:BX-20261127-0001"},
		flows.Message{To: group, Kind: flows.KindEdit, Text: "🚨 跑水 张师傅已接单 还剩 2 分钟", CardKey: "grp:BX-20261127-0001", Refresh: true})
	r.settle()
	got := r.fake.Sent("appchat:" + groupID)
	if len(got) != posts+1 || got[len(got)-1].Text != "🚨 跑水 张师傅已接单 还剩 2 分钟" {
		t.Fatalf("group posts after the acceptance: %+v", got[posts:])
	}
}

// TestGroupCardButtonsRetired: when a group card loses its buttons (the
// job was taken), every member's card has its buttons replaced with the
// card's new state, once, with the code the card's send returned; later
// edits are plain posts.
func TestGroupCardButtonsRetired(t *testing.T) {
	for _, robot := range []bool{false, true} {
		t.Run(map[bool]string{false: "appchat", true: "robot"}[robot], func(t *testing.T) {
			r := newRig(t, rigOptions{Robot: robot})
			group := wecom.GroupAddress(groupID)
			if robot {
				r.hire("tech01")
				r.hire("tech02")
				group = wecom.RobotAddress()
			}
			key := "grp:BX-20261127-0002"
			accept := [][]flows.Button{{flows.TicketButton("✋ 接单", flows.ActAccept, "BX-20261127-0002")}}
			r.enqueue(flows.Message{To: group, Kind: flows.KindSend, Text: "🔧 BX-20261127-0002 水管\n3栋 / 2单元", Buttons: accept, CardKey: key})
			r.settle()
			if _, _, ok := r.fake.FindButton("tech02", "接单"); !ok {
				t.Fatal("tech02 got no card")
			}
			r.enqueue(flows.Message{To: group, Kind: flows.KindEdit, Text: "🔧 BX-20261127-0002 水管\n— ✅ 张师傅 已接单（10:05）", CardKey: key, Status: "✅ 张师傅 已接单（10:05）"})
			r.settle()
			ups := r.fake.Updates()
			if len(ups) != 1 || !ups[0].All || ups[0].ReplaceName != "✅ 张师傅 已接单（10:05）" {
				t.Fatalf("updates %+v", ups)
			}
			for _, u := range []string{"tech01", "tech02"} {
				if _, _, ok := r.fake.FindButton(u, "接单"); ok {
					t.Errorf("%s can still tap Accept", u)
				}
			}
			r.enqueue(flows.Message{To: group, Kind: flows.KindEdit, Text: "🔧 BX-20261127-0002 水管\n— 🚗 张师傅 已出发", CardKey: key, Status: "🚗 张师傅 已出发"})
			r.settle()
			if n := len(r.fake.Updates()); n != 1 {
				t.Fatalf("a later edit spent another update (%d)", n)
			}
			if st, _ := r.store().Stats(); st.Pending != 0 || st.Failed != 0 {
				t.Fatalf("outbox %+v", st)
			}
			if got := r.channel().Sender().Retired.Load(); got != 1 {
				t.Fatalf("Retired = %d", got)
			}
		})
	}
}
