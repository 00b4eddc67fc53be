package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/agentdesk/agentdesk/workspace"
)

// Inbound media: the files of a provider message are fetched with the identity's
// credentials (Twilio's basic auth, WhatsApp's bearer token, a Vonage application JWT), and
// credentials travel over TLS only. A provider's files are served from https URLs; plain
// http is taken only when the identity's own apiUrl is plain http — a simulator, as in the
// tests and the demo — and then only from a loopback host. Redirects are held to the same
// rule, and Go's client drops the Authorization header on a redirect to another host (the
// tests check it), so a CDN a provider redirects to never sees the credentials.

// MaxMediaRedirects bounds the redirects of one download.
const MaxMediaRedirects = 5

// MediaURL checks that a file may be fetched from raw for an identity whose API is at
// apiURL (see above), and returns it parsed.
func MediaURL(raw, apiURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return nil, errors.New("the provider gave no usable address for it")
	}
	if err := allowedMedia(u, apiURL); err != nil {
		return nil, err
	}
	return u, nil
}

func allowedMedia(u *url.URL, apiURL string) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		api, err := url.Parse(apiURL)
		if err == nil && api.Scheme == "http" && loopback(u.Hostname()) {
			return nil
		}
		return errors.New("its address is plain http, and files are fetched over https only")
	default:
		return errors.New("its address is not an https URL")
	}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MediaClient is the client downloads go through: c's transport and jar (c is a proxy or a
// test's client; nil means the default transport), no overall timeout (the caller's context
// bounds a download, which may be large), and redirects followed only to addresses MediaURL
// allows, at most MaxMediaRedirects.
func MediaClient(c *http.Client, apiURL string) *http.Client {
	out := &http.Client{}
	if c != nil {
		out.Transport, out.Jar = c.Transport, c.Jar
	}
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= MaxMediaRedirects {
			return &redirectRefused{errors.New("too many redirects")}
		}
		if err := allowedMedia(req.URL, apiURL); err != nil {
			return &redirectRefused{err}
		}
		return nil
	}
	return out
}

// FetchMedia sends req (which carries the credentials) and returns the body of a 2xx
// answer, for the caller to stream and close. Any other answer or failure comes back as an
// error that names the provider and what it said, for the transcript: never a URL, whose
// query may be a signed link.
func FetchMedia(client *http.Client, req *http.Request, provider string) (io.ReadCloser, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, mediaTransport(req.Context(), provider, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.Body, nil
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
	return nil, MediaStatus(provider, resp.StatusCode)
}

// MediaStatus is the error of a refused download.
func MediaStatus(provider string, status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s refused the identity's credentials (HTTP %d): check its settings", provider, status)
	case status == http.StatusNotFound || status == http.StatusGone:
		return fmt.Errorf("%s no longer has the file (HTTP %d)", provider, status)
	default:
		return fmt.Errorf("%s answered HTTP %d", provider, status)
	}
}

// redirectRefused is CheckRedirect's refusal of a redirect.
type redirectRefused struct{ err error }

func (e *redirectRefused) Error() string { return e.err.Error() }

func mediaTransport(ctx context.Context, provider string, err error) error {
	var refused *redirectRefused
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("%s redirected the download: %v", provider, refused.err)
	case ctx.Err() != nil:
		return fmt.Errorf("the download from %s was cut short: %v", provider, ctx.Err())
	default:
		return fmt.Errorf("could not reach %s: %v", provider, redact(err))
	}
}

// MediaKind is a word for a file by its declared type, used as its name when the provider
// gives none: image, video, audio or file.
func MediaKind(contentType string) string {
	kind, _, _ := strings.Cut(strings.TrimSpace(strings.ToLower(contentType)), "/")
	switch kind {
	case "image", "video", "audio":
		return kind
	default:
		return "file"
	}
}

// Medium is an InboundMedia whose Open is open.
func Medium(name, contentType, caption, source string, open func(ctx context.Context) (io.ReadCloser, error)) workspace.InboundMedia {
	return workspace.InboundMedia{FileName: Clip(strings.TrimSpace(name), 200), ContentType: Clip(strings.TrimSpace(contentType), 100),
		Caption: caption, Source: source, Open: open}
}
