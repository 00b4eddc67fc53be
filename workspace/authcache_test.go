package workspace_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// countingStore counts the reads Authenticate makes, and can run something in the middle of
// an agent read (as if another request changed the agent right then).
type countingStore struct {
	workspace.Store
	sessions, agents atomic.Int64
	duringAgent      func()
}

func (c *countingStore) Session(ctx context.Context, hash string) (*workspace.Session, error) {
	c.sessions.Add(1)
	return c.Store.Session(ctx, hash)
}

func (c *countingStore) Agent(ctx context.Context, id string) (*workspace.Agent, error) {
	c.agents.Add(1)
	a, err := c.Store.Agent(ctx, id)
	if f := c.duringAgent; f != nil {
		c.duringAgent = nil
		f()
	}
	return a, err
}

// TestSessionCache (issue 14 §3): a session and its agent are read once and then served from
// memory; a change of the agent, a sign-out or a revocation is seen by the very next request;
// a read that a change overtook is not kept; nothing is kept longer than its TTL.
func TestSessionCache(t *testing.T) {
	e := newEnv(t)
	store := &countingStore{Store: e.s.Store}
	e.s.Store = store
	ctx := t.Context()
	token, _, _, err := e.s.Login(ctx, "alice", "demo")
	if err != nil {
		t.Fatal(err)
	}
	reads := func() int64 { return store.sessions.Load() + store.agents.Load() }
	auth := func() workspace.Principal {
		t.Helper()
		p, err := e.s.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	first := auth()
	before := reads()
	for range 5 {
		if p := auth(); p.Agent.ID != first.Agent.ID || p.Agent.Presence != workspace.Offline {
			t.Fatalf("cached principal: %+v", p.Agent)
		}
	}
	if got := reads() - before; got != 0 {
		t.Fatalf("five more requests read the store %d times", got)
	}

	// Her own change shows on the next request, from the record its event carried: the
	// request reads nothing.
	if _, err := e.s.SetPresence(workspace.WithPrincipal(ctx, first), workspace.Ready); err != nil {
		t.Fatal(err)
	}
	before = reads()
	ready := auth()
	if ready.Agent.Presence != workspace.Ready || ready.Agent.Version <= first.Agent.Version {
		t.Fatalf("after going READY the principal says %s at version %d", ready.Agent.Presence, ready.Agent.Version)
	}
	if got := reads() - before; got != 0 {
		t.Fatalf("the next request read the store %d times: the change's event carries her record", got)
	}
	if ready.Agent.PasswordHash != nil {
		t.Fatal("a principal kept from an event carries the password hash")
	}
	// An older record (events of two nodes crossing on the bus) changes nothing, and what a
	// caller does to its principal's agent does not reach the one kept.
	older := *first.Agent
	older.Presence = workspace.Offline
	e.s.Hub.Publish(workspace.Event{Topic: workspace.AgentsTopic, Payload: &workspace.AgentEvent{Agent: &older}})
	ready.Agent.Holds = append(ready.Agent.Holds, workspace.Hold{InteractionID: "not kept"})
	if p := auth(); p.Agent.Presence != workspace.Ready || len(p.Agent.Holds) != 0 {
		t.Fatalf("after an older record's event: %s with holds %v, want READY with none", p.Agent.Presence, p.Agent.Holds)
	}

	// A change that lands while her record is being read: that read is not kept.
	e.clock.Advance(3 * time.Second) // past the TTL: the next request reads
	store.duringAgent = func() {
		if _, err := e.s.SetPresence(workspace.WithPrincipal(ctx, first), workspace.NotReady); err != nil {
			t.Error(err)
		}
	}
	auth()
	before = reads()
	if p := auth(); p.Agent.Presence != workspace.NotReady || reads() == before {
		t.Fatalf("a read overtaken by a change was kept: presence %s, %d reads", p.Agent.Presence, reads()-before)
	}

	// The TTL: served from memory until it runs out, then read again.
	before = reads()
	auth()
	e.clock.Advance(2 * time.Second)
	auth()
	if got := reads() - before; got != 2 {
		t.Fatalf("%d reads across the TTL, want the session and the agent once", got)
	}

	// Signing out ends the session for the very next request.
	p := auth()
	if _, err := e.s.Logout(workspace.WithPrincipal(ctx, p)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(ctx, token); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("after sign-out: %v, want UNAUTHENTICATED", err)
	}

	// Disabling an agent ends their sessions for the very next request.
	token, _, _, err = e.s.Login(ctx, "bob", "demo")
	if err != nil {
		t.Fatal(err)
	}
	auth()
	bob := e.agent("bob")
	if _, err := e.s.SetAgentDisabled(e.as("admin"), bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(ctx, token); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("after disabling: %v, want UNAUTHENTICATED", err)
	}
}

// TestSessionCacheLetsGoOfExpiredSessions (issue 14 §4): a session is served from memory
// for the TTL only, so once it has run out the node does not keep it, though its agent
// makes no further request (an idle agent's socket authenticated once).
func TestSessionCacheLetsGoOfExpiredSessions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var tokens []string
	for _, name := range []string{"alice", "bob"} {
		token, _, _, err := e.s.Login(ctx, name, "demo")
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, token)
	}
	if _, err := e.s.Authenticate(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.s.Authenticate(ctx, tokens[1]); err != nil {
		t.Fatal(err)
	}
	if n := e.s.CachedSessions(); n != 2 {
		t.Fatalf("%d sessions cached, want 2", n)
	}
	e.s.SweepSessions() // both fresh
	if n := e.s.CachedSessions(); n != 2 {
		t.Fatalf("a sweep within the TTL left %d of 2 sessions", n)
	}
	e.clock.Advance(1500 * time.Millisecond) // alice's has run out, bob's has not
	e.s.SweepSessions()
	if n := e.s.CachedSessions(); n != 1 {
		t.Fatalf("%d sessions cached after alice's expired, want 1", n)
	}
	e.clock.Advance(time.Second)
	e.s.SweepSessions()
	if n := e.s.CachedSessions(); n != 0 {
		t.Fatalf("%d sessions cached after both expired", n)
	}
	// Nobody needs to call for it: keeping a session arms the sweep.
	if _, err := e.s.Authenticate(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	for deadline := time.Now().Add(10 * time.Second); e.s.CachedSessions() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an expired session is still kept 10 s later")
		}
	}
}
