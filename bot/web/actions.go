package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/repairbot/repairbot/flows"
)

// The actions: every form posts one console action, which the engine
// checks and applies (flows routes.go); the console only passes the
// form's fields on and shows the answer.

// ticketFields are the fields each ticket action passes to the engine.
var ticketFields = map[string][]string{
	flows.ConsoleAssign: {"technician"},
	flows.ConsoleReturn: nil,
	flows.ConsoleCancel: {"reason"},
	flows.ConsoleClose:  {"reason"},
	flows.ConsoleReopen: {"reason"},
	flows.ConsoleMerge:  {"into", "reason"},
	// The phone-callback list's form (records.go).
	flows.ConsoleCallback: {"answer", "score"},
}

// ticketAction posts a console action on the ticket the URL names. The
// form repeats the ticket: a form of one ticket posted to another's
// address is refused, as is an action that is not a ticket action.
func (c *Channel) ticketAction(w http.ResponseWriter, r *http.Request, v *visitor) {
	id, action := r.PathValue("id"), r.PathValue("action")
	fields, ok := ticketFields[action]
	if !ok || !flows.ConsoleTicketAction(action) {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	if !c.form(w, r, v) {
		return
	}
	if r.PostForm.Get("ticket") != id {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.ticket_mismatch")
		return
	}
	key, ok := eventKey(r, v)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return
	}
	args := map[string]string{}
	for _, f := range fields {
		args[f] = r.PostForm.Get(f)
	}
	res, err := c.handle(r.Context(), v, key, flows.ConsoleRequest{Action: action, Ticket: id, Args: args})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if res.Alert && !res.Duplicate {
		c.showTicket(w, r, v, id, refusedStatus(res.Refused), &flashMsg{Text: res.Toast, Error: true})
		return
	}
	back := c.base + "/t/" + id
	if b := r.PostForm.Get("back"); b != "" {
		back = c.backTo(b) // a list's form (the callbacks) returns to the list
	}
	c.answer(w, r, v, res, back)
}

// answer shows the engine's answer on the page the action came from.
func (c *Channel) answer(w http.ResponseWriter, r *http.Request, v *visitor, res flows.Result, back string) {
	switch {
	case res.Duplicate:
		c.flash(w, r, v.t("web.err.duplicate"), true)
	default:
		c.flash(w, r, res.Toast, res.Alert)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// refusedStatus is the HTTP status of an engine's refusal.
func refusedStatus(code flows.Code) int {
	switch code {
	case flows.CodeForbidden:
		return http.StatusForbidden
	case flows.CodeNotFound:
		return http.StatusNotFound
	case flows.CodeConflict:
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// ---- a phone report ----

type residentView struct {
	ID, Name, Phone, Address string
	Chat                     bool
}

type newData struct {
	Q           string
	Searched    bool
	Matches     []residentView
	Selected    *residentView
	Categories  []option
	Key         string
	Form        map[string]string
	Error       string
	KindOptions []option
	WhenOptions []option
}

// maxMatches bounds a resident search's answer.
const maxMatches = 20

// findResidents searches the registered residents by name or (four
// digits or more) phone; the phone is shown masked.
func (c *Channel) findResidents(ctx context.Context, q string) ([]residentView, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	digits, lower := phoneQuery(q), strings.ToLower(q)
	var out []residentView
	err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		ps, err := tx.PeopleByRole(flows.RoleResident)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if !p.Registered {
				continue
			}
			if (digits != "" && strings.Contains(flows.PhoneDigits(p.Phone), digits)) || (digits == "" && strings.Contains(strings.ToLower(p.Name), lower)) {
				out = append(out, residentOf(p))
				if len(out) >= maxMatches {
					break
				}
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func residentOf(p *flows.Person) residentView {
	return residentView{ID: p.ID, Name: p.Name, Phone: flows.MaskPhone(p.Phone), Address: p.Building + " / " + p.Unit + " / " + p.Room, Chat: !p.Chat.IsZero()}
}

// newTicket serves the phone report: find the resident, then the form.
func (c *Channel) newTicket(w http.ResponseWriter, r *http.Request, v *visitor) {
	d, status := c.newForm(r.Context(), v, r.URL.Query().Get("q"), r.URL.Query().Get("resident"), nil, "")
	if d == nil {
		c.internal(w, r, v, errors.New("web: phone report form"))
		return
	}
	c.renderNav(w, r, status, "new", "web.nav.new_ticket", v, v.t("web.phone.title"), d)
}

func (c *Channel) newForm(ctx context.Context, v *visitor, q, resident string, form map[string]string, errText string) (*newData, int) {
	d := &newData{Q: q, Key: formKey(), Form: form, Error: errText}
	if d.Form == nil {
		d.Form = map[string]string{"kind": string(flows.OrderHousehold), "when": "asap"}
	}
	if q != "" {
		m, err := c.findResidents(ctx, q)
		if err != nil {
			c.o.Log.Error().Err(err).Msg("resident search")
			return nil, 0
		}
		d.Searched, d.Matches = true, m
	}
	if resident != "" {
		err := c.o.Store.View(ctx, func(tx flows.Tx) error {
			p, err := tx.Person(resident)
			if err == nil && p.Registered && p.Role == flows.RoleResident {
				rv := residentOf(p)
				d.Selected = &rv
			}
			return nil
		})
		if err != nil {
			return nil, 0
		}
	}
	lb := c.labels(v)
	for _, cat := range lb.order {
		if cat.Emergency == "" {
			d.Categories = append(d.Categories, option{Value: cat.Key, Label: lb.category(cat.Key), Selected: d.Form["category"] == cat.Key})
		}
	}
	for _, k := range []flows.OrderKind{flows.OrderHousehold, flows.OrderPublic} {
		d.KindOptions = append(d.KindOptions, option{Value: string(k), Label: v.t("kind." + string(k)), Selected: d.Form["kind"] == string(k)})
	}
	for _, k := range []string{"asap", "tam", "tpm", "other"} {
		d.WhenOptions = append(d.WhenOptions, option{Value: k, Label: v.t("web.when." + k), Selected: d.Form["when"] == k})
	}
	status := http.StatusOK
	if errText != "" {
		status = http.StatusUnprocessableEntity
	}
	return d, status
}

// phoneFields are the phone report's fields, passed to the engine as
// they are.
var phoneFields = []string{"resident", "name", "phone", "building", "unit", "room", "category", "description", "kind", "when", "time"}

// fileTicket posts the phone report; refused, the form comes back with
// what was typed and the engine's answer.
func (c *Channel) fileTicket(w http.ResponseWriter, r *http.Request, v *visitor) {
	if !c.form(w, r, v) {
		return
	}
	key, ok := eventKey(r, v)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return
	}
	args := map[string]string{}
	for _, f := range phoneFields {
		args[f] = r.PostForm.Get(f)
	}
	res, err := c.handle(r.Context(), v, key, flows.ConsoleRequest{Action: flows.ConsolePhoneTicket, Args: args})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	switch {
	case res.Duplicate:
		c.answer(w, r, v, res, c.base+"/")
	case res.Alert:
		d, status := c.newForm(r.Context(), v, "", args["resident"], args, res.Toast)
		if d == nil {
			c.internal(w, r, v, errors.New("web: phone report form"))
			return
		}
		status = refusedStatus(res.Refused)
		c.renderNav(w, r, status, "new", "web.nav.new_ticket", v, v.t("web.phone.title"), d)
	default:
		c.answer(w, r, v, res, c.base+"/t/"+res.Ticket)
	}
}
