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

// audit sends each area's leads a sample of the area's tickets finished
// last month with the checklist gaps flagged: missing photos, fewer
// tests, no recorded consent. The admins receive every area's sample,
// grouped by area (areas_daily.go).
func (c *call) audit(month string) error {
	samples, _ := aheadOf[auditSamples](c)
	byArea, ok := samples[month]
	if !ok {
		var err error
		if byArea, err = c.auditSample(month); err != nil {
			return err
		}
	}
	l := c.e.o.DefaultLang
	lines := map[string][]string{}
	for _, a := range c.e.areaList() {
		lines[a.Key] = []string{}
		for _, t := range byArea[a.Key] {
			flags := append(c.auditFlags(t, l), c.overrideFlags(t, l)...)
			if len(flags) == 0 {
				flags = []string{c.tl(l, "audit.ok")}
			}
			lines[a.Key] = append(lines[a.Key], c.tl(l, "audit.line", "ticket", t.ID, "name", t.Assignee, "flags", strings.Join(flags, c.tl(l, "order.sep"))))
		}
	}
	return c.areaDigest(lines, true, c.areaRecipients, func(p *Person, parts []areaPart) {
		n := 0
		for _, pt := range parts {
			n += len(pt.lines)
		}
		var b strings.Builder
		b.WriteString(c.tl(l, "audit.head", "month", month[:4]+"-"+month[4:], "n", n))
		for _, ln := range c.sectionParts(p, parts, l) {
			b.WriteString("\n" + ln)
		}
		c.send(Message{To: p.Chat, Text: c.tl(p.Lang, "audit.wrap", "text", b.String()), Priority: PrioUrgent})
	})
}

// auditSample picks the month's audit sample of each area: the AuditCount
// finished tickets of the area with the smallest hash of month+id —
// reproducible, spread over the month, and kept while streaming, so a
// month of a large store is never held in memory.
func (c *call) auditSample(month string) (map[string][]*Ticket, error) {
	start, err := time.ParseInLocation("200601", month, c.e.o.Location)
	if err != nil {
		return nil, nil
	}
	key := func(t *Ticket) uint64 { h := fnv.New64a(); h.Write([]byte(month + t.ID)); return h.Sum64() }
	limit := c.e.o.Governance.AuditCount
	done := map[string][]*Ticket{}
	keys := map[string][]uint64{}
	err = c.tx.EachTicketTouched(start.UTC(), start.AddDate(0, 1, 0).UTC(), func(t *Ticket) error {
		if t.State != StateClosed || t.Visit == nil || limit <= 0 {
			return nil
		}
		a := c.e.areaOf(t)
		ks, ds := keys[a], done[a]
		k := key(t)
		i := sort.Search(len(ks), func(i int) bool { return ks[i] > k })
		if i >= limit {
			return nil
		}
		ks = append(ks[:i], append([]uint64{k}, ks[i:]...)...)
		ds = append(ds[:i], append([]*Ticket{t}, ds[i:]...)...)
		if len(ds) > limit {
			ks, ds = ks[:limit], ds[:limit]
		}
		keys[a], done[a] = ks, ds
		return nil
	})
	return done, err
}

// auditSamples are audit samples read ahead of a tick, by month and area.
type auditSamples map[string]map[string][]*Ticket

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
