package scalegen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// Month calls fn for n tickets reported evenly over the calendar month
// that starts at from, each with a plausible audit trail, without a store:
// the input of the report and form benchmarks (the estate reports about
// 42,000 tickets a month at 1,000,000 tickets over two years). The tickets
// are the store generator's (same categories, places, people, reworks,
// emergencies, one in a thousand open); household orders carry an agreed
// one-item quote and finished tickets a fault code.
func Month(from time.Time, n int, fn func(*flows.Ticket, []flows.TicketEvent) error) error {
	step := from.AddDate(0, 1, 0).Sub(from) / time.Duration(max(n, 1))
	for i := 0; i < n; i++ {
		tk := ticket(i, from.Add(time.Duration(i)*step))
		recorded(tk, i)
		if err := fn(tk, Trail(tk)); err != nil {
			return err
		}
	}
	return nil
}

// Trail is an audit trail for a generated ticket, consistent with its
// summary fields: reported, accepted, on the way, arrived, quote agreed
// (household), three passed tests, sign-off (refused once for a rework),
// confirmed, goodbye and score. One ticket in seventeen was not accepted
// in time.
func Trail(t *flows.Ticket) []flows.TicketEvent {
	evs := make([]flows.TicketEvent, 0, 16)
	add := func(at time.Time, actor, action string, from, to flows.State, note string) {
		evs = append(evs, flows.TicketEvent{Seq: len(evs) + 1, At: at, Actor: actor, Action: action, From: from, To: to, Note: note})
	}
	tech := t.AssigneeID
	add(t.Created, t.ResidentID, flows.ActionReported, "", flows.StateNew, t.Emergency)
	if n, _ := strconv.Atoi(t.ID[strings.LastIndexByte(t.ID, '-')+1:]); n%17 == 0 && t.Accepted != nil {
		add(t.Accepted.Add(-time.Second), "system", "sla_accept", flows.StateNew, flows.StateNew, "breach")
	}
	if t.Accepted == nil {
		return evs
	}
	add(*t.Accepted, tech, string(flows.ActAccept), flows.StateNew, flows.StateAccepted, "")
	if t.Arrived == nil {
		return evs
	}
	add(t.Accepted.Add(t.Arrived.Sub(*t.Accepted)/2), tech, string(flows.ActOnTheWay), flows.StateAccepted, flows.StateOnTheWay, "")
	arr := *t.Arrived
	add(arr, tech, string(flows.ActArrive), flows.StateOnTheWay, flows.StateOnSite, "")
	if t.Finished == nil {
		return evs
	}
	fin := *t.Finished
	if t.Visit != nil && t.Visit.Quote != nil {
		add(arr.Add(fin.Sub(arr)/4), t.ResidentID, "quote_agreed", flows.StateOnSite, flows.StateOnSite, "#1 "+flows.Money(t.Visit.Quote.Total()))
	}
	for k := 1; k <= 3; k++ {
		add(fin.Add(time.Duration(k-4)*time.Minute), tech, "test_pass", flows.StateOnSite, flows.StateOnSite, fmt.Sprint(k))
	}
	if t.Reworks > 0 {
		add(fin.Add(-30*time.Minute), tech, string(flows.ActDone), flows.StateOnSite, flows.StateDone, "")
		add(fin.Add(-25*time.Minute), t.ResidentID, string(flows.ActNotFixed), flows.StateDone, flows.StateOnSite, "")
	}
	if f := t.Fault; f.Complete() {
		add(fin.Add(-30*time.Second), tech, "fault", flows.StateOnSite, flows.StateOnSite, "signoff "+f.Component+"/"+f.Symptom+"/"+f.Cause+"/"+f.Action)
	}
	add(fin, tech, string(flows.ActDone), flows.StateOnSite, flows.StateDone, "")
	if t.State != flows.StateClosed {
		return evs
	}
	add(fin.Add(5*time.Minute), t.ResidentID, string(flows.ActFixed), flows.StateDone, flows.StateConfirmed, "")
	add(fin.Add(6*time.Minute), tech, string(flows.ActGoodbye), flows.StateConfirmed, flows.StateSurvey, "")
	closed := fin.Add(10 * time.Minute)
	if t.Closed != nil && t.Closed.After(closed) {
		closed = *t.Closed
	}
	add(closed, t.ResidentID, string(flows.ActScore), flows.StateSurvey, flows.StateClosed, strconv.Itoa(t.Score))
	return evs
}

// Person is the generated person with the id ("tg:<n>"), as Generate
// stores them, or nil.
func Person(id string) *flows.Person {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "tg:"))
	if err != nil || !strings.HasPrefix(id, "tg:") {
		return nil
	}
	t0, _ := time.Parse(time.RFC3339, First)
	p := &flows.Person{ID: id, Lang: flows.LangZH, Chat: flows.Address{Channel: "tg", Chat: strconv.Itoa(n)}, Registered: true, Created: t0, Updated: t0}
	switch {
	case n == LeadID:
		p.Role, p.Name = flows.RoleLead, "王主管"
	case n >= 2000 && n < 2000+Technicians:
		p.Role, p.Name = flows.RoleTechnician, fmt.Sprintf("师傅%03d", n-2000)
	case n >= 100000 && n < 100000+Residents:
		i := n - 100000
		p.Role, p.Name, p.Phone = flows.RoleResident, fmt.Sprintf("住户%05d", i), fmt.Sprintf("139%08d", i)
		p.Building, p.Unit, p.Room = address(i)
	default:
		return nil
	}
	return p
}
