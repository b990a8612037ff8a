package flows

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Requisition from inside the job: on the quote and repair steps the
// technician taps "use part" on the step card, finds the item (by code, by
// name, or among the parts most used for the ticket's category), enters a
// quantity, and the stock is taken in the same transaction as the quote
// line. A billable part goes on a household job's quote at its sale price;
// added at the repair step it changes an agreed price, so the resident is
// asked again, as for any change (SOP 4.1.4). A requisition worth more
// than PartsOptions.ApprovalOver waits for a lead's approval. A refused
// quote and an abandoned visit give the job's parts back; unused parts
// are returned after the job (/stock return).

// PartAsk is a requisition over the approval limit, waiting for a lead or
// decided. Status: waiting, approved, refused, expired (the job moved on
// before a lead approved).
type PartAsk struct {
	N         int       `json:"n"`
	Part      string    `json:"part"`
	Store     string    `json:"store"`
	Qty       int64     `json:"qty"`
	Value     int64     `json:"value"`
	Step      string    `json:"step"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Status    string    `json:"status"`
	DecidedBy string    `json:"decided_by,omitempty"`
}

// partsStepOK reports whether the job is where parts are taken: on site,
// at the repair step, or at the quote step while the quote is a draft.
func (c *call) partsStepOK(t *Ticket) (Step, bool) {
	st, _ := c.current(t)
	if t.State != StateOnSite || t.Visit == nil {
		return st, false
	}
	switch st.Kind {
	case StepWork:
		return st, true
	case StepQuote:
		q := t.Visit.Quote
		return st, q == nil || q.Status == "draft"
	}
	return st, false
}

// partsRows writes the parts the job holds on its step card and, where
// parts are taken, the "use part" button.
func (c *call) partsRows(t *Ticket, st Step, l Lang, b *strings.Builder) [][]Button {
	if st.Kind != StepQuote && st.Kind != StepWork {
		return nil
	}
	if s := c.jobPartsText(t, l); s != "" {
		b.WriteString("\n" + c.tl(l, "step.parts.held", "list", s))
	}
	if _, ok := c.partsStepOK(t); !ok {
		return nil
	}
	return [][]Button{{TicketButton(c.tl(l, "btn.parts.use"), ActUsePart, t.ID, st.ID)}}
}

// jobPartsText lists the parts a job holds ("" for none).
func (c *call) jobPartsText(t *Ticket, l Lang) string {
	parts, err := JobParts(c.tx, t.ID)
	if err != nil || len(parts) == 0 {
		return ""
	}
	var out []string
	for _, jp := range parts {
		out = append(out, c.tl(l, "parts.job_line", "part", jp.Part.Code, "name", jp.Part.Name, "qty", jp.Qty, "unit", jp.Part.Unit))
	}
	return strings.Join(out, c.tl(l, "order.sep"))
}

// usePart is the step card's "use part": pu|<ticket>|<step>.
func (c *call) usePart(t *Ticket, args []string) error {
	if len(args) != 1 || args[0] != t.Step {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	if _, ok := c.partsStepOK(t); !ok {
		return Errorf(CodeConflict, "err.stale_step", "ticket", t.ID)
	}
	var codes []string
	if a, ok := c.ahead.(*mostUsedAhead); ok && a.category == t.Category {
		codes = a.codes
	} else {
		var err error
		if codes, err = c.mostUsed(t.Category); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	return c.partsStart(dlgUsePart, &PartsDraft{JobStep: t.Step, Picks: codes}, t.ID)
}

// usePartDone posts the requisition the dialogue gathered.
func (c *call) usePartDone(d *Dialogue) error {
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if err := Authorize(ActUsePart, c.me, t); err != nil {
		return err
	}
	if t.Step != d.Parts.JobStep {
		c.reply(c.t("parts.job_moved", "ticket", t.ID))
		return nil
	}
	return c.requisition(t, c.me, d.Parts.Part, d.Parts.Store, d.Parts.Qty, nil)
}

// requisition takes parts for the job (flows.Issue) and puts a billable
// one on the quote in the same transaction; over the limit without an
// approver it asks the leads instead.
func (c *call) requisition(t *Ticket, tech *Person, code, store string, qty int64, approver *Person) error {
	st, ok := c.partsStepOK(t)
	if !ok {
		if approver == nil {
			c.reply(c.t("parts.job_moved", "ticket", t.ID))
			return nil
		}
		return Errorf(CodeConflict, "parts.ask_stale", "ticket", t.ID)
	}
	part, err := livePart(c.tx, code)
	if err != nil {
		return err
	}
	v := t.Visit
	billable := part.Billable && t.Kind == OrderHousehold && c.e.SOP().indexKind(StepQuote) >= 0
	if billable && v.Quote != nil && len(v.Quote.Lines) >= 20 {
		return Errorf(CodeInvalid, "err.quote_full")
	}
	res, err := Issue(c.tx, Posting{By: tech, At: c.now, Key: c.ev.Key}, PartsPolicy{ApprovalOver: c.e.o.Parts.ApprovalOver},
		IssueInput{Part: part.Code, Store: store, Ticket: t.ID, Qty: qty, ApprovedBy: approver})
	var fe *Error
	if errors.As(err, &fe) && fe.Key == "parts.needs_approval" && approver == nil {
		return c.askApproval(t, part, store, qty)
	}
	if err != nil {
		return err
	}
	if res.Replayed {
		c.toast = c.t("ok")
		return nil
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	value := res.Moves[0].Value
	key := "parts.used"
	if billable {
		if v.Quote == nil {
			v.Quote = &Quote{Status: "draft"}
		}
		q := v.Quote
		q.Lines = append(q.Lines, QuoteLine{Part: part.Code, Name: part.Name, Unit: part.Unit, Qty: int(qty), Cents: part.SalePrice})
		key = "parts.used_quoted"
		if st.Kind == StepWork {
			// A part added after the resident agreed changes the price:
			// their consent again, as for any change (SOP 4.1.4).
			v.ReturnTo, v.QuoteOK, q.Status = st.ID, false, "draft"
			if err := c.record(t, "change", "part "+part.Code); err != nil {
				return err
			}
			if err := c.enter(t, c.e.SOP().indexKind(StepQuote)); err != nil {
				return err
			}
			key = "parts.used_reconsent"
		}
	}
	c.tell(tech, key, []any{"ticket", t.ID, "part", part.Code, "name", part.Name, "qty", qty, "unit", part.Unit,
		"store", c.storeName(store), "cost", Money(value), "price", Money(part.SalePrice * qty)})
	return c.show(t)
}

// askApproval records a requisition over the limit on the visit and asks
// the leads to approve it.
func (c *call) askApproval(t *Ticket, part *Part, store string, qty int64) error {
	l, err := c.tx.StockLevel(part.Code, store)
	if err != nil {
		return err
	}
	v := t.Visit
	ask := PartAsk{N: len(v.PartAsks) + 1, Part: part.Code, Store: store, Qty: qty, Value: l.shareOf(qty), Step: t.Step,
		By: c.me.ID, At: c.now, Status: "waiting"}
	v.PartAsks = append(v.PartAsks, ask)
	if err := c.record(t, "part_ask", fmt.Sprintf("%s ×%d %s", part.Code, qty, Money(ask.Value))); err != nil {
		return err
	}
	leads, err := c.ticketLeads(t)
	if err != nil {
		return err
	}
	n := strconv.Itoa(ask.N)
	for _, p := range leads {
		if p.Chat.IsZero() {
			continue
		}
		c.send(Message{To: p.Chat, Priority: PrioUrgent, Ticket: t.ID,
			Text: c.tl(p.Lang, "parts.ask_lead", "who", c.me.Name, "ticket", t.ID, "part", part.Code, "name", part.Name, "qty", qty,
				"unit", part.Unit, "store", c.storeName(store), "value", Money(ask.Value), "limit", Money(c.e.o.Parts.ApprovalOver)),
			Buttons: [][]Button{{TicketButton(c.tl(p.Lang, "btn.parts.approve"), ActPartOK, t.ID, n), TicketButton(c.tl(p.Lang, "btn.parts.refuse"), ActPartNo, t.ID, n)}}})
	}
	c.reply(c.t("parts.ask_sent", "part", part.Code, "qty", qty, "unit", part.Unit, "value", Money(ask.Value), "limit", Money(c.e.o.Parts.ApprovalOver)))
	return nil
}

// partDecide is a lead's answer to a requisition over the limit:
// pua|<ticket>|<n> approves, pur|<ticket>|<n> refuses.
func (c *call) partDecide(t *Ticket, args []string, approve bool) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	i, ok := pick(args[0], len(t.Visit.PartAsks))
	if !ok {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	ask := &t.Visit.PartAsks[i]
	if ask.Status != "waiting" {
		return Errorf(CodeConflict, "parts.ask_decided", "ticket", t.ID, "status", c.t("parts.ask_status."+ask.Status))
	}
	tech, err := c.person(ask.By)
	if err != nil {
		return err
	}
	ask.DecidedBy = c.me.ID
	c.toast = c.t("ok")
	if !approve || tech == nil {
		ask.Status = "refused"
		if err := c.record(t, "part_refused", ask.Part); err != nil {
			return err
		}
		c.reply(c.t("parts.ask_refused_lead", "ticket", t.ID, "part", ask.Part))
		c.tell(tech, "parts.ask_refused", []any{"ticket", t.ID, "part", ask.Part, "qty", ask.Qty, "by", c.me.Name})
		return nil
	}
	if _, ok := c.partsStepOK(t); !ok || t.AssigneeID != ask.By || t.Step != ask.Step {
		ask.Status = "expired"
		if err := c.record(t, "part_expired", ask.Part); err != nil {
			return err
		}
		c.reply(c.t("parts.ask_expired", "ticket", t.ID, "part", ask.Part))
		c.tell(tech, "parts.ask_expired", []any{"ticket", t.ID, "part", ask.Part})
		return nil
	}
	ask.Status = "approved"
	c.reply(c.t("parts.ask_approved_lead", "ticket", t.ID, "part", ask.Part, "qty", ask.Qty))
	return c.requisition(t, tech, ask.Part, ask.Store, ask.Qty, c.me)
}

// returnJobParts gives back everything the job holds (a refused quote, an
// abandoned visit) and tells its technician.
func (c *call) returnJobParts(t *Ticket, reason string) error {
	res, err := ReturnJobParts(c.tx, c.posting("return"), t.ID, reason)
	if err != nil || len(res.Moves) == 0 || res.Replayed {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil || tech == nil {
		return err
	}
	c.tell(tech, "parts.returned_auto", []any{"ticket", t.ID, "list", c.movesText(res.Moves, tech.Lang)})
	return nil
}

// movesText lists moves back into stores: "P-TAP ×1 个 → 总仓".
func (c *call) movesText(ms []StockMove, l Lang) string {
	var out []string
	for _, m := range ms {
		unit := ""
		if p, err := c.tx.Part(m.Part); err == nil {
			unit = p.Unit
		}
		out = append(out, c.tl(l, "parts.move_back", "part", m.Part, "qty", m.Qty, "unit", unit, "store", c.storeName(m.To)))
	}
	return strings.Join(out, c.tl(l, "order.sep"))
}

// quotedQty is how much of a part the job's live quote (not refused)
// charges the resident.
func quotedQty(t *Ticket, code string) int64 {
	if t.Visit == nil || t.Visit.Quote == nil || t.Visit.Quote.Status == "refused" {
		return 0
	}
	var n int64
	for _, l := range t.Visit.Quote.Lines {
		if l.Part == code {
			n += int64(l.Qty)
		}
	}
	return n
}

// returnable is how much of a part the job may give back: what it holds
// beyond what the resident's quote charges (a charged part leaves the
// quote by its undo, or with a refused quote).
func (c *call) returnable(ticketID string, p *Part) (int64, error) {
	l, err := c.tx.StockLevel(p.Code, JobLocation(ticketID))
	if err != nil {
		return 0, err
	}
	t, err := c.mustTicket(ticketID)
	if err != nil {
		return 0, err
	}
	return max(0, l.Qty-quotedQty(t, p.Code)), nil
}

// returnFromJob puts qty of a part the job holds back in the stores it
// came from (largest first).
func (c *call) returnFromJob(t *Ticket, p *Part, qty int64, reason string) (StockResult, error) {
	var all StockResult
	moves, err := c.tx.StockMovesOfTicket(t.ID)
	if err != nil {
		return all, err
	}
	left := qty
	post := func(i int, store string, q int64) error {
		res, err := ReturnToStock(c.tx, c.posting("ret"+strconv.Itoa(i)), ReturnInput{Part: p.Code, Store: store, Ticket: t.ID, Qty: q, Reason: reason})
		all.Moves = append(all.Moves, res.Moves...)
		all.Levels = append(all.Levels, res.Levels...)
		all.Alerts = append(all.Alerts, res.Alerts...)
		all.Recovered = append(all.Recovered, res.Recovered...)
		left -= q
		return err
	}
	for i, src := range jobSources(moves)[p.Code] {
		if left == 0 {
			break
		}
		if !p.KeptIn(src.store) {
			continue
		}
		if err := post(i, src.store, min(src.qty, left)); err != nil {
			return all, err
		}
	}
	if left > 0 {
		if err := post(len(moves), p.Stores[0], left); err != nil {
			return all, err
		}
	}
	return all, nil
}

// undoPartLine gives back the part of a quote line the technician removed.
func (c *call) undoPartLine(t *Ticket, ln QuoteLine) error {
	p, err := partByCode(c.tx, ln.Part)
	if err != nil {
		return err
	}
	res, err := c.returnFromJob(t, p, int64(ln.Qty), "quote line removed")
	if err != nil {
		return err
	}
	return c.partsPosted(res)
}

// withoutParts drops the part lines of a quote whose parts went back.
func withoutParts(lines []QuoteLine) []QuoteLine {
	var out []QuoteLine
	for _, l := range lines {
		if l.Part == "" {
			out = append(out, l)
		}
	}
	return out
}

// ---- the return dialogue's job ----

func (c *call) askJob(d *Dialogue) (string, [][]Button, error) {
	jobs, err := c.tx.TicketsByAssignee(c.me.ID)
	if err != nil {
		return "", nil, err
	}
	d.Parts.Picks = d.Parts.Picks[:0]
	for _, t := range jobs {
		if held, err := c.tx.StockLevels(JobLocation(t.ID)); err != nil {
			return "", nil, err
		} else if len(held) > 0 && len(d.Parts.Picks) < 8 {
			d.Parts.Picks = append(d.Parts.Picks, t.ID)
		}
	}
	return c.t("parts.ask_job"), numbered(d.Seq, d.Parts.Picks, ""), nil
}

func (c *call) typeJob(d *Dialogue, s string) (bool, error) {
	return c.setJob(d, strings.ToUpper(strings.TrimSpace(s)))
}

func (c *call) pickJob(d *Dialogue, v string) (bool, error) {
	i, ok := pick(v, len(d.Parts.Picks))
	if !ok {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	return c.setJob(d, d.Parts.Picks[i])
}

// setJob picks the job a return is from: the sender's own job (or any, for
// a lead), holding parts it may give back.
func (c *call) setJob(d *Dialogue, id string) (bool, error) {
	t, err := c.mustTicket(id)
	if err != nil {
		return false, err
	}
	if t.AssigneeID != c.me.ID && !c.me.Role.IsLead() {
		return false, Errorf(CodeForbidden, "err.not_your_job", "ticket", t.ID)
	}
	held, err := c.tx.StockLevels(JobLocation(t.ID))
	if err != nil {
		return false, err
	}
	var picks []string
	for _, h := range held {
		p, err := partByCode(c.tx, h.Part)
		if err != nil {
			return false, err
		}
		if n, err := c.returnable(t.ID, p); err != nil {
			return false, err
		} else if n > 0 {
			picks = append(picks, p.Code)
		}
	}
	if len(picks) == 0 {
		return false, Errorf(CodeConflict, "parts.job_nothing", "ticket", t.ID)
	}
	d.TicketID, d.Parts.Picks = t.ID, picks
	if len(picks) == 1 {
		d.Parts.Part, d.Parts.Picks = picks[0], nil
	}
	return true, nil
}

func (c *call) returnDone(d *Dialogue) error {
	t, err := c.mustTicket(d.TicketID)
	if err != nil {
		return err
	}
	if t.AssigneeID != c.me.ID && !c.me.Role.IsLead() {
		return Errorf(CodeForbidden, "err.not_your_job", "ticket", t.ID)
	}
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return err
	}
	n, err := c.returnable(t.ID, p)
	if err != nil {
		return err
	}
	if d.Parts.Qty > n {
		return Errorf(CodeConflict, "parts.return_over", "part", p.Code, "ticket", t.ID, "n", n, "unit", p.Unit)
	}
	res, err := c.returnFromJob(t, p, d.Parts.Qty, "unused")
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	c.reply(c.t("parts.returned", "ticket", t.ID, "list", c.movesText(res.Moves, c.lang)))
	return nil
}

// ---- the parts most used for a category ----

// mostUsedAhead is mostUsed read before the write transaction.
type mostUsedAhead struct {
	category string
	codes    []string
}

// mostUsed lists the parts jobs of the category took most (issued less
// returned) over PartsOptions.MostUsedWindow, from the ledger: at most 6,
// live ones only.
func (c *call) mostUsed(category string) ([]string, error) {
	from := c.now.Add(-c.e.o.Parts.mostUsedWindow())
	cats := map[string]string{}
	net := map[string]int64{}
	err := c.tx.EachStockMoveBetween(from, time.Time{}, func(m *StockMove) error {
		id, ok := m.Ticket()
		if !ok {
			return nil
		}
		cat, seen := cats[id]
		if !seen {
			t, err := c.tx.Ticket(id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if t != nil {
				cat = t.Category
			}
			cats[id] = cat
		}
		if cat != category {
			return nil
		}
		if _, into := JobOf(m.To); into {
			net[m.Part] += m.Qty
		} else {
			net[m.Part] -= m.Qty
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var codes []string
	for code, n := range net {
		if n > 0 {
			codes = append(codes, code)
		}
	}
	sort.Slice(codes, func(i, j int) bool {
		if net[codes[i]] != net[codes[j]] {
			return net[codes[i]] > net[codes[j]]
		}
		return codes[i] < codes[j]
	})
	var out []string
	for _, code := range codes {
		if p, err := c.tx.Part(code); err == nil && !p.Retired && len(out) < 6 {
			out = append(out, code)
		}
	}
	return out, nil
}
