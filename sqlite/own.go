//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlite

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Own takes the data directory dir for this process until release is called, or the
// process ends however it ends: the embedded store keeps live interactions in memory
// (liveCache), which is right only while one process serves the files. A second server on
// the same directory is refused, with the process ID of the first. The admin command
// (agents, API keys) does not take it: it writes no live interaction, and an agent's every
// write moves its version, which the other process's copies follow (agentCache).
func Own(dir string) (release func() error, err error) {
	path := filepath.Join(dir, "agentdesk.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is served by another agentdesk process (pid %s): the embedded store serves one process at a time; stop that one, or give another -data directory (several nodes share MongoDB, not a data directory)",
				dir, cmp.Or(strings.TrimSpace(string(holder)), "unknown"))
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f.Close, nil // closing the file lets the lock go
}
