//go:build !linux

package bench

import "time"

// threadCPUMeasured says whether threadCPU reads real figures on this system: getrusage's
// RUSAGE_THREAD is Linux's.
const threadCPUMeasured = false

func threadCPU() time.Duration { return 0 }
