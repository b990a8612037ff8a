package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// TestCrossChannelRepair runs the whole program with both channels on and
// one full repair across them: a resident on WeChat (微信客服) reports, the
// card reaches the Telegram group, a technician on Telegram accepts and
// walks the SOP; the resident's consent to entry and to the quote, the
// sign-off and the score are given on WeChat. One engine; each person on
// their own channel.
func TestCrossChannelRepair(t *testing.T) {
	const aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	const kfID, ext = "wkKF001", "cust01"
	wx := wecomfake.New(wecomfake.Options{CorpID: "ww0011223344", AgentID: 7, Secret: "app-secret", KfSecret: "kf-secret", Token: "tok123", EncodingAESKey: aesKey})
	defer wx.Close()
	tg := tgfake.New(tgfake.Options{Token: demoToken, MaxLongPoll: 200 * time.Millisecond})
	defer tg.Close()
	tg.AddGroup(demoGroup, "维修班组")
	t.Setenv("TELEGRAM_TOKEN", demoToken)
	t.Setenv("WECOM_SECRET", "app-secret")
	t.Setenv("WECOM_TOKEN", "tok123")
	t.Setenv("WECOM_AES_KEY", aesKey)
	t.Setenv("WECOM_KF_SECRET", "kf-secret")
	cfg, err := config.Parse([]byte(`
[telegram]
api_url = "` + tg.URL() + `"
group_id = -1001234567890
admins = [1001]
poll_timeout = "1s"
[store]
data_dir = "` + t.TempDir() + `"
[wecom]
enabled = true
corp_id = "ww0011223344"
agent_id = 7
kf_enabled = true
api_url = "` + wx.URL() + `"
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.WeCom.CallbackListen = "127.0.0.1:0"
	cfg.Outbox.PerChatPerSecond, cfg.Outbox.GroupPerMinute, cfg.Outbox.GlobalPerSecond = 100, 6000, 100
	m := NewMain(cfg)
	var logs lockedBuffer
	m.Log = zerolog.New(&logs).Level(zerolog.DebugLevel)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wx.SetCallback("http://" + weComOf(t, m).CallbackAddr() + cfg.WeCom.CallbackPath)

	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// kfLast waits for a message to the WeChat resident containing want.
	kfGot := func(want string) wecomfake.Message {
		t.Helper()
		var found wecomfake.Message
		wait("WeChat message with "+want, func() bool {
			for _, msg := range wx.Sent(ext) {
				if strings.Contains(msg.Text, want) || hasKfButton(msg, want) {
					found = msg
				}
			}
			return found.To != ""
		})
		return found
	}
	ok := func(status int, err error) {
		t.Helper()
		if err != nil || status != 200 {
			t.Fatalf("callback: %d %v", status, err)
		}
	}

	// A technician joins on Telegram.
	admin := tgfake.User{ID: 1001, FirstName: "陈主管", LanguageCode: "zh-hans"}
	tech := tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: "zh-hans"}
	tg.SendText(admin, admin.ID, "/invite technician")
	inv, found := tg.WaitMessage(admin.ID, 15*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "?start=") })
	if !found {
		t.Fatal("no invite")
	}
	code := strings.Fields(inv.Text[strings.Index(inv.Text, "?start=")+7:])[0]
	tg.SendText(tech, tech.ID, "/start "+code)

	// The resident registers and reports on WeChat.
	ok(wx.KfEnter(kfID, ext))
	kfGot("请输入您的姓名")
	for _, s := range []struct{ say, next string }{{"王芳", "手机号"}, {"13800138000", "楼栋"}, {"3栋", "单元"}, {"2单元", "房号"}, {"1502", "登记完成"}} {
		ok(wx.KfText(kfID, ext, s.say))
		kfGot(s.next)
	}
	for _, s := range []struct{ click, next string }{{"我要报修", "水管/漏水"}, {"水管/漏水", "请简单描述"}} {
		ok(wx.KfMenuClick(kfID, ext, s.click))
		kfGot(s.next)
	}
	ok(wx.KfText(kfID, ext, "厨房水管漏水"))
	kfGot("没有更多照片了")
	ok(wx.KfMenuClick(kfID, ext, "没有更多照片了"))
	kfGot("我家里的问题")
	ok(wx.KfMenuClick(kfID, ext, "我家里的问题"))
	kfGot("尽快上门")
	ok(wx.KfMenuClick(kfID, ext, "尽快上门"))
	id := regexp.MustCompile(`BX-\d{8}-\d{4}`).FindString(kfGot("报修已受理").Text)
	if id == "" {
		t.Fatal("no ticket number on WeChat")
	}

	// The card reaches the Telegram group; the technician accepts there.
	card, found := tg.WaitMessage(demoGroup, 15*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, id) })
	if !found {
		t.Fatal("no card in the Telegram group")
	}
	if _, err := tg.Tap(tech, demoGroup, card.ID, "接单"); err != nil {
		t.Fatal(err)
	}
	kfGot("张师傅 已接单")
	job, found := tg.WaitMessage(tech.ID, 15*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "1502") })
	if !found || !strings.Contains(job.Text, "13800138000") {
		t.Fatalf("technician's job on Telegram: %q", job.Text)
	}
	// On site, the whole SOP: the technician on Telegram, the resident on WeChat.
	// The step card is edited in place or posted anew: wait for a newer
	// message, or a newer edit of the last one tapped.
	last, lastEdits := 0, 0
	step := func(label string) {
		t.Helper()
		var target tgfake.Message
		wait("a new card with "+label, func() bool {
			for _, msg := range tg.Messages(tech.ID) {
				if msg.ID < last || (msg.ID == last && msg.Edits <= lastEdits) {
					continue
				}
				for _, row := range msg.Inline {
					for _, b := range row {
						if strings.Contains(b.Text, label) && target.ID == 0 {
							target = msg
						}
					}
				}
			}
			return target.ID != 0
		})
		last, lastEdits = target.ID, target.Edits
		if _, err := tg.Tap(tech, tech.ID, target.ID, label); err != nil {
			t.Fatal(err)
		}
	}
	photo := func() { tg.SendPhoto(tech, tech.ID, "", 100_000) }
	step("已到达")
	step("有门铃")
	step("按门铃")
	step("住户已开门")
	kfGot("请确认同意入户")
	ok(wx.KfMenuClick(kfID, ext, "同意入户"))
	if _, found := tg.WaitMessage(tech.ID, 15*time.Second, func(m tgfake.Message) bool { return strings.Contains(m.Text, "勘察与方案") }); !found {
		t.Fatal("the resident's consent on WeChat did not move the technician's checklist on Telegram")
	}
	tg.SendText(tech, tech.ID, "角阀老化，更换角阀")
	step("下一步")
	step("添加收费项目")
	step("W02")
	step("1")
	step("发送给住户确认")
	kfGot("同意方案和费用")
	ok(wx.KfMenuClick(kfID, ext, "同意方案和费用"))
	photo() // belongings covered
	step("下一步")
	step("维修完成")
	photo() // cleaned up
	step("下一步")
	for i := 0; i < 3; i++ {
		step("试验通过")
	}
	step("下一步")
	step("▫️") // a typical care note of the SOP
	step("已讲解注意事项")
	// The fault coding before the sign-off: component, symptom, cause, action.
	step("角阀 / 阀门")
	step("漏水 / 渗漏")
	step("老化磨损")
	step("更换部件")
	step("请住户签字确认")
	kfGot("确认，已修好")
	ok(wx.KfMenuClick(kfID, ext, "确认，已修好"))
	step("道别")
	kfGot("5⭐")
	ok(wx.KfMenuClick(kfID, ext, "5⭐"))
	kfGot("感谢您的评价")
	var tk *flows.Ticket
	err = m.Store.View(context.Background(), func(tx flows.Tx) error { tk, err = tx.Ticket(id); return err })
	if err != nil || tk.State != flows.StateClosed || tk.Score != 5 || tk.Visit.Entry != "resident" || !tk.Visit.QuoteOK ||
		!strings.HasPrefix(tk.ResidentID, "wxkf:") || !strings.HasPrefix(tk.AssigneeID, "tg:") {
		t.Fatalf("ticket %+v %v", tk, err)
	}
	// Privacy: the debug logs of the whole run hold no secret, key or phone.
	if logs.String() == "" {
		t.Fatal("no logs captured")
	}
	for _, secret := range []string{demoToken, aesKey, "app-secret", "kf-secret", "13800138000"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func hasKfButton(m wecomfake.Message, label string) bool {
	for _, b := range m.Buttons {
		if strings.Contains(b.Text, label) {
			return true
		}
	}
	return false
}
