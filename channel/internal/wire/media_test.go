package wire

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMediaURL(t *testing.T) {
	for _, c := range []struct {
		raw, api string
		ok       bool
	}{
		{"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", "https://graph.facebook.com", true},
		{"http://lookaside.fbsbx.com/x", "https://graph.facebook.com", false},
		{"http://127.0.0.1:8080/x", "https://graph.facebook.com", false},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:9090", true},
		{"http://localhost:8080/x", "http://127.0.0.1:9090", true},
		{"http://media.example/x", "http://127.0.0.1:9090", false},
		{"https://user:pass@media.example/x", "https://api.twilio.com", false},
		{"ftp://media.example/x", "https://api.twilio.com", false},
		{"/relative", "https://api.twilio.com", false},
	} {
		if _, err := MediaURL(c.raw, c.api); (err == nil) != c.ok {
			t.Errorf("MediaURL(%q, %q): %v, want ok %v", c.raw, c.api, err, c.ok)
		}
	}
}

// A download redirected from https to plain http is refused, and the plain server never
// sees the request.
func TestMediaRedirectToHTTPRefused(t *testing.T) {
	reached := false
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(plain.URL, "127.0.0.1", "localhost", 1)+"/file", http.StatusFound)
	}))
	defer tlsSrv.Close()
	req, _ := http.NewRequest(http.MethodGet, tlsSrv.URL+"/media", nil)
	req.SetBasicAuth("AC1", "secret")
	body, err := FetchMedia(MediaClient(tlsSrv.Client(), "https://api.twilio.com"), req, "Twilio")
	if err == nil {
		body.Close()
		t.Fatal("a redirect to plain http was followed")
	}
	if !strings.Contains(err.Error(), "Twilio redirected the download") || reached {
		t.Fatalf("%v (reached %v)", err, reached)
	}
}

// Go's client drops Authorization on a redirect to another host: a provider's CDN never
// sees the credentials. Kept as a test so that a change of Go or of MediaClient shows.
func TestMediaRedirectDropsCredentials(t *testing.T) {
	var got []string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "bytes")
	}))
	defer cdn.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		if r.URL.Path == "/same-host" {
			http.Redirect(w, r, cdn.URL+"/file", http.StatusTemporaryRedirect) // 127.0.0.1 on another port
			return
		}
		http.Redirect(w, r, strings.Replace(cdn.URL, "127.0.0.1", "localhost", 1)+"/file", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	fetch := func(path string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL+path, nil)
		req.Header.Set("Authorization", "Bearer token")
		body, err := FetchMedia(MediaClient(nil, api.URL), req, "WhatsApp")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		if string(b) != "bytes" {
			t.Fatalf("%q", b)
		}
	}
	fetch("/other-host")
	if len(got) != 2 || got[0] != "Bearer token" || got[1] != "" {
		t.Fatalf("Authorization seen by the API, then the CDN on another host: %q", got)
	}
	got = nil
	fetch("/same-host") // Go keeps it for the same host name, whatever the port
	if len(got) != 2 || got[1] != "Bearer token" {
		t.Fatalf("same host: %q", got)
	}
}
