package workspace_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// env is the domain on a real SQLite store with a manual clock and the demo data:
// plans Support (codes required) and Sales (optional, 60 s wrap), agents alice, bob, carol.
type env struct {
	t     *testing.T
	s     *workspace.Service
	web   *webchat.Channel
	clock *workspace.ManualClock
	hub   *workspace.Hub
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := workspace.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	hub := workspace.NewHub(1024)
	s := workspace.NewService(store, hub, clock)
	s.BcryptCost = 4
	if err := s.SeedDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, web: webchat.New(s), clock: clock, hub: hub}
}

// as is a context signed in as the agent.
func (e *env) as(username string) context.Context {
	e.t.Helper()
	a, err := e.s.Store.AgentByUsername(e.t.Context(), username)
	if err != nil {
		e.t.Fatal(err)
	}
	return workspace.WithPrincipal(e.t.Context(), workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a})
}

func (e *env) agent(username string) *workspace.Agent {
	e.t.Helper()
	a, err := e.s.Store.AgentByUsername(e.t.Context(), username)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) plan(name string) *workspace.Plan {
	e.t.Helper()
	plans, err := e.s.Store.Plans(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range plans {
		if p.Name == name {
			return p
		}
	}
	e.t.Fatalf("no plan %s", name)
	return nil
}

func (e *env) ready(usernames ...string) {
	e.t.Helper()
	for _, u := range usernames {
		if _, err := e.s.SetPresence(e.as(u), workspace.Ready); err != nil {
			e.t.Fatal(err)
		}
		e.clock.Advance(time.Second) // so "idle longest" follows the order given
	}
}

// chat starts a webchat in the plan and returns the contact's context and the interaction.
func (e *env) chat(plan string) (context.Context, *workspace.Interaction) {
	e.t.Helper()
	token, ix, err := e.web.Start(e.t.Context(), webchat.Start{Name: "Visitor", PlanID: e.plan(plan).ID, Text: "Hello, I need help"})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.s.Authenticate(e.t.Context(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	return workspace.WithPrincipal(e.t.Context(), p), ix
}

func (e *env) get(id string) *workspace.Interaction {
	e.t.Helper()
	ix, err := e.s.Store.Interaction(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ix
}

func (e *env) tick() {
	e.t.Helper()
	if err := e.s.Tick(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// accept accepts the interaction's open offer as the agent it is offered to.
func (e *env) accept(ix *workspace.Interaction) *workspace.Interaction {
	e.t.Helper()
	ix = e.get(ix.ID)
	a, err := e.s.Store.Agent(e.t.Context(), ix.AgentID)
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := e.s.AcceptOffer(e.as(a.Username), ix.OfferID())
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := workspace.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func wantState(t *testing.T, ix *workspace.Interaction, st workspace.InteractionState) {
	t.Helper()
	if ix.State != st {
		t.Fatalf("state = %s, want %s", ix.State, st)
	}
}

func TestStateTable(t *testing.T) {
	allowed := map[[2]workspace.InteractionState]bool{
		{workspace.Queued, workspace.Offered}: true, {workspace.Offered, workspace.Active}: true,
		{workspace.Offered, workspace.Queued}: true, {workspace.Active, workspace.Wrap}: true,
		{workspace.Wrap, workspace.Completed}: true, {workspace.Queued, workspace.Completed}: true,
		{workspace.Offered, workspace.Completed}: true, {workspace.Active, workspace.Parked}: true,
		{workspace.Parked, workspace.Active}: true, {workspace.Parked, workspace.Queued}: true,
		{workspace.Parked, workspace.Wrap}: true, {workspace.Active, workspace.Queued}: true, // T1: to a plan
	}
	states := []workspace.InteractionState{workspace.Queued, workspace.Offered, workspace.Active, workspace.Parked, workspace.Wrap, workspace.Completed}
	for _, from := range states {
		for _, to := range states {
			if got := workspace.CanMove(from, to); got != allowed[[2]workspace.InteractionState{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestP1_OnlyReadyAgentsReceiveOffers(t *testing.T) {
	e := newEnv(t)
	_, ix := e.chat("Sales")
	wantState(t, ix, workspace.Queued) // everyone is OFFLINE
	if _, err := e.s.SetPresence(e.as("bob"), workspace.NotReady); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get(ix.ID), workspace.Queued)
	e.ready("alice") // going READY offers what waits
	got := e.get(ix.ID)
	wantState(t, got, workspace.Offered)
	if got.AgentID != e.agent("alice").ID {
		t.Fatalf("offered to %s, want alice", got.AgentID)
	}
}

func TestP2_CapacityPerChannelIsNeverExceeded(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	var ids []string
	for range 6 {
		_, ix := e.chat("Sales")
		ids = append(ids, ix.ID)
		e.clock.Advance(time.Second)
	}
	offered := 0
	for _, id := range ids {
		if e.get(id).State == workspace.Offered {
			offered++
		}
	}
	if offered != 4 { // webchat capacity 4
		t.Fatalf("%d offered, want 4 (capacity)", offered)
	}
	if a := e.agent("alice"); a.Used(workspace.Webchat) != 4 {
		t.Fatalf("alice uses %d webchat slots, want 4", a.Used(workspace.Webchat))
	}
	// Completing one frees a slot and the oldest queued chat is offered.
	first := e.accept(e.get(ids[0]))
	ctx := e.as("alice")
	if _, err := e.s.EndInteraction(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SelectDisposition(ctx, first.ID, "SALE"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteInteraction(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get(ids[4]), workspace.Offered)
	wantState(t, e.get(ids[5]), workspace.Queued)
}

func TestP3_RejectedGoesBackAndNotToTheRejecter(t *testing.T) {
	e := newEnv(t)
	e.ready("alice", "bob")
	_, ix := e.chat("Sales")
	ix = e.get(ix.ID)
	if ix.AgentID != e.agent("alice").ID {
		t.Fatal("alice, idle longest, should get the offer")
	}
	if _, err := e.s.RejectOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	got := e.get(ix.ID)
	wantState(t, got, workspace.Offered)
	if got.AgentID != e.agent("bob").ID {
		t.Fatalf("re-offered to %s, want bob", got.AgentID)
	}
	if e.agent("alice").Used(workspace.Webchat) != 0 {
		t.Fatal("alice still holds capacity for a rejected offer")
	}
	// Bob rejects too: nobody else may take it, so it waits in the queue.
	if _, err := e.s.RejectOffer(e.as("bob"), got.OfferID()); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get(ix.ID), workspace.Queued)
	_, err := e.s.AcceptOffer(e.as("bob"), got.OfferID()) // too late: it was rejected
	wantCode(t, err, workspace.EWRONGSTATE)
	e.ready("carol")
	if got := e.get(ix.ID); got.AgentID != e.agent("carol").ID {
		t.Fatal("carol, who never rejected it, should get it")
	}
}

// TestP3_RejectedByEveryoneRoutingReadsFirst: routing reads only the few READY agents idle
// longest (routeBatch). When every one of those rejected the work, it reads the others, and
// the one who never rejected it gets the offer, even idle the shortest.
func TestP3_RejectedByEveryoneRoutingReadsFirst(t *testing.T) {
	e := newEnv(t)
	sales := e.plan("Sales")
	var names []string
	for i := range 12 {
		name := fmt.Sprintf("rejecter-%02d", i)
		if _, err := e.s.CreateAgent(e.t.Context(), workspace.NewAgent{Username: name, Password: "x",
			PlanIDs: []string{sales.ID}, Capacity: map[workspace.Channel]int{workspace.Webchat: 3}}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	e.ready(names...)
	_, ix := e.chat("Sales")
	for i := range names {
		got := e.get(ix.ID)
		wantState(t, got, workspace.Offered)
		if got.AgentID != e.agent(names[i]).ID {
			t.Fatalf("offer %d went to %s, want %s, idle longest of those who did not reject it", i, got.AgentID, names[i])
		}
		if _, err := e.s.RejectOffer(e.as(names[i]), got.OfferID()); err != nil {
			t.Fatal(err)
		}
	}
	wantState(t, e.get(ix.ID), workspace.Queued)
	// Dora goes READY last: the twelve who rejected it have been idle longer.
	if _, err := e.s.CreateAgent(e.t.Context(), workspace.NewAgent{Username: "dora", Password: "x",
		PlanIDs: []string{sales.ID}, Capacity: map[workspace.Channel]int{workspace.Webchat: 3}}); err != nil {
		t.Fatal(err)
	}
	e.ready("dora")
	if got := e.get(ix.ID); got.State != workspace.Offered || got.AgentID != e.agent("dora").ID {
		t.Fatalf("after dora went READY: %s to %s, want OFFERED to dora", got.State, got.AgentID)
	}
}

func TestP4_AutoAcceptPerAgentAndPerPlan(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.agent("alice")
	alice.AutoAccept = true
	if err := e.s.Store.UpdateAgent(ctx, alice); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	offers := e.hub.Subscribe(ctx, workspace.AgentTopic(alice.ID))
	_, ix := e.chat("Sales")
	wantState(t, ix, workspace.Active)
	ev := <-offers
	if offerIn(ev).Kind != workspace.OfferOffered || !offerIn(ev).Offer.AutoAccepted || offerIn(ev).Offer.Interaction.State != workspace.Active {
		t.Fatalf("offer event = %+v, want an auto-accepted ACTIVE offer", offerIn(ev))
	}
	// An auto-accepted offer cannot be rejected: it is no longer open.
	_, err := e.s.RejectOffer(e.as("alice"), ix.OfferID())
	wantCode(t, err, workspace.EWRONGSTATE)

	// Per plan: bob has auto-accept off, the plan turns it on.
	plan := e.plan("Support")
	plan.AutoAccept = true
	if err := e.s.Store.UpdatePlan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetPresence(e.as("alice"), workspace.NotReady); err != nil {
		t.Fatal(err)
	}
	e.ready("bob")
	_, ix2 := e.chat("Support")
	wantState(t, ix2, workspace.Active)
	if !ix2.AutoAccepted || ix2.AgentID != e.agent("bob").ID {
		t.Fatalf("support chat = %+v, want auto-accepted by bob", ix2)
	}
}

func TestP5_OfferExpiresAndIsReoffered(t *testing.T) {
	e := newEnv(t)
	e.ready("alice", "bob")
	alice := e.agent("alice")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(alice.ID))
	_, ix := e.chat("Sales")
	<-offers
	e.clock.Advance(29 * time.Second)
	e.tick()
	wantState(t, e.get(ix.ID), workspace.Offered) // not yet: 30 s by default
	e.clock.Advance(time.Second)
	e.tick()
	got := e.get(ix.ID)
	if got.State != workspace.Offered || got.AgentID != e.agent("bob").ID || got.OfferSeq != 2 {
		t.Fatalf("after expiry: %s to %s (offer %d), want re-offered to bob", got.State, got.AgentID, got.OfferSeq)
	}
	ev := <-offers
	if offerIn(ev).Kind != workspace.OfferExpired || offerIn(ev).Offer.ID != ix.ID+".1" {
		t.Fatalf("alice got %+v, want EXPIRED of the first offer", offerIn(ev))
	}
	// The late answer to the expired offer is refused.
	_, err := e.s.AcceptOffer(e.as("alice"), ix.ID+".1")
	wantCode(t, err, workspace.EWRONGSTATE)
	if a := e.agent("alice"); a.MissedOffers != 1 || a.Used(workspace.Webchat) != 0 {
		t.Fatalf("alice: missed %d, used %d; want 1 and 0", a.MissedOffers, a.Used(workspace.Webchat))
	}
}

func TestP5_ThreeExpiriesInARowSetNotReady(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales")
	for i := 1; i <= 3; i++ {
		if got := e.get(ix.ID); got.AgentID != e.agent("alice").ID || got.State != workspace.Offered {
			t.Fatalf("round %d: %s to %s", i, got.State, got.AgentID)
		}
		e.clock.Advance(30 * time.Second)
		e.tick()
	}
	a := e.agent("alice")
	if a.Presence != workspace.NotReady {
		t.Fatalf("after 3 expiries alice is %s, want NOT_READY", a.Presence)
	}
	wantState(t, e.get(ix.ID), workspace.Queued)

	// An answered offer ends the run: two misses, an accept, two misses keep her READY.
	e.ready("alice")
	for range 2 {
		e.clock.Advance(30 * time.Second)
		e.tick()
	}
	e.accept(e.get(ix.ID))
	_, ix2 := e.chat("Sales")
	for range 2 {
		e.clock.Advance(30 * time.Second)
		e.tick()
	}
	if a := e.agent("alice"); a.Presence != workspace.Ready || a.MissedOffers != 2 {
		t.Fatalf("alice is %s with %d missed, want READY with 2", a.Presence, a.MissedOffers)
	}
	_ = ix2
}

func TestP6_LongestIdleReadyAgentWithCapacity(t *testing.T) {
	e := newEnv(t)
	e.ready("carol", "alice", "bob") // carol has been READY longest
	var chats []*workspace.Interaction
	for range 4 {
		_, ix := e.chat("Sales")
		chats = append(chats, ix)
		e.clock.Advance(time.Second)
	}
	a, b, c, d := chats[0], chats[1], chats[2], chats[3]
	order := []string{e.get(a.ID).AgentID, e.get(b.ID).AgentID, e.get(c.ID).AgentID, e.get(d.ID).AgentID}
	want := []string{e.agent("carol").ID, e.agent("alice").ID, e.agent("bob").ID, e.agent("carol").ID}
	if !slices.Equal(order, want) {
		t.Fatalf("offered to %v, want carol, alice, bob, then carol again", order)
	}
}

func TestP7_WrappingAgentStillReceivesOffers(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales")
	e.accept(ix)
	if _, err := e.s.EndInteraction(e.as("alice"), ix.ID); err != nil {
		t.Fatal(err)
	}
	_, next := e.chat("Sales")
	got := e.get(next.ID)
	if got.State != workspace.Offered || got.AgentID != e.agent("alice").ID {
		t.Fatalf("new chat is %s to %q, want offered to alice while she wraps", got.State, got.AgentID)
	}
	// Wrapping work uses capacity (docs/architecture.md): 1 wrapping + 1 offered.
	if used := e.agent("alice").Used(workspace.Webchat); used != 2 {
		t.Fatalf("alice uses %d, want 2", used)
	}
}

func TestH1_SendMessageAppendsAndReachesTheContact(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	msgs := e.hub.Subscribe(contact, workspace.MessagesTopic(ix.ID))
	e.accept(ix)
	if ev := <-msgs; messageIn(ev).From != workspace.PartySystem {
		t.Fatalf("first event %+v, want the 'joined' notice", messageIn(ev))
	}
	m, err := e.s.SendMessage(e.as("alice"), ix.ID, "Hi! How can I help?")
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-msgs; messageIn(ev).ID != m.ID || messageIn(ev).From != workspace.PartyAgent {
		t.Fatalf("contact got %+v, want the reply", messageIn(ev))
	}
	page, err := e.s.Transcript(t.Context(), ix, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range page.Items {
		texts = append(texts, string(m.From)+":"+m.Text)
	}
	want := []string{"CONTACT:Hello, I need help", "SYSTEM:Alice Martin joined the chat", "AGENT:Hi! How can I help?"}
	if !slices.Equal(texts, want) || page.Total != 3 {
		t.Fatalf("transcript %v (total %d), want %v", texts, page.Total, want)
	}
}

func TestH1_MessageValidation(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	e.s.MaxMessageChars = 10
	ctx := e.as("alice")
	_, err := e.s.SendMessage(ctx, ix.ID, "too early")
	wantCode(t, err, workspace.EWRONGSTATE) // offered, not accepted
	e.accept(ix)
	for _, text := range []string{"", "   \n", "12345678901"} {
		_, err := e.s.SendMessage(ctx, ix.ID, text)
		wantCode(t, err, workspace.EINVALID)
		_, err = e.web.Send(contact, text)
		wantCode(t, err, workspace.EINVALID)
	}
	if _, err := e.s.SendMessage(ctx, ix.ID, "1234567890"); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	// 10 characters in 19 bytes: the limit counts characters.
	if _, err := e.s.SendMessage(ctx, ix.ID, "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u2713"); err != nil {
		t.Fatalf("limit counts characters, not bytes: %v", err)
	}
	_, err = e.s.SendMessage(e.as("bob"), ix.ID, "not mine")
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.s.SendMessage(ctx, "not-a-uuid", "hi")
	wantCode(t, err, workspace.EINVALID)
	_, err = e.s.SendMessage(ctx, uuid.NewString(), "hi")
	wantCode(t, err, workspace.ENOTFOUND)
	_, err = e.s.SendMessage(contact, ix.ID, "contact on agent op")
	wantCode(t, err, workspace.EFORBIDDEN)
}

func TestH2_NotesAndOnlyTheLastCodeWhileActive(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales")
	e.accept(ix)
	ctx := e.as("alice")
	if _, err := e.s.SetNotes(ctx, ix.ID, "Wants the blue tent"); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"SALE", "FOLLOW_UP"} {
		if _, err := e.s.SelectDisposition(ctx, ix.ID, "ESCALATED"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.SelectDisposition(ctx, ix.ID, code); err != nil && code != "FOLLOW_UP" {
			t.Fatal(err)
		}
	}
	got := e.get(ix.ID)
	if got.Notes != "Wants the blue tent" || !slices.Equal(got.Dispositions, []string{"ESCALATED"}) {
		t.Fatalf("notes %q codes %v, want the notes and only ESCALATED (FOLLOW_UP is not a Sales code)", got.Notes, got.Dispositions)
	}
	_, err := e.s.SelectDisposition(ctx, ix.ID, "FOLLOW_UP")
	wantCode(t, err, workspace.EINVALID)
	_, err = e.s.SetNotes(e.as("bob"), ix.ID, "x")
	wantCode(t, err, workspace.EFORBIDDEN)
}

func TestH3_EveryInteractionHasAGUID(t *testing.T) {
	e := newEnv(t)
	_, a := e.chat("Sales")
	_, b := e.chat("Sales")
	for _, ix := range []*workspace.Interaction{a, b} {
		if _, err := uuid.Parse(ix.ID); err != nil {
			t.Fatalf("id %q is not a UUID", ix.ID)
		}
	}
	if a.ID == b.ID {
		t.Fatal("two interactions share an ID")
	}
}

func TestC4_W2_ContactEndsTheirChat(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	e.accept(ix)
	updates := e.hub.Subscribe(t.Context(), workspace.UpdatesTopic(e.agent("alice").ID))
	e.clock.Advance(95 * time.Second)
	got, err := e.web.End(contact)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workspace.Wrap || got.EndedBy != workspace.PartyContact || *got.DurationSeconds() != 95 {
		t.Fatalf("after the contact ended: %s by %s, %v s", got.State, got.EndedBy, got.DurationSeconds())
	}
	if ev := <-updates; updateIn(ev).State != workspace.Wrap || updateIn(ev).EndedBy != workspace.PartyContact {
		t.Fatalf("agent was told %+v, want WRAP ended by CONTACT", updateIn(ev))
	}
	_, err = e.web.End(contact)
	wantCode(t, err, workspace.EWRONGSTATE)
	_, err = e.web.Send(contact, "still there?")
	wantCode(t, err, workspace.EWRONGSTATE)
}

func TestC4_ContactLeavesBeforeAnAgentAnswers(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(e.agent("alice").ID))
	got, err := e.web.End(contact)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workspace.Completed || got.EndedBy != workspace.PartyContact {
		t.Fatalf("abandoned chat: %s by %s", got.State, got.EndedBy)
	}
	if ev := <-offers; offerIn(ev).Kind != workspace.OfferRescinded {
		t.Fatalf("alice got %s, want RESCINDED", offerIn(ev).Kind)
	}
	if e.agent("alice").Used(workspace.Webchat) != 0 {
		t.Fatal("the withdrawn offer still uses capacity")
	}
	wantState(t, e.get(ix.ID), workspace.Completed)
}

func TestW1_AgentEndsAndDurationIsSet(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Support")
	e.clock.Advance(10 * time.Second) // waiting time is not handling time
	e.accept(ix)
	e.clock.Advance(125 * time.Second)
	got, err := e.s.EndInteraction(e.as("alice"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != workspace.Wrap || got.EndedBy != workspace.PartyAgent || *got.DurationSeconds() != 125 {
		t.Fatalf("ended: %s by %s after %v s, want WRAP by AGENT after 125 s", got.State, got.EndedBy, *got.DurationSeconds())
	}
	_, err = e.s.EndInteraction(e.as("alice"), ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE)
}

func TestW3_RequiredCodeBlocksCompletion(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Support")
	e.accept(ix)
	ctx := e.as("alice")
	got, err := e.s.EndInteraction(ctx, ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WrapDeadline != nil {
		t.Fatal("a plan with required codes has no wrap timer")
	}
	_, err = e.s.CompleteInteraction(ctx, ix.ID)
	wantCode(t, err, workspace.EDISPOSITIONREQUIRED)
	_, err = e.s.ExtendWrap(ctx, ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE)
	// In WRAP several codes are kept.
	for _, c := range []string{"RESOLVED", "ESCALATED", "RESOLVED"} {
		if _, err := e.s.SelectDisposition(ctx, ix.ID, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.get(ix.ID); !slices.Equal(got.Dispositions, []string{"RESOLVED", "ESCALATED"}) {
		t.Fatalf("codes %v, want RESOLVED and ESCALATED", got.Dispositions)
	}
	done, err := e.s.CompleteInteraction(ctx, ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, done, workspace.Completed)
}

func TestW3_WrapTimerCompletesKeepingWhatWasEntered(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales") // optional codes, 60 s wrap
	e.accept(ix)
	ctx := e.as("alice")
	if _, err := e.s.EndInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetNotes(ctx, ix.ID, "called back later"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(50 * time.Second)
	got, err := e.s.ExtendWrap(ctx, ix.ID) // resets to 60 s from now
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(60 * time.Second); !got.WrapDeadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", got.WrapDeadline, want)
	}
	e.clock.Advance(59 * time.Second)
	e.tick()
	wantState(t, e.get(ix.ID), workspace.Wrap)
	e.clock.Advance(time.Second)
	e.tick()
	done := e.get(ix.ID)
	if done.State != workspace.Completed || done.Notes != "called back later" {
		t.Fatalf("after the timer: %s with notes %q", done.State, done.Notes)
	}
	if e.agent("alice").Used(workspace.Webchat) != 0 {
		t.Fatal("completion did not free capacity")
	}
}

func TestW5_CompleteMovesToHistory(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales")
	e.accept(ix)
	ctx := e.as("alice")
	if _, err := e.s.EndInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
	log, err := e.s.MyInteractions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Fatalf("log still holds %d interactions", len(log))
	}
	live, err := e.s.Store.LiveInteractions(t.Context(), workspace.LiveFilter{})
	if err != nil || len(live) != 0 {
		t.Fatalf("live set holds %d (%v)", len(live), err)
	}
	// Still readable by its GUID (H3, D1).
	got, err := e.s.Interaction(ctx, ix.ID)
	if err != nil || got.State != workspace.Completed || got.CompletedAt == nil {
		t.Fatalf("from history: %+v, %v", got, err)
	}
	_, err = e.s.CompleteInteraction(ctx, ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE)
}

func TestOfferAnswers(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	_, ix := e.chat("Sales")
	ix = e.get(ix.ID)
	_, err := e.s.AcceptOffer(e.as("bob"), ix.OfferID())
	wantCode(t, err, workspace.EFORBIDDEN) // another agent's offer
	e.accept(ix)
	_, err = e.s.AcceptOffer(e.as("alice"), ix.OfferID())
	wantCode(t, err, workspace.EWRONGSTATE) // already taken
	_, err = e.s.AcceptOffer(e.as("alice"), "nonsense")
	wantCode(t, err, workspace.EINVALID)
	_, err = e.s.AcceptOffer(e.as("alice"), uuid.NewString()+".1")
	wantCode(t, err, workspace.ENOTFOUND)
	_, err = e.s.AcceptOffer(e.as("alice"), ix.ID+".7")
	wantCode(t, err, workspace.ENOTFOUND)
	_, err = e.s.AcceptOffer(t.Context(), ix.OfferID())
	wantCode(t, err, workspace.EUNAUTHENTICATED)
}

func TestContactTokenIsScopedToItsChat(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	_, other := e.chat("Sales")
	_, err := e.s.MyInteractions(contact)
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.s.AcceptOffer(contact, e.get(ix.ID).OfferID())
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.s.Interaction(contact, ix.ID)
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.s.MessageFeed(contact, other.ID)
	wantCode(t, err, workspace.EFORBIDDEN)
	_, err = e.web.Chat(e.as("alice"))
	wantCode(t, err, workspace.EFORBIDDEN)
	mine, err := e.web.Chat(contact)
	if err != nil || mine.ID != ix.ID {
		t.Fatalf("myChat = %v, %v", mine, err)
	}
	// A forged token naming another chat does not authenticate.
	_, err = e.s.Authenticate(t.Context(), "adc_"+other.ID+".forged")
	wantCode(t, err, workspace.EUNAUTHENTICATED)
}

// TestSweepRepairsCrashLeftovers: a hold no interaction backs (a crash between reserving and
// offering) is released once it is old, whether its agent is READY or not; a hold that
// backs an open offer stays; a COMPLETED live record whose archiving was cut short is moved
// to history (P2, W5). The sweep reads the agents at work, never every agent stored.
func TestSweepRepairsCrashLeftovers(t *testing.T) {
	e := newEnv(t)
	e.s.Store = noFullList{t: t, Store: e.s.Store}
	e.ready("alice")
	_, ix := e.chat("Sales")
	ctx := t.Context()
	alice := e.agent("alice")
	alice.Holds = append(alice.Holds, workspace.Hold{InteractionID: uuid.NewString(), Channel: workspace.Webchat, Since: e.clock.Now()})
	if err := e.s.Store.UpdateAgent(ctx, alice); err != nil {
		t.Fatal(err)
	}
	bob := e.agent("bob") // signed out, with a hold a crash left
	bob.Holds = append(bob.Holds, workspace.Hold{InteractionID: uuid.NewString(), Channel: workspace.Webchat, Since: e.clock.Now()})
	if err := e.s.Store.UpdateAgent(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if bob.Presence == workspace.Ready {
		t.Fatal("bob should not be READY here")
	}
	orphan := e.get(ix.ID)
	orphan.State = workspace.Completed
	if _, _, err := e.web.Start(ctx, webchat.Start{PlanID: e.plan("Sales").ID, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.agent("alice").Holds); n != 3 {
		t.Fatalf("a young hold must stay: %d holds, want 3", n)
	}
	e.clock.Advance(11 * time.Second)
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	holds := e.agent("alice").Holds
	if len(holds) != 2 || holds[0].InteractionID != ix.ID {
		t.Fatalf("after the sweep alice holds %v, want the two open offers only", holds)
	}
	if holds := e.agent("bob").Holds; len(holds) != 0 {
		t.Fatalf("after the sweep bob, not READY, still holds %v", holds)
	}
	// A completion cut short after its first write is finished by the sweep.
	if err := e.s.Store.UpdateInteraction(ctx, orphan, workspace.Offered); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if live, _ := e.s.Store.LiveInteractions(ctx, workspace.LiveFilter{States: []workspace.InteractionState{workspace.Completed}}); len(live) != 0 {
		t.Fatal("the COMPLETED live record was not archived")
	}
	if got := e.get(ix.ID); got.State != workspace.Completed {
		t.Fatalf("from history: %s", got.State)
	}
	if holds := e.agent("alice").Holds; len(holds) != 1 {
		t.Fatalf("the archived interaction's hold was not released: %v", holds)
	}
}

// noFullList is a store whose full agent list fails the test: the sweep must not read it.
type noFullList struct {
	workspace.Store
	t *testing.T
}

func (n noFullList) Agents(ctx context.Context) ([]*workspace.Agent, error) {
	n.t.Error("the sweep listed every agent stored")
	return n.Store.Agents(ctx)
}

// offerLost is a store on which routing's offer of one interaction loses every race: the
// write that marks it OFFERED is CONFLICT (another node moved it on), and so is every write
// that would release the hold routing reserved for it.
type offerLost struct {
	workspace.Store
	ixID string
	on   atomic.Bool
}

func (o *offerLost) UpdateInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	if o.on.Load() && ix.ID == o.ixID {
		return workspace.Errorf(workspace.ECONFLICT, "the interaction was changed by someone else")
	}
	return o.Store.UpdateInteraction(ctx, ix, from)
}

func (o *offerLost) UpdateAgent(ctx context.Context, a *workspace.Agent) error {
	if o.on.Load() {
		stored, err := o.Store.Agent(ctx, a.ID)
		held := func(hs []workspace.Hold) bool {
			return slices.ContainsFunc(hs, func(h workspace.Hold) bool { return h.InteractionID == o.ixID })
		}
		if err == nil && held(stored.Holds) && !held(a.Holds) {
			return workspace.Errorf(workspace.ECONFLICT, "agent %s was changed by someone else", a.Username)
		}
	}
	return o.Store.UpdateAgent(ctx, a)
}

// TestCompletionStandsWhateverRoutingDoes: completing frees room, and routing then offers
// the queued chat; when that offer fails (the interaction's write and the hold's release
// both lose their races), the completion is still reported done: the interaction is
// COMPLETED, and the chat is left for the sweep. It used to report the release's CONFLICT,
// about the routing's work, as the completion's failure.
func TestCompletionStandsWhateverRoutingDoes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.agent("alice")
	alice.Capacity[workspace.Webchat] = 1
	if err := e.s.Store.UpdateAgent(ctx, alice); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	_, first := e.chat("Sales")
	first = e.accept(first)
	if _, err := e.s.EndInteraction(e.as("alice"), first.ID); err != nil {
		t.Fatal(err)
	}
	_, second := e.chat("Sales") // alice is full (WRAP holds her one chat): it waits
	wantState(t, e.get(second.ID), workspace.Queued)

	flaky := &offerLost{Store: e.s.Store, ixID: second.ID}
	flaky.on.Store(true)
	e.s.Store = flaky
	done, err := e.s.CompleteInteraction(e.as("alice"), first.ID)
	if err != nil {
		t.Fatalf("the completion failed because routing afterwards did: %v", err)
	}
	wantState(t, done, workspace.Completed)
	wantState(t, e.get(second.ID), workspace.Queued)

	flaky.on.Store(false)
	e.clock.Advance(time.Minute) // the stale hold routing left is past the sweep's age
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get(second.ID), workspace.Offered)
}
