package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
)

const posterConfig = `[telegram]
group_id = -1001234567890
admins = [123456789]
bot_username = "sunny_repair_bot"
[[areas]]
key = "east"
zh = "东苑小区"
en = "East Garden"
building_pattern = "{1..12}栋"
[posters]
secret = "${POSTER_SECRET}"
`

// TestPosterCommand: `repairbot poster` writes the building's PNG whose
// link the bot reads back as that building; a building the area does not
// list, an unknown area and a file without a secret are refused.
func TestPosterCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(posterConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	const secret = "0123456789abcdef-poster"
	t.Setenv("POSTER_SECRET", secret)
	out := filepath.Join(dir, "p.png")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"poster", "-config", cfgPath, "-area", "east", "-building", "3栋", "-o", out}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	i := strings.Index(stdout.String(), "start=")
	if i < 0 {
		t.Fatalf("no link in %q", stdout.String())
	}
	code := strings.Fields(stdout.String()[i+len("start="):])[0]
	if a, b, ok := flows.ReadPosterCode([]byte(secret), code); !ok || a != "east" || b != "3栋" {
		t.Fatalf("the link reads as %q %q %v", a, b, ok)
	}
	// The PDF, by the file's extension or -format.
	for _, args := range [][]string{{"-o", filepath.Join(dir, "p.pdf")}, {"-format", "pdf", "-o", filepath.Join(dir, "p2")}} {
		if err := run(append([]string{"poster", "-config", cfgPath, "-area", "east", "-building", "3栋"}, args...), &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		data, err := os.ReadFile(args[len(args)-1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("/FontFile2")) {
			t.Fatalf("%v: not a PDF with its font: %q", args, data[:min(16, len(data))])
		}
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unlisted building": {[]string{"-area", "east", "-building", "13栋"}, `has no building "13栋"`},
		"unknown area":      {[]string{"-area", "west", "-building", "1栋"}, `no area "west"`},
		"no building":       {[]string{"-area", "east"}, "-building is required"},
		"unknown format":    {[]string{"-area", "east", "-building", "3栋", "-format", "svg"}, `-format must be "png" or "pdf"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(append([]string{"poster", "-config", cfgPath, "-o", filepath.Join(dir, "x.png")}, c.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	t.Run("no secret", func(t *testing.T) {
		t.Setenv("POSTER_SECRET", "")
		err := run([]string{"poster", "-config", cfgPath, "-building", "3栋", "-o", filepath.Join(dir, "y.png")}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "posters are off") {
			t.Fatalf("error %v", err)
		}
	})
}
