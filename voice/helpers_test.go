package voice_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/voice"
	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// catalog carries the sip provider, as the server's does.
type catalog struct{}

func (catalog) CheckSettings(provider string, ch workspace.Channel, s map[string]string) (map[string]string, error) {
	if provider != voice.ProviderName {
		return nil, errors.New("unknown provider")
	}
	return voice.Provider{}.CheckSettings(ch, s)
}

// env is a workspace on a real SQLite store with the demo data, and a Bridge on loopback.
type env struct {
	t      *testing.T
	s      *workspace.Service
	hub    *workspace.Hub
	clock  *workspace.ManualClock
	b      *voice.Bridge
	phones map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := workspace.NewManualClock(time.Now().UTC())
	hub := workspace.NewHub(1024)
	s := workspace.NewService(store, hub, clock)
	s.BcryptCost = 4
	s.Providers = catalog{}
	if err := s.SeedDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, s: s, hub: hub, clock: clock, phones: map[string]string{"alice": "alice-phone-secret"}}
	b, err := voice.New(s, voice.Config{SIPAddr: "127.0.0.1:0", LostCheck: -1, RegisterBurst: 8, RegisterEvery: time.Minute,
		Hardphones: func(u string) (string, bool) { p, ok := e.phones[u]; return p, ok }})
	if err != nil {
		t.Fatal(err)
	}
	s.Calls = b
	e.b = b
	t.Cleanup(func() {
		b.Close()
		store.Close()
	})
	return e
}

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

func (e *env) ready(usernames ...string) {
	e.t.Helper()
	for _, u := range usernames {
		if _, err := e.s.SetPresence(e.as(u), workspace.Ready); err != nil {
			e.t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
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

// identity configures the voice identity +442071234567 on a trunk, with settings.
func (e *env) identity(settings string) *workspace.Identity {
	e.t.Helper()
	ch, addr, name, yes, plan, prov := workspace.Voice, "+442071234567", "Acme Voice", true, e.plan("Support").ID, voice.ProviderName
	id, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{Channel: &ch, Address: &addr, Name: &name,
		Outbound: &yes, PlanID: &plan, Provider: &prov, Settings: &settings})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) get(id string) *workspace.Interaction {
	e.t.Helper()
	ix, err := e.s.Store.Interaction(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ix
}

// live lists the live interactions.
func (e *env) live() []*workspace.Interaction {
	e.t.Helper()
	ixs, err := e.s.Store.LiveInteractions(e.t.Context(), workspace.LiveFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ixs
}

func (e *env) transcript(id string) []string {
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

// lastLine waits until the transcript ends with want: the end's note follows the state change.
func (e *env) lastLine(id, want string) {
	e.t.Helper()
	var tr []string
	eventually(e.t, "the transcript to end with "+want, func() bool {
		tr = e.transcript(id)
		return len(tr) > 0 && tr[len(tr)-1] == want
	})
}

// eventually polls cond until it holds, failing after a generous deadline (never a timing
// assertion: only how long to wait for something that must happen).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// phone is a SIP UA on loopback standing for the customer (a trunk) or a hardphone: it
// places or takes calls, plays a tone over RTP and records what it hears.
type phone struct {
	t    *testing.T
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  sipgo.DialogUA
	addr *net.UDPAddr
	rtp  *net.UDPConn
	freq float64

	mu       sync.Mutex
	heard    []byte
	events   []byte // RFC 4733 event codes received
	remote   *net.UDPAddr
	dialog   *sipgo.DialogClientSession
	incoming *sipgo.DialogServerSession
	invites  chan *sip.Request
	stop     chan struct{}
	once     sync.Once
}

// newPhone starts a UA listening on ip, playing freq once a call is up.
func newPhone(t *testing.T, ip string, freq float64) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname(ip))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().(*net.UDPAddr)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientConnectionAddr(addr.String()))
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, srv: srv, cli: cli, addr: addr, rtp: rtpConn, freq: freq, invites: make(chan *sip.Request, 4), stop: make(chan struct{})}
	p.dua = sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: ip, Port: addr.Port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		d, in := p.dialog, p.incoming
		p.mu.Unlock()
		switch {
		case d != nil:
			_ = d.ReadBye(req, tx)
		case in != nil:
			_ = in.ReadBye(req, tx)
		default:
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		in := p.incoming
		p.mu.Unlock()
		if in != nil {
			_ = in.ReadAck(req, tx)
		}
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := p.dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.incoming = dlg
		p.mu.Unlock()
		_ = dlg.Respond(180, "Ringing", nil)
		p.invites <- req
		<-dlg.Context().Done()
	})
	go func() { _ = srv.ServeUDP(pc) }()
	voice.ServingOn(ua, addr.String())
	go p.read()
	t.Cleanup(p.close)
	return p
}

func (p *phone) close() {
	p.once.Do(func() {
		close(p.stop)
		p.rtp.Close()
		p.srv.Close()
		p.cli.Close()
		p.ua.Close()
	})
}

// sdp offers or answers PCMU and events on the phone's RTP socket.
func (p *phone) sdp() []byte {
	ip := p.addr.IP.String()
	port := strconv.Itoa(p.rtp.LocalAddr().(*net.UDPAddr).Port)
	return []byte("v=0\r\no=phone 1 1 IN IP4 " + ip + "\r\ns=phone\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		"m=audio " + port + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
}

// call places a call to number at the bridge, with digest credentials if given.
func (p *phone) call(to *net.UDPAddr, number, user, password string) error {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: to.IP.String(), Port: to.Port})
	req.SetBody(p.sdp())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(&sip.FromHeader{DisplayName: "Pat Caller", Address: sip.Uri{Scheme: "sip", User: "+447700900123", Host: p.addr.IP.String()}, Params: tagged()})
	ctx, cancel := context.WithTimeout(p.t.Context(), 10*time.Second)
	defer cancel()
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return err
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: user, Password: password}); err != nil {
		return err
	}
	if err := dlg.Ack(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	p.dialog = dlg
	p.mu.Unlock()
	p.startMedia(dlg.InviteResponse.Body())
	return nil
}

// answer picks up the next call that rings the phone.
func (p *phone) answer() *sip.Request {
	p.t.Helper()
	var req *sip.Request
	select {
	case req = <-p.invites:
	case <-time.After(20 * time.Second):
		p.t.Fatal("the phone did not ring")
	}
	p.mu.Lock()
	in := p.incoming
	p.mu.Unlock()
	if err := in.RespondSDP(p.sdp()); err != nil {
		p.t.Fatal(err)
	}
	p.startMedia(req.Body())
	return req
}

// ringing waits for the phone to ring without answering.
func (p *phone) ringing() *sip.Request {
	p.t.Helper()
	select {
	case req := <-p.invites:
		return req
	case <-time.After(20 * time.Second):
		p.t.Fatal("the phone did not ring")
		return nil
	}
}

// startMedia plays the phone's tone to the address in the peer's SDP.
func (p *phone) startMedia(peerSDP []byte) {
	var sd struct{ ip, port string }
	for _, l := range splitLines(string(peerSDP)) {
		if len(l) > 9 && l[:9] == "c=IN IP4 " {
			sd.ip = l[9:]
		}
		if len(l) > 8 && l[:8] == "m=audio " {
			for i := 8; i < len(l); i++ {
				if l[i] == ' ' {
					sd.port = l[8:i]
					break
				}
			}
		}
	}
	port, _ := strconv.Atoi(sd.port)
	remote := &net.UDPAddr{IP: net.ParseIP(sd.ip), Port: port}
	p.mu.Lock()
	p.remote = remote
	p.mu.Unlock()
	go func() {
		tone := media.Tone{Freq: p.freq, Amplitude: 0.5}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seq uint16
		var ts uint32
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			seq++
			ts += media.FrameSamples
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 42}, Payload: tone.Next()}).Marshal()
			if _, err := p.rtp.WriteToUDP(b, remote); err != nil {
				return
			}
		}
	}()
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, trimCR(s[start:i]))
			start = i + 1
		}
	}
	return append(out, trimCR(s[start:]))
}

func trimCR(s string) string {
	if len(s) > 0 && s[len(s)-1] == '\r' {
		return s[:len(s)-1]
	}
	return s
}

// read records the audio and the DTMF events the phone hears.
func (p *phone) read() {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := p.rtp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		switch pkt.PayloadType {
		case 0:
			p.heard = append(p.heard, pkt.Payload...)
		case media.PayloadEvent:
			if len(pkt.Payload) >= 4 && pkt.Payload[1]&0x80 != 0 && (len(p.events) == 0 || p.events[len(p.events)-1] != pkt.Payload[0]|0x80) {
				p.events = append(p.events, pkt.Payload[0]|0x80) // once per event end
			}
		}
		p.mu.Unlock()
	}
}

// hears reports whether the last second the phone heard is freq.
func (p *phone) hears(freq float64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.heard) < media.SampleRate {
		return false
	}
	return media.Dominant(p.heard[len(p.heard)-media.SampleRate/2:], freq)
}

func (p *phone) digits() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := "0123456789*#ABCD"
	var out []byte
	for _, e := range p.events {
		out = append(out, keys[e&0x7f])
	}
	return string(out)
}

// bye hangs up the phone's call.
func (p *phone) bye() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 10*time.Second)
	defer cancel()
	p.mu.Lock()
	d, in := p.dialog, p.incoming
	p.mu.Unlock()
	var err error
	if d != nil {
		err = d.Bye(ctx)
	} else {
		err = in.Bye(ctx)
	}
	if err != nil {
		p.t.Fatal(err)
	}
}

// ended reports whether the phone's call has ended (a BYE came).
func (p *phone) ended() bool {
	p.mu.Lock()
	d, in := p.dialog, p.incoming
	p.mu.Unlock()
	switch {
	case d != nil:
		return d.LoadState() == sip.DialogStateEnded
	case in != nil:
		return in.LoadState() == sip.DialogStateEnded
	}
	return false
}

// browser is the agent's side of the softphone: a pion peer that answers agentdesk's offer
// over the service's signalling, plays a tone and records what it hears.
type browser struct {
	t     *testing.T
	e     *env
	pc    *webrtc.PeerConnection
	mu    sync.Mutex
	heard []byte
	stop  chan struct{}
	once  sync.Once
}

// answerCall answers agentdesk's offer for the agent's call ixID, playing freq.
func (e *env) browser(username string, freq float64) *browser {
	e.t.Helper()
	m := &webrtc.MediaEngine{}
	_ = m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0}, webrtc.RTPCodecTypeAudio)
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		e.t.Fatal(err)
	}
	br := &browser{t: e.t, e: e, pc: pc, stop: make(chan struct{})}
	track, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "mic", "browser")
	if _, err := pc.AddTrack(track); err != nil {
		e.t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			br.mu.Lock()
			br.heard = append(br.heard, p.Payload...)
			br.mu.Unlock()
		}
	})
	go func() {
		tone := media.Tone{Freq: freq, Amplitude: 0.5}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-br.stop:
				return
			case <-tick.C:
				_ = track.WriteSample(pmedia.Sample{Data: tone.Next(), Duration: 20 * time.Millisecond})
			}
		}
	}()
	e.t.Cleanup(br.close)
	return br
}

func (br *browser) close() {
	br.once.Do(func() {
		close(br.stop)
		br.pc.Close()
	})
}

// signals subscribes to agentdesk's signalling for the agent.
func (e *env) signals(username string) <-chan workspace.Event {
	return e.hub.Subscribe(e.t.Context(), workspace.RtcTopic(e.agent(username).ID))
}

// answer waits for agentdesk's offer on sigs and answers it as username.
func (br *browser) answer(sigs <-chan workspace.Event, username string) {
	br.t.Helper()
	var sig workspace.RtcSignal
	select {
	case ev := <-sigs:
		p, _ := workspace.As[*workspace.RtcSignalEvent](ev)
		sig = p.Signal
	case <-time.After(20 * time.Second):
		br.t.Fatal("no offer from agentdesk")
	}
	if sig.Type != "offer" {
		br.t.Fatalf("signal %s, want offer", sig.Type)
	}
	if err := br.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.Payload}); err != nil {
		br.t.Fatal(err)
	}
	ans, err := br.pc.CreateAnswer(nil)
	if err != nil {
		br.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(br.pc)
	if err := br.pc.SetLocalDescription(ans); err != nil {
		br.t.Fatal(err)
	}
	<-gathered
	if err := br.e.s.SendRtcSignal(br.e.as(username), workspace.RtcSignal{InteractionID: sig.InteractionID, Type: "answer", Payload: br.pc.LocalDescription().SDP}); err != nil {
		br.t.Fatal(err)
	}
}

// hears reports whether the last half second the browser heard is freq.
func (br *browser) hears(freq float64) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	if len(br.heard) < media.SampleRate/2 {
		return false
	}
	return media.Dominant(br.heard[len(br.heard)-media.SampleRate/2:], freq)
}

func tagged() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", sip.GenerateTagN(16))
	return p
}
