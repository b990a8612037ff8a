package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

// TestWebConfig: the console is off by default; on, it stays on loopback
// unless allowed, needs a public URL that is https (or http on
// localhost), and a session lifetime in range.
func TestWebConfig(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Web.Listen != "" || cfg.ConsoleURL() != "" || cfg.Web.SessionTTL.Duration != 12*time.Hour {
		t.Fatalf("defaults: %+v", cfg.Web)
	}
	for _, tc := range []struct {
		name, toml, want string
	}{
		{"loopback with an https URL", "listen = \"127.0.0.1:8080\"\npublic_url = \"https://repair.example.com/console/\"\n", ""},
		{"localhost over http", "listen = \"localhost:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n", ""},
		{"every interface", "listen = \":8080\"\npublic_url = \"https://repair.example.com\"\n", "web.listen"},
		{"a LAN address", "listen = \"192.168.1.5:8080\"\npublic_url = \"https://repair.example.com\"\n", "web.allow_remote"},
		{"allowed remote", "listen = \"0.0.0.0:8080\"\nallow_remote = true\npublic_url = \"https://repair.example.com\"\n", ""},
		{"no port", "listen = \"127.0.0.1\"\npublic_url = \"https://repair.example.com\"\n", "web.listen"},
		{"no public URL", "listen = \"127.0.0.1:8080\"\n", "web.public_url"},
		{"plain http beyond localhost", "listen = \"127.0.0.1:8080\"\npublic_url = \"http://repair.example.com\"\n", "https://"},
		{"a query", "listen = \"127.0.0.1:8080\"\npublic_url = \"https://repair.example.com/?x=1\"\n", "query"},
		{"not a URL", "listen = \"127.0.0.1:8080\"\npublic_url = \"repair.example.com\"\n", "web.public_url"},
		{"sessions too short", "listen = \"127.0.0.1:8080\"\npublic_url = \"https://r.example.com\"\nsession_ttl = \"1m\"\n", "web.session_ttl"},
		{"off: nothing checked", "public_url = \"nonsense\"\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(minimal + "[web]\n" + tc.toml))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if cfg.Web.Listen != "" && strings.HasSuffix(cfg.ConsoleURL(), "/") {
					t.Fatalf("public_url kept its trailing slash: %q", cfg.ConsoleURL())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}
