package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// startReport registers the resident and opens the report dialogue at the
// description step; it returns the category prompt.
func startReport(t *testing.T, w *flowstest.World) flows.Message {
	w.Register(resident, "13800138000")
	w.Cmd(resident, "report", "")
	return w.Last(w.Drain(), resident.Chat())
}

func TestBadInputGetsAClearAnswer(t *testing.T) {
	cases := []struct {
		name string
		do   func(w *flowstest.World, prompt flows.Message)
		want string
	}{
		{"text where a button is expected", func(w *flowstest.World, _ flows.Message) { w.Text(resident, "水管") }, "请点击上一条消息中的按钮"},
		{"photo where a button is expected", func(w *flowstest.World, _ flows.Message) { w.Photo(resident, "F1", "", 1000) }, "按钮"},
		{"sticker", func(w *flowstest.World, _ flows.Message) { w.Unsupported(resident, "sticker") }, "这种消息我看不了。请点击按钮选择故障类别。"},
		{"unknown command", func(w *flowstest.World, _ flows.Message) { w.Cmd(resident, "frobnicate", "") }, "没有 /frobnicate 这个命令"},
		{"5000-character description", func(w *flowstest.World, p flows.Message) {
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Text(resident, strings.Repeat("漏", 5000))
		}, "5000 字，最多 1000 字"},
		{"empty description", func(w *flowstest.World, p flows.Message) {
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Text(resident, " \u200b\u202e ")
		}, "内容不能为空"},
		{"oversized photo", func(w *flowstest.World, p flows.Message) {
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Photo(resident, "F1", "漏水", 25<<20)
		}, "照片太大了"},
		{"text where photos are expected", func(w *flowstest.World, p flows.Message) {
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Text(resident, "漏水")
			w.Text(resident, "还有")
		}, "现在需要照片"},
		{"bad agreed time", func(w *flowstest.World, p flows.Message) {
			w.Tap(resident, w.ButtonData(p, "水"), false)
			w.Text(resident, "漏水")
			m := w.Last(w.Drain(), resident.Chat())
			w.Tap(resident, w.ButtonData(m, "没有更多"), false)
			m = w.Last(w.Drain(), resident.Chat())
			w.Tap(resident, w.ButtonData(m, "我家里"), false)
			m = w.Last(w.Drain(), resident.Chat())
			w.Tap(resident, w.ButtonData(m, "其他时间"), false)
			w.Text(resident, "下辈子")
		}, "没有看懂这个时间"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := flowstest.New(t)
			prompt := startReport(t, w)
			tc.do(w, prompt)
			got := w.Last(w.Drain(), resident.Chat()).Text
			contains(t, got, tc.want)
			// The dialogue is still there: the resident can go on.
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
				if _, err := tx.Dialogue(resident.PID()); err != nil {
					t.Errorf("dialogue lost after bad input: %v", err)
				}
				return nil
			})
		})
	}
}

func TestStaleDialogueButton(t *testing.T) {
	w := flowstest.New(t)
	prompt := startReport(t, w)
	w.Tap(resident, w.ButtonData(prompt, "水"), false)
	res := w.Tap(resident, w.ButtonData(prompt, "电"), false)
	contains(t, res.Toast, "已过期")
}

func TestPhoneMustBeOwnAndFromTheButton(t *testing.T) {
	w := flowstest.New(t)
	w.Cmd(resident, "start", "")
	w.Text(resident, "王芳")
	w.Drain()
	w.Text(resident, "13800138000")
	m := w.Last(w.Drain(), resident.Chat())
	contains(t, m.Text, "共享我的手机号")
	if m.RequestContact == "" {
		t.Fatal("keyboard not offered again")
	}
	w.Contact(resident, "13900139000", false)
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "本人")
	w.Contact(resident, "13800138000", true)
	m = w.Last(w.Drain(), resident.Chat())
	if !m.RemoveKeyboard {
		t.Fatal("contact keyboard not removed")
	}
}

// A restart in the middle of a report resumes at the same step with
// everything typed so far.
func TestRestartResumesMidReport(t *testing.T) {
	w := flowstest.New(t)
	prompt := startReport(t, w)
	w.Tap(resident, w.ButtonData(prompt, "水"), false)
	w.Text(resident, "卫生间漏水")
	w.Photo(resident, "PHOTO-1", "", 2048)
	w.Drain()
	w.Reopen()
	w.Photo(resident, "PHOTO-2", "", 2048)
	m := w.Last(w.Drain(), resident.Chat())
	contains(t, m.Text, "第 2 张")
	w.Tap(resident, w.ButtonData(m, "没有更多"), false)
	m = w.Last(w.Drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(m, "公共区域"), false)
	w.Drain()
	w.Reopen()
	w.Text(resident, "3栋 1楼大堂")
	m = w.Last(w.Drain(), resident.Chat())
	w.Tap(resident, w.ButtonData(m, "其他时间"), false)
	w.Reopen()
	w.Text(resident, "11-28 15:00")
	m = w.Last(w.Drain(), resident.Chat())
	contains(t, m.Text, "2026-11-28 15:00")
	tk := w.Ticket("BX-20261127-0001")
	if tk.Description != "卫生间漏水" || len(tk.Photos) != 2 || tk.Kind != flows.OrderPublic || tk.Place != "3栋 1楼大堂" || tk.ASAP {
		t.Fatalf("%+v", tk)
	}
}

func TestDuplicateEventHandledOnce(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	ev := flows.Event{Key: "tg:u:42", Kind: flows.EvCommand, Command: "report", At: w.Now,
		From: flows.Sender{ID: resident.PID(), Chat: resident.Chat()}, Chat: resident.Chat()}
	w.Do(ev)
	res := w.Do(ev)
	if !res.Duplicate {
		t.Fatal("second delivery not recognised")
	}
	if n := len(w.Drain()); n != 1 {
		t.Fatalf("%d messages for one event delivered twice", n)
	}
}

// Every "no more photos" button of the photo step works, not only the last.
func TestEarlierPhotoDoneButtonStillWorks(t *testing.T) {
	w := flowstest.New(t)
	prompt := startReport(t, w)
	w.Tap(resident, w.ButtonData(prompt, "水"), false)
	w.Text(resident, "漏水")
	first := w.Last(w.Drain(), resident.Chat())
	w.Photo(resident, "P1", "", 100)
	w.Photo(resident, "P2", "", 100)
	w.Drain()
	w.Tap(resident, w.ButtonData(first, "没有更多"), false)
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "公共区域")
}
