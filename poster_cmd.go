package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/posters"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
)

// posterLockWait is how long `repairbot poster` waits for the bbolt
// file's lock before it draws from the configuration alone.
const posterLockWait = 500 * time.Millisecond

// posterCommand is `repairbot poster -area A -building 3栋`: the
// printable A4 PNG or PDF of a building's QR poster, whose deep link
// registers a resident with the area and the building chosen. It reads the
// configuration (the code is signed with [posters] secret) and the admins'
// edits of the areas from the store, opened read-only (posterAreas), so it
// shows what /poster shows and runs beside the running bot.
func posterCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("poster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.toml", "configuration file (TOML)")
	area := fs.String("area", "", "the [[areas]] key (default: the first area)")
	building := fs.String("building", "", "the building, as the area lists it (required)")
	out := fs.String("o", "", `output file (default "poster-<area>-<building>.<format>"; "-" for stdout)`)
	format := fs.String("format", "", `"png" or "pdf" (default: the -o file's extension, else png)`)
	lang := fs.String("lang", "", `poster language: "zh-CN" or "en" (default org.default_lang)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("poster: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := posterReady(cfg, strings.TrimSpace(*building)); err != nil {
		return err
	}
	areas, err := posterAreas(context.Background(), cfg, stderr)
	if err != nil {
		return err
	}
	spec, key, err := posterSpec(cfg, areas, *area, strings.TrimSpace(*building), *lang)
	if err != nil {
		return err
	}
	f := strings.ToLower(*format)
	if f == "" {
		f = "png"
		if strings.EqualFold(filepath.Ext(*out), ".pdf") {
			f = "pdf"
		}
	}
	draw := map[string]func(posters.Poster) ([]byte, error){"png": posters.PNG, "pdf": posters.PDF}[f]
	if draw == nil {
		return fmt.Errorf(`poster: -format must be "png" or "pdf" (got %q)`, *format)
	}
	img, err := draw(posters.Poster(spec))
	if err != nil {
		return err
	}
	name := *out
	if name == "" {
		name = "poster-" + key + "-" + spec.Building + "." + f
	}
	if name == "-" {
		_, err = stdout.Write(img)
		return err
	}
	if err := os.WriteFile(name, img, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s %s, %s → %s\n", name, spec.Area, spec.Building, spec.Footer, spec.Link)
	return nil
}

// posterReady checks what a poster needs before anything is read: the
// secret that signs its code, the bot's name for its link, a building.
func posterReady(cfg config.Config, building string) error {
	switch {
	case cfg.Posters.Secret == "":
		return errors.New("poster: [posters] secret is not set (POSTER_SECRET): posters are off")
	case cfg.Telegram.BotUsername == "":
		return errors.New("poster: telegram.bot_username is needed for the poster's link")
	case building == "":
		return errors.New("poster: -building is required")
	}
	return nil
}

// posterAreas are the configured areas with the admins' edits (/area in
// chat, the console's area page) laid over them as the engine lays them,
// so a name, a building list or a phone changed in chat is on the poster.
// A bbolt file the running bot holds cannot be read by another process:
// then the poster is drawn from the configuration alone, with a warning.
func posterAreas(ctx context.Context, cfg config.Config, stderr io.Writer) ([]config.Area, error) {
	list := slices.Clone(cfg.AreaList())
	edits, err := storedAreaEdits(ctx, cfg)
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "repairbot poster: warning: %s is locked by the running bot, so the areas' edits made in chat "+
			"or the console (/area) cannot be read: this poster has the configuration file's names, buildings and phones. "+
			"/poster in chat draws it with the edits; or stop the bot and run this again\n", cfg.Store.DBPath())
		return list, nil
	}
	if err != nil {
		return nil, fmt.Errorf("poster: read the areas' edits: %w", err)
	}
	if len(edits) == 0 {
		return list, nil
	}
	seed := make([]flows.Area, len(list))
	for i, a := range list {
		seed[i] = configArea(a)
	}
	edited, err := flows.AreasWithEdits(flows.Options{Areas: seed, MaxAddressPart: cfg.Limits.MaxAddressPart}, edits)
	if err != nil {
		return nil, fmt.Errorf("poster: %w", err)
	}
	for i, a := range edited {
		list[i].ZH, list[i].EN = a.Names[flows.LangZH], a.Names[flows.LangEN]
		list[i].Buildings, list[i].BuildingPattern = a.Buildings, ""
		list[i].ServicePhone = a.ServicePhone
	}
	return list, nil
}

// storedAreaEdits reads the admins' edits of the areas: from PostgreSQL
// (which any number of processes share), or from the bbolt file opened
// read-only — store.ErrLocked while the bot runs on it; none before the
// file exists.
func storedAreaEdits(ctx context.Context, cfg config.Config) ([]*flows.AreaEdit, error) {
	if cfg.Store.Postgres() {
		st, err := postgres.Open(ctx, cfg.Store.DSN, postgres.Options{MaxConns: 2})
		if err != nil {
			return nil, fmt.Errorf("store.dsn (%s): %w", config.RedactDSN(cfg.Store.DSN), err)
		}
		defer st.Close()
		var out []*flows.AreaEdit
		err = st.View(ctx, func(tx flows.Tx) error {
			var err error
			out, err = tx.AreaEdits()
			return err
		})
		return out, err
	}
	path := cfg.Store.DBPath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the bot never ran: nothing was edited
	}
	return store.ReadAreaEdits(path, posterLockWait)
}

// posterSpec checks the area and the building against the areas (the
// configuration's with the stored edits, posterAreas; posterReady has
// checked what comes before) and builds the
// poster's text and link (flows.PosterCode, as /poster), with the area's key.
func posterSpec(cfg config.Config, areas []config.Area, areaKey, building, lang string) (flows.PosterSpec, string, error) {
	if areaKey == "" {
		areaKey = areas[0].Key
	}
	i := slices.IndexFunc(areas, func(a config.Area) bool { return a.Key == areaKey })
	if i < 0 {
		var keys []string
		for _, a := range areas {
			keys = append(keys, a.Key)
		}
		return flows.PosterSpec{}, "", fmt.Errorf("poster: no area %q (areas: %s)", areaKey, strings.Join(keys, ", "))
	}
	a := areas[i]
	if list := a.BuildingList(); len(list) > 0 && !slices.Contains(list, building) {
		return flows.PosterSpec{}, "", fmt.Errorf("poster: area %q has no building %q (buildings: %s)", areaKey, building, strings.Join(list, ", "))
	}
	if lang == "" {
		lang = cfg.Org.DefaultLang
	}
	l := flows.Lang(lang)
	texts, err := i18n.Load(l)
	if err != nil {
		return flows.PosterSpec{}, "", err
	}
	name, phone := a.ZH, a.ServicePhone
	if l == flows.LangEN {
		name = a.EN
	}
	if phone == "" {
		phone = cfg.Org.ServicePhone
	}
	if phone == "" {
		phone = texts.T(l, "visit.service_centre")
	}
	code := flows.PosterCode([]byte(cfg.Posters.Secret), a.Key, building)
	return flows.PosterSpec{Org: cfg.Org.Name, Area: name, Building: building, Call: texts.T(l, "posters.call"),
		Link: "https://t.me/" + cfg.Telegram.BotUsername + "?start=" + code, Footer: texts.T(l, "posters.footer", "phone", phone)}, a.Key, nil
}

// posterImage draws /poster's PNG for the exports' renderer (records.Options.Poster).
func posterImage(s flows.PosterSpec) ([]byte, error) {
	return posters.PNG(posters.Poster(s))
}

// posterPDF draws /poster's PDF for the exports' renderer (records.Options.PosterPDF).
func posterPDF(s flows.PosterSpec) ([]byte, error) {
	return posters.PDF(posters.Poster(s))
}
