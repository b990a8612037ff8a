//go:build linux

package forms_test

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/repairbot/repairbot/charts"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/forms"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/scalegen"
)

// monthTickets is a month of the 1,000,000-ticket estate (two years).
const monthTickets = 42_000

func benchMonth() (time.Time, time.Time, *time.Location) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 1, 0), loc
}

func benchOptions(loc *time.Location) forms.Options {
	return forms.Options{Texts: i18n.MustLoad(flows.LangZH), OrgName: "测试物业", Location: loc,
		Categories: flowstest.DefaultCategories, Person: scalegen.Person}
}

// peakRSS resets the process's peak resident set (Linux: clear_refs 5)
// and returns a function reading it back in MB (0 where unsupported).
func peakRSS() func() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return func() float64 {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return 0
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
				return float64(kb) / 1024
			}
		}
		return 0
	}
}

// cpuTime returns a function giving the process's CPU time (user +
// system, all threads) since the call, per operation: a measure that a
// machine shared with other work inflates less than the wall clock.
func cpuTime(b *testing.B) func() {
	used := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := used()
	return func() { b.ReportMetric(float64((used()-start).Milliseconds())/float64(b.N), "cpu_ms/op") }
}

// BenchmarkRepairLogMonth writes 报修记录表 for a month of 42,000 tickets
// (generated with their trails as they are fed, as a store walk would).
//
//	go test -run '^$' -bench RepairLogMonth -benchtime 3x -benchmem ./forms/
func BenchmarkRepairLogMonth(b *testing.B) {
	from, to, loc := benchMonth()
	o := benchOptions(loc)
	gen := time.Now()
	if err := scalegen.Month(from, monthTickets, func(*flows.Ticket, []flows.TicketEvent) error { return nil }); err != nil {
		b.Fatal(err)
	}
	genMS := float64(time.Since(gen).Milliseconds())
	peak := peakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	var size int
	for i := 0; i < b.N; i++ {
		lg, err := forms.NewRepairLog(o, from, to)
		if err != nil {
			b.Fatal(err)
		}
		if err := scalegen.Month(from, monthTickets, lg.Add); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := lg.Write(&buf); err != nil {
			b.Fatal(err)
		}
		if lg.Rows() != monthTickets {
			b.Fatalf("%d rows", lg.Rows())
		}
		size = buf.Len()
	}
	b.StopTimer()
	cpu()
	b.ReportMetric(float64(size)/1e6, "xlsx_MB")
	b.ReportMetric(peak(), "peak_rss_MB")
	b.ReportMetric(genMS, "gen_ms")
}

// BenchmarkKPIMonthCharts is the message part of /stats month: one walk
// feeding the KPI accumulator, then its two charts.
//
//	go test -run '^$' -bench KPIMonthCharts -benchtime 3x -benchmem ./forms/
func BenchmarkKPIMonthCharts(b *testing.B) {
	from, to, loc := benchMonth()
	o := benchOptions(loc)
	l := charts.Labels{Texts: o.Texts, Categories: o.Categories, Location: loc}
	if err := charts.UseCJKFont(); err != nil {
		b.Fatal(err)
	}
	peak := peakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	var walk, draw time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		acc := flows.NewKPI(flows.KPIOptions{From: from, To: to, Location: loc})
		if err := scalegen.Month(from, monthTickets, func(t *flows.Ticket, evs []flows.TicketEvent) error {
			acc.Add(t, evs)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		r := acc.Result()
		t1 := time.Now()
		if _, err := charts.KPI(r, l); err != nil {
			b.Fatal(err)
		}
		walk, draw = walk+t1.Sub(t0), draw+time.Since(t1)
	}
	b.StopTimer()
	cpu()
	b.ReportMetric(float64(walk.Milliseconds())/float64(b.N), "walk_ms")
	b.ReportMetric(float64(draw.Milliseconds())/float64(b.N), "charts_ms")
	b.ReportMetric(peak(), "peak_rss_MB")
}

// BenchmarkStatsMonth is what /stats month does on that month: one walk
// feeding the KPI accumulator and the KPI workbook's ticket list, then the
// two charts and the workbook with them.
//
//	go test -run '^$' -bench StatsMonth -benchtime 3x -benchmem ./forms/
func BenchmarkStatsMonth(b *testing.B) {
	from, to, loc := benchMonth()
	o := benchOptions(loc)
	l := charts.Labels{Texts: o.Texts, Categories: o.Categories, Location: loc}
	if err := charts.UseCJKFont(); err != nil { // once per process, at start-up in the bot
		b.Fatal(err)
	}
	peak := peakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	var walk, draw, write time.Duration
	var size int
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		k := flows.KPIOptions{From: from, To: to, Location: loc}
		acc := flows.NewKPI(k)
		book, err := forms.NewKPIBook(o, k)
		if err != nil {
			b.Fatal(err)
		}
		err = scalegen.Month(from, monthTickets, func(t *flows.Ticket, evs []flows.TicketEvent) error {
			acc.Add(t, evs)
			return book.Add(t, evs)
		})
		if err != nil {
			b.Fatal(err)
		}
		r := acc.Result()
		t1 := time.Now()
		pngs, err := charts.KPI(r, l)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		var buf bytes.Buffer
		if err := book.Write(&buf, r, pngs...); err != nil {
			b.Fatal(err)
		}
		walk, draw, write = walk+t1.Sub(t0), draw+t2.Sub(t1), write+time.Since(t2)
		size = buf.Len()
		if r.Total.Reported != monthTickets {
			b.Fatalf("%d reported", r.Total.Reported)
		}
	}
	b.StopTimer()
	cpu()
	n := float64(b.N)
	b.ReportMetric(float64(walk.Milliseconds())/n, "walk_ms")
	b.ReportMetric(float64(draw.Milliseconds())/n, "charts_ms")
	b.ReportMetric(float64(write.Milliseconds())/n, "xlsx_ms")
	b.ReportMetric(float64(size)/1e6, "xlsx_MB")
	b.ReportMetric(peak(), "peak_rss_MB")
}
