//go:build crashtest_followersends

package main

// channelsLeading tells the channels that every replica leads, so every
// replica's dispatcher delivers the outbox: a deliberately broken build
// for the replica crash harness (CRASH_FOLLOWERSENDS=1 go test -run
// TestCrashReplicas .), which must then fail. /healthz and the timers
// still see the true lead. Never build a bot with this tag.
func channelsLeading(func() bool) func() bool { return func() bool { return true } }
