//go:build unix

package ops

import (
	"errors"
	"syscall"
)

// diskFree is the space an unprivileged process may still write on the
// file system holding dir.
func diskFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:unconvert // Bsize is int64 on Linux, uint32 elsewhere
}

// errNoDiskFreeMeasure is never returned here (statfs measures).
var errNoDiskFreeMeasure = errors.New("free disk space is not measured on this platform")
