package workspace_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// login signs in from addr ("" for none) and returns the error code and the wait it asks for.
func (e *env) login(addr, username, password string) (string, time.Duration) {
	e.t.Helper()
	ctx := e.t.Context()
	if addr != "" {
		ctx = workspace.WithClientAddr(ctx, addr)
	}
	_, _, _, err := e.s.Login(ctx, username, password)
	if code := workspace.ErrorCode(err); code != "" && code != workspace.EINVALIDCREDENTIALS && code != workspace.ETOOMANYATTEMPTS {
		e.t.Fatalf("login %s: %v", username, err)
	}
	return workspace.ErrorCode(err), workspace.RetryAfter(err)
}

// failFree spends the free failures of a username: each is a plain INVALID_CREDENTIALS.
func (e *env) failFree(addr, username string) {
	e.t.Helper()
	for i := range workspace.DefaultLoginFreePerUser {
		if code, _ := e.login(addr, username, "wrong"); code != workspace.EINVALIDCREDENTIALS {
			e.t.Fatalf("free failure %d: %s, want INVALID_CREDENTIALS", i+1, code)
		}
	}
}

// TestHardening_LoginThrottleBackoffDoublesUpToTheCap: past the free failures each failure
// doubles the wait (1 s, 2 s, 4 s …), capped at 15 minutes; waiting out the cap does not
// forget the count.
func TestHardening_LoginThrottleBackoffDoublesUpToTheCap(t *testing.T) {
	e := newEnv(t)
	e.failFree("", "alice")
	want := time.Second
	for round := range 14 {
		if code, _ := e.login("", "alice", "wrong"); code != workspace.EINVALIDCREDENTIALS {
			t.Fatalf("round %d: the attempt after the wait was %s, want it checked", round, code)
		}
		code, wait := e.login("", "alice", "demo")
		if code != workspace.ETOOMANYATTEMPTS || wait != want {
			t.Fatalf("round %d: %s waiting %v, want TOO_MANY_ATTEMPTS waiting %v", round, code, wait, want)
		}
		e.clock.Advance(want - time.Millisecond)
		if _, wait := e.login("", "alice", "demo"); wait != time.Second {
			t.Fatalf("round %d: a millisecond before the end the wait is %v, want it rounded up to 1s", round, wait)
		}
		e.clock.Advance(time.Millisecond)
		want = min(2*want, workspace.DefaultLoginMaxWait)
	}
	if want != 15*time.Minute {
		t.Fatalf("the test never reached the cap: %v", want)
	}
}

// TestHardening_LoginThrottleMessageSaysHowLongToWait: the refusal is a user error whose
// message says how long to wait, in seconds up to 90 and then in minutes rounded up, and is the
// same for a username that does not exist.
func TestHardening_LoginThrottleMessageSaysHowLongToWait(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		username string
		fails    int // failures past the free ones before the refusal
		want     string
	}{
		{"alice", 1, "Too many failed sign-ins: try again in 1 second."},
		{"mallory", 1, "Too many failed sign-ins: try again in 1 second."},
		{"bob", 4, "Too many failed sign-ins: try again in 8 seconds."},
		{"carol", 7, "Too many failed sign-ins: try again in 64 seconds."},
		{"nobody", 8, "Too many failed sign-ins: try again in 3 minutes."},
		{"admin", 20, "Too many failed sign-ins: try again in 15 minutes."},
	} {
		e.failFree("", c.username)
		for range c.fails {
			e.clock.Advance(workspace.DefaultLoginMaxWait)
			e.login("", c.username, "wrong")
		}
		_, _, _, err := e.s.Login(t.Context(), c.username, "demo")
		if !workspace.IsUserError(err) || workspace.ErrorCode(err) != workspace.ETOOMANYATTEMPTS || workspace.ErrorMessage(err) != c.want {
			t.Fatalf("%s after %d failures past the free ones: %v, want %q", c.username, c.fails, err, c.want)
		}
	}
}

// TestHardening_LoginThrottleSuccessResetsTheUsername: signing in with the right password once
// the wait is over starts the username afresh, with all its free failures.
func TestHardening_LoginThrottleSuccessResetsTheUsername(t *testing.T) {
	e := newEnv(t)
	e.failFree("", "alice")
	e.login("", "alice", "wrong")
	e.login("", "alice", "wrong")
	_, wait := e.login("", "alice", "demo")
	e.clock.Advance(wait)
	if code, _ := e.login("", "alice", "demo"); code != "" {
		t.Fatalf("the right password after the wait: %s", code)
	}
	e.failFree("", "alice")
	if code, _ := e.login("", "alice", "demo"); code != "" {
		t.Fatalf("after a success and %d failures: %s, want the count to have restarted", workspace.DefaultLoginFreePerUser, code)
	}
}

// TestHardening_LoginThrottleForgetsAfterAQuietPeriod: a username with no failure for the
// quiet period starts afresh; the quiet period outlasts the longest wait.
func TestHardening_LoginThrottleForgetsAfterAQuietPeriod(t *testing.T) {
	if workspace.DefaultLoginForget <= workspace.DefaultLoginMaxWait {
		t.Fatal("waiting out the cap would wipe the count")
	}
	e := newEnv(t)
	e.failFree("", "alice")
	e.login("", "alice", "wrong")
	e.clock.Advance(workspace.DefaultLoginForget - time.Second)
	if code, wait := e.login("", "alice", "wrong"); code != workspace.EINVALIDCREDENTIALS {
		t.Fatalf("before the quiet period: %s %v", code, wait)
	}
	if code, wait := e.login("", "alice", "wrong"); code != workspace.ETOOMANYATTEMPTS || wait != 2*time.Second {
		t.Fatalf("before the quiet period the count went on: %s %v, want a 2s wait", code, wait)
	}
	e.clock.Advance(workspace.DefaultLoginForget)
	e.failFree("", "alice")
}

// TestHardening_LoginThrottlePerAddressAcrossUsernames: one address trying many usernames is
// slowed after its free failures, whichever usernames it tries, and even for the right
// password; another address is not.
func TestHardening_LoginThrottlePerAddressAcrossUsernames(t *testing.T) {
	e := newEnv(t)
	const attacker, office = "203.0.113.7", "198.51.100.1"
	for i := range workspace.DefaultLoginFreePerAddr + 1 {
		if code, _ := e.login(attacker, fmt.Sprint("user", i), "guess"); code != workspace.EINVALIDCREDENTIALS {
			t.Fatalf("attempt %d: %s, want it checked", i+1, code)
		}
	}
	if code, wait := e.login(attacker, "someone-new", "guess"); code != workspace.ETOOMANYATTEMPTS || wait != time.Second {
		t.Fatalf("a new username from the same address: %s %v, want a 1s wait", code, wait)
	}
	if code, _ := e.login(attacker, "alice", "demo"); code != workspace.ETOOMANYATTEMPTS {
		t.Fatalf("the right password from the throttled address: %s, want TOO_MANY_ATTEMPTS", code)
	}
	if code, _ := e.login(office, "alice", "demo"); code != "" {
		t.Fatalf("another address: %s, want a session", code)
	}
}

// TestHardening_LoginThrottleCountsEverySpelling: case, surrounding spaces and invisible
// characters do not make a username a new one for the throttle.
func TestHardening_LoginThrottleCountsEverySpelling(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "Alice", " ALICE ", "al\u200bice", "alice\u202e"} {
		e.login("", u, "wrong")
	}
	e.login("", "aLiCe", "wrong")
	if code, _ := e.login("", "alice", "demo"); code != workspace.ETOOMANYATTEMPTS {
		t.Fatalf("six failures spelt six ways: %s, want TOO_MANY_ATTEMPTS", code)
	}
}

// TestHardening_LoginThrottleParallelAttemptsCountEach: attempts that arrive together cannot all
// pass one check: an attempt counts as failed the moment it is let in.
func TestHardening_LoginThrottleParallelAttemptsCountEach(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, _, _, err := e.s.Login(context.Background(), "alice", "wrong")
			mu.Lock()
			codes[workspace.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[workspace.EINVALIDCREDENTIALS] != workspace.DefaultLoginFreePerUser+1 || codes[workspace.ETOOMANYATTEMPTS] != 50-workspace.DefaultLoginFreePerUser-1 {
		t.Fatalf("50 parallel wrong passwords: %v, want %d checked and the rest refused", codes, workspace.DefaultLoginFreePerUser+1)
	}
}

// TestHardening_LoginThrottleRefusesWithoutBcrypt: a throttled attempt runs no password check,
// so a flood of them costs no CPU (and a known username answers as fast as an unknown one).
func TestHardening_LoginThrottleRefusesWithoutBcrypt(t *testing.T) {
	e := newEnv(t)
	e.failFree("", "mallory") // unknown: each failure ran bcrypt against the cost-10 dummy hash
	e.login("", "mallory", "wrong")
	before := workspace.PasswordChecks()
	for range 100 {
		if code, _ := e.login("", "mallory", "guess"); code != workspace.ETOOMANYATTEMPTS {
			t.Fatalf("a throttled attempt was %s", code)
		}
	}
	if n := workspace.PasswordChecks() - before; n != 0 {
		t.Fatalf("100 refused attempts ran %d bcrypt comparisons, want none", n)
	}
}
