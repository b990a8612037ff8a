package forms

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// RepairLog streams the repair log 报修记录表 (zc-qr-030) of the tickets
// reported in [from, to), one row per ticket in the order they are added
// (a walk of the touched index gives them in the order they were
// reported). Add every ticket, then Write; Close releases the temporary
// files if Write is never reached.
type RepairLog struct {
	o        Options
	f        *excelize.File
	tb       *table
	from, to time.Time
	n        int
	err      error
}

// repairLogCols are the columns of 报修记录表 and their widths (A4
// landscape, printed one page wide).
var repairLogCols = []struct {
	key   string
	width float64
}{
	{"forms.log.no", 5}, {"forms.log.reported", 16}, {"forms.log.ticket", 17}, {"forms.log.reporter", 9},
	{"forms.log.address", 14}, {"forms.log.phone", 12}, {"forms.log.content", 30}, {"forms.log.urgency", 10},
	{"forms.log.tech", 9}, {"forms.log.accepted", 11}, {"forms.log.finished", 11}, {"forms.log.state", 11},
	{"", 12}, {"forms.log.remark", 14},
}

// NewRepairLog starts the repair log of [from, to).
func NewRepairLog(o Options, from, to time.Time) (*RepairLog, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	f := excelize.NewFile()
	l := &RepairLog{o: o, f: f, from: from, to: to}
	st, err := newStyles(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	title := o.title("forms.title.repair_log")
	sheet := sheetName(title)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		_ = f.Close()
		return nil, err
	}
	spec := tableSpec{sheet: sheet, landscape: true, footCode: o.t("forms.code", "code", CodeRepairLog), footPage: o.pageFooter(),
		org: o.OrgName, title: title, metaL: o.t("forms.code", "code", CodeRepairLog), metaR: o.period(from, to),
		numeric: map[int]int{0: st.center}, freezeBelowHead: true}
	for _, c := range repairLogCols {
		h := o.t("forms.field.confirm", "role", o.role(flows.RoleResident))
		if c.key != "" {
			h = o.t(c.key)
		}
		spec.head = append(spec.head, h)
		spec.widths = append(spec.widths, c.width)
	}
	if l.tb, err = newTable(f, st, spec); err != nil {
		_ = f.Close()
		return nil, err
	}
	_ = f.SetDocProps(&excelize.DocProperties{Title: title + " " + spec.metaR, Creator: o.OrgName, Subject: CodeRepairLog})
	return l, nil
}

// period is "from to to" for a range, the date alone for one day.
func (o *Options) period(from, to time.Time) string {
	f, t := from.In(o.Location), to.In(o.Location).Add(-time.Nanosecond)
	if f.Format("20060102") == t.Format("20060102") {
		return o.t("forms.date", "date", f.Format("2006-01-02"))
	}
	return o.t("forms.period", "from", f.Format("2006-01-02"), "to", t.Format("2006-01-02"))
}

// Wants reports whether the ticket was reported in the log's range (the
// others are skipped by Add, so a caller can skip reading their trail).
func (l *RepairLog) Wants(t *flows.Ticket) bool {
	return !t.Created.Before(l.from) && t.Created.Before(l.to)
}

// Add writes the ticket's row (a ticket reported outside the range is skipped).
func (l *RepairLog) Add(t *flows.Ticket, events []flows.TicketEvent) error {
	return l.AddTimes(t, flows.TicketKPI(t, events))
}

// AddTimes is Add with the ticket's milestones already read from its
// trail (flows.TimesOf of the store's folded trail): the confirmation is
// the last resolved time, the repeat the ticket's link.
func (l *RepairLog) AddTimes(t *flows.Ticket, tt flows.TicketTimes) error {
	if l.err != nil || !l.Wants(t) {
		return l.err
	}
	o := &l.o
	l.n++
	content := o.category(t.Category)
	if d := clip(t.Description, 60); d != "" {
		content += "：" + d
	}
	confirmed := ""
	if tt.Resolved != nil && tt.Trail {
		confirmed = relStamp(o, t.Created, *tt.Resolved)
	}
	var remarks []string
	if t.Reworks > 0 {
		remarks = append(remarks, o.t("forms.value.reworks", "n", t.Reworks))
	}
	if t.FeeQuery {
		remarks = append(remarks, o.t("forms.value.fee_query"))
	}
	if prev := tt.Repeat; prev != "" {
		remarks = append(remarks, o.t("forms.value.repeat", "ticket", prev))
	} else if t.RepeatOf != "" {
		remarks = append(remarks, o.t("forms.value.repeat", "ticket", t.RepeatOf))
	}
	if f := o.fault(t); f != "" {
		remarks = append(remarks, f)
	}
	rel := func(at *time.Time) string {
		if at == nil {
			return ""
		}
		return relStamp(o, t.Created, *at)
	}
	name := ""
	res := o.person(t.ResidentID) // one look-up per row: it may be a store read
	if res != nil {
		name = res.Name
	}
	l.err = l.tb.add([]any{l.n, o.stamp(t.Created), t.ID, name, address(t), o.phoneOf(res), content,
		o.urgency(t), t.Assignee, rel(t.Accepted), rel(t.Finished), o.state(t.State), confirmed, strings.Join(remarks, o.t("order.sep"))})
	return l.err
}

// relStamp is the time alone on the day of the report, else with the date.
func relStamp(o *Options, base, at time.Time) string {
	b, a := base.In(o.Location), at.In(o.Location)
	if b.Format("20060102") == a.Format("20060102") {
		return a.Format("15:04")
	}
	return a.Format("01-02 15:04")
}

// Rows is the number of tickets written so far.
func (l *RepairLog) Rows() int { return l.n }

// Write ends the log (the count, the generation note), writes the
// workbook to w and releases it.
func (l *RepairLog) Write(w io.Writer) error {
	if l.f == nil {
		return fmt.Errorf("forms: repair log already written")
	}
	defer l.Close()
	if l.err != nil {
		return l.err
	}
	o := &l.o
	note := o.t("forms.count", "n", l.n)
	if l.n == 0 {
		note = o.t("forms.empty")
	}
	if err := l.tb.line(note+"　"+o.t("forms.generated", "time", o.stamp(o.Now)), l.tb.st.foot, 18); err != nil {
		return err
	}
	if err := l.tb.finish(); err != nil {
		return err
	}
	f := l.f
	l.f = nil
	return writeFile(f, w)
}

// Close releases the workbook's temporary files; safe after Write.
func (l *RepairLog) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
