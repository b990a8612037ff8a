package flows

import (
	"errors"
	"time"
)

// Exports: the SOP's forms as Excel files, the KPI charts as images and
// the spare-parts workbooks, sent in chat. flows cannot render them (it imports no spreadsheet or
// drawing library) and must not (a month's repair log is seconds of work,
// far too long for the single write transaction), so a message carries an
// export spec instead of its content, and the channel's sender renders it
// at send time (bot.Exporter, package records) from the store: the outbox
// row stays the durable record of what was asked, and a redelivery after a
// crash renders the same file again.

// Export forms. They are stored in outbox rows, so a name never changes
// meaning; a new form gets a new name.
const (
	// ExportWorkOrder is a ticket's work order (公共设施设备维修单 zc-qr-009
	// or 有偿服务维修单 zc-qr-010, by the ticket's kind): Ticket.
	ExportWorkOrder = "order"
	// ExportRepairLog is the repair log 报修记录表 zc-qr-030 of the tickets
	// reported in [From, To).
	ExportRepairLog = "repair_log"
	// ExportDaily is the lead's daily task list 维修任务单 of Day (the
	// archived list, or the day so far).
	ExportDaily = "daily"
	// ExportKPI is the KPI workbook of the tickets reported in [From, To):
	// the numbers, the ticket list and the charts.
	ExportKPI = "kpi"
	// ExportChartCategory is a PNG: tickets reported and resolved per
	// category, drawn from KPI.
	ExportChartCategory = "chart_category"
	// ExportChartAccept is a PNG: the mean time to accept per week, drawn
	// from KPI.
	ExportChartAccept = "chart_accept"
	// ExportPartsCatalog is the spare-parts catalog workbook (every item,
	// as the ledger has it when the file is made), headed in Lang; the same
	// layout /parts import reads (PartsFiles).
	ExportPartsCatalog = "parts_catalog"
	// ExportStockReport is the stock report of the moves in [From, To) (a
	// month): opening, received, issued, returned, scrapped, adjusted and
	// closing per item and store (PartsFiles).
	ExportStockReport = "stock_report"
	// ExportPoster is a PNG: a building's QR poster (posters.go), drawn
	// from Poster, which the engine filled and signed when it was asked.
	ExportPoster = "poster"
	// ExportPosterPDF is the same poster as a printable A4 PDF.
	ExportPosterPDF = "poster_pdf"
)

// Export names a file a message carries (Message.Export): a form or a
// workbook the renderer reads from the store, or a chart it draws from
// the figures computed with the message's text. Every field means one thing for every
// form; a form reads the fields its constant names.
type Export struct {
	Form   string `json:"form"`
	Ticket string `json:"ticket,omitempty"`
	// Day is a local day, YYYYMMDD.
	Day string `json:"day,omitempty"`
	// From and To bound a range of report times [From, To).
	From time.Time `json:"from,omitempty"`
	To   time.Time `json:"to,omitempty"`
	// Lang is the language of the file (its reader's).
	Lang Lang `json:"lang"`
	// At is when it was asked for: the file's "generated" time, so a
	// render repeated after a crash prints the same.
	At time.Time `json:"at"`
	// KPI are a chart's figures: the categories and the daily series of
	// the report the message's text summarises, so the chart shows the
	// same numbers without a second walk of the store.
	KPI *KPIReport `json:"kpi,omitempty"`
	// Areas are the areas whose tickets a range form or a daily list
	// covers (Ticket.AreaKey; nil: every area): a lead's files are their
	// areas' (areas_scope.go).
	Areas []string `json:"areas,omitempty"`
	// Poster is what a building's poster says (ExportPoster, ExportPosterPDF).
	Poster *PosterSpec `json:"poster,omitempty"`
}

// ErrExportInvalid is what a renderer returns for an export it cannot make
// from what it names (an unknown form, a missing field): a permanent
// failure, never retried. A missing ticket is flows.ErrNotFound.
var ErrExportInvalid = errors.New("flows: invalid export")

// Check reports whether the export names what its form needs.
func (x *Export) Check() error {
	if x == nil {
		return ErrExportInvalid
	}
	ok := false
	switch x.Form {
	case ExportWorkOrder:
		ok = x.Ticket != ""
	case ExportDaily:
		_, err := time.Parse("20060102", x.Day)
		ok = err == nil
	case ExportRepairLog, ExportKPI, ExportStockReport:
		ok = !x.From.IsZero() && x.To.After(x.From)
	case ExportChartCategory, ExportChartAccept:
		ok = x.KPI != nil
	case ExportPartsCatalog:
		ok = true
	case ExportPoster, ExportPosterPDF:
		ok = x.Poster != nil && x.Poster.Link != ""
	}
	if !ok {
		return ErrExportInvalid
	}
	return nil
}

// exportFile queues a KindFile whose content the sender renders from x.
func (c *call) exportFile(to Address, name, caption string, x Export, ticket string, prio Priority) {
	if x.At.IsZero() {
		x.At = c.now
	}
	c.send(Message{To: to, Kind: KindFile, FileName: name, Text: caption, Export: &x, Priority: prio, Ticket: ticket})
}

// exportImage queues a KindPhoto whose image the sender draws from x.
func (c *call) exportImage(to Address, name, caption string, x Export, prio Priority) {
	if x.At.IsZero() {
		x.At = c.now
	}
	c.send(Message{To: to, Kind: KindPhoto, FileName: name, Text: caption, Export: &x, Priority: prio})
}

// fileDate is a local date for a file name, 2026-11-27.
func (c *call) fileDate(t time.Time) string { return t.In(c.e.o.Location).Format("2006-01-02") }

// periodName is a range [from, to) for a file name: one day, or first to last day.
func (c *call) periodName(from, to time.Time) string {
	f, l := c.fileDate(from), c.fileDate(to.Add(-time.Second))
	if f == l {
		return f
	}
	return f + "_" + l
}

// workOrderFile queues a ticket's work order as an xlsx for someone.
func (c *call) workOrderFile(to Address, l Lang, t *Ticket) {
	title := c.tl(l, "order.form."+string(t.Kind)+"."+c.e.o.Profile)
	c.exportFile(to, t.ID+"_"+title+".xlsx", c.tl(l, "export.order", "form", title, "ticket", t.ID),
		Export{Form: ExportWorkOrder, Ticket: t.ID, Lang: l}, t.ID, PrioNormal)
}

// periodText is a range [from, to) for a caption: the day, or first to last day.
func (c *call) periodText(l Lang, from, to time.Time) string {
	f, last := c.fileDate(from), c.fileDate(to.Add(-time.Second))
	if f == last {
		return f
	}
	return c.tl(l, "forms.period", "from", f, "to", last)
}

// repairLogFile queues the repair log of [from, to) as an xlsx, of the
// sender's areas (areas_scope.go).
func (c *call) repairLogFile(to Address, l Lang, from, until time.Time) {
	title := c.tl(l, "forms.title.repair_log."+c.e.o.Profile)
	c.exportFile(to, title+"_"+c.periodName(from, until)+".xlsx", c.tl(l, "export.repair_log", "form", title, "period", c.periodText(l, from, until)),
		Export{Form: ExportRepairLog, From: from.UTC(), To: until.UTC(), Lang: l, Areas: exportAreas(c.e.scopeOf(c.me))}, "", PrioNormal)
}

// DailyList builds a day's task list (YYYYMMDD) as /daily shows it before
// the day is archived, in tx: the renderer's source of a live 维修任务单.
func (e *Engine) DailyList(tx Tx, day string) (*DailyList, error) {
	now := e.o.Now().UTC()
	c := &call{e: e, tx: tx, now: now, lang: e.o.DefaultLang, ev: Event{Kind: EvNone, At: now, From: Sender{ID: "system"}}}
	list, _, err := c.buildDaily(day)
	if fe := (*Error)(nil); errors.As(err, &fe) {
		return nil, ErrExportInvalid
	}
	return list, err
}

// RecordOptions are what the engine knows that the forms print: the
// profile, the organisation, the zone, the categories and emergency types,
// and the spare-parts workbooks' writer.
type RecordOptions struct {
	Profile, OrgName string
	Location         *time.Location
	Categories       []Category
	Emergencies      []EmergencyType
	DefaultLang      Lang
	Parts            PartsFiles
}

// RecordOptions returns the engine's options for the forms.
func (e *Engine) RecordOptions() RecordOptions {
	return RecordOptions{Profile: e.o.Profile, OrgName: e.o.OrgName, Location: e.o.Location,
		Categories: e.o.Categories, Emergencies: e.o.Emergencies, DefaultLang: e.o.DefaultLang, Parts: e.o.Parts.Files}
}

// orderFileButton asks for a ticket's work order as an xlsx.
func orderFileButton(label, ticket string) Button {
	return Button{Text: label, Data: EncodePayload(vbOrderFile, ticket)}
}

// orderFile sends the work order file to whoever may read the work order.
func (c *call) orderFile(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	t, err := c.mustTicket(args[0])
	if err != nil {
		return err
	}
	if err := c.mayReadOrder(t); err != nil {
		return err
	}
	c.toast = c.t("export.coming")
	c.workOrderFile(c.replyTo(), c.lang, t)
	return nil
}

// dailyFiles queues the day's task list and repair log as xlsx files, of
// the sender's areas (areas_scope.go).
func (c *call) dailyFiles(to Address, l Lang, day string) error {
	from, until, err := c.dayBounds(day)
	if err != nil {
		return Errorf(CodeInvalid, "daily.usage")
	}
	title := c.tl(l, "forms.title.daily."+c.e.o.Profile)
	date := dayLabel(day)
	c.exportFile(to, title+"_"+date+".xlsx", c.tl(l, "export.daily", "form", title, "date", date),
		Export{Form: ExportDaily, Day: day, Lang: l, Areas: exportAreas(c.e.scopeOf(c.me))}, "", PrioNormal)
	c.repairLogFile(to, l, from, until)
	return nil
}
