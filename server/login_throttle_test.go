package server_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// startStopped runs a node with demo data whose clock moves only when the test says.
func startStopped(t *testing.T) (*server.Main, *workspace.ManualClock) {
	t.Helper()
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost, cfg.Tick = 4, 0
	m := server.NewMain(cfg)
	clock := workspace.NewManualClock(time.Now())
	m.Clock, m.Stdout = clock, io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, clock
}

const loginFields = `token userErrors { code message } retryAfterSeconds`

func loginAs(t *testing.T, m *server.Main, username, password string) map[string]any {
	t.Helper()
	r := post(t, m, "", `mutation($u:String!,$p:String!){ login(input:{username:$u,password:$p}) { `+loginFields+` } }`,
		map[string]any{"u": username, "p": password})
	if len(r.Errors) > 0 {
		t.Fatalf("a refused sign-in is a userError, not a top-level error: %+v", r.Errors)
	}
	return dig(r.Data, "login").(map[string]any)
}

// TestHardening_LoginThrottle40WrongThenRight: 40 wrong passwords in a row, then the right one,
// is refused with TOO_MANY_ATTEMPTS and the wait, in the message and in retryAfterSeconds;
// after the wait the right password signs in.
func TestHardening_LoginThrottle40WrongThenRight(t *testing.T) {
	m, clock := startStopped(t)
	codes := map[string]int{}
	for range 40 {
		codes[dig(loginAs(t, m, "alice", "wrong"), "userErrors.0.code").(string)]++
	}
	if codes["INVALID_CREDENTIALS"] != 6 || codes["TOO_MANY_ATTEMPTS"] != 34 {
		t.Fatalf("40 wrong passwords: %v, want 6 checked (5 free, then one that starts a 1 s wait) and 34 refused", codes)
	}
	got := loginAs(t, m, "alice", "demo")
	if got["token"] != nil || dig(got, "userErrors.0.code") != "TOO_MANY_ATTEMPTS" || got["retryAfterSeconds"] != 1.0 ||
		dig(got, "userErrors.0.message") != "Too many failed sign-ins: try again in 1 second." {
		t.Fatalf("the right password after 40 wrong ones: %+v", got)
	}
	if got := loginAs(t, m, "alice", "wrong"); got["retryAfterSeconds"] != 1.0 {
		t.Fatalf("a wrong password while refused: %+v", got)
	}
	if got := loginAs(t, m, "bob", "wrong"); dig(got, "userErrors.0.code") != "INVALID_CREDENTIALS" || got["retryAfterSeconds"] != nil {
		t.Fatalf("another username from the same address: %+v", got)
	}

	clock.Advance(time.Second)
	if got := loginAs(t, m, "alice", "demo"); got["token"] == nil {
		t.Fatalf("the right password after the wait: %+v", got)
	}
}

// TestHardening_LoginThrottleCountsAliases: 30 logins fitted into one request by aliases were
// 30 password checks for the price of one request. Now an operation may call login once: the
// aliased request is refused before any password is checked, so it costs no bcrypt time and
// uses up nobody's attempts, and each login that does run is counted by the throttle (the
// domain tests show every call counts, in parallel too).
func TestHardening_LoginThrottleCountsAliases(t *testing.T) {
	aliased := func(usernames func(i int) string) string {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 30 {
			fmt.Fprintf(&b, " l%d: login(input:{username:%q, password:\"guess\"}) { %s }", i, usernames(i), loginFields)
		}
		return b.String() + " }"
	}
	for _, c := range []struct {
		name      string
		usernames func(int) string
	}{
		{"one username", func(int) string { return "alice" }},
		{"30 usernames, one address", func(i int) string { return fmt.Sprint("user", i) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := startStopped(t)
			r := post(t, m, "", aliased(c.usernames), nil)
			if r.code() != "INVALID" || r.Data != nil || !strings.Contains(r.Errors[0].Message, "login only once") {
				t.Fatalf("30 aliased logins: %+v", r)
			}
			// None of them counted: five wrong passwords are still free, then the right one works.
			for range 5 {
				if got := loginAs(t, m, "alice", "wrong"); dig(got, "userErrors.0.code") != "INVALID_CREDENTIALS" {
					t.Fatalf("a free attempt after the refused request: %+v", got)
				}
			}
			if got := loginAs(t, m, "alice", "demo"); got["token"] == nil {
				t.Fatalf("the right password: %+v", got)
			}
		})
	}
}
