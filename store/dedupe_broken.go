//go:build crashtest_nodedupe

package store

// dedupeBroken makes Seen forget every dedupe mark: a deliberately broken
// build for the crash harness (CRASH_NODEDUPE=1 go test -run TestCrash .),
// which must then fail. Never build a bot with this tag.
const dedupeBroken = true
