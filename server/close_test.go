package server_test

import (
	"bytes"
	"io"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
)

// TestCloseOnMongoLeavesNothingRunning: a node on the MongoDB test engine that has served an
// agent (signed in, an offers subscription over a websocket, READY) and a visitor's chat
// leaves nothing running once Main.Close returns: no goroutine of agentdesk's or of the
// MongoDB driver, and nothing that still sends the engine commands. (A benchmark's engine was
// once seen busy for minutes after its node had closed.)
func TestCloseOnMongoLeavesNothingRunning(t *testing.T) {
	before := goroutines()
	uri := mongotest.Start(t)
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost, cfg.MongoURI = 4, uri
	m := server.NewMain(cfg)
	m.Stdout = io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			m.Close()
		}
	})
	alice := login(t, m, "alice")
	offers := subscribe(t, m, alice, offerSub, nil)
	ready(t, m, alice)
	_, id := startChat(t, m, "Sales", "hello")
	if ev := offers.event(); dig(ev, "offers.offer.interaction.id") != id {
		t.Fatalf("offer: %v", ev)
	}
	closed = true
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// Goroutines end a moment after what ended them: wait for the stragglers. A socket's
	// closing handshake alone may take coder/websocket's 5 s when the cores are busy, so the
	// wait is far longer; it ends as soon as nothing is left.
	var left []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if left = ours(goroutines(), before); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("%d goroutines of agentdesk or the MongoDB driver still run after Close:\n\n%s", len(left), strings.Join(left, "\n\n"))
	}
	first := mongotest.Commands(t, uri)
	time.Sleep(3 * time.Second)
	if then := mongotest.Commands(t, uri); !maps.Equal(first, then) {
		for name, n := range then {
			if n != first[name] {
				t.Errorf("the engine answered %d %s commands in the 3 s after Close", n-first[name], name)
			}
		}
	}
}

// goroutines returns the stack of every goroutine by its header line ("goroutine 7 [...]:"
// without the state, which changes).
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := strings.Cut(string(g), " [")
		out[head] = string(g)
	}
	return out
}

// ours returns the stacks in now that were not in before and run code of agentdesk's (not
// its tests') or of the MongoDB driver, leaving out the caller's own goroutine.
func ours(now, before map[string]string) []string {
	var out []string
	for head, stack := range now {
		if _, old := before[head]; old || strings.Contains(stack, "server_test.ours(") || strings.Contains(stack, "server_test.goroutines(") {
			continue
		}
		for _, line := range strings.Split(stack, "\n") {
			line = strings.TrimSpace(line)
			if (strings.Contains(line, "/agentdesk/agentdesk/") && !strings.Contains(line, "_test.go:")) ||
				strings.Contains(line, "go.mongodb.org/mongo-driver") {
				out = append(out, stack)
				break
			}
		}
	}
	return out
}
