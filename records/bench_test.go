//go:build linux

package records_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/scalegen"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/records"
)

// The records on a generated estate read from the store, in this
// process (the running bot is BenchmarkBotScale in the root package):
// RECORDS_TICKETS tickets over two years (default 100,000: a month of
// 4,200), October's with their trails.
//
//	RECORDS_TICKETS=1000000 go test -run '^$' -bench Records -benchtime 1x ./records/
func estate(b *testing.B) (testkit.Store, *records.Renderer, time.Time, time.Time, *time.Location) {
	b.Helper()
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("RECORDS_TICKETS")); err == nil && v > 0 {
		n = v
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	path := filepath.Join(b.TempDir(), "repair.db")
	if err := scalegen.GenerateWith(path, n, scalegen.Options{TrailsFrom: from}); err != nil {
		b.Fatal(err)
	}
	st := testkit.MustOpen(b, path, testkit.Options{})
	b.Cleanup(func() { st.Close() })
	r, err := records.New(records.Options{Store: st, Texts: i18n.MustLoad(flows.LangZH), Location: loc,
		Categories: flowstest.DefaultCategories, CacheFor: -1})
	if err != nil {
		b.Fatal(err)
	}
	return st, r, from, from.AddDate(0, 1, 0), loc
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkRecordsMonth(b *testing.B) {
	st, r, from, to, loc := estate(b)
	ctx := context.Background()
	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			c0 := cpu()
			for i := 0; i < b.N; i++ {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpu()-c0).Milliseconds())/float64(b.N), "cpu_ms/op")
		})
	}
	run("KPIWalk", func() error {
		return st.View(ctx, func(tx flows.Tx) error {
			acc := flows.NewKPI(flows.KPIOptions{From: from, To: to, Location: loc})
			return flows.WalkKPI(tx, acc, nil)
		})
	})
	run("RepairLog", func() error {
		_, err := r.Export(ctx, flows.Export{Form: flows.ExportRepairLog, From: from, To: to, Lang: flows.LangZH, At: to})
		return err
	})
	run("KPIBook", func() error {
		_, err := r.Export(ctx, flows.Export{Form: flows.ExportKPI, From: from, To: to, Lang: flows.LangZH, At: to})
		return err
	})
}
