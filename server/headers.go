package server

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
)

// pagePolicy is the Content-Security-Policy of the server's own HTML pages (the SPA and the
// playground): everything from this origin only, no inline script or style, no eval, no
// framing. Styles need no 'unsafe-inline': Vite emits stylesheets as files, and React's style
// props go through the CSSOM, which CSP does not govern. connect-src names ws:// and wss://
// on the page's host besides 'self', as browsers that predate CSP 3 do not count websockets as
// 'self'; {ws} is replaced per request. img-src allows blob: for attachments: their bytes are
// fetched with the Authorization header (no cookies) and shown through object URLs the page
// made itself (image previews in the composer and the transcript, the widget's images). It
// also allows data: (images pasted into an email) and https: (an email's remote images, which
// the page sets only when the agent chooses "Show remote images": the server's sanitised HTML
// keeps their URLs out of src, C5).
const pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' blob: data: https:; font-src 'self'; " +
	"connect-src 'self'{ws}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// apiPolicy is for everything that is not a page (GraphQL, health, errors): a response opened
// as a document can run and load nothing.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// headerPolicy is the set of security headers for one kind of response.
type headerPolicy struct {
	csp       string // with {ws} for the request's host; "" sends none
	framing   bool   // X-Frame-Options: DENY, for browsers without frame-ancestors
	crossSite bool   // Cross-Origin-Resource-Policy: cross-origin instead of same-origin
}

// securityHeaders sets headers on every response before next writes anything, so errors, 404s
// and websocket upgrades carry them too; it wraps nothing, so http.Hijacker and http.Flusher
// stay reachable. assets is the built frontend: the demo page's inline <style> is allowed by
// its hash only.
func securityHeaders(assets fs.FS, next http.Handler) http.Handler {
	page := headerPolicy{csp: strings.Replace(pagePolicy, "{styles}", "", 1), framing: true}
	demo := page
	if b, err := fs.ReadFile(assets, "webchat/demo.html"); err == nil {
		demo.csp = strings.Replace(pagePolicy, "{styles}", styleHashes(b), 1)
	}
	api := headerPolicy{csp: apiPolicy, framing: true}
	// The widget is a script other sites load with a plain <script> tag (no CORS), which
	// Cross-Origin-Resource-Policy: same-origin would block. A CSP on a script is ignored.
	widget := headerPolicy{crossSite: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := page
		switch r.URL.Path {
		case "/webchat/widget.js":
			p = widget
		case "/webchat/demo":
			p = demo
		case "/query", "/healthz", "/readyz", "/metrics":
			p = api
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		// Contacts' messages may hold links; following one must not tell the other site which
		// interaction (in the SPA's path) an agent had open. Nothing here needs a Referer.
		h.Set("Referrer-Policy", "no-referrer")
		if p.crossSite {
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		} else {
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
		}
		if p.csp != "" {
			h.Set("Content-Security-Policy", strings.Replace(p.csp, "{ws}", websocketSources(r.Host), 1))
		}
		if p.framing {
			h.Set("X-Frame-Options", "DENY")
		}
		if r.TLS != nil {
			// Only over TLS: a browser ignores HSTS on plain HTTP, and a server behind a
			// TLS-terminating proxy leaves HSTS to the proxy.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// validHost matches host[:port] with a DNS name, IPv4 or bracketed IPv6 address; anything
// else in a Host header must not reach a response header.
var validHost = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// websocketSources lists ws:// and wss:// on host, with a leading space, or nothing for a
// host that is not well formed ('self' still covers websockets in current browsers).
func websocketSources(host string) string {
	if !validHost.MatchString(host) {
		return ""
	}
	return " ws://" + host + " wss://" + host
}

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// styleHashes returns the CSP hash sources of the <style> elements in an HTML page, each
// with a leading space.
func styleHashes(html []byte) string {
	var out strings.Builder
	for _, m := range styleElement.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[1])
		out.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	return out.String()
}
