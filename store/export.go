package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store/storekit"
)

// The store's records for a copy into another store (repairbot
// migrate-store). Export walks the file's buckets as they are, not the
// list this program creates, so a bucket nobody taught the copy about is
// an error, never a silent loss: every bucket is either data (an area of
// storekit.Export) or an index whose rows the other store derives from
// the data.

// exporter reads one bucket: the area its records count in and how to
// decode one; nil (an index bucket) means the bucket is derived from
// another one's records and is not copied.
type exporter struct {
	area   string
	nested bool // the values are sub-buckets of records (one trail each)
	decode func(k, v []byte) (any, error)
}

// index marks a bucket derived from the data buckets.
var index = exporter{}

func rec[T any](ptr bool) func(k, v []byte) (any, error) {
	return func(_, v []byte) (any, error) {
		x := new(T)
		if err := decode(v, x); err != nil {
			return nil, err
		}
		if ptr {
			return x, nil
		}
		return *x, nil
	}
}

func seqOf(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("store: key %x is not a sequence number", k)
	}
	return binary.BigEndian.Uint64(k), nil
}

// split cuts an index-style key (parts joined by NUL) in two at its first NUL.
func split(k []byte) (string, string, error) {
	i := bytes.IndexByte(k, 0)
	if i < 0 {
		return "", "", fmt.Errorf("store: key %q has no separator", k)
	}
	return string(k[:i]), string(k[i+1:]), nil
}

var exporters = map[string]exporter{
	string(bMeta):            index, // the file's own schema marks
	string(bCursors):         {area: storekit.AreaCursors, decode: func(k, v []byte) (any, error) { return storekit.Cursor{Name: string(k), Value: string(v)}, nil }},
	string(bSeen):            {area: storekit.AreaSeen, decode: decodeSeen},
	string(bSeenByTime):      index,
	string(bPeople):          {area: storekit.AreaPeople, decode: rec[flows.Person](true)},
	string(bPeopleByRole):    index,
	string(bTickets):         {area: storekit.AreaTickets, decode: rec[flows.Ticket](true)},
	string(bTicketsByRes):    index,
	string(bTicketsByAssign): index,
	string(bTicketsOpen):     index,
	string(bTicketsTouched):  {area: storekit.AreaTicketTouches, decode: decodeTouch},
	string(bTicketEvents): {area: storekit.AreaTicketEvents, nested: true, decode: func(k, v []byte) (any, error) {
		var ev flows.TicketEvent
		if err := decode(v, &ev); err != nil {
			return nil, err
		}
		return storekit.TicketEvent{TicketID: string(k), Event: ev}, nil
	}},
	string(bCounters):     {area: storekit.AreaCounters, decode: decodeCounter},
	string(bDialogues):    {area: storekit.AreaDialogues, decode: rec[flows.Dialogue](true)},
	string(bInvites):      {area: storekit.AreaInvites, decode: rec[flows.Invite](true)},
	string(bOutbox):       {area: storekit.AreaOutbox, decode: rec[outbox.Row](false)},
	string(bOutboxDone):   {area: storekit.AreaOutbox, decode: rec[outbox.Row](false)},
	string(bOutboxFailed): {area: storekit.AreaOutbox, decode: rec[outbox.Row](false)},
	string(bCards): {area: storekit.AreaCards, decode: func(k, v []byte) (any, error) {
		var ref outbox.CardRef
		if err := decode(v, &ref); err != nil {
			return nil, err
		}
		return storekit.Card{Key: string(k), Ref: ref}, nil
	}},
	string(bComplaints): {area: storekit.AreaComplaints, decode: func(k, v []byte) (any, error) {
		seq, err := seqOf(k)
		if err != nil {
			return nil, err
		}
		var c flows.Complaint
		if err := decode(v, &c); err != nil {
			return nil, err
		}
		return storekit.Complaint{Seq: seq, Complaint: c}, nil
	}},
	string(bTimers):      {area: storekit.AreaTimers, decode: rec[flows.Timer](false)},
	string(bTimersByKey): index,
	string(bHandovers):   {area: storekit.AreaHandovers, decode: rec[flows.Handover](true)},
	string(bDaily):       {area: storekit.AreaDailyLists, decode: rec[flows.DailyList](true)},
	string(bDuty):        {area: storekit.AreaDutyOverrides, decode: rec[flows.DutyOverride](false)},
	string(bSOPVersions): {area: storekit.AreaSOPVersions, decode: rec[flows.SOPVersion](false)},
	string(bAcks):        {area: storekit.AreaSOPAcks, decode: rec[flows.Ack](false)},
	string(bReviews):     {area: storekit.AreaReviews, decode: rec[flows.Review](true)},
	string(bSuggestions): {area: storekit.AreaSuggestions, decode: func(k, v []byte) (any, error) {
		seq, err := seqOf(k)
		if err != nil {
			return nil, err
		}
		var s flows.Suggestion
		if err := decode(v, &s); err != nil {
			return nil, err
		}
		return storekit.Suggestion{Seq: seq, Suggestion: s}, nil
	}},
	string(bFeeQuestions):            {area: storekit.AreaFeeQuestions, decode: rec[flows.FeeQuestion](true)},
	string(bFeeQuestionsOpen):        index,
	string(bRoster):                  {area: storekit.AreaRoster, decode: rec[flows.Roster](true)},
	string(bConsoleLinks):            {area: storekit.AreaConsoleLinks, decode: rec[flows.ConsoleLink](true)},
	string(bConsoleSessions):         {area: storekit.AreaConsoleSessions, decode: rec[flows.ConsoleSession](true)},
	string(bConsoleSessionsByPerson): index,
	string(bSkills):                  {area: storekit.AreaSkills, decode: rec[flows.Skill](false)},
	string(bCerts):                   {area: storekit.AreaCerts, decode: rec[flows.Certificate](true)},
	string(bCertsByPerson):           index,
	string(bCertsByDue):              index,
	string(bCertReminders): {area: storekit.AreaCertReminders, decode: func(k, v []byte) (any, error) {
		cert, mark, err := split(k)
		if err != nil {
			return nil, err
		}
		at, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			return nil, fmt.Errorf("store: certificate reminder %q: %w", k, err)
		}
		return storekit.CertReminder{CertID: cert, Mark: mark, At: at}, nil
	}},
	string(bSessions):           {area: storekit.AreaTrainingSessions, decode: rec[flows.Session](true)},
	string(bSessionsByPerson):   index, // the session's People
	string(bSessionsByStart):    index,
	string(bPersonEvents):       {area: storekit.AreaPersonEvents, nested: true, decode: func(_, v []byte) (any, error) { return rec[flows.PersonEvent](false)(nil, v) }},
	string(bParts):              {area: storekit.AreaParts, decode: rec[flows.Part](true)},
	string(bPartsLocations):     {area: storekit.AreaStockLocations, decode: rec[flows.StockLocation](true)},
	string(bPartsMoves):         {area: storekit.AreaStockMoves, decode: rec[flows.StockMove](false)},
	string(bPartsMovesByPart):   index,
	string(bPartsMovesByTicket): index,
	string(bPartsMovesByKey):    index, // StockMove.Key
	string(bPartsMovesReversed): index, // StockMove.Reverses
	string(bPartsLevels):        {area: storekit.AreaStockLevels, decode: rec[flows.StockLevel](false)},
	string(bPartsPurchases):     {area: storekit.AreaPurchases, decode: rec[flows.PurchaseRequest](true)},
	string(bPartsPurchasesOpen): index,
	string(bPartsScraps):        {area: storekit.AreaScraps, decode: rec[flows.ScrapRequest](true)},
	string(bPartsStocktakes):    {area: storekit.AreaStocktakes, decode: rec[flows.Stocktake](true)},
	string(bPartsLow):           {area: storekit.AreaLowStock, decode: rec[flows.LowStockAlert](false)},
	string(bTicketsReported):    index, // the ticket's Brief
	string(bTicketsByPlace):     index, // flows.PlaceKey of the ticket
	string(bTicketsTrail):       index, // the trail folded (flows.FoldTrail of the events)
	string(bQC):                 {area: storekit.AreaQCReviews, decode: rec[flows.QCReview](true)},
	string(bQCOpen):             index,
	string(bPhoneCallbacks):     {area: storekit.AreaPhoneCallbacks, decode: rec[flows.PhoneCallback](false)},
	string(bAreaEdits):          {area: storekit.AreaAreaEdits, decode: rec[flows.AreaEdit](true)},
}

func decodeSeen(k, v []byte) (any, error) {
	at, err := time.Parse("20060102T150405Z", string(v))
	if err != nil {
		return nil, fmt.Errorf("store: dedupe mark %q: %w", k, err)
	}
	return storekit.Seen{Key: string(k), At: at}, nil
}

func decodeTouch(k, _ []byte) (any, error) {
	stamp, id, err := split(k)
	if err != nil {
		return nil, err
	}
	at, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		return nil, fmt.Errorf("store: touched index %q: %w", k, err)
	}
	return storekit.Touch{At: at, TicketID: id}, nil
}

func decodeCounter(k, v []byte) (any, error) {
	if len(v) != 4 {
		return nil, fmt.Errorf("store: counter %q is corrupt", k)
	}
	return storekit.Counter{Name: string(k), N: int64(binary.BigEndian.Uint32(v))}, nil
}

// UnknownBucketError is a bucket of the file that Export does not know:
// a newer program's data, or damage. Nothing is copied past it.
type UnknownBucketError struct{ Bucket string }

func (e *UnknownBucketError) Error() string {
	return fmt.Sprintf("store: bucket %q is unknown to this program's copy; refusing to copy the store without it", e.Bucket)
}

// walk visits the records of every data bucket in one read transaction,
// bucket by bucket in name order; each gets its area, key and value (for
// a nested bucket, the sub-bucket's name as the key). A bucket Export
// does not know is an *UnknownBucketError before anything is visited.
func (s *Store) walk(ctx context.Context, visit func(e exporter, k, v []byte) error) error {
	return s.db.View(func(b *bolt.Tx) error {
		var names []string
		if err := b.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if _, ok := exporters[string(name)]; !ok {
				return &UnknownBucketError{Bucket: string(name)}
			}
			names = append(names, string(name))
			return nil
		}); err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			e := exporters[name]
			if e.area == "" {
				continue
			}
			bk := b.Bucket([]byte(name))
			n := 0
			err := bk.ForEach(func(k, v []byte) error {
				if n++; n%releaseEvery == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				if !e.nested {
					if v == nil {
						return fmt.Errorf("store: bucket %s holds a sub-bucket %q", name, k)
					}
					return visit(e, k, v)
				}
				sub := bk.Bucket(k)
				if sub == nil {
					return fmt.Errorf("store: bucket %s holds a value under %q, not a trail", name, k)
				}
				return sub.ForEach(func(_, v []byte) error { return visit(e, k, v) })
			})
			if err != nil {
				return fmt.Errorf("store: export %s: %w", name, err)
			}
		}
		return nil
	})
}

// ExportCounts counts the records Export hands out, by area, without
// decoding them.
func (s *Store) ExportCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	err := s.walk(ctx, func(e exporter, _, _ []byte) error { counts[e.area]++; return nil })
	return counts, err
}

// Export hands every record of the store to fn, decoded (see
// storekit.Export for the values), in one read transaction: a consistent
// copy, bucket by bucket. It returns how many records of each area it
// handed out. A bucket it does not know fails the export before any
// record is handed out (*UnknownBucketError).
func (s *Store) Export(ctx context.Context, fn func(storekit.Export) error) (map[string]int, error) {
	counts := map[string]int{}
	err := s.walk(ctx, func(e exporter, k, v []byte) error {
		x, err := e.decode(k, v)
		if err != nil {
			return err
		}
		counts[e.area]++
		return fn(storekit.Export{Area: e.area, Value: x})
	})
	return counts, err
}
