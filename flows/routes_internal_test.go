package flows

// An internal test: the routing tables are unexported.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestCommandRows: every command is one row (a subcommand one more), each
// with a handler and a refusal; menus list only whole commands.
func TestCommandRows(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Commands {
		name := strings.TrimSpace(c.Name + " " + c.Arg)
		if seen[name] {
			t.Errorf("/%s has two rows", name)
		}
		seen[name] = true
		if c.run == nil {
			t.Errorf("/%s has no handler", name)
		}
		if !c.Open && c.Deny == "" {
			t.Errorf("/%s refuses without an answer", name)
		}
		switch {
		case c.Arg == "" && c.Key == "":
			t.Errorf("/%s has no menu text", name)
		case c.Arg != "" && (len(c.Menus) > 0 || !seen[c.Name]):
			t.Errorf("/%s: a subcommand follows its command's row and has no menu of its own", name)
		}
	}
}

// TestButtonRows: every ticket action of the state machine has a handler
// (a button's, or a console row's for an action whose input is a form)
// and nothing else does; the other verbs do not shadow an action.
func TestButtonRows(t *testing.T) {
	inConsole := map[Action]bool{}
	for name, row := range consoleActions {
		switch {
		case row.Verb != "":
			// The chat button's row is its refusal, and its handler unless it has its own.
			if v, ok := verbs[row.Verb]; !ok || (row.run == nil && len(row.Fields) != len(v.args.fixed)) {
				t.Errorf("console action %q names verb %q, which has no row or takes other arguments than its fields", name, row.Verb)
			}
		case row.Cmd != "":
			cmdName, arg, _ := strings.Cut(row.Cmd, " ")
			if cmd, sub := findCommand(cmdName, arg); cmd == nil || (arg != "" && sub == nil) || row.run == nil {
				t.Errorf("console action %q names command %q, which has no row, or has no handler", name, row.Cmd)
			}
		case row.run == nil || (row.Act == "" && !row.Open && row.Deny == ""):
			t.Errorf("console action %q: handler %v, refusal %q", name, row.run != nil, row.Deny)
		}
		if row.Act != "" {
			if _, ok := Transitions[row.Act]; !ok {
				t.Errorf("console action %q names %q, which has no transition", name, row.Act)
			}
			inConsole[row.Act] = true
		}
	}
	for a := range Transitions {
		if actions[a].run == nil && !inConsole[a] {
			t.Errorf("action %q has a transition but no handler", a)
		}
	}
	for a := range actions {
		if _, ok := Transitions[a]; !ok {
			t.Errorf("action %q has a handler but no transition", a)
		}
		if _, ok := verbs[string(a)]; ok {
			t.Errorf("verb %q is also a ticket action", a)
		}
	}
	for name, v := range verbs {
		if v.run == nil || (!v.Open && v.Deny == "") {
			t.Errorf("verb %q: handler %v, refusal %q", name, v.run != nil, v.Deny)
		}
	}
}

// TestEveryKindRoutedOnce reads the package's source: every dialogue
// kind, timer kind and button verb constant is a row of its table, and no
// switch outside the tables dispatches on one of them (or on a command
// or an action) — a new kind is a row, never a new case.
func TestEveryKindRoutedOnce(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{} // constant name -> value
	var parsed []*ast.File
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	routed := map[string]bool{} // names that must not be a case anywhere
	check := func(prefix string, has func(string) bool, what string) {
		var names []string
		for n := range consts {
			if strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			t.Fatalf("no %s constants found", what)
		}
		for _, n := range names {
			routed[n] = true
			if !has(consts[n]) {
				t.Errorf("%s %s (%q) has no row in its table", what, n, consts[n])
			}
		}
	}
	check("dlg", func(v string) bool { _, ok := dialogues[v]; return ok }, "dialogue kind")
	check("tm", func(v string) bool { _, ok := timerKinds[v]; return ok }, "timer kind")
	check("vb", func(v string) bool { _, ok := verbs[v]; return ok }, "verb")
	check("Console", func(v string) bool { _, ok := consoleActions[v]; return ok }, "console action")
	if len(dialogues) != countPrefix(consts, "dlg") || len(timerKinds) != countPrefix(consts, "tm") || len(verbs) != countPrefix(consts, "vb") ||
		len(consoleActions) != countPrefix(consts, "Console") {
		t.Errorf("a table has a row without its constant: %d dialogues, %d timers, %d verbs, %d console actions",
			len(dialogues), len(timerKinds), len(verbs), len(consoleActions))
	}
	for a := range actions {
		for n, v := range consts {
			if strings.HasPrefix(n, "Act") && v == string(a) {
				routed[n] = true
			}
		}
	}
	literals := map[string]bool{}
	for _, c := range Commands {
		literals[c.Name] = true
	}
	for n := range routed {
		literals[consts[n]] = true
	}
	for i, af := range parsed {
		if auditReaders[files[i]] {
			continue
		}
		ast.Inspect(af, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				ast.Inspect(e, func(n ast.Node) bool {
					switch x := n.(type) {
					case *ast.Ident:
						if routed[x.Name] {
							t.Errorf("%s: a switch dispatches on %s; make it a row of the routing tables", fset.Position(x.Pos()), x.Name)
						}
					case *ast.BasicLit:
						if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING && literals[v] {
							t.Errorf("%s: a switch dispatches on %q; make it a row of the routing tables", fset.Position(x.Pos()), v)
						}
					}
					return true
				})
			}
			return true
		})
	}
}

// auditReaders fold a ticket's past audit trail into figures (KPIs):
// their cases name actions that happened, they do not dispatch handlers.
var auditReaders = map[string]bool{"kpi.go": true}

func countPrefix(consts map[string]string, prefix string) int {
	n := 0
	for k := range consts {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
