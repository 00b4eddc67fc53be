package workspace

import "time"

// Clock tells the time. Every timer and timestamp in the domain comes from one, so tests
// move time instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
