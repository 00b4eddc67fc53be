// Package bench measures agentdesk against floors taken in the same run, so the figures
// say how much the product adds to what it cannot avoid (database round trips, loopback
// HTTP). Run with `make bench`; numbers are printed, never asserted.
package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Samples are latencies of one measured operation.
type Samples []time.Duration

// Measure runs op n times after warm warm-up runs and returns the latencies.
func Measure(warm, n int, op func() error) (Samples, error) {
	for i := 0; i < warm; i++ {
		if err := op(); err != nil {
			return nil, err
		}
	}
	out := make(Samples, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := op(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// Percentile returns the p-th percentile (0–100) by nearest rank.
func (s Samples) Percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Row prints one line: name, p50, p99.
func Row(w io.Writer, name string, s Samples) {
	fmt.Fprintf(w, "  %-44s p50 %9s   p99 %9s\n", name, round(s.Percentile(50)), round(s.Percentile(99)))
}

// Ratio prints measured/floor at p50 and p99.
func Ratio(w io.Writer, name string, measured, floor Samples) {
	fmt.Fprintf(w, "  %-44s p50 %8.2fx   p99 %8.2fx\n", name,
		float64(measured.Percentile(50))/float64(floor.Percentile(50)),
		float64(measured.Percentile(99))/float64(floor.Percentile(99)))
}

// Sum returns element-wise sums of equally long sample sets, sorted per set first: a
// floor made of several steps that each take their own percentile.
func Sum(sets ...Samples) Samples {
	n := len(sets[0])
	out := make(Samples, n)
	for _, s := range sets {
		sorted := slices.Clone(s)
		slices.Sort(sorted)
		for i := range out {
			out[i] += sorted[i]
		}
	}
	return out
}

// Mean is the average latency.
func (s Samples) Mean() time.Duration {
	if len(s) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return sum / time.Duration(len(s))
}

// Steps keeps the latencies of the named steps of a repeated sequence apart, in the order
// they were first timed: a floor made of store calls shows what each call costs.
type Steps struct {
	Names []string
	By    map[string]Samples
	spent time.Duration
}

// Time runs op and records its latency under name, also when op fails.
func (s *Steps) Time(name string, op func() error) error {
	start := time.Now()
	err := op()
	s.Record(name, time.Since(start))
	return err
}

// Record notes one run of the named step that took d.
func (s *Steps) Record(name string, d time.Duration) {
	if s.By == nil {
		s.By = map[string]Samples{}
	}
	if _, ok := s.By[name]; !ok {
		s.Names = append(s.Names, name)
	}
	s.By[name] = append(s.By[name], d)
	s.spent += d
}

// Add records every run of other's steps.
func (s *Steps) Add(other Steps) {
	for _, name := range other.Names {
		for _, d := range other.By[name] {
			s.Record(name, d)
		}
	}
}

// Spent is the time of every step timed so far, added up.
func (s *Steps) Spent() time.Duration { return s.spent }

// Totals returns the time of each run of the sequence: the latencies of the named steps (of
// every step when none is named) in that run, added up. Each of those steps must have been
// timed once per run.
func (s *Steps) Totals(names ...string) Samples {
	if len(names) == 0 {
		names = s.Names
	}
	var out Samples
	for i, name := range names {
		if i == 0 {
			out = make(Samples, len(s.By[name]))
		}
		for j, d := range s.By[name] {
			out[j] += d
		}
	}
	return out
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}
