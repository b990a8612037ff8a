package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// registerAt registers a resident at 3栋 / 2单元 / room.
func registerAt(w *flowstest.World, p flowstest.Person, phone, room string) {
	w.TB.Helper()
	w.Cmd(p, "start", "")
	w.Text(p, p.Name)
	w.Contact(p, phone, true)
	w.Text(p, "3栋")
	w.Text(p, "2单元")
	w.Text(p, room)
	w.Drain()
}

// closeJob takes a reported ticket through acceptance, the visit, the
// sign-off and the score.
func closeJob(t *testing.T, w *flowstest.World, by flowstest.Person, res flowstest.Person, id string) {
	t.Helper()
	w.Expect(w.Tap(by, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(by, res, id)
	w.Expect(w.Tap(res, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(by, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(res, flows.EncodePayload("sc", id, "5"), false))
	w.Drain()
}

var neighbour = flowstest.Person{ID: 102, Name: "王先生"} // another resident of the same home

// withText is the last message to a containing s.
func withText(t *testing.T, msgs []flows.Message, a flows.Address, s string) flows.Message {
	t.Helper()
	got := flowstest.To(msgs, a)
	for i := len(got) - 1; i >= 0; i-- {
		if strings.Contains(got[i].Text, s) {
			return got[i]
		}
	}
	t.Fatalf("no message to %v containing %q in %d", a, s, len(got))
	return flows.Message{}
}

// collect returns every message drained while fn runs (helpers drain for themselves).
func collect(w *flowstest.World, fn func()) []flows.Message {
	var msgs []flows.Message
	w.OnDrain = func(ms []flows.Message) { msgs = append(msgs, ms...) }
	defer func() { w.OnDrain = nil }()
	fn()
	return append(msgs, w.Drain()...)
}

// TestRepeatAcrossResidentsOfOneUnit: a report of the same home and
// category within the window of a closed ticket is a repeat whoever of the
// home reports it: linked, marked on the card, the earlier technician and
// the leads told. Another category, another flat or a report after the
// window is not.
func TestRepeatAcrossResidentsOfOneUnit(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Register(neighbour, "13700137000") // the same 3栋 / 2单元 / 1502
	registerAt(w, other, "13900139000", "1602")
	w.Staff(tech, "technician")
	w.Staff(lead, "lead")
	first := w.Report(resident, "厨房水管漏水")
	closeJob(t, w, tech, resident, first)

	w.Now = w.Now.Add(10 * 24 * time.Hour)
	var again string
	msgs := collect(w, func() { again = w.Report(neighbour, "厨房又漏水了") })
	tk := w.Ticket(again)
	if tk.RepeatOf != first {
		t.Fatalf("repeat of %q, want %q", tk.RepeatOf, first)
	}
	if evs := w.Events(again); !containsStr(evs, "repeat:"+first) {
		t.Fatalf("no repeat event: %v", evs)
	}
	card := w.Last(msgs, flowstest.Group)
	contains(t, card.Text, "🔁 重复报修（上次 "+first+"）")
	withText(t, msgs, tech.Chat(), "又报修「水管/漏水」："+again)
	withText(t, msgs, lead.Chat(), "🔁 重复报修："+again)
	if n := count(msgs, tech.Chat(), again+"。"); n != 1 {
		t.Errorf("the earlier technician was told %d times", n)
	}

	for name, c := range map[string]struct {
		who   flowstest.Person
		after time.Duration
		cat   int // the category button's position
	}{
		"another flat":     {other, 0, 0},
		"another category": {neighbour, 0, 1},
		"after the window": {neighbour, 21 * 24 * time.Hour, 0},
	} {
		t.Run(name, func(t *testing.T) {
			w.Now = w.Now.Add(c.after)
			id := reportCategory(t, w, c.who, c.cat)
			if tk := w.Ticket(id); tk.RepeatOf != "" {
				t.Fatalf("%s is a repeat of %s", id, tk.RepeatOf)
			}
			w.Now = w.Now.Add(-c.after)
		})
	}
}

// reportCategory files a household ASAP report in the category at the
// given button position.
func reportCategory(t *testing.T, w *flowstest.World, p flowstest.Person, pos int) string {
	t.Helper()
	w.Cmd(p, "report", "")
	m := w.Last(w.Drain(), p.Chat())
	w.Tap(p, m.Buttons[pos/2][pos%2].Data, false)
	w.Text(p, "又坏了")
	first := func() string { return w.Last(w.Drain(), p.Chat()).Buttons[0][0].Data }
	w.Tap(p, first(), false) // no more photos
	w.Tap(p, first(), false) // household
	w.Tap(p, first(), false) // as soon as possible
	m = w.LastText(w.Drain(), p.Chat())
	i := strings.Index(m.Text, "BX-")
	if i < 0 {
		t.Fatalf("no ticket in %q", m.Text)
	}
	return m.Text[i : i+len("BX-20261127-0001")]
}

func offerWorld(t *testing.T) (*flowstest.World, string) {
	t.Helper()
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { o.Records.RepeatOffer = 10 * time.Minute }))
	w.Register(resident, "13800138000")
	w.Register(neighbour, "13700137000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	first := w.Report(resident, "厨房水管漏水")
	closeJob(t, w, tech, resident, first)
	w.Now = w.Now.Add(3 * 24 * time.Hour)
	return w, first
}

// TestRepeatOfferedToTheEarlierTechnician: a repeat goes first to the
// technician of the earlier ticket, privately; the group sees nothing until
// the offer lapses, then gets the card (once, across a restart); taken in
// time, the group only sees who took it; passed on, the group gets it at once.
func TestRepeatOfferedToTheEarlierTechnician(t *testing.T) {
	t.Run("lapses to the group", func(t *testing.T) {
		w, first := offerWorld(t)
		var id string
		msgs := collect(w, func() { id = w.Report(neighbour, "又漏水了") })
		if n := len(flowstest.To(msgs, flowstest.Group)); n != 0 {
			t.Fatalf("%d group messages during the offer", n)
		}
		offer := withText(t, msgs, tech.Chat(), "先派给您")
		contains(t, offer.Text, "与您 ")
		contains(t, offer.Text, first)
		contains(t, offer.Text, "先派给您 10 分钟")
		w.ButtonData(offer, "接单")
		w.Refused(w.Tap(tech2, w.ButtonData(offer, "转给维修群"), false), "已过期")
		w.Now = w.Now.Add(9 * time.Minute)
		w.Tick()
		if n := len(flowstest.To(w.Drain(), flowstest.Group)); n != 0 {
			t.Fatalf("the card went out before the offer lapsed (%d)", n)
		}
		w.Reopen()
		w.Now = w.Now.Add(2 * time.Minute)
		w.Tick()
		msgs = w.Drain()
		card := w.Last(msgs, flowstest.Group)
		if card.Kind != flows.KindSend || !strings.Contains(card.Text, id) || !strings.Contains(card.Text, "🔁 重复报修") {
			t.Fatalf("group card %+v", card)
		}
		w.ButtonData(card, "接单")
		contains(t, w.Last(msgs, tech.Chat()).Text, "已发到维修群")
		if evs := w.Events(id); !containsStr(evs, "offer_lapsed:"+tech.PID()) {
			t.Fatalf("events %v", evs)
		}
		w.Now = w.Now.Add(time.Hour)
		w.Tick()
		if n := len(flowstest.To(w.Drain(), flowstest.Group)); n > 1 { // at most the SLA edit
			t.Fatalf("%d more group messages", n)
		}
		w.Expect(w.Tap(tech2, flows.EncodePayload("acc", id), true))
	})
	t.Run("taken in time", func(t *testing.T) {
		w, _ := offerWorld(t)
		var id string
		offer := withText(t, collect(w, func() { id = w.Report(neighbour, "又漏水了") }), tech.Chat(), "先派给您")
		w.Now = w.Now.Add(5 * time.Minute)
		w.Expect(w.Tap(tech, w.ButtonData(offer, "接单"), false))
		msgs := w.Drain()
		contains(t, w.Last(msgs, flowstest.Group).Text, "张师傅 已接单")
		w.Now = w.Now.Add(10 * time.Minute)
		w.Tick()
		for _, m := range flowstest.To(w.Drain(), flowstest.Group) {
			if m.Kind == flows.KindSend {
				t.Fatalf("a new card after the repeat was taken: %q", m.Text)
			}
		}
		if tk := w.Ticket(id); tk.AssigneeID != tech.PID() || tk.OfferedTo != "" {
			t.Fatalf("ticket %+v", tk)
		}
	})
	t.Run("passed to the group", func(t *testing.T) {
		w, _ := offerWorld(t)
		var id string
		offer := withText(t, collect(w, func() { id = w.Report(neighbour, "又漏水了") }), tech.Chat(), "先派给您")
		w.Expect(w.Tap(tech, w.ButtonData(offer, "转给维修群"), false))
		card := w.Last(w.Drain(), flowstest.Group)
		if card.Kind != flows.KindSend || !strings.Contains(card.Text, id) {
			t.Fatalf("group card %+v", card)
		}
		w.Refused(w.Tap(tech, w.ButtonData(offer, "转给维修群"), false), "已过期")
	})
}

// reportPublicAt files a public report naming the asset and returns the
// last message (the ticket's acknowledgement or the duplicate question).
func reportPublicAt(t *testing.T, w *flowstest.World, p flowstest.Person, asset string) flows.Message {
	t.Helper()
	first := func() string { return w.Last(w.Drain(), p.Chat()).Buttons[0][0].Data }
	w.Cmd(p, "report", "")
	w.Tap(p, first(), false) // the first category
	w.Text(p, "电梯门关不上")
	w.Tap(p, first(), false) // no more photos
	w.Tap(p, w.Last(w.Drain(), p.Chat()).Buttons[1][0].Data, false)
	w.Text(p, asset)
	m := w.Last(w.Drain(), p.Chat())
	if strings.Contains(m.Text, "已有人报修") {
		return m
	}
	w.Tap(p, m.Buttons[0][0].Data, false) // as soon as possible
	return w.LastText(w.Drain(), p.Chat())
}

// TestDuplicatePublicReportFollows: a second report of the same public
// asset and category while the first is open asks whether to follow it;
// following adds no ticket and the follower hears of its progress; "report
// anyway" files a new one; an asset spelled another way still matches.
func TestDuplicatePublicReportFollows(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	registerAt(w, other, "13900139000", "1602")
	w.Staff(tech, "technician")
	ack := reportPublicAt(t, w, resident, "3栋 电梯 2号")
	id := ticketIn(t, ack.Text)
	if tk := w.Ticket(id); tk.Place != "3栋 电梯 2号" || tk.Kind != flows.OrderPublic {
		t.Fatalf("ticket %+v", tk)
	}
	q := reportPublicAt(t, w, other, "3栋电梯2号")
	contains(t, q.Text, "这个问题已有人报修："+id)
	w.Expect(w.Tap(other, w.ButtonData(q, "关注该工单"), false))
	contains(t, w.Last(w.Drain(), other.Chat()).Text, "已关注工单 "+id)
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		_, err := tx.Ticket(strings.Replace(id, "-0001", "-0002", 1))
		return err
	})
	if !errors.Is(err, flows.ErrNotFound) {
		t.Fatalf("a second ticket exists: %v", err)
	}
	if tk := w.Ticket(id); len(tk.Followers) != 1 || tk.Followers[0] != other.PID() {
		t.Fatalf("followers %v", tk.Followers)
	}
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	contains(t, w.Last(w.Drain(), other.Chat()).Text, "您关注的工单 "+id+"（3栋 电梯 2号）：已接单")
	// Following twice adds nothing; reporting anyway files a new ticket.
	q = reportPublicAt(t, w, other, "3栋 电梯 2号")
	w.Expect(w.Tap(other, w.ButtonData(q, "仍要报修"), false))
	m := w.Last(w.Drain(), other.Chat())
	w.Tap(other, m.Buttons[0][0].Data, false)
	second := ticketIn(t, w.LastText(w.Drain(), other.Chat()).Text)
	if second == id {
		t.Fatal("report anyway did not file a ticket")
	}
	// Another category at the same asset is no duplicate.
	w.Cmd(resident, "report", "")
	w.Tap(resident, w.Last(w.Drain(), resident.Chat()).Buttons[0][1].Data, false)
	w.Text(resident, "电梯里灯不亮")
	w.Tap(resident, w.Last(w.Drain(), resident.Chat()).Buttons[0][0].Data, false)
	w.Tap(resident, w.Last(w.Drain(), resident.Chat()).Buttons[1][0].Data, false)
	w.Text(resident, "3栋 电梯 2号")
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "什么时候")
}

// TestFollowAfterTheTicketClosed: the first ticket closed between the
// question and the answer: the report goes on as a new ticket.
func TestFollowAfterTheTicketClosed(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	registerAt(w, other, "13900139000", "1602")
	id := ticketIn(t, reportPublicAt(t, w, resident, "3栋 电梯 2号").Text)
	q := reportPublicAt(t, w, other, "3栋 电梯 2号")
	err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		tk.State = flows.StateCancelled
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Expect(w.Tap(other, w.ButtonData(q, "关注该工单"), false))
	msgs := w.Drain()
	withText(t, msgs, other.Chat(), "工单 "+id+" 刚刚已经结束")
	m := w.Last(msgs, other.Chat())
	w.Tap(other, w.ButtonData(m, "尽快"), false)
	if second := ticketIn(t, w.LastText(w.Drain(), other.Chat()).Text); second == id {
		t.Fatal("no new ticket")
	}
	if tk := w.Ticket(id); len(tk.Followers) != 0 {
		t.Fatalf("followers of a closed ticket: %v", tk.Followers)
	}
}
