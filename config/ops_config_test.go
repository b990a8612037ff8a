package config_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

// [backup] and [ops]: the example shows the defaults, and bad values are
// reported naming the key.
func TestBackupAndOpsConfig(t *testing.T) {
	cleanEnv(t)
	ex, err := config.Load(examplePth)
	if err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	def.ExpandEnv()
	if !reflect.DeepEqual(ex.Backup, def.Backup) || !reflect.DeepEqual(ex.Ops, def.Ops) {
		t.Errorf("example differs from defaults: %+v %+v, want %+v %+v", ex.Backup, ex.Ops, def.Backup, def.Ops)
	}
	if def.Backup.Schedule != "30 3 * * *" || def.Backup.Keep != 7 || def.Backup.Dir != "" || def.Ops.Listen != "" {
		t.Errorf("defaults: %+v %+v", def.Backup, def.Ops)
	}
	if got, want := ex.BackupDir(), filepath.Join("data", "backups"); got != want {
		t.Errorf("BackupDir = %q, want %q", got, want)
	}

	ok, err := config.Parse([]byte(minimal + "[backup]\ndir = \"/srv/bk\"\nschedule = \"@daily\"\nkeep = 30\n[ops]\nlisten = \"127.0.0.1:9090\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ok.BackupDir() != "/srv/bk" || ok.Ops.Listen != "127.0.0.1:9090" {
		t.Errorf("%+v %+v", ok.Backup, ok.Ops)
	}

	for _, tc := range []struct{ toml, want string }{
		{"[backup]\nschedule = \"30 25 * * *\"\n", "config: backup.schedule: must be a cron spec"},
		{"[backup]\nschedule = \"every night\"\n", "config: backup.schedule: must be a cron spec"},
		{"[backup]\nschedule = \"\"\n", "config: backup.schedule: is required"},
		{"[backup]\nkeep = 0\n", "config: backup.keep: must be between 1 and 365 (got 0)"},
		{"[backup]\nkeep = 366\n", "config: backup.keep: must be between 1 and 365"},
		{"[backup]\nkeeep = 3\n", "config: backup.keeep: unknown key"},
		{"[ops]\nlisten = \"9090\"\n", "config: ops.listen: must be host:port"},
		{"[ops]\nlisten = \"localhost:http-alt\"\n", "config: ops.listen: must have a numeric port"},
	} {
		_, err := config.Parse([]byte(minimal + tc.toml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.toml, err, tc.want)
		}
	}

	t.Setenv("OPS_ADDR", "127.0.0.1:9100")
	env, err := config.Parse([]byte(minimal + "[ops]\nlisten = \"${OPS_ADDR}\"\n"))
	if err != nil || env.Ops.Listen != "127.0.0.1:9100" {
		t.Fatalf("%+v %v", env.Ops, err)
	}
}

// [ops] guards what writes: a listen address beyond this machine needs
// allow_remote, the token comes from the environment only and is long
// enough, and it is never echoed.
func TestOpsListenAndToken(t *testing.T) {
	cleanEnv(t)
	const secret = "s3cr3t-0ps-t0ken-from-env"
	t.Setenv("OPS_TOKEN", secret)
	t.Setenv("SHORT_TOKEN", "short")
	for _, tc := range []struct {
		name, toml, want string // want "" = accepted
	}{
		{"loopback v4", "listen = \"127.0.0.1:9090\"\n", ""},
		{"loopback name", "listen = \"localhost:9090\"\n", ""},
		{"loopback v6", "listen = \"[::1]:9090\"\n", ""},
		{"every interface", "listen = \":9090\"\n", "config: ops.listen: \":9090\" serves beyond this machine"},
		{"0.0.0.0", "listen = \"0.0.0.0:9090\"\n", "ops.allow_remote = true"},
		{"a LAN address", "listen = \"192.168.1.10:9090\"\n", "config: ops.listen: \"192.168.1.10:9090\" serves beyond"},
		{"remote allowed", "listen = \"0.0.0.0:9090\"\nallow_remote = true\n", ""},
		{"token from the environment", "token = \"${OPS_TOKEN}\"\n", ""},
		{"no token", "token = \"\"\n", ""},
		{"token spelled out in the file", "token = \"" + secret + "\"\n", "config: ops.token: must come from the environment, not the file"},
		{"token too short", "token = \"${SHORT_TOKEN}\"\n", "config: ops.token: must be at least 16 characters (got 5)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(minimal + "[ops]\n" + tc.toml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the token is echoed: %v", err)
			}
		})
	}
	cfg, err := config.Parse([]byte(minimal + "[ops]\nlisten = \"127.0.0.1:9090\"\n"))
	if err != nil || cfg.Ops.Token != secret {
		t.Fatalf("default token: %q %v", cfg.Ops.Token, err)
	}
	if r := cfg.Redacted(); r.Ops.Token != "***" {
		t.Fatalf("not redacted: %q", r.Ops.Token)
	}
}

// A Config built in code and validated without ExpandEnv (the demo) keeps
// the default "${OPS_TOKEN}": fine while the endpoint is off, refused when
// it would become the endpoint's token.
func TestOpsTokenNeverExpanded(t *testing.T) {
	cleanEnv(t)
	cfg := config.Default()
	cfg.Telegram.Token = testToken
	cfg.Telegram.GroupID = -1001234567890
	cfg.Telegram.Admins = []int64{123456789}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("ops off: %v", err)
	}
	cfg.Ops.Listen = "127.0.0.1:9090"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "config: ops.token: references ${OPS_TOKEN}, which was never expanded") {
		t.Fatalf("ops on: %v", err)
	}
}

// The health thresholds: free disk in MiB (0 turns the check off) and how
// long a queue may hold messages and deliver nothing.
func TestOpsHealthThresholds(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name, toml, want string // want "" = accepted
	}{
		{"defaults", "", ""},
		{"disk check off", "min_free_mb = 0\n", ""},
		{"negative free space", "min_free_mb = -1\n", "config: ops.min_free_mb: must be between 0 (off) and 1048576 MiB (got -1)"},
		{"a petabyte", "min_free_mb = 2000000\n", "config: ops.min_free_mb: must be between 0 (off) and 1048576 MiB (got 2000000)"},
		{"stall too short", "outbox_stall = \"10s\"\n", "config: ops.outbox_stall:"},
		{"stall too long", "outbox_stall = \"48h\"\n", "config: ops.outbox_stall:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(minimal + "[ops]\n" + tc.toml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.toml == "" && (cfg.Ops.MinFreeMB != 256 || cfg.Ops.OutboxStall.Duration != 10*time.Minute) {
					t.Fatalf("defaults %+v", cfg.Ops)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// [housekeeping] and the photo allowance are checked like every limit.
func TestHousekeepingLimits(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name, toml, want string // want "" = accepted
	}{
		{"defaults", "", ""},
		{"a year", "[housekeeping]\nkeep_failed = \"8760h\"\n", ""},
		{"an hour", "[housekeeping]\nidle_dialogue = \"1h\"\n", "config: housekeeping.idle_dialogue:"},
		{"too long", "[housekeeping]\nkeep_invites = \"9000h\"\n", "config: housekeeping.keep_invites:"},
		{"an orphan sweep within hours", "[housekeeping]\norphan_media = \"2h\"\n", "config: housekeeping.orphan_media:"},
		{"no photos an hour", "[limits]\nmax_photos_per_hour = 0\n", "config: limits.max_photos_per_hour:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(minimal + tc.toml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.toml == "" && (cfg.Housekeeping.KeepFailed.Duration != 720*time.Hour || cfg.Limits.MaxPhotosPerHour != 30) {
					t.Fatalf("defaults %+v %d", cfg.Housekeeping, cfg.Limits.MaxPhotosPerHour)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
