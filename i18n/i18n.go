// Package i18n holds the bot's message catalogs: every user-facing string,
// in Simplified Chinese (the default) and English, loaded from TOML files
// embedded in the binary so translators edit text, not Go code.
package i18n

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/repairbot/repairbot/flows"
)

//go:embed *.toml
var files embed.FS

// Catalog maps language → key → template. Templates use {name} placeholders.
type Catalog struct {
	texts map[flows.Lang]map[string]string
	def   flows.Lang
}

var _ flows.Texts = (*Catalog)(nil)

// Load reads the embedded catalogs; def is the fallback language.
func Load(def flows.Lang) (*Catalog, error) {
	c := &Catalog{texts: map[flows.Lang]map[string]string{}, def: def}
	for lang, file := range map[flows.Lang]string{flows.LangZH: "zh-CN.toml", flows.LangEN: "en.toml"} {
		raw, err := files.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var tree map[string]any
		if _, err := toml.Decode(string(raw), &tree); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", file, err)
		}
		flat := map[string]string{}
		if err := flatten("", tree, flat); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", file, err)
		}
		c.texts[lang] = flat
	}
	if _, ok := c.texts[def]; !ok {
		return nil, fmt.Errorf("i18n: no catalog for default language %q", def)
	}
	return c, nil
}

// MustLoad is Load for programs and tests that cannot go on without texts.
func MustLoad(def flows.Lang) *Catalog {
	c, err := Load(def)
	if err != nil {
		panic(err)
	}
	return c
}

func flatten(prefix string, tree map[string]any, out map[string]string) error {
	for k, v := range tree {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("key %s: want a string, got %T", key, v)
		}
	}
	return nil
}

// T renders key in lang, falling back to the default language, and fills
// {name} placeholders from the name/value pairs in kv. A missing key renders
// as ⟦key⟧ so it is visible in tests and transcripts instead of silently empty.
func (c *Catalog) T(lang flows.Lang, key string, kv ...any) string {
	s, ok := c.texts[lang][key]
	if !ok {
		s, ok = c.texts[c.def][key]
	}
	if !ok {
		return "⟦" + key + "⟧"
	}
	if len(kv) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Has reports whether key exists in lang itself (no fallback).
func (c *Catalog) Has(lang flows.Lang, key string) bool {
	_, ok := c.texts[lang][key]
	return ok
}

// Keys lists the keys of one language, sorted.
func (c *Catalog) Keys(lang flows.Lang) []string {
	keys := make([]string, 0, len(c.texts[lang]))
	for k := range c.texts[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
