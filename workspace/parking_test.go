package workspace_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// active starts a chat in the plan, has alice accept it and returns the contact's context.
func (e *env) active(plan string) (context.Context, *workspace.Interaction) {
	e.t.Helper()
	contact, ix := e.chat(plan)
	if got := e.get(ix.ID); got.State != workspace.Offered || got.AgentID != e.agent("alice").ID {
		e.t.Fatalf("chat is %s with %s, want OFFERED to alice", got.State, got.AgentID)
	}
	return contact, e.accept(ix)
}

// park parks the interaction as alice.
func (e *env) park(ix *workspace.Interaction) *workspace.Interaction {
	e.t.Helper()
	got, err := e.s.ParkInteraction(e.as("alice"), ix.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// say sends a contact message.
func (e *env) say(contact context.Context, text string) *workspace.Message {
	e.t.Helper()
	m, err := e.web.Send(contact, text)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// setCapacity sets an agent's webchat capacity.
func (e *env) setCapacity(username string, n int) {
	e.t.Helper()
	a := e.agent(username)
	a.Capacity[workspace.Webchat] = n
	if err := e.s.Store.UpdateAgent(e.t.Context(), a); err != nil {
		e.t.Fatal(err)
	}
}

// next waits for the next event on a subscription.
func next(t *testing.T, ch <-chan workspace.Event) workspace.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return workspace.Event{}
	}
}

// none checks that no event is waiting on a subscription.
func none(t *testing.T, ch <-chan workspace.Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

// transcriptTexts is the interaction's transcript as "FROM: text" lines.
func (e *env) transcriptTexts(id string) []string {
	e.t.Helper()
	ms, err := e.s.Store.Messages(e.t.Context(), id, "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, string(m.From)+": "+m.Text)
	}
	return out
}

func TestK1_K3_ParkFreesCapacityAndSetsParkedUntil(t *testing.T) {
	e := newEnv(t)
	e.setCapacity("alice", 1)
	e.ready("alice")
	_, ix := e.active("Support")
	_, waiting := e.chat("Support")
	wantState(t, e.get(waiting.ID), workspace.Queued) // alice is full

	parked := e.park(ix)
	wantState(t, parked, workspace.Parked)
	if parked.ParkedUntil == nil || !parked.ParkedUntil.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("parkedUntil = %v, want now + 60 min (K3, plan default)", parked.ParkedUntil)
	}
	if parked.AgentID != e.agent("alice").ID || parked.ParkedBy != e.agent("alice").ID || e.get(ix.ID).ParkedBy != parked.ParkedBy {
		t.Fatalf("a parked interaction stays with the agent who parked it, and says who did: %q", parked.ParkedBy)
	}
	// K1: capacity is free again, so the waiting chat is offered to alice at once.
	if got := e.get(waiting.ID); got.State != workspace.Offered || got.AgentID != e.agent("alice").ID {
		t.Fatalf("waiting chat is %s, want OFFERED to alice once parking freed her slot", got.State)
	}
	if a := e.agent("alice"); a.Used(workspace.Webchat) != 1 || a.Holds[0].InteractionID != waiting.ID {
		t.Fatalf("alice holds %+v, want only the new offer", a.Holds)
	}
	log, err := e.s.MyInteractions(e.as("alice"))
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]workspace.InteractionState{}
	for _, x := range log {
		states[x.ID] = x.State
	}
	if states[ix.ID] != workspace.Parked || states[waiting.ID] != workspace.Offered {
		t.Fatalf("myInteractions = %v, want the parked chat and the new offer", states)
	}
}

func TestK1_ParkNeedsAnActiveInteractionOfYourOwn(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, offered := e.chat("Support")
	_, err := e.s.ParkInteraction(e.as("alice"), offered.ID)
	wantCode(t, err, workspace.EWRONGSTATE) // OFFERED, not ACTIVE
	ix := e.accept(offered)
	_, err = e.s.ParkInteraction(e.as("bob"), ix.ID)
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.s.ParkInteraction(e.as("alice"), "not-an-id")
	wantCode(t, err, workspace.EINVALID)
	e.park(ix)
	_, err = e.s.ParkInteraction(e.as("alice"), ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE) // already PARKED
	_, err = e.s.SendMessage(e.as("alice"), ix.ID, "hello?")
	wantCode(t, err, workspace.EWRONGSTATE) // no replies while parked
	if _, err := e.s.EndInteraction(e.as("alice"), ix.ID); err != nil {
		t.Fatalf("ending a parked interaction: %v", err)
	}
	wantState(t, e.get(ix.ID), workspace.Wrap)
}

func TestK2_AutoParkAfterContactSilence(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support") // auto-park after 600 s of contact silence
	if ix.AutoParkAt == nil || !ix.AutoParkAt.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("autoParkAt = %v, want accept + 10 min", ix.AutoParkAt)
	}
	e.clock.Advance(5 * time.Minute)
	updates := e.hub.Subscribe(t.Context(), workspace.UpdatesTopic(e.agent("alice").ID))
	e.say(contact, "still there?") // contact activity restarts the countdown
	if ev := next(t, updates); updateIn(ev) == nil || !updateIn(ev).AutoParkAt.Equal(e.clock.Now().Add(10*time.Minute)) ||
		!updateIn(ev).LastContactAt.Equal(e.clock.Now()) {
		t.Fatalf("alice's update after the contact wrote: %+v", updateIn(ev))
	}
	e.clock.Advance(4 * time.Minute)
	if _, err := e.s.SendMessage(e.as("alice"), ix.ID, "yes, checking"); err != nil {
		t.Fatal(err) // the agent's messages are not contact activity
	}
	e.clock.Advance(5*time.Minute + 59*time.Second)
	e.tick()
	wantState(t, e.get(ix.ID), workspace.Active) // 9 min 59 s after the contact's message
	for len(updates) > 0 {                       // the agent's own reply
		<-updates
	}
	e.clock.Advance(time.Second)
	e.tick()
	got := e.get(ix.ID)
	wantState(t, got, workspace.Parked)
	if got.ParkedUntil == nil || !got.ParkedUntil.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("parkedUntil = %v", got.ParkedUntil)
	}
	if got.ParkedBy != "" {
		t.Fatalf("parkedBy = %q, want none: the system parked it", got.ParkedBy)
	}
	if ev := next(t, updates); updateIn(ev) == nil || updateIn(ev).State != workspace.Parked {
		t.Fatalf("alice was told %+v, want the PARKED interaction", ev)
	}
	if e.agent("alice").Used(workspace.Webchat) != 0 {
		t.Fatal("auto-park must free capacity too (K1)")
	}
}

func TestK2_AutoParkOffOrWaitingForATransfer(t *testing.T) {
	e := newEnv(t)
	sales := e.plan("Sales")
	sales.AutoParkSeconds = 0
	if err := e.s.Store.UpdatePlan(t.Context(), sales); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	_, off := e.active("Sales")
	if off.AutoParkAt != nil || !off.DueAt.IsZero() {
		t.Fatalf("plan with auto-park off: autoParkAt %v, dueAt %v", off.AutoParkAt, off.DueAt)
	}
	e.clock.Advance(24 * time.Hour)
	e.tick()
	wantState(t, e.get(off.ID), workspace.Active)

	// An open transfer offer holds auto-park back until it is answered.
	_, ix := e.active("Support")
	e.ready("bob")
	e.clock.Advance(9*time.Minute + 50*time.Second)
	if _, err := e.s.TransferInteraction(e.as("alice"), workspace.TransferRequest{InteractionID: ix.ID, ToAgentID: e.agent("bob").ID}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second) // past auto-park, inside the 30 s transfer offer
	e.tick()
	got := e.get(ix.ID)
	if got.State != workspace.Active || got.Transfer == nil {
		t.Fatalf("state %s, transfer %v: want still ACTIVE with the transfer open", got.State, got.Transfer)
	}
	e.clock.Advance(10 * time.Second)
	e.tick() // the transfer offer lapses …
	e.tick() // … and then the overdue auto-park fires
	wantState(t, e.get(ix.ID), workspace.Parked)
}

func TestK4_ReplyUnparksBackToTheAgent(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	e.park(ix)
	unparked := e.hub.Subscribe(t.Context(), workspace.UnparkTopic(e.agent("alice").ID))
	e.clock.Advance(20 * time.Minute)
	m := e.say(contact, "I found the order number: 4711")

	got := e.get(ix.ID)
	if got.State != workspace.Active || got.AgentID != e.agent("alice").ID || got.ParkedUntil != nil || got.ParkedBy != "" {
		t.Fatalf("after the reply: %s with %s, parkedUntil %v, parkedBy %q; want ACTIVE with alice, no longer parked",
			got.State, got.AgentID, got.ParkedUntil, got.ParkedBy)
	}
	if got.AutoParkAt == nil || !got.AutoParkAt.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("autoParkAt = %v, want reply + 10 min", got.AutoParkAt)
	}
	if e.agent("alice").Used(workspace.Webchat) != 1 {
		t.Fatal("unparked back to alice: it must hold her capacity again")
	}
	ev := next(t, unparked)
	if unparkIn(ev) == nil || unparkIn(ev).Interaction.State != workspace.Active || unparkIn(ev).Message.ID != m.ID {
		t.Fatalf("unpark notification = %+v", ev)
	}
	texts := e.transcriptTexts(ix.ID)
	if texts[len(texts)-1] != "CONTACT: I found the order number: 4711" {
		t.Fatalf("transcript ends %q", texts[len(texts)-1])
	}
	if _, err := e.s.SendMessage(e.as("alice"), ix.ID, "Thanks!"); err != nil {
		t.Fatal(err)
	}
}

func TestK5_ParkedTimeoutEndsIt(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.active("Support")
	parked := e.park(ix)
	e.clock.Advance(59*time.Minute + 59*time.Second)
	e.tick()
	wantState(t, e.get(ix.ID), workspace.Parked)
	e.clock.Advance(time.Second)
	e.tick()
	got := e.get(ix.ID)
	if got.State != workspace.Wrap || got.EndedBy != workspace.PartySystem || !got.EndedAt.Equal(*parked.ParkedUntil) {
		t.Fatalf("after the timeout: %s by %s at %v, want WRAP by SYSTEM at parkedUntil", got.State, got.EndedBy, got.EndedAt)
	}
	if got.AgentID != e.agent("alice").ID || got.ParkedUntil != nil {
		t.Fatal("the ended interaction goes to WRAP with the agent who parked it")
	}
	e.tick()
	if again := e.get(ix.ID); again.Version != got.Version {
		t.Fatal("the parked timeout fired twice")
	}
	// Its wrap-up takes no capacity: it was freed at parking and stays free.
	if a := e.agent("alice"); a.Used(workspace.Webchat) != 0 {
		t.Fatalf("alice holds %+v", a.Holds)
	}
	ctx := e.as("alice")
	if _, err := e.s.SelectDisposition(ctx, ix.ID, "FOLLOW_UP"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
}

func TestK6_NoPostParkingPlanReplyEndsIt(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Sales") // Sales has no post-parking plan
	e.park(ix)
	unparked := e.hub.Subscribe(t.Context(), workspace.UnparkTopic(e.agent("alice").ID))
	e.say(contact, "Hello again")
	got := e.get(ix.ID)
	if got.State != workspace.Wrap || got.EndedBy != workspace.PartySystem || got.ParkedBy != "" {
		t.Fatalf("after the reply: %s by %s, parkedBy %q; want WRAP by SYSTEM at once (K6)", got.State, got.EndedBy, got.ParkedBy)
	}
	if ev := next(t, unparked); unparkIn(ev) == nil || unparkIn(ev).Interaction.State != workspace.Wrap {
		t.Fatalf("unpark notification = %+v, want the WRAP interaction", ev)
	}
	texts := e.transcriptTexts(ix.ID)
	if texts[len(texts)-2] != "CONTACT: Hello again" || texts[len(texts)-1] != "SYSTEM: The chat has ended" {
		t.Fatalf("transcript ends %q", texts[len(texts)-2:])
	}
	_, err := e.web.Send(contact, "anyone?")
	wantCode(t, err, workspace.EWRONGSTATE)
}

func TestK6_FullAgentReplyGoesToThePostParkingQueue(t *testing.T) {
	e := newEnv(t)
	e.setCapacity("alice", 1)
	e.ready("alice")
	contact, ix := e.active("Support")
	e.park(ix)
	e.active("Support") // alice's one slot is taken again
	unparked := e.hub.Subscribe(t.Context(), workspace.UnparkTopic(e.agent("alice").ID))
	e.say(contact, "back")
	got := e.get(ix.ID)
	if got.State != workspace.Queued || got.AgentID != "" || got.PlanID != e.plan("Support").ID || got.ParkedBy != "" {
		t.Fatalf("after the reply: %s with %q in %s, parkedBy %q; want QUEUED in Support (post-parking plan)", got.State, got.AgentID, got.PlanID, got.ParkedBy)
	}
	if a := e.agent("alice"); a.Used(workspace.Webchat) != 1 {
		t.Fatalf("alice holds %d, want 1: capacity is never exceeded on unpark", a.Used(workspace.Webchat))
	}
	if ev := next(t, unparked); unparkIn(ev).Interaction.State != workspace.Queued {
		t.Fatalf("unpark notification state %s, want QUEUED", unparkIn(ev).Interaction.State)
	}
	e.ready("bob")
	if got := e.get(ix.ID); got.State != workspace.Offered || got.AgentID != e.agent("bob").ID {
		t.Fatalf("%s to %s, want offered to bob from the queue", got.State, got.AgentID)
	}
	// bob joins silently: the contact already met an agent (T4's spirit for re-routed chats).
	before := len(e.transcriptTexts(ix.ID))
	e.accept(e.get(ix.ID))
	if after := e.transcriptTexts(ix.ID); len(after) != before {
		t.Fatalf("a re-routed chat announced its new agent: %q", after[before:])
	}
}

func TestK6_NotReadyAgentReplyGoesToTheQueue(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	e.park(ix)
	if _, err := e.s.SetPresence(e.as("alice"), workspace.NotReady); err != nil {
		t.Fatal(err)
	}
	e.ready("bob")
	unparked := e.hub.Subscribe(t.Context(), workspace.UnparkTopic(e.agent("alice").ID))
	e.say(contact, "hi")
	// Routed to bob at once; alice is told it went to the queue.
	if got := e.get(ix.ID); got.State != workspace.Offered || got.AgentID != e.agent("bob").ID {
		t.Fatalf("%s to %s, want offered to bob", got.State, got.AgentID)
	}
	if ev := next(t, unparked); unparkIn(ev).Interaction.State != workspace.Queued || unparkIn(ev).Interaction.AgentID != "" {
		t.Fatalf("alice's notification: %s with %q, want QUEUED", unparkIn(ev).Interaction.State, unparkIn(ev).Interaction.AgentID)
	}
	if got, err := e.s.Interaction(e.as("alice"), ix.ID); err != nil || got.ID != ix.ID {
		t.Fatalf("alice can no longer read the chat she parked: %v", err)
	}
}

// A reply in the very instant the parked timeout fires: exactly one of the two outcomes
// wins, the contact's message is kept either way, and capacity matches the outcome.
func TestK4_K5_ReplyRacesTheParkedTimeout(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	outcomes := map[workspace.InteractionState]int{}
	for i := range 12 {
		contact, ix := e.active("Support")
		parked := e.park(ix)
		e.clock.Set(*parked.ParkedUntil)
		var wg sync.WaitGroup
		var sendErr, tickErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, sendErr = e.web.Send(contact, "race") }()
		go func() { defer wg.Done(); tickErr = e.s.Tick(t.Context()) }()
		wg.Wait()
		if tickErr != nil {
			t.Fatal(tickErr)
		}
		got := e.get(ix.ID)
		texts := e.transcriptTexts(ix.ID)
		kept := false
		for _, line := range texts {
			kept = kept || line == "CONTACT: race"
		}
		switch {
		case got.State == workspace.Active && sendErr == nil:
			if !e.agent("alice").Holds[len(e.agent("alice").Holds)-1].Since.Equal(e.clock.Now()) {
				t.Fatal("unparked without a hold")
			}
		case got.State == workspace.Wrap && got.EndedBy == workspace.PartySystem:
			// The timeout won; the send either kept its message or was refused as too late.
			if sendErr != nil {
				wantCode(t, sendErr, workspace.EWRONGSTATE)
				kept = true // refused before storing: nothing to keep
			}
		default:
			t.Fatalf("round %d: %s by %s, send error %v", i, got.State, got.EndedBy, sendErr)
		}
		if !kept {
			t.Fatalf("round %d: the contact's accepted message is missing: %q", i, texts)
		}
		outcomes[got.State]++
		if _, err := e.s.EndInteraction(e.as("alice"), ix.ID); err != nil && workspace.ErrorCode(err) != workspace.EWRONGSTATE {
			t.Fatal(err)
		}
		ctx := e.as("alice")
		if _, err := e.s.SelectDisposition(ctx, ix.ID, "RESOLVED"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
			t.Fatal(err)
		}
		if n := e.agent("alice").Used(workspace.Webchat); n != 0 {
			t.Fatalf("round %d: alice holds %d after completing", i, n)
		}
	}
	t.Logf("outcomes over 12 races: %v", outcomes)
}
