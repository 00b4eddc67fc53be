package voice

import (
	"context"
	"errors"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// Caller is a simulated customer's phone: a SIP UA on loopback that calls the desk, or
// answers the desk's calls, and plays a prompt. -demo runs one as the demo trunk, so a
// newcomer hears a call in the browser with no carrier; tests and the benchmark use it too.
type Caller struct {
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  sipgo.DialogUA
	pc   net.PacketConn
	addr *net.UDPAddr

	mu     sync.Mutex
	out    *sipgo.DialogClientSession
	in     *sipgo.DialogServerSession
	sock   *net.UDPConn
	stop   chan struct{}
	since  time.Time
	level  float64 // RMS of what the caller heard in the last frame, 0..1
	recent []byte  // the last half second the caller heard
	frames int
	sent   int
}

// CallerState is what the demo page shows.
type CallerState struct {
	InCall bool      `json:"inCall"`
	Since  time.Time `json:"since,omitzero"`
	// Level is how loud the desk's side sounds to the caller, 0..1.
	Level float64 `json:"level"`
	// Heard and Sent count the RTP frames received and sent.
	Heard int `json:"heard"`
	Sent  int `json:"sent"`
	// HeardTone is the probe frequency that dominates the last half second heard (Goertzel),
	// 0 when none does: 440 for the fake microphone of the browser tests, say.
	HeardTone float64 `json:"heardTone"`
}

// probes are the tones HeardTone looks for.
var probes = []float64{440, 523, 660, 880, 1000}

// NewCaller starts a caller listening on ip.
func NewCaller(ip string) (*Caller, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("agentdesk-demo-caller"), sipgo.WithUserAgentHostname(ip))
	if err != nil {
		return nil, err
	}
	srv, _ := sipgo.NewServer(ua)
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		ua.Close()
		return nil, err
	}
	addr := pc.LocalAddr().(*net.UDPAddr)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		pc.Close()
		ua.Close()
		return nil, err
	}
	c := &Caller{ua: ua, srv: srv, cli: cli, pc: pc, addr: addr}
	c.dua = sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: ip, Port: addr.Port}}}
	srv.OnInvite(c.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		in := c.in
		c.mu.Unlock()
		if in != nil {
			_ = in.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		out, in := c.out, c.in
		c.mu.Unlock()
		switch {
		case out != nil:
			_ = out.ReadBye(req, tx)
		case in != nil:
			_ = in.ReadBye(req, tx)
		default:
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		c.ended()
	})
	go func() { _ = srv.ServeUDP(pc) }()
	ServingOn(ua, addr.String())
	return c, nil
}

// Addr is the caller's SIP address (the demo trunk's address).
func (c *Caller) Addr() *net.UDPAddr { return c.addr }

// State reports the caller's call.
func (c *Caller) State() CallerState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := CallerState{InCall: c.stop != nil, Since: c.since, Level: c.level, Heard: c.frames, Sent: c.sent}
	if len(c.recent) == media.SampleRate/2 {
		for _, f := range probes {
			if media.Dominant(c.recent, f) {
				st.HeardTone = f
			}
		}
	}
	return st
}

// Call calls number at the desk's SIP address and waits for the answer (the desk answers at
// once and queues the call).
// With tone > 0 it plays that steady tone instead of the prompt (a test tone).
func (c *Caller) Call(ctx context.Context, desk *net.UDPAddr, number, name string, tone float64) error {
	c.mu.Lock()
	busy := c.stop != nil
	c.mu.Unlock()
	if busy {
		return errors.New("the caller is in a call already")
	}
	sock, err := net.ListenUDP("udp", &net.UDPAddr{IP: c.addr.IP})
	if err != nil {
		return err
	}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: desk.IP.String(), Port: desk.Port})
	req.SetBody(phoneSDP(c.addr.IP.String(), sock.LocalAddr().(*net.UDPAddr).Port))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(&sip.FromHeader{DisplayName: name, Address: sip.Uri{Scheme: "sip", User: "+447700900123", Host: c.addr.IP.String()}, Params: tagged()})
	dlg, err := c.dua.WriteInvite(ctx, req)
	if err != nil {
		sock.Close()
		return err
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		sock.Close()
		return err
	}
	if err := dlg.Ack(ctx); err != nil {
		sock.Close()
		return err
	}
	ans, err := parseSDP(dlg.InviteResponse.Body())
	if err != nil {
		sock.Close()
		return err
	}
	c.mu.Lock()
	c.out = dlg
	c.mu.Unlock()
	c.play(sock, ans.addr, dlg.Context(), tone)
	return nil
}

// onInvite answers the desk's call (an outbound or consult call to the demo trunk).
func (c *Caller) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	busy := c.stop != nil
	c.mu.Unlock()
	offer, err := parseSDP(req.Body())
	if busy || err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		return
	}
	dlg, err := c.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	sock, err := net.ListenUDP("udp", &net.UDPAddr{IP: c.addr.IP})
	if err != nil {
		_ = dlg.Respond(503, "Service Unavailable", nil)
		return
	}
	_ = dlg.Respond(180, "Ringing", nil)
	c.mu.Lock()
	c.in = dlg // before the 200: its ACK is matched to the dialog, and RespondSDP waits for it
	c.mu.Unlock()
	if err := dlg.RespondSDP(phoneSDP(c.addr.IP.String(), sock.LocalAddr().(*net.UDPAddr).Port)); err != nil {
		sock.Close()
		c.mu.Lock()
		c.in = nil
		c.mu.Unlock()
		return
	}
	c.play(sock, offer.addr, dlg.Context(), 0)
	<-dlg.Context().Done() // the INVITE's server transaction lives as long as the call
}

// Prompt is the demo's voice prompt: a short phrase of tones, then a pause, over and over.
var Prompt = []struct {
	Freq float64
	Ms   int
}{{660, 300}, {880, 300}, {550, 450}, {0, 700}}

// play sends the prompt and listens until the call ends.
func (c *Caller) play(sock *net.UDPConn, to *net.UDPAddr, dialog context.Context, steady float64) {
	stop := make(chan struct{})
	c.mu.Lock()
	c.sock, c.stop, c.since, c.level, c.frames, c.sent, c.recent = sock, stop, time.Now(), 0, 0, 0, nil
	c.mu.Unlock()
	go func() {
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, _, err := sock.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if p.Unmarshal(buf[:n]) != nil || p.PayloadType != media.PayloadPCMU {
				continue
			}
			var sum float64
			for _, u := range p.Payload {
				v := float64(media.DecodeULaw(u)) / 32768
				sum += v * v
			}
			c.mu.Lock()
			c.level = math.Sqrt(sum / float64(max(1, len(p.Payload))))
			c.frames++
			c.recent = append(c.recent, p.Payload...)
			if len(c.recent) > media.SampleRate/2 {
				c.recent = c.recent[len(c.recent)-media.SampleRate/2:]
			}
			c.mu.Unlock()
		}
	}()
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var seq uint16
		var ts uint32
		step, left := 0, Prompt[0].Ms
		tone := media.Tone{Freq: Prompt[0].Freq, Amplitude: 0.4}
		if steady > 0 {
			tone.Freq, left = steady, math.MaxInt
		}
		for {
			select {
			case <-stop:
				return
			case <-dialog.Done():
				c.ended()
				return
			case <-t.C:
			}
			if left <= 0 {
				step = (step + 1) % len(Prompt)
				left = Prompt[step].Ms
				tone = media.Tone{Freq: Prompt[step].Freq, Amplitude: 0.4}
				if Prompt[step].Freq == 0 {
					tone.Amplitude = 0
				}
			}
			left -= 20
			seq++
			ts += media.FrameSamples
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: media.PayloadPCMU, SequenceNumber: seq, Timestamp: ts, SSRC: 0x0dec0de}, Payload: tone.Next()}).Marshal()
			if _, err := sock.WriteToUDP(b, to); err != nil {
				return
			}
			c.mu.Lock()
			c.sent++
			c.mu.Unlock()
		}
	}()
}

// ended stops the media of a call that ended.
func (c *Caller) ended() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		close(c.stop)
		c.sock.Close()
	}
	c.stop, c.out, c.in, c.sock, c.level, c.recent = nil, nil, nil, nil, 0, nil
}

// Hangup ends the caller's call.
func (c *Caller) Hangup(ctx context.Context) error {
	c.mu.Lock()
	out, in := c.out, c.in
	c.mu.Unlock()
	var err error
	switch {
	case out != nil:
		err = out.Bye(ctx)
	case in != nil:
		err = in.Bye(ctx)
	default:
		return errors.New("no call to hang up")
	}
	c.ended()
	return err
}

// Close hangs up and stops the caller.
func (c *Caller) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = c.Hangup(ctx)
	cancel()
	c.srv.Close()
	c.cli.Close()
	c.ua.Close()
	c.pc.Close()
}

// phoneSDP offers or answers PCMU on port.
func phoneSDP(ip string, port int) []byte {
	return []byte(strings.Join([]string{"v=0", "o=caller 1 1 IN IP4 " + ip, "s=caller", "c=IN IP4 " + ip, "t=0 0",
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv", ""}, "\r\n"))
}
