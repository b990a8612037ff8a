package flows

import (
	"strconv"
	"strings"
	"time"
)

// quoteTotal is the agreed (or last) quote's total.
func (v *Visit) quoteTotal() int64 {
	if v == nil {
		return 0
	}
	return v.Quote.Total()
}

// workOrder renders the 维修工作单 derived from the ticket and its audit
// trail: household/paid (有偿服务维修单) or public facility
// (公共设施设备维修单), with the form names of the configured profile.
func (c *call) workOrder(t *Ticket, l Lang) (string, error) {
	events, err := c.tx.TicketEvents(t.ID)
	if err != nil {
		return "", err
	}
	res, err := c.person(t.ResidentID)
	if err != nil {
		return "", err
	}
	resName := ""
	if res != nil {
		resName = res.Name
	}
	var b strings.Builder
	line := func(key string, kv ...any) {
		b.WriteString(c.tl(l, key, kv...))
		b.WriteString("\n")
	}
	line("order.title", "form", c.tl(l, "order.form."+string(t.Kind)+"."+c.e.o.Profile), "ticket", t.ID)
	line("order.who", "category", c.categoryLabel(t.Category, l), "address", c.fullAddress(t), "resident", resName, "tech", t.Assignee)
	line("order.times", "reported", c.localTime(t.Created), "arrived", c.optTime(t.Arrived, l), "finished", c.optTime(t.Finished, l))
	line("order.desc", "desc", summary(t.Description, 200))
	v := t.Visit
	if v == nil {
		v = &Visit{}
	}
	if v.Entry != "" {
		line("order.entry", "how", c.tl(l, "order.entry_"+v.Entry))
	}
	if v.Plan != "" {
		line("order.plan", "plan", v.Plan)
	}
	if f := faultText(c.e.SOP(), t, l); f != "" && t.Fault.Complete() {
		line("order.fault", "fault", f)
	}
	if t.Kind == OrderHousehold && v.Quote != nil {
		status := c.tl(l, "order.quote_"+v.Quote.Status)
		line("order.quote", "status", status)
		b.WriteString(c.quoteText(t, l))
		b.WriteString("\n")
	}
	if parts := c.jobPartsText(t, l); parts != "" {
		line("order.parts.used", "list", parts)
	}
	var photos []string
	for _, st := range c.e.SOP().Steps {
		if n := len(v.Photos[st.ID]); n > 0 {
			photos = append(photos, c.tl(l, "order.photos_step", "step", st.Title[l], "n", n))
		}
		if r := v.Skipped[st.ID]; r != "" {
			photos = append(photos, c.tl(l, "order.photos_skipped", "step", st.Title[l], "reason", r))
		}
	}
	if len(photos) > 0 {
		line("order.photos", "list", strings.Join(photos, c.tl(l, "order.sep")))
	}
	if passes := lastPasses(events); len(passes) > 0 {
		var ts []string
		for _, at := range passes {
			ts = append(ts, c.clock(at))
		}
		line("order.tests", "n", len(passes), "times", strings.Join(ts, ", "))
	}
	if note := c.careText(&Ticket{Visit: v}, l); note != "" {
		line("order.care", "note", note)
	}
	if t.Reworks > 0 {
		line("order.reworks", "n", t.Reworks)
	}
	if t.FeeQuery {
		if q, err := c.tx.FeeQuestion(t.ID); err == nil && q.Closed != nil {
			line("order.fee_closed")
		} else {
			line("order.fee_query")
		}
	}
	if t.Signoff != "" {
		line("order.signoff", "how", c.tl(l, "signoff."+t.Signoff))
	}
	if t.Closure != "" {
		line("order.closure", "how", c.tl(l, "closure."+t.Closure))
	}
	if t.Score > 0 {
		line("order.score", "score", t.Score)
	}
	if t.SOPVersion != "" {
		line("order.sop", "version", t.SOPVersion)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// retestAfter are the audit-trail actions after which the tests start again.
var retestAfter = map[string]bool{"test_fail": true, string(ActNotFixed): true, "change": true}

// lastPasses are the times of the passed tests of the latest round (after
// the last failure or rework), from the audit trail.
func lastPasses(events []TicketEvent) []time.Time {
	var out []time.Time
	for _, e := range events {
		if e.Action == "test_pass" {
			out = append(out, e.At)
		} else if retestAfter[e.Action] {
			out = nil
		}
	}
	return out
}

func (c *call) optTime(t *time.Time, l Lang) string {
	if t == nil {
		return "—"
	}
	return c.clock(*t)
}

// cmdOrder shows a ticket's work order to its resident, its assignee and the office.
func (c *call) cmdOrder(arg string) error {
	id := strings.ToUpper(strings.TrimSpace(arg))
	if id == "" {
		return Errorf(CodeInvalid, "order.usage")
	}
	t, err := c.mustTicket(id)
	if err != nil {
		return err
	}
	if err := c.mayReadOrder(t); err != nil {
		return err
	}
	text, err := c.workOrder(t, c.lang)
	if err != nil {
		return err
	}
	c.reply(text + "\n" + c.t("order.state", "state", c.stateLabel(t.State, c.lang), "rev", strconv.Itoa(t.Rev)))
	c.workOrderFile(c.replyTo(), c.lang, t)
	return nil
}

// mayReadOrder: the office reads every work order (customer service
// reconciles them with the repair log and answers fee questions); others
// only their own.
func (c *call) mayReadOrder(t *Ticket) error {
	// The office reads every work order (customer service reconciles them
	// with the repair log and answers fee questions); others only their own.
	// Someone else's ticket is answered as one that does not exist, so the
	// answer does not tell a resident which numbers are taken.
	return MayReadOrder(c.me, t)
}
