package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/storecopy"
)

// migrateStore is `repairbot migrate-store -from <bbolt file> -config
// config.toml`: the bbolt store copied into the PostgreSQL database that
// [store] names, the counts checked, then the kept photos and documents
// (the files under -photos, by default the photos directory beside the
// bbolt file) into the database's media table, where the bot on
// PostgreSQL reads them. With the bot stopped (the file's lock and the
// database's leader lock both say when it is not); safe to run again.
func migrateStore(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the bbolt file to copy (the bot stopped)")
	cfgPath := fs.String("config", "config.toml", `configuration file; its [store] (driver = "postgres", dsn) is the target`)
	photos := fs.String("photos", "", "the bbolt deployment's kept photos and documents (default: the photos directory beside -from)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("migrate-store: usage: repairbot migrate-store -from <bbolt file> -config config.toml [-photos <dir>]")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Store.Postgres() {
		return fmt.Errorf(`migrate-store: %s has store.driver = %q; the target must be driver = "postgres" with a dsn`, *cfgPath, cfg.Store.Driver)
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	src, err := store.Open(*from, store.Options{LockTimeout: time.Second, DefaultArea: cfg.DefaultArea()})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("migrate-store: %s: %w; stop the bot first", *from, err)
		}
		return fmt.Errorf("migrate-store: %s: %w", *from, err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, cfg.Store.DSN, postgres.Options{Now: now})
	if err != nil {
		return fmt.Errorf("migrate-store: store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
	}
	defer dst.Close()
	// A bot running on the database leads it: copying under its feet would
	// mix two histories.
	if lead, err := dst.TryLead(ctx); err != nil || !lead {
		if err == nil {
			err = errors.New("a repairbot runs against this database; stop it first")
		}
		return fmt.Errorf("migrate-store: store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
	}
	fmt.Fprintf(stdout, "copying %s into PostgreSQL %s\n", *from, config.RedactDSN(cfg.Store.DSN))
	pr := newProgressPrinter(stdout, now)
	sum, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Progress: pr.report, Now: now})
	pr.end()
	if err != nil {
		var mismatch *storecopy.CountMismatchError
		if errors.As(err, &mismatch) {
			return fmt.Errorf("migrate-store: %w; was the database empty (or a copy of this same file)?", err)
		}
		return fmt.Errorf("migrate-store: %w", err)
	}
	printSummary(stdout, sum)
	if *photos == "" {
		*photos = filepath.Join(filepath.Dir(*from), "photos")
	}
	return copyMedia(ctx, stdout, *photos, dst)
}

// copyMedia copies the kept files under dir into dst's media table and
// says how many; a missing dir is said, not an error (a deployment that
// never kept a photo, or keeps them elsewhere: -photos).
func copyMedia(ctx context.Context, w io.Writer, dir string, dst *postgres.Store) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(w, "no photos copied: %s is not a directory (-photos names the one the bbolt deployment kept them in)\n", dir)
		return nil
	}
	n, size, bad, err := media.CopyFiles(ctx, dir, dst.Blobs())
	if err != nil {
		return fmt.Errorf("migrate-store: photos and documents from %s (%d copied so far; run again to go on): %w", dir, n, err)
	}
	fmt.Fprintf(w, "photos and documents: %d copied from %s (%.1f MB) into the database\n", n, dir, float64(size)/(1<<20))
	if len(bad) > 0 {
		fmt.Fprintf(w, "skipped %d damaged copies (their bytes do not match their names): %s\n", len(bad), strings.Join(bad, ", "))
	}
	return nil
}

// progressPrinter shows a copy's progress: one line rewritten in place on
// a terminal, a line every 10 s otherwise (a log).
type progressPrinter struct {
	w    io.Writer
	tty  bool
	now  func() time.Time
	last time.Time
	wide int
}

func newProgressPrinter(w io.Writer, now func() time.Time) *progressPrinter {
	return &progressPrinter{w: w, tty: isTerminal(w), now: now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progressPrinter) report(pr storecopy.Progress) {
	t := p.now()
	if !p.tty && t.Sub(p.last) < 10*time.Second && pr.Done < pr.Total {
		return
	}
	p.last = t
	line := progressLine(pr)
	if p.tty {
		pad := max(p.wide-len(line), 0)
		p.wide = len(line)
		fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progressPrinter) end() {
	if p.tty && p.wide > 0 {
		fmt.Fprintln(p.w)
	}
}

// progressLine is "copied 12000 of 50000 records (24%), 4100/s, about 9s left".
func progressLine(pr storecopy.Progress) string {
	pct := 100
	if pr.Total > 0 {
		pct = pr.Done * 100 / pr.Total
	}
	line := fmt.Sprintf("copied %d of %d records (%d%%), %.0f/s", pr.Done, pr.Total, pct, pr.Rate())
	if left := pr.Left(); left > 0 {
		line += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return line
}

func printSummary(w io.Writer, sum storecopy.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, a := range storecopy.SortedAreas(sum.Copied) {
		if sum.Copied[a] > 0 {
			fmt.Fprintf(tw, "%s\t%d\t\n", a, sum.Copied[a])
		}
	}
	_ = tw.Flush()
	rate := 0.0
	if s := sum.Elapsed.Seconds(); s > 0 {
		rate = float64(sum.Records) / s
	}
	fmt.Fprintf(w, "done: %d records in %s (%.0f/s); the counts of every area are equal in PostgreSQL\n",
		sum.Records, sum.Elapsed.Round(time.Millisecond), rate)
}
