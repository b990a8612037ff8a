package flows

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// StockAmount is a quantity and its value in fen.
type StockAmount struct {
	Qty   int64
	Value int64
}

func (a *StockAmount) add(q, v int64) { a.Qty += q; a.Value += v }

// StockMonthRow is one part in one store over a period: the monthly stock
// report's line. Closing = Opening + Received − Issued + Returned −
// Scrapped + Adjusted; reversals count, negatively, in the column of the
// move they reverse; Adjusted is signed (found stock +, missing −).
type StockMonthRow struct {
	Part, Name, Unit, Store string
	Opening                 StockAmount
	Received                StockAmount
	Issued                  StockAmount
	Returned                StockAmount
	Scrapped                StockAmount
	Adjusted                StockAmount
	Closing                 StockAmount
}

// StockMonth computes the stock report for [from, to) per part and store,
// by part code then store. It reads the current store levels and the moves
// posted since from, once, in order: the closing level is the current one
// less what moved after to, the opening the closing less the period. So a
// report costs the moves since its first day, never the whole history.
func StockMonth(tx PartsTx, from, to time.Time) ([]StockMonthRow, error) {
	rows := map[[2]string]*StockMonthRow{}
	row := func(part, store string) *StockMonthRow {
		k := [2]string{part, store}
		r := rows[k]
		if r == nil {
			r = &StockMonthRow{Part: part, Store: store}
			rows[k] = r
		}
		return r
	}
	stores, err := tx.StockLocations()
	if err != nil {
		return nil, err
	}
	for _, s := range stores { // the stores' levels only, not every job's
		levels, err := tx.StockLevels(s.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range levels {
			row(l.Part, l.Location).Closing = StockAmount{l.Qty, l.Value} // now, for the moment
		}
	}
	err = tx.EachStockMoveBetween(from, time.Time{}, func(m *StockMove) error {
		for _, side := range [2]struct {
			loc  string
			sign int64
		}{{m.From, -1}, {m.To, 1}} {
			if !IsStoreLocation(side.loc) {
				continue
			}
			r := row(m.Part, side.loc)
			q, v := side.sign*m.Qty, side.sign*m.Value
			if !m.PostedAt.Before(to) {
				r.Closing.add(-q, -v) // after the period: undo it from now
				continue
			}
			switch m.ReportKind() {
			case MoveReceive:
				r.Received.add(q, v)
			case MoveIssue:
				r.Issued.add(-q, -v)
			case MoveReturn:
				r.Returned.add(q, v)
			case MoveScrap:
				r.Scrapped.add(-q, -v)
			default:
				r.Adjusted.add(q, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]StockMonthRow, 0, len(rows))
	for _, r := range rows {
		r.Opening = StockAmount{
			Qty:   r.Closing.Qty - r.Received.Qty + r.Issued.Qty - r.Returned.Qty + r.Scrapped.Qty - r.Adjusted.Qty,
			Value: r.Closing.Value - r.Received.Value + r.Issued.Value - r.Returned.Value + r.Scrapped.Value - r.Adjusted.Value,
		}
		if r.Opening == (StockAmount{}) && r.Closing == (StockAmount{}) && r.Received == (StockAmount{}) && r.Issued == (StockAmount{}) &&
			r.Returned == (StockAmount{}) && r.Scrapped == (StockAmount{}) && r.Adjusted == (StockAmount{}) {
			continue // moved only after the period
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Part != out[j].Part {
			return out[i].Part < out[j].Part
		}
		return out[i].Store < out[j].Store
	})
	for i := range out {
		p, err := tx.Part(out[i].Part)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if p != nil {
			out[i].Name, out[i].Unit = p.Name, p.Unit
		}
	}
	return out, nil
}

// StockLine is what /stock shows for a part in a store.
type StockLine struct {
	Part  *Part
	Store string
	// OnHand and Value are the store's level.
	OnHand, Value int64
	// Reserved is what open jobs took from this store and still hold.
	Reserved int64
	// OnOrder is what approved purchases still expect in this store.
	OnOrder int64
	Low     bool
}

// StockOverview lists every part kept in store ("" for all stores), by
// code then store. openTickets are the open jobs (Tx.OpenTickets), whose
// parts count as reserved.
func StockOverview(tx PartsTx, store string, openTickets []string) ([]StockLine, error) {
	reserved := map[[2]string]int64{}
	for _, t := range openTickets {
		held, err := tx.StockLevels(JobLocation(t))
		if err != nil || len(held) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		moves, err := tx.StockMovesOfTicket(t)
		if err != nil {
			return nil, err
		}
		src := jobSources(moves)
		for _, h := range held {
			left := h.Qty
			for _, s := range src[h.Part] {
				q := min(s.qty, left)
				reserved[[2]string{h.Part, s.store}] += q
				left -= q
			}
		}
	}
	onOrder := map[[2]string]int64{}
	prs, err := tx.OpenPurchaseRequests()
	if err != nil {
		return nil, err
	}
	for _, r := range prs {
		onOrder[[2]string{r.Part, r.Store}] += r.OnOrder()
	}
	var out []StockLine
	err = tx.EachPart(func(p *Part) error {
		for _, s := range p.Stores {
			if store != "" && s != store {
				continue
			}
			l, err := tx.StockLevel(p.Code, s)
			if err != nil {
				return err
			}
			k := [2]string{p.Code, s}
			out = append(out, StockLine{Part: p, Store: s, OnHand: l.Qty, Value: l.Value, Reserved: reserved[k], OnOrder: onOrder[k],
				Low: p.MinStock > 0 && l.Qty < p.MinStock})
		}
		return nil
	})
	return out, err
}

// JobPartsCost is the KPI accumulator's parts hook (KPIOptions.PartsCost):
// a job's parts cost is the value its parts left the stores with, frozen
// at posting and net of returns — the value the job holds on the ledger,
// never re-costed at today's price. ok is false for a job holding none.
func JobPartsCost(tx PartsTx) func(t *Ticket, _ []TicketEvent) (int64, bool) {
	return func(t *Ticket, _ []TicketEvent) (int64, bool) {
		levels, err := tx.StockLevels(JobLocation(t.ID))
		if err != nil || len(levels) == 0 {
			return 0, false
		}
		var sum int64
		for _, l := range levels {
			sum += l.Value
		}
		return sum, true
	}
}

// PartsCost is the parts cost of a group of jobs.
type PartsCost struct {
	Key, Label string
	Jobs       int
	Cents      int64
}

// MonthParts is the parts cost of a month's tickets, per category and per
// technician (JobPartsCost of each).
type MonthParts struct {
	Jobs                     int
	Cents                    int64
	ByCategory, ByTechnician []PartsCost
	cats, techs              map[string]*PartsCost
}

func (m *MonthParts) add(tx PartsTx, t *Ticket) error {
	cost, ok := JobPartsCost(tx)(t, nil)
	if !ok {
		return nil
	}
	if m.cats == nil {
		m.cats, m.techs = map[string]*PartsCost{}, map[string]*PartsCost{}
	}
	m.Jobs++
	m.Cents += cost
	for _, g := range []struct {
		m          map[string]*PartsCost
		key, label string
	}{{m.cats, t.Category, ""}, {m.techs, t.AssigneeID, t.Assignee}} {
		if g.key == "" {
			continue
		}
		pc := g.m[g.key]
		if pc == nil {
			pc = &PartsCost{Key: g.key, Label: g.label}
			g.m[g.key] = pc
		}
		pc.Jobs++
		pc.Cents += cost
	}
	return nil
}

// finish sorts the groups: dearest first, then by key.
func (m *MonthParts) finish() {
	for _, g := range []struct {
		m   map[string]*PartsCost
		out *[]PartsCost
	}{{m.cats, &m.ByCategory}, {m.techs, &m.ByTechnician}} {
		*g.out = (*g.out)[:0]
		for _, pc := range g.m {
			*g.out = append(*g.out, *pc)
		}
		sort.Slice(*g.out, func(i, j int) bool {
			a, b := (*g.out)[i], (*g.out)[j]
			if a.Cents != b.Cents {
				return a.Cents > b.Cents
			}
			return a.Key < b.Key
		})
	}
}

// monthPartsText is the /month lines on parts ("" when no job used any).
func (c *call) monthPartsText(m *MonthParts, l Lang) string {
	if m.Jobs == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n" + c.tl(l, "month.parts.head", "total", Money(m.Cents), "jobs", m.Jobs))
	var cats []string
	for _, pc := range m.ByCategory {
		cats = append(cats, c.tl(l, "month.parts.item", "name", c.categoryLabel(pc.Key, l), "cost", Money(pc.Cents), "jobs", pc.Jobs))
	}
	b.WriteString("\n" + c.tl(l, "month.parts.categories", "list", strings.Join(cats, c.tl(l, "order.sep"))))
	var techs []string
	for _, pc := range m.ByTechnician[:min(len(m.ByTechnician), monthReportTop)] {
		techs = append(techs, c.tl(l, "month.parts.item", "name", pc.Label, "cost", Money(pc.Cents), "jobs", pc.Jobs))
	}
	if len(techs) > 0 {
		b.WriteString("\n" + c.tl(l, "month.parts.techs", "list", strings.Join(techs, c.tl(l, "order.sep"))))
	}
	return b.String()
}
