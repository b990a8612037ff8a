package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

// TestSingleGroupIsOneArea: today's files — the example and the defaults —
// have no [[areas]] and load unchanged, as one default area "main".
func TestSingleGroupIsOneArea(t *testing.T) {
	cleanEnv(t)
	for name, load := range map[string]func() (config.Config, error){
		"example": func() (config.Config, error) { return config.Load(examplePth) },
		"minimal": func() (config.Config, error) { return config.Parse([]byte(minimal)) },
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := load()
			if err != nil {
				t.Fatal(err)
			}
			areas := cfg.AreaList()
			if len(areas) != 1 || areas[0].Key != config.DefaultAreaKey || cfg.DefaultArea() != "main" {
				t.Fatalf("areas = %+v, default %q; want the one area main", areas, cfg.DefaultArea())
			}
			if len(cfg.Areas) != 0 || cfg.Posters.Secret != "" {
				t.Errorf("a file without [[areas]] / [posters] got %+v / secret %q", cfg.Areas, cfg.Posters.Secret)
			}
		})
	}
}

const twoAreas = minimal + `
[[areas]]
key = "east"
zh = "东苑小区"
en = "East Garden"
buildings = ["1栋", "2栋", "3栋"]
telegram_group_id = -1002000000001
leads = ["tg:501", 502]
service_phone = "0571-1111"
accept_within = "10m"
[areas.prices]
LK01 = 12.5

[[areas]]
key = "west"
zh = "西苑小区"
en = "West Garden"
building_pattern = "{1..12}栋"
arrive_within = "1h"

[[duty]]
days = ["daily"]
from = "00:00"
to = "00:00"
people = ["tg:601"]
area = "west"

[posters]
secret = "${POSTER_SECRET}"
`

func TestTwoAreas(t *testing.T) {
	cleanEnv(t)
	t.Setenv("POSTER_SECRET", "0123456789abcdef-poster")
	cfg, err := config.Parse([]byte(twoAreas))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.DefaultArea(); got != "east" {
		t.Errorf("default area %q, want the first, east", got)
	}
	east, west := cfg.Areas[0], cfg.Areas[1]
	if !reflect.DeepEqual(east.BuildingList(), []string{"1栋", "2栋", "3栋"}) {
		t.Errorf("east buildings %v", east.BuildingList())
	}
	if got := west.BuildingList(); len(got) != 12 || got[0] != "1栋" || got[11] != "12栋" {
		t.Errorf("west's pattern expanded to %v", got)
	}
	if !reflect.DeepEqual(east.Leads, []config.PersonID{"tg:501", "tg:502"}) {
		t.Errorf("east leads %v", east.Leads)
	}
	if got := east.PriceFen(); got["LK01"] != 1250 {
		t.Errorf("east prices %v, want LK01 = 1250 fen", got)
	}
	if east.AcceptWithin.Duration != 10*time.Minute || west.ArriveWithin.Duration != time.Hour {
		t.Errorf("sla overrides %v %v", east.AcceptWithin, west.ArriveWithin)
	}
	if cfg.Duty[0].Area != "west" || cfg.Posters.Secret != "0123456789abcdef-poster" {
		t.Errorf("duty area %q, secret expanded %q", cfg.Duty[0].Area, cfg.Posters.Secret)
	}
}

func TestAreaProblems(t *testing.T) {
	cleanEnv(t)
	area := func(body string) string {
		return minimal + "[[areas]]\nkey = \"east\"\nzh = \"东苑\"\nen = \"East\"\n" + body
	}
	for _, tc := range []struct{ name, toml, want string }{
		{"bad key", minimal + "[[areas]]\nkey = \"East-1\"\nzh = \"东\"\nen = \"E\"\n", `areas[0].key: must match`},
		{"duplicate key", area("") + "[[areas]]\nkey = \"east\"\nzh = \"东\"\nen = \"E\"\n", `areas[1].key: duplicate key "east"`},
		{"no name", minimal + "[[areas]]\nkey = \"east\"\n", `areas[0].zh: is required`},
		{"list and pattern", area("buildings = [\"1栋\"]\nbuilding_pattern = \"{1..3}栋\"\n"), `areas[0].building_pattern: give buildings or building_pattern, not both`},
		{"bad pattern", area("building_pattern = \"1-3栋\"\n"), `areas[0].building_pattern: must be one range`},
		{"backwards pattern", area("building_pattern = \"{9..3}栋\"\n"), `must name 1-99 buildings`},
		{"duplicate building", area("buildings = [\"1栋\", \"1栋\"]\n"), `areas[0].buildings[1]: duplicate building "1栋"`},
		{"building too long for a poster", area("buildings = [\"" + strings.Repeat("栋", 9) + "\"]\n"), `must fit 30 bytes for the poster's link`},
		{"positive group", area("telegram_group_id = 42\n"), `areas[0].telegram_group_id: must be a group's negative chat id`},
		{"bad lead", area("leads = [\"zhangsan\"]\n"), `areas[0].leads[0]: must be a person id`},
		{"bad phone", area("service_phone = \"call us\"\n"), `areas[0].service_phone: must be a phone number`},
		{"sla out of range", area("accept_within = \"30s\"\n"), `areas[0].accept_within: must be between 1m0s and 24h0m0s`},
		{"negative price", area("[areas.prices]\nLK01 = -1.0\n"), `areas[0].prices.LK01: must be a price in yuan`},
		{"duty names no area", area("") + "[[duty]]\ndays = [\"daily\"]\nfrom = \"08:00\"\nto = \"18:00\"\npeople = [\"tg:1\"]\narea = \"north\"\n", `duty[0].area: names area "north", which is not configured`},
		{"short poster secret", minimal + "[posters]\nsecret = \"${POSTER_SECRET}\"\n", `posters.secret: must be at least 16 characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("POSTER_SECRET", "short")
			_, err := config.Parse([]byte(tc.toml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
