package server_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/server"
)

// TestAdminCommands creates an agent and an API key with the operator commands, then uses
// both against a server on the same data.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	var out, errOut bytes.Buffer
	err := server.Admin(t.Context(), []string{"add-agent", "-data", dir, "-username", "dora", "-name", "Dora Diaz", "-supervisor"},
		env, strings.NewReader("s3cret-pass\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "created supervisor dora") {
		t.Fatalf("add-agent: %v %q %q", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := server.Admin(t.Context(), []string{"add-api-key", "-data", dir, "-name", "Acme CRM"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "adk_") {
		t.Fatalf("key %q", key)
	}
	// Errors are clear: a taken username, a missing name.
	err = server.Admin(t.Context(), []string{"add-agent", "-data", dir, "-username", "dora"}, env, strings.NewReader("x\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate agent: %v", err)
	}
	if err := server.Admin(t.Context(), []string{"add-api-key", "-data", dir}, env, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("add-api-key without -name succeeded")
	}

	m := start(t, func(c *server.Config) { c.DataDir, c.Demo = dir, false })
	r := post(t, m, "", `mutation { login(input:{username:"dora", password:"s3cret-pass"}) { agent { name role } } }`, nil)
	if dig(r.Data, "login.agent.name") != "Dora Diaz" || dig(r.Data, "login.agent.role") != "SUPERVISOR" {
		t.Fatalf("login as the new agent: %+v", r)
	}
	if r := post(t, m, key, `{ interactionPlans { id } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("new API key: %+v", r.Errors)
	}
}

// TestOneServerPerDataDirectory: the embedded store serves one process, since it keeps live
// interactions in memory; a second server on the same data directory is refused with a
// clear reason and the first one's process ID, and starts once the first has stopped. The
// admin command works beside a running server, and the server sees what it wrote.
func TestOneServerPerDataDirectory(t *testing.T) {
	dir := t.TempDir()
	onDir := func(c *server.Config) { c.DataDir = dir }
	first := start(t, onDir)

	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", dir}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	second := server.NewMain(cfg)
	second.Stdout = io.Discard
	err = second.Run(t.Context())
	if err == nil {
		second.Close()
		t.Fatal("a second server started on the data directory of a running one")
	}
	if msg := err.Error(); !strings.Contains(msg, "served by another agentdesk process") || !strings.Contains(msg, fmt.Sprint(os.Getpid())) {
		t.Fatalf("second server: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatalf("closing the refused server: %v", err)
	}

	// The admin command beside the running server.
	if err := server.Admin(t.Context(), []string{"add-agent", "-data", dir, "-username", "erin", "-name", "Erin"},
		func(string) string { return "" }, strings.NewReader("s3cret-pass\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("add-agent beside a running server: %v", err)
	}
	if r := post(t, first, "", `mutation { login(input:{username:"erin", password:"s3cret-pass"}) { agent { name } } }`, nil); dig(r.Data, "login.agent.name") != "Erin" {
		t.Fatalf("the running server does not see the agent the admin command added: %+v", r)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := start(t, onDir)
	if r := post(t, again, "", `mutation { login(input:{username:"erin", password:"s3cret-pass"}) { agent { name } } }`, nil); dig(r.Data, "login.agent.name") != "Erin" {
		t.Fatalf("after a restart on the directory: %+v", r)
	}
}

// TestGCPercent: the server collects at GOGC=200 unless GOGC says otherwise (issue 14).
func TestGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	start(t)
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("GC percent %d with GOGC unset, want 200", got)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // as the runtime read it at start
	start(t)
	if got := debug.SetGCPercent(100); got != 150 {
		t.Fatalf("GC percent %d with GOGC=150, want the operator's 150", got)
	}
}
