// Package records renders the exports messages carry (flows.Export): the
// SOP's forms as xlsx (package forms) and the spare-parts workbooks
// (flows.PartsFiles) read from the store, and the KPI charts as PNG
// (package charts) drawn from the figures a message carries.
// The channels' senders call it at send time (bot.Exporter), so a month's
// repair log is built outside the engine's write transaction, from a read
// transaction that streams the month; the daily job archives the day's
// files with it. It reads through flows.Store only: like the adapters, it
// never imports a concrete store.
package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/repairbot/repairbot/charts"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/forms"
)

// Options configure a Renderer.
type Options struct {
	// Store is read in read transactions; required.
	Store flows.Store
	// Texts are the catalogs; required.
	Texts flows.Texts
	// Profile ("property", "rental") picks the forms' titles.
	Profile string
	// OrgName heads every form.
	OrgName string
	// Location is the organisation's time zone; UTC when nil.
	Location    *time.Location
	Categories  []flows.Category
	Emergencies []flows.EmergencyType
	// SOP is the procedure in force (step titles, prices, fault labels); optional.
	SOP func() *flows.SOP
	// OpenMedia reads a kept photo copy by the path the media store gave
	// it (media.Store.Open: its files, or the database the replicas
	// share), embedded in the work orders; nil lists the photos only.
	OpenMedia func(rel string) (io.ReadCloser, error)
	// Daily builds a day's task list that is not archived yet (the
	// engine's Engine.DailyList); nil renders only archived lists.
	Daily func(tx flows.Tx, day string) (*flows.DailyList, error)
	// HintRules are the KPI workbook's preventive hint rules
	// (flows.DefaultHintRules when nil).
	HintRules []flows.HintRule
	// CacheFor keeps a rendered log, daily list or KPI workbook this long,
	// so the same file asked for by several people at once (the weekly
	// report to every lead) is rendered once (default 1 minute; negative: off).
	CacheFor time.Duration
	// Now is the clock of the cache; time.Now when nil.
	Now func() time.Time
	// Parts writes the spare-parts workbooks (the catalog, the monthly
	// stock report: package stockxlsx); nil makes them ErrExportInvalid.
	Parts flows.PartsFiles
	// Poster draws a building's QR poster (package posters); nil makes
	// ExportPoster ErrExportInvalid.
	Poster func(flows.PosterSpec) ([]byte, error)
	// PosterPDF draws it as a PDF; nil makes ExportPosterPDF ErrExportInvalid.
	PosterPDF func(flows.PosterSpec) ([]byte, error)
	// AreaName names an area in a language (the engine's, Engine.AreaName);
	// nil: the KPI workbook is not broken down by area.
	AreaName func(key string, l flows.Lang) string
}

// Renderer renders exports. It is safe for concurrent use.
type Renderer struct {
	o     Options
	mu    sync.Mutex
	cache map[string]*cached
}

type cached struct {
	done chan struct{}
	data []byte
	err  error
	at   time.Time
}

// New checks the options and loads the charts' font.
func New(o Options) (*Renderer, error) {
	if o.Store == nil || o.Texts == nil {
		return nil, errors.New("records: Store and Texts are required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheFor == 0 {
		o.CacheFor = time.Minute
	}
	if err := charts.UseCJKFont(); err != nil {
		return nil, err
	}
	return &Renderer{o: o, cache: map[string]*cached{}}, nil
}

// maxCached bounds the cache (each entry is one file, a few MB at most).
const maxCached = 8

// Export renders x (bot.Exporter).
func (r *Renderer) Export(ctx context.Context, x flows.Export) ([]byte, error) {
	if err := x.Check(); err != nil {
		return nil, err
	}
	switch x.Form {
	case flows.ExportWorkOrder:
		return r.workOrder(ctx, x)
	case flows.ExportChartCategory, flows.ExportChartAccept:
		return r.chart(x)
	case flows.ExportRepairLog, flows.ExportDaily, flows.ExportKPI, flows.ExportStockReport:
		return r.cached(ctx, x)
	case flows.ExportPartsCatalog:
		return r.parts(ctx, x)
	case flows.ExportPoster:
		if r.o.Poster == nil {
			return nil, flows.ErrExportInvalid
		}
		return r.o.Poster(*x.Poster)
	case flows.ExportPosterPDF:
		if r.o.PosterPDF == nil {
			return nil, flows.ErrExportInvalid
		}
		return r.o.PosterPDF(*x.Poster)
	}
	return nil, flows.ErrExportInvalid
}

// cached renders a range form once for everyone asking within CacheFor.
func (r *Renderer) cached(ctx context.Context, x flows.Export) ([]byte, error) {
	if r.o.CacheFor < 0 {
		return r.render(ctx, x)
	}
	k := fmt.Sprintf("%s|%s|%s|%d|%d|%q", x.Form, x.Day, x.Lang, x.From.Unix(), x.To.Unix(), x.Areas)
	now := r.o.Now()
	r.mu.Lock()
	for key, c := range r.cache {
		select {
		case <-c.done:
			if now.Sub(c.at) > r.o.CacheFor || c.err != nil {
				delete(r.cache, key)
			}
		default:
		}
	}
	c, ok := r.cache[k]
	if !ok && len(r.cache) < maxCached {
		c = &cached{done: make(chan struct{}), at: now}
		r.cache[k] = c
		r.mu.Unlock()
		c.data, c.err = r.render(ctx, x)
		close(c.done)
		return c.data, c.err
	}
	r.mu.Unlock()
	if !ok {
		return r.render(ctx, x)
	}
	select {
	case <-c.done:
		return c.data, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Renderer) render(ctx context.Context, x flows.Export) ([]byte, error) {
	switch x.Form {
	case flows.ExportRepairLog:
		return r.repairLog(ctx, x)
	case flows.ExportDaily:
		return r.daily(ctx, x)
	case flows.ExportKPI:
		return r.kpi(ctx, x)
	case flows.ExportStockReport:
		return r.parts(ctx, x)
	}
	return nil, flows.ErrExportInvalid
}

// parts writes a spare-parts workbook from the ledger in one read
// transaction: the catalog, or the stock report of [From, To) titled
// with its first month.
func (r *Renderer) parts(ctx context.Context, x flows.Export) ([]byte, error) {
	if r.o.Parts == nil {
		return nil, flows.ErrExportInvalid
	}
	var buf bytes.Buffer
	err := r.o.Store.View(ctx, func(tx flows.Tx) error {
		if x.Form == flows.ExportPartsCatalog {
			return r.o.Parts.WriteCatalog(&buf, tx, x.Lang)
		}
		return r.o.Parts.WriteStockReport(&buf, tx, x.From, x.To, x.From.In(r.o.Location).Format("2006-01"), x.Lang)
	})
	return buf.Bytes(), err
}

// options are the forms' options for x, reading people through tx.
func (r *Renderer) options(tx flows.Tx, x flows.Export) forms.Options {
	people := map[string]*flows.Person{}
	o := forms.Options{Texts: r.o.Texts, Lang: x.Lang, Profile: r.o.Profile, OrgName: r.o.OrgName, Location: r.o.Location,
		Categories: r.o.Categories, Emergencies: r.o.Emergencies, Now: x.At,
		Person: func(id string) *flows.Person {
			p, ok := people[id]
			if !ok {
				p, _ = tx.Person(id)
				if len(people) < 20_000 {
					people[id] = p
				}
			}
			return p
		}}
	if r.o.SOP != nil {
		o.SOP = r.o.SOP()
	}
	if name := r.o.AreaName; name != nil {
		o.AreaName = func(key string) string { return name(key, x.Lang) }
	}
	if r.o.OpenMedia != nil {
		o.Photo = r.photo
	}
	return o
}

// photo reads a photo's kept copy through the media store.
func (r *Renderer) photo(p flows.Photo) ([]byte, error) {
	if p.Local == "" {
		return nil, os.ErrNotExist
	}
	rc, err := r.o.OpenMedia(p.Local)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (r *Renderer) workOrder(ctx context.Context, x flows.Export) ([]byte, error) {
	var buf bytes.Buffer
	err := r.o.Store.View(ctx, func(tx flows.Tx) error {
		t, err := tx.Ticket(x.Ticket)
		if err != nil {
			return err
		}
		events, err := tx.TicketEvents(t.ID)
		if err != nil {
			return err
		}
		return forms.WorkOrder(&buf, r.options(tx, x), t, events)
	})
	return buf.Bytes(), err
}

// repairLog streams the log in two goroutines: this one walks the month
// in the read transaction (decoding the tickets, looking up their
// residents), the other writes the rows (the spreadsheet's cells), so the
// two halves of the work overlap on a machine with two cores.
func (r *Renderer) repairLog(ctx context.Context, x flows.Export) ([]byte, error) {
	type row struct {
		t   *flows.Ticket
		tt  flows.TicketTimes
		res *flows.Person
	}
	var buf bytes.Buffer
	err := r.o.Store.View(ctx, func(tx flows.Tx) error {
		o := r.options(tx, x)
		lookup := o.Person
		// The writer reads only the row's resident, handed over with the row.
		var cur *flows.Person
		o.Person = func(id string) *flows.Person {
			if cur != nil && cur.ID == id {
				return cur
			}
			return nil
		}
		lg, err := forms.NewRepairLog(o, x.From, x.To)
		if err != nil {
			return err
		}
		defer lg.Close()
		rows := make(chan row, 512)
		done := make(chan error, 1)
		go func() {
			var werr error
			for rw := range rows {
				if werr == nil {
					cur = rw.res
					werr = lg.AddTimes(rw.t, rw.tt)
				}
			}
			done <- werr
		}()
		err = tx.EachTicketReported(x.From, x.To, true, func(b flows.TicketBrief) error {
			if !flows.InAreas(x.Areas, b.Ticket().AreaKey()) {
				return nil // another area's: not in a lead's log
			}
			t, err := tx.Ticket(b.ID)
			if err != nil {
				return err
			}
			if b.Trail == nil { // a ticket older than the store's trail projection
				events, err := tx.TicketEvents(t.ID)
				if err != nil {
					return err
				}
				b.Trail = flows.FoldTrail(events)
			}
			select {
			case rows <- row{t: t, tt: flows.TimesOf(t, b.Trail), res: lookup(t.ResidentID)}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(rows)
		if werr := <-done; err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		return lg.Write(&buf)
	})
	return buf.Bytes(), err
}

func (r *Renderer) daily(ctx context.Context, x flows.Export) ([]byte, error) {
	var buf bytes.Buffer
	err := r.o.Store.View(ctx, func(tx flows.Tx) error {
		list, err := tx.DailyList(x.Day)
		if errors.Is(err, flows.ErrNotFound) && r.o.Daily != nil {
			list, err = r.o.Daily(tx, x.Day)
		}
		if err != nil {
			return err
		}
		if list, err = inAreas(tx, list, x.Areas); err != nil {
			return err
		}
		return forms.DailyTasks(&buf, r.options(tx, x), list, func(id string) *flows.Ticket {
			t, err := tx.Ticket(id)
			if err != nil {
				return nil
			}
			return t
		})
	})
	return buf.Bytes(), err
}

// kpiOptions are the accumulator's options for a period, the parts cost
// read through tx (the job's stock level, flows.JobPartsCost).
// inAreas keeps a daily list's lines (and mismatches) of tickets in
// areas (nil: all).
func inAreas(tx flows.Tx, list *flows.DailyList, areas []string) (*flows.DailyList, error) {
	if areas == nil {
		return list, nil
	}
	out := *list
	out.Lines, out.Mismatches = nil, nil
	var hidden []string
	for _, ln := range list.Lines {
		t, err := tx.Ticket(ln.Ticket)
		if err != nil && !errors.Is(err, flows.ErrNotFound) {
			return nil, err
		}
		if t != nil && flows.InAreas(areas, t.AreaKey()) {
			out.Lines = append(out.Lines, ln)
		} else {
			hidden = append(hidden, ln.Ticket)
		}
	}
	// A mismatch names its ticket (as the engine's /daily filters them).
	for _, m := range list.Mismatches {
		if !slices.ContainsFunc(hidden, func(id string) bool { return strings.Contains(m, id) }) {
			out.Mismatches = append(out.Mismatches, m)
		}
	}
	return &out, nil
}

func (r *Renderer) kpiOptions(tx flows.Tx, from, to time.Time, areas []string) flows.KPIOptions {
	return flows.KPIOptions{From: from, To: to, Location: r.o.Location, HintRules: r.o.HintRules, PartsCost: flows.JobPartsCost(tx), Areas: areas}
}

func (r *Renderer) labels(l flows.Lang) charts.Labels {
	return charts.Labels{Texts: r.o.Texts, Lang: l, Categories: r.o.Categories, Location: r.o.Location}
}

func (r *Renderer) kpi(ctx context.Context, x flows.Export) ([]byte, error) {
	var buf bytes.Buffer
	err := r.o.Store.View(ctx, func(tx flows.Tx) error {
		k := r.kpiOptions(tx, x.From, x.To, x.Areas)
		acc := flows.NewKPI(k)
		book, err := forms.NewKPIBook(r.options(tx, x), k)
		if err != nil {
			return err
		}
		defer book.Close()
		if err := flows.WalkKPI(tx, acc, book.Each); err != nil {
			return err
		}
		rep := acc.Result()
		pngs, err := charts.KPI(rep, r.labels(x.Lang))
		if err != nil {
			return err
		}
		return book.Write(&buf, rep, pngs...)
	})
	return buf.Bytes(), err
}

func (r *Renderer) chart(x flows.Export) ([]byte, error) {
	var buf bytes.Buffer
	l := r.labels(x.Lang)
	var err error
	if x.Form == flows.ExportChartCategory {
		err = charts.Bar(&buf, charts.ByCategory(x.KPI, l))
	} else {
		err = charts.Line(&buf, charts.AcceptByWeek(x.KPI, l))
	}
	return buf.Bytes(), err
}

// Archive writes the files of a past local day (YYYYMMDD) under
// dir/YYYY/MM/DD: the daily task list 维修任务单, the day's repair log
// 报修记录表 and the work order of every ticket closed or ended that day,
// in lang. A file already there is kept (a second run, or a run after a
// restart, writes only what is missing); each file is written whole or
// not at all (a temporary file renamed). It returns the files it wrote.
func (r *Renderer) Archive(ctx context.Context, dir, day string, lang flows.Lang) ([]string, error) {
	start, err := time.ParseInLocation("20060102", day, r.o.Location)
	if err != nil {
		return nil, fmt.Errorf("records: archive day %q: %w", day, err)
	}
	end := start.AddDate(0, 0, 1)
	at := end // the files say they were made as of the end of the day
	out := filepath.Join(dir, start.Format("2006"), start.Format("01"), start.Format("02"))
	title := func(key string) string { return r.o.Texts.T(lang, key+"."+r.profile()) }
	date := start.Format("2006-01-02")
	jobs := []struct {
		name string
		x    flows.Export
	}{
		{title("forms.title.daily") + "_" + date + ".xlsx", flows.Export{Form: flows.ExportDaily, Day: day, Lang: lang, At: at}},
		{title("forms.title.repair_log") + "_" + date + ".xlsx", flows.Export{Form: flows.ExportRepairLog, From: start.UTC(), To: end.UTC(), Lang: lang, At: at}},
	}
	err = r.o.Store.View(ctx, func(tx flows.Tx) error {
		return tx.EachTicketTouched(start.UTC(), end.UTC(), func(t *flows.Ticket) error {
			if t.State.Open() || t.Closed == nil || t.Closed.Before(start) || !t.Closed.Before(end) {
				return nil
			}
			name := t.ID + "_" + r.o.Texts.T(lang, "order.form."+string(t.Kind)+"."+r.profile()) + ".xlsx"
			jobs = append(jobs, struct {
				name string
				x    flows.Export
			}{name, flows.Export{Form: flows.ExportWorkOrder, Ticket: t.ID, Lang: lang, At: at}})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return nil, fmt.Errorf("records: archive: %w", err)
	}
	var wrote []string
	for _, j := range jobs {
		path := filepath.Join(out, j.name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		data, err := r.render(ctx, j.x)
		if j.x.Form == flows.ExportWorkOrder {
			data, err = r.workOrder(ctx, j.x)
		}
		if err != nil {
			return wrote, fmt.Errorf("records: archive %s: %w", j.name, err)
		}
		if err := writeFile(path, data); err != nil {
			return wrote, err
		}
		wrote = append(wrote, path)
	}
	return wrote, nil
}

func (r *Renderer) profile() string {
	if r.o.Profile == "" {
		return "property"
	}
	return r.o.Profile
}

// writeFile writes data to path through a temporary file in the same
// directory, so a crash leaves the whole file or none.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".archive-*")
	if err != nil {
		return fmt.Errorf("records: archive: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("records: archive %s: %w", filepath.Base(path), err)
	}
	return nil
}
