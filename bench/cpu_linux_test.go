package bench

import (
	"syscall"
	"time"
)

// cpuMeasured says whether processCPU and threadCPU read real figures on this system.
const cpuMeasured = true

// processCPU is the CPU time (user + system) this process has used so far: the node under
// test runs in it, with the load the benchmark drives.
func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// threadCPU is the CPU time of the calling OS thread so far; a goroutine that locked its
// thread (runtime.LockOSThread) measures its own work with it.
func threadCPU() time.Duration { return rusage(syscall.RUSAGE_THREAD) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
