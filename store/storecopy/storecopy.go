// Package storecopy copies a whole bbolt store into PostgreSQL (repairbot
// migrate-store): every record of every bucket, in chunks of one
// transaction each, then the counts of both sides compared area by area.
// The copy is idempotent: every record lands under its own key (see
// postgres.Store.Import), so running it again, after an interruption or
// to take the last changes of a bbolt store still in use until the
// switch, duplicates nothing.
package storecopy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/storekit"
)

// Progress is how far a copy has come.
type Progress struct {
	Done, Total int
	Elapsed     time.Duration
}

// Rate is records per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// Left estimates the time the rest takes at the rate so far (0 when
// unknown or done).
func (p Progress) Left() time.Duration {
	r := p.Rate()
	if r <= 0 || p.Done >= p.Total {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second))
}

// Options for Copy.
type Options struct {
	// Chunk is how many records one PostgreSQL transaction carries (2,000
	// when 0).
	Chunk int
	// Progress, when set, is called after every chunk and once at the end.
	Progress func(Progress)
	// Now is the clock of the progress reports; time.Now when nil.
	Now func() time.Time
}

// Summary is what a copy did.
type Summary struct {
	// Copied is the number of records copied, by area.
	Copied map[string]int
	// Records is their total.
	Records int
	// Elapsed is how long the copy took, the check included.
	Elapsed time.Duration
}

// CountMismatchError is a copy whose target does not hold exactly the
// records of the source: a database that held other data already, or a
// record the target could not tell apart from another.
type CountMismatchError struct {
	// Areas maps each mismatched area to its [source, target] counts.
	Areas map[string][2]int
}

func (e *CountMismatchError) Error() string {
	var parts []string
	for _, a := range sortedKeys(e.Areas) {
		parts = append(parts, fmt.Sprintf("%s: %d in the bbolt file, %d in PostgreSQL", a, e.Areas[a][0], e.Areas[a][1]))
	}
	return "storecopy: the counts differ (" + strings.Join(parts, "; ") + ")"
}

// Copy copies every record of from into to and checks that the counts of
// every area are equal.
func Copy(ctx context.Context, from *store.Store, to *postgres.Store, o Options) (Summary, error) {
	if o.Chunk <= 0 {
		o.Chunk = 2000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	totals, err := from.ExportCounts(ctx)
	if err != nil {
		return Summary{}, err
	}
	p := Progress{}
	for _, n := range totals {
		p.Total += n
	}
	report := func() {
		if o.Progress != nil {
			p.Elapsed = o.Now().Sub(start)
			o.Progress(p)
		}
	}
	report()
	chunk := make([]storekit.Export, 0, o.Chunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := to.Import(ctx, chunk); err != nil {
			return err
		}
		p.Done += len(chunk)
		chunk = chunk[:0]
		report()
		return nil
	}
	copied, err := from.Export(ctx, func(r storekit.Export) error {
		chunk = append(chunk, r)
		if len(chunk) >= o.Chunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = to.FinishImport(ctx)
	}
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Copied: copied}
	for _, n := range copied {
		sum.Records += n
	}
	got, err := to.ImportCounts(ctx)
	if err != nil {
		return Summary{}, err
	}
	bad := map[string][2]int{}
	for _, a := range storekit.Areas() {
		if copied[a] != got[a] {
			bad[a] = [2]int{copied[a], got[a]}
		}
	}
	sum.Elapsed = o.Now().Sub(start)
	if len(bad) > 0 {
		return sum, &CountMismatchError{Areas: bad}
	}
	return sum, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SortedAreas is the areas of counts in name order.
func SortedAreas(counts map[string]int) []string { return sortedKeys(counts) }
