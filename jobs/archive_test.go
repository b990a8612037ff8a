package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/records"
)

// TestArchiveYesterday: the runner archives yesterday's files when it
// opens (a bot that was down at the archive time catches up): the day's
// task list, its repair log and the work order of the ticket closed that
// day; a second run keeps them and writes nothing.
func TestArchiveYesterday(t *testing.T) {
	w := flowstest.New(t)
	res := flowstest.Person{ID: 100, Name: "王芳"}
	tech := flowstest.Person{ID: 200, Name: "张师傅"}
	w.Register(res, "13800138000")
	w.Staff(tech, "technician")
	id := w.Report(res, "门锁坏了")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, res, id)
	w.Expect(w.Tap(res, flows.EncodePayload("fix", id), false))
	w.Expect(w.Tap(tech, flows.EncodePayload("bye", id), false))
	w.Expect(w.Tap(res, flows.EncodePayload("sc", id, "5"), false))
	w.Drain()
	rec, err := records.New(records.Options{Store: w.Store, Texts: w.Opts.Texts, Location: w.Opts.Location,
		Categories: w.Opts.Categories, SOP: w.Eng.SOP, Daily: w.Eng.DailyList})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var wrote [][]string
	archive := func(ctx context.Context, day string) ([]string, error) {
		files, err := rec.Archive(ctx, dir, day, flows.LangZH)
		wrote = append(wrote, files)
		return files, err
	}
	w.Now = w.Now.Add(24 * time.Hour) // the next morning
	for i := 0; i < 2; i++ {
		r, err := jobs.Open(jobs.Options{Engine: w.Eng, Store: w.Store, Tick: time.Hour, Log: zerolog.Nop(),
			Now: func() time.Time { return w.Now }, Location: w.Opts.Location, Archive: archive, ArchiveAt: 30})
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // waits for the catch-up
	}
	day := filepath.Join(dir, "2026", "11", "27")
	entries, err := os.ReadDir(day)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{id + "_维修工作单（住户）.xlsx", "报修记录表_2026-11-27.xlsx", "维修任务单（维修组联）_2026-11-27.xlsx"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("archived %v, want %v", names, want)
	}
	if len(wrote) != 2 || len(wrote[0]) != 3 || len(wrote[1]) != 0 {
		t.Fatalf("runs wrote %v", wrote)
	}
}
