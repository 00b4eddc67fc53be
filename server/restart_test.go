package server_test

import (
	"io"
	"testing"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
)

// stores lists the storage configurations every restart test runs on: the embedded default,
// the MongoDB adapter on the embedded test engine, and a real MongoDB when MONGODB_URI is set.
func stores(t *testing.T) map[string]func(t *testing.T) server.Config {
	base := func(t *testing.T) server.Config {
		cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg.BcryptCost = 4
		return cfg
	}
	out := map[string]func(t *testing.T) server.Config{
		"sqlite": base,
		"mongo-test-engine": func(t *testing.T) server.Config {
			cfg := base(t)
			cfg.MongoURI = mongotest.Start(t)
			return cfg
		},
	}
	if uri := mongotest.URI(t); uri != "" {
		out["real-mongodb"] = func(t *testing.T) server.Config {
			cfg := base(t)
			cfg.MongoURI = mongotest.URI(t)
			return cfg
		}
	}
	return out
}

// TestRestartKeepsAgentsAndSessions stops a node and starts a new one on the same data: the
// session token still works, presence is kept, and demo seeding adds nothing twice.
func TestRestartKeepsAgentsAndSessions(t *testing.T) {
	for name, config := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cfg := config(t)
			first := run(t, cfg)
			token := login(t, first, "alice")
			post(t, first, token, `mutation { setPresence(input:{presence:NOT_READY}) { agent { id } } }`, nil)
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			second := run(t, cfg) // -demo again: must be idempotent
			r := post(t, second, token, `{ me { username presence } interactionPlans { name } }`, nil)
			if dig(r.Data, "me.username") != "alice" || dig(r.Data, "me.presence") != "NOT_READY" {
				t.Fatalf("after restart: %+v", r)
			}
			if n := len(dig(r.Data, "interactionPlans").([]any)); n != 2 {
				t.Fatalf("%d plans after a second demo seeding, want 2", n)
			}
			agents, err := second.Store.Agents(t.Context())
			if err != nil || len(agents) != 4 {
				t.Fatalf("%d agents after a second demo seeding (%v), want 4", len(agents), err)
			}
			if r := post(t, second, "demo-crm-key", `{ interactionPlans { id } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("API key after restart: %+v", r.Errors)
			}
		})
	}
}
