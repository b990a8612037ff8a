package main

import (
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// engineAreas maps [[areas]] to the engine's areas; a file without them
// gives none, and the engine makes its one default area of the single
// group. An area's group is the first enabled channel's that has one
// for it (like the single group); without one the area uses the single
// group.
func engineAreas(cfg config.Config, kinds []channelKind) []flows.Area {
	var out []flows.Area
	for _, a := range cfg.Areas {
		fa := configArea(a)
		for _, k := range kinds {
			if k.areaGroup == nil {
				continue
			}
			if g, ok := k.areaGroup(a); ok {
				fa.Group = g
				break
			}
		}
		out = append(out, fa)
	}
	return out
}

// configArea is an [[areas]] entry as the engine's area, without its
// group (which the channels give: engineAreas).
func configArea(a config.Area) flows.Area {
	fa := flows.Area{Key: a.Key, Names: map[flows.Lang]string{flows.LangZH: a.ZH, flows.LangEN: a.EN},
		Buildings: a.BuildingList(), ServicePhone: a.ServicePhone,
		AcceptWithin: a.AcceptWithin.Duration, ArriveWithin: a.ArriveWithin.Duration, Prices: a.PriceFen()}
	for _, id := range a.Leads {
		fa.Leads = append(fa.Leads, string(id))
	}
	return fa
}

// shiftArea is the area of a [[duty]] shift: its own, or the default area.
func shiftArea(cfg config.Config, s config.Shift) string {
	if s.Area != "" {
		return s.Area
	}
	return cfg.DefaultArea()
}
