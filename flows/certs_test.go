package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// lastTo is the newest message to p.
func lastTo(t *testing.T, w *flowstest.World, p flowstest.Person) flows.Message {
	t.Helper()
	return w.Last(w.Drain(), p.Chat())
}

// notImage sends a file that claimed to be a photo but is not an image.
func notImage(w *flowstest.World, p flowstest.Person) flows.Result {
	ev := flows.Event{Key: fmt.Sprintf("test:notimage:%d", w.Now.UnixNano()), Kind: flows.EvPhoto, At: w.Now,
		From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: "zh-hans"}, Chat: p.Chat(),
		Photo: &flows.Photo{FileID: "PDF-AS-PHOTO", Size: 1000}, NotImage: true}
	return w.Do(ev)
}

// TestLeadRecordsACertificate: a lead records a technician's card field
// by field; the dates the type implies are computed and shown before it
// is saved; from then on the technician qualifies.
func TestLeadRecordsACertificate(t *testing.T) {
	w := gateWorld(t)
	w.Cmd(lead, "certs", tech.PID())
	list := lastTo(t, w, lead)
	contains(t, list.Text, "📜 张师傅 的证书：\n（还没有登记证书）")
	w.Tap(lead, w.ButtonData(list, "➕ 为张师傅登记证书"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "低压电工作业证"), false)
	contains(t, lastTo(t, w, lead).Text, "请输入低压电工作业证的证书编号")
	w.Text(lead, "T310110198001011234")
	w.Text(lead, "上海市应急管理局")
	w.Text(lead, "2024年3月1日")
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "按规定计算"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "按规定计算"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "不附照片"), false)
	confirm := lastTo(t, w, lead)
	contains(t, confirm.Text, "发证 2024-03-01｜有效期至 2030-03-01｜下次复审 2027-03-01｜照片：无")
	w.Expect(w.Tap(lead, w.ButtonData(confirm, "保存"), false))
	msgs := w.Drain()
	contains(t, w.Last(msgs, lead.Chat()).Text, "✅ 已为 张师傅 登记证书 CERT-00001：低压电工作业证 ✅ 有效（至 2030-03-01，复审 2027-03-01）")
	contains(t, w.Last(msgs, tech.Chat()).Text, "陈主管 为你登记了证书 CERT-00001")

	id := reportCat(t, w, resident, "电路", "客厅插座没电")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))

	w.Cmd(tech, "certs", "")
	contains(t, lastTo(t, w, tech).Text, "CERT-00001 低压电工作业证 ✅ 有效")
	w.Cmd(tech, "certs", tech2.PID())
	contains(t, lastTo(t, w, tech).Text, "只有主管可以使用这个命令")
}

// TestCertificateBadInput: every wrong answer in the dialogue gets a
// clear reply and keeps the step.
func TestCertificateBadInput(t *testing.T) {
	w := gateWorld(t)
	w.Cmd(lead, "certs", tech.PID())
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "登记证书"), false)
	typePrompt := lastTo(t, w, lead)
	seq := strings.Split(typePrompt.Buttons[0][0].Data, "|")[2]
	for _, c := range []struct {
		name string
		do   func() flows.Result
		want string
	}{
		{"an unknown certificate type typed", func() flows.Result { return w.Text(lead, "电焊工证") }, "没有这种证书类型：电焊工证。可选：低压电工作业证；特种设备作业人员证（电梯）；"},
		{"a forged type button", func() flows.Result { return w.Tap(lead, flows.EncodePayload("d", seq, "nuclear"), false) }, "没有这种证书类型：nuclear"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := c.do()
			got := res.Toast
			if !res.Alert {
				got = lastTo(t, w, lead).Text
			}
			contains(t, got, c.want)
		})
	}
	w.Text(lead, "低压电工作业证") // a label typed is fine
	w.Text(lead, "T3101")
	w.Text(lead, "上海市应急管理局")
	for _, c := range []struct{ name, text, want string }{
		{"an unreadable date", "去年三月", "看不懂这个日期：去年三月"},
		{"an issue date in the future", "2027-01-01", "发证日期 2027-01-01 还没到"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.Text(lead, c.text)
			contains(t, lastTo(t, w, lead).Text, c.want)
		})
	}
	w.Text(lead, "2020-12-01")
	t.Run("a valid-until date in the past", func(t *testing.T) {
		w.Text(lead, "2026-11-01")
		contains(t, lastTo(t, w, lead).Text, "有效期至 2026-11-01 已经过去：过期的证不能登记")
	})
	w.Text(lead, "2026-12-01")
	t.Run("a review date after the expiry", func(t *testing.T) {
		w.Text(lead, "2027-06-01")
		contains(t, lastTo(t, w, lead).Text, "复审日期 2027-06-01 晚于有效期至 2026-12-01")
	})
	t.Run("a review date in the past", func(t *testing.T) {
		w.Text(lead, "2023-12-01")
		contains(t, lastTo(t, w, lead).Text, "复审日期 2023-12-01 已经过去")
	})
	w.Text(lead, "2026-12-01")
	t.Run("a photo that is not an image", func(t *testing.T) {
		notImage(w, lead)
		contains(t, lastTo(t, w, lead).Text, "这个文件不是图片")
	})
	t.Run("text where the photo is asked", func(t *testing.T) {
		w.Text(lead, "照片稍后补")
		contains(t, lastTo(t, w, lead).Text, "这里需要证书的照片")
	})
	t.Run("a sticker", func(t *testing.T) {
		w.Unsupported(lead, "sticker")
		contains(t, lastTo(t, w, lead).Text, "这种消息我看不了。请发送证书照片。")
	})
	w.Photo(lead, "CARD-1", "", 80_000)
	confirm := lastTo(t, w, lead)
	contains(t, confirm.Text, "有效期至 2026-12-01｜下次复审 2026-12-01｜照片：已附")
	w.Text(lead, "好")
	contains(t, lastTo(t, w, lead).Text, "请点击上一条消息中的按钮")
	w.Expect(w.Tap(lead, w.ButtonData(confirm, "保存"), false))
}

// TestComputedExpiryInThePast: a card issued more than its validity ago
// is refused when its computed expiry would be in the past, at that step.
func TestComputedExpiryInThePast(t *testing.T) {
	w := gateWorld(t)
	w.Cmd(lead, "certs", tech.PID())
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "登记证书"), false)
	w.Tap(lead, w.ButtonData(lastTo(t, w, lead), "低压电工作业证"), false)
	w.Text(lead, "T3101")
	w.Text(lead, "上海市应急管理局")
	w.Text(lead, "2019-03-01")
	until := lastTo(t, w, lead)
	w.Refused(w.Tap(lead, w.ButtonData(until, "按规定计算"), false), "有效期至 2025-03-01 已经过去")
	w.Text(lead, "2027-03-01") // the card was extended: its date typed
	contains(t, lastTo(t, w, lead).Text, "下次复审日期")
}

// TestTechnicianSubmitsACertificate: a technician submits their own card
// with its photo; it does not qualify until a lead verifies it by button;
// a refused submission is told to its holder with the reason.
func TestTechnicianSubmitsACertificate(t *testing.T) {
	w := gateWorld(t)
	submit := func(p flowstest.Person, number string) {
		t.Helper()
		w.Cmd(p, "certs", "")
		w.Tap(p, w.ButtonData(lastTo(t, w, p), "📤 提交我的证书"), false)
		w.Tap(p, w.ButtonData(lastTo(t, w, p), "低压电工作业证"), false)
		w.Text(p, number)
		w.Text(p, "上海市应急管理局")
		w.Text(p, "2024-03-01")
		w.Tap(p, w.ButtonData(lastTo(t, w, p), "按规定计算"), false)
		w.Tap(p, w.ButtonData(lastTo(t, w, p), "按规定计算"), false)
		photoAsk := lastTo(t, w, p)
		contains(t, photoAsk.Text, "请发送证书照片（班长核验时要看）")
		if len(photoAsk.Buttons) != 0 {
			t.Fatalf("a submission offers to skip the photo: %v", photoAsk.Buttons)
		}
		w.Photo(p, "CARD-"+number, "", 90_000)
		w.Expect(w.Tap(p, w.ButtonData(lastTo(t, w, p), "提交核验"), false))
	}
	submit(tech, "T1")
	msgs := w.Drain()
	contains(t, w.Last(msgs, tech.Chat()).Text, "证书 CERT-00001（低压电工作业证）已提交，班长核验后生效")
	verify := w.Last(msgs, lead.Chat())
	contains(t, verify.Text, "张师傅 提交了证书 CERT-00001")
	photos := 0
	for _, m := range flowstest.To(msgs, lead.Chat()) {
		if m.Kind == flows.KindPhoto && m.Photo == "CARD-T1" {
			photos++
		}
	}
	if photos != 1 {
		t.Fatalf("the lead got the card's photo %d times", photos)
	}

	id := reportCat(t, w, resident, "电路", "客厅插座没电")
	w.Refused(w.Tap(tech, flows.EncodePayload("acc", id), true), "你提交的证还没有经班长核验")
	w.Refused(w.Tap(tech, w.ButtonData(verify, "核验通过"), false), "只有主管可以使用这个命令")
	w.Expect(w.Tap(lead, w.ButtonData(verify, "核验通过"), false))
	contains(t, lastTo(t, w, tech).Text, "你的证书 CERT-00001（低压电工作业证）已由 陈主管 核验")
	w.Refused(w.Tap(lead, w.ButtonData(verify, "核验通过"), false), "证书 CERT-00001 已经核验过了")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))

	submit(tech2, "T2")
	verify = lastTo(t, w, lead)
	w.Tap(lead, w.ButtonData(verify, "退回"), false)
	contains(t, lastTo(t, w, lead).Text, "请输入退回或注销证书 CERT-00002 的原因")
	w.Text(lead, "照片看不清编号")
	contains(t, lastTo(t, w, tech2).Text, "你提交的证书 CERT-00002（低压电工作业证）被退回：照片看不清编号")
	w.Refused(w.Tap(lead, w.ButtonData(verify, "核验通过"), false), "证书 CERT-00002 已注销或已被新证替换")
}
