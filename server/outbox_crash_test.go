package server_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
)

// TestOutboxSurvivesKill9 runs the real binary on a data folder, queues 100 replies while the
// provider answers every send with a 5xx (so they stay PENDING, the first one backing off),
// kills the process with SIGKILL, lets the provider recover and starts the binary again on the
// same folder: the provider receives each message exactly once (by its client_ref, the
// message's ID), in the order the agent sent them, and the API shows every one SENT.
func TestOutboxSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 100
	bin := buildAgentdesk(t)
	data := t.TempDir()
	sim := newVonageSim(t)

	first := startAgentdesk(t, bin, data)
	identity := saveVonageIdentity(t, first.url, sim, "+447700900150")
	alice := loginAt(t, first.url, "alice")
	ix := activeSMS(t, first.url, alice, sim, "+447700900151", "+447700900150")

	sim.Fail("", providersim.ServerError, 0) // every send: 500, a temporary failure
	ids := sendMessages(t, first.url, alice, ix, n)
	// The outbox has tried (and failed) several times: the backoff is running.
	waitLong(t, "failed send attempts", func() bool { return sim.Attempts() >= 5 })
	got := deliveries(t, first.url, alice, ix)
	if c := countDelivery(got, ids, "PENDING"); c != n {
		t.Fatalf("%d of %d messages PENDING before the kill: %v", c, n, got)
	}
	if len(sim.Received()) != 0 {
		t.Fatalf("the provider accepted %d sends while failing every one", len(sim.Received()))
	}
	t.Logf("killing the process after %d failed send attempts", sim.Attempts())
	first.kill(t)

	sim.ClearFaults()
	second := startAgentdesk(t, bin, data)
	sim.route(second.url, identity)
	received, err := sim.WaitFor(n, 5*time.Minute)
	if err != nil {
		t.Fatalf("the provider received %d of %d after the restart: %v\n%s", len(received), n, err, second.logs())
	}
	// Every message SENT (no receipts are posted), and only then the count: nothing is left to
	// be sent a second time.
	waitLong(t, "every message SENT", func() bool {
		got = deliveries(t, second.url, alice, ix)
		return countDelivery(got, ids, "SENT", "DELIVERED", "READ") == n
	})
	checkSentOnce(t, sim.Received(), ids)
}

// buildAgentdesk builds cmd/agentdesk into a temp folder.
func buildAgentdesk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentdesk")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/agentdesk/agentdesk/cmd/agentdesk").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childNode is the binary running as a child process.
type childNode struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan error
}

// startAgentdesk starts the binary on the embedded store in data, with demo data and an
// outbox that polls and backs off quickly (at most 500 ms between attempts, many of them),
// and the extra flags,
// and waits for the line saying where it listens. The environment is the test's own PATH and
// HOME only: no AGENTDESK_* or MONGODB_URI of the machine reaches it.
func startAgentdesk(t *testing.T, bin, data string, extra ...string) *childNode {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "off", "-data", data, "-demo",
		"-outbox-poll", "100ms", "-outbox-lease", "5s", "-outbox-attempts", "100000",
		"-outbox-backoff", "100ms", "-outbox-max-backoff", "500ms"}, extra...)...)
	// TMPDIR of its own: an upload the kill interrupts leaves its spooled part (gqlgen's
	// multipart temp file) there, which the test's clean-up removes, not in /tmp.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &childNode{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	lines := bufio.NewScanner(stdout)
	first := make(chan string, 1)
	go func() {
		line := ""
		if lines.Scan() {
			line = lines.Text()
		}
		first <- line
		for lines.Scan() {
		}
		c.done <- cmd.Wait()
	}()
	select {
	case line := <-first:
		_, rest, ok := strings.Cut(line, "listening on ")
		if !ok {
			t.Fatalf("first line %q; stderr:\n%s", line, c.stderr)
		}
		c.url = strings.Fields(rest)[0]
	case <-time.After(2 * time.Minute):
		t.Fatalf("no start-up line in 2 minutes; stderr:\n%s", c.stderr)
	}
	return c
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *childNode) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-c.done
	c.done <- err // for the cleanup
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v, not by SIGKILL", err)
	}
}

// logs is what the process wrote to stderr.
func (c *childNode) logs() string { return c.stderr.String() }

// lockedBuffer is a bytes.Buffer a process writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
