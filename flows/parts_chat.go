package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The spare-parts area in chat: /stock (levels, what open jobs hold, what
// is on order, what is low; purchase requests, deliveries, scrap requests,
// returns and the leads' stocktake), /parts (the leads' catalog: items
// added and edited in a dialogue, imported and exported as xlsx, stores,
// reversals), the leads' decisions on purchases and scraps, and the
// low-stock alerts the rules raise. The rules are parts_ledger.go; each
// handler here parses a tap or a text, calls one rule and renders what it
// did. Requisitions from inside a job are parts_job.go.

// PartsOptions configure the spare-parts area in chat.
type PartsOptions struct {
	// ApprovalOver is the value in fen above which a technician's
	// requisition waits for a lead's approval in chat ([parts]
	// approval_over); 0 never asks.
	ApprovalOver int64
	// Files reads and writes the spreadsheets (package stockxlsx); nil:
	// the catalog import and export and the monthly stock report file are
	// unavailable, and the leads are told so.
	Files PartsFiles
	// OpenFile opens the kept copy of a file a person sent (the channel
	// keeps it in the media store); nil: uploads cannot be read.
	OpenFile func(f File) (io.ReadCloser, error)
	// MostUsedWindow is how far back "the parts most used for this
	// category" looks when a technician picks a part (default 90 days).
	MostUsedWindow time.Duration
}

func (o PartsOptions) mostUsedWindow() time.Duration {
	if o.MostUsedWindow <= 0 {
		return 90 * 24 * time.Hour
	}
	return o.MostUsedWindow
}

// PartsFiles are the spare-parts spreadsheets; package stockxlsx
// implements them (flows stays free of file formats).
type PartsFiles interface {
	// ReadCatalog parses an uploaded catalog workbook.
	ReadCatalog(r io.Reader) CatalogUpload
	// WriteCatalog writes every catalog item, headed in lang.
	WriteCatalog(w io.Writer, tx PartsTx, lang Lang) error
	// WriteStockReport writes the stock report of [from, to), titled month.
	WriteStockReport(w io.Writer, tx PartsTx, from, to time.Time, month string, lang Lang) error
}

// CatalogUpload is an uploaded catalog, read and checked for what the
// file alone can tell.
type CatalogUpload interface {
	// Import checks every row against the store as well and writes all of
	// them or, when any row is bad, none: problems then name each row and
	// column, rendered in lang. n is how many items were written.
	Import(tx PartsTx, p Posting, lang Lang) (n int, problems []string, res StockResult, err error)
}

// partsAccess is the Access of a command or button that performs a
// spare-parts operation: its PartsRoles row, so the two cannot drift.
func partsAccess(a PartsAction) Access {
	return Access{Roles: PartsRoles[a], Deny: "err.role"}
}

// posting is the event as a spare-parts posting: its sender, its time,
// and its dedupe key (suffixed when one event posts several things).
func (c *call) posting(suffix string) Posting {
	key := c.ev.Key
	if key != "" && suffix != "" {
		key += "/" + suffix
	}
	return Posting{By: c.me, At: c.now, Key: key}
}

// ---- /stock ----

// maxCountText bounds one message of stocktake counts (about 250 lines).
const maxCountText = 4000

// stockPage is how many lines one /stock answer lists before it shows the
// low ones only.
const stockPage = 40

func (c *call) cmdStock(arg string) error {
	arg = strings.TrimSpace(arg)
	open, err := c.tx.OpenTickets()
	if err != nil {
		return err
	}
	ids := make([]string, len(open))
	for i, t := range open {
		ids[i] = t.ID
	}
	lines, err := StockOverview(c.tx, "", ids)
	if err != nil {
		return err
	}
	var b strings.Builder
	if arg != "" {
		found, err := c.tx.FindParts(arg, 20)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return Errorf(CodeNotFound, "stock.not_found", "query", cleanText(arg, 40))
		}
		want := map[string]bool{}
		for _, p := range found {
			want[p.Code] = true
		}
		b.WriteString(c.t("stock.found", "n", len(found)))
		for _, l := range lines {
			if want[l.Part.Code] {
				b.WriteString("\n" + c.stockLine(l))
			}
		}
		c.reply(b.String(), c.stockButtons()...)
		return nil
	}
	if len(lines) == 0 {
		c.reply(c.t("stock.empty"), c.stockButtons()...)
		return nil
	}
	var value int64
	parts := map[string]bool{}
	var low []StockLine
	for _, l := range lines {
		value += l.Value
		parts[l.Part.Code] = true
		if l.Low {
			low = append(low, l)
		}
	}
	b.WriteString(c.t("stock.head", "parts", len(parts), "value", Money(value), "low", len(low)))
	shown := lines
	if len(lines) > stockPage {
		shown = low
		b.WriteString("\n" + c.t("stock.only_low", "n", len(lines)))
	}
	for _, l := range shown[:min(len(shown), stockPage)] {
		b.WriteString("\n" + c.stockLine(l))
	}
	prs, err := c.tx.OpenPurchaseRequests()
	if err != nil {
		return err
	}
	if len(prs) > 0 {
		b.WriteString("\n\n" + c.t("stock.purchases"))
		for _, r := range prs[:min(len(prs), 10)] {
			b.WriteString("\n" + c.purchaseLine(r, c.lang))
		}
	}
	c.reply(b.String(), c.stockButtons()...)
	return nil
}

// stockLine is one part in one store: on hand, what open jobs hold, what
// is on order, and whether it is below its minimum.
func (c *call) stockLine(l StockLine) string {
	s := c.t("stock.line", "part", l.Part.Code, "name", l.Part.Name, "store", c.storeName(l.Store), "qty", l.OnHand, "unit", l.Part.Unit,
		"value", Money(l.Value))
	if l.Reserved > 0 {
		s += c.t("stock.reserved", "n", l.Reserved)
	}
	if l.OnOrder > 0 {
		s += c.t("stock.on_order", "n", l.OnOrder)
	}
	if l.Low {
		s += c.t("stock.low", "min", l.Part.MinStock)
	}
	if l.Part.Retired {
		s += c.t("stock.retired")
	}
	return s
}

// stockButtons are what the sender may start from /stock.
func (c *call) stockButtons() [][]Button {
	var row1, row2 []Button
	if AuthorizeParts(PartsRequestPurchase, c.me) == nil {
		row1 = append(row1, CommandArgButton(c.t("btn.parts.buy"), "stock", "buy"))
	}
	if AuthorizeParts(PartsReceive, c.me) == nil {
		row1 = append(row1, CommandArgButton(c.t("btn.parts.receive"), "stock", "receive"))
	}
	if AuthorizeParts(PartsRequestScrap, c.me) == nil {
		row2 = append(row2, CommandArgButton(c.t("btn.parts.scrap"), "stock", "scrap"))
	}
	if AuthorizeParts(PartsReturn, c.me) == nil {
		row2 = append(row2, CommandArgButton(c.t("btn.parts.return"), "stock", "return"))
	}
	if AuthorizeParts(PartsStocktake, c.me) == nil {
		row2 = append(row2, CommandArgButton(c.t("btn.parts.count"), "stock", "count"))
	}
	var rows [][]Button
	for _, r := range [][]Button{row1, row2} {
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

func (c *call) storeName(id string) string {
	if l, err := c.tx.StockLocation(id); err == nil && l.Name != "" {
		return l.Name
	}
	return id
}

func (c *call) purchaseLine(r *PurchaseRequest, l Lang) string {
	name, unit := r.Part, ""
	if p, err := c.tx.Part(r.Part); err == nil {
		name, unit = p.Code+" "+p.Name, p.Unit
	}
	return c.tl(l, "stock.purchase_line", "id", r.ID, "part", name, "qty", r.Qty, "unit", unit, "store", c.storeName(r.Store),
		"status", c.tl(l, "purchase.status."+string(r.Status)), "received", r.Received)
}

func (c *call) stockBuy() error    { return c.partsStart(dlgPartsBuy, &PartsDraft{}, "") }
func (c *call) stockScrap() error  { return c.partsStart(dlgPartsScrap, &PartsDraft{}, "") }
func (c *call) stockCount() error  { return c.partsStart(dlgPartsCount, &PartsDraft{}, "") }
func (c *call) stockReturn() error { return c.partsStart(dlgPartsReturn, &PartsDraft{}, "") }

func (c *call) stockReceive() error {
	prs, err := c.deliverable()
	if err != nil {
		return err
	}
	if len(prs) == 0 {
		c.reply(c.t("purchase.none_open"))
		return nil
	}
	return c.partsStart(dlgPartsReceive, &PartsDraft{}, "")
}

// deliverable lists the approved purchases still expecting a delivery.
func (c *call) deliverable() ([]*PurchaseRequest, error) {
	prs, err := c.tx.OpenPurchaseRequests()
	if err != nil {
		return nil, err
	}
	var out []*PurchaseRequest
	for _, r := range prs {
		if r.Status.Open() {
			out = append(out, r)
		}
	}
	return out, nil
}

// ---- /parts: the leads' catalog ----

func (c *call) cmdParts(arg string) error {
	arg = strings.TrimSpace(arg)
	word, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(word) {
	case "":
		return c.partsHelp()
	case "store":
		id, name, _ := strings.Cut(rest, " ")
		loc, err := SaveStockLocation(c.tx, c.posting(""), StockLocation{ID: strings.ToLower(id), Name: strings.TrimSpace(name)})
		if err != nil {
			return err
		}
		c.reply(c.t("parts.store_saved", "id", loc.ID, "name", loc.Name))
		return nil
	case "reverse":
		n, reason, _ := strings.Cut(rest, " ")
		seq, err := strconv.ParseUint(strings.TrimPrefix(n, "#"), 10, 64)
		if err != nil || seq == 0 {
			return Errorf(CodeInvalid, "parts.reverse_usage")
		}
		res, err := Reverse(c.tx, c.posting(""), seq, reason)
		if err != nil {
			return err
		}
		if err := c.partsPosted(res); err != nil {
			return err
		}
		c.reply(c.t("parts.reversed", "seq", seq, "by", res.Moves[0].Seq))
		return nil
	}
	p, err := partByCode(c.tx, arg)
	if err != nil {
		return err
	}
	c.reply(c.itemText(p, c.lang), c.itemButtons(p, c.lang))
	return nil
}

func (c *call) partsHelp() error {
	n := 0
	if err := c.tx.EachPart(func(*Part) error { n++; return nil }); err != nil {
		return err
	}
	locs, err := c.tx.StockLocations()
	if err != nil {
		return err
	}
	var stores []string
	for _, l := range locs {
		stores = append(stores, l.ID+" "+l.Name)
	}
	if len(stores) == 0 {
		stores = append(stores, c.t("parts.no_stores"))
	}
	c.reply(c.t("parts.help", "n", n, "stores", strings.Join(stores, c.t("order.sep"))),
		[]Button{CommandArgButton(c.t("btn.parts.add"), "parts", "add")},
		[]Button{CommandArgButton(c.t("btn.parts.import"), "parts", "import"), CommandArgButton(c.t("btn.parts.export"), "parts", "export")})
	return nil
}

func (c *call) partsAdd() error {
	if err := c.needStores(); err != nil {
		return err
	}
	return c.partsStart(dlgPartsItem, &PartsDraft{Item: &Part{}, New: true}, "")
}

func (c *call) needStores() error {
	locs, err := c.tx.StockLocations()
	if err != nil {
		return err
	}
	if len(locs) == 0 {
		return Errorf(CodeInvalid, "parts.no_stores_yet")
	}
	return nil
}

func (c *call) partsImport() error {
	if c.e.o.Parts.Files == nil || c.e.o.Parts.OpenFile == nil {
		return Errorf(CodeInvalid, "parts.files_off")
	}
	if err := c.needStores(); err != nil {
		return err
	}
	return c.partsStart(dlgPartsImport, &PartsDraft{}, "")
}

func (c *call) partsExport() error {
	if c.e.o.Parts.Files == nil {
		return Errorf(CodeInvalid, "parts.files_off")
	}
	day := c.now.In(c.e.o.Location).Format("20060102")
	c.exportFile(c.ev.From.Chat, "parts-"+day+".xlsx", c.t("parts.export_caption", "day", day),
		Export{Form: ExportPartsCatalog, Lang: c.lang}, "", PrioNormal)
	return nil
}

// itemText shows one catalog item.
func (c *call) itemText(p *Part, l Lang) string {
	billable := c.tl(l, "parts.item_free")
	if p.Billable {
		billable = c.tl(l, "parts.item_billable", "price", Money(p.SalePrice))
	}
	var stores []string
	for _, s := range p.Stores {
		lv, _ := c.tx.StockLevel(p.Code, s)
		stores = append(stores, c.tl(l, "parts.item_store", "store", c.storeName(s), "qty", lv.Qty, "unit", p.Unit))
	}
	s := c.tl(l, "parts.item", "code", p.Code, "name", p.Name, "spec", orDash(p.Spec), "unit", p.Unit, "cost", Money(p.UnitCost),
		"billable", billable, "min", p.MinStock, "reorder", p.ReorderQty, "stores", strings.Join(stores, c.tl(l, "order.sep")))
	if p.Retired {
		s += "\n" + c.tl(l, "parts.item_retired")
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (c *call) itemButtons(p *Part, l Lang) []Button {
	retire := "btn.parts.retire"
	if p.Retired {
		retire = "btn.parts.unretire"
	}
	return []Button{{Text: c.tl(l, "btn.parts.edit"), Data: EncodePayload(vbItemEdit, p.Code)},
		{Text: c.tl(l, retire), Data: EncodePayload(vbItemRetire, p.Code)}}
}

// itemEdit starts the catalog dialogue on an existing item: "pie|<code>".
func (c *call) itemEdit(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := partByCode(c.tx, args[0])
	if err != nil {
		return err
	}
	cp := *p
	cp.Stores = append([]string(nil), p.Stores...)
	c.toast = c.t("ok")
	return c.partsStart(dlgPartsItem, &PartsDraft{Item: &cp, Part: p.Code}, "")
}

// itemRetire retires an item or brings it back: "pit|<code>".
func (c *call) itemRetire(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := partByCode(c.tx, args[0])
	if err != nil {
		return err
	}
	cp := *p
	cp.Retired = !p.Retired
	saved, res, err := SavePart(c.tx, c.posting(""), cp)
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	c.toast = c.t("ok")
	c.reply(c.itemText(saved, c.lang), c.itemButtons(saved, c.lang))
	return nil
}

// ---- purchase and scrap decisions ----

// purchaseCard asks the leads to decide a purchase request.
func (c *call) purchaseCard(r *PurchaseRequest) error {
	leads, err := c.leads()
	if err != nil {
		return err
	}
	who := c.me.Name
	for _, p := range leads {
		if p.Chat.IsZero() {
			continue
		}
		c.send(Message{To: p.Chat, Priority: PrioNormal, Text: c.tl(p.Lang, "purchase.ask", "who", who, "line", c.purchaseLine(r, p.Lang), "why", r.Why),
			Buttons: c.decideButtons(p.Lang, vbPurchaseOK, vbPurchaseNo, r.ID)})
	}
	return nil
}

// decideButtons are a lead's approve / refuse buttons on request id.
func (c *call) decideButtons(l Lang, approve, refuse, id string) [][]Button {
	return [][]Button{{{Text: c.tl(l, "btn.parts.approve"), Data: EncodePayload(approve, id)},
		{Text: c.tl(l, "btn.parts.refuse"), Data: EncodePayload(refuse, id)}}}
}

// purchaseDecide is a lead's tap on a purchase card: "ppa|PR-n", "ppr|PR-n".
func (c *call) purchaseDecide(args []string, approve bool) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, err := DecidePurchase(c.tx, c.posting(""), args[0], approve, "")
	if err != nil {
		return err
	}
	c.toast = c.t("ok")
	key := "purchase.refused"
	if approve {
		key = "purchase.approved"
	}
	c.reply(c.t(key, "line", c.purchaseLine(r, c.lang), "by", c.me.Name))
	if r.RequestedBy != c.me.ID {
		req, err := c.person(r.RequestedBy)
		if err != nil {
			return err
		}
		if req != nil {
			var rows [][]Button
			if approve && AuthorizeParts(PartsReceive, req) == nil {
				rows = append(rows, []Button{{Text: c.tl(req.Lang, "btn.parts.receive"), Data: EncodePayload(vbDeliver, r.ID)}})
			}
			c.tell(req, key, []any{"line", c.purchaseLine(r, req.Lang), "by", c.me.Name}, rows...)
		}
	}
	return nil
}

// deliverButton starts recording a delivery against one purchase: "prd|PR-n".
func (c *call) deliverButton(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, err := purchase(c.tx, args[0])
	if err != nil {
		return err
	}
	if !r.Status.Open() {
		return Errorf(CodeConflict, "parts.purchase_not_open", "id", r.ID, "status", c.t("purchase.status."+string(r.Status)))
	}
	c.toast = c.t("ok")
	return c.partsStart(dlgPartsReceive, &PartsDraft{Ref: r.ID, Part: r.Part, Store: r.Store}, "")
}

// scrapCard asks the leads to decide a scrap request, with its photo.
func (c *call) scrapCard(r *ScrapRequest) error {
	leads, err := c.leads()
	if err != nil {
		return err
	}
	p, err := partByCode(c.tx, r.Part)
	if err != nil {
		return err
	}
	for _, l := range leads {
		if l.Chat.IsZero() {
			continue
		}
		c.send(photoMessage(l.Chat, r.Photo, r.ID, PrioNormal))
		c.send(Message{To: l.Chat, Priority: PrioNormal, Text: c.tl(l.Lang, "scrap.ask", "who", c.me.Name, "id", r.ID, "part", p.Code, "name", p.Name,
			"qty", r.Qty, "unit", p.Unit, "store", c.storeName(r.Store), "reason", r.Reason),
			Buttons: c.decideButtons(l.Lang, vbScrapOK, vbScrapNo, r.ID)})
	}
	return nil
}

// scrapDecide is a lead's tap on a scrap card: "psa|SC-n", "psr|SC-n".
func (c *call) scrapDecide(args []string, approve bool) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	r, res, err := DecideScrap(c.tx, c.posting(""), args[0], approve, "")
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	c.toast = c.t("ok")
	key := "scrap.refused"
	if approve {
		key = "scrap.approved"
	}
	c.reply(c.t(key, "id", r.ID, "by", c.me.Name))
	if r.RequestedBy != c.me.ID {
		req, err := c.person(r.RequestedBy)
		if err != nil {
			return err
		}
		c.tell(req, key, []any{"id", r.ID, "by", c.me.Name})
	}
	return nil
}

// ---- low stock ----

// partsPosted tells the leads what a posting raised or cleared: a part
// that fell below its minimum (once per shortage, with a button to request
// a purchase), and one back at or above it.
func (c *call) partsPosted(res StockResult) error {
	if len(res.Alerts) == 0 && len(res.Recovered) == 0 {
		return nil
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	prs, err := c.tx.OpenPurchaseRequests()
	if err != nil {
		return err
	}
	onOrder := func(part, store string) int64 {
		var n int64
		for _, r := range prs {
			if r.Part == part && r.Store == store {
				n += r.OnOrder()
			}
		}
		return n
	}
	for _, a := range res.Alerts {
		p, err := partByCode(c.tx, a.Part)
		if err != nil {
			return err
		}
		qty := reorderQty(p, a.Qty)
		for _, l := range leads {
			if l.Chat.IsZero() {
				continue
			}
			m := Message{To: l.Chat, Priority: PrioNormal, Text: c.tl(l.Lang, "parts.low_stock", "part", p.Code, "name", p.Name,
				"store", c.storeName(a.Store), "qty", a.Qty, "unit", p.Unit, "min", a.Min, "on_order", onOrder(a.Part, a.Store))}
			if b := (Button{Text: c.tl(l.Lang, "parts.btn_request_purchase", "qty", qty, "unit", p.Unit), Data: EncodePayload(vbLowBuy, p.Code, a.Store)}); len(b.Data) <= MaxPayload {
				m.Buttons = [][]Button{{b}}
			} else {
				m.Buttons = [][]Button{{CommandArgButton(c.tl(l.Lang, "btn.parts.buy"), "stock", "buy")}}
			}
			c.send(m)
		}
	}
	for _, a := range res.Recovered {
		p, err := partByCode(c.tx, a.Part)
		if err != nil {
			return err
		}
		lv, err := c.tx.StockLevel(a.Part, a.Store)
		if err != nil {
			return err
		}
		for _, l := range leads {
			if !l.Chat.IsZero() {
				c.send(Message{To: l.Chat, Priority: PrioReminder, Text: c.tl(l.Lang, "parts.low_stock_recovered", "part", p.Code, "name", p.Name,
					"store", c.storeName(a.Store), "qty", lv.Qty, "unit", p.Unit, "min", p.MinStock)})
			}
		}
	}
	return nil
}

// reorderQty is what a low-stock button proposes: the catalog's reorder
// quantity, or enough to be back at twice the minimum.
func reorderQty(p *Part, have int64) int64 {
	if p.ReorderQty > 0 {
		return p.ReorderQty
	}
	return max(1, 2*p.MinStock-max(have, 0))
}

// lowBuy starts a purchase request from a low-stock alert: "plb|<code>|<store>".
func (c *call) lowBuy(args []string) error {
	if len(args) != 2 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := livePart(c.tx, args[0])
	if err != nil {
		return err
	}
	if err := keptIn(c.tx, p, args[1]); err != nil {
		return err
	}
	c.toast = c.t("ok")
	return c.partsStart(dlgPartsBuy, &PartsDraft{Part: p.Code, Store: args[1], Low: true}, "")
}

// ---- the dialogues ----

// PartsDraft is what a spare-parts dialogue has gathered so far. Each
// field means one thing in every kind that uses it.
type PartsDraft struct {
	// Part is the catalog item the dialogue is about.
	Part string `json:"part,omitempty"`
	// Store is the store the parts move in (or are counted in).
	Store string `json:"store,omitempty"`
	// Qty is the quantity, in the part's unit.
	Qty int64 `json:"qty,omitempty"`
	// Ref is the purchase request (PR-n) a delivery is recorded against.
	Ref string `json:"ref,omitempty"`
	// Supplier and UnitCost (fen) describe a delivery.
	Supplier string `json:"supplier,omitempty"`
	UnitCost int64  `json:"unit_cost,omitempty"`
	// Why is a purchase's reason, a scrap's or a stocktake's.
	Why string `json:"why,omitempty"`
	// Photo is a delivery note's or a scrap's photo.
	Photo *Photo `json:"photo,omitempty"`
	// Picks are the choices offered as numbered buttons (part codes,
	// purchase ids, tickets), so a button carries only its number.
	Picks []string `json:"picks,omitempty"`
	// Stores are the stores offered as numbered buttons.
	Stores []string `json:"stores,omitempty"`
	// Item is the catalog item being added (New) or edited.
	Item *Part `json:"item,omitempty"`
	New  bool  `json:"new,omitempty"`
	// Counts are a stocktake's counts so far.
	Counts []CountInput `json:"counts,omitempty"`
	// JobStep is the checklist step a requisition was started at; the
	// job must still be there when it is posted.
	JobStep string `json:"job_step,omitempty"`
	// Low marks a purchase started from a low-stock alert.
	Low bool `json:"low,omitempty"`
	// Found marks Picks as the result of a search (not the parts most
	// used for the job's category).
	Found bool `json:"found,omitempty"`
}

// Spare-parts dialogue steps. They are stored, so their names never change meaning.
const (
	stepPartPick     = "part_pick"
	stepPartStore    = "part_store"
	stepPartQty      = "part_qty"
	stepPartWhy      = "part_why"
	stepPartOrder    = "part_order"
	stepPartSupplier = "part_supplier"
	stepPartCost     = "part_cost"
	stepPartPhoto    = "part_photo"
	stepPartCounts   = "part_counts"
	stepPartFile     = "part_file"
	stepPartJob      = "part_job"
	stepItemCode     = "item_code"
	stepItemName     = "item_name"
	stepItemSpec     = "item_spec"
	stepItemUnit     = "item_unit"
	stepItemCost     = "item_cost"
	stepItemPrice    = "item_price"
	stepItemMin      = "item_min"
	stepItemStores   = "item_stores"
)

// partsFlow is one spare-parts dialogue kind: its steps in order, what it
// does when the last one is answered, and how its shared steps ask.
type partsFlow struct {
	steps []string
	done  func(c *call, d *Dialogue) error
	// fromJob: the parts come from the job (a return), not the stores.
	fromJob bool
	// mostUsed: the first part prompt offers the category's most used.
	mostUsed bool
	// retired parts may be named (scrapping old stock).
	retired bool
	// stores are the stores the store step offers.
	stores func(c *call, d *Dialogue) ([]string, error)
	// qty is the quantity step's prompt key, what there is, and the quick
	// answers; over lets a quick answer exceed it (a purchase).
	qty  func(c *call, d *Dialogue, p *Part) (key string, have int64, quick []int64, err error)
	over bool
	// why is the reason step's prompt, and its one quick answer (a button
	// value and the reason it gives; "" for none).
	why, quick, quickWhy string
}

var partsFlows = map[string]partsFlow{
	dlgPartsBuy: {steps: []string{stepPartPick, stepPartStore, stepPartQty, stepPartWhy}, done: (*call).buyDone,
		stores: (*call).keptStores, qty: (*call).qtyBuy, over: true, why: "parts.ask_why_buy", quick: "low", quickWhy: "parts.why_low"},
	dlgPartsReceive: {steps: []string{stepPartOrder, stepPartQty, stepPartSupplier, stepPartCost, stepPartPhoto}, done: (*call).receiveDone,
		qty: (*call).qtyReceive},
	dlgPartsScrap: {steps: []string{stepPartPick, stepPartStore, stepPartQty, stepPartWhy, stepPartPhoto}, done: (*call).scrapDone,
		retired: true, stores: (*call).holdingStores, qty: qtyStore("parts.ask_qty_scrap"), why: "parts.ask_why_scrap"},
	dlgPartsCount: {steps: []string{stepPartStore, stepPartCounts, stepPartWhy}, done: (*call).countDone,
		stores: (*call).allStores, why: "parts.ask_why_count", quick: "routine", quickWhy: "parts.why_count_routine"},
	dlgPartsItem: {steps: []string{stepItemCode, stepItemName, stepItemSpec, stepItemUnit, stepItemCost, stepItemPrice, stepItemMin, stepItemStores},
		done: (*call).itemDone},
	dlgPartsImport: {steps: []string{stepPartFile}},
	dlgPartsReturn: {steps: []string{stepPartJob, stepPartPick, stepPartQty}, done: (*call).returnDone, fromJob: true, qty: (*call).qtyReturn},
	dlgUsePart: {steps: []string{stepPartPick, stepPartStore, stepPartQty}, done: (*call).usePartDone, mostUsed: true,
		stores: (*call).holdingStores, qty: qtyStore("parts.ask_qty_use")},
}

// partsStep is one step: whether it is needed (nil: always), its prompt,
// and what a typed answer, a photo or a button does. An answer handler
// reports whether the dialogue moves on (false asks the step again).
type partsStep struct {
	needed func(c *call, d *Dialogue) (bool, error)
	ask    func(c *call, d *Dialogue) (string, [][]Button, error)
	text   func(c *call, d *Dialogue, s string) (bool, error)
	photo  func(c *call, d *Dialogue, ph Photo) (bool, error)
	choose func(c *call, d *Dialogue, v string) (bool, error)
	// long takes a message of many lines (a stocktake's counts).
	long bool
}

var partsSteps map[string]partsStep

func init() {
	// Assigned here: the steps reach partsFlows (through partsGo), which a
	// declaration may not.
	partsSteps = map[string]partsStep{
		stepPartPick:     {needed: noPart, ask: (*call).askPart, text: (*call).typePart, choose: (*call).pickPart},
		stepPartStore:    {needed: (*call).needStore, ask: (*call).askStore, text: (*call).typeStore, choose: (*call).pickStore},
		stepPartQty:      {ask: (*call).askQty, text: (*call).typeQty, choose: (*call).pickQty},
		stepPartWhy:      {ask: (*call).askWhy, text: (*call).typeWhy, choose: (*call).pickWhy},
		stepPartOrder:    {needed: func(_ *call, d *Dialogue) (bool, error) { return d.Parts.Ref == "", nil }, ask: (*call).askOrder, text: (*call).typeOrder, choose: (*call).pickOrder},
		stepPartSupplier: {ask: askKey("parts.ask_supplier"), text: (*call).typeSupplier},
		stepPartCost:     {ask: (*call).askCost, text: (*call).typeCost, choose: (*call).pickCost},
		stepPartPhoto:    {ask: askKey("parts.ask_photo"), photo: (*call).sendPhoto},
		stepPartCounts:   {ask: (*call).askCounts, text: (*call).typeCounts, choose: (*call).pickCounts, long: true},
		stepPartFile:     {ask: askKey("parts.ask_file")},
		stepPartJob:      {needed: func(_ *call, d *Dialogue) (bool, error) { return d.TicketID == "", nil }, ask: (*call).askJob, text: (*call).typeJob, choose: (*call).pickJob},
		stepItemCode:     {needed: func(_ *call, d *Dialogue) (bool, error) { return d.Parts.New && d.Parts.Item.Code == "", nil }, ask: askKey("parts.ask_code"), text: (*call).typeCode},
		stepItemName:     itemField("name", "parts.ask_name", false, func(p *Part, s string) error { p.Name = s; return nil }, func(p *Part) string { return p.Name }),
		stepItemSpec:     itemField("spec", "parts.ask_spec", true, func(p *Part, s string) error { p.Spec = s; return nil }, func(p *Part) string { return p.Spec }),
		stepItemUnit:     itemField("unit", "parts.ask_unit", false, func(p *Part, s string) error { p.Unit = s; return nil }, func(p *Part) string { return p.Unit }),
		stepItemCost:     itemField("unit_cost", "parts.ask_cost", false, setMoney("parts.bad_cost", func(p *Part) *int64 { return &p.UnitCost }), func(p *Part) string { return Money(p.UnitCost) }),
		stepItemPrice: itemField("sale_price", "parts.ask_price", false, func(p *Part, s string) error {
			if err := setMoney("parts.bad_price", func(p *Part) *int64 { return &p.SalePrice })(p, s); err != nil {
				return err
			}
			p.Billable = p.SalePrice > 0
			return nil
		}, func(p *Part) string { return Money(p.SalePrice) }),
		stepItemMin: itemField("min_stock", "parts.ask_min", false, func(p *Part, s string) error {
			n, ok := parseCount(s)
			if !ok {
				return Errorf(CodeInvalid, "parts.bad_min", "max", MaxStockQty)
			}
			p.MinStock = n
			return nil
		}, func(p *Part) string { return strconv.FormatInt(p.MinStock, 10) }),
		stepItemStores: {needed: (*call).needItemStores, ask: (*call).askItemStores, text: (*call).typeItemStores, choose: (*call).keepItem},
	}
}

// partsStart opens a spare-parts dialogue and asks its first step.
func (c *call) partsStart(kind string, draft *PartsDraft, ticketID string) error {
	d := &Dialogue{PersonID: c.me.ID, Kind: kind, Started: c.now, TicketID: ticketID, Parts: draft}
	if old, err := c.tx.Dialogue(c.me.ID); err == nil {
		d.Seq = old.Seq // a fresh prompt number: the old prompt's buttons are stale
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return c.partsGo(d, "")
}

// partsGo asks the first needed step after from ("" the first of all), or
// finishes the dialogue when none is left.
func (c *call) partsGo(d *Dialogue, from string) error {
	f := partsFlows[d.Kind]
	i := 0
	if from != "" {
		for i < len(f.steps) && f.steps[i] != from {
			i++
		}
		i++
	}
	for ; i < len(f.steps); i++ {
		st := partsSteps[f.steps[i]]
		if st.needed != nil {
			need, err := st.needed(c, d)
			if err != nil {
				return err
			}
			if !need {
				continue
			}
		}
		d.Step = f.steps[i]
		return c.partsAsk(d)
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	if f.done == nil {
		return nil
	}
	return f.done(c, d)
}

// partsAsk (re)asks the current step with a fresh prompt number.
func (c *call) partsAsk(d *Dialogue) error {
	c.bump(d)
	text, buttons, err := partsSteps[d.Step].ask(c, d)
	if err != nil {
		return err
	}
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	c.reply(text, buttons...)
	return nil
}

// partsInput handles a typed answer or a photo in a spare-parts dialogue.
func (c *call) partsInput(d *Dialogue) error {
	st, ok := partsSteps[d.Step]
	if !ok || d.Parts == nil {
		return c.tx.DeleteDialogue(d.PersonID) // written by a newer version: start clean
	}
	var next bool
	var err error
	switch {
	case c.ev.Kind == EvPhoto && st.photo != nil:
		next, err = st.photo(c, d, *c.ev.Photo)
	case c.ev.Kind == EvPhoto:
		return Errorf(CodeInvalid, "err.photo_unexpected")
	case st.text == nil:
		return Errorf(CodeInvalid, "err.text_not_here", "prompt", c.promptHint(d))
	default:
		limit := maxPartReason
		if st.long {
			limit = maxCountText
		}
		var s string
		if s, err = c.textField(limit); err != nil {
			return err
		}
		next, err = st.text(c, d, s)
	}
	if err != nil {
		return err
	}
	if !next {
		return c.partsAsk(d)
	}
	return c.partsGo(d, d.Step)
}

// partsChoose handles a button of a spare-parts prompt (d|seq|value).
func (c *call) partsChoose(d *Dialogue, v string) error {
	st, ok := partsSteps[d.Step]
	if !ok || st.choose == nil || d.Parts == nil {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	next, err := st.choose(c, d, v)
	if err != nil {
		return err
	}
	c.toast = c.t("ok")
	if !next {
		return c.partsAsk(d)
	}
	return c.partsGo(d, d.Step)
}

func askKey(key string) func(c *call, d *Dialogue) (string, [][]Button, error) {
	return func(c *call, d *Dialogue) (string, [][]Button, error) { return c.t(key), nil, nil }
}

// pick reads a numbered button: the index into a list of n choices.
func pick(v string, n int) (int, bool) {
	i, err := strconv.Atoi(v)
	if err != nil || i < 1 || i > n {
		return 0, false
	}
	return i - 1, true
}

// numbered lays choices out as numbered buttons, two a row.
func numbered(seq int, labels []string, prefix string) [][]Button {
	var rows [][]Button
	var row []Button
	for i, l := range labels {
		row = append(row, DialogueButton(l, seq, prefix+strconv.Itoa(i+1)))
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// ---- step: which part ----

func noPart(_ *call, d *Dialogue) (bool, error) { return d.Parts.Part == "", nil }

func (c *call) askPart(d *Dialogue) (string, [][]Button, error) {
	var labels []string
	for _, code := range d.Parts.Picks {
		p, err := c.tx.Part(code)
		if err != nil {
			labels = append(labels, code)
			continue
		}
		labels = append(labels, c.partLabel(d, p))
	}
	f := partsFlows[d.Kind]
	key := "parts.ask_part"
	if f.fromJob {
		key = "parts.ask_part_return"
	} else if len(labels) > 0 && f.mostUsed && !d.Parts.Found {
		key = "parts.ask_part_used"
	} else if len(labels) > 0 {
		key = "parts.ask_part_pick"
	}
	return c.t(key), numbered(d.Seq, labels, ""), nil
}

// partLabel is a part as a button: code, name, and what is there to take
// (in stores, or held by the job for a return).
func (c *call) partLabel(d *Dialogue, p *Part) string {
	var have int64
	if partsFlows[d.Kind].fromJob {
		l, _ := c.tx.StockLevel(p.Code, JobLocation(d.TicketID))
		have = l.Qty
	} else {
		for _, s := range p.Stores {
			l, _ := c.tx.StockLevel(p.Code, s)
			have += l.Qty
		}
	}
	return c.t("parts.pick_label", "part", p.Code, "name", p.Name, "qty", have, "unit", p.Unit)
}

func (c *call) typePart(d *Dialogue, s string) (bool, error) {
	if partsFlows[d.Kind].fromJob { // only what the job holds
		code := NormalizePartCode(s)
		for _, p := range d.Parts.Picks {
			if p == code {
				d.Parts.Part = code
				return true, nil
			}
		}
		return false, Errorf(CodeNotFound, "parts.job_has_none", "part", code, "ticket", d.TicketID)
	}
	found, err := c.tx.FindParts(s, 8)
	if err != nil {
		return false, err
	}
	var live []*Part
	for _, p := range found {
		if !p.Retired || partsFlows[d.Kind].retired {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return false, Errorf(CodeNotFound, "stock.not_found", "query", cleanText(s, 40))
	}
	if len(live) == 1 || live[0].Code == NormalizePartCode(s) {
		d.Parts.Part, d.Parts.Picks = live[0].Code, nil
		return true, nil
	}
	d.Parts.Picks = d.Parts.Picks[:0]
	for _, p := range live {
		d.Parts.Picks = append(d.Parts.Picks, p.Code)
	}
	d.Parts.Found = true // the list is a search result now, not the most used
	return false, nil
}

func (c *call) pickPart(d *Dialogue, v string) (bool, error) {
	i, ok := pick(v, len(d.Parts.Picks))
	if !ok {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	d.Parts.Part, d.Parts.Picks = d.Parts.Picks[i], nil
	return true, nil
}

// ---- step: which store ----

// allStores are every store (a stocktake).
func (c *call) allStores(*Dialogue) ([]string, error) {
	locs, err := c.tx.StockLocations()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range locs {
		out = append(out, l.ID)
	}
	return out, nil
}

// keptStores are the stores the part is kept in (a purchase).
func (c *call) keptStores(d *Dialogue) ([]string, error) {
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return nil, err
	}
	return p.Stores, nil
}

// holdingStores are the part's stores that hold some (a requisition, a scrap).
func (c *call) holdingStores(d *Dialogue) ([]string, error) {
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range p.Stores {
		l, err := c.tx.StockLevel(p.Code, s)
		if err != nil {
			return nil, err
		}
		if l.Qty > 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(CodeConflict, "parts.none_in_stock", "part", p.Code, "name", p.Name)
	}
	return out, nil
}

func (c *call) needStore(d *Dialogue) (bool, error) {
	if d.Parts.Store != "" {
		return false, nil
	}
	stores, err := partsFlows[d.Kind].stores(c, d)
	if err != nil {
		return false, err
	}
	if len(stores) == 1 {
		d.Parts.Store = stores[0]
		return false, nil
	}
	if len(stores) == 0 {
		return false, Errorf(CodeInvalid, "parts.no_stores_yet")
	}
	d.Parts.Stores = stores
	return true, nil
}

func (c *call) askStore(d *Dialogue) (string, [][]Button, error) {
	var labels []string
	for _, s := range d.Parts.Stores {
		label := c.storeName(s)
		if d.Parts.Part != "" {
			l, err := c.tx.StockLevel(d.Parts.Part, s)
			if err != nil {
				return "", nil, err
			}
			label = c.t("parts.store_label", "store", label, "qty", l.Qty)
		}
		labels = append(labels, label)
	}
	return c.t("parts.ask_store"), numbered(d.Seq, labels, "s"), nil
}

func (c *call) typeStore(d *Dialogue, s string) (bool, error) {
	id := strings.ToLower(strings.TrimSpace(s))
	for _, st := range d.Parts.Stores {
		if st == id || strings.EqualFold(c.storeName(st), s) {
			d.Parts.Store, d.Parts.Stores = st, nil
			return true, nil
		}
	}
	return false, Errorf(CodeNotFound, "parts.unknown_store", "store", cleanText(s, 40))
}

func (c *call) pickStore(d *Dialogue, v string) (bool, error) {
	i, ok := pick(strings.TrimPrefix(v, "s"), len(d.Parts.Stores))
	if !ok || !strings.HasPrefix(v, "s") {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	d.Parts.Store, d.Parts.Stores = d.Parts.Stores[i], nil
	return true, nil
}

// ---- step: how many ----

func (c *call) askQty(d *Dialogue) (string, [][]Button, error) {
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return "", nil, err
	}
	f := partsFlows[d.Kind]
	key, have, quick, err := f.qty(c, d, p)
	if err != nil {
		return "", nil, err
	}
	var row []Button
	seen := map[int64]bool{}
	for _, q := range quick {
		if q > 0 && q <= MaxStockQty && !seen[q] && (f.over || q <= have) {
			seen[q] = true
			row = append(row, DialogueButton(strconv.FormatInt(q, 10), d.Seq, strconv.FormatInt(q, 10)))
		}
	}
	text := c.t(key, "part", p.Code, "name", p.Name, "unit", p.Unit, "have", have, "store", c.storeName(d.Parts.Store))
	if len(row) == 0 {
		return text, nil, nil
	}
	return text, [][]Button{row}, nil
}

// qtyStore asks how many to take from the store (a requisition, a scrap).
func qtyStore(key string) func(c *call, d *Dialogue, p *Part) (string, int64, []int64, error) {
	return func(c *call, d *Dialogue, p *Part) (string, int64, []int64, error) {
		lv, err := c.tx.StockLevel(p.Code, d.Parts.Store)
		return key, lv.Qty, []int64{1, 2, 3}, err
	}
}

func (c *call) qtyBuy(d *Dialogue, p *Part) (string, int64, []int64, error) {
	lv, err := c.tx.StockLevel(p.Code, d.Parts.Store)
	return "parts.ask_qty_buy", lv.Qty, []int64{reorderQty(p, lv.Qty)}, err
}

func (c *call) qtyReceive(d *Dialogue, p *Part) (string, int64, []int64, error) {
	r, err := purchase(c.tx, d.Parts.Ref)
	if err != nil {
		return "", 0, nil, err
	}
	left := r.Qty - r.Received
	return "parts.ask_qty_receive", left, []int64{left}, nil
}

func (c *call) qtyReturn(d *Dialogue, p *Part) (string, int64, []int64, error) {
	n, err := c.returnable(d.TicketID, p)
	return "parts.ask_qty_return", n, []int64{1, n}, err
}

// ParseQty reads a typed quantity: a whole number of base units from 1 to
// MaxStockQty (full-width digits accepted); anything else — negative,
// zero, a fraction, absurdly large — is parts.bad_qty.
func ParseQty(s string) (int64, error) {
	n, ok := parseCount(s)
	if !ok || n <= 0 {
		return 0, Errorf(CodeInvalid, "parts.bad_qty", "max", MaxStockQty)
	}
	return n, nil
}

// parseCount reads 0..MaxStockQty.
func parseCount(s string) (int64, bool) {
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" || len(s) > 7 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxStockQty {
		return 0, false
	}
	return n, true
}

func (c *call) typeQty(d *Dialogue, s string) (bool, error) {
	n, err := ParseQty(s)
	if err != nil {
		return false, err
	}
	d.Parts.Qty = n
	return true, nil
}

func (c *call) pickQty(d *Dialogue, v string) (bool, error) {
	n, err := ParseQty(v)
	if err != nil {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	d.Parts.Qty = n
	return true, nil
}

// ---- step: why ----

func (c *call) askWhy(d *Dialogue) (string, [][]Button, error) {
	f := partsFlows[d.Kind]
	if f.quick == "" || d.Kind == dlgPartsBuy && !d.Parts.Low {
		return c.t(f.why), nil, nil
	}
	return c.t(f.why), [][]Button{{DialogueButton(c.t(f.quickWhy), d.Seq, f.quick)}}, nil
}

func (c *call) typeWhy(d *Dialogue, s string) (bool, error) {
	why, err := reasonText(s)
	if err != nil {
		return false, err
	}
	d.Parts.Why = why
	return true, nil
}

func (c *call) pickWhy(d *Dialogue, v string) (bool, error) {
	f := partsFlows[d.Kind]
	if f.quick == "" || v != f.quick {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	d.Parts.Why = c.t(f.quickWhy)
	return true, nil
}

// ---- step: a delivery ----

func (c *call) askOrder(d *Dialogue) (string, [][]Button, error) {
	prs, err := c.deliverable()
	if err != nil {
		return "", nil, err
	}
	if len(prs) == 0 {
		return "", nil, Errorf(CodeConflict, "purchase.none_open")
	}
	d.Parts.Picks = d.Parts.Picks[:0]
	var labels []string
	var b strings.Builder
	b.WriteString(c.t("parts.ask_order"))
	for _, r := range prs[:min(len(prs), 8)] {
		d.Parts.Picks = append(d.Parts.Picks, r.ID)
		labels = append(labels, r.ID)
		b.WriteString("\n" + c.purchaseLine(r, c.lang))
	}
	return b.String(), numbered(d.Seq, labels, ""), nil
}

func (c *call) setOrder(d *Dialogue, id string) (bool, error) {
	r, err := purchase(c.tx, id)
	if err != nil {
		return false, err
	}
	if !r.Status.Open() {
		return false, Errorf(CodeConflict, "parts.purchase_not_open", "id", r.ID, "status", c.t("purchase.status."+string(r.Status)))
	}
	d.Parts.Ref, d.Parts.Part, d.Parts.Store, d.Parts.Picks = r.ID, r.Part, r.Store, nil
	return true, nil
}

func (c *call) typeOrder(d *Dialogue, s string) (bool, error) { return c.setOrder(d, s) }

func (c *call) pickOrder(d *Dialogue, v string) (bool, error) {
	i, ok := pick(v, len(d.Parts.Picks))
	if !ok {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	return c.setOrder(d, d.Parts.Picks[i])
}

func (c *call) typeSupplier(d *Dialogue, s string) (bool, error) {
	d.Parts.Supplier = cleanText(s, maxSupplier)
	return d.Parts.Supplier != "", nil
}

func (c *call) askCost(d *Dialogue) (string, [][]Button, error) {
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return "", nil, err
	}
	return c.t("parts.ask_unit_cost", "unit", p.Unit), [][]Button{{DialogueButton(c.t("parts.cost_catalog", "cost", Money(p.UnitCost)), d.Seq, "catalog")}}, nil
}

func (c *call) typeCost(d *Dialogue, s string) (bool, error) {
	v, ok := ParseYuan(s)
	if !ok || v > MaxPartCents {
		return false, Errorf(CodeInvalid, "parts.bad_cost", "max", Money(MaxPartCents))
	}
	d.Parts.UnitCost = v
	return true, nil
}

func (c *call) pickCost(d *Dialogue, v string) (bool, error) {
	if v != "catalog" {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	p, err := partByCode(c.tx, d.Parts.Part)
	if err != nil {
		return false, err
	}
	d.Parts.UnitCost = p.UnitCost
	return true, nil
}

func (c *call) sendPhoto(d *Dialogue, ph Photo) (bool, error) {
	if c.ev.TooLarge || ph.Size > c.e.o.MaxPhotoBytes {
		return false, Errorf(CodeInvalid, "err.photo_too_large", "max", c.e.o.MaxPhotoBytes>>20)
	}
	if c.ev.NotImage {
		return false, Errorf(CodeInvalid, "err.not_image")
	}
	d.Parts.Photo = &ph
	return true, nil
}

// ParseYuan reads an amount in yuan with at most two decimals ("12",
// "12.5", "¥12.50") as fen; ok is false for anything else (negative
// amounts included).
func ParseYuan(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "元"), "yuan"))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "￥")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || len(frac) > 2 {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, true
}

// ---- step: a stocktake's counts ----

func (c *call) askCounts(d *Dialogue) (string, [][]Button, error) {
	var b strings.Builder
	b.WriteString(c.t("parts.ask_counts", "store", c.storeName(d.Parts.Store)))
	counted := map[string]int64{}
	for _, ct := range d.Parts.Counts {
		counted[ct.Part] = ct.Qty
	}
	n := 0
	err := c.tx.EachPart(func(p *Part) error {
		if !p.KeptIn(d.Parts.Store) || n >= stockPage {
			return nil
		}
		n++
		l, err := c.tx.StockLevel(p.Code, d.Parts.Store)
		if err != nil {
			return err
		}
		mark := "·"
		if q, ok := counted[p.Code]; ok {
			mark = c.t("parts.counted", "n", q)
		}
		b.WriteString("\n" + c.t("parts.count_line", "part", p.Code, "name", p.Name, "book", l.Qty, "unit", p.Unit, "mark", mark))
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	var rows [][]Button
	if len(d.Parts.Counts) > 0 {
		rows = append(rows, []Button{DialogueButton(c.t("btn.parts.count_done", "n", len(d.Parts.Counts)), d.Seq, "done")})
	}
	return b.String(), rows, nil
}

// typeCounts reads lines "CODE quantity" and keeps them (a later count of
// the same part replaces the earlier one); every bad line is named.
func (c *call) typeCounts(d *Dialogue, s string) (bool, error) {
	var bad []string
	next := append([]CountInput(nil), d.Parts.Counts...)
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || r == ':' || r == '：' || r == '=' || r == ',' || r == '，'
		})
		if len(f) != 2 {
			bad = append(bad, c.t("parts.count_bad_line", "n", i+1, "line", cleanText(line, 40)))
			continue
		}
		p, err := partByCode(c.tx, f[0])
		if err != nil {
			bad = append(bad, c.t("parts.count_bad_part", "n", i+1, "code", NormalizePartCode(f[0])))
			continue
		}
		if !p.KeptIn(d.Parts.Store) {
			bad = append(bad, c.t("parts.count_not_kept", "n", i+1, "code", p.Code))
			continue
		}
		q, ok := parseCount(f[1])
		if !ok {
			bad = append(bad, c.t("parts.count_bad_qty", "n", i+1, "code", p.Code, "max", MaxStockQty))
			continue
		}
		replaced := false
		for j := range next {
			if next[j].Part == p.Code {
				next[j].Qty, replaced = q, true
			}
		}
		if !replaced {
			next = append(next, CountInput{Part: p.Code, Qty: q})
		}
	}
	if len(bad) > 0 {
		return false, Errorf(CodeInvalid, "parts.count_refused", "lines", strings.Join(bad, "\n"))
	}
	d.Parts.Counts = next
	return false, nil
}

func (c *call) pickCounts(d *Dialogue, v string) (bool, error) {
	if v != "done" {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	if len(d.Parts.Counts) == 0 {
		return false, Errorf(CodeInvalid, "parts.count_empty")
	}
	return true, nil
}

// ---- steps: a catalog item ----

func (c *call) typeCode(d *Dialogue, s string) (bool, error) {
	code := NormalizePartCode(s)
	if !validCode(code) {
		return false, Errorf(CodeInvalid, "parts.bad_code", "max", maxPartCode)
	}
	if old, err := c.tx.Part(code); err == nil {
		// It exists: the dialogue edits it instead, each answer shown.
		cp := *old
		cp.Stores = append([]string(nil), old.Stores...)
		d.Parts.Item, d.Parts.New, d.Parts.Part = &cp, false, code
		c.reply(c.t("parts.code_exists", "code", code))
		return true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	d.Parts.Item.Code = code
	return true, nil
}

// itemField is a step asking one field of the catalog item: typed, kept
// (an edit shows the current value), or skipped when optional.
func itemField(field, key string, optional bool, set func(*Part, string) error, show func(*Part) string) partsStep {
	return partsStep{
		ask: func(c *call, d *Dialogue) (string, [][]Button, error) {
			var row []Button
			if !d.Parts.New {
				row = append(row, DialogueButton(c.t("parts.keep", "value", orDash(show(d.Parts.Item))), d.Seq, "keep"))
			}
			if optional {
				row = append(row, DialogueButton(c.t("btn.skip"), d.Seq, "skip"))
			}
			text := c.t(key, "code", d.Parts.Item.Code)
			if len(row) == 0 {
				return text, nil, nil
			}
			return text, [][]Button{row}, nil
		},
		text: func(c *call, d *Dialogue, s string) (bool, error) {
			draft := *d.Parts.Item
			if err := set(&draft, strings.TrimSpace(s)); err != nil {
				return false, err
			}
			for _, fe := range draft.Validate() {
				if fe.Field == field {
					return false, fe.Err
				}
			}
			*d.Parts.Item = draft
			return true, nil
		},
		choose: func(c *call, d *Dialogue, v string) (bool, error) {
			if v == "skip" && optional {
				_ = set(d.Parts.Item, "")
			} else if v != "keep" || d.Parts.New {
				return false, Errorf(CodeInvalid, "err.bad_button")
			}
			return true, nil
		},
	}
}

func setMoney(bad string, field func(*Part) *int64) func(*Part, string) error {
	return func(p *Part, s string) error {
		v, ok := ParseYuan(s)
		if !ok || v > MaxPartCents {
			return Errorf(CodeInvalid, bad, "max", Money(MaxPartCents))
		}
		*field(p) = v
		return nil
	}
}

func (c *call) needItemStores(d *Dialogue) (bool, error) {
	locs, err := c.tx.StockLocations()
	if err != nil {
		return false, err
	}
	if len(locs) == 1 && d.Parts.New {
		d.Parts.Item.Stores = []string{locs[0].ID}
		return false, nil
	}
	return true, nil
}

func (c *call) askItemStores(d *Dialogue) (string, [][]Button, error) {
	locs, err := c.tx.StockLocations()
	if err != nil {
		return "", nil, err
	}
	var list []string
	for _, l := range locs {
		list = append(list, l.ID+" "+l.Name)
	}
	text := c.t("parts.ask_stores", "stores", strings.Join(list, c.t("order.sep")))
	if d.Parts.New {
		return text, nil, nil
	}
	return text, [][]Button{{DialogueButton(c.t("parts.keep", "value", strings.Join(d.Parts.Item.Stores, ",")), d.Seq, "keep")}}, nil
}

func (c *call) typeItemStores(d *Dialogue, s string) (bool, error) {
	stores := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || unicode.IsSpace(r) })
	draft := *d.Parts.Item
	draft.Stores = stores
	for _, fe := range draft.Validate() {
		if fe.Field == "stores" {
			return false, fe.Err
		}
	}
	for _, st := range stores {
		if _, err := c.tx.StockLocation(st); errors.Is(err, ErrNotFound) {
			return false, Errorf(CodeNotFound, "parts.unknown_store", "store", st)
		} else if err != nil {
			return false, err
		}
	}
	d.Parts.Item.Stores = stores
	return true, nil
}

func (c *call) keepItem(d *Dialogue, v string) (bool, error) {
	if v != "keep" || d.Parts.New {
		return false, Errorf(CodeInvalid, "err.bad_button")
	}
	return true, nil
}

// ---- finishing ----

func (c *call) buyDone(d *Dialogue) error {
	r, err := RequestPurchase(c.tx, c.posting(""), PurchaseInput{Part: d.Parts.Part, Store: d.Parts.Store, Qty: d.Parts.Qty, Why: d.Parts.Why})
	if err != nil {
		return err
	}
	c.reply(c.t("purchase.requested", "line", c.purchaseLine(r, c.lang)))
	return c.purchaseCard(r)
}

func (c *call) receiveDone(d *Dialogue) error {
	in := DeliveryInput{Qty: d.Parts.Qty, Supplier: d.Parts.Supplier, UnitCost: d.Parts.UnitCost}
	if d.Parts.Photo != nil {
		in.Photo = *d.Parts.Photo
	}
	r, res, err := ReceiveDelivery(c.tx, c.posting(""), d.Parts.Ref, in)
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	p, err := partByCode(c.tx, r.Part)
	if err != nil {
		return err
	}
	var have int64
	if len(res.Levels) > 0 {
		have = res.Levels[0].Qty
	}
	c.reply(c.t("purchase.received", "id", r.ID, "part", p.Code, "name", p.Name, "qty", d.Parts.Qty, "unit", p.Unit,
		"store", c.storeName(r.Store), "have", have, "status", c.t("purchase.status."+string(r.Status))))
	return nil
}

func (c *call) scrapDone(d *Dialogue) error {
	in := ScrapInput{Part: d.Parts.Part, Store: d.Parts.Store, Qty: d.Parts.Qty, Reason: d.Parts.Why}
	if d.Parts.Photo != nil {
		in.Photo = *d.Parts.Photo
	}
	r, err := RequestScrap(c.tx, c.posting(""), in)
	if err != nil {
		return err
	}
	c.reply(c.t("scrap.requested", "id", r.ID))
	return c.scrapCard(r)
}

func (c *call) countDone(d *Dialogue) error {
	st, res, err := PostStocktake(c.tx, c.posting(""), d.Parts.Store, d.Parts.Counts, d.Parts.Why)
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	if st == nil { // a redelivered update: posted already
		c.reply(c.t("ok"))
		return nil
	}
	var b strings.Builder
	b.WriteString(c.t("count.posted", "id", st.ID, "store", c.storeName(st.Store), "n", len(st.Lines)))
	same := 0
	for _, l := range st.Lines {
		if l.Move == 0 {
			same++
			continue
		}
		b.WriteString("\n" + c.t("count.diff", "part", l.Part, "book", l.Book, "counted", l.Counted, "diff", fmt.Sprintf("%+d", l.Counted-l.Book), "seq", l.Move))
	}
	if same > 0 {
		b.WriteString("\n" + c.t("count.same", "n", same))
	}
	c.reply(b.String())
	return nil
}

func (c *call) itemDone(d *Dialogue) error {
	saved, res, err := SavePart(c.tx, c.posting(""), *d.Parts.Item)
	if err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	key := "parts.item_saved"
	if d.Parts.New {
		key = "parts.item_added"
	}
	c.reply(c.t(key, "code", saved.Code)+"\n\n"+c.itemText(saved, c.lang), c.itemButtons(saved, c.lang))
	return nil
}

// partsFile reads a catalog sent to the import dialogue and imports all of
// it, or nothing with every bad row and column named.
func (c *call) partsFile(d *Dialogue) error {
	f := c.ev.File
	switch {
	case d.Step != stepPartFile:
		return Errorf(CodeInvalid, "err.unsupported_in_step", "prompt", c.promptHint(d))
	case c.ev.TooLarge:
		return Errorf(CodeInvalid, "parts.file_too_large", "max", c.e.o.MaxPhotoBytes>>20)
	case f == nil || f.Local == "" || c.e.o.Parts.OpenFile == nil || c.e.o.Parts.Files == nil:
		return Errorf(CodeInvalid, "parts.file_unreadable")
	}
	up, ok := c.ahead.(*catalogAhead)
	if !ok || up.local != f.Local {
		r, err := c.e.o.Parts.OpenFile(*f)
		if err != nil {
			return Errorf(CodeInvalid, "parts.file_unreadable")
		}
		up = &catalogAhead{local: f.Local, upload: c.e.o.Parts.Files.ReadCatalog(r)}
		r.Close()
	}
	n, probs, res, err := up.upload.Import(c.tx, c.posting(""), c.lang)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		const shown = 30
		var b strings.Builder
		b.WriteString(c.t("parts.xlsx.refused", "n", len(probs)))
		for _, p := range probs[:min(len(probs), shown)] {
			b.WriteString("\n• " + p)
		}
		if len(probs) > shown {
			b.WriteString("\n" + c.t("parts.xlsx.more", "n", len(probs)-shown))
		}
		c.reply(b.String()) // the dialogue stays: send the corrected file
		return nil
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	if err := c.partsPosted(res); err != nil {
		return err
	}
	c.reply(c.t("parts.xlsx.imported", "n", n))
	return nil
}

// catalogAhead is an upload read and parsed before the write transaction.
type catalogAhead struct {
	local  string
	upload CatalogUpload
}

// partsAhead does the long reads of a spare-parts event before its write
// transaction: an uploaded catalog is opened and parsed (a workbook of
// thousands of rows), the parts most used for a job's category are summed
// from the ledger. The write transaction checks everything again.
func (e *Engine) partsAhead(ctx context.Context, ev Event) any {
	read := e.partsRead(ev)
	if read == nil {
		return nil
	}
	var out any
	_ = e.o.Store.View(ctx, func(tx Tx) error { out = read(tx); return nil })
	return out
}

func (e *Engine) partsRead(ev Event) func(tx Tx) any {
	switch {
	case ev.Kind == EvFile && ev.File != nil && ev.File.Local != "" && !ev.InGroup && e.o.Parts.Files != nil && e.o.Parts.OpenFile != nil:
		return func(tx Tx) any {
			d, err := tx.Dialogue(ev.From.ID)
			if err != nil || dialogues[d.Kind].file == nil {
				return nil
			}
			r, err := e.o.Parts.OpenFile(*ev.File)
			if err != nil {
				return nil
			}
			defer r.Close()
			return &catalogAhead{local: ev.File.Local, upload: e.o.Parts.Files.ReadCatalog(r)}
		}
	case ev.Kind == EvCallback:
		p, ok := DecodePayload(ev.Data)
		if !ok || p.Verb != string(ActUsePart) || len(p.Args) < 1 {
			return nil
		}
		return func(tx Tx) any {
			t, err := tx.Ticket(p.Args[0])
			if err != nil || t.AssigneeID != ev.From.ID {
				return nil
			}
			c := &call{e: e, tx: tx, ev: ev, now: ev.At.UTC()}
			codes, err := c.mostUsed(t.Category)
			if err != nil {
				return nil
			}
			return &mostUsedAhead{category: t.Category, codes: codes}
		}
	}
	return nil
}

// ---- the monthly stock report ----

// ensureParts keeps the next monthly stock report scheduled: on the 1st
// at 08:00 (the organisation's time) for the month that just ended.
func (c *call) ensureParts() error {
	loc := c.e.o.Location
	local := c.now.In(loc)
	next := time.Date(local.Year(), local.Month()+1, 1, 8, 0, 0, 0, loc)
	month := next.AddDate(0, -1, 0).Format("200601")
	return c.tx.PutTimer(Timer{Key: tmStockReport + ":" + month, Due: next.UTC(), Kind: tmStockReport, Month: month})
}

// stockReport sends the leads the month's stock report (opening,
// received, issued, returned, scrapped, adjusted, closing; quantities and
// values) as a workbook in their language. The tick only queues it: the
// sender renders it from the ledger (ExportStockReport), outside the one
// writer.
func (c *call) stockReport(month string) error {
	start, err := time.ParseInLocation("200601", month, c.e.o.Location)
	if err != nil {
		return nil // not a month this version wrote
	}
	leads, err := c.leads()
	if err != nil {
		return err
	}
	label := start.Format("2006-01")
	for _, p := range leads {
		if p.Chat.IsZero() {
			continue
		}
		l := p.Lang
		if l == "" {
			l = c.e.o.DefaultLang
		}
		if c.e.o.Parts.Files == nil {
			c.send(Message{To: p.Chat, Priority: PrioReminder, Text: c.tl(l, "parts.report_off", "month", label)})
			continue
		}
		c.exportFile(p.Chat, "stock-"+label+".xlsx", c.tl(l, "parts.report_caption", "month", label),
			Export{Form: ExportStockReport, From: start.UTC(), To: start.AddDate(0, 1, 0).UTC(), Lang: l}, "", PrioReminder)
	}
	return nil
}
