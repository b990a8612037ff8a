//go:build !crashtest_nodedupe

package store

// dedupeBroken is true only in the deliberately broken build the crash
// harness uses to prove that it notices (go build -tags
// crashtest_nodedupe; CRASH_NODEDUPE=1 go test -run TestCrash .).
const dedupeBroken = false
