package workspace

import (
	"fmt"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ETOOMANYATTEMPTS is the user error of a sign-in refused because too many failed lately, for
// the username or from the caller's address. Its Error carries RetryAfter.
const ETOOMANYATTEMPTS = "TOO_MANY_ATTEMPTS"

// Default login throttle: a few free failures, then each failure doubles the wait. The quiet
// period is longer than the longest wait, so waiting out the cap does not wipe the count.
const (
	DefaultLoginFreePerUser = 5
	DefaultLoginFreePerAddr = 20
	DefaultLoginFirstWait   = time.Second
	DefaultLoginMaxWait     = 15 * time.Minute
	DefaultLoginForget      = 30 * time.Minute
)

// loginKeys bounds the memory of each count: a flood of distinct usernames or addresses
// evicts the least recently seen.
const loginKeys = 100_000

// LoginThrottle slows password guessing. It counts failed sign-ins per username and per client
// address; past the free failures, each further one doubles the wait before the next attempt
// (FirstWait, 2×, 4×, … up to MaxWait). An attempt is counted as failed when it is let in, and
// forgiven if the password turns out right, so parallel or aliased attempts cannot all slip
// past one check. A refused attempt costs nothing: no lookup, no bcrypt, the same answer for
// known and unknown usernames. State is in memory, per node.
type LoginThrottle struct {
	// FreePerUser and FreePerAddr are the failures allowed before waits begin; 0 or less turns
	// that count off.
	FreePerUser, FreePerAddr int
	// FirstWait follows the first failure past the free ones; each further failure doubles it,
	// up to MaxWait.
	FirstWait, MaxWait time.Duration
	// Forget is the quiet period after which a username's or address's failures are forgotten.
	Forget time.Duration

	mu    sync.Mutex
	users *lru.Cache[string, *failures]
	addrs *lru.Cache[string, *failures]
}

// failures is what the throttle remembers of one username or address.
type failures struct {
	count int       // attempts counted as failed, including those still being checked
	last  time.Time // the latest counted attempt
	until time.Time // no attempt is let in before this
}

// NewLoginThrottle returns a throttle with the default parameters.
func NewLoginThrottle() *LoginThrottle {
	users, _ := lru.New[string, *failures](loginKeys) // only fails for a size ≤ 0
	addrs, _ := lru.New[string, *failures](loginKeys)
	return &LoginThrottle{
		FreePerUser: DefaultLoginFreePerUser, FreePerAddr: DefaultLoginFreePerAddr,
		FirstWait: DefaultLoginFirstWait, MaxWait: DefaultLoginMaxWait, Forget: DefaultLoginForget,
		users: users, addrs: addrs,
	}
}

// admit lets an attempt for username from addr in, counting it as failed, or returns how long
// to wait. The wait is rounded up to whole seconds, as people are told it.
func (t *LoginThrottle) admit(now time.Time, username, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.entry(t.users, t.FreePerUser, loginKey(username), now)
	a := t.entry(t.addrs, t.FreePerAddr, addr, now)
	var until time.Time
	for _, f := range []*failures{u, a} {
		if f != nil && f.until.After(until) {
			until = f.until
		}
	}
	if wait := until.Sub(now); wait > 0 {
		return (wait + time.Second - 1).Truncate(time.Second)
	}
	t.count(u, t.FreePerUser, now)
	t.count(a, t.FreePerAddr, now)
	return 0
}

// succeeded forgives the attempt admit counted: the username starts afresh; the address only
// loses this one failure, so signing in to one account does not buy guesses at others.
func (t *LoginThrottle) succeeded(username, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.users.Remove(loginKey(username))
	if a, ok := t.addrs.Peek(addr); ok && t.FreePerAddr > 0 {
		a.count = max(0, a.count-1)
		if a.count <= t.FreePerAddr {
			a.until = time.Time{}
		}
	}
}

// entry is key's record, fresh when it was quiet for Forget; nil when the count is off.
func (t *LoginThrottle) entry(c *lru.Cache[string, *failures], free int, key string, now time.Time) *failures {
	if free <= 0 || key == "" {
		return nil
	}
	f, ok := c.Get(key)
	if !ok || now.Sub(f.last) >= t.Forget {
		f = &failures{}
		c.Add(key, f)
	}
	return f
}

func (t *LoginThrottle) count(f *failures, free int, now time.Time) {
	if f == nil {
		return
	}
	f.count++
	f.last = now
	if over := f.count - free; over > 0 {
		f.until = now.Add(t.backoff(over))
	}
}

// backoff is the wait after the nth failure past the free ones: FirstWait doubled n-1 times,
// at most MaxWait.
func (t *LoginThrottle) backoff(n int) time.Duration {
	d := t.FirstWait
	for i := 1; i < n && d > 0 && d < t.MaxWait; i++ {
		d *= 2
	}
	return min(d, t.MaxWait)
}

// loginKey counts a username however it is typed: case and invisible characters aside, and
// hashed, so a long username costs no more memory than a short one.
func loginKey(username string) string {
	return HashToken(strings.ToLower(strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, NormaliseName(username))))
}

// tooManyAttempts is the refusal of a throttled sign-in.
func tooManyAttempts(wait time.Duration) *Error {
	return &Error{Code: ETOOMANYATTEMPTS, Message: "Too many failed sign-ins: try again in " + inWords(wait) + ".", RetryAfter: wait}
}

// inWords is a wait as people say it: 1 second, 8 seconds, 3 minutes (rounded up).
func inWords(d time.Duration) string {
	n, unit := int((d+time.Second-1)/time.Second), "second"
	if n > 90 {
		n, unit = int((d+time.Minute-1)/time.Minute), "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
