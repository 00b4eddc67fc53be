package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/frontend"
	"github.com/agentdesk/agentdesk/server"
	coderws "github.com/coder/websocket"
)

// TestHardening_CORSDefaultsToSameOrigin: with no -allowed-origins no other origin may use
// the API from a browser (rs/cors alone would answer "*"); configured origins are allowed
// exactly, for CORS and websockets alike.
func TestHardening_CORSDefaultsToSameOrigin(t *testing.T) {
	const crm = "http://localhost:5173"
	cases := []struct {
		name    string
		origins []string
		allowed map[string]bool // origin → allowed
	}{
		{"no origins configured", nil, map[string]bool{crm: false, "https://evil.example": false}},
		{"one origin configured", []string{crm}, map[string]bool{
			crm: true, "https://localhost:5173": false, "http://localhost:5174": false, "https://evil.example": false,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := start(t, func(cfg *server.Config) { cfg.AllowedOrigins = c.origins })
			for origin, ok := range c.allowed {
				want := ""
				if ok {
					want = origin
				}
				pre := corsRequest(t, http.MethodOptions, m.URL()+"/query", origin)
				if got := pre.Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
				}
				if ok && !strings.Contains(strings.ToLower(pre.Get("Access-Control-Allow-Headers")), "authorization") {
					t.Errorf("preflight from %s: Access-Control-Allow-Headers %q lacks Authorization", origin, pre.Get("Access-Control-Allow-Headers"))
				}
				if got := corsRequest(t, http.MethodPost, m.URL()+"/query", origin).Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("POST from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
				}

				conn, res, err := dialWS(t, m, "graphql-transport-ws", http.Header{"Origin": {origin}})
				switch {
				case ok && err != nil:
					t.Errorf("websocket from %s refused: %v", origin, err)
				case !ok && err == nil:
					t.Errorf("websocket from %s accepted", origin)
				case !ok && (res == nil || res.StatusCode != http.StatusForbidden):
					t.Errorf("websocket from %s: %v, want 403", origin, err)
				}
				if conn != nil {
					conn.CloseNow()
				}
			}
			// The server's own pages always may.
			for _, origin := range []string{"", m.URL()} {
				conn, _, err := dialWS(t, m, "graphql-transport-ws", http.Header{"Origin": {origin}})
				if err != nil {
					t.Fatalf("same-origin websocket (Origin %q) refused: %v", origin, err)
				}
				conn.CloseNow()
			}
		})
	}

	// Origins are matched exactly, so what cannot match is refused at start-up.
	for _, bad := range []string{"*", "https://*.example.com", "localhost:5173", "https://crm.example/app"} {
		if _, err := server.ParseConfig([]string{"-allowed-origins", bad}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("-allowed-origins %q was accepted", bad)
		}
	}
	c, err := server.ParseConfig([]string{"-allowed-origins", "HTTPS://CRM.example:8443/, http://[::1]:5173"}, func(string) string { return "" }, io.Discard)
	if err != nil || strings.Join(c.AllowedOrigins, ",") != "https://crm.example:8443,http://[::1]:5173" {
		t.Fatalf("origins %v, %v", c.AllowedOrigins, err)
	}
}

// corsRequest sends a preflight (OPTIONS) or an actual request from origin and returns the
// response headers.
func corsRequest(t *testing.T, method, url, origin string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Origin", origin)
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header
}

// pageCSP is the policy of the SPA and the playground on host.
func pageCSP(host, styles string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'" + styles + "; img-src 'self' blob: data: https:; font-src 'self'; " +
		"connect-src 'self' ws://" + host + " wss://" + host + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func TestHardening_SecurityHeaders(t *testing.T) {
	m := start(t)
	host := m.Addr()
	// The demo page's inline <style> is allowed by its hash, taken here from the embedded page.
	var demoStyles string
	if b, err := fs.ReadFile(frontend.Dist(), "webchat/demo.html"); err == nil {
		for _, s := range regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(b, -1) {
			sum := sha256.Sum256(s[1])
			demoStyles += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		}
		if demoStyles == "" {
			t.Fatal("the demo page has no <style>: the test's hash extraction is out of date")
		}
	}
	const api = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	cases := []struct {
		method, path, csp, frame, corp string
	}{
		{"GET", "/", pageCSP(host, ""), "DENY", "same-origin"},
		{"GET", "/some/client/route", pageCSP(host, ""), "DENY", "same-origin"},
		{"GET", "/playground", pageCSP(host, ""), "DENY", "same-origin"},
		{"GET", "/webchat/demo", pageCSP(host, demoStyles), "DENY", "same-origin"},
		{"GET", "/webchat/widget.js", "", "", "cross-origin"},
		{"GET", "/assets/gone-1234.js", pageCSP(host, ""), "DENY", "same-origin"}, // 404
		{"POST", "/", pageCSP(host, ""), "DENY", "same-origin"},                   // 405
		{"POST", "/query", api, "DENY", "same-origin"},
		{"GET", "/query?query=%7B", api, "DENY", "same-origin"}, // a GraphQL error
		{"GET", "/healthz", api, "DENY", "same-origin"},
		{"GET", "/readyz", api, "DENY", "same-origin"},
		{"GET", "/metrics", api, "DENY", "same-origin"}, // 404 here
		{"OPTIONS", "/query", api, "DENY", "same-origin"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, m.URL()+c.path, strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		if c.method == http.MethodOptions {
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		what := c.method + " " + c.path
		for name, want := range map[string]string{
			"X-Content-Type-Options":       "nosniff",
			"Referrer-Policy":              "no-referrer",
			"Content-Security-Policy":      c.csp,
			"X-Frame-Options":              c.frame,
			"Cross-Origin-Resource-Policy": c.corp,
			"Strict-Transport-Security":    "", // plain HTTP
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s (%d): %s = %q, want %q", what, res.StatusCode, name, got, want)
			}
		}
	}

	// A websocket upgrade carries them too.
	conn, res, err := dialWS(t, m, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("websocket upgrade: %v", res.Header)
	}

	// The metrics listener's answers too.
	res, err = http.Get(m.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") != api {
		t.Errorf("metrics listener: %v", res.Header)
	}
}

// TestHardening_HSTSOnlyOverTLS: with -tls-cert and -tls-key the server speaks HTTPS, with
// HSTS on every answer, GraphQL over HTTP and wss working; over plain HTTP there is no HSTS.
func TestHardening_HSTSOnlyOverTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	m := start(t, func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("URL %s, want https", m.URL())
	}
	for _, h2 := range []bool{false, true} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}}
		for _, path := range []string{"/healthz", "/", "/webchat/widget.js", "/no/such/route"} {
			res, err := client.Get(m.URL() + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
				t.Errorf("%s over %s: Strict-Transport-Security %q", path, res.Proto, got)
			}
			if h2 && res.ProtoMajor != 2 {
				t.Errorf("%s: %s, want HTTP/2 where the client offers it", path, res.Proto)
			}
		}
		res, err := client.Post(m.URL()+"/query", "application/json",
			strings.NewReader(`{"query":"mutation { login(input:{username:\"alice\", password:\"demo\"}) { token } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"token":"`) || res.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("login over TLS: %d %s %v", res.StatusCode, body, res.Header)
		}
	}

	// A subscription over wss.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	token := loginTLS(t, client, m)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, res, err := coderws.Dial(ctx, "wss"+strings.TrimPrefix(m.URL(), "https")+"/query", &coderws.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: client,
	})
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	defer conn.CloseNow()
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("wss upgrade without HSTS: %v", res.Header)
	}
	ws := &wsClient{t: t, conn: conn, ctx: t.Context()}
	ws.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "{ me { username } }"}})
	if msg := ws.expect("next"); !strings.Contains(string(msg.Payload), `"alice"`) {
		t.Fatalf("over wss: %s", msg.Payload)
	}

	// A certificate that does not load stops Run before it listens.
	bad, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "off", "-data", t.TempDir(),
		"-tls-cert", certFile, "-tls-key", certFile}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.NewMain(bad).Run(t.Context()); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Run with a certificate as its own key: %v", err)
	}

	// Both or neither.
	if _, err := server.ParseConfig([]string{"-tls-cert", certFile}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("-tls-cert without -tls-key was accepted")
	}
	c, err := server.ParseConfig(nil, func(k string) string {
		return map[string]string{"AGENTDESK_TLS_CERT": certFile, "AGENTDESK_TLS_KEY": keyFile}[k]
	}, io.Discard)
	if err != nil || c.TLSCert != certFile || c.TLSKey != keyFile {
		t.Fatalf("TLS files from the environment: %+v %v", c, err)
	}
}

func loginTLS(t *testing.T, client *http.Client, m *server.Main) string {
	t.Helper()
	res, err := client.Post(m.URL()+"/query", "application/json",
		strings.NewReader(`{"query":"mutation { login(input:{username:\"alice\", password:\"demo\"}) { token } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	token := regexp.MustCompile(`"token":"([^"]+)"`).FindSubmatch(body)
	if token == nil {
		t.Fatalf("login over TLS: %s", body)
	}
	return string(token[1])
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files and returns them
// with a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "agentdesk test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// TestHardening_MetricsOnItsOwnListener: /metrics is served on -metrics-addr only; the public
// listener answers 404; two nodes in one process each get their own; Close closes both.
func TestHardening_MetricsOnItsOwnListener(t *testing.T) {
	a, b := start(t), start(t)
	for _, m := range []*server.Main{a, b} {
		res, err := http.Get(m.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || strings.Contains(string(body), "agentdesk_") {
			t.Fatalf("public /metrics: %d %.200s, want 404", res.StatusCode, body)
		}
		if m.MetricsAddr() == "" || m.MetricsAddr() == m.Addr() {
			t.Fatalf("metrics address %q, public %q", m.MetricsAddr(), m.Addr())
		}
		if text := metricsText(t, m); !strings.Contains(text, "\nagentdesk_websockets_open 0\n") {
			t.Fatalf("metrics listener: %.300s", text)
		}
		// Only /metrics there.
		res, err = http.Get("http://" + m.MetricsAddr() + "/query?query=%7B__typename%7D")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("/query on the metrics listener: %d", res.StatusCode)
		}
	}
	if a.MetricsAddr() == b.MetricsAddr() {
		t.Fatalf("two nodes share %s", a.MetricsAddr())
	}
	addr := a.MetricsAddr()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the metrics listener is still open after Close")
	}

	// The flag's default, "off", and the zero Config.
	cfg, err := server.ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || cfg.MetricsAddr != "127.0.0.1:9464" {
		t.Fatalf("default metrics address %q %v", cfg.MetricsAddr, err)
	}
	cfg, err = server.ParseConfig(nil, func(k string) string { return map[string]string{"AGENTDESK_METRICS_ADDR": "off"}[k] }, io.Discard)
	if err != nil || cfg.MetricsAddr != "" {
		t.Fatalf("off: %q %v", cfg.MetricsAddr, err)
	}
	off := start(t, func(c *server.Config) { c.MetricsAddr = "" })
	if off.MetricsAddr() != "" || off.MetricsURL() != "" {
		t.Fatalf("no metrics listener wanted, got %s", off.MetricsAddr())
	}
}
