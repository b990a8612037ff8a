package flows_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below resolve without a system zoneinfo

	"github.com/repairbot/repairbot/flows"
)

// FuzzDecodePayload: decoding never panics, rejects anything longer than
// Telegram's 64 bytes, is the exact inverse of EncodePayload for what it
// accepts, and what EncodePayload builds from clean parts round-trips.
// The strict check of the routing tables (ValidPayload: a known verb with
// exactly its arguments) never panics either and accepts only what
// decodes.
//
// Inputs: s is decoded as is; verb and args (split on ",") are encoded.
// Seeds are in testdata/fuzz/FuzzDecodePayload; run longer with
//
//	go test -run '^$' -fuzz FuzzDecodePayload -fuzztime 20s ./flows
func FuzzDecodePayload(f *testing.F) {
	f.Add("1|acc|BX-20261127-0001", "acc", "BX-20261127-0001")
	f.Add("1|d|3|water", "d", "3,water")
	f.Add("1|c|report", "c", "report")
	f.Add("1|x|", "x", "")
	f.Add("2|acc|BX-1", "q", "BX-20261127-0001,W02,1")
	f.Add("1||", "", "a")
	f.Add("1|acc|"+strings.Repeat("9", 60), "acc", strings.Repeat("9", 60))
	f.Add("1|a|\x00", "a|b", "\n")
	f.Add("1|st|BX-20261127-0001|door|ring", "st", "BX-20261127-0001,door,ring,x")
	f.Add("1|qz|2|1|3|4", "qz", "2,1,,4")
	f.Add("1|cd|3|st|BX-20261127-0001|door|ring", "cd", "3,st,BX-20261127-0001,door,ring")
	f.Add("1|cd|1|cd|1|help|BX-20261127-0001", "cd", "0,help,BX-20261127-0001")
	f.Fuzz(func(t *testing.T, s, verb, argList string) {
		p, ok := flows.DecodePayload(s)
		if flows.ValidPayload(s) && !ok {
			t.Fatalf("ValidPayload accepted %q, which does not decode", s)
		}
		if len(s) > flows.MaxPayload && ok {
			t.Fatalf("accepted %d bytes (> %d): %q", len(s), flows.MaxPayload, s)
		}
		if ok {
			if p.Verb == "" {
				t.Fatalf("accepted an empty verb: %q", s)
			}
			if back := flows.EncodePayload(p.Verb, p.Args...); back != s {
				t.Fatalf("decode/encode changed %q into %q", s, back)
			}
		}

		var args []string
		if argList != "" {
			args = strings.Split(argList, ",")
		}
		enc := flows.EncodePayload(verb, args...)
		q, ok := flows.DecodePayload(enc)
		if len(enc) > flows.MaxPayload {
			if ok {
				t.Fatalf("accepted an oversized encoding (%d bytes): %q", len(enc), enc)
			}
			return
		}
		if !clean(verb) || verb == "" || !allClean(args) {
			return // EncodePayload's callers never pass these
		}
		if !ok {
			t.Fatalf("EncodePayload(%q, %q) = %q does not decode", verb, args, enc)
		}
		if len(args) == 1 && args[0] == "" {
			args = nil
		}
		if q.Verb != verb || !slices.Equal(q.Args, args) {
			t.Fatalf("round trip of (%q, %q) via %q gave (%q, %q)", verb, args, enc, q.Verb, q.Args)
		}
	})
}

// clean is a part EncodePayload can carry: no separator, no control character.
func clean(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r == '|' || r < 0x20 || r == 0x7f })
}

func allClean(ss []string) bool {
	for _, s := range ss {
		if !clean(s) {
			return false
		}
	}
	return true
}

// fuzzZones are the estate zones tried, with and without daylight saving.
var fuzzZones = []string{"Asia/Shanghai", "UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham"}

// FuzzParseAgreedTime: parsing never panics, and an accepted time lies in
// (now, now+30 days]. now is kept between 2000 and 2100.
//
//	go test -run '^$' -fuzz FuzzParseAgreedTime -fuzztime 20s ./flows
func FuzzParseAgreedTime(f *testing.F) {
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC).Unix()
	f.Add("2026-11-28 14:00", now, uint8(0))
	f.Add("11-28 14:00", now, uint8(0))
	f.Add("11/28 14:00", now, uint8(1))
	f.Add("14：00", now, uint8(0))
	f.Add("01-02 09:30", time.Date(2026, 12, 30, 12, 0, 0, 0, time.UTC).Unix(), uint8(0))
	f.Add("02:30", time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC).Unix(), uint8(2))
	f.Add("2026-02-29 10:00", now, uint8(3))
	f.Add("  ", int64(-1), uint8(4))
	var locs []*time.Location
	for _, z := range fuzzZones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			f.Fatal(err)
		}
		locs = append(locs, loc)
	}
	const lo, span = 946684800, 3155760000 // 2000-01-01, 100 years
	f.Fuzz(func(t *testing.T, s string, unix int64, zone uint8) {
		loc := locs[int(zone)%len(locs)]
		sec := unix % span
		if sec < 0 {
			sec += span
		}
		now := time.Unix(lo+sec, 0)
		at, err := flows.ParseAgreedTime(s, now, loc)
		if err != nil {
			return
		}
		if !at.After(now) || at.After(now.Add(30*24*time.Hour)) {
			t.Fatalf("ParseAgreedTime(%q, %s, %s) = %s, outside (now, now+30d]", s, now.In(loc), loc, at)
		}
	})
}
