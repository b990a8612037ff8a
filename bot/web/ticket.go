package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
)

// A ticket's page: its details, photos, the visit (entry, plan, quote and
// consent, tests, care, sign-off, score), its whole audit trail, and the
// actions the visitor may take on it now.

type photoView struct {
	URL, Caption string
}

type trailLine struct {
	Time, Actor, Action, Move, Note string
	Photos                          []photoView
}

type quoteLine struct {
	Code, Name, Qty, Price, Sum string
}

type ticketData struct {
	// OrderFile offers the work order as xlsx (/order's rows and check).
	OrderFile                                 bool
	T                                         *flows.Ticket
	State, Category, Kind, When, Address, SLA string
	SLAClass, Emergency, Created              string
	Resident, Phone                           string
	NoChat                                    bool
	Assignee                                  string
	Photos                                    []photoView
	Entry, Plan, Care, Tests                  string
	Quote                                     []quoteLine
	QuoteTotal, QuoteStatus, QuoteConsent     string
	Signoff, Score, Comment, Breaches         string
	Trail                                     []trailLine
	// Actions the visitor may take now, each with a fresh form key.
	CanAssign, CanReturn, CanCancel bool
	AssignKey, ReturnKey, CancelKey string
	Technicians                     []option
	// Acts are the lead's other ways out the visitor may take now
	// (leadActs), each with its form's one-time key.
	Acts map[string]string
}

// leadActs are the ticket page's lead actions besides assign, return and
// cancel: each is offered where its console row allows it (the chat
// action's Transitions row).
var leadActs = []string{flows.ConsolePaper, flows.ConsoleClose, flows.ConsoleMerge, flows.ConsoleReopen}

// ticketPhotos lists every kept photo of a ticket with where it came
// from: the report, the visit's steps and the audit trail, each once.
func ticketPhotos(t *flows.Ticket, evs []flows.TicketEvent) []flows.Photo {
	var out []flows.Photo
	seen := map[string]bool{}
	add := func(ps ...flows.Photo) {
		for _, p := range ps {
			if p.SHA256 != "" && p.Local != "" && !seen[p.SHA256] {
				seen[p.SHA256] = true
				out = append(out, p)
			}
		}
	}
	add(t.Photos...)
	if t.Visit != nil {
		steps := make([]string, 0, len(t.Visit.Photos))
		for s := range t.Visit.Photos {
			steps = append(steps, s)
		}
		sort.Strings(steps)
		for _, s := range steps {
			add(t.Visit.Photos[s]...)
		}
	}
	for _, e := range evs {
		add(e.Photos...)
	}
	return out
}

// readTicket reads a ticket, its trail and the people it names in one
// read transaction; ok is false when there is no such ticket.
func (c *Channel) readTicket(ctx context.Context, id string) (t *flows.Ticket, evs []flows.TicketEvent, people map[string]*flows.Person, techs []*flows.Person, ok bool, err error) {
	people = map[string]*flows.Person{}
	err = c.o.Store.View(ctx, func(tx flows.Tx) error {
		var err error
		t, err = tx.Ticket(id)
		if errors.Is(err, flows.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		if evs, err = tx.TicketEvents(id); err != nil {
			return err
		}
		ids := []string{t.ResidentID, t.AssigneeID}
		for _, e := range evs {
			ids = append(ids, e.Actor)
			if personNote(e.Note) {
				ids = append(ids, e.Note) // a reassignment names its technician
			}
		}
		for _, pid := range ids {
			if _, done := people[pid]; done || pid == "" {
				continue
			}
			p, err := tx.Person(pid)
			if err != nil && !errors.Is(err, flows.ErrNotFound) {
				return err
			}
			people[pid] = p
		}
		techs, err = tx.PeopleByRole(flows.RoleTechnician)
		return err
	})
	return t, evs, people, techs, ok, err
}

// ticket serves a ticket's page (or, for a live refresh, its trail).
func (c *Channel) ticket(w http.ResponseWriter, r *http.Request, v *visitor) {
	c.showTicket(w, r, v, r.PathValue("id"), http.StatusOK, nil)
}

// showTicket renders a ticket's page with a status and an answer to show.
func (c *Channel) showTicket(w http.ResponseWriter, r *http.Request, v *visitor, id string, status int, fl *flashMsg) {
	t, evs, people, techs, ok, err := c.readTicket(r.Context(), id)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if !ok || !v.sees(t) {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	d := c.ticketView(v, t, evs, people, techs)
	if r.URL.Query().Get("partial") != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := c.tpl["ticket"].ExecuteTemplate(w, "ticket_live", view{L: v, Base: c.base, Page: d}); err != nil {
			c.o.Log.Error().Err(err).Msg("render ticket")
		}
		return
	}
	c.renderFlash(w, r, status, "ticket", "", v, v.t("web.ticket.title", "ticket", t.ID), d, fl)
}

func (c *Channel) ticketView(v *visitor, t *flows.Ticket, evs []flows.TicketEvent, people map[string]*flows.Person, techs []*flows.Person) *ticketData {
	lb := c.labels(v)
	now := c.o.Now()
	none := v.t("web.ticket.none")
	d := &ticketData{T: t, State: lb.state(t.State), Category: lb.category(t.Category), Kind: v.t("kind." + string(t.Kind)),
		Address: t.Building + " / " + t.Unit + " / " + t.Room, Created: c.localTime(t.Created)}
	d.OrderFile = c.exportsOn() && flows.CommandAllows("order", v.person) == nil && flows.MayReadOrder(v.person, t) == nil
	if t.AgreedTime == nil {
		d.When = v.t("web.when.asap")
	} else {
		d.When = c.localTime(*t.AgreedTime)
	}
	if t.State.Open() {
		sla := c.o.Domain.SLA(t, now)
		d.SLAClass, d.SLA = string(sla.State), v.t("web.sla."+string(sla.State))
		if sla.Due != nil {
			d.SLA += " · " + v.t("web.sla.due", "time", c.localTime(*sla.Due))
		}
	}
	if t.Emergency != "" {
		d.Emergency = v.t("web.ticket.emergency", "type", lb.emergency(t.Emergency))
	}
	if res := people[t.ResidentID]; res != nil {
		d.Resident, d.Phone, d.NoChat = res.Name, flows.MaskPhone(res.Phone), res.Chat.IsZero()
	} else {
		d.Resident, d.Phone = t.ResidentID, none
	}
	d.Assignee = t.Assignee
	if d.Assignee == "" {
		d.Assignee = v.t("web.unassigned")
	}
	for _, p := range ticketPhotos(t, nil) {
		d.Photos = append(d.Photos, c.photoView(t, p))
	}
	c.visitView(d, v, t)
	steps := map[string]string{}
	if sop := c.o.Domain.SOP(); sop != nil {
		for _, st := range sop.Steps {
			steps[st.ID] = st.Title[v.lang]
		}
	}
	for _, e := range evs {
		line := trailLine{Time: c.localTime(e.At), Action: lb.optional("web.audit."+e.Action, e.Action), Note: e.Note}
		if p := people[e.Note]; personNote(e.Note) && p != nil {
			line.Note = p.Name
		} else if id, rest, _ := strings.Cut(e.Note, " "); steps[id] != "" {
			line.Note = strings.TrimSpace(steps[id] + " " + rest) // the checklist's lines start with their step
		}
		switch p := people[e.Actor]; {
		case e.Actor == "system" || e.Actor == "":
			line.Actor = v.t("web.system")
		case p != nil:
			line.Actor = p.Name
		default:
			line.Actor = e.Actor
		}
		if e.From != e.To && e.To != "" {
			from := none
			if e.From != "" {
				from = lb.state(e.From)
			}
			line.Move = from + " → " + lb.state(e.To)
		}
		for _, p := range e.Photos {
			if p.SHA256 != "" && p.Local != "" {
				line.Photos = append(line.Photos, c.photoView(t, p))
			}
		}
		d.Trail = append(d.Trail, line)
	}
	p := v.person
	if flows.ConsoleAllows(flows.ConsoleAssign, p, t) == nil {
		d.CanAssign, d.AssignKey = true, formKey()
		for _, tech := range techs {
			if tech.Registered && tech.ID != t.AssigneeID {
				d.Technicians = append(d.Technicians, option{Value: tech.ID, Label: tech.Name})
			}
		}
	}
	if flows.ConsoleAllows(flows.ConsoleReturn, p, t) == nil {
		d.CanReturn, d.ReturnKey = true, formKey()
	}
	if flows.ConsoleAllows(flows.ConsoleCancel, p, t) == nil {
		d.CanCancel, d.CancelKey = true, formKey()
	}
	for _, a := range leadActs {
		if flows.ConsoleAllows(a, p, t) == nil && (a != flows.ConsoleReopen || t.MergedInto == "") {
			if d.Acts == nil {
				d.Acts = map[string]string{}
			}
			d.Acts[a] = formKey()
		}
	}
	return d
}

// visitView fills what the visit recorded.
func (c *Channel) visitView(d *ticketData, v *visitor, t *flows.Ticket) {
	vi := t.Visit
	if vi == nil {
		vi = &flows.Visit{}
	}
	switch vi.Entry {
	case "resident":
		d.Entry = v.t("web.ticket.entry_resident")
	case "verbal":
		d.Entry = v.t("web.ticket.entry_verbal")
	}
	d.Plan, d.Care = vi.Plan, vi.Care
	if vi.Tests > 0 || vi.Failed > 0 {
		d.Tests = v.t("web.ticket.tests", "pass", vi.Tests, "fail", vi.Failed)
	}
	if q := vi.Quote; q != nil && len(q.Lines) > 0 {
		prices := map[string]flows.PriceItem{}
		if s := c.o.Domain.SOP(); s != nil {
			for _, p := range s.Prices {
				prices[p.Code] = p
			}
		}
		for _, l := range q.Lines {
			p := prices[l.Code]
			name := p.Name[v.lang]
			if name == "" {
				name = l.Code
			}
			d.Quote = append(d.Quote, quoteLine{Code: l.Code, Name: name, Qty: fmt.Sprintf("%d %s", l.Qty, p.Unit[v.lang]),
				Price: flows.Money(l.Cents), Sum: flows.Money(int64(l.Qty) * l.Cents)})
		}
		d.QuoteTotal = v.t("web.ticket.quote_total", "total", flows.Money(q.Total()))
		d.QuoteStatus = (&labels{v: v}).optional("web.quote."+q.Status, q.Status)
		switch {
		case vi.QuoteOK && q.Status != "agreed":
			d.QuoteConsent = v.t("web.ticket.quote_consent")
		case !vi.QuoteOK && q.Status != "refused":
			d.QuoteConsent = v.t("web.ticket.quote_no_consent")
		}
	}
	switch t.State {
	case flows.StateConfirmed, flows.StateSurvey, flows.StateClosed:
		at := t.Updated
		if t.Finished != nil {
			at = *t.Finished
		}
		d.Signoff = v.t("web.ticket.signed", "time", c.localTime(at))
	default:
		d.Signoff = v.t("web.ticket.not_signed")
	}
	if t.Score > 0 {
		d.Score = v.t("web.ticket.score_value", "score", t.Score)
	}
	d.Comment = t.Comment
	if len(t.Breaches) > 0 {
		var parts []string
		for _, b := range t.Breaches {
			parts = append(parts, (&labels{v: v}).optional("sla.breach_"+b, b))
		}
		d.Breaches = v.t("web.ticket.breaches", "what", strings.Join(parts, ", "))
	}
}

// personNote reports whether an audit note is a person id (a
// reassignment's technician), to be shown by name.
func personNote(s string) bool {
	ch, id, ok := strings.Cut(s, ":")
	return ok && ch != "" && id != "" && len(s) <= 80 && !strings.ContainsAny(s, " \n")
}

func (c *Channel) photoView(t *flows.Ticket, p flows.Photo) photoView {
	return photoView{URL: c.base + "/t/" + t.ID + "/photo/" + p.SHA256, Caption: p.SHA256[:8]}
}

var imageTypes = map[string]string{"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic"}

// photo serves a kept copy of one of the ticket's photos: only a photo
// the ticket itself names (its hash in the URL is looked up among them),
// read through the media store (its files, or the database the replicas
// share).
func (c *Channel) photo(w http.ResponseWriter, r *http.Request, v *visitor) {
	sha := r.PathValue("sha")
	t, evs, _, _, ok, err := c.readTicket(r.Context(), r.PathValue("id"))
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if !ok || !v.sees(t) || c.o.Media == nil {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	var found *flows.Photo
	for _, p := range ticketPhotos(t, evs) {
		if p.SHA256 == sha {
			found = &p
			break
		}
	}
	if found == nil {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	// Only an image the media store kept under this very digest.
	sum, ext, err := media.ParseRel(found.Local)
	if err != nil || sum != sha || imageTypes[ext] == "" {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	f, err := c.o.Media.Open(found.Local)
	if errors.Is(err, os.ErrNotExist) {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", imageTypes[ext])
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if _, err := io.Copy(w, f); err != nil {
		c.o.Log.Debug().Err(err).Msg("photo copy")
	}
}
