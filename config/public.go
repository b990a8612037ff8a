package config

import (
	"fmt"
)

// Public configures public-facility orders (公共设施设备维修单, SOP 4.3).
type Public struct {
	// Signoff is who signs a public work order off: "reporter" (default,
	// the resident who reported it) or "lead" (a team lead checks it).
	Signoff string `toml:"signoff"`
	// Assets are the listed public facilities a report can name with one
	// tap (lifts, gates, pumps...), as [[public.assets]] tables; a report
	// can always type the building, floor and area instead. Default none.
	Assets []PublicAsset `toml:"assets"`
}

// PublicAsset is one listed public facility.
type PublicAsset struct {
	// Key is the stable identifier stored on tickets:
	// ^[a-z][a-z0-9_]{0,15}$, unique.
	Key string `toml:"key"`
	// ZH is the Chinese name (required, at most 32 characters).
	ZH string `toml:"zh"`
	// EN is the English name (required, at most 32 characters).
	EN string `toml:"en"`
}

// Public sign-off values.
const (
	SignoffReporter = "reporter"
	SignoffLead     = "lead"
)

// maxPublicAssets bounds the buttons of the place question.
const maxPublicAssets = 30

func (c *Config) validatePublic(v *validator) {
	p := &c.Public
	v.oneOf("public.signoff", &p.Signoff, SignoffReporter, SignoffLead)
	if len(p.Assets) > maxPublicAssets {
		v.add("public.assets", "must have at most %d entries (got %d)", maxPublicAssets, len(p.Assets))
	}
	seen := map[string]int{}
	for i, a := range p.Assets {
		prefix := fmt.Sprintf("public.assets[%d].", i)
		v.tableKey(prefix, "public.assets", a.Key, i, seen)
		v.labels(prefix, a.ZH, a.EN, maxCategoryLabel)
	}
}

// publicStringFields are [public]'s strings, for ${NAME} expansion.
func (c *Config) publicStringFields() []stringField {
	f := []stringField{{"public.signoff", &c.Public.Signoff}}
	for i := range c.Public.Assets {
		a := &c.Public.Assets[i]
		f = append(f,
			stringField{fmt.Sprintf("public.assets[%d].key", i), &a.Key},
			stringField{fmt.Sprintf("public.assets[%d].zh", i), &a.ZH},
			stringField{fmt.Sprintf("public.assets[%d].en", i), &a.EN},
		)
	}
	return f
}
