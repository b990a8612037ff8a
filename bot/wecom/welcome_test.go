package wecom_test

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/outbox"
)

// TestKfWelcomeUsesCode: a customer opens the chat (enter_session with a
// welcome_code); the greeting goes out with kf/send_msg_on_event and that
// code, once — not with send_msg, which a customer who never wrote cannot
// receive.
func TestKfWelcomeUsesCode(t *testing.T) {
	r := newRig(t, rigOptions{})
	if st, err := r.fake.KfEnter(kfID, "cust10"); err != nil || st != 200 {
		t.Fatal(st, err)
	}
	m := r.next("cust10", 0, "welcome", withText(r.T("register.ask_name")))
	if !m.OnEvent {
		t.Fatalf("the greeting was not sent with the welcome code: %+v", m)
	}
	r.settle()
	if n := r.fake.Calls("/cgi-bin/kf/send_msg_on_event"); n != 1 {
		t.Fatalf("send_msg_on_event called %d times", n)
	}
	s := r.channel().Sender()
	if s.Welcomed.Load() != 1 || s.WelcomeFallbacks.Load() != 0 {
		t.Fatalf("welcomed %d, fallbacks %d", s.Welcomed.Load(), s.WelcomeFallbacks.Load())
	}
	// The next message (the customer answered) goes with send_msg.
	reply := r.kfSay("cust10", "韩梅梅", withText(r.T("register.ask_phone_typed", "name", "韩梅梅")))
	if reply.OnEvent {
		t.Fatal("a code works once; the second message must use send_msg")
	}
}

// TestKfWelcomeCodeRefusedOrExpired: a code the platform refuses, or one
// that expired before the greeting went out, does not lose the greeting:
// it is sent with send_msg instead. A customer who never wrote cannot get
// send_msg (95001), so the greeting is held — pending, not failed — and
// goes out as soon as they write.
func TestKfWelcomeCodeRefusedOrExpired(t *testing.T) {
	for name, o := range map[string]struct {
		opts   rigOptions
		refuse bool
	}{
		"refused": {rigOptions{}, true},
		"expired": {rigOptions{WelcomeTTL: time.Nanosecond}, false},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, o.opts)
			if o.refuse {
				r.fake.FailNext("/cgi-bin/kf/send_msg_on_event", 95000)
			}
			if st, err := r.fake.KfEnter(kfID, "cust11"); err != nil || st != 200 {
				t.Fatal(st, err)
			}
			s := r.channel().Sender()
			r.eventually("the fallback refused for the 48-hour rule", func() bool { return s.WelcomeFallbacks.Load() == 1 && s.KfRefused.Load() == 1 })
			if n := len(r.fake.Sent("cust11")); n != 0 {
				t.Fatalf("%d messages to a customer who never wrote", n)
			}
			if s.KfHeld() != 1 {
				t.Fatalf("held customers %d, want 1", s.KfHeld())
			}
			if st, err := r.fake.KfText(kfID, "cust11", "你好"); err != nil || st != 200 {
				t.Fatal(st, err)
			}
			m := r.next("cust11", 0, "the held greeting", withText(r.T("register.ask_name")))
			if m.OnEvent {
				t.Fatal("delivered with a refused code")
			}
			r.settle()
			if failed, _ := r.store().Rows(outbox.StatusFailed); len(failed) != 0 {
				t.Fatalf("failed rows: %+v", failed)
			}
		})
	}
}
