package bench

import (
	"syscall"
	"time"
)

// threadCPUMeasured says whether threadCPU reads real figures on this system.
const threadCPUMeasured = true

// threadCPU is the CPU time (user + system) of the calling OS thread so far; a goroutine that
// locked its thread (runtime.LockOSThread) measures its own work with it.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
