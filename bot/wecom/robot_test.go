package wecom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// TestRobotDispatch: the technicians' group is a robot webhook. The
// dispatch card is posted to the group (markdown, no buttons: a robot
// cannot carry them) and every WeCom technician gets it privately as a
// template card with Accept; the accept is taken from that card, and the
// card's new state (accepted by tech01) is a new robot post.
func TestRobotDispatch(t *testing.T) {
	r := newRig(t, rigOptions{Robot: true})
	r.hire("tech01")
	r.hire("tech02")
	r.registerKf("cust01", "王芳")
	id := r.reportKf("cust01")

	posted := r.next("robot", 0, "robot dispatch post", withText(id))
	if posted.MsgType != "markdown" || len(posted.Buttons) != 0 || !strings.Contains(posted.Text, r.T("group.robot_hint")) {
		t.Fatalf("robot post (no buttons, with the hint where to accept): %+v", posted)
	}
	accept := r.T("btn.accept")
	card := r.next("tech01", 0, "private dispatch card", func(m wecomfake.Message) bool { return withButton(accept)(m) && strings.Contains(m.Text, id) })
	r.next("tech02", 0, "private dispatch card", func(m wecomfake.Message) bool { return withButton(accept)(m) && strings.Contains(m.Text, id) })
	if card.MsgType != "template_card" {
		t.Fatalf("not a template card: %+v", card)
	}
	if g := r.fake.Sent("appchat:" + groupID); len(g) != 0 {
		t.Fatalf("robot mode posted to the appchat: %+v", g)
	}
	before := r.top("robot")
	r.click("tech01", accept, withButton(r.T("btn.on_the_way")))
	if got := r.ticket(id); got.State != flows.StateAccepted || got.AssigneeID != wecom.PersonID("tech01") {
		t.Fatalf("after accept: %s %s", got.State, got.AssigneeID)
	}
	accepted := r.next("robot", before, "robot post of the accepted card", withText(strings.Split(r.T("card.status.accepted", "name", "tech01", "time", "X"), "（")[0]))
	if strings.Contains(accepted.Text, r.T("group.robot_hint")) {
		t.Errorf("a card without buttons still says where to accept: %q", accepted.Text)
	}
	r.settle()
	if strings.Contains(r.logs.String(), robotKey) {
		t.Fatal("the robot key was logged")
	}
	if r.fake.RobotRefused() != 0 || r.fake.Dropped("") != 0 {
		t.Fatalf("over a limit: robot %d, members %d", r.fake.RobotRefused(), r.fake.Dropped(""))
	}
}

// TestRobotLimitNeverExceeded: 25 group messages for a robot that takes
// 20 a window: all arrive, in order, none refused; the sender waited.
func TestRobotLimitNeverExceeded(t *testing.T) {
	r := newRig(t, rigOptions{Robot: true, RobotWindow: time.Second})
	start := time.Now()
	r.enqueue(texts(wecom.RobotAddress(), 25)...)
	r.settle()
	sent := r.fake.Sent("robot")
	if len(sent) != 25 || r.fake.RobotRefused() != 0 {
		t.Fatalf("posted %d, refused %d", len(sent), r.fake.RobotRefused())
	}
	for i, m := range sent {
		if !strings.Contains(m.Text, "message ") || !strings.HasSuffix(m.Text, " "+strings.TrimPrefix(texts(wecom.RobotAddress(), i+1)[i].Text, "message ")+"**") {
			t.Fatalf("out of order at %d: %q", i, m.Text)
		}
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("25 posts in %s: the robot budget was not applied", time.Since(start))
	}
}

// TestRobotRefusals: the fake enforces the robot's limit (a sender with a
// larger budget gets 45009, pauses, and still delivers everything) and
// its key (a wrong key fails the row for good, without the key in the
// error or the log).
func TestRobotRefusals(t *testing.T) {
	t.Run("over the limit", func(t *testing.T) {
		r := newRig(t, rigOptions{Robot: true, RobotWindow: 2 * time.Second, // 22 posts fit in 2 s even on a busy machine
			Send: &wecom.SendLimits{Robot: wecom.Budget{N: 1000, Per: time.Second}, GlobalPerSecond: 1000}})
		r.enqueue(texts(wecom.RobotAddress(), 22)...)
		r.settle()
		if r.fake.RobotRefused() == 0 || r.channel().Sender().Paused.Load() == 0 {
			t.Fatalf("refused %d, paused %d: the fake did not enforce the limit", r.fake.RobotRefused(), r.channel().Sender().Paused.Load())
		}
		if n := len(r.fake.Sent("robot")); n != 22 {
			t.Fatalf("posted %d of 22", n)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		r := newRig(t, rigOptions{Robot: true})
		r.fake.AddRobot("other")
		r.stop()
		r.fake = wecomfake.New(wecomfake.Options{CorpID: corpID, AgentID: agentID, Secret: secret, KfSecret: kfSec, Token: cbToken, EncodingAESKey: aesKey})
		t.Cleanup(r.fake.Close)
		r.start()
		r.enqueue(texts(wecom.RobotAddress(), 1)...)
		r.settle()
		failed, _ := r.store().Rows(outbox.StatusFailed)
		if len(failed) != 1 || !strings.Contains(failed[0].LastError, "93000") || strings.Contains(failed[0].LastError, robotKey) {
			t.Fatalf("failed rows: %+v", failed)
		}
		if strings.Contains(r.logs.String(), robotKey) {
			t.Fatal("the robot key was logged")
		}
	})
}
