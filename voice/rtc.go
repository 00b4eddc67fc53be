package voice

import (
	"encoding/json"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// rtcEngine makes the agents' WebRTC legs: PCMU only, so the browser's audio is relayed to
// the customer's RTP as it comes, and host candidates including loopback.
type rtcEngine struct {
	api *webrtc.API
}

func newRTCEngine(ip net.IP) (*rtcEngine, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: media.SampleRate, Channels: 1},
		PayloadType:        media.PayloadPCMU,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if ip != nil && ip.IsLoopback() { // a loopback-only node offers loopback candidates only
		se.SetIPFilter(func(a net.IP) bool { return a.IsLoopback() })
	}
	return &rtcEngine{api: webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))}, nil
}

// rtcLeg is the agent's leg in their browser: a PeerConnection agentdesk terminates.
type rtcLeg struct {
	c       *call
	agentID string
	pc      *webrtc.PeerConnection
	track   *webrtc.TrackLocalStaticSample
	lost    atomic.Int64 // workspace clock, unix nanoseconds; 0 while connected
	once    sync.Once
	closed  atomic.Bool
}

func (e *rtcEngine) newLeg(c *call, agentID string) (*rtcLeg, error) {
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: media.SampleRate, Channels: 1}, "audio", "agentdesk")
	if err != nil {
		pc.Close()
		return nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		pc.Close()
		return nil, err
	}
	leg := &rtcLeg{c: c, agentID: agentID, pc: pc, track: track}
	go func() { // RTCP from the browser: read so the sender's buffers drain
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if p.PayloadType == media.PayloadPCMU {
				c.fromAgent(p.Payload)
			}
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		slog.Debug("voice: agent leg ICE", "state", s.String())
		switch s {
		case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed, webrtc.ICEConnectionStateClosed:
			// Closed by the browser (its DTLS said goodbye: a tab closed or reloaded) counts as
			// lost too; closed by agentdesk, the leg is gone anyway.
			leg.lost.CompareAndSwap(0, c.b.Service.Clock.Now().UnixNano())
		case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
			leg.lost.Store(0)
		}
	})
	return leg, nil
}

// lostSince is when the leg lost its network, zero while it is connected.
func (l *rtcLeg) lostSince() time.Time {
	n := l.lost.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// publish sends a signalling message to the agent's browser.
func (l *rtcLeg) publish(typ, payload string) {
	l.c.b.Service.PublishRtcSignal(l.agentID, workspace.RtcSignal{InteractionID: l.c.ixID, Type: typ, Payload: payload})
}

// offer makes agentdesk's SDP offer and sends it, with every candidate gathered, to the
// agent's browser.
func (l *rtcLeg) offer() error {
	o, err := l.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(o); err != nil {
		return err
	}
	go l.sendLocal(gathered, "offer")
	return nil
}

func (l *rtcLeg) sendLocal(gathered <-chan struct{}, typ string) {
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
	}
	if d := l.pc.LocalDescription(); d != nil && !l.closed.Load() {
		l.publish(typ, d.SDP)
	}
}

// signal takes the browser's message: its answer, its offer (an ICE restart), a candidate,
// or bye (the page went away: the grace for its return starts).
func (l *rtcLeg) signal(typ, payload string) error {
	bad := func(err error) error {
		return &workspace.Error{Code: workspace.EINVALID, Message: "the " + typ + " was refused: " + err.Error(), Field: []string{"payload"}}
	}
	switch typ {
	case "answer":
		if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: payload}); err != nil {
			return bad(err)
		}
	case "offer":
		if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: payload}); err != nil {
			return bad(err)
		}
		a, err := l.pc.CreateAnswer(nil)
		if err != nil {
			return bad(err)
		}
		gathered := webrtc.GatheringCompletePromise(l.pc)
		if err := l.pc.SetLocalDescription(a); err != nil {
			return bad(err)
		}
		go l.sendLocal(gathered, "answer")
	case "candidate":
		var c webrtc.ICECandidateInit
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			return bad(err)
		}
		if c.Candidate == "" { // end of candidates
			return nil
		}
		if err := l.pc.AddICECandidate(c); err != nil {
			return bad(err)
		}
	case "bye":
		l.lost.CompareAndSwap(0, l.c.b.Service.Clock.Now().UnixNano())
	}
	return nil
}

// write implements agentSide: the customer's frame to the browser.
func (l *rtcLeg) write(payload []byte) {
	_ = l.track.WriteSample(pmedia.Sample{Data: payload, Duration: 20 * time.Millisecond})
}

// close implements agentSide.
func (l *rtcLeg) close() {
	l.once.Do(func() {
		l.closed.Store(true)
		go func() {
			_ = l.pc.GracefulClose()
		}()
	})
}
