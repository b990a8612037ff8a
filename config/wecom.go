package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// WeCom configures the WeCom (企业微信) front-end: a self-built app
// (自建应用) for staff and, optionally, WeChat customer service (微信客服,
// "kf") for residents on WeChat.
type WeCom struct {
	// Enabled turns the WeCom front-end on (default false). When false no
	// other [wecom] key is required or checked.
	Enabled bool `toml:"enabled"`
	// CorpID is the enterprise id (企业ID), "ww..." or "wx...". Required.
	CorpID string `toml:"corp_id"`
	// AgentID is the self-built app's AgentId. Required (> 0).
	AgentID int64 `toml:"agent_id"`
	// Secret is the app's Secret. Default "${WECOM_SECRET}". Required.
	Secret string `toml:"secret"`
	// Token is the callback Token (接收消息 → Token). Default
	// "${WECOM_TOKEN}". Required.
	Token string `toml:"token"`
	// EncodingAESKey is the callback EncodingAESKey, 43 characters.
	// Default "${WECOM_AES_KEY}". Required.
	EncodingAESKey string `toml:"encoding_aes_key"`
	// CallbackListen is the local address of the callback HTTP server,
	// default ":8090".
	CallbackListen string `toml:"callback_listen"`
	// CallbackPath is the HTTP path WeCom calls (GET URL check, POST
	// messages), default "/wecom/callback".
	CallbackPath string `toml:"callback_path"`
	// KfEnabled turns on WeChat customer service (微信客服) for residents.
	KfEnabled bool `toml:"kf_enabled"`
	// KfSecret is the 微信客服 secret. Default "${WECOM_KF_SECRET}". Empty
	// uses Secret (an app that was granted the 微信客服 API).
	KfSecret string `toml:"kf_secret"`
	// KfCallbackPath is where kf callbacks arrive; empty (default) means the
	// same path as CallbackPath (the events are told apart by their type).
	KfCallbackPath string `toml:"kf_callback_path"`
	// APIURL is the API base URL, default "https://qyapi.weixin.qq.com".
	APIURL string `toml:"api_url"`
	// TimestampWindow is how far a callback's timestamp may be from now
	// before it is refused as a replay, 10s..1h (default 5m).
	TimestampWindow Duration `toml:"timestamp_window"`
	// GroupChatID is the technicians' group chat (appchat) id. Optional;
	// used as the dispatch group when Telegram is disabled.
	GroupChatID string `toml:"group_chat_id"`
	// GroupRobotKey is the key of a group robot (群机器人) webhook
	// (webhook/send?key=...) in the technicians' group: the push-only
	// alternative to GroupChatID. Default "${WECOM_ROBOT_KEY}"; empty means
	// no robot. A secret: never echoed or logged.
	GroupRobotKey string `toml:"group_robot_key"`
	// Admins are WeCom userids with full control. Optional.
	Admins []string `toml:"admins"`
	// DuplicateCheckInterval is message/send's duplicate_check_interval:
	// WeCom does not deliver the same request twice within it, so a retry
	// whose answer was lost is harmless. 0s..4h, 0 turns the check off
	// (default 30m).
	DuplicateCheckInterval Duration `toml:"duplicate_check_interval"`
}

// defaultWeCom returns the [wecom] defaults.
func defaultWeCom() WeCom {
	return WeCom{
		Secret:          "${WECOM_SECRET}",
		Token:           "${WECOM_TOKEN}",
		EncodingAESKey:  "${WECOM_AES_KEY}",
		CallbackListen:  ":8090",
		CallbackPath:    "/wecom/callback",
		KfSecret:        "${WECOM_KF_SECRET}",
		GroupRobotKey:   "${WECOM_ROBOT_KEY}",
		APIURL:          "https://qyapi.weixin.qq.com",
		TimestampWindow: Duration{5 * time.Minute},

		DuplicateCheckInterval: Duration{30 * time.Minute},
	}
}

var (
	wecomAESKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{43}$`)
	wecomUserIDPattern = regexp.MustCompile(`^[A-Za-z0-9_@.-]{1,64}$`)
	wecomCorpIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{6,64}$`)
	wecomTokenPattern  = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	wecomRobotPattern  = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)
)

// wecomStringFields lists the [wecom] string keys for ${NAME} expansion.
func (c *Config) wecomStringFields() []stringField {
	w := &c.WeCom
	f := []stringField{
		{"wecom.corp_id", &w.CorpID},
		{"wecom.secret", &w.Secret},
		{"wecom.token", &w.Token},
		{"wecom.encoding_aes_key", &w.EncodingAESKey},
		{"wecom.callback_listen", &w.CallbackListen},
		{"wecom.callback_path", &w.CallbackPath},
		{"wecom.kf_secret", &w.KfSecret},
		{"wecom.kf_callback_path", &w.KfCallbackPath},
		{"wecom.api_url", &w.APIURL},
		{"wecom.group_chat_id", &w.GroupChatID},
		{"wecom.group_robot_key", &w.GroupRobotKey},
	}
	for i := range w.Admins {
		f = append(f, stringField{fmt.Sprintf("wecom.admins[%d]", i), &w.Admins[i]})
	}
	return f
}

// wecomSecrets are the [wecom] values never echoed in messages.
func (c *Config) wecomSecrets() []string {
	return []string{c.WeCom.Secret, c.WeCom.Token, c.WeCom.EncodingAESKey, c.WeCom.KfSecret, c.WeCom.GroupRobotKey}
}

func (c *Config) validateWeCom(v *validator) {
	w := &c.WeCom
	if !w.Enabled {
		return
	}
	w.CorpID = strings.TrimSpace(w.CorpID)
	if v.required("wecom.corp_id", w.CorpID) && !wecomCorpIDPattern.MatchString(w.CorpID) {
		v.add("wecom.corp_id", "must be the enterprise id (企业ID) from the admin console, letters and digits (got %q)", w.CorpID)
	}
	if w.AgentID <= 0 {
		v.add("wecom.agent_id", "is required: the self-built app's AgentId, a positive number")
	}
	w.Secret = strings.TrimSpace(w.Secret)
	v.required("wecom.secret", w.Secret)
	w.Token = strings.TrimSpace(w.Token)
	if v.required("wecom.token", w.Token) && !wecomTokenPattern.MatchString(w.Token) {
		v.add("wecom.token", "is set but malformed (WeCom tokens are 1-32 letters and digits)")
	}
	w.EncodingAESKey = strings.TrimSpace(w.EncodingAESKey)
	if v.required("wecom.encoding_aes_key", w.EncodingAESKey) && !wecomAESKeyPattern.MatchString(w.EncodingAESKey) {
		v.add("wecom.encoding_aes_key", "is set but malformed (must be exactly 43 letters and digits, as generated in the admin console)")
	}
	if v.required("wecom.callback_listen", w.CallbackListen) {
		if reason := checkListen(w.CallbackListen); reason != "" {
			v.add("wecom.callback_listen", "%s", reason)
		}
	}
	if v.required("wecom.callback_path", w.CallbackPath) && !strings.HasPrefix(w.CallbackPath, "/") {
		v.add("wecom.callback_path", "must start with \"/\" (got %q)", w.CallbackPath)
	}
	if w.KfCallbackPath != "" && !strings.HasPrefix(w.KfCallbackPath, "/") {
		v.add("wecom.kf_callback_path", "must start with \"/\" (got %q)", w.KfCallbackPath)
	}
	w.KfSecret = strings.TrimSpace(w.KfSecret)
	if v.required("wecom.api_url", w.APIURL) {
		w.APIURL = strings.TrimSuffix(w.APIURL, "/")
		if reason := checkAPIURL(w.APIURL); reason != "" {
			v.add("wecom.api_url", "%s", reason)
		}
	}
	v.durRange("wecom.timestamp_window", w.TimestampWindow, 10*time.Second, time.Hour)
	if v.durRange("wecom.duplicate_check_interval", w.DuplicateCheckInterval, 0, 4*time.Hour) &&
		w.DuplicateCheckInterval.Duration > 0 && w.DuplicateCheckInterval.Duration < time.Second {
		v.add("wecom.duplicate_check_interval", "must be whole seconds, at least 1s, or 0s to turn the check off (got %s)", w.DuplicateCheckInterval.Duration)
	}
	if w.GroupChatID != "" && !wecomUserIDPattern.MatchString(w.GroupChatID) {
		v.add("wecom.group_chat_id", "must be an appchat id: 1-64 letters, digits or _ @ . - (got %q)", w.GroupChatID)
	}
	w.GroupRobotKey = strings.TrimSpace(w.GroupRobotKey)
	if w.GroupRobotKey != "" {
		if !wecomRobotPattern.MatchString(w.GroupRobotKey) {
			v.add("wecom.group_robot_key", "is set but malformed (the key=... part of the robot's webhook URL: letters, digits and -)")
		} else if w.GroupChatID != "" {
			v.add("wecom.group_robot_key", "set either group_chat_id (an app group chat) or group_robot_key (a group robot), not both")
		}
	}
	seen := map[string]int{}
	for i, id := range w.Admins {
		k := fmt.Sprintf("wecom.admins[%d]", i)
		if !wecomUserIDPattern.MatchString(id) {
			v.add(k, "must be a WeCom userid: 1-64 letters, digits or _ @ . - (got %q)", id)
		} else if j, dup := seen[id]; dup {
			v.add(k, "duplicate userid %q (also wecom.admins[%d])", id, j)
		} else {
			seen[id] = i
		}
	}
}

// redacted hides the secrets (empty stays empty) and copies the admins.
func (w WeCom) redacted() WeCom {
	for _, p := range []*string{&w.Secret, &w.Token, &w.EncodingAESKey, &w.KfSecret, &w.GroupRobotKey} {
		if *p != "" {
			*p = "***"
		}
	}
	w.Admins = append([]string(nil), w.Admins...)
	return w
}
