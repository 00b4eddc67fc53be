package server_test

import (
	"bytes"
	"io"
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
