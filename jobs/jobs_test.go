package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
)

// A timer that fell due while the process was down fires once when the
// runner opens, and the cron tick keeps running until Close.
func TestOpenFiresOverdueTimersOnce(t *testing.T) {
	w := flowstest.New(t)
	res := flowstest.Person{ID: 100, Name: "王芳"}
	w.Register(res, "13800138000")
	id := w.Report(res, "门锁坏了") // schedules the 15-minute acceptance check
	w.Drain()
	w.Now = w.Now.Add(time.Hour)
	r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Tick: time.Second, Log: zerolog.Nop(), Now: func() time.Time { return w.Now }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []string
	_ = w.Store.View(context.Background(), func(tx flows.Tx) error {
		es, err := tx.TicketEvents(id)
		for _, e := range es {
			evs = append(evs, e.Action+":"+e.Note)
		}
		return err
	})
	if len(evs) != 2 || evs[1] != "sla_accept:breach late" {
		t.Fatalf("events %v", evs)
	}
	r.Tick() // a doubled tick fires nothing more
	if n := len(w.Events(id)); n != 2 {
		t.Fatalf("%d events after a second tick", n)
	}
}
