package workspace_test

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/workspace"
)

// TestBurstIsFair (issue 14 §5): 1,000 webchats arrive in one second, in ten waves of
// concurrent starts, for 200 READY agents with room for 600 of them. None is lost, capacity
// is never exceeded, the 600 offered are the 600 oldest (FIFO per plan: a newcomer never
// overtakes a contact who waited longer, even one whose routing lost a race), and as agents
// complete work the queue drains oldest first, one offer per freed place.
func TestBurstIsFair(t *testing.T) {
	e := newEnv(t)
	sales := e.plan("Sales")
	agents, capacity, chats := 200, 3, 1000
	if raceEnabled { // the race detector slows every step about tenfold: the same shape, smaller
		agents, chats = 40, 200
	}
	const waves = 10
	ctx := t.Context()
	for i := range agents {
		a, err := e.s.CreateAgent(ctx, workspace.NewAgent{Username: fmt.Sprintf("burst-%03d", i), Password: "x",
			PlanIDs: []string{sales.ID}, Capacity: map[workspace.Channel]int{workspace.Webchat: capacity}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.SetPresence(workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a}), workspace.Ready); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)

	var mu sync.Mutex
	var failed []error
	for w := range waves {
		var wg sync.WaitGroup
		starts := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range starts {
					if _, _, err := e.web.Start(ctx, webchat.Start{Name: fmt.Sprintf("w%d-%d", w, i), PlanID: sales.ID, Text: "Hello"}); err != nil {
						mu.Lock()
						failed = append(failed, err)
						mu.Unlock()
					}
				}
			})
		}
		for i := range chats / waves {
			starts <- i
		}
		close(starts)
		wg.Wait()
		e.clock.Advance(time.Second / waves)
	}
	if len(failed) > 0 {
		t.Fatalf("%d starts failed, the first: %v", len(failed), failed[0])
	}

	live := func() (offered, queued []*workspace.Interaction) {
		all, err := e.s.Store.LiveInteractions(ctx, workspace.LiveFilter{PlanIDs: []string{sales.ID}})
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range all {
			switch ix.State {
			case workspace.Offered:
				offered = append(offered, ix)
			case workspace.Queued:
				queued = append(queued, ix)
			}
		}
		return offered, queued
	}
	offered, queued := live()
	places := agents * capacity
	if len(offered)+len(queued) != chats || len(offered) != places {
		t.Fatalf("%d offered and %d queued of %d chats, want %d offered (every place) and the rest queued", len(offered), len(queued), chats, places)
	}
	newestOffered := slices.MaxFunc(offered, func(a, b *workspace.Interaction) int { return a.CreatedAt.Compare(b.CreatedAt) })
	oldestQueued := slices.MinFunc(queued, func(a, b *workspace.Interaction) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if !newestOffered.CreatedAt.Before(oldestQueued.CreatedAt) {
		t.Fatalf("%s (%s) was offered while %s (%s) waited longer", newestOffered.Contact.Name, newestOffered.CreatedAt.Format(time.StampMilli),
			oldestQueued.Contact.Name, oldestQueued.CreatedAt.Format(time.StampMilli))
	}
	holding := map[string]int{}
	for _, ix := range offered {
		holding[ix.AgentID]++
	}
	for id, n := range holding {
		if n > capacity {
			t.Fatalf("agent %s holds %d offers, over a capacity of %d", id, n, capacity)
		}
	}

	// Agents work through their offers one at a time: each completion frees one place, which
	// the oldest waiting chat takes.
	byAge := func(a, b *workspace.Interaction) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	}
	slices.SortFunc(queued, byAge)
	for i := range 20 {
		ix := offered[i]
		a, err := e.s.Store.Agent(ctx, ix.AgentID)
		if err != nil {
			t.Fatal(err)
		}
		actx := workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a})
		for _, step := range []func() error{
			func() error { _, err := e.s.AcceptOffer(actx, ix.OfferID()); return err },
			func() error { _, err := e.s.EndInteraction(actx, ix.ID); return err },
			func() error { _, err := e.s.SelectDisposition(actx, ix.ID, sales.DispositionCodes[0].Code); return err },
			func() error { _, err := e.s.CompleteInteraction(actx, ix.ID); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		next := e.get(queued[i].ID)
		if next.State != workspace.Offered {
			t.Fatalf("completion %d: the oldest waiting chat is %s, want OFFERED", i+1, next.State)
		}
		if _, still := live(); len(still) != len(queued)-i-1 {
			t.Fatalf("completion %d: %d chats wait, want %d (one offer per freed place)", i+1, len(still), len(queued)-i-1)
		}
	}
}

// TestArrivalDoesNotOvertakeTheQueue: room appeared without routing (the node that made it
// died before offering, or its routing lost a race) while a chat waits; the next chat to
// arrive must not take the place: the waiting one is offered first (P6, FIFO per plan).
func TestArrivalDoesNotOvertakeTheQueue(t *testing.T) {
	e := newEnv(t)
	_, waiting := e.chat("Sales") // nobody is READY: it waits
	e.clock.Advance(time.Second)
	alice := e.agent("alice")
	alice.Presence, alice.PresenceSince = workspace.Ready, e.clock.Now()
	alice.Capacity[workspace.Webchat] = 1
	if err := e.s.Store.UpdateAgent(t.Context(), alice); err != nil { // room, and nobody routed
		t.Fatal(err)
	}
	_, newcomer := e.chat("Sales")
	wantState(t, e.get(waiting.ID), workspace.Offered)
	wantState(t, e.get(newcomer.ID), workspace.Queued)
	if got := newcomer.State; got != workspace.Queued {
		t.Fatalf("the newcomer's start returned it %s, want QUEUED", got)
	}
}
