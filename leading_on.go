//go:build !crashtest_followersends

package main

// channelsLeading is what the channels (their outbox dispatchers, the
// Telegram poll loop) are told of the lead: the store's Leading. Only
// the deliberately broken build of TestCrashReplicas changes it (go
// build -tags crashtest_followersends; CRASH_FOLLOWERSENDS=1 go test -run
// TestCrashReplicas .).
func channelsLeading(leading func() bool) func() bool { return leading }
