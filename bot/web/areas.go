package web

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/repairbot/repairbot/flows"
)

// The areas' page: an admin sees every area's names, buildings, group,
// leads, service phone, service levels and price overrides, each field
// with a form that posts the area_set action — the engine's /area edit
// (flows/areas_edit.go), which checks the value, stores it and puts it in
// force; "reset" returns a field to the configuration file. The page
// opens for whom /area's row allows.

// areaPages are the page's rows of the console's table (routes.go).
var areaPages = []page{
	{method: "GET", path: "/areas", nav: "web.nav.areas", cmd: "area", serve: (*Channel).areas},
}

func init() {
	pageNames = append(pageNames, "areas")
	officeFields[flows.ConsoleAreaSet] = []string{"area", "field", "value"}
}

// areaSource is the engine's view of the areas in force (bot.Domain's
// implementation has it).
type areaSource interface {
	Areas() []flows.Area
}

type areaFieldView struct {
	Field, Label, Value string
	// Edited: the value is an admin's edit, not the configuration's.
	Edited bool
}

type areaView struct {
	Key, Name string
	Fields    []areaFieldView
}

type areasData struct {
	Areas []areaView
	Can   map[string]bool
}

// areaFieldNames are the editable fields in the page's order (the
// engine's; price.<code> fields follow them).
var areaFieldNames = []string{"zh", "en", "buildings", "group", "leads", "phone", "accept", "arrive"}

func (c *Channel) areas(w http.ResponseWriter, r *http.Request, v *visitor) {
	src, ok := c.o.Domain.(areaSource)
	if !ok {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	edited := map[string]map[string]bool{}
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		edits, err := tx.AreaEdits()
		for _, e := range edits {
			edited[e.Area] = map[string]bool{}
			for f := range e.Fields {
				edited[e.Area][f] = true
			}
		}
		return err
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := &areasData{Can: can(v, flows.ConsoleAreaSet)}
	for _, a := range src.Areas() {
		av := areaView{Key: a.Key, Name: a.Names[v.lang]}
		if av.Name == "" {
			av.Name = a.Names[flows.LangZH]
		}
		for _, f := range areaFieldNames {
			av.Fields = append(av.Fields, areaFieldView{Field: f, Label: v.t("web.areas.f_" + f), Value: areaValue(a, f), Edited: edited[a.Key][f]})
		}
		for _, code := range sortedKeys(a.Prices) {
			f := "price." + code
			av.Fields = append(av.Fields, areaFieldView{Field: f, Label: v.t("web.areas.f_price", "code", code), Value: strings.TrimPrefix(flows.Money(a.Prices[code]), "¥"), Edited: edited[a.Key][f]})
		}
		d.Areas = append(d.Areas, av)
	}
	c.renderNav(w, r, http.StatusOK, "areas", "web.nav.areas", v, v.t("web.areas.title"), d)
}

// areaValue is a field's value as the form shows (and takes) it.
func areaValue(a flows.Area, field string) string {
	switch field {
	case "zh":
		return a.Names[flows.LangZH]
	case "en":
		return a.Names[flows.LangEN]
	case "buildings":
		return joinComma(a.Buildings)
	case "group":
		if a.Group.IsZero() {
			return ""
		}
		return a.Group.Channel + ":" + a.Group.Chat
	case "leads":
		return joinComma(a.Leads)
	case "phone":
		return a.ServicePhone
	case "accept":
		return durationValue(a.AcceptWithin.String(), a.AcceptWithin == 0)
	case "arrive":
		return durationValue(a.ArriveWithin.String(), a.ArriveWithin == 0)
	}
	return ""
}

func durationValue(s string, zero bool) string {
	if zero {
		return "0"
	}
	return s
}

func joinComma(xs []string) string { return strings.Join(xs, ", ") }

func sortedKeys(m map[string]int64) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}
