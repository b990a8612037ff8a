package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

// Every key exists in both languages, so no user ever sees the fallback.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	c := i18n.MustLoad(flows.LangZH)
	for _, pair := range [][2]flows.Lang{{flows.LangZH, flows.LangEN}, {flows.LangEN, flows.LangZH}} {
		for _, k := range c.Keys(pair[0]) {
			if !c.Has(pair[1], k) {
				t.Errorf("key %q is in %s but not in %s", k, pair[0], pair[1])
			}
		}
	}
	if n := len(c.Keys(flows.LangZH)); n < 150 {
		t.Errorf("only %d keys: catalog did not load fully", n)
	}
}

func TestPlaceholdersAndFallback(t *testing.T) {
	c := i18n.MustLoad(flows.LangZH)
	got := c.T(flows.LangEN, "status.accepted", "ticket", "BX-1", "name", "Li")
	if got != "👷 Ticket BX-1: technician Li accepted it and will contact you." {
		t.Fatalf("got %q", got)
	}
	if got := c.T("fr", "ok"); got != "好的" {
		t.Fatalf("unknown language should fall back to zh-CN, got %q", got)
	}
	if got := c.T(flows.LangZH, "no.such.key"); got != "⟦no.such.key⟧" {
		t.Fatalf("missing key rendered as %q", got)
	}
}

// Every catalog key the engine's code names exists in both languages (keys
// built at run time, ending in "." or "_", are covered by the rendering tests).
func TestEveryKeyUsedByFlowsExists(t *testing.T) {
	c := i18n.MustLoad(flows.LangZH)
	files, err := filepath.Glob("../flows/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no flows sources: %v", err)
	}
	re := regexp.MustCompile(`"((?:[a-z_]+\.)+[a-z_]+)"|"(ok|thanks)"`)
	notKey := regexp.MustCompile(`\.(db|go|toml|json|jpg|png)$|_$`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + m[2]
			if notKey.MatchString(key) {
				continue // a file name, or a prefix completed at run time
			}
			n++
			for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
				if !c.Has(l, key) {
					t.Errorf("%s: key %q missing in %s", filepath.Base(f), key, l)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("found only %d keys; the scan is broken", n)
	}
}
