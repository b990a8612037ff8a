//go:build linux

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/internal/scalegen"
)

// BenchmarkBotScale runs the real binary on a large generated store
// (SCALE_TICKETS, default 100,000; docs/BENCHMARKS.md reports 1,000,000)
// against the fake Bot API, and measures what the issues ask of it: the
// time from exec to the first poll (start-up must not scan the store), the
// bot's resident memory (VmRSS of the child process, read from /proc) once
// started and after a lead's /open, /daily and /month, each command's time
// from the update to the bot's answer, and the peak (VmHWM); then the
// records: /month's 报修记录表 of October as an xlsx document (the month's
// tickets carry their audit trails) with the peak memory up to it, and
// /stats 2026-10 up to its summary, its two chart photos and its workbook.
//
//	SCALE_TICKETS=1000000 go test -run '^$' -bench BotScale -benchtime 1x -timeout 30m .
func BenchmarkBotScale(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SCALE_TICKETS")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	dataDir := filepath.Join(dir, "data")
	genStart := time.Now()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	october := time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)
	if err := scalegen.GenerateWith(filepath.Join(dataDir, "repair.db"), n, scalegen.Options{TrailsFrom: october}); err != nil {
		b.Fatal(err)
	}
	gen := time.Since(genStart)
	bin := crashBuild(b, dir)
	fake := tgfake.New(tgfake.Options{Token: crashToken})
	b.Cleanup(fake.Close)
	fake.AddGroup(crashGroup, "Repair team")
	// The daily archive would render the generated estate's last day at
	// start-up, in the measured minutes: off here (it has its own test).
	bot := crashProcess(b, dir, bin, fake.URL(), dataDir, "[records]\narchive = false\nweekly_report = \"\"\n")
	lead := tgfake.User{ID: scalegen.LeadID, FirstName: "王主管", LanguageCode: "zh-hans"}

	// ask sends a command as the lead and waits for the answer that
	// contains want; it returns how long that took.
	ask := func(cmd, want string) time.Duration {
		b.Helper()
		after := 0
		if ms := fake.Messages(lead.ID); len(ms) > 0 {
			after = ms[len(ms)-1].ID
		}
		start := time.Now()
		fake.SendText(lead, lead.ID, cmd)
		if _, ok := fake.WaitMessage(lead.ID, 2*time.Minute, func(m tgfake.Message) bool {
			return m.ID > after && strings.Contains(m.Text, want)
		}); !ok {
			b.Fatalf("%s: no answer containing %q; logs:\n%s", cmd, want, bot.LogTails(1, 4000))
		}
		return time.Since(start)
	}
	// await waits for the n-th message after after in the lead's chat
	// matching pred, and returns how long after start it came.
	await := func(what string, start time.Time, after, n int, pred func(tgfake.Message) bool) (time.Duration, tgfake.Message) {
		b.Helper()
		var got tgfake.Message
		if !fake.WaitFor(3*time.Minute, func() bool {
			k := 0
			for _, m := range fake.Messages(lead.ID) {
				if m.ID > after && pred(m) {
					if k++; k == n {
						got = m
						return true
					}
				}
			}
			return false
		}) {
			b.Fatalf("%s never came; logs:\n%s", what, bot.LogTails(1, 4000))
		}
		return time.Since(start), got
	}
	top := func() int {
		if ms := fake.Messages(lead.ID); len(ms) > 0 {
			return ms[len(ms)-1].ID
		}
		return 0
	}
	// documentNamed matches a document whose file name contains part.
	documentNamed := func(part string) func(tgfake.Message) bool {
		return func(m tgfake.Message) bool {
			if m.DocumentFileID == "" {
				return false
			}
			name, _, _ := fake.File(m.DocumentFileID)
			return strings.Contains(name, part)
		}
	}
	photo := func(m tgfake.Message) bool { return m.PhotoFileID != "" }

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := bot.Start(); err != nil {
			b.Fatal(err)
		}
		// The line main logs once the store, the engine and the channels
		// are open and the poll loop is started.
		ready, ok := bot.WaitOutput("repairbot running", time.Minute)
		if !ok {
			b.Fatalf("the bot never started; logs:\n%s", bot.LogTails(1, 4000))
		}
		b.ReportMetric(ready.Sub(start).Seconds()*1000, "start_ms")
		if os.Getenv("SCALE_LOGS") != "" {
			defer func() { b.Log(bot.LogTails(1, 20000)) }()
		}
		time.Sleep(2 * time.Second) // let start-up work (command menus, timers) settle
		pid := bot.Pid()
		b.ReportMetric(procStatusMB(b, pid, "VmRSS"), "rss_started_MB")
		b.ReportMetric(ask("/open", "未完成工单").Seconds()*1000, "open_ms")
		b.ReportMetric(procStatusMB(b, pid, "VmRSS"), "rss_after_open_MB")
		b.ReportMetric(ask("/daily 2026-10-15", "维修任务单").Seconds()*1000, "daily_ms")
		b.ReportMetric(procStatusMB(b, pid, "VmRSS"), "rss_after_daily_MB")
		after, start, cpu0 := top(), time.Now(), procCPU(b, pid)
		b.ReportMetric(ask("/month 2026-10", "维修月报 2026-10").Seconds()*1000, "month_ms")
		b.ReportMetric(procStatusMB(b, pid, "VmRSS"), "rss_after_month_MB")
		// The month's 报修记录表 follows the report as a document, rendered by the sender.
		took, doc := await("the repair log", start, after, 1, documentNamed("报修记录表_2026-10-01_2026-10-31"))
		b.ReportMetric(took.Seconds()*1000, "repair_log_ms")
		b.ReportMetric(float64((procCPU(b, pid) - cpu0).Milliseconds()), "month_and_log_cpu_ms")
		b.ReportMetric(procStatusMB(b, pid, "VmHWM"), "rss_peak_repair_log_MB")
		if _, data, ok := fake.File(doc.DocumentFileID); ok {
			b.ReportMetric(float64(len(data))/1e6, "repair_log_MB")
		}
		after, start, cpu0 = top(), time.Now(), procCPU(b, pid)
		fake.SendText(lead, lead.ID, "/stats 2026-10")
		took, _ = await("the /stats summary", start, after, 1, func(m tgfake.Message) bool { return strings.Contains(m.Text, "维修服务指标") })
		b.ReportMetric(took.Seconds()*1000, "stats_text_ms")
		took, _ = await("the /stats charts", start, after, 2, photo)
		b.ReportMetric(took.Seconds()*1000, "stats_charts_ms")
		b.ReportMetric(float64((procCPU(b, pid) - cpu0).Milliseconds()), "stats_charts_cpu_ms")
		took, _ = await("the /stats workbook", start, after, 1, documentNamed("维修服务指标报表_2026-10-01_2026-10-31"))
		b.ReportMetric(took.Seconds()*1000, "stats_workbook_ms")
		b.ReportMetric(procStatusMB(b, pid, "RssAnon"), "rss_anon_MB")
		b.ReportMetric(procStatusMB(b, pid, "RssFile")+procStatusMB(b, pid, "RssShmem"), "rss_file_MB")
		b.ReportMetric(procStatusMB(b, pid, "VmHWM"), "rss_peak_MB")
		if code, err := bot.Term(30 * time.Second); err != nil || code != 0 {
			b.Fatalf("stop: exit %d, %v", code, err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(filepath.Join(dataDir, "repair.db")); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file_MB")
	}
	b.ReportMetric(float64(n), "tickets")
	b.ReportMetric(gen.Seconds(), "generate_s")
}

// procStatusMB reads one "kB" field of /proc/<pid>/status, in MiB.
func procStatusMB(tb testing.TB, pid int, field string) float64 {
	tb.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatalf("read the bot's memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			tb.Fatalf("%s: %v", field, err)
		}
		return kb / 1024
	}
	tb.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// procCPU is the CPU time (user + system, all threads) a process used so
// far, from /proc/<pid>/stat: on a machine shared with other work it
// moves less than the wall clock.
func procCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatalf("read the bot's CPU time: %v", err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
