package config_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
)

func TestPublic(t *testing.T) {
	cleanEnv(t)
	ok := minimal + "\n[public]\nsignoff = \"Lead\"\n[[public.assets]]\nkey = \"lift_1\"\nzh = \"1号楼电梯\"\nen = \"Lift 1\"\n"
	cfg, err := config.Parse([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Public.Signoff != config.SignoffLead || len(cfg.Public.Assets) != 1 || cfg.Public.Assets[0].ZH != "1号楼电梯" {
		t.Fatalf("public %+v", cfg.Public)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"signoff", "\n[public]\nsignoff = \"tenant\"\n", "public.signoff: must be \"reporter\" or \"lead\""},
		{"asset key", "\n[[public.assets]]\nkey = \"Lift\"\nzh = \"电梯\"\nen = \"Lift\"\n", "public.assets[0].key"},
		{"duplicate", "\n[[public.assets]]\nkey = \"gate\"\nzh = \"门\"\nen = \"Gate\"\n[[public.assets]]\nkey = \"gate\"\nzh = \"门\"\nen = \"Gate\"\n", "duplicate key \"gate\""},
		{"no name", "\n[[public.assets]]\nkey = \"gate\"\nzh = \"门\"\n", "public.assets[0].en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(minimal + tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
