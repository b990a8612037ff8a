package flows

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// CallbacksTx holds customer service's phone-callback list: residents who
// did not answer a callback visit in chat.
type CallbacksTx interface {
	// AddPhoneCallback puts a ticket on the list (again: replaces).
	AddPhoneCallback(c PhoneCallback) error
	// RemovePhoneCallback takes a ticket off the list; a missing one is not an error.
	RemovePhoneCallback(ticketID string) error
	// PhoneCallbacks lists the list, oldest Since first.
	PhoneCallbacks() ([]PhoneCallback, error)
}

// PhoneCallback is one line of the phone-callback list.
type PhoneCallback struct {
	TicketID string    `json:"ticket_id"`
	Since    time.Time `json:"since"`
}

// Callback is a ticket's callback visit (回访): N days after closing the
// resident is asked whether the fix held and how satisfied they are.
type Callback struct {
	// Due is when the resident is (or was) asked.
	Due time.Time `json:"due"`
	// Status is scheduled, asked, phone (on customer service's list),
	// held or not_held.
	Status   string     `json:"status"`
	Asked    *time.Time `json:"asked,omitempty"`
	Answered *time.Time `json:"answered,omitempty"`
	// Score is the satisfaction at the callback, 1-5 (0 not given).
	Score int `json:"score,omitempty"`
	// Via is chat (the resident's buttons) or phone (the clerk's record); By who recorded it.
	Via string `json:"via,omitempty"`
	By  string `json:"by,omitempty"`
}

// ---- callback visits (回访) ----

// Callback states, stored on tickets.
const (
	cbScheduled   = "scheduled"
	cbAsked       = "asked"
	cbPhone       = "phone" // on customer service's phone-callback list
	cbHeld        = "held"
	cbNotHeld     = "not_held"
	cbUnreachable = "unreachable"
)

// Callback answers in button payloads (cb|<ticket>|<answer>, cbc|...).
const (
	cbAnswerHeld    = "h"
	cbAnswerNotHeld = "n"
	cbAnswerNoReach = "x"
	cbAnswerScore   = "s" // s1..s5
)

// afterClose runs when a ticket closes (the resident's score): the QC
// sample, then the callback visit. A ticket closed again after a rework
// goes through it again.
func (c *call) afterClose(t *Ticket) error {
	if err := c.sampleQC(t); err != nil {
		return err
	}
	return c.scheduleCallback(t)
}

// callbackAfter is when after closing t's resident is called back (0: never).
func (c *call) callbackAfter(t *Ticket) time.Duration {
	o := c.e.o.Records
	if t.Kind == OrderPublic && !o.CallbackPublic {
		return 0
	}
	if d, ok := o.CallbackByCategory[t.Category]; ok {
		return d
	}
	return o.CallbackAfter
}

func (c *call) scheduleCallback(t *Ticket) error {
	after := c.callbackAfter(t)
	if after <= 0 || t.ResidentID == "" {
		return nil
	}
	t.Callback = &Callback{Due: c.now.Add(after), Status: cbScheduled}
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	return c.tx.PutTimer(Timer{Key: tmCallback + ":" + t.ID, Due: t.Callback.Due.UTC(), Kind: tmCallback, Ticket: t.ID})
}

// callbackAsk asks the resident whether the fix held.
func (c *call) callbackAsk(t *Ticket) error {
	if t.State != StateClosed || t.Callback == nil || t.Callback.Status != cbScheduled {
		return nil // reopened, or already answered
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	now := c.now
	t.Callback.Status, t.Callback.Asked = cbAsked, &now
	if err := c.record(t, "callback_asked", ""); err != nil {
		return err
	}
	if res != nil {
		l := res.Lang
		finished := t.Created
		if t.Closed != nil {
			finished = *t.Closed
		}
		c.send(Message{To: res.Chat, Priority: PrioReminder, Ticket: t.ID,
			Text: c.tl(l, "callback.ask", "ticket", t.ID, "category", c.categoryLabel(t.Category, l), "date", c.localTime(finished), "name", t.Assignee),
			Buttons: [][]Button{{TicketButton(c.tl(l, "btn.callback_held"), ActCallback, t.ID, cbAnswerHeld)},
				{TicketButton(c.tl(l, "btn.callback_not_held"), ActCallback, t.ID, cbAnswerNotHeld)}}})
	}
	within := c.e.o.Records.CallbackAnswerWithin
	if within <= 0 {
		within = 48 * time.Hour
	}
	return c.tx.PutTimer(Timer{Key: tmCallbackDue + ":" + t.ID, Due: c.now.Add(within).UTC(), Kind: tmCallbackDue, Ticket: t.ID})
}

// callbackUnanswered puts a callback nobody answered on customer
// service's phone-callback list.
func (c *call) callbackUnanswered(t *Ticket) error {
	if t.State != StateClosed || t.Callback == nil || t.Callback.Status != cbAsked {
		return nil
	}
	t.Callback.Status = cbPhone
	if err := c.record(t, "callback_no_answer", ""); err != nil {
		return err
	}
	if err := c.tx.AddPhoneCallback(PhoneCallback{TicketID: t.ID, Since: c.now}); err != nil {
		return err
	}
	clerks, err := c.tx.PeopleByRole(RoleDispatcher)
	if err != nil {
		return err
	}
	if len(clerks) == 0 {
		if clerks, err = c.leads(); err != nil {
			return err
		}
	}
	for _, p := range clerks {
		c.tell(p, "callback.to_clerk", []any{"ticket", t.ID, "address", c.fullAddress(t)},
			[]Button{CommandButton(c.tl(p.Lang, "btn.callbacks"), "callbacks")})
	}
	return nil
}

// callbackAnswer is the resident's own answer: held (then how satisfied),
// or not held (rework by the same technician).
func (c *call) callbackAnswer(t *Ticket, args []string) error {
	return c.callbackRecord(t, args, false)
}

// callbackPhone is customer service's record of a phone callback: held,
// not held, unreachable, and the satisfaction the resident gave.
func (c *call) callbackPhone(t *Ticket, args []string) error {
	return c.callbackRecord(t, args, true)
}

func (c *call) callbackRecord(t *Ticket, args []string, phone bool) error {
	if len(args) != 1 || t.Callback == nil {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	cb := t.Callback
	a := args[0]
	if n, ok := strings.CutPrefix(a, cbAnswerScore); ok && a != cbAnswerScore {
		score, err := strconv.Atoi(n)
		if err != nil || score < 1 || score > 5 {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		if cb.Status != cbHeld || cb.Score != 0 || (cb.Via == "phone") != phone {
			return Errorf(CodeConflict, "callback.answered", "ticket", t.ID)
		}
		cb.Score = score
		if err := c.record(t, "callback_score", strconv.Itoa(score)); err != nil {
			return err
		}
		c.toast = c.t("ok")
		c.reply(c.t("callback.score_saved", "ticket", t.ID, "n", score))
		return nil
	}
	open := cb.Status == cbAsked || cb.Status == cbPhone
	if phone {
		open = cb.Status == cbPhone
	}
	if !open {
		return Errorf(CodeConflict, "callback.answered", "ticket", t.ID)
	}
	now := c.now
	via := "chat"
	if phone {
		via = "phone"
	}
	cb.Answered, cb.Via, cb.By = &now, via, c.me.ID
	if err := c.tx.DeleteTimer(tmCallbackDue + ":" + t.ID); err != nil {
		return err
	}
	if err := c.tx.RemovePhoneCallback(t.ID); err != nil {
		return err
	}
	c.toast = c.t("ok")
	switch a {
	case cbAnswerHeld:
		cb.Status = cbHeld
		if err := c.record(t, ActionCallbackHeld, via); err != nil {
			return err
		}
		var stars []Button
		for i := 1; i <= 5; i++ {
			act := ActCallback
			if phone {
				act = ActCallbackPhone
			}
			stars = append(stars, TicketButton(strconv.Itoa(i)+"⭐", act, t.ID, cbAnswerScore+strconv.Itoa(i)))
		}
		key := "callback.held_ask_score"
		if phone {
			key = "callback.phone_held_ask_score"
		}
		c.reply(c.t(key, "ticket", t.ID), stars)
		return nil
	case cbAnswerNotHeld:
		cb.Status = cbNotHeld
		return c.callbackRework(t, via)
	case cbAnswerNoReach:
		if !phone {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		cb.Status = cbUnreachable
		if err := c.record(t, "callback_unreachable", ""); err != nil {
			return err
		}
		c.reply(c.t("callback.unreachable_saved", "ticket", t.ID))
		return nil
	}
	return Errorf(CodeInvalid, "err.bad_button")
}

// callbackRework reopens a ticket whose fix did not hold as rework for the
// technician who did it (the group gets it when they are no longer on the
// team); the rework counts in the KPIs (callback_not_held).
func (c *call) callbackRework(t *Ticket, via string) error {
	from := t.State
	t.Reworks++
	t.State, t.Closed, t.Finished, t.Step, t.Score = StateAccepted, nil, nil, "", 0
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	if tech == nil || !tech.Registered || !tech.Role.IsStaff() {
		t.State, t.AssigneeID, t.Assignee, t.Accepted = StateNew, "", "", nil
	}
	t.Rev++
	t.Updated = c.now
	if err := c.tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.event(t, ActionCallbackNotHeld, from, t.State, via); err != nil {
		return err
	}
	c.groupCard(t, t.State == StateNew)
	if c.me.ID == t.ResidentID {
		c.reply(c.t("callback.rework_resident", "ticket", t.ID, "name", t.Assignee))
	} else {
		c.reply(c.t("callback.rework_saved", "ticket", t.ID, "name", t.Assignee))
		if res, err := c.resident(t); err == nil && res != nil {
			c.tell(res, "callback.rework_resident", []any{"ticket", t.ID, "name", t.Assignee})
		}
	}
	if err := c.toLeads("callback.rework_to_leads", "ticket", t.ID, "name", t.Assignee, "n", t.Reworks); err != nil {
		return err
	}
	if t.State == StateNew {
		if c.areaSLA(t).AcceptWithin > 0 {
			return c.schedule(tmAccept, t.ID, 0, c.now.Add(c.areaSLA(t).AcceptWithin))
		}
		return nil
	}
	if err := c.scheduleVisit(t); err != nil {
		return err
	}
	return c.sendJob(tech, t, "callback.rework_job")
}

// cmdCallbacks is customer service's phone-callback list, with the
// buttons to record each call's result.
func (c *call) cmdCallbacks() error {
	list, err := c.tx.PhoneCallbacks()
	if err != nil {
		return err
	}
	// A lead's or a clerk's list is their areas' (areas_scope.go).
	if list, err = scopedBy(c, list, func(pc PhoneCallback) string { return pc.TicketID }); err != nil {
		return err
	}
	if len(list) == 0 {
		c.reply(c.t("callback.list_none"))
		return nil
	}
	c.reply(c.t("callback.list_head", "n", len(list)))
	for i, pc := range list {
		if i == 20 {
			c.reply(c.t("callback.list_more", "n", len(list)-20))
			break
		}
		t, err := c.tx.Ticket(pc.TicketID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		res, err := c.resident(t)
		if err != nil {
			return err
		}
		name, phone := "", ""
		if res != nil {
			name, phone = res.Name, res.Phone
		}
		c.reply(c.t("callback.list_line", "ticket", t.ID, "name", name, "phone", phone, "address", c.fullAddress(t),
			"category", c.categoryLabel(t.Category, c.lang), "tech", t.Assignee, "since", c.localTime(pc.Since)),
			[]Button{TicketButton(c.t("btn.callback_held"), ActCallbackPhone, t.ID, cbAnswerHeld),
				TicketButton(c.t("btn.callback_not_held"), ActCallbackPhone, t.ID, cbAnswerNotHeld)},
			[]Button{TicketButton(c.t("btn.callback_unreachable"), ActCallbackPhone, t.ID, cbAnswerNoReach)})
	}
	return nil
}
