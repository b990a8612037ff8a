package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/posters"
)

// posterCommand is `repairbot poster -area A -building 3栋`: the
// printable A4 PNG or PDF of a building's QR poster, whose deep link
// registers a resident with the area and the building chosen. It reads only the
// configuration (the code is signed with [posters] secret), so it runs
// beside the running bot.
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
	spec, key, err := posterSpec(cfg, *area, strings.TrimSpace(*building), *lang)
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
	fmt.Fprintf(stdout, "wrote %s: %s %s → %s\n", name, spec.Area, spec.Building, spec.Link)
	return nil
}

// posterSpec checks the area and the building against the configuration
// and builds the poster's text and link (flows.PosterCode, as /poster),
// with the area's key.
func posterSpec(cfg config.Config, areaKey, building, lang string) (flows.PosterSpec, string, error) {
	if cfg.Posters.Secret == "" {
		return flows.PosterSpec{}, "", errors.New("poster: [posters] secret is not set (POSTER_SECRET): posters are off")
	}
	if cfg.Telegram.BotUsername == "" {
		return flows.PosterSpec{}, "", errors.New("poster: telegram.bot_username is needed for the poster's link")
	}
	if building == "" {
		return flows.PosterSpec{}, "", errors.New("poster: -building is required")
	}
	areas := cfg.AreaList()
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
