package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

// TestWithFreePortTriesAnother: a port taken between the check and the
// console's listen (another process, the browser) makes the demo try
// another port instead of failing; any other error is returned at once.
func TestWithFreePortTriesAnother(t *testing.T) {
	var ports []string
	taken := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	w, err := withFreePort(func(port string) (*demoWorld, error) {
		ports = append(ports, port)
		if len(ports) == 1 {
			return nil, fmt.Errorf("web.listen: %w", taken)
		}
		return &demoWorld{}, nil
	})
	if err != nil || w == nil || len(ports) != 2 {
		t.Fatalf("world %v, error %v after %d ports", w, err, len(ports))
	}
	other := errors.New("no store")
	calls := 0
	if _, err := withFreePort(func(string) (*demoWorld, error) { calls++; return nil, other }); !errors.Is(err, other) || calls != 1 {
		t.Errorf("error %v after %d calls, want the first error at once", err, calls)
	}
	calls = 0
	if _, err := withFreePort(func(string) (*demoWorld, error) { calls++; return nil, taken }); !errors.Is(err, syscall.EADDRINUSE) || calls != 5 {
		t.Errorf("error %v after %d calls, want it after 5 tries", err, calls)
	}
}
