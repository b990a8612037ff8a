// Package browsertest starts the headless Chromium that the browser tests
// drive with chromedp (the console's in bot/web, the demo page's in the
// repository root). It is imported only by tests.
//
// Without Chromium at Path the test is skipped with a message saying how
// to install it; with REPAIRBOT_BROWSER_REQUIRED=1 (.ci/run sets it) it
// fails instead, so a CI run can never pass by skipping the browser tests.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	// Path is Debian's chromium.
	Path = "/usr/bin/chromium"
	// EnvRequired, set to 1, turns a missing browser into a test failure.
	EnvRequired = "REPAIRBOT_BROWSER_REQUIRED"
)

// Need skips tb (fails it when EnvRequired=1) without Chromium at Path.
func Need(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv(EnvRequired) == "1" {
			tb.Fatalf("%s=1 but %s is missing (apt-get install -y chromium): %v", EnvRequired, Path, err)
		}
		tb.Skipf("browser tests need Debian's chromium at %s (apt-get install -y chromium); skipped (%s=1 makes this a failure)", Path, EnvRequired)
	}
}

// Start starts a headless Chromium (after Need) with a window of width ×
// height pixels and a profile of its own, and returns its context; the
// browser is stopped when tb ends. The first action of a browser has no
// timeout: Start takes it, so the caller may bound every later one.
func Start(tb testing.TB, width, height int) context.Context {
	tb.Helper()
	Need(tb)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(width, height),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start %s: %v", Path, err)
	}
	return ctx
}
