// Package scalegen writes a large, plausible store for the scale
// benchmarks: two years of tickets from 10,000 residents handled by 200
// technicians, one in a thousand still open. The store benchmark measures
// the store alone on it; the root package's benchmark runs the whole bot
// on it.
package scalegen

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// Estate sizes and the people a benchmark talks as.
const (
	Residents   = 10_000
	Technicians = 200
	// LeadID is the Telegram user id of the generated team lead.
	LeadID = 900001
	// First is the creation time of the first ticket; the tickets span two
	// years from it, so the last full month is 2026-10.
	First = "2024-12-01T00:00:00Z"
)

var (
	categories  = []string{"water", "water", "water", "electricity", "electricity", "door", "appliance", "public", "other"}
	emergencies = []string{"water_leak", "power_cut", "lift"}
)

// Options shape a generated estate.
type Options struct {
	// TrailsFrom gives every ticket reported at or after it its audit trail
	// (Trail), its agreed quote and its fault code, as the bot would have
	// written them; the older ones keep only their summary fields. Zero:
	// no trails. The records benchmarks read the trails of their month.
	TrailsFrom time.Time
}

// Generate writes n tickets (and the people they name) into a new store
// at path, without audit trails. The store is opened without fsync: the
// file is a throwaway.
func Generate(path string, n int) error { return GenerateWith(path, n, Options{}) }

// GenerateWith is Generate with options.
func GenerateWith(path string, n int, o Options) (err error) {
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		return err
	}
	// Flush what NoSync left in the page cache once closed (deferred
	// first, so it runs last): otherwise the first fsync of whoever opens
	// the file next, the bot's start-up, pays for writing the whole file.
	defer syncFile(path, &err)
	defer s.Close()
	t0, _ := time.Parse(time.RFC3339, First)
	person := func(id int, role flows.Role, name string) *flows.Person {
		return &flows.Person{ID: fmt.Sprintf("tg:%d", id), Role: role, Name: name, Lang: flows.LangZH,
			Chat: flows.Address{Channel: "tg", Chat: fmt.Sprint(id)}, Registered: true, Created: t0, Updated: t0}
	}
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return tx.PutPerson(person(LeadID, flows.RoleLead, "王主管"))
	}); err != nil {
		return err
	}
	err = inBatches(s, Technicians, 5_000, func(tx flows.Tx, i int) error {
		return tx.PutPerson(person(2000+i, flows.RoleTechnician, fmt.Sprintf("师傅%03d", i)))
	})
	if err != nil {
		return err
	}
	err = inBatches(s, Residents, 5_000, func(tx flows.Tx, i int) error {
		p := person(100000+i, flows.RoleResident, fmt.Sprintf("住户%05d", i))
		p.Phone = fmt.Sprintf("139%08d", i)
		p.Building, p.Unit, p.Room = address(i)
		return tx.PutPerson(p)
	})
	if err != nil {
		return err
	}
	step := 2 * 365 * 24 * time.Hour / time.Duration(n)
	return inBatches(s, n, 10_000, func(tx flows.Tx, i int) error {
		// Twice, as the bot would: when it was reported and when it
		// closed, so the touched index has both days.
		tk := ticket(i, t0.Add(time.Duration(i)*step))
		withTrail := !o.TrailsFrom.IsZero() && !tk.Created.Before(o.TrailsFrom)
		if withTrail {
			recorded(tk, i)
		}
		reported := *tk
		reported.State, reported.Updated, reported.Accepted, reported.Arrived, reported.Finished, reported.Closed =
			flows.StateNew, tk.Created, nil, nil, nil, nil
		if err := tx.PutTicket(&reported); err != nil {
			return err
		}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		if withTrail {
			for _, e := range Trail(tk) {
				if err := tx.AppendTicketEvent(tk.ID, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// faultCodes are plausible codings per category (component, symptom,
// cause, action), from the built-in SOP's trees.
var faultCodes = map[string][][4]string{
	"water":       {{"TAP", "DRIP", "WEAR", "REPLACE"}, {"VALVE", "LEAK", "WEAR", "REPLACE"}, {"DRAIN", "CLOG", "BLOCK", "CLEAN"}, {"PIPE", "LEAK", "CORR", "REPAIR"}},
	"electricity": {{"SOCKET", "NOPOWER", "WEAR", "REPLACE"}, {"BREAKER", "TRIP", "OVERLOAD", "RESET"}, {"LIGHT", "NOPOWER", "WEAR", "REPLACE"}},
	"door":        {{"LOCK", "STUCK", "WEAR", "REPLACE"}, {"HINGE", "LOOSE", "WEAR", "ADJUST"}},
	"appliance":   {{"AC", "NOSTART", "MAINT", "REPAIR"}, {"HOOD", "NOISE", "WEAR", "CLEAN"}},
	"public":      {{"LAMP", "NOPOWER", "WEAR", "REPLACE"}, {"LIFT", "STUCK", "MAINT", "REPAIR"}},
	"other":       {{"FIXTURE", "BROKEN", "MISUSE", "REPAIR"}},
}

// recorded gives a generated ticket what the bot records beside its
// trail: the agreed quote of a household order and the fault coding.
func recorded(tk *flows.Ticket, i int) {
	if tk.Kind == flows.OrderHousehold && tk.Visit.QuoteOK {
		tk.Visit.Quote = &flows.Quote{Seq: 1, Status: "agreed", Lines: []flows.QuoteLine{{Code: "W02", Qty: 1, Cents: 2500}}}
	}
	if tk.Finished != nil {
		codes := faultCodes[tk.Category]
		f := codes[i/len(categories)%len(codes)]
		tk.Fault = &flows.FaultCode{Component: f[0], Symptom: f[1], Cause: f[2], Action: f[3], By: tk.AssigneeID, At: *tk.Finished}
	}
}

// inBatches calls put for 0..n-1, size calls to a transaction.
func inBatches(s *store.Store, n, size int, put func(tx flows.Tx, i int) error) error {
	for i := 0; i < n; {
		err := s.Update(context.Background(), func(tx flows.Tx) error {
			for j := 0; j < size && i < n; j, i = j+1, i+1 {
				if err := put(tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// address spreads residents over 20 buildings × 4 units × 125 rooms.
func address(resident int) (building, unit, room string) {
	return fmt.Sprintf("%d栋", 1+resident%20), fmt.Sprintf("%d单元", 1+resident/20%4), fmt.Sprintf("%d", 101+resident/80%125)
}

// ticket is the i-th generated ticket, reported at `at`: accepted after
// minutes, on site within the hour, closed three hours later; one in ten
// needed rework, one in twenty is an emergency, one in a thousand is open.
func ticket(i int, at time.Time) *flows.Ticket {
	res := i % Residents
	b, u, r := address(res)
	tech := i % Technicians
	acc, arr := at.Add(time.Duration(3+i%20)*time.Minute), at.Add(time.Duration(20+i%50)*time.Minute)
	fin, closed := arr.Add(time.Duration(30+i%120)*time.Minute), at.Add(3*time.Hour)
	tk := &flows.Ticket{ID: fmt.Sprintf("BX-%s-%06d", at.Format("20060102"), i), State: flows.StateClosed,
		Category: categories[i%len(categories)], Description: "厨房水管漏水，地上有积水", Kind: flows.OrderHousehold, ASAP: true,
		ResidentID: fmt.Sprintf("tg:%d", 100000+res), Building: b, Unit: u, Room: r,
		AssigneeID: fmt.Sprintf("tg:%d", 2000+tech), Assignee: fmt.Sprintf("师傅%03d", tech), Score: 3 + i%3,
		Created: at, Updated: closed, Accepted: &acc, Arrived: &arr, Finished: &fin, Closed: &closed, Rev: 8,
		SOPVersion: "v1 (2026.1)", Visit: &flows.Visit{Tests: 3, Entry: "resident", QuoteOK: true}}
	if i%7 == 0 {
		tk.Kind, tk.Visit.QuoteOK = flows.OrderPublic, false
	}
	if i%10 == 0 {
		tk.Reworks = 1
	}
	if i%20 == 0 {
		tk.Emergency = emergencies[i/20%len(emergencies)]
		tk.Category = "water"
	}
	if i%97 == 0 {
		tk.Score = 2
	}
	if i%1000 == 0 {
		tk.State, tk.Closed, tk.Finished, tk.Score = flows.StateAccepted, nil, nil, 0
		tk.Updated = acc
	}
	return tk
}

// syncFile fsyncs the file at path, keeping the first error.
func syncFile(path string, err *error) {
	f, e := os.OpenFile(path, os.O_RDWR, 0)
	if e == nil {
		e = f.Sync()
		if c := f.Close(); e == nil {
			e = c
		}
	}
	if *err == nil {
		*err = e
	}
}
