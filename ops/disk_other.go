//go:build !unix

package ops

import "errors"

// diskFree is not measured on this platform; the disk check is skipped.
func diskFree(string) (uint64, error) { return 0, errNoDiskFreeMeasure }

var errNoDiskFreeMeasure = errors.New("free disk space is not measured on this platform")
