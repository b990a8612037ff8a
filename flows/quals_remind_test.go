package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// walk runs the reminder function once a day at 09:00 from first to last
// (inclusive), marking what it returns, and lists "date mark" for each
// reminder sent.
func walk(r *flows.QualRules, c *flows.Certificate, sent flows.ReminderMarks, first, last flows.Date) []string {
	var out []string
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		now := d.Start(shanghai).Add(9 * time.Hour)
		for _, rm := range r.DueReminders(c, sent, now, shanghai) {
			sent[rm.Mark] = now
			out = append(out, d.String()+" "+rm.Mark)
		}
		// A second tick the same day finds nothing new.
		if again := r.DueReminders(c, sent, now.Add(time.Hour), shanghai); len(again) != 0 {
			out = append(out, fmt.Sprintf("%s DUPLICATE %v", d, again))
		}
	}
	return out
}

func TestQualReminderSchedule(t *testing.T) {
	r := qualRules()
	lift := &flows.Certificate{ID: "CERT-2", PersonID: qtech.ID, Type: "lift", Number: "T9", Issued: day(2022, 10, 1), NextReview: day(2026, 10, 1), VerifiedBy: "tg:1", Verified: &verified}
	for _, c := range []struct {
		name string
		cert *flows.Certificate
		want []string
	}{
		{"特种作业: expiry and 复审 on the same day remind once, as the expiry",
			elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1)),
			[]string{"2026-08-02 expiry:2026-10-01:60", "2026-09-01 expiry:2026-10-01:30", "2026-09-24 expiry:2026-10-01:7",
				"2026-09-30 expiry:2026-10-01:1", "2026-10-02 expiry:2026-10-01:lapsed"}},
		{"特种作业: a 复审 before the expiry has its own reminders",
			elecCert("CERT-3", day(2029, 10, 1), day(2026, 10, 1)),
			[]string{"2026-08-02 review:2026-10-01:60", "2026-09-01 review:2026-10-01:30", "2026-09-24 review:2026-10-01:7",
				"2026-09-30 review:2026-10-01:1", "2026-10-02 review:2026-10-01:lapsed"}},
		{"lift card: the window opens 3 months ahead",
			lift,
			[]string{"2026-07-01 review:2026-10-01:92", "2026-08-02 review:2026-10-01:60", "2026-09-01 review:2026-10-01:30",
				"2026-09-24 review:2026-10-01:7", "2026-09-30 review:2026-10-01:1", "2026-10-02 review:2026-10-01:lapsed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := walk(r, c.cert, flows.ReminderMarks{}, day(2026, 6, 1), day(2026, 10, 20))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}

	t.Run("after a pause only the most urgent is sent", func(t *testing.T) {
		c := elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1))
		sent := flows.ReminderMarks{}
		got := walk(r, c, sent, day(2026, 8, 2), day(2026, 8, 2))
		got = append(got, walk(r, c, sent, day(2026, 9, 26), day(2026, 10, 3))...) // down from 08-03 to 09-25
		want := []string{"2026-08-02 expiry:2026-10-01:60", "2026-09-26 expiry:2026-10-01:7", "2026-09-30 expiry:2026-10-01:1", "2026-10-02 expiry:2026-10-01:lapsed"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		if rms := r.DueReminders(c, flows.ReminderMarks{}, sh(2026, 9, 26, 9, 0, 0), shanghai); len(rms) != 1 || rms[0].Days != 5 {
			t.Errorf("days left on 09-26: %+v", rms)
		}
	})

	t.Run("a renewed 复审 date starts over", func(t *testing.T) {
		c := elecCert("CERT-3", day(2029, 10, 1), day(2026, 10, 1))
		sent := flows.ReminderMarks{}
		walk(r, c, sent, day(2026, 9, 1), day(2026, 9, 1))
		c.NextReview = day(2029, 9, 1) // passed; the next one falls before the expiry
		got := walk(r, c, sent, day(2026, 9, 2), day(2029, 9, 1))
		want := []string{"2029-07-03 review:2029-09-01:60", "2029-08-02 expiry:2029-10-01:60", "2029-08-02 review:2029-09-01:30",
			"2029-08-25 review:2029-09-01:7", "2029-08-31 review:2029-09-01:1", "2029-09-01 expiry:2029-10-01:30"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after renewal\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("unverified and revoked certificates get none", func(t *testing.T) {
		p := elecCert("CERT-4", day(2026, 10, 1), day(2026, 10, 1))
		p.VerifiedBy, p.Verified = "", nil
		rv := elecCert("CERT-5", day(2026, 10, 1), day(2026, 10, 1))
		rv.Revoked = &verified
		for _, c := range []*flows.Certificate{p, rv} {
			if got := walk(r, c, flows.ReminderMarks{}, day(2026, 7, 1), day(2026, 10, 5)); len(got) != 0 {
				t.Errorf("%s: %v", c.ID, got)
			}
		}
	})

	t.Run("texts carry the dates and the holder's name", func(t *testing.T) {
		rms := r.DueReminders(elecCert("CERT-1", day(2026, 10, 1), day(2026, 10, 1)), nil, sh(2026, 9, 1, 9, 0, 0), shanghai)
		if len(rms) != 1 {
			t.Fatalf("reminders %+v", rms)
		}
		rm := rms[0]
		if rm.Days != 30 || rm.Holder.Arg("apply") != "2026-08-02" || rm.Holder.Arg("date") != "2026-10-01" || rm.WithName("张师傅").Arg("name") != "张师傅" {
			t.Errorf("reminder %+v", rm)
		}
	})
}

// openStore opens a store in dir.
func openStore(tb testing.TB, dir string) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(dir, "repair.db"), store.Options{NoSync: true, LockTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// Each reminder goes out once across restarts: the sweep runs twice a
// day, the store is closed and reopened in the middle of the schedule.
func TestQualReminderAcrossRestart(t *testing.T) {
	r := qualRules()
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	defer func() { st.Close() }()
	lead := &flows.Person{ID: "tg:1", Role: flows.RoleLead, Name: "李班长"}
	err := st.Update(ctx, func(tx flows.Tx) error {
		for _, p := range []*flows.Person{qtech, lead} {
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		_, err := r.SubmitCert(tx, lead.ID, flows.Certificate{PersonID: qtech.ID, Type: "elec_low_voltage", Number: "T3101", Authority: "上海市应急管理局",
			Issued: day(2020, 10, 1)}, true, sh(2026, 6, 1, 9, 0, 0), shanghai)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for d := day(2026, 7, 1); !d.After(day(2026, 10, 10)); d = d.AddDate(0, 0, 1) {
		if d == day(2026, 9, 10) || d == day(2026, 9, 30) {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = openStore(t, dir)
		}
		for _, tick := range []time.Duration{9 * time.Hour, 9*time.Hour + time.Minute} {
			err := st.Update(ctx, func(tx flows.Tx) error {
				rms, err := r.SweepCerts(tx, d.Start(shanghai).Add(tick), shanghai)
				for _, rm := range rms {
					sent = append(sent, d.String()+" "+rm.Mark)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"2026-08-02 expiry:2026-10-01:60", "2026-09-01 expiry:2026-10-01:30", "2026-09-24 expiry:2026-10-01:7",
		"2026-09-30 expiry:2026-10-01:1", "2026-10-02 expiry:2026-10-01:lapsed"}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
	// The holder's trail has the recording, each reminder and the lapse.
	var actions []string
	err = st.View(ctx, func(tx flows.Tx) error {
		evs, err := tx.PersonEvents(qtech.ID)
		for _, ev := range evs {
			actions = append(actions, ev.Action+"/"+ev.Actor)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantActions := []string{"cert_recorded/tg:1", "cert_reminded/system", "cert_reminded/system", "cert_reminded/system", "cert_reminded/system", "cert_lapsed/system"}
	if !reflect.DeepEqual(actions, wantActions) {
		t.Errorf("trail %v\nwant %v", actions, wantActions)
	}
}
