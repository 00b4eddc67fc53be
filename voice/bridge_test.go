package voice_test

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
)

const number = "+442071234567"

// noSockets checks that every RTP socket opened was closed: the process's count is back to
// zero, and so the calls' ports are free.
func noSockets(t *testing.T) {
	t.Helper()
	eventually(t, "every RTP socket closed", func() bool { return media.OpenSockets() == 0 })
}

// callIn places a call from the trunk phone and returns its interaction.
func (e *env) callIn(p *phone) *workspace.Interaction {
	e.t.Helper()
	if err := p.call(e.b.Addr(), number, "", ""); err != nil {
		e.t.Fatal(err)
	}
	var ix *workspace.Interaction
	eventually(e.t, "the call's interaction", func() bool {
		live := e.live()
		for _, x := range live {
			if x.Channel == workspace.Voice {
				ix = x
				return true
			}
		}
		return false
	})
	return ix
}

func TestVoice_InboundCallBridgesAudioBothWaysThenCustomerHangsUp_C4_W1(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	e.ready("alice")
	sigs := e.signals("alice")
	ix := e.callIn(trunk)
	if ix.State != workspace.Offered || ix.Contact.Address != "+447700900123" || ix.Contact.Name != "Pat Caller" {
		t.Fatalf("call is %s from %+v, want OFFERED from +447700900123", ix.State, ix.Contact)
	}
	eventually(t, "the queued caller hears the hold tone", func() bool { return trunk.hears(523) })
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	br := e.browser("alice", 440)
	br.answer(sigs, "alice")
	eventually(t, "the caller hears the agent's 440 Hz", func() bool { return trunk.hears(440) })
	eventually(t, "the agent hears the caller's 1 kHz", func() bool { return br.hears(1000) })

	e.clock.Advance(75 * time.Second)
	trunk.bye()
	eventually(t, "the call in WRAP", func() bool { return e.get(ix.ID).State == workspace.Wrap })
	got := e.get(ix.ID)
	if got.EndedBy != workspace.PartyContact {
		t.Fatalf("ended by %s", got.EndedBy)
	}
	e.lastLine(ix.ID, "SYSTEM: Call ended · 1:15")
	noSockets(t)
	if e.b.Calls() != 0 {
		t.Fatalf("%d calls left", e.b.Calls())
	}
}

func TestVoice_AgentEndsCall_CustomerGetsBye_X2(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	e.ready("alice")
	sigs := e.signals("alice")
	ix := e.callIn(trunk)
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); err != nil {
		t.Fatal(err)
	}
	e.browser("alice", 440).answer(sigs, "alice")
	e.clock.Advance(2 * time.Second)
	ended, err := e.s.EndInteraction(e.as("alice"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ended.State != workspace.Wrap || ended.EndedBy != workspace.PartyAgent {
		t.Fatalf("%s by %s", ended.State, ended.EndedBy)
	}
	eventually(t, "the customer's leg gets BYE", trunk.ended)
	noSockets(t)
	e.lastLine(ix.ID, "SYSTEM: Call ended · 0:02")
}

func TestVoice_CallerHangsUpWhileRinging_OfferRescinded(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	e.ready("alice")
	offers := e.hub.Subscribe(t.Context(), workspace.AgentTopic(e.agent("alice").ID))
	ix := e.callIn(trunk)
	trunk.bye()
	eventually(t, "the call completed", func() bool { return e.get(ix.ID).State == workspace.Completed })
	var kinds []workspace.OfferEventKind
	eventually(t, "the offer rescinded", func() bool {
		select {
		case ev := <-offers:
			o, _ := workspace.As[*workspace.OfferEvent](ev)
			kinds = append(kinds, o.Kind)
		default:
		}
		return slices.Contains(kinds, workspace.OfferRescinded)
	})
	if _, err := e.s.AcceptOffer(e.as("alice"), ix.OfferID()); workspace.ErrorCode(err) != workspace.EWRONGSTATE {
		t.Fatalf("accepting a rescinded call: %v", err)
	}
	noSockets(t)
}

func TestVoice_HoldToneMuteAndDTMF(t *testing.T) {
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
	eventually(t, "the caller hears the agent", func() bool { return trunk.hears(440) })
	alice := e.as("alice")
	yes, no := true, false
	if err := e.s.ControlCall(alice, ix.ID, workspace.CallControl{Hold: &yes}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller on hold hears the hold tone", func() bool { return trunk.hears(523) })
	if err := e.s.ControlCall(alice, ix.ID, workspace.CallControl{Hold: &no}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller hears the agent again", func() bool { return trunk.hears(440) })
	if err := e.s.ControlCall(alice, ix.ID, workspace.CallControl{Mute: &yes}); err != nil {
		t.Fatal(err)
	}
	trunk.mu.Lock()
	before := len(trunk.heard)
	trunk.mu.Unlock()
	eventually(t, "muted: the agent's voice stops", func() bool {
		trunk.mu.Lock()
		defer trunk.mu.Unlock()
		return len(trunk.heard) == before
	})
	if err := e.s.ControlCall(alice, ix.ID, workspace.CallControl{Mute: &no, Digits: "12#"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller receives DTMF 1, 2, # (RFC 4733)", func() bool { return trunk.digits() == "12#" })
	eventually(t, "unmuted: the caller hears the agent", func() bool { return trunk.hears(440) })
	if _, err := e.s.EndInteraction(alice, ix.ID); err != nil {
		t.Fatal(err)
	}
	noSockets(t)
}

func TestVoice_UnknownPeerOrBadDigestCreatesNothing(t *testing.T) {
	e := newEnv(t)
	// The trunk of the identity is 127.0.0.2: a call from 127.0.0.1 is from an unknown peer.
	e.identity(`{"trunkAddress":"127.0.0.2:5060","username":"acme","password":"trunk-secret"}`)
	stranger := newPhone(t, "127.0.0.1", 1000)
	err := stranger.call(e.b.Addr(), number, "acme", "trunk-secret")
	wantStatus(t, err, 403)

	trunk := newPhone(t, "127.0.0.2", 1000)
	wantStatus(t, trunk.call(e.b.Addr(), number, "", ""), 401) // no credentials: challenged
	wantStatus(t, trunk.call(e.b.Addr(), number, "acme", "wrong"), 403)
	wantStatus(t, trunk.call(e.b.Addr(), "+442079460999", "acme", "trunk-secret"), 404) // no such number
	if live := e.live(); len(live) != 0 {
		t.Fatalf("refused calls created %d interactions", len(live))
	}
	noSockets(t)
	// The right credentials from the trunk's address are taken.
	if err := trunk.call(e.b.Addr(), number, "acme", "trunk-secret"); err != nil {
		t.Fatal(err)
	}
	if live := e.live(); len(live) != 1 || live[0].Channel != workspace.Voice {
		t.Fatalf("live: %v", live)
	}
	trunk.bye()
	noSockets(t)
}

func wantStatus(t *testing.T, err error, code int) {
	t.Helper()
	var res *sipgo.ErrDialogResponse
	if !errors.As(err, &res) || res.Res.StatusCode != code {
		t.Fatalf("got %v, want a %d response", err, code)
	}
}

// rawSIP sends a datagram to the bridge and returns the answer, "" for none.
func rawSIP(t *testing.T, to *net.UDPAddr, msg string) string {
	t.Helper()
	c, err := net.DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func TestVoice_MalformedSIPGets400(t *testing.T) {
	e := newEnv(t)
	trunk := newPhone(t, "127.0.0.1", 1000)
	e.identity(`{"trunkAddress":"` + trunk.addr.String() + `"}`)
	head := "Via: SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bK-x1\r\nFrom: <sip:+447700900123@127.0.0.1>;tag=a\r\nTo: <sip:" + number + "@127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\n"
	cases := map[string]string{
		"garbage header":  "INVITE sip:" + number + "@127.0.0.1 SIP/2.0\r\n" + head + "this is not a header\r\nContent-Length: 0\r\n\r\n",
		"bad CSeq":        "INVITE sip:" + number + "@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-x2\r\nCSeq: x\r\nContent-Length: 0\r\n\r\n",
		"oversized value": "INVITE sip:" + number + "@127.0.0.1 SIP/2.0\r\n" + head + "Content-Length: 999999\r\n\r\n",
		"bad SDP":         "INVITE sip:" + number + "@127.0.0.1 SIP/2.0\r\n" + head + "Contact: <sip:x@127.0.0.1:5099>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 11\r\n\r\nnot sdp at ",
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			res := rawSIP(t, e.b.Addr(), msg)
			if !strings.HasPrefix(res, "SIP/2.0 400") {
				t.Fatalf("answer %q, want 400", res)
			}
		})
	}
	if live := e.live(); len(live) != 0 {
		t.Fatalf("malformed requests created %d interactions", len(live))
	}
	noSockets(t)
}

func TestVoice_RegisterFloodIsRateLimited(t *testing.T) {
	e := newEnv(t)
	reg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5098;rport;branch=z9hG4bK-r%d\r\nFrom: <sip:alice@127.0.0.1>;tag=r\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: flood\r\nCSeq: %d REGISTER\r\nContact: <sip:alice@127.0.0.1:5098>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	codes := map[string]int{}
	for i := 1; i <= 20; i++ {
		res := rawSIP(t, e.b.Addr(), strings.NewReplacer("%d", itoa(i)).Replace(reg))
		f := strings.Fields(res)
		if len(f) < 2 {
			t.Fatalf("no answer to REGISTER %d", i)
		}
		codes[f[1]]++
	}
	if codes["401"] != 8 || codes["503"] != 12 {
		t.Fatalf("answers %v, want the burst of 8 challenged and the rest 503", codes)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
