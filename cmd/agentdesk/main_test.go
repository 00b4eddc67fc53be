package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalShutdown builds the binary, starts it on the embedded store, waits until it is
// ready and sends SIGTERM: it must exit 0 promptly.
func TestSignalShutdown(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agentdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo")
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || !strings.Contains(lines.Text(), "embedded sqlite") {
			t.Fatalf("first line %q should say where it listens and which store it uses", lines.Text())
		}
		url := strings.Fields(strings.SplitN(lines.Text(), "listening on ", 2)[1])[0]
		res, err := http.Get(url + "/readyz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("readyz: %v %v", res, err)
		}
		res.Body.Close()
		go func() {
			for lines.Scan() {
			}
		}()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after %v: %v", sig, err)
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("still running 15 s after %v", sig)
		}
	}
}
