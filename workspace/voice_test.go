package workspace_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// callLog is the voice channel's side of the Calls port in domain tests: it records what
// the domain told it, as the outbox stub does for senders. The real port (package voice)
// is tested with real SIP and WebRTC in voice/ and server/.
type callLog struct {
	mu       sync.Mutex
	steps    []string
	live     map[string]bool
	dialErr  error
	signals  []workspace.RtcSignal
	controls []workspace.CallControl
}

func (c *callLog) add(step string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, step)
}

func (c *callLog) Dial(_ context.Context, ix *workspace.Interaction, id *workspace.Identity) error {
	c.add("dial " + ix.Contact.Address + " from " + id.Address)
	return c.dialErr
}
func (c *callLog) Connect(_ context.Context, ix *workspace.Interaction, a *workspace.Agent) error {
	c.add("connect " + a.Username + " " + string(ix.CallEndpoint))
	return nil
}
func (c *callLog) Offered(_ context.Context, _ *workspace.Interaction, a *workspace.Agent) {
	c.add("offered " + a.Username + " " + string(workspace.CallEndpointOf(a)))
}
func (c *callLog) Detach(string) { c.add("detach") }
func (c *callLog) Hangup(string) { c.add("hangup") }
func (c *callLog) Signal(_ context.Context, ixID, typ, payload string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.signals = append(c.signals, workspace.RtcSignal{InteractionID: ixID, Type: typ, Payload: payload})
	return nil
}
func (c *callLog) Control(_ context.Context, _ string, cc workspace.CallControl) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.controls = append(c.controls, cc)
	return nil
}
func (c *callLog) Live(ixID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[ixID]
}

func (c *callLog) took() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.steps)
}

// voice sets up a VOICE identity (provider "test") on plan Support, for outbound use, and
// the call log standing for the voice channel.
func (e *env) voice() (*workspace.Identity, *callLog) {
	e.t.Helper()
	calls := &callLog{live: map[string]bool{}}
	e.s.Providers = providerStub{}
	e.s.Calls = calls
	ch, addr, name, yes, plan, prov := workspace.Voice, "+442071234567", "Acme Voice", true, e.plan("Support").ID, "test"
	id, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{Channel: &ch, Address: &addr, Name: &name,
		Outbound: &yes, PlanID: &plan, Provider: &prov})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, calls
}

// call rings the identity from a caller and returns the interaction as routing left it.
func (e *env) call(id *workspace.Identity, from string) *workspace.Interaction {
	e.t.Helper()
	ix, err := e.s.IncomingCall(e.t.Context(), workspace.InboundCall{IdentityID: id.ID, From: from})
	if err != nil {
		e.t.Fatal(err)
	}
	return ix
}

func wantLast(t *testing.T, texts []string, want string) {
	t.Helper()
	if len(texts) == 0 || texts[len(texts)-1] != want {
		t.Fatalf("transcript ends %q, want %q", texts, want)
	}
}

func TestCall_InboundIsOfferedAndEndedByTheAgent_X2_W1(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice")
	ix := e.call(id, "+44 7700 900123")
	wantState(t, ix, workspace.Offered)
	if ix.Channel != workspace.Voice || ix.Contact.Address != "+447700900123" || ix.AgentID != e.agent("alice").ID {
		t.Fatalf("call = %+v", ix)
	}
	ix = e.accept(ix)
	wantState(t, ix, workspace.Active)
	if ix.CallEndpoint != workspace.Softphone || ix.AutoParkAt != nil {
		t.Fatalf("endpoint %q, auto-park %v: a call is on the softphone by default and never auto-parks", ix.CallEndpoint, ix.AutoParkAt)
	}
	e.clock.Advance(65 * time.Second)
	ended, err := e.s.EndInteraction(e.as("alice"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, ended, workspace.Wrap)
	if ended.EndedBy != workspace.PartyAgent {
		t.Fatalf("ended by %s", ended.EndedBy)
	}
	wantLast(t, e.transcriptTexts(ix.ID), "SYSTEM: Call ended · 1:05")
	if got := calls.took(); !slices.Equal(got, []string{"offered alice SOFTPHONE", "connect alice SOFTPHONE", "hangup"}) {
		t.Fatalf("the voice channel was told %q", got)
	}
}

func TestCall_C4_CustomerHangsUpAfterAnswer(t *testing.T) {
	e := newEnv(t)
	id, _ := e.voice()
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	e.clock.Advance(3*time.Minute + 7*time.Second)
	ended, err := e.s.CallEnded(t.Context(), ix.ID, workspace.PartyContact)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, ended, workspace.Wrap)
	if ended.EndedBy != workspace.PartyContact {
		t.Fatalf("ended by %s", ended.EndedBy)
	}
	wantLast(t, e.transcriptTexts(ix.ID), "SYSTEM: Call ended · 3:07")
	// A BYE repeated, or one that crosses the agent's end, changes nothing.
	again, err := e.s.CallEnded(t.Context(), ix.ID, workspace.PartyContact)
	if err != nil || again.State != workspace.Wrap {
		t.Fatalf("second BYE: %v, %v", again, err)
	}
}

func TestCall_CallerHangsUpWhileRinging_OfferRescinded(t *testing.T) {
	e := newEnv(t)
	id, _ := e.voice()
	e.ready("alice")
	alice := e.agent("alice")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(alice.ID))
	ix := e.call(id, "+447700900123")
	if ev := next(t, offers); offerIn(ev).Kind != workspace.OfferOffered {
		t.Fatalf("first event %v", ev)
	}
	done, err := e.s.CallEnded(t.Context(), ix.ID, workspace.PartyContact)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, done, workspace.Completed)
	if ev := next(t, offers); offerIn(ev).Kind != workspace.OfferRescinded || offerIn(ev).Offer.Interaction.ID != ix.ID {
		t.Fatalf("want the offer rescinded, got %v", ev)
	}
	if n := e.agent("alice").Used(workspace.Voice); n != 0 {
		t.Fatalf("alice still holds %d calls", n)
	}
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); workspace.ErrorCode(err) == "" {
		t.Fatal("accepted a rescinded call")
	}
}

func TestCall_P2_VoiceCapacityOneAndCallsDoNotUseChatCapacity(t *testing.T) {
	e := newEnv(t)
	id, _ := e.voice()
	e.ready("alice")
	first := e.accept(e.call(id, "+447700900001"))
	second := e.call(id, "+447700900002")
	wantState(t, second, workspace.Queued) // alice's one voice slot is taken, nobody else is READY
	_, chat := e.chat("Support")
	if got := e.get(chat.ID); got.State != workspace.Offered || got.AgentID != e.agent("alice").ID {
		t.Fatalf("a chat is still offered to alice in a call: %s", got.State)
	}
	if _, err := e.s.EndInteraction(e.as("alice"), first.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(second.ID); got.State != workspace.Queued {
		t.Fatalf("the wrap of a call still holds its slot (P7): second call is %s", got.State)
	}
}

func TestCall_P4_AutoAcceptConnectsAtOnce(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	alice := e.agent("alice")
	alice.AutoAccept = true
	if err := e.s.Store.UpdateAgent(t.Context(), alice); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	ix := e.call(id, "+447700900123")
	wantState(t, ix, workspace.Active)
	if got := calls.took(); !slices.Contains(got, "connect alice SOFTPHONE") || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "offered") }) {
		t.Fatalf("the voice channel was told %q", got)
	}
}

func TestCall_CannotBeParked(t *testing.T) {
	e := newEnv(t)
	id, _ := e.voice()
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	_, err := e.s.ParkInteraction(e.as("alice"), ix.ID)
	wantCode(t, err, workspace.EWRONGSTATE)
	if !strings.Contains(err.Error(), "cannot be parked") {
		t.Fatalf("error %v", err)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	wantState(t, e.get(ix.ID), workspace.Active)
}

func TestCall_T1_ColdTransferReoffersWithTheCustomerLegUp(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	e.ready("bob")
	queued, err := e.transfer(ix, workspace.TransferRequest{ToPlanID: e.plan("Support").ID})
	if err != nil {
		t.Fatal(err)
	}
	if queued.State != workspace.Offered || queued.AgentID != e.agent("bob").ID {
		t.Fatalf("after the transfer the call is %s with %s, want OFFERED to bob", queued.State, queued.AgentID)
	}
	e.accept(queued)
	want := []string{"offered alice SOFTPHONE", "connect alice SOFTPHONE", "detach", "offered bob SOFTPHONE", "connect bob SOFTPHONE"}
	if got := calls.took(); !slices.Equal(got, want) {
		t.Fatalf("the voice channel was told %q, want %q (never a hangup)", got, want)
	}

	// To an agent: the target's acceptance connects them.
	e.ready("carol")
	if _, err := e.s.TransferInteraction(e.as("bob"), workspace.TransferRequest{InteractionID: ix.ID, ToAgentID: e.agent("carol").ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AcceptOffer(e.as("carol"), e.get(ix.ID).Transfer.OfferID); err != nil {
		t.Fatal(err)
	}
	if got := calls.took(); got[len(got)-1] != "connect carol SOFTPHONE" || slices.Contains(got, "hangup") {
		t.Fatalf("the voice channel was told %q", got)
	}
}

func TestCall_TwoAnswersAtOnce_OneWins(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice", "bob")
	ix := e.call(id, "+447700900123")
	offered := e.get(ix.ID)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, who := range []string{"alice", "alice", "bob", "alice"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.s.AcceptOffer(e.as(who), offered.OfferID())
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d answers won: %v", won, errs)
	}
	n := 0
	for _, s := range calls.took() {
		if strings.HasPrefix(s, "connect") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the call was connected %d times: %q", n, calls.took())
	}
}

func TestCall_X1_ConsultCallFromAChat(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice")
	_, chat := e.active("Support")
	alice := e.as("alice")
	call, err := e.s.StartCall(alice, workspace.StartCallInput{To: "+44 20 7946 0000", IdentityID: id.ID, FromInteractionID: chat.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, call, workspace.Active)
	if call.LinkedInteractionID != chat.ID || call.Direction != workspace.Outbound {
		t.Fatalf("call = %+v", call)
	}
	chatNow := e.get(chat.ID)
	wantState(t, chatNow, workspace.Active) // the chat stays open while the call runs
	if chatNow.LinkedInteractionID != call.ID {
		t.Fatalf("the chat links %q, want the call", chatNow.LinkedInteractionID)
	}
	a := e.agent("alice")
	if a.Used(workspace.Voice) != 1 || a.Used(workspace.Webchat) != 1 {
		t.Fatalf("alice uses %d voice and %d chat slots, want 1 and 1", a.Used(workspace.Voice), a.Used(workspace.Webchat))
	}
	if got := calls.took(); !slices.Equal(got, []string{"dial +442079460000 from +442071234567", "connect alice SOFTPHONE"}) {
		t.Fatalf("the voice channel was told %q", got)
	}
	linked, err := e.s.LinkedInteraction(alice, e.get(chat.ID))
	if err != nil || linked == nil || linked.ID != call.ID {
		t.Fatalf("linkedInteraction of the chat = %v, %v", linked, err)
	}
	// One call at a time (voice capacity 1), and one consult per chat.
	_, err = e.s.StartCall(alice, workspace.StartCallInput{To: "+442079460001", IdentityID: id.ID})
	wantCode(t, err, workspace.ENOCAPACITY)
	// Ending the call leaves the chat as it is.
	if _, err := e.s.EndInteraction(alice, call.ID); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get(chat.ID), workspace.Active)
}

func TestCall_StartCallRefusals(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	sms, _, _, _ := e.channels()
	e.s.Calls = calls
	e.ready("alice")
	_, chat := e.active("Support")
	alice := e.as("alice")
	cases := []struct {
		name string
		ctx  context.Context
		in   workspace.StartCallInput
		code string
	}{
		{"unauthenticated", t.Context(), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID}, workspace.EUNAUTHENTICATED},
		{"malformed number", alice, workspace.StartCallInput{To: "call me", IdentityID: id.ID}, workspace.EINVALID},
		{"oversized number", alice, workspace.StartCallInput{To: "+" + strings.Repeat("4", 5000), IdentityID: id.ID}, workspace.EINVALID},
		{"malformed identity", alice, workspace.StartCallInput{To: "+442079460000", IdentityID: "x"}, workspace.EINVALID},
		{"not a voice identity", alice, workspace.StartCallInput{To: "+442079460000", IdentityID: sms.ID}, workspace.EINVALID},
		{"malformed from", alice, workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID, FromInteractionID: "nope"}, workspace.EINVALID},
		{"another agent's chat", e.as("bob"), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID, FromInteractionID: chat.ID}, workspace.EFORBIDDEN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.StartCall(c.ctx, c.in)
			wantCode(t, err, c.code)
		})
	}
	// From a chat that has ended: WRONG_STATE.
	if _, err := e.s.EndInteraction(alice, chat.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.StartCall(alice, workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID, FromInteractionID: chat.ID})
	wantCode(t, err, workspace.EWRONGSTATE)
	// An identity not configured for outbound use.
	no := false
	if _, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: id.ID, Outbound: &no}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.StartCall(alice, workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID})
	wantCode(t, err, workspace.EINVALID)
	if slices.ContainsFunc(calls.took(), func(s string) bool { return strings.HasPrefix(s, "dial") }) {
		t.Fatalf("a refused start dialled: %q", calls.took())
	}
	if n := e.agent("alice").Used(workspace.Voice); n != 0 {
		t.Fatalf("refused starts hold %d voice slots", n)
	}
}

func TestCall_DialFailureEndsTheCallBySystem(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	calls.dialErr = errors.New("trunk unreachable")
	_, err := e.s.StartCall(e.as("alice"), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID})
	wantCode(t, err, workspace.EINVALID)
	wrapping, err := e.s.Store.LiveInteractions(t.Context(), workspace.LiveFilter{States: []workspace.InteractionState{workspace.Wrap}})
	if err != nil || len(wrapping) != 1 || wrapping[0].EndedBy != workspace.PartySystem {
		t.Fatalf("want the failed call in WRAP, ended by the system: %v, %v", wrapping, err)
	}
	wantLast(t, e.transcriptTexts(wrapping[0].ID), "SYSTEM: The call could not be placed: trunk unreachable")
	live, err := e.s.Store.LiveInteractions(t.Context(), workspace.LiveFilter{States: []workspace.InteractionState{workspace.Active}})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Fatalf("a failed dial left %d ACTIVE interactions", len(live))
	}
}

func TestCall_SetCallEndpoint(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	_, err := e.s.SetCallEndpoint(t.Context(), workspace.Hardphone)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
	_, err = e.s.SetCallEndpoint(e.as("alice"), "DESKPHONE")
	wantCode(t, err, workspace.EINVALID)
	a, err := e.s.SetCallEndpoint(e.as("alice"), workspace.Hardphone)
	if err != nil || a.CallEndpoint != workspace.Hardphone {
		t.Fatalf("%v, %v", a, err)
	}
	if got := e.agent("alice").CallEndpoint; got != workspace.Hardphone {
		t.Fatalf("stored %q", got)
	}
	if again, err := e.s.SetCallEndpoint(e.as("alice"), workspace.Hardphone); err != nil || again.CallEndpoint != workspace.Hardphone {
		t.Fatalf("setting it again: %v, %v", again, err)
	}
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	if ix.CallEndpoint != workspace.Hardphone {
		t.Fatalf("call endpoint %q", ix.CallEndpoint)
	}
	if got := calls.took(); !slices.Equal(got, []string{"offered alice HARDPHONE", "connect alice HARDPHONE"}) {
		t.Fatalf("the voice channel was told %q", got)
	}
}

func TestCall_SendRtcSignalAndControls(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	alice := e.as("alice")
	_, chat := e.chat("Support")
	cases := []struct {
		name string
		ctx  context.Context
		sig  workspace.RtcSignal
		code string
	}{
		{"unauthenticated", t.Context(), workspace.RtcSignal{InteractionID: ix.ID, Type: "answer", Payload: "v=0"}, workspace.EUNAUTHENTICATED},
		{"another agent's call", e.as("bob"), workspace.RtcSignal{InteractionID: ix.ID, Type: "answer", Payload: "v=0"}, workspace.EFORBIDDEN},
		{"unknown type", alice, workspace.RtcSignal{InteractionID: ix.ID, Type: "renegotiate", Payload: "v=0"}, workspace.EINVALID},
		{"oversized", alice, workspace.RtcSignal{InteractionID: ix.ID, Type: "answer", Payload: strings.Repeat("a", workspace.MaxRtcSignalBytes+1)}, workspace.EINVALID},
		{"not UTF-8", alice, workspace.RtcSignal{InteractionID: ix.ID, Type: "answer", Payload: "\xff\xfe"}, workspace.EINVALID},
		{"malformed ID", alice, workspace.RtcSignal{InteractionID: "1", Type: "answer", Payload: "v=0"}, workspace.EINVALID},
		{"not a call", alice, workspace.RtcSignal{InteractionID: chat.ID, Type: "answer", Payload: "v=0"}, workspace.EINVALID}, // a chat offered to alice
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, e.s.SendRtcSignal(c.ctx, c.sig), c.code)
		})
	}
	if err := e.s.SendRtcSignal(alice, workspace.RtcSignal{InteractionID: ix.ID, Type: "answer", Payload: "v=0"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.s.ControlCall(alice, ix.ID, workspace.CallControl{Digits: "12x"}), workspace.EINVALID)
	yes := true
	if err := e.s.ControlCall(alice, ix.ID, workspace.CallControl{Mute: &yes, Digits: "1#"}); err != nil {
		t.Fatal(err)
	}
	if len(calls.signals) != 1 || len(calls.controls) != 1 {
		t.Fatalf("signals %v, controls %v", calls.signals, calls.controls)
	}
	if _, err := e.s.EndInteraction(alice, ix.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.s.SendRtcSignal(alice, workspace.RtcSignal{InteractionID: ix.ID, Type: "candidate", Payload: "{}"}), workspace.EWRONGSTATE)
}

func TestCall_AgentNetworkLost_ICEGraceThenSystemEnds(t *testing.T) {
	e := newEnv(t)
	id, _ := e.voice()
	e.ready("alice")
	ix := e.accept(e.call(id, "+447700900123"))
	lost := e.clock.Now()
	e.clock.Advance(workspace.ICEGrace - time.Second)
	if ended, err := e.s.AgentLost(t.Context(), ix.ID, lost); err != nil || ended {
		t.Fatalf("ended within the grace: %v, %v", ended, err)
	}
	wantState(t, e.get(ix.ID), workspace.Active)
	e.clock.Advance(time.Second)
	if ended, err := e.s.AgentLost(t.Context(), ix.ID, lost); err != nil || !ended {
		t.Fatalf("not ended after the grace: %v, %v", ended, err)
	}
	got := e.get(ix.ID)
	wantState(t, got, workspace.Wrap)
	if got.EndedBy != workspace.PartySystem {
		t.Fatalf("ended by %s, want SYSTEM", got.EndedBy)
	}
	wantLast(t, e.transcriptTexts(ix.ID), "SYSTEM: The agent's connection was lost: the call was ended by the system")
}

func TestCall_RestartEndsDeadCalls(t *testing.T) {
	e := newEnv(t)
	id, calls := e.voice()
	e.ready("alice")
	active := e.accept(e.call(id, "+447700900001"))
	e.ready("bob")
	ringing := e.call(id, "+447700900002")
	_, chat := e.chat("Support")
	calls.live[active.ID] = false
	n, err := e.s.EndDeadCalls(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("ended %d, %v; want 2", n, err)
	}
	got := e.get(active.ID)
	wantState(t, got, workspace.Wrap)
	if got.EndedBy != workspace.PartySystem {
		t.Fatalf("ended by %s", got.EndedBy)
	}
	wantLast(t, e.transcriptTexts(active.ID), "SYSTEM: The call was lost when agentdesk restarted")
	wantState(t, e.get(ringing.ID), workspace.Completed)
	if st := e.get(chat.ID).State; st == workspace.Completed || st == workspace.Wrap {
		t.Fatalf("a chat was ended: %s", st)
	}
}
