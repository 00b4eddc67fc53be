package media

import "testing"

func TestULawRoundTrip(t *testing.T) {
	for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32000, -32000} {
		got := DecodeULaw(EncodeULaw(s))
		d := int(got) - int(s)
		if d < 0 {
			d = -d
		}
		if d > int(abs(s))/16+8 { // μ-law keeps about 4 bits of mantissa
			t.Errorf("%d → %d", s, got)
		}
	}
}

func abs(s int16) int16 {
	if s < 0 {
		return -s
	}
	return s
}

func TestGoertzelFindsTheTone(t *testing.T) {
	var buf []byte
	tone := &Tone{Freq: 440, Amplitude: 0.5}
	for range 10 {
		buf = append(buf, tone.Next()...)
	}
	if !Dominant(buf, 440) {
		t.Fatalf("440 Hz not found: power %.3f", Power(buf, 440))
	}
	if Dominant(buf, 1000) {
		t.Fatalf("1 kHz found in a 440 Hz tone: power %.3f", Power(buf, 1000))
	}
	silence := make([]byte, 1600)
	for i := range silence {
		silence[i] = EncodeULaw(0)
	}
	if Dominant(silence, 440) {
		t.Fatal("440 Hz found in silence")
	}
}
