package store_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/scalegen"
	"github.com/repairbot/repairbot/store"
)

// BenchmarkScale builds a store with many tickets (SCALE_TICKETS, default
// 100,000; the numbers in docs/BENCHMARKS.md use 1,000,000), then measures
// what a restart and a lead pay: opening the file, listing the open tickets
// (/open reads the tickets.open index) and reading one month of tickets by
// the tickets.touched index (the daily list and the monthly audit), and the
// process's resident memory after each.
//
//	SCALE_TICKETS=1000000 go test -run '^$' -bench Scale -benchtime 1x -timeout 30m ./store/
func BenchmarkScale(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SCALE_TICKETS")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "scale.db")
	// Generate in a child process, so the memory measured below is only
	// what opening and reading the store costs.
	genStart := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScaleGenerate$")
	cmd.Env = append(os.Environ(), "SCALE_GEN="+path, "SCALE_TICKETS="+strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("generate: %v\n%s", err, out)
	}
	gen := time.Since(genStart)
	var s *store.Store
	var err error
	fi, _ := os.Stat(path)
	runtime.GC()
	base := rssKB()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		start := time.Now()
		s, err = store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		openTime := time.Since(start)
		rssOpen := rssKB()
		start = time.Now()
		var open int
		_ = s.View(context.Background(), func(tx flows.Tx) error {
			ts, err := tx.OpenTickets()
			open = len(ts)
			return err
		})
		openList := time.Since(start)
		rssList := rssKB()
		start = time.Now()
		var month int
		_ = s.View(context.Background(), func(tx flows.Tx) error {
			from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			return tx.EachTicketTouched(from, from.AddDate(0, 1, 0), func(*flows.Ticket) error {
				month++
				return nil
			})
		})
		monthTime := time.Since(start)
		rssMonth := rssKB()
		// The nightly orphan sweep reads every record once (MediaRefs).
		start = time.Now()
		refs := 0
		if err := s.MediaRefs(func(string) { refs++ }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds()*1000, "media_refs_ms")
		b.ReportMetric(float64(rssKB())/1024, "rss_after_media_refs_MB")
		b.ReportMetric(float64(refs), "media_refs")
		b.ReportMetric(openTime.Seconds()*1000, "open_ms")
		b.ReportMetric(openList.Seconds()*1000, "open_list_ms")
		b.ReportMetric(monthTime.Seconds()*1000, "month_ms")
		b.ReportMetric(float64(rssOpen)/1024, "rss_after_open_MB")
		b.ReportMetric(float64(rssList)/1024, "rss_after_open_list_MB")
		b.ReportMetric(float64(rssMonth)/1024, "rss_after_month_MB")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_inuse_MB")
		_ = base
		b.ReportMetric(float64(open), "open_tickets")
		b.ReportMetric(float64(month), "month_tickets")
		s.Close()
	}
	b.ReportMetric(float64(n), "tickets")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file_MB")
	b.ReportMetric(gen.Seconds(), "generate_s")
}

// TestScaleGenerate writes the tickets of BenchmarkScale when run as its
// child (SCALE_GEN names the file); otherwise it does nothing.
func TestScaleGenerate(t *testing.T) {
	path := os.Getenv("SCALE_GEN")
	if path == "" {
		t.Skip("child process of BenchmarkScale")
	}
	n, _ := strconv.Atoi(os.Getenv("SCALE_TICKETS"))
	if err := scalegen.Generate(path, n); err != nil {
		t.Fatal(err)
	}
}

// rssKB is the process's resident set (Linux), in KiB.
func rssKB() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	if raw, err := os.ReadFile("/proc/self/statm"); err == nil {
		var size, res int64
		if _, err := fmt.Sscan(string(raw), &size, &res); err == nil {
			return res * int64(os.Getpagesize()) / 1024
		}
	}
	return ru.Maxrss
}
