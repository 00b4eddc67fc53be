package voice_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/webrtc/v4"
)

func TestVoice_ConsultCallFromAChatToAUAS_X1(t *testing.T) {
	e := newEnv(t)
	uas := newPhone(t, "127.0.0.1", 1000) // the trunk answers the consult call
	id := e.identity(`{"trunkAddress":"` + uas.addr.String() + `","callerId":"+442071234500"}`)
	e.ready("alice")
	_, chat, err := webchat.New(e.s).Start(t.Context(), webchat.Start{Name: "Visitor", PlanID: e.plan("Support").ID, Text: "Can someone call my landlord?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AcceptOffer(e.as("alice"), e.get(chat.ID).OfferID()); err != nil {
		t.Fatal(err)
	}
	sigs := e.signals("alice")
	call, err := e.s.StartCall(e.as("alice"), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID, FromInteractionID: chat.ID})
	if err != nil {
		t.Fatal(err)
	}
	invite := uas.answer()
	if invite.Recipient.User != "+442079460000" || invite.From().Address.User != "+442071234500" {
		t.Fatalf("INVITE to %s from %s, want +442079460000 from the caller ID", invite.Recipient.User, invite.From().Address.User)
	}
	br := e.browser("alice", 440)
	br.answer(sigs, "alice")
	eventually(t, "the callee hears alice", func() bool { return uas.hears(440) })
	eventually(t, "alice hears the callee", func() bool { return br.hears(1000) })
	if got := e.get(chat.ID); got.State != workspace.Active || got.LinkedInteractionID != call.ID {
		t.Fatalf("the chat is %s linked to %q: want ACTIVE, linked to the call", got.State, got.LinkedInteractionID)
	}
	if e.get(call.ID).LinkedInteractionID != chat.ID {
		t.Fatal("the call does not link the chat")
	}
	uas.bye()
	eventually(t, "the call in WRAP", func() bool { return e.get(call.ID).State == workspace.Wrap })
	if got := e.get(chat.ID).State; got != workspace.Active {
		t.Fatalf("the chat is %s after the call, want ACTIVE", got)
	}
	noSockets(t)
}

func TestVoice_OutboundCallNotAnsweredIsEndedBySystem(t *testing.T) {
	e := newEnv(t)
	uas := newPhone(t, "127.0.0.1", 1000)
	id := e.identity(`{"trunkAddress":"` + uas.addr.String() + `"}`)
	call, err := e.s.StartCall(e.as("alice"), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID})
	if err != nil {
		t.Fatal(err)
	}
	uas.ringing()
	uas.mu.Lock()
	in := uas.incoming
	uas.mu.Unlock()
	if err := in.Respond(486, "Busy Here", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the call ended by the system", func() bool { return e.get(call.ID).State == workspace.Wrap })
	if got := e.get(call.ID); got.EndedBy != workspace.PartySystem {
		t.Fatalf("ended by %s", got.EndedBy)
	}
	eventually(t, "the reason in the transcript", func() bool {
		tr := e.transcript(call.ID)
		return tr[len(tr)-1] == "SYSTEM: The call was not answered: 486 Busy Here"
	})
	noSockets(t)
}

// register registers a hardphone as username with its SIP password.
func (p *phone) register(to *net.UDPAddr, username, password string) (*sip.Response, error) {
	host := to.IP.String()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: to.Port})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: username, Host: host}})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: username, Host: host}, Params: tagged()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: username, Host: p.addr.IP.String(), Port: p.addr.Port}})
	ctx, cancel := context.WithTimeout(p.t.Context(), 10*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil || res.StatusCode != 401 {
		return res, err
	}
	return p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: username, Password: password})
}

func TestVoice_HardphoneAnswersAndHangsUp_X2(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	hard := newPhone(t, "127.0.0.1", 440)
	bridge := e.b.Addr()
	if res, err := hard.register(bridge, "alice", "wrong"); err != nil || res.StatusCode != 403 {
		t.Fatalf("a wrong password: %v, %v; want 403", res, err)
	}
	if res, err := hard.register(bridge, "bob", "alice-phone-secret"); err != nil || res.StatusCode != 403 {
		t.Fatalf("another agent's name: %v, %v; want 403", res, err)
	}
	if res, err := hard.register(bridge, "alice", "alice-phone-secret"); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v, %v", res, err)
	}
	if _, err := e.s.SetCallEndpoint(e.as("alice"), workspace.Hardphone); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	ix := e.callIn(trunk)
	hard.answer() // picking up is the accept
	eventually(t, "the call ACTIVE with alice", func() bool { return e.get(ix.ID).State == workspace.Active })
	if got := e.get(ix.ID); got.CallEndpoint != workspace.Hardphone || got.AgentID != e.agent("alice").ID {
		t.Fatalf("call on %q with %s", got.CallEndpoint, got.AgentID)
	}
	eventually(t, "the caller hears the hardphone", func() bool { return trunk.hears(440) })
	eventually(t, "the hardphone hears the caller", func() bool { return hard.hears(1000) })
	e.clock.Advance(61 * time.Second)
	hard.bye() // X2: hanging up the hardphone ends the call
	eventually(t, "the call in WRAP", func() bool { return e.get(ix.ID).State == workspace.Wrap })
	if got := e.get(ix.ID); got.EndedBy != workspace.PartyAgent {
		t.Fatalf("ended by %s, want AGENT", got.EndedBy)
	}
	e.lastLine(ix.ID, "SYSTEM: Call ended · 1:01")
	eventually(t, "the caller gets BYE", trunk.ended)
	noSockets(t)
}

func TestVoice_ICERestartKeepsTheCall_LossPastGraceEndsIt(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	e.ready("alice")
	sigs := e.signals("alice")
	ix := e.callIn(trunk)
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	br := e.browser("alice", 440)
	br.answer(sigs, "alice")
	eventually(t, "the caller hears alice", func() bool { return trunk.hears(440) })

	// The browser restarts ICE (as after a network change): agentdesk answers, the call goes on.
	offer, err := br.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(br.pc)
	if err := br.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := e.s.SendRtcSignal(e.as("alice"), workspace.RtcSignal{InteractionID: ix.ID, Type: "offer", Payload: br.pc.LocalDescription().SDP}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sigs:
		p, _ := workspace.As[*workspace.RtcSignalEvent](ev)
		if p.Signal.Type != "answer" {
			t.Fatalf("got %s, want agentdesk's answer", p.Signal.Type)
		}
		if err := br.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.Signal.Payload}); err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to the ICE restart")
	}
	br.mu.Lock()
	br.heard = nil
	br.mu.Unlock()
	eventually(t, "alice hears the caller after the restart", func() bool { return br.hears(1000) })
	e.b.CheckLost()
	if got := e.get(ix.ID).State; got != workspace.Active {
		t.Fatalf("after an ICE restart the call is %s", got)
	}

	// The browser goes away for good: once agentdesk sees the leg lost, the grace runs on the
	// workspace clock, and past it the system ends the call.
	br.close()
	eventually(t, "agentdesk notices the lost leg", func() bool {
		e.clock.Advance(workspace.ICEGrace)
		e.b.CheckLost()
		return e.get(ix.ID).State == workspace.Wrap
	})
	got := e.get(ix.ID)
	if got.EndedBy != workspace.PartySystem {
		t.Fatalf("ended by %s, want SYSTEM", got.EndedBy)
	}
	if tr := strings.Join(e.transcript(ix.ID), "\n"); !strings.Contains(tr, "the call was ended by the system") {
		t.Fatalf("transcript %s", tr)
	}
	eventually(t, "the caller gets BYE", trunk.ended)
	noSockets(t)
}

func TestVoice_HardphoneStopsRingingWhenTheOfferIsRejected(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	hard := newPhone(t, "127.0.0.1", 440)
	if res, err := hard.register(e.b.Addr(), "alice", "alice-phone-secret"); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v, %v", res, err)
	}
	if _, err := e.s.SetCallEndpoint(e.as("alice"), workspace.Hardphone); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	ix := e.callIn(trunk)
	hard.ringing()
	if _, err := e.s.RejectOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hardphone stops ringing (CANCEL)", hard.ended)
	if got := e.get(ix.ID).State; got != workspace.Queued {
		t.Fatalf("the call is %s, want QUEUED for the next agent", got)
	}
	if trunk.ended() {
		t.Fatal("the caller was hung up on")
	}
	trunk.bye()
	noSockets(t)
}

func TestVoice_HardphoneAgentAcceptingInTheBrowserGetsTheSoftphone(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	if _, err := e.s.SetCallEndpoint(e.as("alice"), workspace.Hardphone); err != nil {
		t.Fatal(err)
	}
	e.ready("alice")
	sigs := e.signals("alice")
	ix := e.callIn(trunk) // no hardphone registered: nothing rings
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	br := e.browser("alice", 440)
	br.answer(sigs, "alice")
	eventually(t, "the caller hears alice's browser", func() bool { return trunk.hears(440) })
	if got := e.get(ix.ID).State; got != workspace.Active {
		t.Fatalf("the call is %s", got)
	}
	trunk.bye()
	noSockets(t)
}
