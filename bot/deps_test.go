package bot_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// adapters are the packages that must reach the store only through
// interfaces (flows.Store, outbox.Queue and their own small ones): every
// channel under bot/, the schedules, the ops endpoint and the records
// renderer the channels' senders call.
var adapters = []string{
	"github.com/repairbot/repairbot/bot/...",
	"github.com/repairbot/repairbot/jobs",
	"github.com/repairbot/repairbot/ops",
	"github.com/repairbot/repairbot/records",
}

// forbidden reports whether an import path is a concrete store.
func forbidden(path string) bool {
	const st = "github.com/repairbot/repairbot/store"
	return path == st || strings.HasPrefix(path, st+"/") || path == "go.etcd.io/bbolt" || strings.HasPrefix(path, "go.etcd.io/bbolt/")
}

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(p); err != nil {
		t.Skipf("no go command to list dependencies with: %v", err)
	}
	return p
}

// goList runs go list with a template over the adapters and returns one
// line per package: its import path, then the paths the template lists.
func goList(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	cmd := exec.Command(goTool(t), append(append([]string{"list"}, args...), adapters...)...)
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("go list: %s", msg)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			pkgs[f[0]] = f[1:]
		}
	}
	return pkgs
}

// TestAdaptersDoNotImportAStore holds the channel contract (doc.go) and
// DESIGN.md to their word: no adapter's production code depends on a
// concrete store or on bbolt, directly or through another package, and
// their test files do not import one either (they open it through
// internal/testkit). A second store can then replace bbolt without
// editing a channel.
func TestAdaptersDoNotImportAStore(t *testing.T) {
	deps := goList(t, "-f", `{{.ImportPath}} {{join .Deps " "}}`)
	for _, must := range []string{"github.com/repairbot/repairbot/bot/telegram", "github.com/repairbot/repairbot/bot/wecom", "github.com/repairbot/repairbot/bot/web",
		"github.com/repairbot/repairbot/jobs", "github.com/repairbot/repairbot/ops", "github.com/repairbot/repairbot/records"} {
		if _, ok := deps[must]; !ok {
			t.Fatalf("go list did not list %s (got %d packages): the check would prove nothing", must, len(deps))
		}
	}
	for pkg, ds := range deps {
		for _, d := range ds {
			if forbidden(d) {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
	tests := goList(t, "-f", `{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}`)
	for pkg, imps := range tests {
		for _, imp := range imps {
			if forbidden(imp) {
				t.Errorf("a test file of %s imports %s (open the store with internal/testkit)", pkg, imp)
			}
		}
	}
}
