package sqlite

import (
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestReadyAgentsMatchWholePlanIDs: ReadyAgents matches a plan ID's JSON text in plan_ids,
// so an ID that is part of another, or that JSON escapes, matches only itself.
func TestReadyAgentsMatchWholePlanIDs(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	a := &workspace.Agent{ID: uuid.NewString(), Username: "ida", Name: "Ida", PasswordHash: []byte("x"), Role: workspace.RoleAgent,
		Presence: workspace.Ready, PresenceSince: time.Now(), Capacity: map[workspace.Channel]int{workspace.Webchat: 1},
		PlanIDs: []string{"abc", `quote"d`, "<tag>"}, CreatedAt: time.Now()}
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		plans []string
		found bool
	}{
		{[]string{"abc"}, true},
		{[]string{"ab"}, false},
		{[]string{"bc"}, false},
		{[]string{"abcd"}, false},
		{[]string{`quote"d`}, true},
		{[]string{"quote"}, false},
		{[]string{"<tag>"}, true},
		{[]string{"tag"}, false},
		{[]string{"ab", "other", "abc"}, true},
		{[]string{"ab", "other"}, false},
	} {
		got, err := s.ReadyAgents(ctx, c.plans, workspace.Webchat, 0)
		if err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != c.found {
			t.Errorf("plans %q: %d agents, want found=%v", c.plans, len(got), c.found)
		}
	}
}
