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

// TestFaultTrees: the built-in trees code every default category (its own
// tree or the default one), in both languages; a file without trees gets
// the built-in ones, fault_coding = false turns the coding off, and a tree
// naming an unknown symptom or a bad code is refused.
func TestFaultTrees(t *testing.T) {
	s := sop.Default()
	if s.Faults == nil || len(s.Faults.Trees) < 6 || len(s.Faults.Causes) < 5 || len(s.Faults.Actions) < 5 {
		t.Fatalf("built-in trees %+v", s.Faults)
	}
	for _, cat := range []string{"water", "electricity", "door", "appliance", "public", "other"} {
		for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
			if got := flows.FaultLabel(s, cat, flows.FaultComponentLevel, "OTHER", l); got == "OTHER" || got == "" {
				t.Errorf("%s (%s): no labelled OTHER component", cat, l)
			}
		}
	}
	if got := flows.FaultLabel(s, "water", flows.FaultComponentLevel, "VALVE", flows.LangEN); got != "Angle valve / valve" {
		t.Errorf("valve in English: %q", got)
	}
	base := string(sop.DefaultTOML())
	cut := base[:strings.Index(base, "# 故障编码")]
	bare, err := sop.Parse([]byte(cut))
	if err != nil || bare.Faults == nil || len(bare.Faults.Trees) != len(s.Faults.Trees) {
		t.Fatalf("a file without trees: %v %+v", err, bare.Faults)
	}
	off, err := sop.Parse([]byte("fault_coding = false\n" + cut))
	if err != nil || off.Faults != nil {
		t.Fatalf("fault_coding = false: %v %+v", err, off.Faults)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown symptom", strings.Replace(base, `symptoms = ["LEAK", "DRIP", "STUCK", "BROKEN"]`, `symptoms = ["LEAK", "MELT"]`, 1), `unknown symptom "MELT"`},
		{"bad code", strings.Replace(base, `code = "WEAR"`, `code = "wear-out"`, 1), `code "wear-out"`},
		{"no english label", strings.Replace(base, `{ zh-CN = "老化磨损", en = "Wear / ageing" }`, `{ zh-CN = "老化磨损" }`, 1), "needs a label in zh-CN and en"},
		{"tree twice", base + "\n[[fault_trees]]\ncategory = \"water\"\ncomponents = [{ code = \"X\", label = { zh-CN = \"x\", en = \"x\" }, symptoms = [\"LEAK\"] }]\n", `category "water"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sop.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStepPhotos: any step may require photos (`photos = N`); a photo step
// needs at least one whether it says so or not; steps the resident's own
// answer moves on (entry, quote) cannot require one.
func TestStepPhotos(t *testing.T) {
	base := string(sop.DefaultTOML())
	work := "id = \"work\"\nkind = \"work\"\n"
	s, err := sop.Parse([]byte(strings.Replace(base, work, work+"photos = 2\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Steps {
		want := 0
		switch {
		case st.ID == "work":
			want = 2
		case st.Kind == flows.StepPhoto:
			want = 1
		}
		if got := st.MinPhotos(); got != want {
			t.Errorf("step %s needs %d photos, want %d", st.ID, got, want)
		}
	}
	entry := "id = \"entry\"\nkind = \"entry\"\n"
	protect := "id = \"protect\"\nkind = \"photo\"\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"photos at the entry", strings.Replace(base, entry, entry+"photos = 1\n", 1), `step "entry"`},
		{"a photo step without photos", strings.Replace(base, protect, protect+"photos = 0\n", 1), `step "protect"`},
		{"too many", strings.Replace(base, work, work+"photos = 11\n", 1), "photos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sop.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCareNotes: the typical care notes per category are part of the file
// (SOP 4.2.4); each needs an id, its texts and at most one category.
func TestCareNotes(t *testing.T) {
	s := sop.Default()
	cats := map[string]bool{}
	for _, n := range s.CareNotes {
		cats[n.Category] = true
		if n.Text[flows.LangZH] == "" || n.Text[flows.LangEN] == "" {
			t.Errorf("note %s lacks a text", n.ID)
		}
	}
	for _, c := range []string{"water", "electricity", "door", ""} {
		if !cats[c] {
			t.Errorf("no typical care note for category %q", c)
		}
	}
	base := string(sop.DefaultTOML())
	dup := "\n[[care_notes]]\nid = \"" + s.CareNotes[0].ID + "\"\ntext = { zh-CN = \"x\", en = \"x\" }\n"
	if _, err := sop.Parse([]byte(base + dup)); err == nil || !strings.Contains(err.Error(), "care note") {
		t.Fatalf("a duplicated care note id: %v", err)
	}
}
