package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The records' pages (issue 16): the files chat sends as downloads (the
// work order, the day's task list and repair log, a month's repair log,
// the KPI workbook), rendered by the same bot.Exporter the channels'
// senders use (package records); the KPI page with its charts; customer
// service's phone-callback list and the leads' QC queue, whose forms post
// console actions that are the chat's buttons.

// recordsReader is what the records' pages read of the engine beyond
// bot.Domain (flows.Engine implements it): the periods /stats and /month
// name, /stats's report and its text, the areas of a visitor's files
// (areas_scope.go), and the forms' profile.
type recordsReader interface {
	StatsPeriod(arg string, now time.Time) (time.Time, time.Time, error)
	MonthPeriod(arg string, now time.Time) (time.Time, time.Time, error)
	KPIReport(tx flows.Tx, p *flows.Person, from, to time.Time) (*flows.KPIReport, error)
	StatsText(r *flows.KPIReport, p *flows.Person, l flows.Lang) string
	ExportAreas(p *flows.Person) []string
	RecordOptions() flows.RecordOptions
}

var _ recordsReader = (*flows.Engine)(nil)

// records is the engine's records side, nil when the Domain has none.
func (c *Channel) records() recordsReader {
	rr, _ := c.o.Domain.(recordsReader)
	return rr
}

// profile is the forms' profile ("property", "rental").
func (c *Channel) profile() string {
	if rr := c.records(); rr != nil && rr.RecordOptions().Profile != "" {
		return rr.RecordOptions().Profile
	}
	return "property"
}

// exportsOn reports whether the console can render files.
func (c *Channel) exportsOn() bool { return c.o.Exports != nil && c.records() != nil }

// download renders x and sends it as a file named name: an attachment,
// never cached (no-store, from secure), its name reduced to what a
// Content-Disposition header carries safely.
func (c *Channel) download(w http.ResponseWriter, r *http.Request, v *visitor, x flows.Export, name, mime string) {
	if !c.exportsOn() {
		c.fail(w, r, v, http.StatusNotFound, "web.export.off")
		return
	}
	if x.Lang == "" {
		x.Lang = v.lang
	}
	if x.At.IsZero() {
		x.At = c.o.Now().UTC()
	}
	if x.Ticket == "" {
		x.Areas = c.records().ExportAreas(v.person) // the visitor's areas, as chat sends them
	}
	data, err := c.o.Exports.Export(r.Context(), x)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	case errors.Is(err, flows.ErrExportInvalid):
		c.fail(w, r, v, http.StatusUnprocessableEntity, "web.export.invalid")
		return
	case err != nil:
		c.internal(w, r, v, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mime)
	h.Set("Cache-Control", "no-store")
	if name != "" {
		h.Set("Content-Disposition", contentDisposition(name))
	}
	_, _ = w.Write(data)
}

const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	pngType  = "image/png"
)

// contentDisposition is an attachment header for name: an ASCII fallback
// (letters, digits, ".", "-", "_"; anything else "_") and the UTF-8 name
// percent-encoded (RFC 6266), so neither a quote, a path nor a line break
// in a name reaches the header.
func contentDisposition(name string) string {
	name = safeName(name)
	var ascii strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			ascii.WriteRune(r)
		default:
			ascii.WriteByte('_')
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// safeName drops what a file name must not hold: path separators, control
// characters, quotes; an empty result is "export".
func safeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\"'<>:|?*;`, r) {
			continue
		}
		b.WriteRune(r)
	}
	s := strings.TrimLeft(strings.TrimSpace(b.String()), ".")
	if s == "" {
		return "export"
	}
	return s
}

// title is a form's title in v's language and the profile's words.
func (c *Channel) title(v *visitor, key string) string { return v.t(key + "." + c.profile()) }

// ---- the work order ----

// orderFile downloads a ticket's work order (zc-qr-009/010), as /order
// sends it: to whoever may read that work order.
func (c *Channel) orderFile(w http.ResponseWriter, r *http.Request, v *visitor) {
	id := r.PathValue("id")
	var t *flows.Ticket
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		var err error
		t, err = tx.Ticket(id)
		return err
	})
	if errors.Is(err, flows.ErrNotFound) || (err == nil && (flows.MayReadOrder(v.person, t) != nil || !v.sees(t))) {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	name := t.ID + "_" + v.t("order.form."+string(t.Kind)+"."+c.profile()) + ".xlsx"
	c.download(w, r, v, flows.Export{Form: flows.ExportWorkOrder, Ticket: t.ID}, name, xlsxType)
}

// ---- the day's forms and a month's log ----

// dayParam is the local day a request names (?day=YYYY-MM-DD), today
// without one; ok is false for one that does not parse.
func (c *Channel) dayParam(r *http.Request) (time.Time, bool) {
	loc := c.o.Domain.Location()
	s := r.URL.Query().Get("day")
	if s == "" {
		now := c.o.Now().In(loc)
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc), true
	}
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	return d, err == nil
}

// dailyTasks downloads a day's task list 维修任务单, as /daily sends it.
func (c *Channel) dailyTasks(w http.ResponseWriter, r *http.Request, v *visitor) {
	day, ok := c.dayParam(r)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "daily.usage")
		return
	}
	name := c.title(v, "forms.title.daily") + "_" + day.Format("2006-01-02") + ".xlsx"
	c.download(w, r, v, flows.Export{Form: flows.ExportDaily, Day: day.Format("20060102")}, name, xlsxType)
}

// dailyLog downloads a day's repair log 报修记录表, as /daily sends it.
func (c *Channel) dailyLog(w http.ResponseWriter, r *http.Request, v *visitor) {
	day, ok := c.dayParam(r)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "daily.usage")
		return
	}
	name := c.title(v, "forms.title.repair_log") + "_" + day.Format("2006-01-02") + ".xlsx"
	c.download(w, r, v, flows.Export{Form: flows.ExportRepairLog, From: day.UTC(), To: day.AddDate(0, 0, 1).UTC()}, name, xlsxType)
}

// monthLog downloads a month's repair log (?month=YYYY-MM), as /month
// sends it; a bad or future month is refused with /month's words.
func (c *Channel) monthLog(w http.ResponseWriter, r *http.Request, v *visitor) {
	rr := c.records()
	if rr == nil {
		c.fail(w, r, v, http.StatusNotFound, "web.export.off")
		return
	}
	from, to, err := rr.MonthPeriod(r.URL.Query().Get("month"), c.o.Now())
	if err != nil {
		c.refusal(w, r, v, err)
		return
	}
	last := to.AddDate(0, 0, -1).Format("2006-01-02")
	name := c.title(v, "forms.title.repair_log") + "_" + from.Format("2006-01-02") + "_" + last + ".xlsx"
	c.download(w, r, v, flows.Export{Form: flows.ExportRepairLog, From: from.UTC(), To: to.UTC()}, name, xlsxType)
}

// refusal answers a user-safe engine error with its words (422), any
// other as internal.
func (c *Channel) refusal(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	var fe *flows.Error
	if !errors.As(err, &fe) {
		c.internal(w, r, v, err)
		return
	}
	c.fail(w, r, v, refusedStatus(fe.Code), fe.Key, fe.Args...)
}

// ---- the KPI page ----

type statsGroup struct {
	Label              string
	Reported, Resolved int
}

type statsData struct {
	Period, Query string
	Periods       []option
	Text          string
	Empty         bool
	Categories    []statsGroup
	Charts        []option // the chart forms and their alt texts
	Exports       bool
}

// statsPeriod reads ?period= as /stats reads its argument.
func (c *Channel) statsPeriod(r *http.Request) (recordsReader, string, time.Time, time.Time, error) {
	rr := c.records()
	if rr == nil {
		return nil, "", time.Time{}, time.Time{}, flows.Errorf(flows.CodeNotFound, "web.export.off")
	}
	arg := strings.TrimSpace(r.URL.Query().Get("period"))
	if len(arg) > 20 {
		return nil, "", time.Time{}, time.Time{}, flows.Errorf(flows.CodeInvalid, "stats.usage")
	}
	from, to, err := rr.StatsPeriod(arg, c.o.Now())
	return rr, arg, from, to, err
}

// kpiReport reads ?period= and computes the visitor's KPI report for it,
// answering the request itself (and reporting !ok) when it cannot.
func (c *Channel) kpiReport(w http.ResponseWriter, r *http.Request, v *visitor) (rr recordsReader, arg string, from, to time.Time, rep *flows.KPIReport, ok bool) {
	rr, arg, from, to, err := c.statsPeriod(r)
	if err != nil {
		c.refusal(w, r, v, err)
		return
	}
	if err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		var err error
		rep, err = rr.KPIReport(tx, v.person, from, to)
		return err
	}); err != nil {
		c.internal(w, r, v, err)
		return
	}
	return rr, arg, from, to, rep, true
}

// stats is /stats in the browser: the summary chat sends, the tickets per
// category, the two charts (images the same renderer draws) and the KPI
// workbook, for week, month or YYYY-MM.
func (c *Channel) stats(w http.ResponseWriter, r *http.Request, v *visitor) {
	rr, arg, from, to, rep, ok := c.kpiReport(w, r, v)
	if !ok {
		return
	}
	lb := c.labels(v)
	d := &statsData{Query: url.QueryEscape(arg), Text: rr.StatsText(rep, v.person, v.lang), Empty: rep.Total.Reported == 0,
		Period: from.Format("2006-01-02") + " – " + to.AddDate(0, 0, -1).Format("2006-01-02"), Exports: c.o.Exports != nil}
	for _, p := range []string{"week", "month"} {
		d.Periods = append(d.Periods, option{Value: p, Label: v.t("web.stats." + p), Selected: arg == p})
	}
	for _, g := range rep.ByCategory {
		d.Categories = append(d.Categories, statsGroup{Label: lb.category(g.Key), Reported: g.Reported, Resolved: g.Resolved})
	}
	if !d.Empty && d.Exports {
		d.Charts = []option{{Value: flows.ExportChartCategory, Label: v.t("web.stats.chart_category")},
			{Value: flows.ExportChartAccept, Label: v.t("web.stats.chart_accept")}}
	}
	c.renderNav(w, r, http.StatusOK, "stats", "web.nav.stats", v, v.t("web.stats.title"), d)
}

// chart draws one of /stats's charts for the period as a PNG.
func (c *Channel) chart(w http.ResponseWriter, r *http.Request, v *visitor) {
	form := r.PathValue("form")
	if form != flows.ExportChartCategory && form != flows.ExportChartAccept {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	_, _, _, _, rep, ok := c.kpiReport(w, r, v)
	if !ok {
		return
	}
	c.download(w, r, v, flows.Export{Form: form, From: rep.From, To: rep.To, KPI: flows.ChartFigures(rep)}, "", pngType)
}

// kpiBook downloads the period's KPI workbook, as /stats sends it.
func (c *Channel) kpiBook(w http.ResponseWriter, r *http.Request, v *visitor) {
	_, _, from, to, err := c.statsPeriod(r)
	if err != nil {
		c.refusal(w, r, v, err)
		return
	}
	name := c.title(v, "forms.title.kpi") + "_" + from.Format("2006-01-02") + "_" + to.AddDate(0, 0, -1).Format("2006-01-02") + ".xlsx"
	c.download(w, r, v, flows.Export{Form: flows.ExportKPI, From: from.UTC(), To: to.UTC()}, name, xlsxType)
}

// ---- the phone-callback list ----

type callbackView struct {
	Ticket, Resident, Phone, Dial, Address, Category, Tech, Since, Key string
}

type callbacksData struct {
	Lines []callbackView
	Can   bool
}

// callbacks is customer service's phone-callback list (/callbacks): the
// residents who did not answer the callback visit, each with the form that
// records the call (the clerk's chat buttons: held with a score, not held,
// unreachable). The clerk must dial the resident, so each line's call
// link (tel:) carries the whole number; the list shows it masked, as the
// board, the search and the ticket page do (docs/BAD-INPUT.md, the
// README's console section): a full number is never listed as text,
// only put where it is dialled, one resident at a time.
func (c *Channel) callbacks(w http.ResponseWriter, r *http.Request, v *visitor) {
	lb := c.labels(v)
	d := &callbacksData{}
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		list, err := tx.PhoneCallbacks()
		if err != nil {
			return err
		}
		for _, pc := range list {
			t, err := tx.Ticket(pc.TicketID)
			if errors.Is(err, flows.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !v.sees(t) {
				continue // another area's
			}
			cv := callbackView{Ticket: t.ID, Address: t.Building + " / " + t.Unit + " / " + t.Room, Category: lb.category(t.Category),
				Tech: t.Assignee, Since: c.localTime(pc.Since), Key: formKey()}
			if p, err := tx.Person(t.ResidentID); err == nil {
				cv.Resident, cv.Phone, cv.Dial = p.Name, flows.MaskPhone(p.Phone), dialable(p.Phone)
			} else if !errors.Is(err, flows.ErrNotFound) {
				return err
			}
			if flows.ConsoleAllows(flows.ConsoleCallback, v.person, t) == nil {
				d.Can = true
			}
			d.Lines = append(d.Lines, cv)
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "callbacks", "web.nav.callbacks", v, v.t("web.callbacks.title"), d)
}

// dialable is a phone number as a tel: link carries it: its digits, with
// the + of an international number.
func dialable(phone string) string {
	d := flows.PhoneDigits(phone)
	if d != "" && strings.HasPrefix(strings.TrimSpace(phone), "+") {
		return "+" + d
	}
	return d
}

// ---- the QC queue ----

type qcView struct {
	Ticket, Reason, Status, Created, Tech, Category, Key string
	Pending                                              bool
}

type qcData struct {
	Reviews  []qcView
	Can      bool
	Findings []option
	Spot     []option
}

// qc is the leads' QC queue (/qc): the sampled tickets waiting for a
// review, each with the review's form (the chat's review dialogue in one
// form: score, findings, note, a spot check).
func (c *Channel) qc(w http.ResponseWriter, r *http.Request, v *visitor) {
	lb := c.labels(v)
	d := &qcData{Can: flows.ConsoleAllows(flows.ConsoleQCReview, v.person, nil) == nil}
	for _, f := range flows.QCFindings() {
		d.Findings = append(d.Findings, option{Value: f, Label: v.t("qc.f_" + f)})
	}
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		open, err := tx.OpenQCReviews()
		if err != nil {
			return err
		}
		names := personNames(tx)
		for _, q := range open {
			t, err := tx.Ticket(q.Ticket)
			if err != nil && !errors.Is(err, flows.ErrNotFound) {
				return err
			}
			if t != nil && !v.sees(t) {
				continue // another area's
			}
			qv := qcView{Ticket: q.Ticket, Reason: lb.optional("qc.reason_"+q.Reason, q.Reason), Created: c.localTime(q.Created),
				Pending: q.Status == "pending", Key: formKey()}
			qv.Status = qv.Reason
			if q.Spot != nil && !qv.Pending {
				qv.Status = v.t("qc.spot_waiting", "name", names(q.Spot.Assignee))
			}
			if t != nil {
				qv.Tech, qv.Category = t.Assignee, lb.category(t.Category)
			}
			d.Reviews = append(d.Reviews, qv)
		}
		if !d.Can {
			return nil
		}
		for _, role := range []flows.Role{flows.RoleTechnician, flows.RoleLead, flows.RoleAdmin} {
			ps, err := tx.PeopleByRole(role)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if p.Registered {
					d.Spot = append(d.Spot, option{Value: p.ID, Label: p.Name})
				}
			}
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "qc", "web.nav.qc", v, v.t("web.qc.title"), d)
}
