package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
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

// TestPosterCommandReadsTheAreaEdits: `repairbot poster` draws an area as
// the admins edited it in chat (/area: its name, its buildings, its
// phone), read from the store as /poster reads them; while the running
// bot holds the bbolt file it says so and draws from the configuration;
// on PostgreSQL it reads the edits beside the running bot.
func TestPosterCommandReadsTheAreaEdits(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789")
	const secret = "0123456789abcdef-poster"
	t.Setenv("POSTER_SECRET", secret)
	edit := &flows.AreaEdit{Area: "east", Fields: map[string]string{"zh": "东湖苑", "buildings": "{1..14}栋", "phone": "0571-8888-2222",
		"price.W02": "88.5"}} // a price needs the SOP, which the command has not: left out
	put := func(t *testing.T, st flows.Store) {
		t.Helper()
		if err := st.Update(t.Context(), func(tx flows.Tx) error { return tx.PutAreaEdit(edit) }); err != nil {
			t.Fatal(err)
		}
	}
	poster := func(t *testing.T, cfgPath, building string) (string, string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run([]string{"poster", "-config", cfgPath, "-area", "east", "-building", building, "-o", filepath.Join(t.TempDir(), "p.png")}, &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}
	edited := func(t *testing.T, cfgPath string) {
		t.Helper()
		out, errs, err := poster(t, cfgPath, "13栋") // a building only the edit lists
		if err != nil {
			t.Fatalf("%v\n%s", err, errs)
		}
		if !strings.Contains(out, "东湖苑 13栋") || !strings.Contains(out, "0571-8888-2222") || errs != "" {
			t.Fatalf("the poster is not the edited area's:\n%s\n%s", out, errs)
		}
		i := strings.Index(out, "start=")
		if a, b, ok := flows.ReadPosterCode([]byte(secret), strings.Fields(out[i+len("start="):])[0]); !ok || a != "east" || b != "13栋" {
			t.Fatalf("the link reads as %q %q %v", a, b, ok)
		}
	}

	t.Run("bbolt", func(t *testing.T) {
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfgPath, []byte(posterConfig+"[store]\ndata_dir = \""+dir+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(cfg.Store.DBPath(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		put(t, st)
		// The bot holds the file: the configuration's area, with a warning.
		out, errs, err := poster(t, cfgPath, "3栋")
		if err != nil || !strings.Contains(out, "东苑小区 3栋") || !strings.Contains(errs, "is locked by the running bot") ||
			!strings.Contains(errs, "the configuration file's names, buildings and phones") {
			t.Errorf("with the file held: %v\n%s\n%s", err, out, errs)
		}
		if _, _, err := poster(t, cfgPath, "13栋"); err == nil || !strings.Contains(err.Error(), `has no building "13栋"`) {
			t.Errorf("with the file held, the edit's building: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		edited(t, cfgPath) // the bot stopped: the edits, the file untouched
		if _, err := store.Verify(cfg.Store.DBPath(), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgstoretest.DSN(t) // skipped without a server (REPAIRBOT_PG_DSN)
		t.Setenv("DATABASE_URL", dsn)
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfgPath, []byte(posterConfig+"[store]\ndriver = \"postgres\"\ndata_dir = \""+dir+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		put(t, st) // the running bot's store stays open
		edited(t, cfgPath)
	})
}
