package wecom_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
)

func (r *rig) person(userID string) *flows.Person {
	r.t.Helper()
	var p *flows.Person
	_ = r.store().View(context.Background(), func(tx flows.Tx) error {
		p, _ = tx.Person(wecom.PersonID(userID))
		return nil
	})
	return p
}

func (r *rig) inviteCode() string {
	r.t.Helper()
	m := r.say(admin, "/invite technician", withText("/start "))
	return strings.Fields(m.Text[strings.Index(m.Text, "/start ")+len("/start "):])[0]
}

// TestStaffNameFromAddressBook: a technician who joins on WeCom is
// committed at once under their userid, then named as the address book
// names them (user/get, asked only after the commit); a registered
// member's name is not looked up again, and an address book that refuses
// leaves the userid.
func TestStaffNameFromAddressBook(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake.SetName("tech01", "张伟")
	code := r.inviteCode()
	r.say("tech01", "/start "+code, withText(r.T("invite.welcome", "name", "tech01", "role", r.T("role.technician.property"))))
	r.eventually("the name from the address book", func() bool { p := r.person("tech01"); return p != nil && p.Name == "张伟" })
	calls := r.fake.Calls("/cgi-bin/user/get")
	if calls == 0 {
		t.Fatal("user/get was never called")
	}
	r.say("tech01", "/help", withText(""))
	time.Sleep(100 * time.Millisecond)
	if n := r.fake.Calls("/cgi-bin/user/get"); n != calls {
		t.Fatalf("a registered member's name was looked up again (%d calls)", n-calls)
	}
	// The address book refuses: the userid stands in, the join works.
	r.fake.FailNext("/cgi-bin/user/get", 60011)
	code = r.inviteCode()
	r.say("tech02", "/start "+code, withText(r.T("invite.welcome", "name", "tech02", "role", r.T("role.technician.property"))))
	r.eventually("the refused lookup", func() bool { return r.fake.Calls("/cgi-bin/user/get") > calls })
	time.Sleep(100 * time.Millisecond)
	if p := r.person("tech02"); p == nil || p.Name != "tech02" || !p.Registered {
		t.Fatalf("person %+v", p)
	}
}

// A new technician's first message while the address book hangs: the
// callback commits and answers at once (WeCom gives it 5 s, then retries
// three times: before, the lookup ran first and the join could be lost);
// the name follows once user/get answers.
func TestFirstMessageWhileUserGetHangs(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake.SetName("tech01", "张伟")
	code := r.inviteCode()
	r.fake.Hang("/cgi-bin/user/get")
	start := time.Now()
	st, err := r.fake.UserText("tech01", "/start "+code)
	if err != nil || st != http.StatusOK || time.Since(start) > 2*time.Second {
		t.Fatalf("callback: %d %v after %s", st, err, time.Since(start))
	}
	if p := r.person("tech01"); p == nil || !p.Registered || p.Role != flows.RoleTechnician {
		t.Fatalf("the join did not commit with the callback: %+v", p)
	}
	r.next("tech01", 0, "the welcome", withText(r.T("invite.welcome", "name", "tech01", "role", r.T("role.technician.property"))))
	r.fake.Release("/cgi-bin/user/get")
	r.eventually("the name once user/get answers", func() bool { p := r.person("tech01"); return p != nil && p.Name == "张伟" })
}

// The token refresh hangs (gettoken never answers) while the sender holds
// it: before, a callback waited on the refresh's lock, which ignored its
// context, for ever. Now no callback asks the platform anything before it
// commits, and a caller of the token stops waiting when its context ends.
func TestCallbackWhileTokenRefreshHangs(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake.AddMember("tech03")
	code := r.inviteCode()
	r.settle()
	r.fake.Hang("/cgi-bin/gettoken")
	defer r.fake.Release("/cgi-bin/gettoken")
	r.fake.ExpireTokens()
	before := r.fake.Calls("/cgi-bin/gettoken")
	r.enqueue(flows.Message{To: wecom.UserAddress(admin), Kind: flows.KindSend, Text: "a message the sender is stuck on"})
	r.eventually("the sender stuck in gettoken", func() bool { return r.fake.Calls("/cgi-bin/gettoken") > before })
	start := time.Now()
	st, err := r.fake.UserText("tech03", "/start "+code)
	if err != nil || st != http.StatusOK || time.Since(start) > 2*time.Second {
		t.Fatalf("callback: %d %v after %s", st, err, time.Since(start))
	}
	if p := r.person("tech03"); p == nil || !p.Registered {
		t.Fatalf("the join did not commit: %+v", p)
	}
	top := r.top("tech03")
	r.fake.Release("/cgi-bin/gettoken")
	r.next("tech03", top, "the welcome once the token comes", withText(r.T("invite.welcome", "name", "tech03", "role", r.T("role.technician.property"))))
}
