package config

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Web configures the office console (bot/web): a web page for team leads
// and customer service, served by the bot itself. Off unless Listen is
// set.
type Web struct {
	// Listen is the address the console serves on, "host:port". Empty
	// (default) turns the console off. An address beyond this machine
	// (":8080", "0.0.0.0:8080", a LAN address) needs AllowRemote: put a
	// TLS-terminating reverse proxy in front instead.
	Listen string `toml:"listen"`
	// AllowRemote accepts a Listen address that is not loopback (a private
	// network, a container's port published to the host).
	AllowRemote bool `toml:"allow_remote"`
	// PublicURL is the console's address as people open it, put in the
	// login links the bot sends: https://host[/prefix], or http:// on
	// localhost only. Required when Listen is set.
	PublicURL string `toml:"public_url"`
	// SecureCookies marks the session cookie Secure even when PublicURL is
	// http (a proxy that terminates TLS but forwards to a plain-http
	// public URL); with an https PublicURL it always is.
	SecureCookies bool `toml:"secure_cookies"`
	// SessionTTL is how long a console session lasts, 5m..720h (default
	// 12h). /console logout ends a person's sessions sooner.
	SessionTTL Duration `toml:"session_ttl"`
}

func defaultWeb() Web { return Web{SessionTTL: Duration{12 * time.Hour}} }

// validateWeb checks [web] when the console is on.
func (c *Config) validateWeb(v *validator) {
	w := &c.Web
	if w.Listen == "" {
		return
	}
	if msg := checkListen(w.Listen); msg != "" {
		v.add("web.listen", "%s", msg)
	} else if host, port, _ := net.SplitHostPort(w.Listen); !listenLoopback(host) && !w.AllowRemote {
		v.add("web.listen", "%q serves beyond this machine; use \"127.0.0.1:%s\" behind a TLS reverse proxy, or set web.allow_remote = true "+
			"(a private network or a container's published port)", w.Listen, port)
	}
	w.PublicURL = strings.TrimSuffix(strings.TrimSpace(w.PublicURL), "/")
	if v.required("web.public_url", w.PublicURL) {
		if msg := checkPublicURL(w.PublicURL); msg != "" {
			v.add("web.public_url", "%s", msg)
		}
	}
	v.durRange("web.session_ttl", w.SessionTTL, 5*time.Minute, 720*time.Hour)
}

// checkPublicURL returns why u cannot be the console's public address.
func checkPublicURL(u string) string {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "is not a valid URL"
	case p.Host == "" || p.Hostname() == "":
		return "must be an absolute https:// URL with a host name, e.g. \"https://repair.example.com\""
	case p.Scheme == "http" && !listenLoopback(p.Hostname()):
		return "must use https:// (the session cookie would travel in clear); http:// is for localhost only"
	case p.Scheme != "http" && p.Scheme != "https":
		return "must be an absolute https:// URL"
	case p.RawQuery != "" || p.Fragment != "" || strings.ContainsAny(u, "?#"):
		return "must not contain a query or fragment"
	}
	return ""
}

// ConsoleURL is the console's public address when [web] is on, "" when
// off.
func (c Config) ConsoleURL() string {
	if c.Web.Listen == "" {
		return ""
	}
	return c.Web.PublicURL
}
