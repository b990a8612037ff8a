package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// The demo is the newcomer's first command: it must play a complete repair
// in both languages and leave a database with the closed ticket.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"zh", []string{"报修已受理", "✋ 接单", "✎ 张师傅 (edited): 🔧", "已按 1/3", "✎ 张师傅 (buttons removed", "张师傅 已接单", "满意度 5/5", "需要：低压电工作业证",
			"(toast) 这项工作需要低压电工作业证；你还没有登记这个证——请联系班长。", "✅ 已为 张师傅 登记证书 CERT-00001", "演示完成",
			"已导入 2 个配件", "盘点 ST-1（总仓）已入账", "使用配件：P-VALVE 角阀 ×1 个"}},
		{"en", []string{"Report received", "✋ Accept", "✎ Tech Zhang (edited): 🔧", "rung 1/3", "✎ Tech Zhang (buttons removed", "accepted by Tech Zhang", "satisfaction 5/5", "Needs: low-voltage electrician certificate",
			"(toast) This job needs low-voltage electrician certificate; you have none recorded — ask your lead.",
			"✅ Certificate CERT-00001 recorded for Tech Zhang", "Demo complete",
			"Imported 2 parts", "Stocktake ST-1 (Main store) posted", "Parts used: P-VALVE Angle valve ×1 each"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			dir := t.TempDir()
			var out, errs bytes.Buffer
			if err := run([]string{"demo", "-lang", tc.lang, "-data", dir}, &out, &errs); err != nil {
				t.Fatalf("demo failed: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errs.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("transcript lacks %q", w)
				}
			}
			// The group sees building and unit only; room and phone go to the
			// technician privately after acceptance.
			for _, block := range groupBlocks(out.String()) {
				if strings.Contains(block, "13800138000") || strings.Contains(block, "1502") {
					t.Errorf("group card leaks the room or phone:\n%s", block)
				}
			}
			if strings.Contains(out.String(), "⟦") {
				t.Error("transcript has a missing catalog key")
			}
			if errs.Len() > 0 {
				t.Errorf("warnings during the demo:\n%s", errs.String())
			}
			st, err := store.Open(filepath.Join(dir, "repair.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = st.View(context.Background(), func(tx flows.Tx) error {
				open, err := tx.OpenTickets()
				// The repair is closed; the emergency of scene 7 has a
				// technician on site; the electrical job of scene 8 is
				// accepted once the lead recorded the certificate.
				if len(open) != 2 || open[0].Emergency != "water_leak" || open[0].State != flows.StateOnSite ||
					open[1].Category != "electricity" || open[1].State != flows.StateAccepted {
					t.Errorf("open tickets after the demo: %+v", open)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if s, _ := st.Stats(); s.Pending != 0 || s.Failed != 0 || s.Delivered == 0 {
				t.Errorf("outbox after the demo: %+v", s)
			}
		})
	}
}

func TestBadCommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[telegram]\ntokne = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown config key", []string{"-config", bad}, "telegram.tokne"},
		{"missing config file", []string{"-config", filepath.Join(dir, "nope.toml")}, "nope.toml"},
		{"unknown subcommand", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad demo language", []string{"demo", "-lang", "fr"}, "-lang must be zh or en"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(tc.args, &out, &errs)
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error() + errs.String(); !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

// groupBlocks returns the bot's messages to the group from a transcript.
func groupBlocks(transcript string) []string {
	var blocks []string
	var cur strings.Builder
	in := false
	for _, line := range strings.Split(transcript, "\n") {
		if !strings.HasPrefix(line, "      ") {
			if in {
				blocks = append(blocks, cur.String())
				cur.Reset()
			}
			in = strings.HasPrefix(line, "  🤖 → #") || strings.HasPrefix(line, "  🤖 ✎ #")
		}
		if in {
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}
