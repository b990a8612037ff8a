package flows

import "strings"

// The daily certificate sweep (Options.SweepAt, people.sweep_at): the
// expiry and 复审 reminders at 60/30/7/1 days and the application window
// go to the holder and the leads, each once (the marks are written in the
// same transaction as the messages, so a restart neither loses nor
// repeats one); the day after a deadline the leads are told the holder is
// out of the jobs that need the certificate, and the holder's open jobs
// that need it go back to the group.

// sweepTimerKey is the key of the sweep timer of a local day.
func sweepTimerKey(day string) string { return tmCertSweep + ":" + day }

// ensurePeople keeps the qualifications area's standing data and timers:
// the roster seeded once, and the next daily sweep scheduled. On the first
// tick of a process (catchUp) past today's sweep time the sweep runs
// again: one that ran already finds nothing new (its marks are stored),
// one the process was down for is not lost.
func (c *call) ensurePeople(catchUp bool) error {
	if err := c.ensureRoster(); err != nil {
		return err
	}
	local := c.now.In(c.e.o.Location)
	today := c.atMinutes(local, c.e.o.SweepAt)
	next := today
	if !today.After(c.now) {
		next = c.atMinutes(local.AddDate(0, 0, 1), c.e.o.SweepAt)
		if catchUp {
			if err := c.certSweep(); err != nil {
				return err
			}
		}
	}
	day := c.dayKey(next)
	return c.tx.PutTimer(Timer{Key: sweepTimerKey(day), Due: next.UTC(), Kind: tmCertSweep, Day: day})
}

// certSweep is the daily sweep: every reminder due is marked, audited
// and sent in this transaction.
func (c *call) certSweep() error {
	q := c.e.quals()
	rms, err := q.SweepCerts(c.tx, c.now, c.e.o.Location)
	if err != nil {
		return err
	}
	if len(rms) == 0 {
		return nil
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	for _, rm := range rms {
		holder, err := c.person(rm.PersonID)
		if err != nil {
			return err
		}
		if !holder.Active() {
			continue // a leaver's card: marked, nobody to tell
		}
		c.send(Message{To: holder.Chat, Text: rm.Holder.Text(c.e.o.Texts, holder.Lang), Priority: PrioReminder})
		var returned []string
		if rm.Lapsed {
			if returned, err = c.requeueLapsed(holder, rm.Type); err != nil {
				return err
			}
		}
		for _, p := range leads {
			if p.ID == holder.ID {
				continue
			}
			text := rm.WithName(holder.Name).Text(c.e.o.Texts, p.Lang)
			if len(returned) > 0 {
				text += "\n" + c.tl(p.Lang, "quals.requeued", "tickets", strings.Join(returned, c.tl(p.Lang, "order.sep")))
			}
			c.send(Message{To: p.Chat, Text: text, Priority: PrioReminder})
		}
	}
	return nil
}

// requeueLapsed returns holder's open jobs that need certificate type k
// and have not started on site to the group; a job a lead assigned them
// knowing they did not qualify (an override) stays with them.
func (c *call) requeueLapsed(holder *Person, k string) ([]string, error) {
	jobs, err := c.tx.TicketsByAssignee(holder.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range jobs {
		if c.e.quals().NeedOf(t).Cert != k || t.State == StateOnSite || !hasState(Transitions[ActReturnGroup].From, t.State) || t.overriddenFor(holder.ID) {
			continue
		}
		if err := c.requeue(t, "lapsed "+k, "quals.requeued_holder"); err != nil {
			return nil, err
		}
		out = append(out, t.ID)
	}
	return out, nil
}

// requeue puts a job back in the group without its assignee, on the
// bot's or a lead's decision (a lapsed certificate, a leaver): a new card
// goes to the group, the technician and the resident are told, and the
// accept clock (or, for an emergency, the on-duty page) starts again.
// The technician, when still active, is told by the catalog key tell.
func (c *call) requeue(t *Ticket, note, tell string) error {
	old, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	c.retireCard(t, langOf(old, c.lang))
	if err := c.returnJobParts(t, "returned to the group"); err != nil { // parts_job.go
		return err
	}
	t.AssigneeID, t.Assignee, t.Accepted, t.Arrived = "", "", nil, nil
	if err := c.move(t, ActReturnGroup, note); err != nil {
		return err
	}
	if err := c.unschedule(t.ID, tmArrive, tmRemind); err != nil {
		return err
	}
	c.groupCard(t, true)
	if em, ok := c.e.emergency(t.Emergency); ok {
		if err := c.pageOnDuty(t, em, "emergency.repage"); err != nil {
			return err
		}
	} else if c.areaSLA(t).AcceptWithin > 0 {
		if err := c.schedule(tmAccept, t.ID, 0, c.now.Add(c.areaSLA(t).AcceptWithin)); err != nil {
			return err
		}
	}
	if old.Active() {
		c.tell(old, tell, []any{"ticket", t.ID})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "status.requeued", []any{"ticket", t.ID})
	return nil
}
