package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// textTo is the text of the last message to p, "" when there is none.
func textTo(msgs []flows.Message, p flowstest.Person, has string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == p.Chat() && strings.Contains(msgs[i].Text, has) {
			return msgs[i].Text
		}
	}
	return ""
}

// TestAreasEndOfDayPerArea: the end-of-day chase and the reconciliation
// run per area — each area's lead is told of their own people and their
// area's mismatches (or the area's clerk is, when it has one), the admin
// of every area's, grouped by area; a submission reaches its area's lead
// only; the admin's /daily is broken down by area.
func TestAreasEndOfDayPerArea(t *testing.T) {
	for _, withClerk := range []bool{false, true} {
		name := map[bool]string{false: "no clerk", true: "east has a clerk"}[withClerk]
		t.Run(name, func(t *testing.T) {
			w := areaWorld(t)
			clerk := flowstest.Person{ID: 410, Name: "东客服"}
			if withClerk {
				staffIn(w, clerk, "dispatcher", "east")
			}
			w.Tick() // schedules the day's handover
			east, eastIdle := w.Report(eastRes, "东边漏水"), w.Report(eastRes, "东边灯坏")
			west := w.Report(westRes, "西边漏水")
			w.Tap(eastTech, flows.EncodePayload("acc", east), true)
			w.Tap(westTech, flows.EncodePayload("acc", west), true)
			w.Drain()
			w.Now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
			w.Tick() // the handover asks each technician
			w.Drain()
			w.Expect(w.Tap(westTech, flows.EncodePayload("hs", "20261127"), false))
			msgs := w.Drain()
			if textTo(msgs, westLead, "提交了") == "" || textTo(msgs, eastLead, "提交了") != "" {
				t.Errorf("the west technician's submission went to the wrong lead: %+v", msgs)
			}
			if got := textTo(msgs, admin, "提交了"); !strings.Contains(got, "按小区：东苑小区 0；西苑小区 1") {
				t.Errorf("the admin's copy of the submission is not broken down by area: %q", got)
			}
			if got := textTo(msgs, westLead, "提交了"); strings.Contains(got, "按小区") {
				t.Errorf("the west lead's copy is broken down by area: %q", got)
			}
			w.Now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
			w.Tick() // the end of the day
			msgs = w.Drain()

			if got := textTo(msgs, eastLead, "仍未交单"); !strings.Contains(got, "东师傅") || strings.Contains(got, "西师傅") {
				t.Errorf("the east lead's chase: %q", got)
			}
			if got := textTo(msgs, westLead, "仍未交单"); got != "" {
				t.Errorf("the west lead is chased although the west technician submitted: %q", got)
			}
			if got := textTo(msgs, admin, "仍未交单"); !strings.Contains(got, "东苑小区：东师傅") {
				t.Errorf("the admin's chase is not by area: %q", got)
			}

			eastMM := textTo(msgs, eastLead, "核对")
			if withClerk {
				eastMM = textTo(msgs, clerk, "核对")
				if got := textTo(msgs, eastLead, "核对"); got != "" {
					t.Errorf("east's mismatches went to its lead although it has a clerk: %q", got)
				}
			}
			if !strings.Contains(eastMM, east) || !strings.Contains(eastMM, eastIdle) || strings.Contains(eastMM, west) {
				t.Errorf("east's reconciliation: %q", eastMM)
			}
			if got := textTo(msgs, westLead, "核对"); !strings.Contains(got, west) || strings.Contains(got, east) || strings.Contains(got, "【") {
				t.Errorf("west's reconciliation: %q", got)
			}
			adminMM := textTo(msgs, admin, "核对")
			if withClerk {
				if strings.Contains(adminMM, east) || !strings.Contains(adminMM, west) {
					t.Errorf("the admin backs up only the area without a clerk: %q", adminMM)
				}
			} else if !strings.Contains(adminMM, "【东苑小区】2 项") || !strings.Contains(adminMM, "【西苑小区】1 项") ||
				strings.Index(adminMM, east) > strings.Index(adminMM, "【西苑小区】") {
				t.Errorf("the admin's reconciliation is not grouped by area: %q", adminMM)
			}

			w.Cmd(admin, "daily", "2026-11-27")
			if got := w.LastText(w.Drain(), admin.Chat()).Text; !strings.Contains(got, "按小区：东苑小区 2；西苑小区 1") {
				t.Errorf("the admin's /daily has no breakdown by area:\n%s", got)
			}
			w.Cmd(eastLead, "daily", "2026-11-27")
			if got := w.LastText(w.Drain(), eastLead.Chat()).Text; strings.Contains(got, west) || strings.Contains(got, "按小区") {
				t.Errorf("the east lead's /daily:\n%s", got)
			}
			var list *flows.DailyList
			_ = w.Store.View(t.Context(), func(tx flows.Tx) error { list, _ = tx.DailyList("20261127"); return nil })
			for _, ln := range list.Lines {
				if want := w.Ticket(ln.Ticket).Area; ln.Area != want {
					t.Errorf("the archived line of %s is in area %q, want %q", ln.Ticket, ln.Area, want)
				}
			}
		})
	}
}

// TestAreasAuditPerArea: the monthly audit samples each area (audit_count
// per area) and sends each area's lead their area's sample; the admin gets
// every area's, grouped by area.
func TestAreasAuditPerArea(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { twoAreas(o); o.Governance.AuditCount = 2 }))
	staffIn(w, eastLead, "lead", "east")
	staffIn(w, westLead, "lead", "west")
	w.Tick() // schedules November's audit
	var tickets []*flows.Ticket
	for i, area := range []string{"east", "east", "east", "west"} {
		tk := historyTicket("BX-20261110-000"+string(rune('1'+i)), "2026-11-10T01:00:00Z", "water", "1502", "7", 5, 20, 30, 5, 0)
		tk.Area = area
		tk.Visit = &flows.Visit{Tests: 3}
		tickets = append(tickets, tk)
	}
	putTickets(t, w, tickets...)
	w.Now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	w.Tick()
	msgs := w.Drain()
	ids := func(s string) (east, west int) {
		for _, tk := range tickets {
			if strings.Contains(s, tk.ID) {
				if tk.Area == "east" {
					east++
				} else {
					west++
				}
			}
		}
		return
	}
	for _, c := range []struct {
		who        flowstest.Person
		east, west int
		head       string
	}{{eastLead, 2, 0, "（2 张工单）"}, {westLead, 0, 1, "（1 张工单）"}, {admin, 2, 1, "（3 张工单）"}} {
		got := textTo(msgs, c.who, "执行情况抽查")
		if e, wst := ids(got); e != c.east || wst != c.west || !strings.Contains(got, c.head) {
			t.Errorf("%s's audit has %d east and %d west tickets, want %d and %d (%s):\n%s", c.who.Name, e, wst, c.east, c.west, c.head, got)
		}
		if sections := strings.Contains(got, "【东苑小区】2 项") && strings.Contains(got, "【西苑小区】1 项"); sections != (c.who == admin) {
			t.Errorf("%s's audit grouped by area: %v\n%s", c.who.Name, sections, got)
		}
	}
}

// TestAreasTriggeredReviewPerArea: a complaint in one area opens a review
// of that area — its lead owns it, its people and the admin are invited,
// the other area's are not — and a complaint in the other area within the
// window opens that area's own review instead of joining it.
func TestAreasTriggeredReviewPerArea(t *testing.T) {
	w := areaWorld(t)
	w.Cmd(admin, "help", "")
	w.Drain()
	complain := func(res flowstest.Person, desc string) (string, []flows.Message) {
		id := w.Report(res, desc)
		w.Cmd(res, "complain", "")
		w.Drain()
		w.Text(res, "师傅态度不好，"+desc)
		return id, w.Drain()
	}
	east, msgs := complain(eastRes, "东边漏水")
	for p, want := range map[flowstest.Person]bool{eastLead: true, eastTech: true, admin: true, westLead: false, westTech: false} {
		if got := textTo(msgs, p, "复审") != ""; got != want {
			t.Errorf("%s invited to east's review: %v, want %v", p.Name, got, want)
		}
	}
	west, msgs := complain(westRes, "西边漏水")
	if textTo(msgs, westLead, "复审") == "" || textTo(msgs, eastLead, "复审") != "" {
		t.Errorf("west's complaint reached the wrong leads: %+v", msgs)
	}
	_ = w.Store.View(t.Context(), func(tx flows.Tx) error {
		rs, _ := tx.Reviews()
		if len(rs) != 2 {
			t.Fatalf("%d reviews, want one per area: %+v", len(rs), rs)
		}
		for i, c := range []struct{ ticket, owner string }{{east, eastLead.PID()}, {west, westLead.PID()}} {
			if len(rs[i].Tickets) != 1 || rs[i].Tickets[0] != c.ticket || rs[i].Owner != c.owner {
				t.Errorf("review %s: tickets %v owner %s, want [%s] and %s", rs[i].ID, rs[i].Tickets, rs[i].Owner, c.ticket, c.owner)
			}
		}
		return nil
	})
}

// TestAreasReviewNoticesStayInTheirArea: what a review tells its leads
// after it opens — the report when it closes, an improvement action three
// days late, the review become effective — reaches a triggered review's
// area leads and the admins only (its own people get the report as
// participants); a company-wide review (a major fault opened without a
// ticket) reaches every lead, as with one area.
func TestAreasReviewNoticesStayInTheirArea(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(w *flowstest.World)
		west bool // whether west's lead and technician are told
	}{
		{"a complaint in east", func(w *flowstest.World) {
			w.Report(eastRes, "东边漏水")
			w.Cmd(eastRes, "complain", "")
			w.Drain()
			w.Text(eastRes, "师傅态度不好，东边漏水")
		}, false},
		{"a company-wide major fault", func(w *flowstest.World) {
			w.Cmd(eastLead, "fault", "全公司报修系统停用 2 小时")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := areaWorld(t)
			tc.open(w)
			w.Drain()
			rs := reviews(t, w)
			if len(rs) != 1 {
				t.Fatalf("%d reviews, want 1", len(rs))
			}
			id := rs[0].ID
			// The admin writes the report (an admin may close any review),
			// with one action of their own.
			w.Cmd(admin, "review", id+" close")
			w.Text(admin, "派单规则不清")
			w.Text(admin, "每周核对派单记录")
			w.Text(admin, "整理派单规则；我；2026-12-10")
			finish := w.Last(w.Drain(), admin.Chat())
			w.Expect(w.Tap(admin, w.ButtonData(finish, "完成报告"), false))
			w.Expect(w.Tap(admin, w.ButtonData(w.Last(w.Drain(), admin.Chat()), "不修改规程"), false))
			told := func(msgs []flows.Message, what, has string) {
				t.Helper()
				for p, want := range map[flowstest.Person]bool{admin: true, eastLead: true, eastTech: true, westLead: tc.west, westTech: tc.west} {
					if what != "the report" && (p == eastTech || p == westTech) {
						continue // action escalations and "effective" are the leads'
					}
					if got := textTo(msgs, p, has) != ""; got != want {
						t.Errorf("%s: %s told of %s: %v, want %v", tc.name, p.Name, what, got, want)
					}
				}
			}
			told(w.Drain(), "the report", "规程复审报告")
			// Due 2026-12-10 18:00, escalated three days later.
			w.Now = time.Date(2026, 12, 14, 2, 0, 0, 0, time.UTC)
			w.Tick()
			told(w.Drain(), "the late action", "已逾期 3 天")
			w.Cmd(admin, "actions", "")
			w.Expect(w.Tap(admin, w.Last(w.Drain(), admin.Chat()).Buttons[0][0].Data, false))
			w.Text(admin, "已整理，见附件")
			told(w.Drain(), "the review effective", "已生效")
		})
	}
}
