// Package partsgen drives the spare-parts rules with random operations —
// purchases and their decisions, deliveries, requisitions, returns, scraps,
// stocktakes, reversals, automatic returns — against any flows.Store, and
// keeps its own model of the quantities so a test can tell a wrong answer
// from a right refusal. It backs the ledger's property test, its SIGKILL
// test and the stock-report benchmark's data.
package partsgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// People the driver acts as.
var (
	Lead = &flows.Person{ID: "tg:1", Role: flows.RoleLead, Name: "主管", Registered: true}
	Tech = &flows.Person{ID: "tg:2", Role: flows.RoleTechnician, Name: "师傅", Registered: true}
)

// Driver posts random operations. Its model holds the quantity of every
// (location, part) it expects; Check compares it with the store.
type Driver struct {
	R       *rand.Rand
	Now     time.Time
	Stores  []string
	Parts   []string
	Tickets []string
	// Model is the expected quantity per (location, part).
	Model map[[2]string]int64
	// Stats counts operations by name and outcome ("issue ok", "issue parts.short").
	Stats map[string]int
	keyN  int
	run   uint64 // in every idempotency key: two runs never share one
}

// Setup creates nStores stores and nParts parts (each kept in one or two
// stores, with a random minimum) in one transaction, unless the store has
// them already, and returns a driver whose model is loaded from the store.
func Setup(ctx context.Context, st flows.Store, seed uint64, nStores, nParts, nTickets int, now time.Time) (*Driver, error) {
	d := &Driver{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Now: now, Model: map[[2]string]int64{}, Stats: map[string]int{}}
	d.run = d.R.Uint64()
	for i := 0; i < nStores; i++ {
		d.Stores = append(d.Stores, fmt.Sprintf("store-%d", i+1))
	}
	for i := 0; i < nParts; i++ {
		d.Parts = append(d.Parts, fmt.Sprintf("P-%05d", i+1))
	}
	for i := 0; i < nTickets; i++ {
		d.Tickets = append(d.Tickets, fmt.Sprintf("BX-20261101-%04d", i+1))
	}
	err := st.Update(ctx, func(tx flows.Tx) error {
		p := flows.Posting{By: Lead, At: now}
		for _, s := range d.Stores {
			if _, err := tx.StockLocation(s); err == nil {
				continue
			}
			if _, err := flows.SaveStockLocation(tx, p, flows.StockLocation{ID: s, Name: "仓库 " + s}); err != nil {
				return err
			}
		}
		var parts []flows.Part
		for i, code := range d.Parts {
			if _, err := tx.Part(code); err == nil {
				continue
			}
			stores := []string{d.Stores[i%nStores]}
			if nStores > 1 && i%3 == 0 {
				stores = append(stores, d.Stores[(i+1)%nStores])
			}
			parts = append(parts, flows.Part{Code: code, Name: fmt.Sprintf("配件 %d", i+1), Unit: "个", UnitCost: int64(100 + d.R.IntN(5000)),
				SalePrice: 9900, Billable: i%2 == 0, MinStock: int64(d.R.IntN(4)), ReorderQty: 10, Stores: stores})
		}
		probs, _, err := flows.ImportParts(tx, p, parts)
		if err == nil && len(probs) > 0 {
			err = fmt.Errorf("partsgen: catalog refused: %s", probs[0].Err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, st.View(ctx, func(tx flows.Tx) error {
		return tx.EachStockLevel(func(l flows.StockLevel) error {
			d.Model[[2]string{l.Location, l.Part}] = l.Qty
			return nil
		})
	})
}

func (d *Driver) posting(by *flows.Person) flows.Posting {
	d.keyN++
	d.Now = d.Now.Add(time.Duration(1+d.R.IntN(90)) * time.Second)
	return flows.Posting{By: by, At: d.Now, Key: fmt.Sprintf("gen:%x:%d", d.run, d.keyN)}
}

func (d *Driver) pick(xs []string) string { return xs[d.R.IntN(len(xs))] }

// delta is a change of the model, applied once the transaction committed.
type delta struct {
	loc, part string
	qty       int64
	set       bool
}

// Step runs one random operation in its own transaction. It returns an
// error only when the outcome contradicts the model (or the store failed);
// a refusal the model predicts is counted in Stats.
func (d *Driver) Step(ctx context.Context, st flows.Store) error {
	ops := []func(flows.Tx) (string, []delta, error){d.purchase, d.purchase, d.receive, d.receive, d.issue, d.issue, d.issue,
		d.giveBack, d.scrap, d.stocktake, d.reverse, d.returnJob}
	op := ops[d.R.IntN(len(ops))]
	var name string
	var ds []delta
	var contradiction error
	err := st.Update(ctx, func(tx flows.Tx) error {
		var err error
		ds = nil
		name, ds, err = op(tx)
		var ce contradictionError
		if errors.As(err, &ce) {
			contradiction = err
		}
		return err
	})
	if contradiction != nil {
		return contradiction
	}
	var fe *flows.Error
	switch {
	case err == nil:
		d.Stats[name+" ok"]++
		for _, x := range ds {
			k := [2]string{x.loc, x.part}
			if x.set {
				d.Model[k] = x.qty
			} else {
				d.Model[k] += x.qty
			}
			if d.Model[k] == 0 {
				delete(d.Model, k)
			}
		}
		return nil
	case errors.As(err, &fe):
		d.Stats[name+" "+fe.Key]++
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

type contradictionError struct{ msg string }

func (e contradictionError) Error() string { return "partsgen: " + e.msg }

func contradict(format string, args ...any) error {
	return contradictionError{fmt.Sprintf(format, args...)}
}

// expect checks that err is nil when ok, or the refusal key otherwise.
func expect(err error, ok bool, key string) error {
	var fe *flows.Error
	switch {
	case ok && err == nil:
		return nil
	case ok:
		return contradict("want success, got %v", err)
	case err == nil:
		return contradict("want %s, got success", key)
	case !errors.As(err, &fe):
		return err
	case fe.Key != key:
		return contradict("want %s, got %s %v", key, fe.Key, fe.Args)
	}
	return err // the predicted refusal: roll back
}

func (d *Driver) purchase(tx flows.Tx) (string, []delta, error) {
	part, _ := d.keptPair(tx)
	if part == nil {
		return "purchase", nil, nil
	}
	r, err := flows.RequestPurchase(tx, d.posting(Tech), flows.PurchaseInput{Part: part.Code, Store: d.pick(part.Stores), Qty: int64(1 + d.R.IntN(30)), Why: "补货"})
	if err != nil {
		return "purchase", nil, contradict("request: %v", err)
	}
	_, err = flows.DecidePurchase(tx, d.posting(Lead), r.ID, d.R.IntN(5) > 0, "")
	if err != nil {
		return "purchase", nil, contradict("decide: %v", err)
	}
	return "purchase", nil, nil
}

func (d *Driver) receive(tx flows.Tx) (string, []delta, error) {
	prs, err := tx.OpenPurchaseRequests()
	if err != nil {
		return "receive", nil, err
	}
	var open []*flows.PurchaseRequest
	for _, r := range prs {
		if r.Status.Open() {
			open = append(open, r)
		}
	}
	if len(open) == 0 {
		return "receive", nil, nil
	}
	r := open[d.R.IntN(len(open))]
	left := r.Qty - r.Received
	q := int64(1 + d.R.IntN(int(left)+1)) // sometimes one too many
	_, res, err := flows.ReceiveDelivery(tx, d.posting(Tech), r.ID, flows.DeliveryInput{Qty: q, Supplier: "五金店", UnitCost: int64(d.R.IntN(8000)), Photo: flows.Photo{FileID: "ph"}})
	if err := expect(err, q <= left, "parts.receive_over"); err != nil {
		return "receive", nil, err
	}
	if err := fresh(res); err != nil {
		return "receive", nil, err
	}
	return "receive", []delta{{loc: r.Store, part: r.Part, qty: q}}, nil
}

func (d *Driver) issue(tx flows.Tx) (string, []delta, error) {
	part, store := d.keptPair(tx)
	if part == nil {
		return "issue", nil, nil
	}
	ticket := d.pick(d.Tickets)
	job := flows.JobLocation(ticket)
	have := d.Model[[2]string{store, part.Code}]
	q := int64(1 + d.R.IntN(6))
	res, err := flows.Issue(tx, d.posting(Tech), flows.PartsPolicy{}, flows.IssueInput{Part: part.Code, Store: store, Ticket: ticket, Qty: q})
	if err := expect(err, q <= have, "parts.short"); err != nil {
		return "issue", nil, err
	}
	if err := fresh(res); err != nil {
		return "issue", nil, err
	}
	return "issue", []delta{{loc: store, part: part.Code, qty: -q}, {loc: job, part: part.Code, qty: q}}, nil
}

// held lists the model's job holdings, sorted (map order is random, the
// driver must be repeatable from its seed).
func (d *Driver) held() [][2]string {
	var out [][2]string
	for k, q := range d.Model {
		if _, job := flows.JobOf(k[0]); job && q > 0 {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] || out[i][0] == out[j][0] && out[i][1] < out[j][1] })
	return out
}

func (d *Driver) giveBack(tx flows.Tx) (string, []delta, error) {
	held := d.held()
	if len(held) == 0 {
		return "return", nil, nil
	}
	k := held[d.R.IntN(len(held))]
	part, err := tx.Part(k[1])
	if err != nil {
		return "return", nil, err
	}
	have := d.Model[k]
	q := int64(1 + d.R.IntN(int(have)+1))
	store := d.pick(part.Stores)
	ticket, _ := flows.JobOf(k[0])
	res, err := flows.ReturnToStock(tx, d.posting(Tech), flows.ReturnInput{Part: part.Code, Store: store, Ticket: ticket, Qty: q, Reason: "未用完"})
	if err := expect(err, q <= have, "parts.job_short"); err != nil {
		return "return", nil, err
	}
	if err := fresh(res); err != nil {
		return "return", nil, err
	}
	return "return", []delta{{loc: k[0], part: part.Code, qty: -q}, {loc: store, part: part.Code, qty: q}}, nil
}

func (d *Driver) scrap(tx flows.Tx) (string, []delta, error) {
	part, store := d.keptPair(tx)
	if part == nil {
		return "scrap", nil, nil
	}
	have := d.Model[[2]string{store, part.Code}]
	if have == 0 {
		return "scrap", nil, nil
	}
	q := int64(1 + d.R.IntN(int(have)))
	sr, err := flows.RequestScrap(tx, d.posting(Tech), flows.ScrapInput{Part: part.Code, Store: store, Qty: q, Reason: "损坏", Photo: flows.Photo{FileID: "ph"}})
	if err != nil {
		return "scrap", nil, contradict("scrap request: %v", err)
	}
	approve := d.R.IntN(4) > 0
	if _, _, err := flows.DecideScrap(tx, d.posting(Lead), sr.ID, approve, ""); err != nil {
		return "scrap", nil, contradict("scrap decision: %v", err)
	}
	if !approve {
		return "scrap", nil, nil
	}
	return "scrap", []delta{{loc: store, part: part.Code, qty: -q}}, nil
}

func (d *Driver) stocktake(tx flows.Tx) (string, []delta, error) {
	store := d.pick(d.Stores)
	var counts []flows.CountInput
	var ds []delta
	seen := map[string]bool{}
	for i := 0; i < 1+d.R.IntN(3); i++ {
		code := d.pick(d.Parts)
		part, err := tx.Part(code)
		if err != nil {
			return "stocktake", nil, err
		}
		if !part.KeptIn(store) || seen[code] {
			continue
		}
		seen[code] = true
		have := d.Model[[2]string{store, code}]
		n := max(0, have+int64(d.R.IntN(5)-2))
		counts = append(counts, flows.CountInput{Part: code, Qty: n})
		ds = append(ds, delta{loc: store, part: code, qty: n, set: true})
	}
	if len(counts) == 0 {
		return "stocktake", nil, nil
	}
	_, _, err := flows.PostStocktake(tx, d.posting(Lead), store, counts, "盘点")
	if err != nil {
		return "stocktake", nil, contradict("stocktake: %v", err)
	}
	return "stocktake", ds, nil
}

func (d *Driver) reverse(tx flows.Tx) (string, []delta, error) {
	var last uint64
	if err := tx.EachStockMoveBetween(d.Now.Add(-time.Hour), time.Time{}, func(m *flows.StockMove) error { last = m.Seq; return nil }); err != nil {
		return "reverse", nil, err
	}
	if last == 0 {
		return "reverse", nil, nil
	}
	seq := last - uint64(d.R.IntN(int(min(last, 20))))
	m, err := tx.StockMove(seq)
	if err != nil {
		return "reverse", nil, err
	}
	by, err := tx.StockMoveReversal(seq)
	if err != nil {
		return "reverse", nil, err
	}
	ok, key := true, ""
	switch {
	case m.Kind == flows.MoveReverse:
		ok, key = false, "parts.reverse_reversal"
	case by != 0:
		ok, key = false, "parts.already_reversed"
	case flows.IsHeldLocation(m.To) && d.Model[[2]string{m.To, m.Part}] < m.Qty:
		ok, key = false, "parts.short"
		if _, job := flows.JobOf(m.To); job {
			key = "parts.job_short"
		}
	}
	res, err := flows.Reverse(tx, d.posting(Lead), seq, "录入错误")
	if err := expect(err, ok, key); err != nil {
		return "reverse", nil, err
	}
	if err := fresh(res); err != nil {
		return "reverse", nil, err
	}
	var ds []delta
	if flows.IsHeldLocation(m.To) {
		ds = append(ds, delta{loc: m.To, part: m.Part, qty: -m.Qty})
	}
	if flows.IsHeldLocation(m.From) {
		ds = append(ds, delta{loc: m.From, part: m.Part, qty: m.Qty})
	}
	return "reverse", ds, nil
}

func (d *Driver) returnJob(tx flows.Tx) (string, []delta, error) {
	ticket := d.pick(d.Tickets)
	job := flows.JobLocation(ticket)
	res, err := flows.ReturnJobParts(tx, d.posting(Tech), ticket, "报价被拒")
	if err != nil {
		return "return_job", nil, contradict("return job: %v", err)
	}
	var ds []delta
	back := map[string]int64{}
	for _, m := range res.Moves {
		ds = append(ds, delta{loc: m.To, part: m.Part, qty: m.Qty})
		back[m.Part] += m.Qty
	}
	for _, k := range d.held() {
		if k[0] != job {
			continue
		}
		if back[k[1]] != d.Model[k] {
			return "return_job", nil, contradict("%s gave back %d of %s, held %d", ticket, back[k[1]], k[1], d.Model[k])
		}
		ds = append(ds, delta{loc: job, part: k[1], qty: 0, set: true})
		delete(back, k[1])
	}
	if len(back) > 0 {
		return "return_job", nil, contradict("%s gave back parts it did not hold: %v", ticket, back)
	}
	return "return_job", ds, nil
}

// fresh checks that a posting under a new key posted exactly one move.
func fresh(res flows.StockResult) error {
	if res.Replayed || len(res.Moves) != 1 {
		return contradict("a new key replayed or posted %d moves: %+v", len(res.Moves), res)
	}
	return nil
}

// keptPair picks a random part and one of its stores.
func (d *Driver) keptPair(tx flows.Tx) (*flows.Part, string) {
	part, err := tx.Part(d.pick(d.Parts))
	if err != nil {
		return nil, ""
	}
	return part, d.pick(part.Stores)
}

// Check compares the store with the model and the ledger: the stored
// levels equal the ledger's projection, no level is negative or worth
// something at zero, every quantity is the model's, and the value held
// equals what came in from outside less what went out.
func (d *Driver) Check(ctx context.Context, st flows.Store) error {
	return st.View(ctx, func(tx flows.Tx) error { return CheckTx(tx, d.Model) })
}

// CheckTx is Check inside a transaction; model may be nil (quantities
// are then checked against the ledger only).
func CheckTx(tx flows.Tx, model map[[2]string]int64) error {
	diffs, err := flows.VerifyStockLevels(tx)
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		return fmt.Errorf("partsgen: %d levels differ from the ledger, first %+v", len(diffs), diffs[0])
	}
	var held int64
	seen := map[[2]string]bool{}
	err = tx.EachStockLevel(func(l flows.StockLevel) error {
		if l.Qty < 0 || l.Value < 0 || l.Qty == 0 && l.Value != 0 {
			return fmt.Errorf("partsgen: impossible level %+v", l)
		}
		k := [2]string{l.Location, l.Part}
		seen[k] = true
		if model != nil && model[k] != l.Qty {
			return fmt.Errorf("partsgen: %v holds %d, the model says %d", k, l.Qty, model[k])
		}
		held += l.Value
		return nil
	})
	if err != nil {
		return err
	}
	for k, q := range model {
		if !seen[k] && q != 0 {
			return fmt.Errorf("partsgen: the model has %d at %v, the store nothing", q, k)
		}
	}
	var flow int64
	err = tx.EachStockMove(0, func(m *flows.StockMove) error {
		in, out := flows.IsHeldLocation(m.To), flows.IsHeldLocation(m.From)
		switch {
		case in && !out:
			flow += m.Value
		case out && !in:
			flow -= m.Value
		}
		return nil
	})
	if err != nil {
		return err
	}
	if flow != held {
		return fmt.Errorf("partsgen: stock is worth %d, the ledger's flows %d", held, flow)
	}
	return nil
}
