//go:build !linux

package bench

import "time"

// cpuMeasured says whether processCPU and threadCPU read real figures on this system: they
// use getrusage with RUSAGE_THREAD, which only Linux has.
const cpuMeasured = false

func processCPU() time.Duration { return 0 }

func threadCPU() time.Duration { return 0 }
