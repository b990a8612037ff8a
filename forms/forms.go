// Package forms renders the SOP's records as Excel workbooks laid out like
// the paper forms: the repair log 报修记录表 (zc-qr-030), the work orders
// 公共设施设备维修单 (zc-qr-009) and 有偿服务维修单 (zc-qr-010), the team
// lead's daily task list 维修任务单, and the KPI workbook. Everything on a
// form is derived from the ticket and its audit trail; every text comes
// from the message catalogs (the profile picks the titles). Large forms
// stream their rows (excelize's StreamWriter), so a month of tickets is
// never held in memory.
package forms

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/repairbot/repairbot/flows"
)

// Form codes of the SOP's records (the rental SOP, 五、相关记录). The code
// names the layout, so it is printed on the form in either profile.
const (
	CodeRepairLog   = "zc-qr-030" // 报修记录表
	CodePublicOrder = "zc-qr-009" // 公共设施设备维修单
	CodePaidOrder   = "zc-qr-010" // 有偿服务维修单
)

// Options are what every form needs besides its tickets.
type Options struct {
	// Texts is the message catalog (i18n.Catalog); required.
	Texts flows.Texts
	// Lang is the language of the form; zh-CN when empty.
	Lang flows.Lang
	// Profile is "property" or "rental" and picks the titles.
	Profile string
	// OrgName heads every form.
	OrgName string
	// Location is the organisation's time zone; UTC when nil.
	Location *time.Location
	// Categories and Emergencies give their labels.
	Categories  []flows.Category
	Emergencies []flows.EmergencyType
	// SOP names the checklist steps of the photos and the price items of
	// the quote; optional.
	SOP *flows.SOP
	// Person looks people up by id (names, phones, the channel of a
	// confirmation); optional.
	Person func(id string) *flows.Person
	// ShowPhones prints residents' phone numbers in full; by default the
	// middle digits are masked (138****8000), as files travel in chats.
	ShowPhones bool
	// Photo opens a photo's stored copy for embedding; optional (photos
	// are then listed only).
	Photo func(flows.Photo) ([]byte, error)
	// JobParts lists the parts a ticket holds (flows.JobParts on the
	// store); optional (the work order's parts row then says none).
	JobParts func(ticketID string) []flows.JobPart
	// Now is the generation time printed in the footer; time.Now when zero.
	Now time.Time
	// AreaName names an area by its key in the form's language; nil: the
	// forms do not break reports down by area.
	AreaName func(key string) string
}

func (o *Options) defaults() error {
	if o.Texts == nil {
		return fmt.Errorf("forms: Options.Texts is required")
	}
	if o.Lang == "" {
		o.Lang = flows.LangZH
	}
	if o.Profile == "" {
		o.Profile = "property"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return nil
}

func (o *Options) t(key string, kv ...any) string { return o.Texts.T(o.Lang, key, kv...) }

// title is a per-profile catalog text (key.property / key.rental).
func (o *Options) title(key string) string { return o.t(key + "." + o.Profile) }

// role is the profile's title of a role, as a label (capitalised: the
// catalogs keep titles in lower case for use inside sentences).
func (o *Options) role(r flows.Role) string {
	s := o.t("role." + string(r) + "." + o.Profile)
	if r, n := utf8.DecodeRuneInString(s); n > 0 && unicode.IsLower(r) {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	return s
}

func (o *Options) category(key string) string { return flows.CategoryLabel(o.Categories, key, o.Lang) }

func (o *Options) person(id string) *flows.Person {
	if o.Person == nil || id == "" {
		return nil
	}
	return o.Person(id)
}

func (o *Options) name(id string) string {
	if p := o.person(id); p != nil && p.Name != "" {
		return p.Name
	}
	return ""
}

func (o *Options) phone(id string) string { return o.phoneOf(o.person(id)) }

func (o *Options) phoneOf(p *flows.Person) string {
	if p == nil {
		return ""
	}
	if o.ShowPhones {
		return p.Phone
	}
	return maskPhone(p.Phone)
}

// maskPhone keeps the first three and last four digits.
func maskPhone(s string) string {
	var digits []rune
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 8 {
		return strings.Repeat("*", len(digits))
	}
	if len(digits) > 11 && s != "" && strings.HasPrefix(strings.TrimSpace(s), "+") {
		digits = digits[len(digits)-11:] // +86 138…: the national number
	}
	return string(digits[:3]) + strings.Repeat("*", len(digits)-7) + string(digits[len(digits)-4:])
}

func (o *Options) urgency(t *flows.Ticket) string {
	if t.Emergency == "" {
		return o.t("forms.value.normal")
	}
	label := t.Emergency
	for _, e := range o.Emergencies {
		if e.Key == t.Emergency {
			if s := e.Labels[o.Lang]; s != "" {
				label = s
			}
		}
	}
	return o.t("forms.value.emergency", "type", label)
}

func (o *Options) when(t *flows.Ticket) string {
	if t.AgreedTime == nil {
		return o.t("when.asap")
	}
	return o.t("when.at", "time", o.stamp(*t.AgreedTime))
}

func (o *Options) stamp(at time.Time) string { return at.In(o.Location).Format("2006-01-02 15:04") }

func (o *Options) optStamp(at *time.Time) string {
	if at == nil {
		return ""
	}
	return o.stamp(*at)
}

func (o *Options) clock(at time.Time) string { return at.In(o.Location).Format("15:04") }

func (o *Options) state(s flows.State) string { return o.t("state." + string(s)) }

// faultGroup names a KPI fault group ("<category>/<code>"): the category
// and the code's label.
func (o *Options) faultGroup(key, level string) string {
	cat, code, _ := strings.Cut(key, "/")
	return o.category(cat) + "·" + flows.FaultLabel(o.SOP, cat, level, code, o.Lang)
}

// fault is the ticket's coded fault with its codes, "" when not coded.
func (o *Options) fault(t *flows.Ticket) string {
	f := t.Fault
	if !f.Complete() {
		return ""
	}
	return o.t("forms.value.fault", "fault", flows.FaultText(o.SOP, t, o.Lang),
		"codes", f.Component+"·"+f.Symptom+"·"+f.Cause+"·"+f.Action)
}

func address(t *flows.Ticket) string {
	if t.Kind == flows.OrderPublic && strings.TrimSpace(t.Place) != "" {
		return t.Place // a public fault's place, typed or a listed asset's name
	}
	var parts []string
	for _, s := range []string{t.Building, t.Unit, t.Room} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " / ")
}

// channelOf names the chat channel of a person id ("tg:…", "wecom:…").
func (o *Options) channelOf(id string) string {
	ch, _, ok := strings.Cut(id, ":")
	if !ok {
		ch = "other"
	}
	key := "forms.channel." + ch
	if s := o.t(key); !strings.HasPrefix(s, "⟦") {
		return s
	}
	return o.t("forms.channel.other")
}

// confirmation is the resident's last in-chat confirmation of the repair.
func (o *Options) confirmation(events []flows.TicketEvent) (at time.Time, actor string, ok bool) {
	for _, e := range events {
		if e.Action == string(flows.ActFixed) {
			at, actor, ok = e.At, e.Actor, true
		}
	}
	return at, actor, ok
}

func (o *Options) confirmText(t *flows.Ticket, events []flows.TicketEvent) string {
	at, actor, ok := o.confirmation(events)
	if !ok {
		return o.t("forms.confirm.none")
	}
	name := o.name(actor)
	if name == "" {
		name = o.name(t.ResidentID)
	}
	return o.t("forms.confirm.fixed", "time", o.stamp(at), "channel", o.channelOf(actor), "name", name)
}

// lastEvent is the time of the last event with the action.
func lastEvent(events []flows.TicketEvent, action string) *time.Time {
	var at *time.Time
	for i := range events {
		if events[i].Action == action {
			at = &events[i].At
		}
	}
	return at
}

// clip shortens s to at most n characters, for cells of a list.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// sheetName makes a catalog text a valid sheet name.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	if s == "" {
		s = "Sheet"
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// styles are the few cell styles a form uses.
type styles struct {
	org, title, meta, header, cell, label, no, center, num, money, left, foot, total, int int
}

const fontFamily = "宋体" // SimSun: what Chinese offices print forms in; others substitute a CJK font

func newStyles(f *excelize.File) (*styles, error) {
	border := []excelize.Border{{Type: "left", Color: "000000", Style: 1}, {Type: "right", Color: "000000", Style: 1},
		{Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 1}}
	font := func(size float64, bold bool) *excelize.Font {
		return &excelize.Font{Family: fontFamily, Size: size, Bold: bold}
	}
	wrap := func(h string) *excelize.Alignment {
		return &excelize.Alignment{Horizontal: h, Vertical: "center", WrapText: true}
	}
	gray := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}}
	s := &styles{}
	type def struct {
		to *int
		s  excelize.Style
	}
	defs := []def{
		{&s.org, excelize.Style{Font: font(12, false), Alignment: wrap("center")}},
		{&s.title, excelize.Style{Font: font(18, true), Alignment: wrap("center")}},
		{&s.meta, excelize.Style{Font: font(10, false), Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&s.header, excelize.Style{Font: font(10, true), Alignment: wrap("center"), Border: border, Fill: gray}},
		{&s.cell, excelize.Style{Font: font(10, false), Alignment: wrap("left"), Border: border}},
		{&s.label, excelize.Style{Font: font(10, true), Alignment: wrap("left"), Border: border, Fill: gray}},
		{&s.no, excelize.Style{Font: font(10, true), Alignment: wrap("center"), Border: border, Fill: gray}},
		{&s.center, excelize.Style{Font: font(10, false), Alignment: wrap("center"), Border: border}},
		{&s.num, excelize.Style{Font: font(10, false), Alignment: wrap("right"), Border: border, CustomNumFmt: ptr("0.0")}},
		{&s.money, excelize.Style{Font: font(10, false), Alignment: wrap("right"), Border: border, CustomNumFmt: ptr("¥#,##0.00")}},
		{&s.left, excelize.Style{Font: font(10, false), Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&s.foot, excelize.Style{Font: &excelize.Font{Family: fontFamily, Size: 8, Color: "595959"}, Alignment: wrap("left")}},
		{&s.total, excelize.Style{Font: font(10, true), Alignment: wrap("right"), Border: border, CustomNumFmt: ptr("¥#,##0.00")}},
		{&s.int, excelize.Style{Font: font(10, false), Alignment: wrap("right"), Border: border}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.s)
		if err != nil {
			return nil, err
		}
		*d.to = id
	}
	return s, nil
}

// pageSetup sets A4, the orientation, one page wide, the margins and the
// footer (form code on the left, page numbers on the right). A streamed
// sheet must have it before its stream writer starts (the sheet
// properties are written first).
func pageSetup(f *excelize.File, sheet string, landscape bool, code, footer string) error {
	orient := "portrait"
	if landscape {
		orient = "landscape"
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: ptr(true)}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: ptr(9), Orientation: ptr(orient), FitToWidth: ptr(1), FitToHeight: ptr(0)}); err != nil {
		return err
	}
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: ptr(0.5), Right: ptr(0.5), Top: ptr(0.6),
		Bottom: ptr(0.7), Header: ptr(0.3), Footer: ptr(0.3), Horizontally: ptr(true)}); err != nil {
		return err
	}
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: "&L&8" + hfEscape(code) + "&R&8" + footer})
}

// printArea sets the sheet's print area A1:lastCol lastRow and the rows
// repeated on every printed page ("$4:$4", or "").
func printArea(f *excelize.File, sheet, lastCol string, lastRow int, titleRows string) error {
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area", Scope: sheet,
		RefersTo: fmt.Sprintf("'%s'!$A$1:$%s$%d", sheet, lastCol, max(lastRow, 1))}); err != nil {
		return err
	}
	if titleRows != "" {
		return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: sheet, RefersTo: fmt.Sprintf("'%s'!%s", sheet, titleRows)})
	}
	return nil
}

// hfEscape keeps a text literal in a header or footer (& starts a code).
func hfEscape(s string) string { return strings.ReplaceAll(s, "&", "&&") }

// pageFooter is the footer's right side: "page 1 of 2".
func (o *Options) pageFooter() string {
	return strings.NewReplacer("{page}", "&P", "{pages}", "&N").Replace(hfEscape(o.Texts.T(o.Lang, "forms.page")))
}

// writeFile writes the workbook to w and releases its temporary files.
func writeFile(f *excelize.File, w io.Writer) error {
	_, err := f.WriteTo(w)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// imageExt sniffs a photo's file extension for excelize ("" if not an image it embeds).
func imageExt(b []byte) string {
	switch http.DetectContentType(b) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	}
	return ""
}

func cell(col string, row int) string { return fmt.Sprintf("%s%d", col, row) }
