package sop_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/sop"
)

func TestDefaultFollowsTheSOP(t *testing.T) {
	s := sop.Default()
	if s.MaxRings != 3 || s.MaxKnocks != 5 || s.MinTests != 3 {
		t.Fatalf("door/test limits %d/%d/%d differ from SOP 4.1.2 and 4.2.4", s.MaxRings, s.MaxKnocks, s.MinTests)
	}
	var kinds []string
	for _, st := range s.Steps {
		kinds = append(kinds, string(st.Kind))
	}
	if got := strings.Join(kinds, ","); got != "door,entry,survey,quote,photo,work,photo,tests,care,signoff" {
		t.Fatalf("steps %s", got)
	}
	if len(s.Prices) < 5 {
		t.Fatal("price list missing")
	}
	if p := s.Prices[0]; p.Cents != 3000 {
		t.Fatalf("W01 = %d fen", p.Cents)
	}
}

func TestParseRejects(t *testing.T) {
	base := string(sop.DefaultTOML())
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown key", "foo = 1\n" + base, "unknown keys: foo"},
		{"bad price", strings.Replace(base, `price = "30.00"`, `price = "30.001"`, 1), "at most two decimals"},
		{"no version", strings.Replace(base, `version = "2026.2"`, `version = ""`, 1), "version is required"},
		{"zero tests", strings.Replace(base, "min_tests = 3", "min_tests = 0", 1), "min_tests"},
		{"unknown kind", strings.Replace(base, `kind = "care"`, `kind = "dance"`, 1), `unknown kind "dance"`},
		{"duplicate price", base + "\n[[prices]]\ncode = \"W01\"\nname = { zh-CN = \"x\", en = \"x\" }\nunit = { zh-CN = \"x\", en = \"x\" }\nprice = \"1\"\n", "duplicated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sop.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := sop.Load(t.TempDir() + "/sop.toml"); err == nil || !strings.Contains(err.Error(), "sop.toml") {
		t.Fatalf("a configured but missing file must fail, got %v", err)
	}
	s, err := sop.Load("")
	if err != nil || s.Version != sop.Default().Version {
		t.Fatalf("%v %v", s, err)
	}
	if flows.Money(12345) != "¥123.45" {
		t.Fatal(flows.Money(12345))
	}
}
