package workspace_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// transfer transfers as alice.
func (e *env) transfer(ix *workspace.Interaction, to workspace.TransferRequest) (*workspace.Interaction, error) {
	to.InteractionID = ix.ID
	return e.s.TransferInteraction(e.as("alice"), to)
}

func (e *env) toAgent(username string) workspace.TransferRequest {
	return workspace.TransferRequest{ToAgentID: e.agent(username).ID}
}

func ids(agents []*workspace.Agent) []string {
	var out []string
	for _, a := range agents {
		out = append(out, a.Username)
	}
	return out
}

func TestT1_T3_T4_T5_TransferToAnAgentAccepted(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	e.say(contact, "my router blinks red")
	if _, err := e.s.SendMessage(e.as("alice"), ix.ID, "Let me get a specialist"); err != nil {
		t.Fatal(err)
	}
	e.ready("bob")
	alice, bob := e.agent("alice"), e.agent("bob")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(bob.ID))
	results := e.hub.Subscribe(t.Context(), workspace.TransferTopic(alice.ID))
	before := e.transcriptTexts(ix.ID)

	pending, err := e.transfer(ix, e.toAgent("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if pending.State != workspace.Active || pending.AgentID != alice.ID || pending.Transfer == nil || pending.Transfer.ToAgentID != bob.ID {
		t.Fatalf("while the offer is open: %s with %s, transfer %+v; want ACTIVE with alice", pending.State, pending.AgentID, pending.Transfer)
	}
	ev := next(t, offers)
	if offerIn(ev) == nil || offerIn(ev).Kind != workspace.OfferOffered || offerIn(ev).Offer.TransferredBy != alice.ID || offerIn(ev).Offer.ID != pending.Transfer.OfferID {
		t.Fatalf("bob's offer event = %+v", ev)
	}
	if e.agent("bob").Used(workspace.Webchat) != 1 {
		t.Fatal("a transfer offer reserves the target's capacity, as routing does")
	}
	// bob's log lists the transfer offer, and he may read the whole transcript first (T3).
	log, err := e.s.MyInteractions(e.as("bob"))
	if err != nil || len(log) != 1 || log[0].ID != ix.ID || workspace.OpenOffer(e.as("bob"), log[0]) == nil {
		t.Fatalf("bob's log = %v (%v), want the transfer offer", log, err)
	}
	page, err := e.s.Transcript(e.as("bob"), log[0], nil, nil)
	if err != nil || len(page.Items) != len(before) {
		t.Fatalf("bob reads %v messages (%v), want all %d", page, err, len(before))
	}

	taken, err := e.s.AcceptOffer(e.as("bob"), offerIn(ev).Offer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if taken.State != workspace.Active || taken.AgentID != bob.ID || taken.Transfer != nil {
		t.Fatalf("after accept: %s with %s", taken.State, taken.AgentID)
	}
	res := next(t, results)
	if transferIn(res) == nil || transferIn(res).Outcome != workspace.TransferAccepted || transferIn(res).TargetAgentID != bob.ID {
		t.Fatalf("alice's transfer result = %+v", res)
	}
	// T5: it left alice's log and capacity; she can no longer send.
	if e.agent("alice").Used(workspace.Webchat) != 0 || e.agent("bob").Used(workspace.Webchat) != 1 {
		t.Fatal("capacity did not move from alice to bob")
	}
	mine, _ := e.s.MyInteractions(e.as("alice"))
	if len(mine) != 0 {
		t.Fatalf("alice's log still has %d interactions", len(mine))
	}
	_, err = e.s.SendMessage(e.as("alice"), ix.ID, "one more thing")
	wantCode(t, err, workspace.EFORBIDDEN)
	// She may still read what she handled.
	if got, err := e.s.Interaction(e.as("alice"), ix.ID); err != nil || got.AgentID != bob.ID {
		t.Fatalf("alice reads the transferred interaction: %v, %v", got, err)
	}
	if _, err := e.s.Interaction(e.as("carol"), ix.ID); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("carol, who never held it, reads it: %v", err)
	}
	// T4: the contact is not told: the transcript has nothing new.
	if after := e.transcriptTexts(ix.ID); !slices.Equal(after, before) {
		t.Fatalf("the transfer wrote to the transcript: %q", after[len(before):])
	}
	if _, err := e.s.SendMessage(e.as("bob"), ix.ID, "Hi, I can help with the router"); err != nil {
		t.Fatal(err)
	}
	// Each remembers the other for the "recent" filter (T2).
	for _, pair := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
		got, err := e.s.TransferTargets(e.as(pair[0]), "", true)
		if err != nil || !slices.Equal(ids(got), []string{pair[1]}) {
			t.Fatalf("%s's recent targets = %v (%v), want %s", pair[0], ids(got), err, pair[1])
		}
	}
}

func TestT6_TransferRejectedStaysWithTheSender(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	e.ready("bob")
	results := e.hub.Subscribe(t.Context(), workspace.TransferTopic(e.agent("alice").ID))
	pending, err := e.transfer(ix, e.toAgent("bob"))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := e.s.RejectOffer(e.as("bob"), pending.Transfer.OfferID)
	if err != nil {
		t.Fatal(err)
	}
	if kept.State != workspace.Active || kept.AgentID != e.agent("alice").ID || kept.Transfer != nil {
		t.Fatalf("after reject: %s with %s, transfer %v", kept.State, kept.AgentID, kept.Transfer)
	}
	if res := next(t, results); transferIn(res).Outcome != workspace.TransferRejected || transferIn(res).TargetAgentID != e.agent("bob").ID ||
		transferIn(res).Reason != workspace.RejectedByTarget {
		t.Fatalf("result = %+v", transferIn(res))
	}
	if e.agent("bob").Used(workspace.Webchat) != 0 || e.agent("alice").Used(workspace.Webchat) != 1 {
		t.Fatal("a rejected transfer must free bob's reserved slot and leave alice's")
	}
	if _, err := e.s.SendMessage(e.as("alice"), ix.ID, "still here"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.AcceptOffer(e.as("bob"), pending.Transfer.OfferID)
	wantCode(t, err, workspace.EWRONGSTATE) // answered already
	// A new transfer may follow.
	if _, err := e.transfer(ix, e.toAgent("bob")); err != nil {
		t.Fatal(err)
	}
}

func TestT6_UnansweredTransferExpiresAsRejected(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	e.ready("bob")
	bob := e.agent("bob")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(bob.ID))
	results := e.hub.Subscribe(t.Context(), workspace.TransferTopic(e.agent("alice").ID))
	pending, err := e.transfer(ix, e.toAgent("bob"))
	if err != nil {
		t.Fatal(err)
	}
	next(t, offers) // OFFERED
	e.clock.Advance(29 * time.Second)
	e.tick()
	none(t, results)
	e.clock.Advance(time.Second)
	e.tick()
	e.tick()
	if res := next(t, results); transferIn(res).Outcome != workspace.TransferRejected || transferIn(res).Reason != workspace.RejectedExpired {
		t.Fatalf("result = %+v, want REJECTED (expired)", transferIn(res))
	}
	none(t, results) // fired once
	if ev := next(t, offers); offerIn(ev).Kind != workspace.OfferExpired || offerIn(ev).Offer.ID != pending.Transfer.OfferID {
		t.Fatalf("bob's event = %+v, want his transfer offer EXPIRED", offerIn(ev))
	}
	if b := e.agent("bob"); b.MissedOffers != 1 || b.Used(workspace.Webchat) != 0 {
		t.Fatalf("bob: %d missed offers, %d held; want 1 and 0 (P5 counts transfer offers too)", b.MissedOffers, b.Used(workspace.Webchat))
	}
	got := e.get(ix.ID)
	if got.State != workspace.Active || got.AgentID != e.agent("alice").ID || got.Transfer != nil {
		t.Fatalf("after expiry: %s with %s", got.State, got.AgentID)
	}
}

func TestT1_TransferToAPlanRequeues(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	results := e.hub.Subscribe(t.Context(), workspace.TransferTopic(e.agent("alice").ID))
	queued, err := e.transfer(ix, workspace.TransferRequest{ToPlanID: e.plan("Sales").ID})
	if err != nil {
		t.Fatal(err)
	}
	if queued.State != workspace.Queued || queued.PlanID != e.plan("Sales").ID {
		t.Fatalf("after the transfer: %s in %s, want QUEUED in Sales (alice is the only READY agent and sent it away)", queued.State, queued.PlanID)
	}
	if res := next(t, results); transferIn(res).Outcome != workspace.TransferAccepted || transferIn(res).TargetAgentID != "" {
		t.Fatalf("result = %+v, want ACCEPTED by the plan", transferIn(res))
	}
	if e.agent("alice").Used(workspace.Webchat) != 0 {
		t.Fatal("the sender's capacity must be freed")
	}
	_, err = e.s.SendMessage(e.as("alice"), ix.ID, "hello?")
	wantCode(t, err, workspace.EFORBIDDEN)
	e.ready("bob")
	if got := e.get(ix.ID); got.State != workspace.Offered || got.AgentID != e.agent("bob").ID {
		t.Fatalf("%s to %s, want offered to bob", got.State, got.AgentID)
	}
}

func TestT1_TransferBadInput(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	e.ready("bob")
	carol := e.agent("carol") // OFFLINE
	cases := []struct {
		name string
		as   string
		req  workspace.TransferRequest
		code string
	}{
		{"no target", "alice", workspace.TransferRequest{}, workspace.EINVALID},
		{"two targets", "alice", workspace.TransferRequest{ToAgentID: e.agent("bob").ID, ToPlanID: e.plan("Sales").ID}, workspace.EINVALID},
		{"to oneself", "alice", e.toAgent("alice"), workspace.EINVALID},
		{"to an agent not READY", "alice", workspace.TransferRequest{ToAgentID: carol.ID}, workspace.ETARGETUNAVAILABLE},
		{"to an unknown agent", "alice", workspace.TransferRequest{ToAgentID: "0b2c7d62-5d1e-4f0e-9a55-1f0c0b7f0e11"}, workspace.ENOTFOUND},
		{"to a malformed agent ID", "alice", workspace.TransferRequest{ToAgentID: "bob"}, workspace.EINVALID},
		{"to an unknown plan", "alice", workspace.TransferRequest{ToPlanID: "0b2c7d62-5d1e-4f0e-9a55-1f0c0b7f0e11"}, workspace.ENOTFOUND},
		{"by someone who does not hold it", "bob", workspace.TransferRequest{ToPlanID: e.plan("Sales").ID}, workspace.EFORBIDDEN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.InteractionID = ix.ID
			_, err := e.s.TransferInteraction(e.as(c.as), c.req)
			wantCode(t, err, c.code)
			got := e.get(ix.ID)
			if got.State != workspace.Active || got.AgentID != e.agent("alice").ID || got.Transfer != nil {
				t.Fatalf("a refused transfer changed the interaction: %s with %s", got.State, got.AgentID)
			}
			if e.agent("bob").Used(workspace.Webchat) != 0 || e.agent("carol").Used(workspace.Webchat) != 0 {
				t.Fatal("a refused transfer left a hold behind")
			}
		})
	}
	// A full target is unavailable too.
	e.setCapacity("bob", 0)
	_, err := e.transfer(ix, e.toAgent("bob"))
	wantCode(t, err, workspace.ETARGETUNAVAILABLE)
	e.setCapacity("bob", 4)
	// One transfer at a time, and only while ACTIVE.
	if _, err := e.transfer(ix, e.toAgent("bob")); err != nil {
		t.Fatal(err)
	}
	_, err = e.transfer(ix, workspace.TransferRequest{ToPlanID: e.plan("Sales").ID})
	wantCode(t, err, workspace.EWRONGSTATE)
	_, err = e.s.ParkInteraction(e.as("alice"), ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE)
	_, err = e.s.AcceptOffer(e.as("carol"), e.get(ix.ID).Transfer.OfferID)
	wantCode(t, err, workspace.EFORBIDDEN) // someone else's transfer offer
}

func TestT1_OnlyActiveInteractionsTransfer(t *testing.T) {
	e := newEnv(t)
	e.ready("alice", "bob")
	_, ix := e.active("Support")
	e.park(ix)
	_, err := e.transfer(ix, e.toAgent("bob"))
	wantCode(t, err, workspace.EWRONGSTATE)
}

// Two transfers of one interaction at once: one wins, the loser's reserved slot is freed.
func TestT1_TwoTransfersAtOnceOneWins(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	for round := range 10 {
		_, ix := e.active("Support")
		e.ready("bob", "carol")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, to := range []string{"bob", "carol"} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = e.transfer(ix, e.toAgent(to)) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantCode(t, err, workspace.EWRONGSTATE)
			}
		}
		got := e.get(ix.ID)
		if won != 1 || got.Transfer == nil {
			t.Fatalf("round %d: %d transfers won (%v)", round, won, errs)
		}
		held := e.agent("bob").Used(workspace.Webchat) + e.agent("carol").Used(workspace.Webchat)
		if held != 1 {
			t.Fatalf("round %d: bob and carol hold %d slots, want 1 (the winner's)", round, held)
		}
		target := "bob"
		if got.Transfer.ToAgentID == e.agent("carol").ID {
			target = "carol"
		}
		if _, err := e.s.RejectOffer(e.as(target), got.Transfer.OfferID); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"bob", "carol"} {
			if _, err := e.s.SetPresence(e.as(u), workspace.NotReady); err != nil {
				t.Fatal(err)
			}
		}
		ctx := e.as("alice")
		if _, err := e.s.EndInteraction(ctx, ix.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.SelectDisposition(ctx, ix.ID, "RESOLVED"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestT2_TransferTargetsAreReadyAgents(t *testing.T) {
	e := newEnv(t)
	e.ready("alice", "bob")
	got, err := e.s.TransferTargets(e.as("alice"), "", false)
	if err != nil || !slices.Equal(ids(got), []string{"bob"}) {
		t.Fatalf("targets = %v (%v), want bob only: carol and admin are OFFLINE, alice is the caller", ids(got), err)
	}
	e.ready("carol", "admin")
	got, _ = e.s.TransferTargets(e.as("alice"), "", false)
	if !slices.Equal(ids(got), []string{"admin", "bob", "carol"}) { // by name: Ada, Bob, Carol
		t.Fatalf("targets = %v", ids(got))
	}
	got, _ = e.s.TransferTargets(e.as("alice"), "  NGUY ", false)
	if !slices.Equal(ids(got), []string{"carol"}) {
		t.Fatalf("search NGUY = %v, want carol (case-insensitive, trimmed)", ids(got))
	}
	got, _ = e.s.TransferTargets(e.as("alice"), "", true)
	if len(got) != 0 {
		t.Fatalf("recent targets before any transfer = %v", ids(got))
	}
	_, err = e.s.TransferTargets(e.as("alice"), string(make([]byte, 101)), false)
	wantCode(t, err, workspace.EINVALID)
	_, err = e.s.TransferTargets(t.Context(), "", false)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
}

func TestT6_ContactEndingWithdrawsAnOpenTransfer(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	e.ready("bob")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(e.agent("bob").ID))
	results := e.hub.Subscribe(t.Context(), workspace.TransferTopic(e.agent("alice").ID))
	if _, err := e.transfer(ix, e.toAgent("bob")); err != nil {
		t.Fatal(err)
	}
	next(t, offers)
	if _, err := e.web.End(contact); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, offers); offerIn(ev).Kind != workspace.OfferRescinded {
		t.Fatalf("bob's event = %+v, want RESCINDED", offerIn(ev))
	}
	if res := next(t, results); transferIn(res).Outcome != workspace.TransferRejected || transferIn(res).Reason != workspace.RejectedEnded {
		t.Fatalf("alice's result = %+v", transferIn(res))
	}
	got := e.get(ix.ID)
	if got.State != workspace.Wrap || got.AgentID != e.agent("alice").ID || got.Transfer != nil {
		t.Fatalf("%s with %s, transfer %v", got.State, got.AgentID, got.Transfer)
	}
	if e.agent("bob").Used(workspace.Webchat) != 0 {
		t.Fatal("bob's reserved slot was not freed")
	}
}

func TestT1_P4_AutoAcceptingTargetTakesTransfersAtOnce(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	bob := e.agent("bob")
	bob.AutoAccept = true
	if err := e.s.Store.UpdateAgent(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	e.ready("bob")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(bob.ID))
	taken, err := e.transfer(ix, e.toAgent("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if taken.AgentID != bob.ID || taken.Transfer != nil {
		t.Fatalf("with auto-accept (P4) the transfer completes at once; got %s, transfer %v", taken.AgentID, taken.Transfer)
	}
	if ev := next(t, offers); !offerIn(ev).Offer.AutoAccepted || offerIn(ev).Offer.Interaction.AgentID != bob.ID || offerIn(ev).Offer.TransferredBy != e.agent("alice").ID {
		t.Fatalf("bob is told %+v, want the auto-accepted transfer", offerIn(ev))
	}
}
