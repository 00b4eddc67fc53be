package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestPlanCache: plans are read from memory once read, every write of a plan empties the
// cache, callers get copies they may change, and a read that began before a write does not
// put what it read back (issue 14: plans were read twice per webchat start).
func TestPlanCache(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	p := &workspace.Plan{ID: uuid.NewString(), Name: "Billing", Channels: []workspace.Channel{workspace.Webchat},
		DispositionCodes: []workspace.DispositionCode{{Code: "PAID", Label: "Paid"}}, CreatedAt: time.Now()}
	if err := s.CreatePlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Plan(ctx, p.ID)
	if err != nil || got.Name != "Billing" {
		t.Fatalf("%+v %v", got, err)
	}
	// A caller that changes what it got changes nothing for the next.
	got.Channels[0], got.DispositionCodes[0].Code, got.Name = workspace.SMS, "CHANGED", "Changed"
	again, err := s.Plan(ctx, p.ID)
	if err != nil || again.Name != "Billing" || again.Channels[0] != workspace.Webchat || again.DispositionCodes[0].Code != "PAID" {
		t.Fatalf("the cache kept a caller's change: %+v %v", again, err)
	}
	// Served from memory: the table can go without the reads noticing...
	if _, err := s.write.ExecContext(ctx, `UPDATE plans SET name = 'Behind its back' WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Plan(ctx, p.ID); again.Name != "Billing" {
		t.Fatalf("read %q: the plan was not served from the cache", again.Name)
	}
	// ...and the store's own writes empty it.
	again.Name = "Billing 2"
	if err := s.UpdatePlan(ctx, again); err != nil {
		t.Fatal(err)
	}
	all, err := s.Plans(ctx)
	if err != nil || len(all) == 0 {
		t.Fatal(all, err)
	}
	var found *workspace.Plan
	for _, q := range all {
		if q.ID == p.ID {
			found = q
		}
	}
	if found == nil || found.Name != "Billing 2" || found.Version != again.Version {
		t.Fatalf("after an update: %+v", found)
	}
	stale := *found
	stale.Name, stale.Version = "Lost the race", found.Version-1
	if err := s.UpdatePlan(ctx, &stale); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("an update from an old version: %v", err)
	}
	if q, _ := s.Plan(ctx, p.ID); q.Name != "Billing 2" {
		t.Fatalf("after a refused update: %q", q.Name)
	}
	if _, err := s.Plan(ctx, uuid.NewString()); workspace.ErrorCode(err) != workspace.ENOTFOUND {
		t.Fatalf("an unknown plan: %v", err)
	}

	// A read that a write overtakes does not fill the cache with what it read.
	var c planCache
	read := func(context.Context) ([]*workspace.Plan, error) {
		c.changed() // a plan is written while this read runs
		return []*workspace.Plan{{Name: "before the write"}}, nil
	}
	if _, err := c.get(ctx, read); err != nil {
		t.Fatal(err)
	}
	if c.all != nil {
		t.Fatal("a read from before a write was kept")
	}
}
