package config_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
