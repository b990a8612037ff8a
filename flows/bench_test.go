package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/store"
)

// BenchmarkHandle measures durable events per second through the real
// engine and bbolt store (fsync on every commit): a resident's report
// dialogue step, committed with its dedupe mark and outbox rows.
func BenchmarkHandle(b *testing.B) { benchHandle(b, false) }

// BenchmarkHandleGroupCommit is the same load from 128 concurrent senders
// with group commit: many events share one transaction and one fsync.
func BenchmarkHandleGroupCommit(b *testing.B) { benchHandle(b, true) }

func benchHandle(b *testing.B, group bool) {
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	// The test world's options with the load this benchmark has always
	// measured: one category, no emergency types, on a store with fsync.
	opts := flowstest.Options(b, st, func() time.Time { return now })
	opts.Categories, opts.Emergencies, opts.GroupCommit = []flows.Category{{Key: "water", Labels: map[flows.Lang]string{flows.LangZH: "水"}}}, nil, group
	eng, err := flows.NewEngine(opts)
	if err != nil {
		b.Fatal(err)
	}
	const residents = 1000
	ctx := context.Background()
	err = st.Update(ctx, func(tx flows.Tx) error {
		for i := 0; i < residents; i++ {
			id := fmt.Sprintf("tg:%d", 100000+i)
			p := &flows.Person{ID: id, Role: flows.RoleResident, Name: "住户", Registered: true, Lang: flows.LangZH,
				Chat: flows.Address{Channel: "tg", Chat: id[3:]}, Building: "1", Unit: "1", Room: "101"}
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	event := func(i int) flows.Event {
		id := fmt.Sprintf("tg:%d", 100000+i%residents)
		return flows.Event{Key: fmt.Sprintf("b:%d", i), Kind: flows.EvCommand, Command: "report", At: now,
			From: flows.Sender{ID: id, Chat: flows.Address{Channel: "tg", Chat: id[3:]}}}
	}
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	if !group {
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := eng.Handle(ctx, event(i)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
	} else {
		var next atomic.Int64
		b.SetParallelism(64) // 64 × GOMAXPROCS concurrent senders: a busy morning on the webhook
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				t0 := time.Now()
				if _, err := eng.Handle(ctx, event(int(next.Add(1)))); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}

// BenchmarkRawCommit is the reference: one small bbolt write transaction
// with fsync, the ceiling for one-commit-per-event designs.
func BenchmarkRawCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("k"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(fmt.Sprint(i)), []byte("v"))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}
