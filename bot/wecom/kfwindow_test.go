package wecom_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

func kfTexts(ext string, from, n int) []flows.Message {
	var out []flows.Message
	for i := from; i < from+n; i++ {
		out = append(out, flows.Message{To: wecom.KfAddress(kfID, ext), Kind: flows.KindSend, Text: fmt.Sprintf("通知 %d", i), Priority: flows.PrioNormal})
	}
	return out
}

// kfWrite has a customer write and returns how many replies it got (slots
// used) and the message count before them.
func (r *rig) kfWrite(ext, text string) (replies, before int) {
	r.t.Helper()
	before = r.top(ext)
	if st, err := r.fake.KfText(kfID, ext, text); err != nil || st != 200 {
		r.t.Fatal(st, err)
	}
	r.next(ext, before, "reply to "+text, func(wecomfake.Message) bool { return true })
	r.settle()
	return r.top(ext) - before, before
}

// TestKfFiveIn48Hours: after a customer's message at most five messages
// go to them. Messages beyond wait — pending, visible, never refused by
// the platform, never failed — and go out when the customer writes again.
func TestKfFiveIn48Hours(t *testing.T) {
	r := newRig(t, rigOptions{})
	used, before := r.kfWrite("cust20", "/help")
	// Status updates, one at a time, until the five slots are used.
	for i := 0; i < 5-used; i++ {
		r.enqueue(kfTexts("cust20", i, 1)...)
		r.settle()
	}
	r.enqueue(kfTexts("cust20", 5-used, 1)...)
	s := r.channel().Sender()
	r.eventually("the sixth message held", func() bool { return s.KfHeld() == 1 })
	time.Sleep(200 * time.Millisecond)
	if got := len(r.fake.Sent("cust20")) - before; got != 5 || r.fake.KfRefused() != 0 {
		t.Fatalf("sent %d after the customer wrote, platform refused %d; want 5 and 0", got, r.fake.KfRefused())
	}
	st, _ := r.store().Stats()
	if st.Pending != 1 {
		t.Fatalf("pending %d, want the held message", st.Pending)
	}
	if st, err := r.fake.KfText(kfID, "cust20", "好的"); err != nil || st != 200 {
		t.Fatal(st, err)
	}
	r.next("cust20", before, "the held message", withText(fmt.Sprintf("通知 %d", 5-used)))
	r.settle()
	if failed, _ := r.store().Rows(outbox.StatusFailed); len(failed) != 0 || r.fake.KfRefused() != 0 {
		t.Fatalf("failed %d, refused %d", len(failed), r.fake.KfRefused())
	}
}

// TestKfLastSlotFolds: when the last of the five slots comes and more
// messages wait for the customer, they go together as one message (the
// latest menu kept), so nothing waits for the customer that could have
// been said.
func TestKfLastSlotFolds(t *testing.T) {
	r := newRig(t, rigOptions{})
	used, _ := r.kfWrite("cust21", "/help")
	before := r.top("cust21")
	for i := 0; i < 4-used; i++ {
		r.enqueue(kfTexts("cust21", i, 1)...)
		r.settle()
	}
	// One slot left; three messages at once, the last with a menu.
	msgs := kfTexts("cust21", 10, 3)
	msgs[2].Buttons = [][]flows.Button{{flows.CommandButton("帮助", "help")}}
	r.enqueue(msgs...)
	r.settle()
	sent := r.fake.Sent("cust21")[before:]
	if len(sent) != 5-used {
		t.Fatalf("sent %d messages, want %d + 1 folded", len(sent), 4-used)
	}
	last := sent[len(sent)-1]
	for _, want := range []string{"通知 10", "通知 11", "通知 12"} {
		if !strings.Contains(last.Text, want) {
			t.Fatalf("folded message lacks %q: %q", want, last.Text)
		}
	}
	if last.MsgType != "msgmenu" || len(last.Buttons) != 1 {
		t.Fatalf("the menu was not kept: %+v", last)
	}
	if r.channel().Sender().KfFolded.Load() != 2 || r.fake.KfRefused() != 0 {
		t.Fatalf("folded %d, refused %d", r.channel().Sender().KfFolded.Load(), r.fake.KfRefused())
	}
	delivered, _ := r.store().Rows(outbox.StatusDelivered)
	n := 0
	for _, row := range delivered {
		if strings.HasPrefix(row.Msg.Text, "通知 ") {
			n++
		}
	}
	if n != 7-used {
		t.Fatalf("%d of %d rows recorded as delivered", n, 7-used)
	}
}

// TestKfWindowClosedAfter48Hours: the platform refuses a customer whose
// last message is 48 hours old (95001); the row is held, not failed, and
// is delivered once the customer writes again.
func TestKfWindowClosedAfter48Hours(t *testing.T) {
	r := newRig(t, rigOptions{})
	_, before := r.kfWrite("cust22", "/help")
	r.fake.KfAge("cust22", 49*time.Hour) // two days pass
	r.enqueue(kfTexts("cust22", 0, 1)...)
	s := r.channel().Sender()
	r.eventually("refused and held", func() bool { return s.KfRefused.Load() == 1 && s.KfHeld() == 1 })
	if failed, _ := r.store().Rows(outbox.StatusFailed); len(failed) != 0 {
		t.Fatalf("a held row failed: %+v", failed)
	}
	if st, err := r.fake.KfText(kfID, "cust22", "在吗"); err != nil || st != 200 {
		t.Fatal(st, err)
	}
	r.next("cust22", before, "the held message", withText("通知 0"))
	r.settle()
	if s.KfRefused.Load() != 1 {
		t.Fatalf("refused %d times", s.KfRefused.Load())
	}
}

// TestKfFoldKeepsWhatDoesNotFit: the last slot folds only what fits in one
// message (2,048 bytes of text); the rest stays pending, whole, and goes
// out when the customer writes again — nothing is clipped away.
func TestKfFoldKeepsWhatDoesNotFit(t *testing.T) {
	r := newRig(t, rigOptions{})
	used, _ := r.kfWrite("cust22", "/help")
	for i := 0; i < 4-used; i++ {
		r.enqueue(kfTexts("cust22", i, 1)...)
		r.settle()
	}
	before := r.top("cust22")
	long := strings.Repeat("长", 300) // 900 bytes each
	var msgs []flows.Message
	for i := 0; i < 4; i++ {
		msgs = append(msgs, flows.Message{To: wecom.KfAddress(kfID, "cust22"), Kind: flows.KindSend, Text: fmt.Sprintf("长通知 %d %s", i, long), Priority: flows.PrioNormal})
	}
	r.enqueue(msgs...)
	r.eventually("the last slot used", func() bool { return len(r.fake.Sent("cust22")) > before })
	r.eventually("the folded rows recorded", func() bool { st, _ := r.store().Stats(); return st.Pending == 2 })
	sent := r.fake.Sent("cust22")[before:]
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "长通知 0") || !strings.Contains(sent[0].Text, "长通知 1") || strings.Contains(sent[0].Text, "长通知 2") || len(sent[0].Text) > 2048 {
		t.Fatalf("last slot sent %d messages: %+v", len(sent), sent)
	}
	before = r.top("cust22")
	r.fake.KfText(kfID, "cust22", "还在吗")
	r.eventually("the rest after the customer wrote", func() bool {
		got := ""
		for _, m := range r.fake.Sent("cust22")[before:] {
			got += m.Text
		}
		return strings.Contains(got, "长通知 2 "+long) && strings.Contains(got, "长通知 3 "+long)
	})
}
