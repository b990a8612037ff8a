package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Area is one estate or district the bot serves (片区; 小区 in the
// property profile), as an [[areas]] table. A file without [[areas]] has
// one area, DefaultAreaKey, made of [telegram] group_id, [wecom]'s group
// and [org] service_phone: nothing to change for one estate.
type Area struct {
	// Key is stored on tickets, people and posters, so it never changes
	// meaning: ^[a-z][a-z0-9_]{0,11}$, unique. The first area is the
	// default one, where records from before areas belong: keep the key
	// "main" for the estate a single-group installation served.
	Key string `toml:"key"`
	// ZH and EN are the area's name (required, at most 32 characters).
	ZH string `toml:"zh"`
	EN string `toml:"en"`
	// Buildings are the area's buildings in button order, each at most
	// limits.max_address_part characters; or BuildingPattern, one range
	// "{first..last}" with text around it ("{1..12}栋" is 1栋 … 12栋).
	// Neither: residents type their building.
	Buildings       []string `toml:"buildings"`
	BuildingPattern string   `toml:"building_pattern"`
	// TelegramGroupID is the area's technicians' group on Telegram
	// (negative); 0: [telegram] group_id.
	TelegramGroupID int64 `toml:"telegram_group_id"`
	// WeComGroupChatID is the area's group chat on WeCom; "": [wecom]'s.
	WeComGroupChatID string `toml:"wecom_group_chat_id"`
	// Leads are the person ids of the area's leads (area managers), who
	// belong to the area and receive its escalations.
	Leads []PersonID `toml:"leads"`
	// ServicePhone is the area's service-centre phone; "": org.service_phone.
	ServicePhone string `toml:"service_phone"`
	// AcceptWithin and ArriveWithin override [sla]'s for the area's
	// normal tickets (0: [sla]'s; otherwise 1m..24h).
	AcceptWithin Duration `toml:"accept_within"`
	ArriveWithin Duration `toml:"arrive_within"`
	// Prices override price-list unit prices in the area: code = yuan.
	Prices map[string]float64 `toml:"prices"`
}

// Posters configures the buildings' QR posters (repairbot poster, /poster).
type Posters struct {
	// Secret signs the posters' codes, so a forged code is refused; at
	// least 16 characters, from the environment. Default "${POSTER_SECRET}";
	// empty turns posters off. Changing it makes every printed poster stale.
	Secret string `toml:"secret"`
}

// DefaultAreaKey is the key of the one area of a file without [[areas]].
const DefaultAreaKey = "main"

// Bounds of [[areas]].
const (
	maxAreas         = 30
	maxAreaBuildings = 99
	// maxPosterPayload bounds an area key plus a building (bytes), so a
	// poster's deep link fits Telegram's 64-character start parameter.
	maxPosterPayload = 30
)

var (
	areaKeyPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,11}$`)
	buildingPattern = regexp.MustCompile(`^([^{}]*)\{([0-9]{1,3})\.\.([0-9]{1,3})\}([^{}]*)$`)
)

// AreaList is the configured areas, or the one default area of a file
// without [[areas]].
func (c Config) AreaList() []Area {
	if len(c.Areas) == 0 {
		return []Area{{Key: DefaultAreaKey, ZH: c.Org.Name, EN: c.Org.Name}}
	}
	return c.Areas
}

// DefaultArea is the key of the area records from before areas belong to.
func (c Config) DefaultArea() string { return c.AreaList()[0].Key }

// BuildingList is the area's buildings: its list, or its pattern expanded.
func (a Area) BuildingList() []string {
	if len(a.Buildings) > 0 || a.BuildingPattern == "" {
		return a.Buildings
	}
	m := buildingPattern.FindStringSubmatch(a.BuildingPattern)
	if m == nil {
		return nil
	}
	first, _ := strconv.Atoi(m[2])
	last, _ := strconv.Atoi(m[3])
	if last < first || last-first >= maxAreaBuildings {
		return nil
	}
	var out []string
	for n := first; n <= last; n++ {
		out = append(out, m[1]+strconv.Itoa(n)+m[4])
	}
	return out
}

// PriceFen is the area's price overrides in fen.
func (a Area) PriceFen() map[string]int64 {
	if len(a.Prices) == 0 {
		return nil
	}
	out := make(map[string]int64, len(a.Prices))
	for code, yuan := range a.Prices {
		out[code] = int64(math.Round(yuan * 100))
	}
	return out
}

func (c *Config) validateAreas(v *validator) {
	if len(c.Areas) > maxAreas {
		v.add("areas", "must have at most %d entries (got %d)", maxAreas, len(c.Areas))
	}
	seen := map[string]int{}
	for i := range c.Areas {
		a := &c.Areas[i]
		prefix := fmt.Sprintf("areas[%d].", i)
		if v.required(prefix+"key", a.Key) {
			if !areaKeyPattern.MatchString(a.Key) {
				v.add(prefix+"key", "must match ^[a-z][a-z0-9_]{0,11}$ (got %q)", a.Key)
			} else if j, dup := seen[a.Key]; dup {
				v.add(prefix+"key", "duplicate key %q (also used by areas[%d])", a.Key, j)
			} else {
				seen[a.Key] = i
			}
		}
		v.labels(prefix, a.ZH, a.EN, maxCategoryLabel)
		c.validateBuildings(v, prefix, a)
		if a.TelegramGroupID > 0 {
			v.add(prefix+"telegram_group_id", "must be a group's negative chat id (got %d)", a.TelegramGroupID)
		}
		for j, id := range a.Leads {
			if why := id.check(); why != "" {
				v.add(fmt.Sprintf("%sleads[%d]", prefix, j), "%s", why)
			}
		}
		if a.ServicePhone != "" && (!servicePhonePattern.MatchString(a.ServicePhone) || countDigits(a.ServicePhone) < 3) {
			v.add(prefix+"service_phone", "must be a phone number of 3-32 characters using digits, spaces and + - ( ) # (got %q)", a.ServicePhone)
		}
		for _, d := range []struct {
			key string
			val Duration
		}{{"accept_within", a.AcceptWithin}, {"arrive_within", a.ArriveWithin}} {
			if d.val.Duration != 0 {
				v.durRange(prefix+d.key, d.val, time.Minute, 24*time.Hour)
			}
		}
		for code, yuan := range a.Prices {
			if code == "" || utf8.RuneCountInString(code) > 12 || strings.Contains(code, "|") {
				v.add(prefix+"prices", "code %q must be a price-list code of 1-12 characters", code)
			}
			if yuan < 0 || yuan > 1e6 || math.IsNaN(yuan) {
				v.add(prefix+"prices."+code, "must be a price in yuan between 0 and 1000000 (got %v)", yuan)
			}
		}
	}
	for i, s := range c.Duty {
		if s.Area == "" {
			continue
		}
		if _, ok := seen[s.Area]; !ok && !(len(c.Areas) == 0 && s.Area == DefaultAreaKey) {
			v.add(fmt.Sprintf("duty[%d].area", i), "names area %q, which is not configured in [[areas]]", s.Area)
		}
	}
	p := &c.Posters
	if p.Secret != "" && len(p.Secret) < 16 {
		v.add("posters.secret", "must be at least 16 characters (got %d)", len(p.Secret))
	}
}

func (c *Config) validateBuildings(v *validator, prefix string, a *Area) {
	if len(a.Buildings) > 0 && a.BuildingPattern != "" {
		v.add(prefix+"building_pattern", "give buildings or building_pattern, not both")
		return
	}
	if a.BuildingPattern != "" {
		m := buildingPattern.FindStringSubmatch(a.BuildingPattern)
		if m == nil {
			v.add(prefix+"building_pattern", `must be one range "{first..last}" with text around it, like "{1..12}栋" (got %q)`, a.BuildingPattern)
			return
		}
		first, _ := strconv.Atoi(m[2])
		last, _ := strconv.Atoi(m[3])
		if last < first || last-first >= maxAreaBuildings {
			v.add(prefix+"building_pattern", "must name 1-%d buildings, first <= last (got %d..%d)", maxAreaBuildings, first, last)
			return
		}
	}
	list := a.BuildingList()
	if len(list) > maxAreaBuildings {
		v.add(prefix+"buildings", "must have at most %d entries (got %d)", maxAreaBuildings, len(list))
	}
	seen := map[string]bool{}
	for j, b := range list {
		k := fmt.Sprintf("%sbuildings[%d]", prefix, j)
		if a.BuildingPattern != "" {
			k = prefix + "building_pattern"
		}
		switch n := utf8.RuneCountInString(b); {
		case strings.TrimSpace(b) == "":
			v.add(k, "must not be empty")
		case c.Limits.MaxAddressPart > 0 && n > c.Limits.MaxAddressPart:
			v.add(k, "must be at most limits.max_address_part = %d characters (got %q)", c.Limits.MaxAddressPart, b)
		case len(a.Key)+len(b) > maxPosterPayload:
			v.add(k, "with the area key, must fit %d bytes for the poster's link (got %q)", maxPosterPayload, b)
		case seen[b]:
			v.add(k, "duplicate building %q", b)
		}
		seen[b] = true
	}
}

// areaStringFields are [[areas]]' and [posters]' strings, for ${NAME} expansion.
func (c *Config) areaStringFields() []stringField {
	f := []stringField{{"posters.secret", &c.Posters.Secret}}
	for i := range c.Areas {
		a := &c.Areas[i]
		p := fmt.Sprintf("areas[%d].", i)
		f = append(f,
			stringField{p + "key", &a.Key}, stringField{p + "zh", &a.ZH}, stringField{p + "en", &a.EN},
			stringField{p + "building_pattern", &a.BuildingPattern},
			stringField{p + "wecom_group_chat_id", &a.WeComGroupChatID},
			stringField{p + "service_phone", &a.ServicePhone})
		for j := range a.Buildings {
			f = append(f, stringField{fmt.Sprintf("%sbuildings[%d]", p, j), &a.Buildings[j]})
		}
		for j := range a.Leads {
			f = append(f, stringField{fmt.Sprintf("%sleads[%d]", p, j), (*string)(&a.Leads[j])})
		}
	}
	return f
}
