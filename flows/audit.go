package flows

import (
	"context"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// The monthly audit: a reproducible sample of last month's finished work
// sent to the leads with the checklist gaps flagged.

// audit sends the lead a sample of last month's finished tickets with the
// checklist gaps flagged: missing photos, fewer tests, no recorded consent.
func (c *call) audit(month string) error {
	samples, _ := aheadOf[auditSamples](c)
	done, ok := samples[month]
	if !ok {
		var err error
		if done, err = c.auditSample(month); err != nil {
			return err
		}
	}
	l := c.e.o.DefaultLang
	var b strings.Builder
	b.WriteString(c.tl(l, "audit.head", "month", month[:4]+"-"+month[4:], "n", len(done)))
	for _, t := range done {
		flags := append(c.auditFlags(t, l), c.overrideFlags(t, l)...)
		if len(flags) == 0 {
			flags = []string{c.tl(l, "audit.ok")}
		}
		b.WriteString("\n" + c.tl(l, "audit.line", "ticket", t.ID, "name", t.Assignee, "flags", strings.Join(flags, c.tl(l, "order.sep"))))
	}
	return c.toLeads("audit.wrap", "text", b.String())
}

// auditSample picks the month's audit sample: the AuditCount finished
// tickets with the smallest hash of month+id — reproducible, spread over
// the month, and kept while streaming, so a month of a large store is
// never held in memory.
func (c *call) auditSample(month string) ([]*Ticket, error) {
	start, err := time.ParseInLocation("200601", month, c.e.o.Location)
	if err != nil {
		return nil, nil
	}
	key := func(t *Ticket) uint64 { h := fnv.New64a(); h.Write([]byte(month + t.ID)); return h.Sum64() }
	limit := c.e.o.Governance.AuditCount
	var done []*Ticket
	var keys []uint64
	err = c.tx.EachTicketTouched(start.UTC(), start.AddDate(0, 1, 0).UTC(), func(t *Ticket) error {
		if t.State != StateClosed || t.Visit == nil || limit <= 0 {
			return nil
		}
		k := key(t)
		i := sort.Search(len(keys), func(i int) bool { return keys[i] > k })
		if i >= limit {
			return nil
		}
		keys = append(keys[:i], append([]uint64{k}, keys[i:]...)...)
		done = append(done[:i], append([]*Ticket{t}, done[i:]...)...)
		if len(done) > limit {
			keys, done = keys[:limit], done[:limit]
		}
		return nil
	})
	return done, err
}

// auditSamples are audit samples read ahead of a tick, by month.
type auditSamples map[string][]*Ticket

// auditAhead reads the samples of the audits due now in a read
// transaction before the tick's write transaction, which then only
// renders them: the month's scan does not hold bbolt's single writer.
func (e *Engine) auditAhead(ctx context.Context, now time.Time) any {
	samples := auditSamples{}
	_ = e.o.Store.View(ctx, func(tx Tx) error {
		due, err := tx.DueTimers(now, 100)
		if err != nil {
			return nil
		}
		c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
		for _, tm := range due {
			if tm = readTimer(tm); tm.Kind != tmAudit {
				continue
			}
			if done, err := c.auditSample(tm.Month); err == nil {
				samples[tm.Month] = done
			}
		}
		return nil
	})
	if len(samples) == 0 {
		return nil
	}
	return samples
}

// auditFlags lists what the ticket's checklist record lacks.
func (c *call) auditFlags(t *Ticket, l Lang) []string {
	var flags []string
	v := t.Visit
	sop := c.e.SOP()
	for _, st := range sop.Steps {
		if min := st.MinPhotos(); min > 0 && applies(t, st) && len(v.Photos[st.ID]) < min && v.Skipped[st.ID] == "" {
			flags = append(flags, c.tl(l, "audit.no_photo", "step", st.Title[l]))
		}
	}
	if v.Tests < sop.MinTests {
		flags = append(flags, c.tl(l, "audit.few_tests", "n", v.Tests, "min", sop.MinTests))
	}
	if i := sop.indexKind(StepEntry); i >= 0 && applies(t, sop.Steps[i]) && v.Entry == "" {
		flags = append(flags, c.tl(l, "audit.no_consent"))
	}
	if t.Kind == OrderHousehold && !v.QuoteOK {
		flags = append(flags, c.tl(l, "audit.no_quote"))
	}
	return flags
}
