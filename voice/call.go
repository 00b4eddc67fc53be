package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// HoldTone is what a customer hears while no agent's voice reaches them: queued, on hold, or
// between agents after a transfer.
const HoldTone = 523.0

// agentSide is the agent's leg of a call: the browser (rtcLeg) or a hardphone.
type agentSide interface {
	// write sends one PCMU frame of the customer's audio to the agent.
	write(payload []byte)
	// close ends the leg.
	close()
}

// call is one call: the customer's leg (a SIP dialog and its RTP socket) and, once an agent
// holds it, the agent's leg; audio is relayed between them frame by frame.
type call struct {
	b        *Bridge
	ixID     string
	identity *workspace.Identity
	sock     *media.Socket
	remote   atomic.Pointer[net.UDPAddr]

	srvDialog  *sipgo.DialogServerSession
	cliDialog  *sipgo.DialogClientSession
	dialCancel context.CancelFunc

	mu    sync.Mutex
	agent agentSide
	held  bool
	muted bool
	// ringing is the agent's hardphone while it rings for an offer of the call.
	ringing *phoneLeg

	sendMu sync.Mutex
	seq    uint16
	ts     uint32
	ssrc   uint32
	tone   media.Tone

	closing sync.Once
	byUs    atomic.Bool
	started atomic.Bool
	done    chan struct{}
}

func newCall(b *Bridge, ixID string, id *workspace.Identity, sock *media.Socket) *call {
	return &call{b: b, ixID: ixID, identity: id, sock: sock, done: make(chan struct{}),
		seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(),
		tone: media.Tone{Freq: HoldTone, Amplitude: 0.3}}
}

func (c *call) setRemote(a *net.UDPAddr) {
	if a != nil {
		c.remote.Store(a)
	}
}

// sdp is agentdesk's side of the customer's SDP: PCMU and RFC 4733 events on the call's socket.
func (c *call) sdp() []byte { return c.sdpFor(c.sock.Port()) }

// sdpFor is agentdesk's SDP for RTP on port.
func (c *call) sdpFor(port int) []byte {
	ip := c.b.mediaIP.String()
	id := strconv.FormatUint(uint64(c.ssrc), 10)
	return []byte("v=0\r\n" +
		"o=agentdesk " + id + " 1 IN IP4 " + ip + "\r\n" +
		"s=agentdesk\r\n" +
		"c=IN IP4 " + ip + "\r\n" +
		"t=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n")
}

// start runs the call's media once its customer's leg is up, until dialog ends.
func (c *call) start(dialog context.Context) {
	if c.started.Swap(true) {
		return
	}
	go c.readCustomer()
	go c.holdTone()
	go func() {
		select {
		case <-dialog.Done():
			c.remoteGone()
		case <-c.done:
		}
	}()
}

// readCustomer relays the customer's audio to the agent's leg.
func (c *call) readCustomer() {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, from, err := c.sock.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != media.PayloadPCMU {
			continue
		}
		if r := c.remote.Load(); r == nil || !r.IP.Equal(from.IP) || r.Port != from.Port {
			c.remote.Store(from) // symmetric RTP: answer where the audio comes from
		}
		if a := c.agentLeg(); a != nil {
			a.write(p.Payload)
		}
	}
}

// holdTone plays the hold tone to the customer while no agent's voice reaches them.
func (c *call) holdTone() {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.mu.Lock()
			playing := c.agent == nil || c.held
			c.mu.Unlock()
			if playing {
				c.sendMu.Lock()
				frame := c.tone.Next()
				c.sendMu.Unlock()
				c.toCustomer(frame)
			}
		}
	}
}

// fromAgent relays one PCMU frame of the agent's voice to the customer, unless muted or held.
func (c *call) fromAgent(payload []byte) {
	c.mu.Lock()
	pass := !c.held && !c.muted
	c.mu.Unlock()
	if pass {
		c.toCustomer(payload)
	}
}

// toCustomer sends one PCMU frame to the customer with the call's own sequence and clock.
func (c *call) toCustomer(payload []byte) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.send(media.PayloadPCMU, false, payload)
	c.ts += uint32(len(payload))
}

// send writes one RTP packet to the customer; sendMu is held.
func (c *call) send(pt uint8, marker bool, payload []byte) {
	r := c.remote.Load()
	if r == nil {
		return
	}
	c.seq++
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: c.ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err == nil {
		_, _ = c.sock.WriteToUDP(b, r)
	}
}

// dtmfEvents are RFC 4733's event codes of the keypad.
var dtmfEvents = map[rune]byte{'0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
	'*': 10, '#': 11, 'A': 12, 'B': 13, 'C': 14, 'D': 15}

// sendDigits sends DTMF digits to the customer as RFC 4733 events, 100 ms each with 60 ms
// between; the agent's audio is held back meanwhile.
func (c *call) sendDigits(digits string) {
	for _, d := range digits {
		ev, ok := dtmfEvents[d]
		if !ok {
			continue
		}
		c.sendMu.Lock()
		for i := 1; i <= 5; i++ {
			end := i == 5
			dur := uint16(i * media.FrameSamples)
			flags := byte(10) // volume -10 dBm0
			if end {
				flags |= 0x80
			}
			payload := []byte{ev, flags, byte(dur >> 8), byte(dur)}
			c.send(media.PayloadEvent, i == 1, payload)
			if end { // the end packet is sent three times (RFC 4733 §2.5.1.4)
				c.send(media.PayloadEvent, false, payload)
				c.send(media.PayloadEvent, false, payload)
			}
			c.sendMu.Unlock()
			select {
			case <-c.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			c.sendMu.Lock()
		}
		c.ts += 5 * media.FrameSamples
		c.sendMu.Unlock()
		select {
		case <-c.done:
			return
		case <-time.After(60 * time.Millisecond):
		}
	}
}

// control applies the agent's mute, hold and digits.
func (c *call) control(cc workspace.CallControl) {
	c.mu.Lock()
	if cc.Mute != nil {
		c.muted = *cc.Mute
	}
	if cc.Hold != nil {
		c.held = *cc.Hold
	}
	c.mu.Unlock()
	if cc.Digits != "" {
		go c.sendDigits(cc.Digits)
	}
}

func (c *call) agentLeg() agentSide {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agent
}

// setAgent replaces the agent's leg (nil: none, the customer hears the hold tone).
func (c *call) setAgent(a agentSide) {
	c.mu.Lock()
	old := c.agent
	c.agent, c.held, c.muted = a, false, false
	c.mu.Unlock()
	if old != nil && old != a {
		old.close()
	}
}

// stopRinging cancels the hardphone ringing for the call, if any.
func (c *call) stopRinging() {
	c.mu.Lock()
	ringing := c.ringing
	c.ringing = nil
	c.mu.Unlock()
	if ringing != nil {
		ringing.close()
	}
}

// remoteGone ends the call because its customer's leg ended (a BYE, a CANCEL, a failed
// dial), unless agentdesk hung up itself.
func (c *call) remoteGone() {
	if c.byUs.Load() {
		c.close()
		return
	}
	c.close()
	if _, err := c.b.Service.CallEnded(context.WithoutCancel(c.b.ctx), c.ixID, workspace.PartyContact); err != nil && workspace.ErrorCode(err) != workspace.ENOTFOUND {
		slog.Warn("voice: call ended", "err", err)
	}
}

// hangup ends the call from agentdesk's side: BYE to the customer (or CANCEL of a dial not yet
// answered), and every leg closed.
func (c *call) hangup() {
	if c.byUs.Swap(true) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.b.ctx), 5*time.Second)
		defer cancel()
		switch {
		case c.srvDialog != nil:
			_ = c.srvDialog.Bye(ctx)
		case c.cliDialog != nil && c.cliDialog.LoadState() >= sip.DialogStateEstablished:
			_ = c.cliDialog.Bye(ctx)
		}
		if c.dialCancel != nil {
			c.dialCancel()
		}
		c.close()
	}()
}

// close releases everything the call holds, once.
func (c *call) close() {
	c.closing.Do(func() {
		close(c.done)
		_ = c.sock.Close()
		c.setAgent(nil)
		c.stopRinging()
		c.b.forget(c)
	})
}

// wait waits until the call has closed, at most d.
func (c *call) wait(d time.Duration) {
	select {
	case <-c.done:
	case <-time.After(d):
	}
}

// offerSDP is what agentdesk needs of a peer's SDP: where its audio goes and whether it
// takes PCMU.
type offerSDP struct {
	addr *net.UDPAddr
	pcmu bool
}

// parseSDP reads a peer's SDP offer or answer.
func parseSDP(body []byte) (*offerSDP, error) {
	if len(body) == 0 || len(body) > 8<<10 {
		return nil, errors.New("no SDP, or too large")
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, err
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		conn := sd.ConnectionInformation
		if m.ConnectionInformation != nil {
			conn = m.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			return nil, errors.New("no connection address")
		}
		ip := net.ParseIP(conn.Address.Address)
		if ip == nil {
			return nil, fmt.Errorf("not an IP address: %q", conn.Address.Address)
		}
		out := &offerSDP{addr: &net.UDPAddr{IP: ip, Port: m.MediaName.Port.Value}}
		for _, f := range m.MediaName.Formats {
			if strings.TrimSpace(f) == "0" {
				out.pcmu = true
			}
		}
		return out, nil
	}
	return nil, errors.New("no audio")
}
