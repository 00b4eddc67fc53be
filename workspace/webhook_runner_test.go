package workspace_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// countingWebhooks counts the reads of the webhooks list.
type countingWebhooks struct {
	workspace.Store
	reads atomic.Int32
}

func (c *countingWebhooks) Webhooks(ctx context.Context) ([]*workspace.Webhook, error) {
	c.reads.Add(1)
	return c.Store.Webhooks(ctx)
}

// recordingPoster records the event IDs it was handed and answers 200.
type recordingPoster struct {
	mu     sync.Mutex
	events []string
}

func (p *recordingPoster) Post(_ context.Context, _ string, _ []byte, h map[string]string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, h["X-Agentdesk-Event-Id"])
	return 200, nil
}

// Issue 14: events woke the webhook runner, which read the webhooks list three times per
// chat on a deployment with none. Once a look finds none, events no longer read it; the poll
// does, so a webhook another node creates still gets every event from its cursor.
func TestWebhookRunnerWithoutWebhooks(t *testing.T) {
	e := newEnv(t)
	store := &countingWebhooks{Store: e.s.Store}
	e.s.Store = store
	poster := &recordingPoster{}
	e.s.Poster = poster
	ctx := t.Context()
	deliver := func(poll bool) int {
		t.Helper()
		n, err := e.s.DeliverWebhooks(ctx, poll)
		if err != nil {
			t.Fatal(err)
		}
		e.s.WaitWebhooks()
		return n
	}

	deliver(false) // the first look reads: nothing is known yet
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("the first look read the webhooks %d times, want 1", n)
	}
	e.chat("Sales")
	for range 3 {
		deliver(false)
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("events woke the runner and it read the webhooks %d times in all, want 1 (none exist)", n)
	}
	deliver(true)
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("the poll read the webhooks %d times in all, want 2", n)
	}

	// Another node creates a webhook (straight into the store): events here do not see it,
	// the next poll does, and it delivers what was stored after its cursor.
	last, err := e.s.Store.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &workspace.Webhook{ID: uuid.NewString(), URL: "https://crm.example/hook", Kinds: workspace.ChangeKinds,
		Secret: "whsec_other-node", Active: true, CreatedAt: e.clock.Now(), Cursor: last}
	if err := e.s.Store.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	e.chat("Sales")
	if started := deliver(false); started != 0 {
		t.Fatalf("woken by events, the runner started %d runs: it should not have looked", started)
	}
	if started := deliver(true); started != 1 {
		t.Fatalf("the poll started %d runs, want 1", started)
	}
	events, err := e.s.Store.Events(ctx, last, 100)
	if err != nil {
		t.Fatal(err)
	}
	poster.mu.Lock()
	got := len(poster.events)
	poster.mu.Unlock()
	if len(events) == 0 || got != len(events) {
		t.Fatalf("the other node's webhook got %d deliveries, want the %d events stored after its cursor", got, len(events))
	}

	// Once one exists, events read again: deliveries follow events without waiting for a poll.
	reads := store.reads.Load()
	e.chat("Sales")
	if started := deliver(false); started != 1 || store.reads.Load() != reads+1 {
		t.Fatalf("with a webhook, events started %d runs with %d reads, want 1 and 1", started, store.reads.Load()-reads)
	}
}

// duringPoster runs during once, inside the first delivery, then answers 200.
type duringPoster struct {
	recordingPoster
	during func()
	once   sync.Once
}

func (p *duringPoster) Post(ctx context.Context, url string, body []byte, h map[string]string) (int, error) {
	p.once.Do(p.during)
	return p.recordingPoster.Post(ctx, url, body, h)
}

// TestWebhookRotatedDuringADelivery: a write to the webhook while a delivery is in flight (a
// supervisor rotating its secret) made the delivery's outcome lose its version guard, and
// the run ended with its lease held and its cursor behind: no later event went out until
// the lease expired, and the delivered one would go again. The outcome is now written on
// the fresh record, so the run goes on, and the next event goes out at once, no clock moved.
func TestWebhookRotatedDuringADelivery(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	last, err := e.s.Store.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &workspace.Webhook{ID: uuid.NewString(), URL: "https://crm.example/hook", Kinds: []workspace.ChangeKind{workspace.ChangeCreated},
		Secret: "whsec_before", Active: true, CreatedAt: e.clock.Now(), Cursor: last}
	if err := e.s.Store.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	poster := &duringPoster{}
	poster.during = func() {
		fresh, err := e.s.Store.Webhook(ctx, w.ID)
		if err != nil {
			t.Error(err)
			return
		}
		fresh.Secret = "whsec_after"
		if err := e.s.Store.UpdateWebhook(ctx, fresh); err != nil {
			t.Error(err)
		}
	}
	e.s.Poster = poster
	deliver := func() {
		t.Helper()
		if _, err := e.s.DeliverWebhooks(ctx, true); err != nil {
			t.Fatal(err)
		}
		e.s.WaitWebhooks()
	}
	delivered := func() int {
		poster.mu.Lock()
		defer poster.mu.Unlock()
		return len(poster.events)
	}

	e.chat("Sales")
	deliver()
	if n := delivered(); n != 1 {
		t.Fatalf("%d deliveries of the first chat's CREATED, want 1", n)
	}
	stored, err := e.s.Store.Webhook(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Secret != "whsec_after" || !stored.LeaseUntil.IsZero() || stored.Attempts != 0 {
		t.Fatalf("after the run: secret %q, lease until %v, %d attempts; want the rotated secret, no lease, 0 attempts",
			stored.Secret, stored.LeaseUntil, stored.Attempts)
	}
	e.chat("Sales")
	deliver()
	if n := delivered(); n != 2 {
		t.Fatalf("%d deliveries after a second chat, want 2: the first once, then the second", n)
	}
}
