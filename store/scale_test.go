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
			ts, err := tx.TicketsTouched(from, from.AddDate(0, 1, 0))
			month = len(ts)
			return err
		})
		monthTime := time.Since(start)
		b.ReportMetric(openTime.Seconds()*1000, "open_ms")
		b.ReportMetric(openList.Seconds()*1000, "open_list_ms")
		b.ReportMetric(monthTime.Seconds()*1000, "month_ms")
		b.ReportMetric(float64(rssOpen)/1024, "rss_after_open_MB")
		b.ReportMetric(float64(rssList)/1024, "rss_after_open_list_MB")
		b.ReportMetric(float64(rssKB())/1024, "rss_after_month_MB")
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
	s, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Two years of tickets, 1 in 1,000 still open.
	t0 := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	step := 2 * 365 * 24 * time.Hour / time.Duration(n)
	for i := 0; i < n; {
		err := s.Update(context.Background(), func(tx flows.Tx) error {
			for j := 0; j < 10_000 && i < n; j, i = j+1, i+1 {
				at := t0.Add(time.Duration(i) * step)
				closed := at.Add(3 * time.Hour)
				tk := &flows.Ticket{ID: fmt.Sprintf("BX-%s-%06d", at.Format("20060102"), i), State: flows.StateClosed, Category: "water",
					Description: "厨房水管漏水，地上有积水", Kind: flows.OrderHousehold, ASAP: true,
					ResidentID: fmt.Sprintf("tg:%d", 100000+i%10000), Building: "3栋", Unit: "2单元", Room: "1502",
					AssigneeID: fmt.Sprintf("tg:%d", 2000+i%200), Assignee: "张师傅", Score: 5,
					Created: at, Updated: closed, Closed: &closed, Rev: 8, SOPVersion: "v1 (2026.1)", Visit: &flows.Visit{Tests: 3, Entry: "resident"}}
				if i%1000 == 0 {
					tk.State, tk.Closed = flows.StateAccepted, nil
				}
				if err := tx.PutTicket(tk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
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
