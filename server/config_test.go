package server

import (
	"io"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{
		"AGENTDESK_ADDR": ":9000", "AGENTDESK_DATA": "/var/lib/agentdesk", "MONGODB_URI": "mongodb://db/agentdesk",
		"AGENTDESK_DEMO": "true", "AGENTDESK_ALLOWED_ORIGINS": "http://a.example, https://b.example/",
		"AGENTDESK_INTROSPECTION": "false", "AGENTDESK_SESSION_TTL_SECONDS": "60",
	}
	c, err := ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.DataDir != "/var/lib/agentdesk" || c.MongoURI != "mongodb://db/agentdesk" || !c.Demo ||
		c.Introspection || c.SessionTTL != time.Minute || len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "https://b.example" {
		t.Fatalf("from env: %+v", c)
	}
	// Flags win over the environment.
	c, err = ParseConfig([]string{"-addr", "127.0.0.1:1", "-demo=false", "-allowed-origins", ""}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:1" || c.Demo || len(c.AllowedOrigins) != 0 {
		t.Fatalf("flags over env: %+v", c)
	}
	// Defaults.
	c, err = ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.MongoURI != "" || c.Demo || !c.Introspection || c.MaxBodyBytes != 1<<20 ||
		c.LoginAddrFailures != 20 {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := ParseConfig([]string{"-nope"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}

func TestRedactURI(t *testing.T) {
	if got := redactURI("mongodb://user:secret@db:27017/agentdesk"); got != "mongodb://user:xxxxx@db:27017/agentdesk" {
		t.Fatalf("redactURI = %s", got)
	}
}

func TestParseConfigCostLimits(t *testing.T) {
	env := map[string]string{"AGENTDESK_MAX_TOKENS": "100", "AGENTDESK_MAX_FIELDS": "50", "AGENTDESK_MAX_FRAGMENT_SPREADS": "5"}
	c, err := ParseConfig([]string{"-max-fields", "60"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxTokens != 100 || c.MaxFields != 60 || c.MaxFragmentSpreads != 5 {
		t.Fatalf("cost limits from env and flags: %+v", c)
	}
	c, _ = ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if c.MaxTokens != 5000 || c.MaxFields != 1200 || c.MaxFragmentSpreads != 250 || c.MaxDepth != 20 {
		t.Fatalf("cost limit defaults: %+v", c)
	}
	// The parser reads a token limit of 0 as none.
	if _, err := ParseConfig([]string{"-max-tokens", "0"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("-max-tokens 0 was accepted")
	}
}

func TestParseConfigOutbox(t *testing.T) {
	c, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outbox != workspace.DefaultOutboxPolicy() {
		t.Fatalf("outbox defaults: %+v", c.Outbox)
	}
	env := map[string]string{"AGENTDESK_OUTBOX_LEASE_MS": "2000", "AGENTDESK_OUTBOX_ATTEMPTS": "50", "AGENTDESK_OUTBOX_BACKOFF_MS": "100"}
	c, err = ParseConfig([]string{"-outbox-max-backoff", "400ms"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := workspace.OutboxPolicy{Lease: 2 * time.Second, MaxAttempts: 50, FirstBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, Batch: workspace.DefaultOutboxPolicy().Batch}
	if c.Outbox != want {
		t.Fatalf("outbox from env and flags: %+v, want %+v", c.Outbox, want)
	}
	for _, args := range [][]string{{"-outbox-attempts", "0"}, {"-outbox-lease", "0s"}, {"-outbox-backoff", "2s", "-outbox-max-backoff", "1s"}} {
		if _, err := ParseConfig(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}
