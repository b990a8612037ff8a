package flows

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// An admin edits an area in chat (/area) or in the console (the
// area_set action): its names, buildings, group, leads, service phone,
// service levels and price overrides. The configuration stays the seed:
// an edit is stored field by field (AreaEdit) and laid over the
// configured area each time the engine loads its areas, so a field never
// edited follows the file, "reset" returns a field to it, and the edits
// survive a restart. Areas are added or removed in the configuration
// only: their keys are stored on tickets and people.

// AreaEdit is the admins' changes to one configured area.
type AreaEdit struct {
	// Area is the area's key.
	Area string `json:"area"`
	// Fields are the edited fields (areaFields' names, "price.<code>"
	// for a price) with their values as typed and checked.
	Fields map[string]string `json:"fields"`
	// Updated and By are the last edit's time and admin.
	Updated time.Time `json:"updated"`
	By      string    `json:"by"`
}

// AreasTx keeps the admins' edits of the areas.
type AreasTx interface {
	// AreaEdits lists the stored edits, by area key.
	AreaEdits() ([]*AreaEdit, error)
	// PutAreaEdit stores an area's edits (replacing the area's last).
	PutAreaEdit(e *AreaEdit) error
}

// areaReset is the value that returns a field to the configuration.
const areaReset = "reset"

// areaNone is the value that clears a list (buildings, leads).
const areaNone = "none"

// areaField is one editable field of an area: apply checks a value and
// sets it on the area; show renders the area's current value.
type areaField struct {
	apply func(e *Engine, a *Area, v string) error
	show  func(e *Engine, a *Area, l Lang) string
}

// areaFieldOrder is the fields in the order /area shows them.
var areaFieldOrder = []string{"zh", "en", "buildings", "group", "leads", "phone", "accept", "arrive"}

var (
	areaPersonID = regexp.MustCompile(`^[a-z]{2,8}:[A-Za-z0-9_@.\-]{1,64}$`)
	areaPhoneRe  = regexp.MustCompile(`^[0-9+()# -]{3,32}$`)
	areaRangeRe  = regexp.MustCompile(`^([^{}]*)\{([0-9]{1,3})\.\.([0-9]{1,3})\}([^{}]*)$`)
	areaSplit    = regexp.MustCompile(`[,，、;；\s]+`)
)

// areaMaxBuildings bounds an area's buildings, as the configuration does.
const areaMaxBuildings = 99

var areaFields = map[string]areaField{
	"zh": {apply: func(e *Engine, a *Area, v string) error { return a.setName(LangZH, v) },
		show: func(e *Engine, a *Area, l Lang) string { return a.Names[LangZH] }},
	"en": {apply: func(e *Engine, a *Area, v string) error { return a.setName(LangEN, v) },
		show: func(e *Engine, a *Area, l Lang) string { return a.Names[LangEN] }},
	"buildings": {apply: func(e *Engine, a *Area, v string) error {
		list, err := e.parseBuildings(a.Key, v)
		if err == nil {
			a.Buildings = list
		}
		return err
	}, show: func(e *Engine, a *Area, l Lang) string { return strings.Join(a.Buildings, "、") }},
	"group": {apply: func(e *Engine, a *Area, v string) error {
		g, err := e.parseGroup(v)
		if err == nil {
			a.Group = g
		}
		return err
	}, show: func(e *Engine, a *Area, l Lang) string {
		if a.Group.IsZero() {
			return ""
		}
		return a.Group.Channel + ":" + a.Group.Chat
	}},
	"leads": {apply: func(e *Engine, a *Area, v string) error {
		ids, err := parseLeads(v)
		if err == nil {
			a.Leads = ids
		}
		return err
	}, show: func(e *Engine, a *Area, l Lang) string { return strings.Join(a.Leads, ", ") }},
	"phone": {apply: func(e *Engine, a *Area, v string) error {
		if !areaPhoneRe.MatchString(v) || countDigitsIn(v) < 3 {
			return Errorf(CodeInvalid, "areas.edit_bad_phone")
		}
		a.ServicePhone = v
		return nil
	}, show: func(e *Engine, a *Area, l Lang) string { return a.ServicePhone }},
	"accept": {apply: func(e *Engine, a *Area, v string) error { return setAreaDuration(&a.AcceptWithin, v) },
		show: func(e *Engine, a *Area, l Lang) string { return durationText(a.AcceptWithin) }},
	"arrive": {apply: func(e *Engine, a *Area, v string) error { return setAreaDuration(&a.ArriveWithin, v) },
		show: func(e *Engine, a *Area, l Lang) string { return durationText(a.ArriveWithin) }},
}

func (a *Area) setName(l Lang, v string) error {
	if v == "" || utf8.RuneCountInString(v) > 32 {
		return Errorf(CodeInvalid, "areas.edit_bad_name")
	}
	names := make(map[Lang]string, len(a.Names)+1)
	for k, n := range a.Names {
		names[k] = n
	}
	names[l] = v
	a.Names = names
	return nil
}

// parseBuildings reads a building list: names separated by commas or
// spaces, or one range "{1..12}栋"; "none" makes the building typed.
func (e *Engine) parseBuildings(key, v string) ([]string, error) {
	if v == areaNone {
		return nil, nil
	}
	var list []string
	if m := areaRangeRe.FindStringSubmatch(v); m != nil {
		first, _ := strconv.Atoi(m[2])
		last, _ := strconv.Atoi(m[3])
		if last < first || last-first >= areaMaxBuildings {
			return nil, Errorf(CodeInvalid, "areas.edit_bad_buildings", "max", areaMaxBuildings, "example", "{1..12}")
		}
		for n := first; n <= last; n++ {
			list = append(list, m[1]+strconv.Itoa(n)+m[4])
		}
	} else {
		list = areaSplit.Split(v, -1)
	}
	var out []string
	for _, b := range list {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		// The poster's link carries the area key and the building (posters.go).
		if (e.o.MaxAddressPart > 0 && utf8.RuneCountInString(b) > e.o.MaxAddressPart) || len(key)+len(b) > 30 || slices.Contains(out, b) {
			return nil, Errorf(CodeInvalid, "areas.edit_bad_building", "building", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 || len(out) > areaMaxBuildings {
		return nil, Errorf(CodeInvalid, "areas.edit_bad_buildings", "max", areaMaxBuildings, "example", "{1..12}")
	}
	return out, nil
}

// parseGroup reads a group address "<channel>:<chat id>" on a channel the
// engine already sends groups to (the company's group's or an area's).
func (e *Engine) parseGroup(v string) (Address, error) {
	ch, chat, ok := strings.Cut(v, ":")
	known := map[string]bool{}
	for _, g := range append([]Address{e.o.Group}, groupsOf(e.areaSeed.list)...) {
		if !g.IsZero() {
			known[g.Channel] = true
		}
	}
	if !ok || !known[ch] || chat == "" || len(chat) > 64 || strings.ContainsAny(chat, " \t\n|") {
		var chans []string
		for c := range known {
			chans = append(chans, c)
		}
		sort.Strings(chans)
		return Address{}, Errorf(CodeInvalid, "areas.edit_bad_group", "channels", strings.Join(chans, ", "))
	}
	if ch == "tg" {
		if n, err := strconv.ParseInt(chat, 10, 64); err != nil || n >= 0 {
			return Address{}, Errorf(CodeInvalid, "areas.edit_bad_group", "channels", "tg")
		}
	}
	return Address{Channel: ch, Chat: chat}, nil
}

func groupsOf(as []Area) []Address {
	var out []Address
	for _, a := range as {
		out = append(out, a.Group)
	}
	return out
}

// parseLeads reads person ids ("tg:123 wecom:zhang"); "none" clears them.
func parseLeads(v string) ([]string, error) {
	if v == areaNone {
		return nil, nil
	}
	var out []string
	for _, id := range areaSplit.Split(v, -1) {
		if id == "" {
			continue
		}
		if !areaPersonID.MatchString(id) {
			return nil, Errorf(CodeInvalid, "areas.edit_bad_lead", "id", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > 20 {
		return nil, Errorf(CodeInvalid, "areas.edit_bad_lead", "id", out[20])
	}
	return out, nil
}

// setAreaDuration reads a service level of 1m..24h; 0 is the company's.
func setAreaDuration(d *time.Duration, v string) error {
	if v == "0" {
		*d = 0
		return nil
	}
	x, err := time.ParseDuration(v)
	if err != nil || x < time.Minute || x > 24*time.Hour {
		return Errorf(CodeInvalid, "areas.edit_bad_duration")
	}
	*d = x
	return nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

func countDigitsIn(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// applyAreaField sets one field ("price.<code>" for a price override).
func (e *Engine) applyAreaField(a *Area, field, v string) error {
	if code, ok := strings.CutPrefix(field, "price."); ok {
		if _, known := e.priceItem(code); !known {
			return Errorf(CodeInvalid, "areas.edit_bad_price_code", "code", code)
		}
		yuan, err := strconv.ParseFloat(v, 64)
		if err != nil || yuan < 0 || yuan > 1e6 || math.IsNaN(yuan) {
			return Errorf(CodeInvalid, "areas.edit_bad_price")
		}
		prices := make(map[string]int64, len(a.Prices)+1)
		for k, p := range a.Prices {
			prices[k] = p
		}
		prices[code] = int64(math.Round(yuan * 100))
		a.Prices = prices
		return nil
	}
	f, ok := areaFields[field]
	if !ok {
		return Errorf(CodeInvalid, "areas.edit_usage", "fields", strings.Join(areaFieldOrder, "|"))
	}
	return f.apply(e, a, v)
}

// priceItem finds a price-list item of the SOP in force by code (none
// without an SOP: AreasWithEdits).
func (e *Engine) priceItem(code string) (PriceItem, bool) {
	s := e.SOP()
	if s == nil {
		return PriceItem{}, false
	}
	for _, p := range s.Prices {
		if p.Code == code {
			return p, true
		}
	}
	return PriceItem{}, false
}

// withEdits is the configured areas with the stored edits laid over
// them, fields in name order; a stored value that no longer passes (a
// price code the SOP dropped) is left out, so the configured value holds.
func (e *Engine) withEdits(edits []*AreaEdit) *areaSet {
	byKey := map[string]*AreaEdit{}
	for _, ed := range edits {
		byKey[ed.Area] = ed
	}
	out := &areaSet{}
	for _, a := range e.areaSeed.list {
		a.Buildings, a.Leads = slices.Clone(a.Buildings), slices.Clone(a.Leads)
		if ed := byKey[a.Key]; ed != nil {
			fields := make([]string, 0, len(ed.Fields))
			for f := range ed.Fields {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for _, f := range fields {
				next := a
				if err := e.applyAreaField(&next, f, ed.Fields[f]); err == nil {
					a = next
				}
			}
		}
		out.list = append(out.list, a)
	}
	return out
}

// defaultMaxAddressPart bounds a part of an address (a building's name)
// when Options.MaxAddressPart is not set.
const defaultMaxAddressPart = 20

// AreasWithEdits is the areas LoadAreas would put in force, for a program
// that reads the stored edits without an engine (`repairbot poster`): the
// areas of o (Options.Areas with the company-wide defaults, or the one
// default area) with the edits laid over them as the engine lays them.
// A price edit is checked against the SOP in force, which only an engine
// holds: without o.SOP it is left out (the configured price holds).
func AreasWithEdits(o Options, edits []*AreaEdit) ([]Area, error) {
	if o.MaxAddressPart <= 0 {
		o.MaxAddressPart = defaultMaxAddressPart
	}
	seed, err := buildAreas(&o)
	if err != nil {
		return nil, err
	}
	e := &Engine{o: o, areaSeed: seed}
	e.sop.Store(o.SOP)
	return e.withEdits(edits).list, nil
}

// reloadAreas reads the stored edits and puts the areas they make in
// force.
func (e *Engine) reloadAreas(ctx context.Context) error {
	var edits []*AreaEdit
	err := e.o.Store.View(ctx, func(tx Tx) error {
		var err error
		edits, err = tx.AreaEdits()
		return err
	})
	if err != nil {
		return fmt.Errorf("flows: load the areas' edits: %w", err)
	}
	e.areas.Store(e.withEdits(edits))
	return nil
}

// LoadAreas puts the areas in force at start-up: the configured ones with
// the admins' stored edits; then it writes each area's leads' areas into
// their profiles (LeadAreas).
func (e *Engine) LoadAreas(ctx context.Context) error {
	if err := e.reloadAreas(ctx); err != nil {
		return err
	}
	return e.LeadAreas(ctx)
}

// cmdArea is an admin's /area: the list, one area, or an edit
// "/area <key> <field> <value>".
func (c *call) cmdArea(arg string) error {
	fs := strings.Fields(arg)
	switch len(fs) {
	case 0:
		var b strings.Builder
		b.WriteString(c.t("areas.list_head", "word", c.areaWord(c.lang), "n", len(c.e.areaList())))
		for _, a := range c.e.areaList() {
			b.WriteString("\n" + c.areaSummary(&a))
		}
		b.WriteString("\n" + c.t("areas.edit_hint", "fields", strings.Join(areaFieldOrder, "|")))
		c.reply(b.String())
		return nil
	case 1:
		a, ok := c.e.Area(fs[0])
		if !ok {
			return Errorf(CodeInvalid, "areas.unknown", "area", fs[0], "areas", c.areaKeys())
		}
		c.reply(c.areaDetail(&a))
		return nil
	case 2:
		return Errorf(CodeInvalid, "areas.edit_usage", "fields", strings.Join(areaFieldOrder, "|"))
	}
	// The value is the rest of the line, spaces and all.
	rest := strings.TrimSpace(arg)
	for _, f := range fs[:2] {
		rest = strings.TrimSpace(strings.TrimPrefix(rest, f))
	}
	return c.setAreaField(fs[0], fs[1], rest)
}

// consoleAreaSet is the console's area form: the same edit as /area.
func (c *call) consoleAreaSet(_ *Ticket, args map[string]string) error {
	return c.setAreaField(strings.TrimSpace(args["area"]), strings.TrimSpace(args["field"]), strings.TrimSpace(args["value"]))
}

// setAreaField checks and stores one edit of an area (or its reset) and
// reloads the areas once the transaction commits. An edit of the leads
// writes the area into the new leads' profiles and takes it out of the
// profiles of the leads it drops.
func (c *call) setAreaField(key, field, value string) error {
	if _, ok := c.e.Area(key); !ok {
		return Errorf(CodeInvalid, "areas.unknown", "area", key, "areas", c.areaKeys())
	}
	value = cleanText(value, 500)
	if field == "" || value == "" {
		return Errorf(CodeInvalid, "areas.edit_usage", "fields", strings.Join(areaFieldOrder, "|"))
	}
	edits, err := c.tx.AreaEdits()
	if err != nil {
		return err
	}
	ed := &AreaEdit{Area: key}
	for _, x := range edits {
		if x.Area == key {
			ed = x
		}
	}
	fields := make(map[string]string, len(ed.Fields)+1)
	for k, v := range ed.Fields {
		fields[k] = v
	}
	if value == areaReset {
		delete(fields, field)
		if _, known := areaFields[field]; !known && !strings.HasPrefix(field, "price.") {
			return Errorf(CodeInvalid, "areas.edit_usage", "fields", strings.Join(areaFieldOrder, "|"))
		}
	} else {
		var probe Area
		if a, ok := c.e.Area(key); ok {
			probe = a
		}
		if err := c.e.applyAreaField(&probe, field, value); err != nil {
			return err
		}
		fields[field] = value
	}
	before, _ := c.e.Area(key)
	next := c.e.withEdits(replaceEdit(edits, &AreaEdit{Area: key, Fields: fields}))
	var after Area
	for _, a := range next.list {
		if a.Key == key {
			after = a
		}
	}
	if err := c.tx.PutAreaEdit(&AreaEdit{Area: key, Fields: fields, Updated: c.now, By: c.me.ID}); err != nil {
		return err
	}
	if field == "leads" {
		if err := c.moveAreaLeads(key, before.Leads, after.Leads); err != nil {
			return err
		}
	}
	c.areasEdited = true
	c.toast = c.t("ok")
	done := c.t("areas.edited", "area", c.areaNameIn(&after, c.lang), "field", field)
	if c.ev.Kind == EvConsole {
		c.reply(done) // the console's page shows the area
		return nil
	}
	c.reply(done + "\n" + c.areaDetail(&after))
	return nil
}

// replaceEdit is edits with the area's replaced by ed.
func replaceEdit(edits []*AreaEdit, ed *AreaEdit) []*AreaEdit {
	out := []*AreaEdit{ed}
	for _, x := range edits {
		if x.Area != ed.Area {
			out = append(out, x)
		}
	}
	return out
}

// moveAreaLeads writes the area into the profiles of leads added to it
// and takes it out of those of leads removed from it (a lead's profile
// without any area left keeps the area: it is their only one).
func (c *call) moveAreaLeads(key string, before, after []string) error {
	for _, id := range after {
		if slices.Contains(before, id) {
			continue
		}
		p, err := c.person(id)
		if err != nil {
			return err
		}
		if p != nil && p.Role.IsLead() && !slices.Contains(p.Areas, key) {
			p.Areas = append(slices.Clone(p.Areas), key)
			p.Updated = c.now
			if err := c.tx.PutPerson(p); err != nil {
				return err
			}
		}
	}
	for _, id := range before {
		if slices.Contains(after, id) {
			continue
		}
		p, err := c.person(id)
		if err != nil {
			return err
		}
		if p == nil || !slices.Contains(p.Areas, key) || len(p.Areas) == 1 {
			continue
		}
		p.Areas = slices.DeleteFunc(slices.Clone(p.Areas), func(a string) bool { return a == key })
		p.Updated = c.now
		if err := c.tx.PutPerson(p); err != nil {
			return err
		}
	}
	return nil
}

// areaNameIn is an area's name in l (its key when it has none).
func (c *call) areaNameIn(a *Area, l Lang) string {
	if n := a.Names[l]; n != "" {
		return n
	}
	if n := a.Names[LangZH]; n != "" {
		return n
	}
	return a.Key
}

// areaSummary is one line of /area's list.
func (c *call) areaSummary(a *Area) string {
	return c.t("areas.list_line", "key", a.Key, "name", c.areaNameIn(a, c.lang), "buildings", len(a.Buildings),
		"leads", len(a.Leads), "phone", orDash(a.ServicePhone))
}

// areaDetail lists an area's fields, an edited one marked.
func (c *call) areaDetail(a *Area) string {
	var b strings.Builder
	b.WriteString(c.t("areas.detail_head", "key", a.Key, "name", c.areaNameIn(a, c.lang)))
	edited := map[string]bool{}
	if edits, err := c.tx.AreaEdits(); err == nil {
		for _, ed := range edits {
			if ed.Area == a.Key {
				for f := range ed.Fields {
					edited[f] = true
				}
			}
		}
	}
	mark := func(f string) string {
		if edited[f] {
			return " " + c.t("areas.edited_mark")
		}
		return ""
	}
	for _, f := range areaFieldOrder {
		b.WriteString("\n" + c.t("areas.detail_line", "field", f, "value", orDash(areaFields[f].show(c.e, a, c.lang))) + mark(f))
	}
	codes := make([]string, 0, len(a.Prices))
	for code := range a.Prices {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		b.WriteString("\n" + c.t("areas.detail_line", "field", "price."+code, "value", Money(a.Prices[code])) + mark("price."+code))
	}
	return b.String()
}
