package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestE164(t *testing.T) {
	for in, want := range map[string]string{
		"447700900123":     "+447700900123",
		"+447700900123":    "+447700900123",
		"00447700900123":   "+447700900123",
		" 447700900123 ":   "+447700900123",
		"ACME":             "ACME",
		"US.1349120865530": "US.1349120865530",
		"":                 "",
		"+":                "+",
		"1234567890123456": "1234567890123456",
		"44 7700":          "44 7700",
	} {
		if got := E164(in); got != want {
			t.Errorf("E164(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"+447700900123": "447700900123", "00447700900123": "447700900123", "447700900123": "447700900123", "00ACME": "00ACME"} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFlex(t *testing.T) {
	var v struct {
		A, B, C, D, E, F Flex
	}
	if err := json.Unmarshal([]byte(`{"A":"x","B":131047,"C":true,"D":null,"E":{"y":1},"F":[1]}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "x" || v.B != "131047" || v.C != "true" || v.D != "" || v.E != "" || v.F != "" {
		t.Fatalf("%+v", v)
	}
}

func TestClipAndTimes(t *testing.T) {
	if got := Clip("héllo", 2); got != "h…" {
		t.Errorf("Clip = %q", got)
	}
	if !UnixTime("x").IsZero() || UnixTime("1700000000") != time.Unix(1700000000, 0).UTC() {
		t.Error("UnixTime")
	}
	if ISOTime("2020-01-01T14:00:00.000Z") != time.Date(2020, 1, 1, 14, 0, 0, 0, time.UTC) || !ISOTime("soon").IsZero() {
		t.Error("ISOTime")
	}
}
