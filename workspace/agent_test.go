package workspace_test

import (
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// TestAgentFor: who may see an agent named by what they read. Agents and readers see them;
// a webchat contact sees none (their agent reaches them by name only); no ID is no agent.
func TestAgentFor(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, _ := e.active("Sales")
	alice := e.agent("alice")
	if a, err := e.s.AgentFor(e.as("bob"), alice.ID); err != nil || a == nil || a.ID != alice.ID {
		t.Fatalf("an agent sees another: %v, %v", a, err)
	}
	if a, err := e.s.AgentFor(contact, alice.ID); err != nil || a != nil {
		t.Fatalf("a webchat contact sees %v, %v; want nothing", a, err)
	}
	if a, err := e.s.AgentFor(e.as("bob"), ""); err != nil || a != nil {
		t.Fatalf("no ID: %v, %v", a, err)
	}
	if a, err := e.s.AgentFor(e.as("bob"), "0b2c7d62-5d1e-4f0e-9a55-1f0c0b7f0e11"); err != nil || a != nil {
		t.Fatalf("an agent who does not exist: %v, %v", a, err)
	}
	if _, err := e.s.AgentFor(t.Context(), alice.ID); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("anonymous: %v, want UNAUTHENTICATED", err)
	}
}

// TestPlanTimers: what the plan shows of its timers (W3, S12, K2).
func TestPlanTimers(t *testing.T) {
	for _, c := range []struct {
		plan           workspace.Plan
		wrap, autoPark *int
	}{
		{workspace.Plan{WrapSeconds: 60, AutoParkSeconds: 600}, ptr(60), ptr(600)},
		{workspace.Plan{WrapSeconds: 60, DispositionRequired: true}, nil, nil}, // codes required: no countdown
		{workspace.Plan{WrapSeconds: 0, AutoParkSeconds: -1}, nil, nil},
	} {
		if w, a := c.plan.WrapTimerSeconds(), c.plan.AutoParkTimerSeconds(); !sameInt(w, c.wrap) || !sameInt(a, c.autoPark) {
			t.Errorf("%+v: wrap %v, auto-park %v", c.plan, w, a)
		}
	}
}

func ptr(n int) *int { return &n }

func sameInt(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
