package server_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// softphone is the agent's browser in server tests: a pion peer that answers agentdesk's
// offer through the GraphQL API, plays a 440 Hz tone and counts what it hears.
type softphone struct {
	pc    *webrtc.PeerConnection
	mu    sync.Mutex
	heard []byte
	stop  chan struct{}
}

func newSoftphone(t *testing.T) *softphone {
	t.Helper()
	m := &webrtc.MediaEngine{}
	_ = m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0}, webrtc.RTPCodecTypeAudio)
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	s := &softphone{pc: pc, stop: make(chan struct{})}
	track, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "mic", "browser")
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.heard = append(s.heard, p.Payload...)
			s.mu.Unlock()
		}
	})
	go func() {
		tone := media.Tone{Freq: 440, Amplitude: 0.5}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				_ = track.WriteSample(pmedia.Sample{Data: tone.Next(), Duration: 20 * time.Millisecond})
			}
		}
	}()
	t.Cleanup(func() { close(s.stop); pc.Close() })
	return s
}

// answer takes agentdesk's offer SDP and returns the answer SDP.
func (s *softphone) answer(t *testing.T, offer string) string {
	t.Helper()
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	ans, err := s.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return s.pc.LocalDescription().SDP
}

func (s *softphone) heardFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.heard) / media.FrameSamples
}

// demoCall has the demo caller call the desk.
func demoCall(t *testing.T, m *server.Main, action string) {
	t.Helper()
	res, err := http.Post(m.URL()+"/demo/call/api/"+action, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("demo caller %s: %s", action, res.Status)
	}
}

func TestVoice_DemoCallThroughTheAPI_X2_W1(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	post(t, m, alice, `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
	offers := subscribe(t, m, alice, `subscription { offers { kind offer { id interaction { id channel contact { address } } } } }`, nil)
	signals := subscribe(t, m, alice, `subscription { rtcSignals { interactionId type payload } }`, nil)

	demoCall(t, m, "dial")
	ev := offers.event()
	if dig(ev, "offers.offer.interaction.channel") != "VOICE" {
		t.Fatalf("offer %v", ev)
	}
	offerID := dig(ev, "offers.offer.id").(string)
	id := dig(ev, "offers.offer.interaction.id").(string)
	r := post(t, m, alice, `mutation($id: ID!) { acceptOffer(input:{offerId:$id}) { interaction { state callEndpoint } userErrors { code } } }`, map[string]any{"id": offerID})
	if dig(r.Data, "acceptOffer.interaction.state") != "ACTIVE" || dig(r.Data, "acceptOffer.interaction.callEndpoint") != "SOFTPHONE" {
		t.Fatalf("accept: %+v", r)
	}
	sig := signals.event()
	if dig(sig, "rtcSignals.type") != "offer" || dig(sig, "rtcSignals.interactionId") != id {
		t.Fatalf("signal %v", sig)
	}
	phone := newSoftphone(t)
	answer := phone.answer(t, dig(sig, "rtcSignals.payload").(string))
	r = post(t, m, alice, `mutation($id: ID!, $sdp: String!) { sendRtcSignal(input:{interactionId:$id, type:"answer", payload:$sdp}) }`, map[string]any{"id": id, "sdp": answer})
	if dig(r.Data, "sendRtcSignal") != true {
		t.Fatalf("sendRtcSignal: %+v", r)
	}
	waitFor(t, func() bool { return phone.heardFrames() > 25 }) // the prompt reaches the browser
	waitFor(t, func() bool {                                    // and the browser's voice reaches the caller
		res, err := http.Get(m.URL() + "/demo/call/api/state")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var st struct{ HeardTone float64 }
		_ = jsonDecode(res, &st)
		return st.HeardTone == 440 // the caller's Goertzel filter finds the browser's tone
	})
	r = post(t, m, alice, `mutation($id: ID!) { endInteraction(input:{interactionId:$id}) { interaction { state endedBy } userErrors { code } } }`, map[string]any{"id": id})
	if dig(r.Data, "endInteraction.interaction.state") != "WRAP" || dig(r.Data, "endInteraction.interaction.endedBy") != "AGENT" {
		t.Fatalf("end: %+v", r)
	}
	r = post(t, m, alice, `query($id: ID!) { interaction(id:$id) { transcript(first:20) { edges { node { text } } } } }`, map[string]any{"id": id})
	if !strings.Contains(jsonText(r.Data), "Call ended · 0:0") {
		t.Fatalf("transcript %v", r.Data)
	}
}

func TestVoice_APIRefusals(t *testing.T) {
	m := start(t)
	alice, admin := login(t, m, "alice"), login(t, m, "admin")
	// A voice identity needs its trunk.
	r := post(t, m, admin, `mutation($plan: ID!) { saveChannelIdentity(input:{channel:VOICE, address:"+442071234599", name:"Trunk", planId:$plan, provider:"sip", outbound:true, settings:"{}"}) { identity { id } userErrors { code field message } } }`, map[string]any{"plan": planID(t, m, "Support")})
	if dig(r.Data, "saveChannelIdentity.userErrors.0.code") != "INVALID" || !strings.Contains(jsonText(r.Data), "trunkAddress") {
		t.Fatalf("identity without a trunk: %+v", r)
	}
	r = post(t, m, admin, `mutation($plan: ID!) { saveChannelIdentity(input:{channel:VOICE, address:"+442071234599", name:"Trunk", planId:$plan, provider:"sip", outbound:true, settings:"{\"trunkAddress\":\"127.0.0.1:5999\",\"password\":\"p\",\"username\":\"u\"}"}) { identity { id channel } userErrors { code } } }`, map[string]any{"plan": planID(t, m, "Support")})
	identity, _ := dig(r.Data, "saveChannelIdentity.identity.id").(string)
	if identity == "" {
		t.Fatalf("voice identity: %+v", r)
	}
	if strings.Contains(jsonText(r.Data), `"p"`) {
		t.Fatal("the trunk password came back")
	}
	cases := []struct {
		name, token, query string
		vars               map[string]any
		want               string
	}{
		{"startCall unauthenticated", "", `mutation($i: ID!) { startCall(input:{to:"+442079460000", identityId:$i}) { userErrors { code } } }`, map[string]any{"i": identity}, "UNAUTHENTICATED"},
		{"startCall malformed number", alice, `mutation($i: ID!) { startCall(input:{to:"not a number", identityId:$i}) { userErrors { code } } }`, map[string]any{"i": identity}, "INVALID"},
		{"startCall oversized number", alice, `mutation($i: ID!, $to: String!) { startCall(input:{to:$to, identityId:$i}) { userErrors { code } } }`, map[string]any{"i": identity, "to": strings.Repeat("9", 10000)}, "INVALID"},
		{"startCall from another's chat", alice, `mutation($i: ID!) { startCall(input:{to:"+442079460000", identityId:$i, fromInteractionId:"00000000-0000-4000-8000-000000000000"}) { userErrors { code } } }`, map[string]any{"i": identity}, "INVALID"},
		{"sendRtcSignal oversized", alice, `mutation($p: String!) { sendRtcSignal(input:{interactionId:"00000000-0000-4000-8000-000000000000", type:"answer", payload:$p}) }`, map[string]any{"p": strings.Repeat("a", 20000)}, "INVALID"},
		{"sendRtcSignal unknown type", alice, `mutation { sendRtcSignal(input:{interactionId:"00000000-0000-4000-8000-000000000000", type:"hack", payload:""}) }`, nil, "INVALID"},
		{"sendRtcSignal no such call", alice, `mutation { sendRtcSignal(input:{interactionId:"00000000-0000-4000-8000-000000000000", type:"answer", payload:"v=0"}) }`, nil, "NOT_FOUND"},
		{"controlCall bad digits", alice, `mutation { controlCall(input:{interactionId:"00000000-0000-4000-8000-000000000000", digits:"1; DROP"}) }`, nil, "INVALID"},
		{"setCallEndpoint unauthenticated", "", `mutation { setCallEndpoint(input:{callEndpoint:HARDPHONE}) { agent { id } } }`, nil, "UNAUTHENTICATED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, m, c.token, c.query, c.vars)
			if !strings.Contains(jsonText(r), `"`+c.want+`"`) {
				t.Fatalf("got %s, want %s", jsonText(r), c.want)
			}
		})
	}
	r = post(t, m, alice, `mutation { setCallEndpoint(input:{callEndpoint:HARDPHONE}) { agent { callEndpoint } userErrors { code } } }`, nil)
	if dig(r.Data, "setCallEndpoint.agent.callEndpoint") != "HARDPHONE" {
		t.Fatalf("setCallEndpoint: %+v", r)
	}
	r = post(t, m, alice, `{ me { callEndpoint } }`, nil)
	if dig(r.Data, "me.callEndpoint") != "HARDPHONE" {
		t.Fatalf("me: %+v", r)
	}
}

func TestVoice_ConsultCallLinkedInTheAPI_X1(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	post(t, m, alice, `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
	_, chat := startChat(t, m, "Support", "Can you call my landlord?")
	r := post(t, m, alice, `mutation($id: ID!) { acceptOffer(input:{offerId:$id}) { interaction { state } userErrors { code message } } }`, map[string]any{"id": chat + ".1"})
	if dig(r.Data, "acceptOffer.interaction.state") != "ACTIVE" {
		t.Fatalf("accept chat: %+v", r)
	}
	r = post(t, m, alice, `{ channelIdentities(channel: VOICE, outboundOnly: true) { id address } }`, nil)
	identity, _ := dig(r.Data, "channelIdentities.0.id").(string)
	if identity == "" {
		t.Fatalf("no demo voice identity: %+v", r)
	}
	r = post(t, m, alice, `mutation($i: ID!, $from: ID!) { startCall(input:{to:"+442079460000", identityId:$i, fromInteractionId:$from}) {
		interaction { id state channel linkedInteraction { id state } } userErrors { code message } } }`, map[string]any{"i": identity, "from": chat})
	call, _ := dig(r.Data, "startCall.interaction.id").(string)
	if call == "" || dig(r.Data, "startCall.interaction.linkedInteraction.id") != chat || dig(r.Data, "startCall.interaction.linkedInteraction.state") != "ACTIVE" {
		t.Fatalf("startCall: %+v", r)
	}
	r = post(t, m, alice, `query($id: ID!) { interaction(id:$id) { state linkedInteraction { id channel } } }`, map[string]any{"id": chat})
	if dig(r.Data, "interaction.linkedInteraction.id") != call || dig(r.Data, "interaction.state") != "ACTIVE" {
		t.Fatalf("the chat: %+v", r)
	}
	// The demo caller (the demo trunk) answers; the agent's log shows both.
	waitFor(t, func() bool {
		res, err := http.Get(m.URL() + "/demo/call/api/state")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var st struct{ InCall bool }
		_ = jsonDecode(res, &st)
		return st.InCall
	})
	r = post(t, m, alice, `{ myInteractions { id channel linkedInteraction { id } } }`, nil)
	if txt := jsonText(r.Data); !strings.Contains(txt, call) || !strings.Contains(txt, chat) {
		t.Fatalf("the log: %s", txt)
	}
}

func TestVoice_RestartEndsCallsLeftActive(t *testing.T) {
	for name, config := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cfg := config(t)
			first := run(t, cfg)
			alice := login(t, first, "alice")
			post(t, first, alice, `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
			offers := subscribe(t, first, alice, `subscription { offers { offer { id interaction { id } } } }`, nil)
			demoCall(t, first, "dial")
			ev := offers.event()
			id := dig(ev, "offers.offer.interaction.id").(string)
			post(t, first, alice, `mutation($id: ID!) { acceptOffer(input:{offerId:$id}) { interaction { state } } }`, map[string]any{"id": dig(ev, "offers.offer.id")})
			// As after kill -9, a new node starts on the same data while the store says the call
			// is ACTIVE; the first node is not shut down (its BYE would end the call the ordinary
			// way), and the new node carries none of its calls: to it, the call's media is gone.
			// A killed process holds no lock on its data folder any more.
			if err := first.LoseDataLock(); err != nil {
				t.Fatal(err)
			}
			second := run(t, cfg)
			r := post(t, second, alice, `query($id: ID!) { interaction(id:$id) { state endedBy transcript(first:30) { edges { node { text } } } } }`, map[string]any{"id": id})
			if dig(r.Data, "interaction.state") != "WRAP" || dig(r.Data, "interaction.endedBy") != "SYSTEM" {
				t.Fatalf("after restart: %+v", r)
			}
			if !strings.Contains(jsonText(r.Data), "The call was lost when agentdesk restarted") {
				t.Fatalf("no system notice: %s", jsonText(r.Data))
			}
		})
	}
}

// jsonText is v as JSON, for looking for a text anywhere in a response.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
