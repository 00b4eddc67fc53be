package workspace

import (
	"sync"
	"time"
)

// Clock tells the time. Every timer and timestamp in the domain comes from one, so tests
// move time instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC, to the millisecond: the precision both stores keep,
// so an interaction a mutation returns shows the same times as a later read of it.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to the millisecond.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// ManualClock is a clock that moves only when told to, for tests.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t.UTC()} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t, which must not be before its time.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.t) {
		c.t = t.UTC()
	}
	c.mu.Unlock()
}
