package config

import (
	"strconv"
	"strings"
)

// Parts configures the spare-parts area (配件管理).
type Parts struct {
	// ApprovalOver is the value, in yuan, above which a technician's
	// requisition for a job waits for a lead's approval in chat ("0"
	// never asks). Default "500.00"; at most 100000.
	ApprovalOver string `toml:"approval_over"`
}

// DefaultParts is the built-in spare-parts configuration.
func DefaultParts() Parts { return Parts{ApprovalOver: "500.00"} }

// ApprovalOverFen is ApprovalOver in fen (1/100 yuan); 0 for a value that
// does not parse (Validate reports it).
func (p Parts) ApprovalOverFen() int64 {
	v, _ := parseYuan(p.ApprovalOver)
	return v
}

// parseYuan reads "500", "500.5" or "500.50" as fen.
func parseYuan(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 9 || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, true
}

func (c *Config) validateParts(v *validator) {
	fen, ok := parseYuan(c.Parts.ApprovalOver)
	if !ok || fen > 100_000_00 {
		v.add("parts.approval_over", "must be an amount in yuan from 0 to 100000 with at most two decimals, e.g. \"500.00\" (got %q)", c.Parts.ApprovalOver)
	}
}
