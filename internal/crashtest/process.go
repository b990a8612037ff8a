// Package crashtest runs a program as a child process that a test can
// SIGKILL, restart and stop with SIGTERM, keeping each run's output in its
// own log file and recording exits the test did not cause. It backs the
// crash-safety test of the bot (crash_test.go in the module root).
package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a restartable child process. Fill the exported fields, then
// call Start. All methods are safe for concurrent use.
type Process struct {
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Env is the environment; nil inherits the test's.
	Env []string
	// Dir is the working directory and where the logs go: run-NN.log,
	// stdout and stderr together.
	Dir string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	stopping bool
	started  time.Time
	runs     int
	logs     []string
	crashes  []string
}

// Start starts a new run. It fails if the previous run is still alive.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		select {
		case <-p.done:
		default:
			return errors.New("crashtest: process already running")
		}
	}
	p.runs++
	run := p.runs
	logPath := filepath.Join(p.Dir, fmt.Sprintf("run-%02d.log", run))
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.Env, p.Dir, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("crashtest: start %s: %w", filepath.Base(p.Path), err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.stopping, p.started = cmd, done, false, time.Now()
	p.logs = append(p.logs, logPath)
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		if !p.stopping {
			p.crashes = append(p.crashes, fmt.Sprintf("run %d exited on its own (%v); its output:\n%s", run, err, TailFile(logPath, 4000)))
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Running reports whether the current run has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the current run's process id (0 before the first start).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// WaitOutput waits until the current run's output contains marker (e.g.
// the log line saying it is ready) and returns when that was noticed. It
// gives up after timeout or when the run exits.
func (p *Process) WaitOutput(marker string, timeout time.Duration) (time.Time, bool) {
	p.mu.Lock()
	done := p.done
	var logPath string
	if n := len(p.logs); n > 0 {
		logPath = p.logs[n-1]
	}
	p.mu.Unlock()
	if done == nil {
		return time.Time{}, false
	}
	deadline := time.Now().Add(timeout)
	for {
		if raw, err := os.ReadFile(logPath); err == nil && bytes.Contains(raw, []byte(marker)) {
			return time.Now(), true
		}
		select {
		case <-done:
			return time.Time{}, false
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
	}
}

// Kill sends SIGKILL and waits until the process is gone. It reports
// whether the run was alive, when it was started and when it was dead.
func (p *Process) Kill() (alive bool, started, dead time.Time) {
	p.mu.Lock()
	cmd, done, started := p.cmd, p.done, p.started
	p.stopping = true
	p.mu.Unlock()
	if cmd == nil {
		return false, started, time.Now()
	}
	select {
	case <-done:
		return false, started, time.Now()
	default:
	}
	_ = cmd.Process.Kill() // SIGKILL on Unix
	<-done
	return true, started, time.Now()
}

// Term sends SIGTERM and waits up to timeout for the run to exit. It
// returns the exit status (-1 when a signal ended it) and an error if the
// run had to be killed after the timeout.
func (p *Process) Term(timeout time.Duration) (int, error) {
	p.mu.Lock()
	cmd, done, run := p.cmd, p.done, p.runs
	p.stopping = true
	p.mu.Unlock()
	if cmd == nil {
		return 0, errors.New("crashtest: never started")
	}
	select {
	case <-done:
		return cmd.ProcessState.ExitCode(), nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return -1, fmt.Errorf("crashtest: run %d did not stop within %s of SIGTERM", run, timeout)
	}
	return cmd.ProcessState.ExitCode(), nil
}

// Runs is how many times the process was started.
func (p *Process) Runs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs
}

// Logs returns the log file of every run, in order.
func (p *Process) Logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs...)
}

// Crashes describes every run that exited without Kill or Term.
func (p *Process) Crashes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.crashes...)
}

// LogTails renders the last max bytes of the last n runs' logs.
func (p *Process) LogTails(n, max int) string {
	logs := p.Logs()
	if len(logs) > n {
		logs = logs[len(logs)-n:]
	}
	var sb strings.Builder
	for _, l := range logs {
		fmt.Fprintf(&sb, "--- %s\n%s\n", filepath.Base(l), TailFile(l, max))
	}
	return sb.String()
}

// TailFile returns the last max bytes of a file.
func TailFile(path string, max int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(raw) > max {
		raw = append([]byte("…"), raw[len(raw)-max:]...)
	}
	return string(raw)
}
