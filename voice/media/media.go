// Package media holds what both legs of a call share: G.711 μ-law (PCMU) samples, generated
// tones, a Goertzel detector for tests and the demo, and the RTP sockets of calls, counted so
// that a test can prove every one opened was closed.
package media

import (
	"math"
	"net"
	"sync/atomic"
)

// Frame is one 20 ms PCMU frame at 8 kHz: 160 samples, one byte each.
const (
	SampleRate   = 8000
	FrameSamples = 160
)

// PCMU and telephone-event payload types: PCMU is static (0), RFC 4733 events use the
// dynamic type agentdesk offers and answers with.
const (
	PayloadPCMU  = 0
	PayloadEvent = 101
)

// EncodeULaw encodes one 16-bit linear sample as G.711 μ-law.
func EncodeULaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := byte(7)
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte((v >> (int(exp) + 3)) & 0x0f)
	return ^(sign | exp<<4 | mant)
}

// DecodeULaw decodes one G.711 μ-law byte to a 16-bit linear sample.
func DecodeULaw(u byte) int16 {
	u = ^u
	sign, exp, mant := u&0x80, (u>>4)&0x07, int(u&0x0f)
	v := ((mant << 3) + 0x84) << exp
	v -= 0x84
	if sign != 0 {
		return int16(-v)
	}
	return int16(v)
}

// Tone generates a sine tone, frame by frame, as PCMU.
type Tone struct {
	Freq      float64
	Amplitude float64 // 0..1 of full scale
	n         int
}

// Next returns the tone's next 20 ms frame.
func (t *Tone) Next() []byte {
	out := make([]byte, FrameSamples)
	for i := range out {
		v := t.Amplitude * 32000 * math.Sin(2*math.Pi*t.Freq*float64(t.n)/SampleRate)
		out[i] = EncodeULaw(int16(v))
		t.n++
	}
	return out
}

// Power is the Goertzel power of freq in PCMU samples, normalised by the signal's energy: near
// 0.5 for a pure tone at freq, near 0 when freq is absent.
func Power(pcmu []byte, freq float64) float64 {
	if len(pcmu) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2, energy float64
	for _, u := range pcmu {
		x := float64(DecodeULaw(u))
		energy += x * x
		s0 := x + k*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / (energy * float64(len(pcmu)) / 2)
}

// Dominant reports whether freq stands out in the samples: its Goertzel power is well above
// every other probe frequency's.
func Dominant(pcmu []byte, freq float64) bool {
	p := Power(pcmu, freq)
	if p < 0.2 {
		return false
	}
	for _, f := range []float64{300, 440, 697, 1000, 1336, 2000, 3000} {
		if math.Abs(f-freq) > 50 && Power(pcmu, f) > p/4 {
			return false
		}
	}
	return true
}

// openSockets counts the RTP sockets open in this process.
var openSockets atomic.Int64

// OpenSockets is how many RTP sockets are open now: every call's are closed when it ends.
func OpenSockets() int64 { return openSockets.Load() }

// Socket is one RTP socket of a call.
type Socket struct {
	*net.UDPConn
	closed atomic.Bool
}

// Listen opens an RTP socket on ip, on a free port.
func Listen(ip net.IP) (*Socket, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		return nil, err
	}
	openSockets.Add(1)
	return &Socket{UDPConn: c}, nil
}

// Port is the socket's local port.
func (s *Socket) Port() int { return s.LocalAddr().(*net.UDPAddr).Port }

// Close closes the socket once.
func (s *Socket) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	openSockets.Add(-1)
	return s.UDPConn.Close()
}
