package flows_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/sop"
)

// TestSOPReloadKeepsConsoleChanges: a price changed in the console makes
// a version the SOP file does not have. /sop reload, a restart and a
// review's close from the file do not silently undo it: reload answers
// with what the file lacks and how to keep it or drop it, a restart keeps
// it in force; once the file has it, reload installs the file; /sop
// reload force installs the file as it is and says what it undid.
func TestSOPReloadKeepsConsoleChanges(t *testing.T) {
	w, _ := consoleWorld(t)
	file := sop.Default()
	w.SOPFile = func() (*flows.SOP, error) { return file, nil }
	versions := func() []flows.SOPVersion {
		var vs []flows.SOPVersion
		_ = w.Store.View(t.Context(), func(tx flows.Tx) error { vs, _ = tx.SOPVersions(); return nil })
		return vs
	}
	inForce := func(code string) int64 {
		for _, p := range w.Eng.SOP().Prices {
			if p.Code == code {
				return p.Cents
			}
		}
		return -1
	}
	code := file.Prices[0].Code
	fileCents := file.Prices[0].Cents
	okResult(t, w.Console(lead, flows.ConsolePriceSet, "", map[string]string{"code": code, "price": "123.45"}))
	w.Drain()
	vs := versions()
	if last := vs[len(vs)-1]; last.Source != flows.SourceConsole || inForce(code) != 12345 {
		t.Fatalf("console version %+v, price in force %d", last, inForce(code))
	}
	n := len(vs)

	t.Run("reload refuses and shows the difference", func(t *testing.T) {
		w.Cmd(lead, "sop", "reload")
		reply := w.Last(w.Drain(), lead.Chat()).Text
		for _, want := range []string{"未重新加载", code, flows.Money(fileCents) + " → ¥123.45", "/sop reload force", "写进规程文件"} {
			contains(t, reply, want)
		}
		if len(versions()) != n || inForce(code) != 12345 {
			t.Fatalf("reload undid the console's change: %d versions, price %d", len(versions()), inForce(code))
		}
	})
	t.Run("a restart keeps it in force", func(t *testing.T) {
		_, _, err := w.Eng.InstallSOP(t.Context(), sop.Default(), "config:sop.toml")
		var lacks *flows.SOPFileLacks
		if !errors.As(err, &lacks) || lacks.Version != n || len(lacks.Changes) != 1 || !strings.HasPrefix(lacks.Changes[0].What, code) {
			t.Fatalf("start-up install: %v", err)
		}
		w.Reopen()
		if len(versions()) != n || inForce(code) != 12345 || !strings.Contains(w.Eng.SOPLabel(), "v"+itoa(n)) {
			t.Fatalf("after a restart: %d versions, price %d, %s", len(versions()), inForce(code), w.Eng.SOPLabel())
		}
	})
	t.Run("an unrelated edit of the file is refused too", func(t *testing.T) {
		other := *sop.Default()
		other.MinTests++
		file = &other
		w.Cmd(lead, "sop", "reload")
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "未重新加载")
		if len(versions()) != n {
			t.Fatal("installed")
		}
	})
	t.Run("once the file has it, reload installs the file", func(t *testing.T) {
		edited := *sop.Default()
		edited.Prices = append([]flows.PriceItem(nil), edited.Prices...)
		edited.Prices[0].Cents = 12345
		edited.MinTests++
		file = &edited
		w.Cmd(lead, "sop", "reload")
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "已登记新版本")
		vs := versions()
		if len(vs) != n+1 || vs[len(vs)-1].Source != "" || inForce(code) != 12345 {
			t.Fatalf("versions %d, last %+v, price %d", len(vs), vs[len(vs)-1].Source, inForce(code))
		}
		n++
	})
	t.Run("reload force undoes it and says so", func(t *testing.T) {
		okResult(t, w.Console(lead, flows.ConsolePriceSet, "", map[string]string{"code": code, "price": "99"}))
		w.Drain()
		n++
		w.Cmd(tech, "sop", "reload force")
		contains(t, w.Last(w.Drain(), tech.Chat()).Text, "只有主管")
		w.Cmd(lead, "sop", "reload force")
		reply := w.Last(w.Drain(), lead.Chat()).Text
		contains(t, reply, "已按文件改回")
		contains(t, reply, "¥123.45 → ¥99.00")
		if len(versions()) != n+1 || inForce(code) != 12345 {
			t.Fatalf("versions %d, price %d", len(versions()), inForce(code))
		}
		w.Cmd(lead, "sop", "reload")
		contains(t, w.Last(w.Drain(), lead.Chat()).Text, "没有变化")
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
