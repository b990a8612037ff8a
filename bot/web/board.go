package web

import (
	"context"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The board: every open ticket with its state, age, assignee and SLA
// state, filtered and searched, the most urgent first. It re-renders its
// table (?partial=1) when the event stream says something committed.

// filter is the board's query.
type filter struct {
	State, Category, Building, Tech, Emergency, SLA, Q string
}

func readFilter(q url.Values) filter {
	get := func(k string, max int) string {
		v := strings.TrimSpace(q.Get(k))
		if len([]rune(v)) > max {
			v = string([]rune(v)[:max])
		}
		return v
	}
	return filter{State: get("state", 32), Category: get("category", 32), Building: get("building", 40),
		Tech: get("tech", 80), Emergency: get("emergency", 3), SLA: get("sla", 16), Q: get("q", 60)}
}

// Query is the filter as a URL query (the partial refresh asks for the
// same).
func (f filter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "category": f.Category, "building": f.Building,
		"tech": f.Tech, "emergency": f.Emergency, "sla": f.SLA, "q": f.Q} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

type option struct {
	Value, Label string
	Selected     bool
}

type boardRow struct {
	ID, State, Category, Address, Age, Assignee, SLA, SLALabel string
}

type boardData struct {
	F                                            filter
	Query                                        string
	Rows                                         []boardRow
	Total                                        int
	States, Categories, Buildings, Techs, SLAs   []option
	EmergencyAny, EmergencyYes, EmergencyNo      bool
	Count, None                                  string
	ColTicket, ColState, ColCategory, ColAddress string
	ColAge, ColAssignee, ColSLA                  string

	// Table is the rows as HTML, written by rowsHTML: a thousand rows
	// through html/template's reflection took more than half the page's
	// time.
	Table template.HTML
}

// severity orders the board: the most urgent first.
var severity = map[flows.SLAState]int{flows.SLAEmergency: 0, flows.SLABreached: 1, flows.SLAAtRisk: 2, flows.SLAOnTime: 3}

// openStates are the states a board filter offers, in the order of the
// life cycle.
var openStates = []flows.State{flows.StateNew, flows.StateAccepted, flows.StateOnTheWay, flows.StateOnSite,
	flows.StateWaiting, flows.StateDone, flows.StateConfirmed, flows.StateSurvey}

// boardView reads the open tickets in one read transaction and builds the
// board for v.
func (c *Channel) boardView(ctx context.Context, v *visitor, f filter) (*boardData, error) {
	now := c.o.Now()
	lb := c.labels(v)
	var open []*flows.Ticket
	residents := map[string]*flows.Person{}
	qDigits := phoneQuery(f.Q)
	qLower := strings.ToLower(f.Q)
	qUpper := strings.ToUpper(f.Q)
	err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		var err error
		if open, err = tx.OpenTickets(); err != nil {
			return err
		}
		open = slices.DeleteFunc(open, func(t *flows.Ticket) bool { return !v.sees(t) }) // the visitor's areas
		if f.Q == "" {
			return nil
		}
		// Names and phones are the residents': read them only to search.
		for _, t := range open {
			if _, ok := residents[t.ResidentID]; ok {
				continue
			}
			p, err := tx.Person(t.ResidentID)
			if err != nil {
				p = nil
			}
			residents[t.ResidentID] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := &boardData{F: f, Query: f.Query(), Total: len(open)}
	type ranked struct {
		t   *flows.Ticket
		sla flows.SLAStatus
	}
	var keep []ranked
	buildings := map[string]bool{}
	techs := map[string]string{}
	for _, t := range open {
		buildings[t.Building] = true
		if t.AssigneeID != "" {
			techs[t.AssigneeID] = t.Assignee
		}
		sla := c.o.Domain.SLA(t, now)
		if !f.match(t, sla, residents[t.ResidentID], qLower, qUpper, qDigits) {
			continue
		}
		keep = append(keep, ranked{t, sla})
	}
	sort.SliceStable(keep, func(i, j int) bool {
		a, b := severity[keep[i].sla.State], severity[keep[j].sla.State]
		if a != b {
			return a < b
		}
		return keep[i].t.Created.Before(keep[j].t.Created)
	})
	unassigned := v.t("web.unassigned")
	d.Rows = make([]boardRow, 0, len(keep))
	for _, k := range keep {
		t := k.t
		who := t.Assignee
		if who == "" {
			who = unassigned
		}
		cat := lb.category(t.Category)
		if t.Emergency != "" {
			cat = lb.emergency(t.Emergency)
		}
		slaLabel := v.t("web.sla." + string(k.sla.State))
		if k.sla.Due != nil {
			slaLabel += " · " + c.clock(*k.sla.Due)
		}
		d.Rows = append(d.Rows, boardRow{ID: t.ID, State: lb.state(t.State), Category: cat,
			Address: t.Building + " " + t.Unit + " " + t.Room, Age: age(v, now, t.Created), Assignee: who,
			SLA: string(k.sla.State), SLALabel: slaLabel})
	}
	d.Table = rowsHTML(d.Rows, c.base)
	c.boardOptions(d, v, lb, buildings, techs)
	d.Count = v.t("web.board.count", "n", d.Total, "shown", len(d.Rows))
	d.None = v.t("web.board.none")
	d.ColTicket, d.ColState, d.ColCategory, d.ColAddress = v.t("web.col.ticket"), v.t("web.col.state"), v.t("web.col.category"), v.t("web.col.address")
	d.ColAge, d.ColAssignee, d.ColSLA = v.t("web.col.age"), v.t("web.col.assignee"), v.t("web.col.sla")
	return d, nil
}

// rowsHTML writes the board's rows, every value escaped as html/template
// would escape it in these contexts (text, and quoted attributes whose
// values are a ticket id under the console's path and an SLA state).
func rowsHTML(rows []boardRow, base string) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 200)
	esc := html.EscapeString
	for _, r := range rows {
		b.WriteString(`<tr class="s-`)
		b.WriteString(esc(r.SLA))
		b.WriteString(`"><td><a href="`)
		b.WriteString(esc(base + "/t/" + url.PathEscape(r.ID)))
		b.WriteString(`">`)
		b.WriteString(esc(r.ID))
		b.WriteString("</a>")
		for _, cell := range []string{r.State, r.Category, r.Address, r.Age, r.Assignee} {
			b.WriteString("<td>")
			b.WriteString(esc(cell))
		}
		b.WriteString("<td><b>")
		b.WriteString(esc(r.SLALabel))
		b.WriteString("</b></tr>\n")
	}
	return template.HTML(b.String()) // every value is escaped above
}

// match reports whether a ticket passes the filter. The search matches
// the ticket number, the address, the resident's name and (four digits or
// more) their phone; the phone is never shown.
func (f filter) match(t *flows.Ticket, sla flows.SLAStatus, res *flows.Person, qLower, qUpper, qDigits string) bool {
	switch {
	case f.State != "" && string(t.State) != f.State,
		f.Category != "" && t.Category != f.Category,
		f.Building != "" && t.Building != f.Building,
		f.Tech == "none" && t.AssigneeID != "",
		f.Tech != "" && f.Tech != "none" && t.AssigneeID != f.Tech,
		f.Emergency == "yes" && t.Emergency == "",
		f.Emergency == "no" && t.Emergency != "",
		f.SLA != "" && string(sla.State) != f.SLA:
		return false
	}
	if f.Q == "" {
		return true
	}
	if strings.Contains(t.ID, qUpper) || strings.Contains(strings.ToLower(t.Building+" "+t.Unit+" "+t.Room), qLower) ||
		strings.Contains(strings.ToLower(t.Building+t.Unit+t.Room), qLower) {
		return true
	}
	if res == nil {
		return false
	}
	if strings.Contains(strings.ToLower(res.Name), qLower) {
		return true
	}
	return qDigits != "" && strings.Contains(flows.PhoneDigits(res.Phone), qDigits)
}

// phoneQuery is the digits of a search that looks like (part of) a phone
// number — only digits, spaces, + and -, at least four digits — else "".
func phoneQuery(q string) string {
	for _, r := range q {
		if (r < '0' || r > '9') && r != ' ' && r != '+' && r != '-' {
			return ""
		}
	}
	if d := flows.PhoneDigits(q); len(d) >= 4 {
		return d
	}
	return ""
}

func (c *Channel) boardOptions(d *boardData, v *visitor, lb *labels, buildings map[string]bool, techs map[string]string) {
	f := d.F
	d.States = append(d.States, option{Value: "", Label: v.t("web.filter.any")})
	for _, s := range openStates {
		d.States = append(d.States, option{Value: string(s), Label: lb.state(s), Selected: f.State == string(s)})
	}
	d.Categories = append(d.Categories, option{Value: "", Label: v.t("web.filter.any")})
	for _, cat := range lb.order {
		d.Categories = append(d.Categories, option{Value: cat.Key, Label: lb.category(cat.Key), Selected: f.Category == cat.Key})
	}
	d.Buildings = append(d.Buildings, option{Value: "", Label: v.t("web.filter.any")})
	var bs []string
	for b := range buildings {
		bs = append(bs, b)
	}
	sort.Strings(bs)
	for _, b := range bs {
		d.Buildings = append(d.Buildings, option{Value: b, Label: b, Selected: f.Building == b})
	}
	d.Techs = append(d.Techs, option{Value: "", Label: v.t("web.filter.any")}, option{Value: "none", Label: v.t("web.unassigned"), Selected: f.Tech == "none"})
	var ids []string
	for id := range techs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		return techs[ids[i]] < techs[ids[j]] || techs[ids[i]] == techs[ids[j]] && ids[i] < ids[j]
	})
	for _, id := range ids {
		d.Techs = append(d.Techs, option{Value: id, Label: techs[id], Selected: f.Tech == id})
	}
	d.SLAs = append(d.SLAs, option{Value: "", Label: v.t("web.filter.any")})
	for _, s := range []flows.SLAState{flows.SLAEmergency, flows.SLABreached, flows.SLAAtRisk, flows.SLAOnTime} {
		d.SLAs = append(d.SLAs, option{Value: string(s), Label: v.t("web.sla." + string(s)), Selected: f.SLA == string(s)})
	}
	d.EmergencyAny, d.EmergencyYes, d.EmergencyNo = f.Emergency == "", f.Emergency == "yes", f.Emergency == "no"
}

// board serves the board, or only its table for a live refresh.
func (c *Channel) board(w http.ResponseWriter, r *http.Request, v *visitor) {
	start := time.Now()
	d, err := c.boardView(r.Context(), v, readFilter(r.URL.Query()))
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if r.URL.Query().Get("partial") != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := c.tpl["board"].ExecuteTemplate(w, "board_table", view{L: v, Base: c.base, Page: d}); err != nil {
			c.o.Log.Error().Err(err).Msg("render board table")
		}
		return
	}
	c.renderNav(w, r, http.StatusOK, "board", "web.nav.board", v, v.t("web.board.title"), d)
	c.o.Log.Debug().Dur("took", time.Since(start)).Int("rows", len(d.Rows)).Msg("board")
}
