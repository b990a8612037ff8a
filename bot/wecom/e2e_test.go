package wecom_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
)

var ticketRE = regexp.MustCompile(`BX-\d{8}-\d{4}`)

// registerKf walks a WeChat customer through registration on kf.
func (r *rig) registerKf(ext, name string) wecomfake.Message {
	r.t.Helper()
	before := r.top(ext)
	if st, err := r.fake.KfEnter(kfID, ext); err != nil || st != 200 {
		r.t.Fatalf("enter_session: %d %v", st, err)
	}
	r.next(ext, before, "registration prompt", withText(r.T("register.ask_name")))
	// WeChat has no share-contact button: the prompt asks to type it.
	if ask := r.kfSay(ext, name, withText(r.T("register.ask_phone_typed", "name", name))); strings.Contains(ask.Text, r.T("btn.share_phone")) || strings.Contains(ask.Text, "按钮") {
		r.t.Errorf("the kf phone prompt points at a button WeChat does not have: %q", ask.Text)
	}
	r.kfSay(ext, "13800138000", withText(r.T("register.ask_building")))
	r.kfSay(ext, "3栋", withText(r.T("register.ask_unit")))
	r.kfSay(ext, "2单元", withText(r.T("register.ask_room")))
	return r.kfSay(ext, "1502", withButton(r.T("btn.report")))
}

// reportKf files a water ticket with one photo and returns its number.
func (r *rig) reportKf(ext string) string {
	r.t.Helper()
	r.kfClick(ext, r.T("btn.report"), withButton("水管/漏水"))
	r.kfClick(ext, "水管/漏水", withText("水管/漏水"))
	r.kfSay(ext, "厨房水管漏水，地上全是水", withButton(r.T("btn.no_more_photos")))
	before := r.top(ext)
	if st, err := r.fake.KfImage(kfID, ext, jpeg); err != nil || st != 200 {
		r.t.Fatalf("kf image: %d %v", st, err)
	}
	r.next(ext, before, "photo saved", withText(r.T("report.photo_saved", "n", 1, "max", 3)))
	r.kfClick(ext, r.T("btn.no_more_photos"), withButton(r.T("btn.kind_household")))
	r.kfClick(ext, r.T("btn.kind_household"), withButton(r.T("btn.asap")))
	ack := r.kfClick(ext, r.T("btn.asap"), withText("BX-"))
	id := ticketRE.FindString(ack.Text)
	if id == "" {
		r.t.Fatalf("no ticket number in %q", ack.Text)
	}
	return id
}

// TestResidentOnKfTechnicianOnWeCom: a resident registers and reports on
// WeChat (kf, msgmenu choices, a photo); the dispatch card reaches the
// group's members as template cards; a technician hired with an invite
// code accepts and walks the first steps; every click is answered with
// update_template_card and its response code; a second technician's
// click on the same job gets a clear answer and changes nothing.
func TestResidentOnKfTechnicianOnWeCom(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.hire("tech01")
	r.hire("tech02")

	r.registerKf("cust01", "王芳")
	id := r.reportKf("cust01")
	tk := r.ticket(id)
	if len(tk.Photos) != 1 || !strings.HasPrefix(tk.Photos[0].FileID, "wxkf-media:") || tk.Photos[0].Local == "" || tk.Photos[0].SHA256 == "" {
		t.Fatalf("photo not kept in the content-addressed store: %+v", tk.Photos)
	}
	if tk.ResidentID != wecom.KfPersonID("cust01") {
		t.Fatalf("resident %q", tk.ResidentID)
	}

	accept := r.T("btn.accept")
	card1 := r.next("tech01", 0, "dispatch card", func(m wecomfake.Message) bool { return withButton(accept)(m) && strings.Contains(m.Text, id) })
	card2 := r.next("tech02", 0, "dispatch card", func(m wecomfake.Message) bool { return withButton(accept)(m) && strings.Contains(m.Text, id) })
	if card1.TaskID == "" || card1.MsgType != "template_card" {
		t.Fatalf("dispatch card is not a template card: %+v", card1)
	}

	job, rc := r.click("tech01", accept, withButton(r.T("btn.on_the_way")))
	if up := r.update(rc); up.ReplaceName != clip(r.T("accept.toast", "ticket", id), 40) || len(up.UserIDs) != 1 || up.UserIDs[0] != "tech01" {
		t.Errorf("card update after accept: %+v", up)
	}
	if !strings.Contains(job.Text, id) && !strings.Contains(r.fake.Sent("tech01")[len(r.fake.Sent("tech01"))-2].Text, id) {
		t.Errorf("job card without the ticket: %+v", job)
	}
	if got := r.ticket(id); got.State != flows.StateAccepted || got.AssigneeID != wecom.PersonID("tech01") {
		t.Fatalf("after accept: %s %s", got.State, got.AssigneeID)
	}
	r.next("cust01", 0, "resident told", withText(r.T("status.accepted", "ticket", id, "name", "tech01")))

	// tech02 was too slow (tapped at the same moment, before the card
	// changed): a clear answer on the card, nothing changes.
	x, rc2 := r.fake.ClickXML("tech02", card2.TaskID, card2.Buttons[0].Key)
	if _, _, err := r.fake.Post(x); err != nil {
		t.Fatal(err)
	}
	if up := r.update(rc2); up.ReplaceName != clip(r.T("err.already_taken", "ticket", id, "name", "tech01"), 40) {
		t.Errorf("second click answer %q", up.ReplaceName)
	}
	if got := r.ticket(id); got.AssigneeID != wecom.PersonID("tech01") {
		t.Fatalf("second click changed the assignee: %s", got.AssigneeID)
	}
	// Once the group card changes, every member's dispatch card shows who
	// took it instead of an Accept button (update_template_card, atall).
	r.eventually("the dispatch cards retired", func() bool {
		for _, m := range r.fake.Sent("tech02") {
			if m.TaskID == card2.TaskID {
				return strings.Contains(m.Replaced, "tech01")
			}
		}
		return false
	})
	if _, _, ok := r.fake.FindButton("tech02", accept); ok {
		t.Error("tech02 still has an Accept button after tech01 took the job")
	}

	r.click("tech01", r.T("btn.on_the_way"), withButton(r.T("btn.arrived")))
	r.next("cust01", 0, "on the way", withText(r.T("status.on_the_way", "ticket", id, "name", "tech01")))
	before := r.top("tech01")
	_, rc3, err := r.fake.Click("tech01", r.T("btn.arrived"))
	if err != nil {
		t.Fatal(err)
	}
	r.update(rc3)
	step := r.next("tech01", before, "first SOP step card", func(m wecomfake.Message) bool { return len(m.Buttons) > 0 })
	if got := r.ticket(id); got.State != flows.StateOnSite {
		t.Fatalf("after arrival: %s", got.State)
	}
	// Press the first button of the step card (the home has a doorbell):
	// the engine answers it. A
	// sent card cannot be edited here: the card's next state comes as a new
	// card, the clicked one shows the answer in place of its buttons.
	before = r.top("tech01")
	x, rc4 := r.fake.ClickXML("tech01", step.TaskID, step.Buttons[0].Key)
	if st, _, err := r.fake.Post(x); err != nil || st != 200 {
		t.Fatalf("step click: %d %v", st, err)
	}
	r.update(rc4)
	r.next("tech01", before, "the step card's next state", withText(r.T("step.door_bell", "n", 0, "max", 3)))
	r.settle()
	// The technician's own text moves the card to the bottom: one new card;
	// the old one's retirement sends nothing (a member's card keeps its
	// buttons), and its buttons are answered as outdated.
	before = r.top("tech01")
	r.say("tech01", "门口有只狗", withText(r.T("step.note_saved", "note", "门口有只狗")))
	r.settle()
	// (A card whose text is too long for a template card sends that text
	// first: still the one card.)
	after := r.fake.Sent("tech01")[before:]
	cards := 0
	for _, m := range after {
		if m.MsgType == "template_card" {
			cards++
		}
	}
	if cards != 1 || len(after) > 2 || len(after) == 2 && (after[0].MsgType != "text" || !strings.HasPrefix(after[0].Text, after[1].Text)) {
		t.Errorf("%d messages after the technician's text, want the one new card: %+v", len(after), after)
	}
	// A click's dedupe key is its card and second: click the old card again
	// in a later second than its first click.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	x, rc5 := r.fake.ClickXML("tech01", step.TaskID, step.Buttons[len(step.Buttons)-1].Key)
	if st, _, err := r.fake.Post(x); err != nil || st != 200 {
		t.Fatalf("old card click: %d %v", st, err)
	}
	if up := r.update(rc5); up.ReplaceName != clip(r.T("err.card_outdated", "ticket", id), 40) {
		t.Errorf("old card answered %q", up.ReplaceName)
	}
	r.settle()
	if rows, _ := r.store().Rows("failed"); len(rows) != 0 {
		t.Errorf("failed rows: %+v", rows)
	}
	if n := r.fake.Dropped(""); n != 0 {
		t.Fatalf("%d messages over WeCom's per-member limit (dropped silently)", n)
	}
	evs := r.events(id)
	accepts := 0
	for _, e := range evs {
		if e.Action == string(flows.ActAccept) {
			accepts++
		}
	}
	if accepts != 1 {
		t.Fatalf("%d accept events", accepts)
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (r *rig) events(id string) []flows.TicketEvent {
	r.t.Helper()
	var evs []flows.TicketEvent
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		var err error
		evs, err = tx.TicketEvents(id)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}
