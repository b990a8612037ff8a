package flows_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/sop"
)

// The spare-parts area in chat: a job using parts from the step card, the
// resident's quote and consent, the work order, returns, approvals, the
// leads' catalog, purchases, scraps, stocktakes and low-stock alerts.

// partsLead is the lead of the chat tests as the rules see them.
var partsLead = &flows.Person{ID: lead.PID(), Role: flows.RoleLead, Name: lead.Name, Registered: true}

// seedParts gives a World two stores, a catalog and stock (a stocktake
// finds it, valued at the catalog's cost):
//
//	P-VALVE 角阀  billable ¥25.00, cost ¥12.00, 5 in main
//	P-TAPE  生料带 not billable, cost ¥1.00, 20 in main
//	P-TAP   水龙头 billable ¥60.00, cost ¥35.00, min 2, 3 in main, 1 in east
//	P-PUMP  水泵  billable ¥900.00, cost ¥400.00, 2 in main (over the limit for two)
func seedParts(t *testing.T, w *flowstest.World) {
	t.Helper()
	at := func() flows.Posting { return flows.Posting{By: partsLead, At: w.Now} }
	err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		for _, l := range []flows.StockLocation{{ID: "main", Name: "总仓"}, {ID: "east", Name: "东区仓"}} {
			if _, err := flows.SaveStockLocation(tx, at(), l); err != nil {
				return err
			}
		}
		probs, _, err := flows.ImportParts(tx, at(), []flows.Part{
			{Code: "P-VALVE", Name: "角阀", Spec: "DN15", Unit: "个", UnitCost: 1200, SalePrice: 2500, Billable: true, Stores: []string{"main"}},
			{Code: "P-TAPE", Name: "生料带", Unit: "卷", UnitCost: 100, Stores: []string{"main"}},
			{Code: "P-TAP", Name: "水龙头", Unit: "个", UnitCost: 3500, SalePrice: 6000, Billable: true, MinStock: 2, ReorderQty: 10, Stores: []string{"main", "east"}},
			{Code: "P-PUMP", Name: "水泵", Unit: "台", UnitCost: 40000, SalePrice: 90000, Billable: true, Stores: []string{"main"}},
		})
		if err != nil || len(probs) > 0 {
			return fmt.Errorf("catalog: %v %v", probs, err)
		}
		for store, counts := range map[string][]flows.CountInput{
			"main": {{Part: "P-VALVE", Qty: 5}, {Part: "P-TAPE", Qty: 20}, {Part: "P-TAP", Qty: 3}, {Part: "P-PUMP", Qty: 2}},
			"east": {{Part: "P-TAP", Qty: 1}},
		} {
			if _, _, err := flows.PostStocktake(tx, at(), store, counts, "opening count"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// partsWorldAt is a World with the stock seeded, a resident, two
// technicians and a lead, and a household job of tech's at its quote step.
func partsWorldAt(t *testing.T) (*flowstest.World, string) {
	t.Helper()
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	w.Staff(tech2, "technician")
	w.Staff(lead, "lead")
	seedParts(t, w)
	return w, toQuote(t, w, tech, resident, "厨房水管漏水")
}

// toQuote reports a job for res, has tech accept it and walks it to the quote step.
func toQuote(t *testing.T, w *flowstest.World, tech, res flowstest.Person, desc string) string {
	t.Helper()
	id := w.Report(res, desc)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.Expect(w.Tap(tech, flows.EncodePayload("arr", id), false))
	if w.Ticket(id).Visit.Bell == "" {
		w.Expect(w.Step(tech, id, "bell", "yes"))
	}
	w.Expect(w.Step(tech, id, "ring"))
	w.Expect(w.Step(tech, id, "answered"))
	w.Expect(w.Tap(res, flows.EncodePayload("ent", id), false))
	w.Text(tech, "角阀老化漏水，更换角阀并缠生料带")
	w.Expect(w.Step(tech, id, "next"))
	if k := w.StepKind(id); k != flows.StepQuote {
		t.Fatalf("ticket %s at step %s, want the quote", id, k)
	}
	w.Drain()
	return id
}

// usePart taps "use part" on the step card, names the part and the
// quantity, and returns what the bot sent.
func usePart(t *testing.T, w *flowstest.World, p flowstest.Person, id, query, qty string) []flows.Message {
	t.Helper()
	tk := w.Ticket(id)
	w.Expect(w.Tap(p, flows.EncodePayload("pu", id, tk.Step), false))
	w.Text(p, query)
	if ask := lastMsg(w.Drain(), p.Chat()); strings.Contains(ask.Text, "从哪个仓库") {
		w.Expect(w.Tap(p, w.ButtonData(ask, "总仓"), false))
	}
	w.Text(p, qty)
	return w.Drain()
}

// toSignoff walks an on-site job from its current step to the
// resident's sign-off card, as flowstest.WalkToSignoff does from arrival.
func toSignoff(t *testing.T, w *flowstest.World, tech, res flowstest.Person, id string) {
	t.Helper()
	for i := 0; i < 30; i++ {
		switch w.StepKind(id) {
		case flows.StepQuote:
			w.Expect(w.Step(tech, id, "send"))
			q := w.Ticket(id).Visit.Quote
			w.Expect(w.Tap(res, flows.EncodePayload("qa", id, fmt.Sprint(q.Seq)), false))
		case flows.StepPhoto:
			w.Photo(tech, "EVIDENCE-"+w.Ticket(id).Step, "", 50_000)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepTests:
			for j := 0; j < w.Opts.SOP.MinTests; j++ {
				w.Expect(w.Step(tech, id, "pass"))
			}
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepWork:
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepCare:
			w.CareNote(tech, id)
			w.Expect(w.Step(tech, id, "next"))
		case flows.StepSignoff:
			w.CodeFault(tech, id)
			w.Expect(w.Tap(tech, flows.EncodePayload("done", id), false))
			w.Drain()
			return
		default:
			t.Fatalf("ticket %s at step %q", id, w.Ticket(id).Step)
		}
	}
	t.Fatalf("ticket %s never reached the sign-off", id)
}

func level(t *testing.T, w *flowstest.World, part, loc string) flows.StockLevel {
	t.Helper()
	var l flows.StockLevel
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		l, err = tx.StockLevel(part, loc)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func jobMoves(t *testing.T, w *flowstest.World, id string) []flows.StockMove {
	t.Helper()
	var ms []flows.StockMove
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		var err error
		ms, err = tx.StockMovesOfTicket(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func verifyLevels(t *testing.T, w *flowstest.World) {
	t.Helper()
	err := w.Store.View(context.Background(), func(tx flows.Tx) error {
		diffs, err := flows.VerifyStockLevels(tx)
		if err == nil && len(diffs) > 0 {
			err = fmt.Errorf("levels differ from the ledger: %+v", diffs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lastMsg(msgs []flows.Message, a flows.Address) flows.Message {
	var got []flows.Message
	for _, m := range To(msgs, a) {
		if !m.Retire { // a retired step card only loses its buttons
			got = append(got, m)
		}
	}
	if len(got) == 0 {
		return flows.Message{}
	}
	return got[len(got)-1]
}

func allText(msgs []flows.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

// TestPartsJobTwoParts: a job uses two parts from the step card — a
// billable valve found by its code and non-billable tape found by name.
// The ledger, the stock, the quote, the resident's consent card and the
// work order agree on them.
func TestPartsJobTwoParts(t *testing.T) {
	w, id := partsWorldAt(t)
	tk := w.Ticket(id)
	w.Expect(w.Tap(tech, flows.EncodePayload("pu", id, tk.Step), false))
	prompt := lastMsg(w.Drain(), tech.Chat())
	contains(t, prompt.Text, "用哪个配件")
	w.Text(tech, "P-VALVE")
	ask := lastMsg(w.Drain(), tech.Chat())
	contains(t, ask.Text, "P-VALVE 角阀：用多少个？（总仓 有 5 个）")
	w.Text(tech, "1")
	msgs := w.Drain()
	contains(t, allText(To(msgs, tech.Chat())), "已加入报价：¥25.00")
	card := lastMsg(msgs, tech.Chat())
	contains(t, card.Text, "已领用：P-VALVE 角阀 ×1 个")
	w.ButtonData(card, "领用配件") // still at the quote draft: more may be taken

	msgs = usePart(t, w, tech, id, "生料", "2")
	contains(t, allText(To(msgs, tech.Chat())), "已领用 P-TAPE 生料带 ×2 卷（总仓），成本 ¥2.00")
	w.Expect(w.Step(tech, id, "qty", "W02", "1"))
	w.Expect(w.Step(tech, id, "send"))
	consent := lastMsg(w.Drain(), resident.Chat())
	contains(t, consent.Text, "P-VALVE 角阀")
	contains(t, consent.Text, "¥25.00")
	contains(t, consent.Text, "W02")
	if strings.Contains(consent.Text, "P-TAPE") {
		t.Fatalf("a part that is not charged is on the resident's quote: %q", consent.Text)
	}
	q := w.Ticket(id).Visit.Quote
	if q.Total() != 2500+2500 {
		t.Fatalf("quote total %d, want the valve's sale price and the labour", q.Total())
	}
	contains(t, consent.Text, flows.Money(q.Total()))
	w.Expect(w.Tap(resident, w.ButtonData(consent, "同意"), false))

	// The ledger: two issues to the job, at the cost frozen at posting.
	moves := jobMoves(t, w, id)
	if len(moves) != 2 || moves[0].Part != "P-VALVE" || moves[0].Qty != 1 || moves[0].Value != 1200 ||
		moves[1].Part != "P-TAPE" || moves[1].Qty != 2 || moves[1].Value != 200 {
		t.Fatalf("job moves %+v", moves)
	}
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 4 {
		t.Fatalf("valves left in main: %d, want 4", l.Qty)
	}
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 18 {
		t.Fatalf("tape left in main: %d, want 18", l.Qty)
	}
	verifyLevels(t, w)
	// The audit trail names both moves.
	var evs []flows.TicketEvent
	_ = w.Store.View(context.Background(), func(tx flows.Tx) error { evs, _ = tx.TicketEvents(id); return nil })
	issued := 0
	for _, e := range evs {
		if e.Action == "parts_issue" {
			issued++
		}
	}
	if issued != 2 {
		t.Fatalf("%d parts_issue events on the audit trail, want 2", issued)
	}
	// The work order lists the parts used and the charged one on the quote.
	toSignoff(t, w, tech, resident, id)
	w.Cmd(tech, "order", id)
	order := w.LastText(w.Drain(), tech.Chat()).Text
	contains(t, order, "使用配件：P-TAPE 生料带 ×2 卷；P-VALVE 角阀 ×1 个")
	contains(t, order, "P-VALVE 角阀")
	contains(t, order, flows.Money(q.Total()))
}

// TestPartsRefusedQuoteGivesPartsBack: the resident refuses a quote with
// parts on it; the parts go back to the stores they came from, the
// technician is told, and a revised quote starts without them.
func TestPartsRefusedQuoteGivesPartsBack(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-VALVE", "2")
	usePart(t, w, tech, id, "P-TAPE", "1")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 3 {
		t.Fatalf("valves after the requisition: %d", l.Qty)
	}
	w.Expect(w.Step(tech, id, "send"))
	consent := lastMsg(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(consent, "不同意"), false))
	msgs := w.Drain()
	contains(t, allText(To(msgs, tech.Chat())), "已自动退回仓库：P-TAPE ×1 卷 → 总仓；P-VALVE ×2 个 → 总仓")
	for part, want := range map[string]int64{"P-VALVE": 5, "P-TAPE": 20} {
		if l := level(t, w, part, "main"); l.Qty != want || l.Value != want*map[string]int64{"P-VALVE": 1200, "P-TAPE": 100}[part] {
			t.Fatalf("%s after the refusal: %+v, want %d back at its cost", part, l, want)
		}
	}
	if held := level(t, w, "P-VALVE", flows.JobLocation(id)); held.Qty != 0 || held.Value != 0 {
		t.Fatalf("the job still holds %+v", held)
	}
	verifyLevels(t, w)
	w.Expect(w.Step(tech, id, "revise"))
	if q := w.Ticket(id).Visit.Quote; q.Status != "draft" || len(q.Lines) != 0 {
		t.Fatalf("revised quote %+v, want a draft without the returned parts", q)
	}
}

// TestPartsAfterConsentAsksAgain: a billable part added at the repair
// step, after the resident agreed, changes the price: the job goes back to
// the quote, the resident's old consent button is refused as replaced, and
// the new card shows the part; a part that is not charged does not ask.
func TestPartsAfterConsentAsksAgain(t *testing.T) {
	w, id := partsWorldAt(t)
	w.Expect(w.Step(tech, id, "qty", "W02", "1"))
	w.Expect(w.Step(tech, id, "send"))
	first := lastMsg(w.Drain(), resident.Chat())
	w.Expect(w.Tap(resident, w.ButtonData(first, "同意"), false))
	w.Photo(tech, "PROTECT", "", 50_000)
	w.Expect(w.Step(tech, id, "next"))
	if k := w.StepKind(id); k != flows.StepWork {
		t.Fatalf("at %s, want the repair", k)
	}
	w.Drain()

	msgs := usePart(t, w, tech, id, "P-TAPE", "1")
	if k := w.StepKind(id); k != flows.StepWork || !w.Ticket(id).Visit.QuoteOK {
		t.Fatalf("a part that is not charged moved the job to %s (consent %v)", k, w.Ticket(id).Visit.QuoteOK)
	}
	if len(To(msgs, resident.Chat())) != 0 {
		t.Fatalf("the resident was asked about a part that is not charged: %v", To(msgs, resident.Chat()))
	}

	msgs = usePart(t, w, tech, id, "P-VALVE", "1")
	contains(t, allText(To(msgs, tech.Chat())), "需重新征得住户同意")
	v := w.Ticket(id).Visit
	if w.StepKind(id) != flows.StepQuote || v.QuoteOK || v.Quote.Status != "draft" || v.ReturnTo != "work" {
		t.Fatalf("after a charged part at the repair: step %s, consent %v, quote %s, return to %q", w.StepKind(id), v.QuoteOK, v.Quote.Status, v.ReturnTo)
	}
	w.Expect(w.Step(tech, id, "send"))
	second := lastMsg(w.Drain(), resident.Chat())
	contains(t, second.Text, "P-VALVE 角阀")
	contains(t, second.Text, flows.Money(2500+2500))
	w.Refused(w.Tap(resident, w.ButtonData(first, "同意"), false), "")
	w.Expect(w.Tap(resident, w.ButtonData(second, "同意"), false))
	if k := w.StepKind(id); k != flows.StepWork {
		t.Fatalf("after the new consent at %s, want back at the repair", k)
	}
}

// TestPartsLastUnitRace: two technicians take the last unit at once,
// through the engine with group commit: one wins, the other is told how
// many are left, and the stock never goes negative.
func TestPartsLastUnitRace(t *testing.T) {
	w, id1 := partsWorldAt(t)
	w.Register(other, "13900139000")
	id2 := toQuote(t, w, tech2, other, "卫生间水龙头坏了")
	// The east store's single tap is the last unit anywhere after main's go.
	err := w.Store.Update(context.Background(), func(tx flows.Tx) error {
		_, _, err := flows.PostStocktake(tx, flows.Posting{By: partsLead, At: w.Now}, "main", []flows.CountInput{{Part: "P-TAP", Qty: 0}}, "moved")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p  flowstest.Person
		id string
	}{{tech, id1}, {tech2, id2}} {
		w.Expect(w.Tap(c.p, flows.EncodePayload("pu", c.id, w.Ticket(c.id).Step), false))
		w.Text(c.p, "P-TAP")
	}
	w.Drain()
	opts := w.Opts
	opts.GroupCommit = true
	eng, err := flows.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, p := range []flowstest.Person{tech, tech2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := flows.Event{Key: fmt.Sprintf("race:%d", i), Kind: flows.EvText, At: w.Now, Text: "1",
				From: flows.Sender{ID: p.PID(), Chat: p.Chat(), Name: p.Name, LangCode: "zh"}, Chat: p.Chat()}
			if _, err := eng.Handle(context.Background(), ev); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	msgs := w.Drain()
	won, told := 0, 0
	for _, p := range []flowstest.Person{tech, tech2} {
		text := allText(To(msgs, p.Chat()))
		if strings.Contains(text, "已领用 P-TAP") {
			won++
		}
		if strings.Contains(text, "库存不足：P-TAP 水龙头 在「east」只剩 0 个") {
			told++
		}
	}
	if won != 1 || told != 1 {
		t.Fatalf("%d took the last unit and %d were told; want one each:\n%s", won, told, allText(msgs))
	}
	if l := level(t, w, "P-TAP", "east"); l.Qty != 0 || l.Value != 0 {
		t.Fatalf("east after the race: %+v", l)
	}
	if n := len(jobMoves(t, w, id1)) + len(jobMoves(t, w, id2)); n != 1 {
		t.Fatalf("%d issues posted, want 1", n)
	}
	verifyLevels(t, w)
}

// TestPartsOverLimitWaitsForLead: a requisition worth more than [parts]
// approval_over takes nothing until a lead approves it in chat; a refusal
// tells the technician; an approval after the job moved on lapses.
func TestPartsOverLimitWaitsForLead(t *testing.T) {
	w, id := partsWorldAt(t)
	msgs := usePart(t, w, tech, id, "P-PUMP", "2")
	contains(t, allText(To(msgs, tech.Chat())), "已提交主管审批")
	if l := level(t, w, "P-PUMP", "main"); l.Qty != 2 {
		t.Fatalf("pumps taken before approval: %d left", l.Qty)
	}
	card := lastMsg(msgs, lead.Chat())
	contains(t, card.Text, "金额 ¥800.00，超过 ¥500.00")
	// A technician's forged approval is refused by the machine.
	w.Refused(w.Tap(tech, w.ButtonData(card, "批准"), false), "")
	w.Expect(w.Tap(lead, w.ButtonData(card, "批准"), false))
	msgs = w.Drain()
	contains(t, allText(To(msgs, tech.Chat())), "已加入报价：¥1800.00")
	if l := level(t, w, "P-PUMP", "main"); l.Qty != 0 {
		t.Fatalf("pumps after approval: %d left", l.Qty)
	}
	moves := jobMoves(t, w, id)
	if len(moves) != 1 || moves[0].Actor != tech.PID() || !strings.Contains(moves[0].Reason, lead.PID()) {
		t.Fatalf("approved move %+v: want the technician's, naming the lead", moves)
	}
	w.Refused(w.Tap(lead, w.ButtonData(card, "批准"), false), "已处理")

	// A second request, refused.
	msgs = usePart(t, w, tech, id, "P-VALVE", "5")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 0 {
		t.Fatalf("valves (¥60.00, under the limit) not taken: %d left", l.Qty)
	}
	w.Expect(w.Step(tech, id, "undo")) // the valves go back
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 5 {
		t.Fatalf("undo left %d valves in main, want 5", l.Qty)
	}
	w.Expect(w.Step(tech, id, "undo")) // the pumps go back
	w.Drain()
	msgs = usePart(t, w, tech, id, "P-PUMP", "2")
	card = lastMsg(msgs, lead.Chat())
	w.Expect(w.Tap(lead, w.ButtonData(card, "拒绝"), false))
	contains(t, allText(To(w.Drain(), tech.Chat())), "未批准工单 "+id+" 领用 P-PUMP ×2")
	if l := level(t, w, "P-PUMP", "main"); l.Qty != 2 {
		t.Fatalf("a refused requisition took pumps: %d left", l.Qty)
	}
	// A third, approved after the quote was sent: it lapses.
	msgs = usePart(t, w, tech, id, "P-PUMP", "2")
	card = lastMsg(msgs, lead.Chat())
	w.Expect(w.Step(tech, id, "send"))
	w.Drain()
	w.Expect(w.Tap(lead, w.ButtonData(card, "批准"), false))
	contains(t, allText(To(w.Drain(), tech.Chat())), "申请作废")
	if l := level(t, w, "P-PUMP", "main"); l.Qty != 2 {
		t.Fatalf("a lapsed requisition took pumps: %d left", l.Qty)
	}
	verifyLevels(t, w)
}

// TestPartsQuantityBadInput: quantities that are negative, zero, not
// whole or absurd, and codes that exist nowhere, get a clear answer and
// take nothing.
func TestPartsQuantityBadInput(t *testing.T) {
	w, id := partsWorldAt(t)
	w.Expect(w.Tap(tech, flows.EncodePayload("pu", id, w.Ticket(id).Step), false))
	w.Text(tech, "P-NOPE")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "没有找到「P-NOPE」相关的配件")
	w.Text(tech, "P-VALVE")
	w.Drain()
	for _, bad := range []string{"-1", "0", "1.5", "99999999", "两个", "1e3"} {
		w.Text(tech, bad)
		contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "数量应为 1 到 1000000 之间的整数")
	}
	w.Text(tech, "6")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "库存不足：P-VALVE 角阀 在「main」只剩 5 个，需要 6 个")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 5 {
		t.Fatalf("bad quantities took valves: %d left", l.Qty)
	}
	w.Text(tech, "５") // full-width digits are a quantity
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 0 {
		t.Fatalf("a full-width 5 took %d", 5-l.Qty)
	}
	// A stale "use part" button from an earlier step is refused.
	w.Refused(w.Tap(tech, flows.EncodePayload("pu", id, "survey"), false), "")
	// Someone else's job.
	w.Refused(w.Tap(tech2, flows.EncodePayload("pu", id, w.Ticket(id).Step), false), "")
}

// sheetOf builds a catalog workbook from rows.
func sheetOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPartsImportViaChat: a lead sends the catalog as an .xlsx; one with
// bad rows is refused as a whole, every problem named by row and column;
// the corrected file imports; the export opens as a workbook of the
// catalog.
func TestPartsImportViaChat(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Staff(tech, "technician")
	w.Cmd(lead, "parts", "store main 总仓")
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "仓库「main」已保存")
	w.Cmd(tech, "parts", "import")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "没有权限")
	w.Cmd(lead, "parts", "import")
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, ".xlsx")
	head := []any{"编码", "名称", "单位", "成本单价", "售价", "收费", "存放仓库"}
	bad := sheetOf(t, [][]any{head,
		{"P-1", "角阀", "个", "12.00", "25.00", "是", "main"},
		{"P-2", "", "个", "abc", "0", "否", "main"},
		{"P-3", "软管", "根", "8", "", "是", "nowhere"},
	})
	w.File(lead, "catalog.xlsx", bad)
	reply := lastMsg(w.Drain(), lead.Chat()).Text
	contains(t, reply, "导入未执行")
	contains(t, reply, "第 3 行 B 列（名称）")
	contains(t, reply, "第 3 行 D 列（成本单价）")
	contains(t, reply, "第 4 行 E 列（售价）")
	contains(t, reply, "第 4 行 G 列（存放仓库）")
	n := 0
	_ = w.Store.View(context.Background(), func(tx flows.Tx) error { return tx.EachPart(func(*flows.Part) error { n++; return nil }) })
	if n != 0 {
		t.Fatalf("%d parts imported from a refused file", n)
	}
	w.File(lead, "catalog.xlsx", []byte("not a workbook"))
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "无法读取该文件")
	good := sheetOf(t, [][]any{head,
		{"P-1", "角阀", "个", "12.00", "25.00", "是", "main"},
		{"P-2", "生料带", "卷", "1", "0", "否", "main"},
	})
	w.File(lead, "catalog.xlsx", good)
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "已导入 2 个配件")
	// The dialogue ended: another file is no longer an import.
	w.File(lead, "catalog.xlsx", good)
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "这种消息我看不了")

	w.Cmd(lead, "parts", "export")
	doc := lastMsg(w.Drain(), lead.Chat())
	if doc.Kind != flows.KindFile || !strings.HasSuffix(doc.FileName, ".xlsx") || doc.Export == nil || doc.Export.Form != flows.ExportPartsCatalog {
		t.Fatalf("export: %+v", doc)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Render(doc)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(f.GetSheetName(0))
	if len(rows) != 3 || rows[1][0] != "P-1" || rows[2][1] != "生料带" {
		t.Fatalf("exported rows %v", rows)
	}
}

// TestPartsCatalogInChat: a lead adds an item step by step, edits it
// keeping what they do not change, and retires it.
func TestPartsCatalogInChat(t *testing.T) {
	w := flowstest.New(t)
	w.Staff(lead, "lead")
	w.Cmd(lead, "parts", "add")
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "还没有仓库")
	w.Cmd(lead, "parts", "store main 总仓")
	w.Cmd(lead, "parts", "store east 东区仓")
	w.Cmd(lead, "parts", "add")
	for _, answer := range []string{"p-hose", "软管", "", "根", "8.5", "15", "4", "main, east"} {
		if answer == "" {
			ask := lastMsg(w.Drain(), lead.Chat())
			w.Tap(lead, w.ButtonData(ask, "跳过"), false)
			continue
		}
		w.Text(lead, answer)
	}
	saved := lastMsg(w.Drain(), lead.Chat())
	contains(t, saved.Text, "已添加配件 P-HOSE")
	contains(t, saved.Text, "成本单价：¥8.50　向住户收费，售价 ¥15.00")
	contains(t, saved.Text, "最低库存：4")
	// Edit: keep everything but the sale price.
	w.Tap(lead, w.ButtonData(saved, "修改"), false)
	for i := 0; i < 7; i++ {
		ask := lastMsg(w.Drain(), lead.Chat())
		if strings.Contains(ask.Text, "售价") {
			w.Text(lead, "abc")
			contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "售价应在")
			w.Text(lead, "0")
			continue
		}
		w.Tap(lead, w.ButtonData(ask, "保持"), false)
	}
	edited := lastMsg(w.Drain(), lead.Chat())
	contains(t, edited.Text, "已保存配件 P-HOSE")
	contains(t, edited.Text, "不向住户收费")
	contains(t, edited.Text, "软管")
	w.Tap(lead, w.ButtonData(edited, "停用"), false)
	contains(t, lastMsg(w.Drain(), lead.Chat()).Text, "已停用")
	var p *flows.Part
	_ = w.Store.View(context.Background(), func(tx flows.Tx) error { p, _ = tx.Part("P-HOSE"); return nil })
	if p == nil || !p.Retired || p.Billable || p.UnitCost != 850 || len(p.Stores) != 2 {
		t.Fatalf("stored item %+v", p)
	}
}

// TestPartsPurchaseAndLowStock: a technician requests a purchase, a lead
// approves it, the technician records the delivery with the supplier, the
// cost and a photo of the delivery note; stock rises only then. A store
// falling below its minimum tells the leads once, with a button that
// starts a purchase.
func TestPartsPurchaseAndLowStock(t *testing.T) {
	w, id := partsWorldAt(t)
	// Two taps leave main below its minimum of 2: the leads hear once.
	msgs := usePart(t, w, tech, id, "P-TAP", "1")
	if n := strings.Count(allText(To(msgs, lead.Chat())), "库存不足：P-TAP"); n != 0 {
		t.Fatalf("alert at 2 of min 2: %d", n)
	}
	msgs = usePart(t, w, tech, id, "P-TAP", "1")
	alert := lastMsg(msgs, lead.Chat())
	contains(t, alert.Text, "⚠️ 库存不足：P-TAP 水龙头 在「总仓」只剩 1 个（最低 2 个）")
	msgs = usePart(t, w, tech, id, "P-TAP", "1")
	if n := strings.Count(allText(To(msgs, lead.Chat())), "库存不足"); n != 0 {
		t.Fatalf("the leads were told again: %d", n)
	}
	// The alert's button starts a purchase for that store with the reorder quantity.
	w.Tap(lead, w.ButtonData(alert, "申请采购 10 个"), false)
	ask := lastMsg(w.Drain(), lead.Chat())
	contains(t, ask.Text, "采购多少个")
	w.Tap(lead, w.ButtonData(ask, "10"), false)
	ask = lastMsg(w.Drain(), lead.Chat())
	w.Tap(lead, w.ButtonData(ask, "库存低于最低库存"), false)
	msgs = w.Drain()
	contains(t, allText(To(msgs, lead.Chat())), "PR-1 P-TAP 水龙头 ×10 个 → 总仓")
	w.Expect(w.Tap(lead, w.ButtonData(lastMsg(msgs, lead.Chat()), "批准"), false))
	// A technician's own request, decided by the lead.
	w.Cmd(tech, "stock", "buy")
	w.Text(tech, "角阀")
	w.Text(tech, "3")
	w.Text(tech, "备用")
	msgs = w.Drain()
	card := lastMsg(msgs, lead.Chat())
	contains(t, card.Text, "张师傅 申请采购：PR-2 P-VALVE 角阀 ×3 个")
	w.Tap(lead, w.ButtonData(card, "批准"), false)
	told := lastMsg(w.Drain(), tech.Chat())
	contains(t, told.Text, "采购已批准")
	w.Tap(tech, w.ButtonData(told, "登记到货"), false)
	w.Text(tech, "2")
	w.Text(tech, "五金批发部")
	w.Text(tech, "11.5")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 5 {
		t.Fatalf("stock rose before the delivery note: %d", l.Qty)
	}
	w.Photo(tech, "DELIVERY-NOTE", "", 40_000)
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "PR-2 到货已登记：P-VALVE 角阀 ×2 个 入「总仓」，现有 7 个。申请状态：部分到货")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 7 || l.Value != 5*1200+2*1150 {
		t.Fatalf("after the delivery %+v", l)
	}
	// /stock shows what is on order and what jobs hold.
	w.Cmd(tech, "stock", "P-")
	view := lastMsg(w.Drain(), tech.Chat()).Text
	contains(t, view, "P-VALVE 角阀 · 总仓：7 个（¥83.00），在途 1")
	contains(t, view, "P-TAP 水龙头 · 总仓：0 个（¥0.00），工单占用 3，在途 10 ⚠️低于最低 2")
	verifyLevels(t, w)
}

// TestPartsScrapAndStocktake: a scrap request with a reason and a photo
// moves stock only when a lead approves it; a lead's stocktake turns each
// difference into an adjustment with the reason.
func TestPartsScrapAndStocktake(t *testing.T) {
	w, _ := partsWorldAt(t)
	w.Cmd(tech, "stock", "scrap")
	w.Text(tech, "P-TAPE")
	w.Text(tech, "3")
	w.Text(tech, "受潮发霉")
	w.Text(tech, "no photo")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "这一步不收文字。请发送发票或送货单（报废实物）的照片。")
	w.Photo(tech, "MOULDY", "", 30_000)
	msgs := w.Drain()
	contains(t, allText(To(msgs, tech.Chat())), "报废申请 SC-1 已提交")
	card := lastMsg(msgs, lead.Chat())
	contains(t, card.Text, "原因：受潮发霉")
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 20 {
		t.Fatalf("scrapped before approval: %d", l.Qty)
	}
	w.Tap(lead, w.ButtonData(card, "批准"), false)
	contains(t, allText(To(w.Drain(), tech.Chat())), "报废申请 SC-1 已批准")
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 17 {
		t.Fatalf("after the scrap: %d, want 17", l.Qty)
	}
	w.Cmd(tech, "stock", "count")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "没有权限")
	w.Cmd(lead, "stock", "count")
	ask := lastMsg(w.Drain(), lead.Chat())
	w.Tap(lead, w.ButtonData(ask, "总仓"), false)
	ask = lastMsg(w.Drain(), lead.Chat())
	contains(t, ask.Text, "P-TAPE 生料带：账面 17 卷")
	w.Text(lead, "P-TAPE 15\nP-NOPE 1\nP-VALVE -2")
	refused := lastMsg(w.Drain(), lead.Chat()).Text
	contains(t, refused, "第 2 行：没有编码为 P-NOPE 的配件")
	contains(t, refused, "第 3 行：P-VALVE 的数量应为 0 到 1000000 之间的整数")
	w.Text(lead, "P-TAPE 15\nP-VALVE：6")
	ask = lastMsg(w.Drain(), lead.Chat())
	contains(t, ask.Text, "→ 实盘 15")
	w.Tap(lead, w.ButtonData(ask, "盘点完成"), false)
	ask = lastMsg(w.Drain(), lead.Chat())
	w.Tap(lead, w.ButtonData(ask, "月度例行盘点"), false)
	done := lastMsg(w.Drain(), lead.Chat()).Text
	contains(t, done, "P-TAPE：账面 17 → 实盘 15（-2")
	contains(t, done, "P-VALVE：账面 5 → 实盘 6（+1")
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 15 {
		t.Fatalf("after the count: %d", l.Qty)
	}
	verifyLevels(t, w)
}

// TestPartsReturnAfterJob: unused parts the resident is not charged for
// go back after the job; a charged part on the agreed quote does not.
func TestPartsReturnAfterJob(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-TAPE", "5")
	usePart(t, w, tech, id, "P-VALVE", "1")
	w.Expect(w.Step(tech, id, "send"))
	w.Expect(w.Tap(resident, w.ButtonData(lastMsg(w.Drain(), resident.Chat()), "同意"), false))
	toSignoff(t, w, tech, resident, id)
	w.Cmd(tech, "stock", "return")
	ask := lastMsg(w.Drain(), tech.Chat())
	w.Tap(tech, w.ButtonData(ask, id), false)
	ask = lastMsg(w.Drain(), tech.Chat())
	contains(t, ask.Text, "退还多少卷？（可退 5 卷）") // only the tape: the valve is charged
	w.Text(tech, "6")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "最多可退 5 卷")
	w.Text(tech, "3")
	contains(t, lastMsg(w.Drain(), tech.Chat()).Text, "已退还（工单 "+id+"）：P-TAPE ×3 卷 → 总仓")
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 18 {
		t.Fatalf("tape in main after the return: %d", l.Qty)
	}
	w.Cmd(tech2, "stock", "return")
	w.Text(tech2, id)
	contains(t, lastMsg(w.Drain(), tech2.Chat()).Text, "不是由您负责的")
	verifyLevels(t, w)
}

// TestPartsAbandonedVisitGivesPartsBack: a lead who returns a job to the
// group gives its parts back to stock.
func TestPartsAbandonedVisitGivesPartsBack(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-VALVE", "2")
	w.Expect(w.Tap(lead, flows.EncodePayload("rg", id), false))
	contains(t, allText(To(w.Drain(), tech.Chat())), "已自动退回仓库：P-VALVE ×2 个 → 总仓")
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 5 {
		t.Fatalf("valves after the job went back to the group: %d", l.Qty)
	}
	verifyLevels(t, w)
}

// TestPartsLeaverJobGivesPartsBack: a technician who leaves has their
// jobs requeued; parts an on-site job of theirs held go back to stock.
func TestPartsLeaverJobGivesPartsBack(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-TAPE", "4")
	w.Expect(w.Tap(lead, flows.EncodePayload("sxc", tech.PID()), false))
	w.Drain()
	if tk := w.Ticket(id); tk.State != flows.StateNew || tk.AssigneeID != "" {
		t.Fatalf("the leaver's job is %s with %q", tk.State, tk.AssigneeID)
	}
	if l := level(t, w, "P-TAPE", "main"); l.Qty != 20 {
		t.Fatalf("tape in main after the leaver's job was requeued: %d, want 20", l.Qty)
	}
	if held := level(t, w, "P-TAPE", flows.JobLocation(id)); held.Qty != 0 {
		t.Fatalf("the requeued job still holds %+v", held)
	}
	verifyLevels(t, w)
}

// TestPartsMonthAndStockReport: /month shows the parts cost per category
// and per technician; on the 1st the leads get the month's stock report
// as a workbook.
func TestPartsMonthAndStockReport(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-VALVE", "2")
	usePart(t, w, tech, id, "P-TAPE", "3")
	w.Cmd(lead, "month", "")
	month := w.LastText(w.Drain(), lead.Chat()).Text
	contains(t, month, "配件成本 ¥27.00（1 张工单）")
	contains(t, month, "按类别：水管/漏水 ¥27.00（1 单）")
	contains(t, month, "按维修人员：张师傅 ¥27.00（1 单）")
	// The KPI report counts the same cost (flows.JobPartsCost, the job's value on the ledger).
	w.Cmd(lead, "stats", "month")
	contains(t, w.LastText(w.Drain(), lead.Chat()).Text, "配件成本 ¥27.00（1 单）")

	w.Tick()
	w.Drain()
	w.Now = w.Now.AddDate(0, 0, 5) // 2026-12-02, after the report's hour on the 1st
	w.Tick()
	msgs := To(w.Drain(), lead.Chat())
	var doc *flows.Message
	for i := range msgs {
		if msgs[i].Kind == flows.KindFile {
			doc = &msgs[i]
		}
	}
	if doc == nil || doc.FileName != "stock-2026-11.xlsx" || doc.Export == nil || doc.Export.Form != flows.ExportStockReport {
		t.Fatalf("no stock report for the lead: %+v", msgs)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Render(*doc)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(f.GetSheetName(0))
	found := false
	for _, r := range rows {
		if len(r) > 8 && r[0] == "P-VALVE" && r[3] == "main" {
			found = true
			if r[8] != "2" { // issued quantity
				t.Fatalf("P-VALVE row %v: issued %s, want 2", r, r[8])
			}
		}
	}
	if !found {
		t.Fatalf("no P-VALVE row in %v", rows)
	}
	w.Tick()
	for _, m := range To(w.Drain(), lead.Chat()) {
		if m.Kind == flows.KindFile {
			t.Fatal("the stock report went twice")
		}
	}
}

// TestOldMaterialsLineStaysReadable: a ticket quoted "M02 材料费" under
// the 2026.1 price list keeps its line's name after the list without M02
// is in force: the quote and the work order read it from the stored
// version.
func TestOldMaterialsLineStaysReadable(t *testing.T) {
	w := flowstest.New(t)
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	old := *sop.Default()
	old.Version, old.Prices = "2026.1", append(append([]flows.PriceItem(nil), old.Prices...), flows.PriceItem{Code: "M02",
		Name: map[flows.Lang]string{flows.LangZH: "材料费（按实际）", flows.LangEN: "Materials (at cost)"},
		Unit: map[flows.Lang]string{flows.LangZH: "元", flows.LangEN: "yuan"}, Cents: 100})
	if _, _, err := w.Eng.InstallSOP(context.Background(), &old, "test"); err != nil {
		t.Fatal(err)
	}
	id := toQuote(t, w, tech, resident, "换角阀")
	w.Expect(w.Step(tech, id, "qty", "M02", "38"))
	w.Expect(w.Step(tech, id, "send"))
	w.Drain()
	if _, _, err := w.Eng.InstallSOP(context.Background(), sop.Default(), "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range w.Eng.SOP().Prices {
		if p.Code == "M02" {
			t.Fatal("the default price list still has the M02 materials line")
		}
	}
	w.Cmd(tech, "order", id)
	contains(t, w.LastText(w.Drain(), tech.Chat()).Text, "M02 材料费（按实际） × 38元，单价 ¥1.00，小计 ¥38.00")
}

// TestPartsLeadCancelGivesPartsBack: a lead who cancels a job on site,
// with a reason, gives back the parts it held, as any other end of a
// visit does.
func TestPartsLeadCancelGivesPartsBack(t *testing.T) {
	w, id := partsWorldAt(t)
	usePart(t, w, tech, id, "P-VALVE", "2")
	w.Expect(w.Tap(lead, flows.EncodePayload("lcx", id), false))
	w.Expect(w.Text(lead, "住户已找外面的师傅修好"))
	w.Drain()
	if tk := w.Ticket(id); tk.State != flows.StateCancelled {
		t.Fatalf("ticket %s after the lead's cancel", tk.State)
	}
	if l := level(t, w, "P-VALVE", "main"); l.Qty != 5 {
		t.Fatalf("valves after the lead cancelled the job: %d, want 5", l.Qty)
	}
	if held := level(t, w, "P-VALVE", flows.JobLocation(id)); held.Qty != 0 {
		t.Fatalf("the cancelled job still holds %+v", held)
	}
	verifyLevels(t, w)
}
