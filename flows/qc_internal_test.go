package flows

import (
	"fmt"
	"testing"
)

// TestQCSampleShare: the sample takes about the configured share of ticket
// ids (10 % of 20,000 consecutive ids: within a percentage point), none at
// 0 and all at 100.
func TestQCSampleShare(t *testing.T) {
	for _, c := range []struct{ share, lo, hi int }{{10, 1800, 2200}, {0, 0, 0}, {100, 20000, 20000}, {25, 4700, 5300}} {
		n := 0
		for day := 0; day < 20; day++ {
			for i := 1; i <= 1000; i++ {
				if qcSampled(fmt.Sprintf("BX-202611%02d-%04d", day+1, i), c.share) {
					n++
				}
			}
		}
		if n < c.lo || n > c.hi {
			t.Errorf("share %d%%: %d of 20,000 sampled, want %d..%d", c.share, n, c.lo, c.hi)
		}
	}
}
