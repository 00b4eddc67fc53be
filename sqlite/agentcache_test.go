package sqlite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// fullAgent is an agent with every field set, so a copy that shares a slice or map, or
// forgets a field, shows.
func fullAgent(t *testing.T, planID string) *workspace.Agent {
	t.Helper()
	now := time.Now().Truncate(time.Millisecond)
	a := &workspace.Agent{ID: uuid.NewString(), Username: "u-" + uuid.NewString()[:8], Name: "Full", PasswordHash: []byte("hash"),
		Role: workspace.RoleAgent, Presence: workspace.Ready, PresenceSince: now, AutoAccept: true,
		Capacity: map[workspace.Channel]int{workspace.Webchat: 3}, PlanIDs: []string{planID},
		Holds: []workspace.Hold{{InteractionID: "ix-1", Channel: workspace.Webchat, Since: now}}, LastOfferAt: now, MissedOffers: 1,
		Recent: []workspace.Peer{{AgentID: "peer", At: now}}, CreatedAt: now, Signature: "<p>sig</p>", CallEndpoint: "sip:u@x",
		Disabled: false, Version: 1}
	v := reflect.ValueOf(*a)
	for i := range v.NumField() {
		if v.Field(i).IsZero() && v.Type().Field(i).Name != "Disabled" {
			t.Fatalf("fullAgent leaves %s unset: set it, and copy it in Agent.Clone if it holds a slice or map", v.Type().Field(i).Name)
		}
	}
	return a
}

// TestCloneAgentSharesNothing: a kept agent is handed out as a copy the caller may change.
func TestCloneAgentSharesNothing(t *testing.T) {
	a := fullAgent(t, "plan")
	c := a.Clone()
	if !reflect.DeepEqual(a, c) {
		t.Fatalf("copy differs:\n%+v\n%+v", a, c)
	}
	c.PasswordHash[0] = 'X'
	c.Capacity[workspace.Webchat] = 9
	c.PlanIDs[0] = "other"
	c.Holds[0].InteractionID = "other"
	c.Recent[0].AgentID = "other"
	if a.PasswordHash[0] == 'X' || a.Capacity[workspace.Webchat] == 9 || a.PlanIDs[0] == "other" || a.Holds[0].InteractionID == "other" || a.Recent[0].AgentID == "other" {
		t.Fatalf("changing the copy changed the original: %+v", a)
	}
}

// TestAgentListsDecodeOnlyNewVersions (issue 14): lists of agents (routing's READY agents,
// every agent, a search) serve an agent decoded before when its version has not moved, and
// read it again once it has, whether this store or another process wrote it.
func TestAgentListsDecodeOnlyNewVersions(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := uuid.NewString()
	a := fullAgent(t, plan)
	if err := s.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	lists := map[string]func() ([]*workspace.Agent, error){
		"ReadyAgents": func() ([]*workspace.Agent, error) { return s.ReadyAgents(ctx, []string{plan}, workspace.Webchat, 8) },
		"Agents":      func() ([]*workspace.Agent, error) { return s.Agents(ctx) },
		"SearchAgents": func() ([]*workspace.Agent, error) {
			got, _, err := s.SearchAgents(ctx, a.Username, "", 10)
			return got, err
		},
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			name := func() string {
				t.Helper()
				got, err := list()
				if err != nil || len(got) != 1 {
					t.Fatalf("%d agents, %v", len(got), err)
				}
				got[0].Holds = append(got[0].Holds, workspace.Hold{InteractionID: "scribbled"}) // a caller's change stays its own
				return got[0].Name
			}
			first := name()
			// Changed behind the version's back, which no write of the store does: a list still
			// serves what it decoded at that version, so it did not decode the row again.
			if _, err := s.write.ExecContext(ctx, `UPDATE agents SET name = 'behind' WHERE id = ?`, a.ID); err != nil {
				t.Fatal(err)
			}
			if got := name(); got != first {
				t.Fatalf("read %q at an unchanged version, want the kept %q", got, first)
			}
			// A write by another process (the admin command beside the server) moves the version.
			other, err := Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := other.Agent(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(fresh.Holds) != 1 {
				t.Fatalf("a caller's change reached the store's copy: %+v", fresh.Holds)
			}
			fresh.Name = fmt.Sprint("written by another process ", fresh.Version)
			if err := other.UpdateAgent(ctx, fresh); err != nil {
				t.Fatal(err)
			}
			other.Close()
			if got := name(); got != fresh.Name {
				t.Fatalf("read %q after another process wrote %q", got, fresh.Name)
			}
		})
	}
}

// TestReadyAgentsFromTheIndex: routing's read of the READY agents walks agents_ready in
// order and reads nothing else, whatever the plans and channel.
func TestReadyAgentsFromTheIndex(t *testing.T) {
	s := openTemp(t)
	for _, c := range []struct {
		plans []string
		ch    workspace.Channel
	}{{[]string{"p"}, workspace.Webchat}, {[]string{"p", "q"}, ""}, {nil, workspace.Voice}} {
		query, args := readyQuery(c.plans, c.ch, 8)
		got := queryPlan(t, s, query, args...)
		if !strings.Contains(got, "USING COVERING INDEX agents_ready") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant a walk of the covering index agents_ready without a sort", query, got)
		}
	}
}
