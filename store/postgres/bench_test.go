package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
)

// BenchmarkEngine measures durable events per second through the real
// engine on both stores, side by side in one run:
//
//   - store: bbolt (fsync on every commit) or postgres (the server named by
//     REPAIRBOT_PG_DSN, which must be durable: fsync and synchronous_commit
//     on, e.g. PG_DURABLE=1 .ci/pg-start);
//   - event: "report" is flows' BenchmarkHandle's event (/report: profile
//     read, dialogue write, dedupe mark, one outbox row); "ticket" is the
//     resident's last tap of a report ("as soon as possible"), which creates
//     the ticket: the day's number, the ticket and its indexes, the audit
//     line, the dialogue's end, the resident's earlier tickets, the accept
//     timer, the reply and the group card;
//   - mode: "serial" is one event at a time, one transaction each; "group"
//     is 128 concurrent senders with GroupCommit (Batch); on PostgreSQL
//     "group-lanesN" runs at most N batches at once (Options.BatchLanes;
//     "group" is the default); "replicas2" is the group mode on two stores
//     sharing the database, each with its engine and half the senders (two
//     replicas of the bot behind a load balancer: separate pools, sessions
//     and batchers, the conversation locks of both).
//
// Every event is a different resident's, as on a busy morning.
func BenchmarkEngine(b *testing.B) {
	for _, st := range []string{"bbolt", "postgres"} {
		for _, event := range []string{"report", "ticket"} {
			modes := []string{"serial", "group"}
			if st == "postgres" {
				modes = append(modes, "group-lanes1", "group-lanes3", "replicas2")
			}
			for _, mode := range modes {
				lanes := 0
				fmt.Sscanf(mode, "group-lanes%d", &lanes)
				b.Run(st+"/"+event+"/"+mode, func(b *testing.B) {
					stores := []flows.Store{benchStore(b, st, lanes)}
					if mode == "replicas2" {
						stores = append(stores, mustOpenDSN(b, benchDSN(stores[0]), postgres.Options{MaxConns: 16}))
					}
					benchEngine(b, stores, event, mode != "serial")
				})
			}
		}
	}
}

func benchStore(b *testing.B, kind string, lanes int) flows.Store {
	if kind == "bbolt" {
		s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	s := MustOpen(b, postgres.Options{MaxConns: 16, BatchLanes: lanes})
	var fsync, syncCommit string
	if err := s.Pool().QueryRow(context.Background(), "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &syncCommit); err != nil {
		b.Fatal(err)
	}
	if fsync != "on" || syncCommit != "on" {
		b.Skipf("the server is not durable (fsync=%s synchronous_commit=%s): start one with PG_DURABLE=1 .ci/pg-start", fsync, syncCommit)
	}
	return s
}

// benchDSN is the connection string of a benchmark's PostgreSQL store.
func benchDSN(st flows.Store) string {
	return st.(*postgres.Store).Pool().Config().ConnConfig.ConnString()
}

// benchEngine runs the events through one engine per store (stores after
// the first share the first's database: replicas); event i goes to
// engine i % len(stores).
func benchEngine(b *testing.B, stores []flows.Store, event string, group bool) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	st := stores[0]
	var engines []*flows.Engine
	for _, s := range stores {
		eng, err := flows.NewEngine(flows.Options{Store: s, Texts: i18n.MustLoad(flows.LangZH), Location: loc, GroupCommit: group, SOP: sop.Default(),
			Group: flows.Address{Channel: "tg", Chat: "-100200"}, SLA: flows.SLAOptions{AcceptWithin: 15 * time.Minute},
			Now: func() time.Time { return now }, Categories: []flows.Category{{Key: "water", Labels: map[flows.Lang]string{flows.LangZH: "水"}}}})
		if err != nil {
			b.Fatal(err)
		}
		engines = append(engines, eng)
	}
	ctx := context.Background()
	pid := func(i int) string { return fmt.Sprintf("tg:%d", 100000+i) }
	// One resident per event, each (for "ticket") at the last step of a report.
	const chunk = 500
	for lo := 0; lo < b.N; lo += chunk {
		err := st.Update(ctx, func(tx flows.Tx) error {
			for i := lo; i < min(lo+chunk, b.N); i++ {
				id := pid(i)
				p := &flows.Person{ID: id, Role: flows.RoleResident, Name: "住户", Registered: true, Lang: flows.LangZH,
					Chat: flows.Address{Channel: "tg", Chat: id[3:]}, Building: "1", Unit: "1", Room: fmt.Sprint(101 + i%20)}
				if err := tx.PutPerson(p); err != nil {
					return err
				}
				if event == "ticket" {
					d := &flows.Dialogue{PersonID: id, Kind: "report", Step: "timing", Seq: 1, Started: now, Updated: now,
						Category: "water", Description: "厨房水管漏水", Kind2: flows.OrderHousehold}
					if err := tx.PutDialogue(d); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ev := func(i int) flows.Event {
		id := pid(i)
		e := flows.Event{Key: fmt.Sprintf("b:%d", i), At: now, From: flows.Sender{ID: id, Chat: flows.Address{Channel: "tg", Chat: id[3:]}}}
		if event == "ticket" {
			e.Kind, e.Data = flows.EvCallback, flows.EncodePayload("d", "1", "asap")
		} else {
			e.Kind, e.Command = flows.EvCommand, "report"
		}
		return e
	}
	handle := func(i int) (time.Duration, error) {
		t0 := time.Now()
		_, err := engines[i%len(engines)].Handle(ctx, ev(i))
		return time.Since(t0), err
	}
	stats := func() (sum postgres.TxStats) {
		for _, s := range stores {
			if ps, ok := s.(*postgres.Store); ok {
				t := ps.TxStats()
				sum.Commits += t.Commits
				sum.Batches += t.Batches
				sum.BatchCalls += t.BatchCalls
				sum.Retries += t.Retries
				sum.RoundTrips += t.RoundTrips
			}
		}
		return sum
	}
	before := stats()
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	if !group {
		for i := 0; i < b.N; i++ {
			d, err := handle(i)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, d)
		}
	} else {
		var next atomic.Int64
		b.SetParallelism(64) // 64 × GOMAXPROCS concurrent senders, as in flows' BenchmarkHandleGroupCommit
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				d, err := handle(int(next.Add(1) - 1))
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
	if _, ok := st.(*postgres.Store); ok {
		s := stats()
		if n := s.Batches - before.Batches; n > 0 {
			b.ReportMetric(float64(s.BatchCalls-before.BatchCalls)/float64(n), "calls/batch")
		}
		b.ReportMetric(float64(s.RoundTrips-before.RoundTrips)/float64(b.N), "trips/event")
		b.ReportMetric(float64(s.Retries-before.Retries), "retries")
	}
	if event == "ticket" {
		// Every event made its ticket.
		var n int
		err := st.View(ctx, func(tx flows.Tx) error {
			open, err := tx.OpenTickets()
			n = len(open)
			return err
		})
		if err != nil || n != b.N {
			b.Fatalf("%d open tickets after %d events (%v)", n, b.N, err)
		}
	}
}

// BenchmarkCommit is the reference for one commit per event on each store:
// one Update holding one MarkSeen, serially. For bbolt it is an fsync; for
// PostgreSQL a round trip (BEGIN, the insert and COMMIT ride together) and
// the server's WAL flush.
func BenchmarkCommit(b *testing.B) {
	for _, kind := range []string{"bbolt", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			st := benchStore(b, kind, 0)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := st.Update(ctx, func(tx flows.Tx) error { return tx.MarkSeen(fmt.Sprint("k:", i), time.Now()) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
		})
	}
}
