package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The voice channel's rules (X1, X2, W1 and C4 for calls, P2 and P4 for offers of calls).
// What a call is on the wire (SIP, RTP, WebRTC) is the voice package's business: it tells the
// domain what happened to a call (IncomingCall, CallEnded) and the domain tells it what the
// rules decided through the Calls port (connect the agent, hang up, dial). Every rule about
// an interaction that is a call is decided here.

// CallEndpoint is where an agent takes calls.
type CallEndpoint string

// Call endpoints.
const (
	// Softphone is the agent's browser, over WebRTC.
	Softphone CallEndpoint = "SOFTPHONE"
	// Hardphone is the agent's SIP phone, registered with agentdesk.
	Hardphone CallEndpoint = "HARDPHONE"
)

// Valid reports whether e is a known endpoint.
func (e CallEndpoint) Valid() bool { return e == Softphone || e == Hardphone }

// endpointOf is the agent's endpoint, SOFTPHONE when none was chosen.
func endpointOf(a *Agent) CallEndpoint {
	if a.CallEndpoint.Valid() {
		return a.CallEndpoint
	}
	return Softphone
}

// Calls is the media side of the voice channel (package voice): the domain tells it what
// its rules decided. Its methods must not block on the network for long; they report
// failures the domain acts on (a dial that fails ends the call).
type Calls interface {
	// Dial places the outbound call of ix (ACTIVE with its agent) from the identity (X1).
	Dial(ctx context.Context, ix *Interaction, id *Identity) error
	// Connect joins the agent who now holds ix (accepted, or taken over by a transfer) to
	// its customer's leg, on their endpoint.
	Connect(ctx context.Context, ix *Interaction, a *Agent) error
	// Offered tells of an offer of the call ix to the agent (a hardphone rings).
	Offered(ctx context.Context, ix *Interaction, a *Agent)
	// Detach drops the agent's leg of ix, and stops a hardphone ringing for it, while the
	// customer's leg stays up (a cold transfer to a plan, T1; an offer rejected or lapsed).
	Detach(ixID string)
	// Hangup ends every leg of ix's call; a call already gone is no error.
	Hangup(ixID string)
	// Signal hands the agent's browser's WebRTC message (offer, answer, candidate, bye) to
	// the call's agent leg.
	Signal(ctx context.Context, ixID, typ, payload string) error
	// Control mutes, holds or sends DTMF on the agent's leg.
	Control(ctx context.Context, ixID string, c CallControl) error
	// Live reports whether this node carries a call for ix.
	Live(ixID string) bool
}

// CallControl is one in-call action of the agent (issue 16, item 5).
type CallControl struct {
	Mute *bool
	Hold *bool
	// Digits are DTMF digits to send (RFC 4733): 0-9, *, #, A-D.
	Digits string
}

// InboundCall is an INVITE the voice channel accepted on an identity's number.
type InboundCall struct {
	// ID is the interaction's ID, chosen by the voice channel so it can file the call under
	// it before routing tells it of an offer; "" picks one.
	ID         string
	IdentityID string
	// From is the caller's number (or SIP user), Name their display name if any.
	From string
	Name string
}

// Voice limits.
const (
	// MaxRtcSignalBytes bounds one WebRTC signalling message (an SDP is a few KiB).
	MaxRtcSignalBytes = 16 << 10
	// ICEGrace is how long a call survives its agent's browser losing the network: an ICE
	// restart within it keeps the call; after it the system ends the call.
	ICEGrace = 30 * time.Second
)

// RtcSignal is one WebRTC signalling message between agentdesk and an agent's browser.
type RtcSignal struct {
	InteractionID string
	Type          string
	Payload       string
}

// RtcSignalEvent carries agentdesk's signalling to the agent's browser, on RtcTopic.
type RtcSignalEvent struct {
	Signal RtcSignal
}

// EventKind implements Payload.
func (*RtcSignalEvent) EventKind() EventKind { return KindRtc }

// RtcTopic is the topic of the WebRTC signalling for one agent's calls.
func RtcTopic(agentID string) string { return "rtc:" + agentID }

// rtcTypes are the signalling message types.
var rtcTypes = []string{"offer", "answer", "candidate", "bye"}

// errNoCalls refuses voice steps on a server that carries no voice channel.
func errNoCalls() error {
	return Errorf(EINVALID, "this server carries no voice channel")
}

// callEnded is the transcript line of an ended call (W1, X2): "Call ended · m:ss".
func callEnded(ix *Interaction) string {
	d := 0
	if ix.AcceptedAt != nil && ix.EndedAt != nil {
		d = int(ix.EndedAt.Sub(*ix.AcceptedAt) / time.Second)
	}
	return fmt.Sprintf("Call ended · %d:%02d", d/60, d%60)
}

// IncomingCall creates the VOICE interaction of an INVITE on a voice identity's number, and
// routes it like any other (P6; P4 accepts it at once). The voice channel has checked who
// may call; the interaction is returned as routing left it.
func (s *Service) IncomingCall(ctx context.Context, in InboundCall) (*Interaction, error) {
	from := NormaliseName(in.From)
	if IsBlank(from) || utf8.RuneCountInString(from) > maxNameChars {
		return nil, Errorf(EINVALID, "a call needs its caller, in at most 100 characters")
	}
	id, err := s.identityField(ctx, in.IdentityID)
	if err != nil {
		return nil, err
	}
	if id.Channel != Voice {
		return nil, Errorf(EINVALID, "identity %s carries %s, not calls", id.Name, id.Channel)
	}
	if n, err := NormalisePhone(from, "from"); err == nil {
		from = n
	}
	name := NormaliseName(in.Name)
	if utf8.RuneCountInString(name) > maxNameChars {
		name = ""
	}
	now := s.Clock.Now()
	ixID := in.ID
	if ixID == "" {
		ixID = uuid.NewString()
	} else if checkID(ixID) != nil {
		return nil, Errorf(EINVALID, "not a valid interaction ID: IDs are UUIDs")
	}
	ix := &Interaction{
		ID: ixID, Channel: Voice, Direction: Inbound, State: Queued,
		Contact: Contact{Address: from, Name: name}, PlanID: id.PlanID, IdentityID: id.ID,
		CreatedAt: now, QueuedAt: &now, ContactWroteAt: &now,
	}
	if err := s.createInteraction(ctx, ix); err != nil {
		return nil, err
	}
	s.queueChanged(ix.PlanID)
	s.systemMessage(ctx, ix, "Incoming call from "+from+" on "+id.Address)
	if err := s.routeArrival(ctx, ix); err != nil {
		return ix, err
	}
	return ix, nil
}

// CallEnded ends the interaction of a call whose far side went away: the customer hung up
// (by CONTACT, C4), the agent hung up their hardphone (by AGENT, X2), or the system lost
// the call (by SYSTEM: the agent's network, a restart). A call no agent answered yet is
// abandoned and its offer rescinded; an answered one enters WRAP with "Call ended · m:ss"
// (W1). A call already ended is left as it is.
func (s *Service) CallEnded(ctx context.Context, ixID string, by Party) (*Interaction, error) {
	if err := checkInteractionID(ixID); err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, ixID)
	if err != nil {
		return nil, err
	}
	if ix.Channel != Voice {
		return nil, Errorf(EINVALID, "interaction %s is not a call", ixID)
	}
	switch ix.State {
	case Queued, Offered:
		done, err := s.complete(ctx, ix.ID, ix, func(x *Interaction, now time.Time) error {
			if err := x.abandon(now); err != nil {
				return err
			}
			x.EndedBy = by
			return nil
		})
		if ErrorCode(err) == EWRONGSTATE { // answered meanwhile
			return s.CallEnded(ctx, ixID, by)
		} else if err != nil {
			return nil, err
		}
		s.systemMessage(ctx, done, "The caller hung up before an agent answered")
		return done, nil
	case Active, Parked:
		return s.end(ctx, ix, by, func(x *Interaction, p *Plan, now time.Time) error {
			if x.in(Active, Parked) != nil {
				return Errorf(EWRONGSTATE, "this call has already ended")
			}
			return x.end(by, p, now)
		})
	}
	return ix, nil
}

// EndDeadCalls ends, with a system notice, every live call this node's voice channel does not
// carry: after a restart no interaction stays ACTIVE with a dead call. Run it once at start,
// before the voice channel takes calls (one node: every call died with the process).
func (s *Service) EndDeadCalls(ctx context.Context) (int, error) {
	if s.Calls == nil {
		return 0, nil
	}
	live, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued, Offered, Active, Parked}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ix := range live {
		if ix.Channel != Voice || s.Calls.Live(ix.ID) {
			continue
		}
		done, err := s.CallEnded(ctx, ix.ID, PartySystem)
		if err != nil {
			return n, err
		}
		s.systemMessage(ctx, done, "The call was lost when agentdesk restarted")
		n++
	}
	return n, nil
}

// StartCallInput is an agent's outbound or consult call (X1).
type StartCallInput struct {
	To         string
	IdentityID string
	// FromInteractionID is the chat or email the consult call belongs to; "" for a plain
	// outbound call.
	FromInteractionID string
}

// StartCall dials a number from a voice identity configured for outbound use. The call is
// ACTIVE with the caller at once and counts against their voice capacity, not their chat
// capacity (P2). With FromInteractionID, the call and the chat or email it came from are
// linked both ways (X1), and that interaction stays open.
func (s *Service) StartCall(ctx context.Context, in StartCallInput) (*Interaction, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if s.Calls == nil {
		return nil, errNoCalls()
	}
	to, err := NormalisePhone(in.To, "to")
	if err != nil {
		return nil, err
	}
	id, err := s.identityField(ctx, in.IdentityID)
	if err != nil {
		return nil, err
	}
	if id.Channel != Voice {
		return nil, fieldError(EINVALID, "identityId", "this identity carries %s, not calls", id.Channel)
	}
	if !id.Outbound {
		return nil, fieldError(EINVALID, "identityId", "this identity is not configured for outbound calls")
	}
	var from *Interaction
	if in.FromInteractionID != "" {
		if checkID(in.FromInteractionID) != nil {
			return nil, fieldError(EINVALID, "fromInteractionId", "not a valid interaction ID: IDs are UUIDs")
		}
		from, err = s.Store.Interaction(ctx, in.FromInteractionID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, fieldError(EINVALID, "fromInteractionId", "no such interaction")
		} else if err != nil {
			return nil, err
		}
		if from.AgentID != me.ID {
			return nil, Errorf(EFORBIDDEN, "this interaction is not yours")
		}
		if from.Channel == Voice {
			return nil, fieldError(EINVALID, "fromInteractionId", "a consult call starts from a chat or an email, not a call (X1)")
		}
		if from.State != Active {
			return nil, wrongState(from.State)
		}
		if from.LinkedInteractionID != "" {
			return nil, fieldError(EINVALID, "fromInteractionId", "this interaction already has a consult call (X1)")
		}
	}
	plan, err := s.Store.Plan(ctx, id.PlanID)
	if err != nil {
		return nil, err
	}
	fresh, err := s.Store.Agent(ctx, me.ID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	ix := &Interaction{
		ID: uuid.NewString(), Channel: Voice, Direction: Outbound, State: Active,
		Contact: Contact{Address: to}, AgentID: me.ID, PlanID: plan.ID, IdentityID: id.ID,
		CreatedAt: now, AcceptedAt: &now, CallEndpoint: endpointOf(fresh),
	}
	if from != nil {
		ix.LinkedInteractionID = from.ID
	}
	ix.settle(plan, now)
	if _, err := s.reserve(ctx, me.ID, ix, nil); errors.Is(err, errNoRoom) {
		return nil, &Error{Code: ENOCAPACITY, Message: "your VOICE capacity is in use: end your call first (P2)"}
	} else if err != nil {
		return nil, err
	}
	if err := s.createInteraction(ctx, ix); err != nil {
		_ = s.release(ctx, me.ID, ix.ID, nil)
		return nil, err
	}
	if from != nil {
		linked, _, err := s.mutate(ctx, from.ID, from, func(x *Interaction) error {
			if x.LinkedInteractionID != "" {
				return fieldError(EINVALID, "fromInteractionId", "this interaction already has a consult call (X1)")
			}
			x.LinkedInteractionID = ix.ID
			return nil
		})
		if err != nil { // lost a race for the link: the call is not placed
			s.abortCall(ctx, ix, "The consult call was not placed")
			return nil, err
		}
		s.publishUpdate(linked)
		s.systemMessage(ctx, linked, "Consult call to "+to+" started")
	}
	s.queueChanged(ix.PlanID)
	s.systemMessage(ctx, ix, "Calling "+to+" from "+id.Address)
	s.publishUpdate(ix)
	if err := s.Calls.Dial(ctx, ix, id); err != nil {
		s.abortCall(ctx, ix, "The call could not be placed: "+err.Error())
		return nil, Errorf(EINVALID, "the call could not be placed: %v", err)
	}
	s.callConnected(ctx, ix, me.ID)
	return ix, nil
}

// CallNote records in a call's transcript what the voice channel saw happen (why a call
// was not answered, say).
func (s *Service) CallNote(ctx context.Context, ixID, text string) {
	if ix, err := s.Store.Interaction(ctx, ixID); err == nil && ix.Channel == Voice {
		s.systemMessage(ctx, ix, text)
	}
}

// abortCall ends a call that could not go on, as the system.
func (s *Service) abortCall(ctx context.Context, ix *Interaction, why string) {
	if done, err := s.CallEnded(ctx, ix.ID, PartySystem); err == nil {
		s.systemMessage(ctx, done, why)
	}
}

// SetCallEndpoint chooses where the signed-in agent takes calls.
func (s *Service) SetCallEndpoint(ctx context.Context, e CallEndpoint) (*Agent, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if !e.Valid() {
		return nil, fieldError(EINVALID, "callEndpoint", "callEndpoint must be SOFTPHONE or HARDPHONE")
	}
	a, err := s.updateAgent(ctx, me.ID, func(a *Agent) error {
		if a.CallEndpoint == e {
			return errSkip
		}
		a.CallEndpoint = e
		return nil
	})
	if errors.Is(err, errSkip) { // already there
		return s.Store.Agent(ctx, me.ID)
	}
	return a, err
}

// CallEndpointOf is where the agent takes calls.
func CallEndpointOf(a *Agent) CallEndpoint { return endpointOf(a) }

// heldCall loads a call the signed-in agent holds, ACTIVE.
func (s *Service) heldCall(ctx context.Context, ixID string) (*Interaction, error) {
	_, ix, err := s.held(ctx, ixID)
	if err != nil {
		return nil, err
	}
	if ix.Channel != Voice {
		return nil, fieldError(EINVALID, "interactionId", "this interaction is not a call")
	}
	if ix.State != Active {
		return nil, wrongState(ix.State)
	}
	if s.Calls == nil {
		return nil, errNoCalls()
	}
	return ix, nil
}

// SendRtcSignal hands the agent's browser's signalling for a call they hold to its agent leg.
func (s *Service) SendRtcSignal(ctx context.Context, sig RtcSignal) error {
	if _, err := RequireAgent(ctx); err != nil {
		return err
	}
	if !slices.Contains(rtcTypes, sig.Type) {
		return fieldError(EINVALID, "type", "type must be one of %s", strings.Join(rtcTypes, ", "))
	}
	if len(sig.Payload) > MaxRtcSignalBytes {
		return fieldError(EINVALID, "payload", "the payload is limited to %d bytes", MaxRtcSignalBytes)
	}
	if !utf8.ValidString(sig.Payload) {
		return fieldError(EINVALID, "payload", "the payload must be UTF-8 text")
	}
	ix, err := s.heldCall(ctx, sig.InteractionID)
	if err != nil {
		return err
	}
	return s.Calls.Signal(ctx, ix.ID, sig.Type, sig.Payload)
}

// ControlCall mutes, holds (the customer hears a hold tone) or sends DTMF digits on a call
// the agent holds.
func (s *Service) ControlCall(ctx context.Context, ixID string, c CallControl) error {
	if _, err := RequireAgent(ctx); err != nil {
		return err
	}
	if len(c.Digits) > 32 || strings.Trim(c.Digits, "0123456789*#ABCD") != "" {
		return fieldError(EINVALID, "digits", "DTMF digits are 0-9, *, # and A-D, at most 32")
	}
	ix, err := s.heldCall(ctx, ixID)
	if err != nil {
		return err
	}
	return s.Calls.Control(ctx, ix.ID, c)
}

// PublishRtcSignal sends agentdesk's signalling for a call to the browser of the agent who
// holds it (the voice channel calls it).
func (s *Service) PublishRtcSignal(agentID string, sig RtcSignal) {
	s.notify(RtcTopic(agentID), &RtcSignalEvent{Signal: sig})
}

// AgentLost ends a call whose agent leg has been gone (no media, no ICE restart) since
// `since`: once ICEGrace has passed by the workspace clock, the system ends it. It reports
// whether it ended the call; the voice channel calls it again until it does or the leg
// comes back.
func (s *Service) AgentLost(ctx context.Context, ixID string, since time.Time) (bool, error) {
	if s.Clock.Now().Sub(since) < ICEGrace {
		return false, nil
	}
	done, err := s.CallEnded(ctx, ixID, PartySystem)
	if err != nil {
		return false, err
	}
	s.systemMessage(ctx, done, "The agent's connection was lost: the call was ended by the system")
	return true, nil
}

// LinkedInteraction is the interaction linked to ix (X1), when the caller may read it.
func (s *Service) LinkedInteraction(ctx context.Context, ix *Interaction) (*Interaction, error) {
	if ix.LinkedInteractionID == "" {
		return nil, nil
	}
	linked, err := s.Interaction(ctx, ix.LinkedInteractionID)
	if ErrorCode(err) == ENOTFOUND || ErrorCode(err) == EFORBIDDEN {
		return nil, nil
	}
	return linked, err
}

// callConnected tells the voice channel that agentID now holds the call ix.
func (s *Service) callConnected(ctx context.Context, ix *Interaction, agentID string) {
	if ix.Channel != Voice || s.Calls == nil {
		return
	}
	a, err := s.Store.Agent(ctx, agentID)
	if err != nil {
		return
	}
	if err := s.Calls.Connect(ctx, ix, a); err != nil {
		s.abortCall(ctx, ix, "The call could not be connected to "+a.Name+": "+err.Error())
	}
}

// callOffered tells the voice channel of an offer of a call.
func (s *Service) callOffered(ctx context.Context, ix *Interaction, a *Agent) {
	if ix.Channel == Voice && s.Calls != nil && ix.State == Offered {
		s.Calls.Offered(ctx, ix, a)
	}
}

// callUnanswered tells the voice channel that the offer of a call was rejected or lapsed: a
// hardphone that rings for it stops; the caller stays on the line for the next offer.
func (s *Service) callUnanswered(ix *Interaction) {
	if ix.Channel == Voice && s.Calls != nil {
		s.Calls.Detach(ix.ID)
	}
}

// callGone tells the voice channel that the call ix has ended.
func (s *Service) callGone(ix *Interaction) {
	if ix.Channel == Voice && s.Calls != nil {
		s.Calls.Hangup(ix.ID)
	}
}
