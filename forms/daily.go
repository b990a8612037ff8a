package forms

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// DailyTasks writes the team lead's daily task list 维修任务单 (SOP 4.2.8)
// from the day's list as the bot keeps it (flows.DailyList: archived at the
// end of the day, or built live), with the technicians who did not hand in
// and the mismatches against the repair log, and a line for the lead's
// signature. ticket looks a line's ticket up for its report time and
// description; it may be nil or return nil.
func DailyTasks(w io.Writer, o Options, d *flows.DailyList, ticket func(id string) *flows.Ticket) error {
	if err := o.defaults(); err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("forms: no daily list")
	}
	day, err := time.ParseInLocation("20060102", d.Day, o.Location)
	if err != nil {
		return fmt.Errorf("forms: daily list day %q: %w", d.Day, err)
	}
	f := excelize.NewFile()
	st, err := newStyles(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	title := o.title("forms.title.daily")
	sheet := sheetName(title)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		_ = f.Close()
		return err
	}
	spec := tableSpec{sheet: sheet, landscape: true, footCode: title + " " + day.Format("2006-01-02"), footPage: o.pageFooter(),
		org: o.OrgName, title: title, metaL: o.t("forms.date", "date", day.Format("2006-01-02")), metaR: o.t("forms.count", "n", len(d.Lines)),
		numeric: map[int]int{0: st.center}, freezeBelowHead: true,
		head: []string{o.t("forms.log.no"), o.t("forms.daily.ticket"), o.t("forms.log.reported"), o.t("forms.daily.category"),
			o.t("forms.log.address"), o.t("forms.log.content"), o.role(flows.RoleTechnician), o.t("forms.daily.state"),
			o.t("forms.daily.handed"), o.t("forms.log.remark")},
		widths: []float64{5, 17, 16, 12, 14, 34, 10, 12, 9, 16}}
	tb, err := newTable(f, st, spec)
	if err != nil {
		_ = f.Close()
		return err
	}
	for i, ln := range d.Lines {
		reported, desc, remark := "", "", ""
		if ticket != nil {
			if t := ticket(ln.Ticket); t != nil {
				reported, desc = o.stamp(t.Created), clip(t.Description, 60)
				if t.Reworks > 0 {
					remark = o.t("forms.value.reworks", "n", t.Reworks)
				}
			}
		}
		who := ln.Assignee
		if who == "" {
			who = o.t("open.unassigned")
		}
		handed := o.t("forms.value.none")
		if ln.Handed != "" {
			handed = o.t("handover.status_" + ln.Handed)
		}
		if err := tb.add([]any{i + 1, ln.Ticket, reported, o.category(ln.Category), ln.Address, desc, who, o.state(ln.State), handed, remark}); err != nil {
			_ = f.Close()
			return err
		}
	}
	var notes []string
	if len(d.Missing) > 0 {
		notes = append(notes, o.t("forms.daily.missing", "names", strings.Join(d.Missing, "、")))
	}
	if len(d.Mismatches) > 0 {
		notes = append(notes, o.t("daily.mismatches")+"\n"+strings.Join(d.Mismatches, "\n"))
	}
	for _, n := range notes {
		if err := tb.line(n, st.left, float64(lines(n, 150)*14+6)); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := tb.line(o.t("forms.daily.lead", "role", o.role(flows.RoleLead)), st.left, 30); err != nil {
		_ = f.Close()
		return err
	}
	if err := tb.line(o.t("forms.generated", "time", o.stamp(o.Now)), st.foot, 16); err != nil {
		_ = f.Close()
		return err
	}
	if err := tb.finish(); err != nil {
		_ = f.Close()
		return err
	}
	return writeFile(f, w)
}
