package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// The records (#16) within areas: a home or a public place is one of an
// area, and a lead's or a clerk's lists are their areas'.

var (
	eastRes2 = flowstest.Person{ID: 111, Name: "东邻居"}
	westRes2 = flowstest.Person{ID: 121, Name: "西邻居"}
)

// TestAreasRepeatsWithinArea: 3栋 2单元 1502 of west is not the home of
// the same number in east: a report there is no repeat of east's repair,
// while a neighbour's in east is.
func TestAreasRepeatsWithinArea(t *testing.T) {
	w := areaWorld(t)
	registerIn(w, westRes2, "west", "3栋") // west types its buildings: the same 3栋 / 2单元 / 1502
	registerIn(w, eastRes2, "east", "3栋")
	first := w.Report(eastRes, "厨房水管漏水")
	closeJob(t, w, eastTech, eastRes, first)
	w.Now = w.Now.Add(3 * 24 * time.Hour)
	west := w.Report(westRes2, "厨房水管漏水")
	if tk := w.Ticket(west); tk.RepeatOf != "" || tk.Area != "west" {
		t.Fatalf("west's report: area %q, a repeat of %q", tk.Area, tk.RepeatOf)
	}
	east := w.Report(eastRes2, "厨房又漏水了")
	if tk := w.Ticket(east); tk.RepeatOf != first {
		t.Fatalf("east's second report repeats %q, want %q", tk.RepeatOf, first)
	}
}

// TestAreasDuplicatePublicReportWithinArea: "already reported, follow
// it?" names an open public ticket of the same place in the reporter's
// area only.
func TestAreasDuplicatePublicReportWithinArea(t *testing.T) {
	w := areaWorld(t)
	registerIn(w, eastRes2, "east", "1栋")
	ack := reportPublicAt(t, w, eastRes, "3栋 电梯 2号")
	id := ticketIn(t, ack.Text)
	if m := reportPublicAt(t, w, westRes, "3栋 电梯 2号"); strings.Contains(m.Text, "已有人报修") {
		t.Errorf("west is asked to follow east's ticket:\n%s", m.Text)
	}
	q := reportPublicAt(t, w, eastRes2, "3栋电梯2号")
	contains(t, q.Text, "这个问题已有人报修："+id)
}

// TestAreasRecordsListsScoped: /callbacks and /qc of a lead list their
// area's tickets; the admin's, every area's.
func TestAreasRecordsListsScoped(t *testing.T) {
	w := areaWorld(t)
	east := w.Report(eastRes, "东边漏水")
	west := w.Report(westRes, "西边漏水")
	w.Drain()
	if err := w.Store.Update(t.Context(), func(tx flows.Tx) error {
		for _, id := range []string{east, west} {
			if err := tx.AddPhoneCallback(flows.PhoneCallback{TicketID: id, Since: w.Now}); err != nil {
				return err
			}
			if err := tx.PutQCReview(&flows.QCReview{Ticket: id, Reason: "sample", Created: w.Now, Status: "pending"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"callbacks", "qc"} {
		for _, c := range []struct {
			who   flowstest.Person
			sees  []string
			hides []string
		}{
			{eastLead, []string{east}, []string{west}},
			{westLead, []string{west}, []string{east}},
			{admin, []string{east, west}, nil},
		} {
			t.Run(cmd+"/"+c.who.Name, func(t *testing.T) {
				w.Cmd(c.who, cmd, "")
				var all strings.Builder
				for _, m := range flowstest.To(w.Drain(), c.who.Chat()) {
					all.WriteString(m.Text + "\n")
					for _, row := range m.Buttons {
						for _, b := range row {
							all.WriteString(b.Data + "\n")
						}
					}
				}
				for _, id := range c.sees {
					if !strings.Contains(all.String(), id) {
						t.Errorf("/%s of %s misses %s:\n%s", cmd, c.who.Name, id, all.String())
					}
				}
				for _, id := range c.hides {
					if strings.Contains(all.String(), id) {
						t.Errorf("/%s of %s lists %s of another area:\n%s", cmd, c.who.Name, id, all.String())
					}
				}
			})
		}
	}
}

// TestAreasConsoleRows: the console's actions apply the rows' area
// column as a chat tap does: a lead of east is refused on west's ticket
// (reopen, merge, close: the Transitions rows) and on west's people and
// fee questions (the verbs' rows); west's lead is not.
func TestAreasConsoleRows(t *testing.T) {
	w := areaWorld(t)
	west := w.Report(westRes, "西边漏水")
	dup := w.Report(westRes, "西边又漏水")
	w.Drain()
	notIn := "您不负责西苑小区"
	otherArea := "不在您负责的区域"
	w.Refused(w.Console(eastLead, flows.ConsoleMerge, dup, map[string]string{"into": west, "reason": "重复"}), otherArea)
	w.Refused(w.Console(eastLead, flows.ConsoleCancel, west, map[string]string{"reason": "测试"}), otherArea)
	w.Refused(w.Console(eastLead, flows.ConsoleStaffRole, "", map[string]string{"person": westTech.PID(), "role": "lead"}), notIn)
	w.Refused(w.Console(eastLead, flows.ConsoleDuty, "", map[string]string{"person": westTech.PID(), "on": "on"}), notIn)
	w.Refused(w.Console(eastLead, flows.ConsoleFeeAnswer, "", map[string]string{"ticket": west, "text": "按价目表"}), notIn)
	w.Refused(w.Console(eastLead, flows.ConsoleFeeClose, "", map[string]string{"ticket": west}), notIn)
	if n := len(w.Drain()); n != 0 {
		t.Fatalf("a refusal sent %d messages", n)
	}
	if tk := w.Ticket(dup); tk.State != flows.StateNew {
		t.Fatalf("the refused merge moved %s to %s", dup, tk.State)
	}
	w.Expect(w.Console(westLead, flows.ConsoleDuty, "", map[string]string{"person": westTech.PID(), "on": "on"}))
	w.Expect(w.Console(westLead, flows.ConsoleMerge, dup, map[string]string{"into": west, "reason": "重复"}))
	if tk := w.Ticket(dup); tk.State != flows.StateCancelled || tk.MergedInto != west {
		t.Fatalf("west's lead merged: %s into %q", tk.State, tk.MergedInto)
	}
}
