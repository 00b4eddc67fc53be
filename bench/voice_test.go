package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/voice"
	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

var callWindow = durationFlag("call-window", "BENCH_CALL_WINDOW", 8*time.Second, "how long BenchmarkConcurrentCalls counts packets at each step")

const (
	// callSetups is how many calls BenchmarkCallSetup places, one after another.
	callSetups = 150
	// callMax is the most concurrent calls BenchmarkConcurrentCalls tries.
	callMax = 160
)

const benchNumber = "+442071230000"

// voiceNode starts a node with the voice channel, a voice identity whose trunk is the caller
// and a plan for calls; it returns the node and the plan.
func voiceNode(b *testing.B, caller *voice.Caller) (*server.Main, *workspace.Plan) {
	b.Helper()
	m := startNode(b, func(c *server.Config) { c.SIPAddr = "127.0.0.1:0" })
	plan := copyPlan(b, m, planNamed(b, m, "Support"), "Voice (bench)")
	plan.OfferTimeoutSeconds = 3600
	if err := m.Store.UpdatePlan(b.Context(), plan); err != nil {
		b.Fatal(err)
	}
	id := &workspace.Identity{ID: uuid.NewString(), Channel: workspace.Voice, Address: benchNumber, Name: "Bench trunk",
		Outbound: true, PlanID: plan.ID, Provider: voice.ProviderName, CreatedAt: time.Now(),
		Settings: map[string]string{"trunkAddress": caller.Addr().String()}}
	if err := m.Store.CreateIdentity(b.Context(), id); err != nil {
		b.Fatal(err)
	}
	return m, plan
}

// BenchmarkCallSetup measures call setup: from the caller's INVITE leaving its UA to the offer
// arriving on the websocket of the READY agent routing chose (10 READY agents), one call after
// another; each is then hung up while it rings (the offer is rescinded). The floor, measured
// on the same node in the same run, is what that path cannot avoid: the three writes of an
// offer (offerWrites), one SIP request/response over loopback to the node's SIP listener
// (OPTIONS), and one websocket round trip (pathFloor's HTTP request is left out: no HTTP
// request is on a call's path). Run with -benchtime=1x.
func BenchmarkCallSetup(b *testing.B) {
	ctx := b.Context()
	caller, err := voice.NewCaller("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	defer caller.Close()
	m, plan := voiceNode(b, caller)
	defer m.Close()
	c := newClient(m)
	agents := createAgents(b, m, "voice", 10, []string{plan.ID}, 4)
	sessions := signIn(b, m, c, agents)
	defer closeAll(sessions)
	offered := make(chan time.Time, 16)
	var readers sync.WaitGroup
	errs := &firstError{}
	readCtx, stop := context.WithCancel(ctx)
	readSockets(readCtx, sessions, &readers, errs, func(_ *session, msg wsMessage, at time.Time) error {
		ev, err := parseOffer(msg)
		if err == nil && ev.Kind == "OFFERED" {
			offered <- at
		}
		return err
	})
	setup := func() (time.Duration, error) {
		start := time.Now()
		answered := make(chan error, 1)
		go func() { answered <- caller.Call(ctx, m.Voice.Addr(), benchNumber, "Bench", 1000) }()
		var at time.Time
		select {
		case at = <-offered:
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("no offer within 10 s")
		}
		if err := <-answered; err != nil {
			return 0, err
		}
		if err := caller.Hangup(ctx); err != nil {
			return 0, err
		}
		for m.Voice.Calls() > 0 { // the bridge has let the call go: the next starts clean
			time.Sleep(time.Millisecond)
		}
		return at.Sub(start), nil
	}
	for range 10 { // warm up
		if _, err := setup(); err != nil {
			b.Fatal(err)
		}
	}
	var latency Samples
	for range callSetups {
		d, err := setup()
		if err != nil {
			b.Fatal(err)
		}
		latency = append(latency, d)
	}
	stop()
	readers.Wait()

	floorPlan := copyPlan(b, m, plan, "Voice (bench floor)")
	floorAgent := createAgents(b, m, "voicefloor", 1, []string{floorPlan.ID}, 4)[0]
	record, err := m.Store.Agent(ctx, floorAgent.ID)
	if err != nil {
		b.Fatal(err)
	}
	sipClient, closeSIP := sipPinger(b)
	defer closeSIP()
	floor, storeSteps := pathFloor(b, m, c, floorAgent, func(ctx context.Context, steps *Steps) error {
		ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Voice, Direction: workspace.Inbound, State: workspace.Queued,
			Contact: workspace.Contact{Address: "+447700900123"}, PlanID: floorPlan.ID, CreatedAt: time.Now()}
		if err := offerWrites(ctx, m.Store, record, ix, "", steps); err != nil {
			return err
		}
		return steps.Time("SIP OPTIONS round trip", func() error { return sipClient(ctx, m.Voice.Addr()) })
	})
	w := os.Stdout
	fmt.Fprintf(w, "\ncall setup: INVITE sent → offer on the agent's websocket, %d calls one after another, 10 READY agents\n", len(latency))
	Row(w, "call setup", latency)
	for _, name := range storeSteps {
		Row(w, "floor: "+name, floor.By[name])
	}
	Row(w, "floor: "+stepPing, floor.By[stepPing])
	// The call's path makes no HTTP request: its SIP round trip stands in for it.
	sum := floor.Totals(append(storeSteps, stepPing)...)
	Row(w, "floor (sum per run)", sum)
	Ratio(w, "call setup / floor", latency, sum)
	b.ReportMetric(float64(latency.Percentile(50))/1e6, "p50-ms")
	b.ReportMetric(float64(latency.Percentile(99))/1e6, "p99-ms")
	b.ReportMetric(float64(latency.Percentile(50))/float64(sum.Percentile(50)), "x-floor-p50")
	b.ReportMetric(float64(latency.Percentile(99))/float64(sum.Percentile(99)), "x-floor-p99")
}

// sipPinger returns a function that sends one OPTIONS to a SIP address and waits for its answer.
func sipPinger(b *testing.B) (func(ctx context.Context, to *net.UDPAddr) error, func()) {
	b.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		b.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		b.Fatal(err)
	}
	ping := func(ctx context.Context, to *net.UDPAddr) error {
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: to.IP.String(), Port: to.Port})
		res, err := cli.Do(ctx, req)
		if err == nil && res.StatusCode != 200 {
			err = fmt.Errorf("OPTIONS: %d", res.StatusCode)
		}
		return err
	}
	return ping, func() { cli.Close(); ua.Close() }
}

// callLeg is one bridged call of BenchmarkConcurrentCalls: a caller and the agent's browser
// (a pion peer), each sending 50 PCMU frames a second and counting what arrives.
type callLeg struct {
	caller *voice.Caller
	pc     *webrtc.PeerConnection
	mu     sync.Mutex
	heard  int // frames the browser received
	sent   int // frames the browser sent
	stop   chan struct{}
}

// BenchmarkConcurrentCalls finds the most concurrent bridged calls the node holds with under
// 1 % packet loss: at each step it sets up n calls (a SIP caller → agentdesk → an agent's
// WebRTC leg, answered by a pion peer), lets media flow, then counts the frames each side sent
// and received over a window. It doubles n from 10 until loss passes 1 % or -call-max. CPU per
// call is the process's CPU time over the window divided by calls and seconds; the process
// also runs the simulated callers and browsers (about as much media work again), so it is an
// upper bound for agentdesk's own. GOMAXPROCS is the machine's: run with -cpu 2 for 2 cores.
// Run with -benchtime=1x.
func BenchmarkConcurrentCalls(b *testing.B) {
	w := os.Stdout
	fmt.Fprintf(w, "\nconcurrent bridged calls (PCMU both ways, SIP/RTP ↔ WebRTC/SRTP), window %v per step\n", *callWindow)
	best, bestCPU := 0, 0.0
	for n := 10; n <= callMax; n *= 2 {
		loss, cpuPerCall, err := concurrentStep(b, n)
		if err != nil {
			fmt.Fprintf(w, "  %4d calls: %v\n", n, err)
			break
		}
		fmt.Fprintf(w, "  %4d calls: loss %.3f %%, CPU %.2f ms per call-second (%.1f %% of a core per call)\n", n, loss*100, cpuPerCall*1000, cpuPerCall*100)
		if loss >= 0.01 {
			break
		}
		best, bestCPU = n, cpuPerCall
	}
	fmt.Fprintf(w, "  most concurrent calls under 1 %% loss: %d (CPU per call %.2f ms/s)\n", best, bestCPU*1000)
	b.ReportMetric(float64(best), "calls")
	b.ReportMetric(bestCPU*1000, "cpu-ms/call-s")
}

func concurrentStep(b *testing.B, n int) (loss, cpuPerCall float64, err error) {
	ctx := b.Context()
	callers := make([]*voice.Caller, n)
	for i := range callers {
		if callers[i], err = voice.NewCaller("127.0.0.1"); err != nil {
			return 0, 0, err
		}
		defer callers[i].Close()
	}
	m, plan := voiceNode(b, callers[0])
	defer m.Close()
	agents := createAgents(b, m, "calls", n, []string{plan.ID}, 4)
	legs := make([]*callLeg, 0, n)
	defer func() {
		for _, l := range legs {
			close(l.stop)
			l.pc.Close()
		}
	}()
	for i, a := range agents {
		signals := m.Hub.Subscribe(ctx, workspace.RtcTopic(a.ID))
		offers := m.Hub.Subscribe(ctx, workspace.AgentTopic(a.ID))
		actx := workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a})
		if _, err := m.Service.SetPresence(actx, workspace.Ready); err != nil {
			return 0, 0, err
		}
		go func() { _ = callers[i].Call(ctx, m.Voice.Addr(), benchNumber, "Bench", 1000) }()
		var offerID string
		select {
		case ev := <-offers:
			o, _ := workspace.As[*workspace.OfferEvent](ev)
			offerID = o.Offer.ID
		case <-time.After(10 * time.Second):
			return 0, 0, fmt.Errorf("call %d: no offer", i)
		}
		if _, err := m.Service.AcceptOffer(actx, offerID); err != nil {
			return 0, 0, err
		}
		leg, err := answerLeg(actx, m, signals)
		if err != nil {
			return 0, 0, fmt.Errorf("call %d: %w", i, err)
		}
		leg.caller = callers[i]
		legs = append(legs, leg)
	}
	time.Sleep(2 * time.Second) // every leg connected and flowing
	type count struct{ callerSent, callerHeard, browserSent, browserHeard int }
	snap := func() (c count) {
		for _, l := range legs {
			st := l.caller.State()
			c.callerSent += st.Sent
			c.callerHeard += st.Heard
			l.mu.Lock()
			c.browserSent += l.sent
			c.browserHeard += l.heard
			l.mu.Unlock()
		}
		return c
	}
	before, cpu0, t0 := snap(), processCPU(), time.Now()
	time.Sleep(*callWindow)
	after, cpu1, t1 := snap(), processCPU(), time.Now()
	sent := (after.callerSent - before.callerSent) + (after.browserSent - before.browserSent)
	heard := (after.browserHeard - before.browserHeard) + (after.callerHeard - before.callerHeard)
	if sent > 0 {
		loss = max(0, 1-float64(heard)/float64(sent))
	}
	cpuPerCall = (cpu1 - cpu0).Seconds() / t1.Sub(t0).Seconds() / float64(n)
	return loss, cpuPerCall, nil
}

// answerLeg answers agentdesk's WebRTC offer with a pion peer that sends 1 kHz at 50 frames
// a second and counts the frames it receives.
func answerLeg(actx context.Context, m *server.Main, signals <-chan workspace.Event) (*callLeg, error) {
	me := &webrtc.MediaEngine{}
	_ = me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0}, webrtc.RTPCodecTypeAudio)
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	leg := &callLeg{pc: pc, stop: make(chan struct{})}
	track, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "mic", "bench")
	if _, err := pc.AddTrack(track); err != nil {
		return nil, err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			leg.mu.Lock()
			leg.heard++
			leg.mu.Unlock()
		}
	})
	var sig workspace.RtcSignal
	select {
	case ev := <-signals:
		p, _ := workspace.As[*workspace.RtcSignalEvent](ev)
		sig = p.Signal
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("no WebRTC offer")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.Payload}); err != nil {
		return nil, err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, err
	}
	<-gathered
	if err := m.Service.SendRtcSignal(actx, workspace.RtcSignal{InteractionID: sig.InteractionID, Type: "answer", Payload: pc.LocalDescription().SDP}); err != nil {
		return nil, err
	}
	go func() {
		tone := media.Tone{Freq: 1000, Amplitude: 0.4}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-leg.stop:
				return
			case <-t.C:
			}
			if track.WriteSample(pmedia.Sample{Data: tone.Next(), Duration: 20 * time.Millisecond}) == nil && pc.ICEConnectionState() == webrtc.ICEConnectionStateConnected {
				leg.mu.Lock()
				leg.sent++
				leg.mu.Unlock()
			}
		}
	}()
	return leg, nil
}

// processCPU is the process's CPU time (user + system) so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
