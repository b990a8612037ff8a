package wecom_test

import (
	"testing"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// cardFor is a message with one button (a template card).
func cardFor(to flows.Address, text string) flows.Message {
	return flows.Message{To: to, Kind: flows.KindSend, Text: text, Priority: flows.PrioNormal,
		Buttons: [][]flows.Button{{flows.CommandButton("帮助", "help")}}}
}

// TestLostAnswerWithDuplicateCheck: message/send delivers a card but its
// answer is lost; the sender retries the same request, WeCom's duplicate
// check answers ok without delivering again, and the row is delivered —
// once, nothing failed. Two rows with the same text are not "the same
// request": both arrive (texts go without the check).
func TestLostAnswerWithDuplicateCheck(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake.LoseAnswers("/cgi-bin/message/send", 1)
	r.enqueue(cardFor(wecom.UserAddress("tech01"), "新工单"))
	r.settle()
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	r.enqueue(texts(wecom.UserAddress("tech01"), 1)...)
	r.settle()
	sent := r.fake.Sent("tech01")
	if len(sent) != 3 || sent[0].TaskID == "" || sent[1].Text != "message 0" || sent[2].Text != "message 0" {
		t.Fatalf("want the card once and the same text twice, got %+v", sent)
	}
	if r.fake.DuplicatesSuppressed() != 1 {
		t.Fatalf("the retry was not answered by the duplicate check: %d", r.fake.DuplicatesSuppressed())
	}
	failed, _ := r.store().Rows(outbox.StatusFailed)
	delivered, _ := r.store().Rows(outbox.StatusDelivered)
	if len(failed) != 0 || len(delivered) != 3 {
		t.Fatalf("failed %d, delivered %d", len(failed), len(delivered))
	}
	if r.channel().Sender().Retried.Load() != 1 || r.channel().Sender().Redelivered.Load() != 0 {
		t.Fatalf("retried %d, want 1", r.channel().Sender().Retried.Load())
	}
}

// TestLostAnswerCardTaskIDExists: with the duplicate check off (or its
// interval over), the retried card is refused with 42014 because its
// task_id exists; the row is recorded as delivered, not failed.
func TestLostAnswerCardTaskIDExists(t *testing.T) {
	r := newRig(t, rigOptions{DupInterval: -1})
	r.fake.LoseAnswers("/cgi-bin/message/send", 1)
	r.enqueue(cardFor(wecom.UserAddress("tech01"), "新工单"))
	r.settle()
	if n := len(r.fake.Sent("tech01")); n != 1 {
		t.Fatalf("card delivered %d times", n)
	}
	failed, _ := r.store().Rows(outbox.StatusFailed)
	if len(failed) != 0 {
		t.Fatalf("a card that arrived was marked failed: %+v", failed[0].LastError)
	}
	if r.channel().Sender().Redelivered.Load() != 1 || r.fake.DuplicatesSuppressed() != 0 {
		t.Fatalf("redelivered %d, suppressed %d", r.channel().Sender().Redelivered.Load(), r.fake.DuplicatesSuppressed())
	}
}
