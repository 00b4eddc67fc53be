// Package wire holds what the provider adapters share below channel/: settings checks, the
// HTTP client and its limits, the mapping of transport failures to delivery errors, and the
// normalisation of phone numbers.
package wire

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
)

// DefaultTimeout bounds one Send, connection to last byte.
const DefaultTimeout = 10 * time.Second

// MaxResponseBody is the most of a provider's response a Send reads.
const MaxResponseBody = 1 << 20

// Client returns c, or a client with the given timeout (DefaultTimeout if zero).
func Client(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Timeout: timeout}
}

// Do sends req and reads at most MaxResponseBody of the answer. A transport failure (refused
// connection, timeout, cancelled context, reset) comes back as a TEMPORARY *DeliveryError.
func Do(client *http.Client, req *http.Request) (status int, body []byte, err error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, Transport(req.Context(), err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil {
		return 0, nil, Transport(req.Context(), err)
	}
	// Drain a little more so the connection can be reused, but never unbounded.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	return resp.StatusCode, body, nil
}

// Transport turns a transport failure into a TEMPORARY delivery error that says what happened.
func Transport(ctx context.Context, err error) *workspace.DeliveryError {
	var nerr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()):
		return Temporary("", "the provider did not answer in time")
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return Temporary("", "the send was cancelled")
	default:
		return Temporary("", "could not reach the provider: %v", redact(err))
	}
}

// redact drops the URL from a *url.Error so that no query string lands in a message.
func redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// Temporary is a delivery error the outbox may retry.
func Temporary(code, format string, args ...any) *workspace.DeliveryError {
	return &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, ProviderCode: code,
		Message: Clip(fmt.Sprintf(format, args...), 500)}
}

// Content is a delivery error the agent must fix (the message or the address).
func Content(code, format string, args ...any) *workspace.DeliveryError {
	return &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: code,
		Message: Clip(fmt.Sprintf(format, args...), 500)}
}

// Credentials is the TEMPORARY error of a provider refusing the identity's credentials: an
// administrator must fix the settings; the message itself is fine.
func Credentials(code string, status int) *workspace.DeliveryError {
	return Temporary(code, "the provider refused the identity's credentials (HTTP %d): check its settings", status)
}

// Clip shortens s to at most n bytes on a rune boundary.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Settings fills defaults into a copy of settings and checks the required keys and the
// apiUrl. Empty values count as missing.
func Settings(settings, defaults map[string]string, required ...string) (map[string]string, error) {
	out := make(map[string]string, len(settings)+len(defaults))
	for k, v := range settings {
		out[k] = strings.TrimSpace(v)
	}
	for k, v := range defaults {
		if out[k] == "" {
			out[k] = v
		}
	}
	for _, k := range required {
		if out[k] == "" {
			return nil, &channel.SettingsError{Key: k, Message: "is required"}
		}
	}
	if v, ok := out["apiUrl"]; ok {
		if err := CheckURL("apiUrl", v); err != nil {
			return nil, err
		}
		out["apiUrl"] = strings.TrimRight(v, "/")
	}
	return out, nil
}

// CheckURL requires an absolute http(s) URL with a host.
func CheckURL(key, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &channel.SettingsError{Key: key, Message: "must be an absolute http(s) URL"}
	}
	return nil
}

// Equal compares two secrets in constant time (in their contents; the length may show).
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// E164 normalises a phone number as a provider sent it: "447700900001", "+447700900001" and
// "00447700900001" all become "+447700900001". Anything that is not a number (an
// alphanumeric sender, a WhatsApp business-scoped user ID) is returned as received.
func E164(s string) string {
	s = strings.TrimSpace(s)
	d := strings.TrimPrefix(s, "+")
	if d == s && strings.HasPrefix(d, "00") {
		d = d[2:]
	}
	if d == "" || len(d) > 15 {
		return s
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return s
		}
	}
	return "+" + d
}

// Digits is a number the way Vonage and WhatsApp take it: without '+' or a leading 00.
func Digits(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		return s[1:]
	}
	if strings.HasPrefix(s, "00") && E164(s) != s {
		return s[2:]
	}
	return s
}

// Media is the text an inbound message that is not text stands for, until attachments are
// carried: "[image received: https://…]" followed by its caption on the next line.
func Media(kind, link, caption string) string {
	s := "[" + kind + " received"
	if link != "" {
		s += ": " + link
	}
	s += "]"
	if caption != "" {
		s += "\n" + caption
	}
	return s
}

// Text is the text of an outbound message: the template's rendering is in Message.Text when
// a channel has no templates. An empty message is a CONTENT error.
func Text(m *workspace.Message) (string, error) {
	if m == nil || strings.TrimSpace(m.Text) == "" {
		return "", Content("", "the message has no text")
	}
	return m.Text, nil
}

// Now is req.Now, or the clock when the caller left it zero.
func Now(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// Route refuses a route the provider does not serve (404) or a method it does not use (405).
func Route(req channel.WebhookRequest, methods map[string][]string) error {
	allowed, ok := methods[req.Route]
	if !ok {
		return &channel.WebhookError{Status: http.StatusNotFound, Message: "unknown webhook route " + fmt.Sprintf("%q", Clip(req.Route, 64))}
	}
	for _, m := range allowed {
		if req.Method == m {
			return nil
		}
	}
	return &channel.WebhookError{Status: http.StatusMethodNotAllowed, Message: "method " + Clip(req.Method, 16) + " not allowed"}
}

// Setting is an identity's setting, "" when the identity or its settings are missing.
func Setting(id *workspace.Identity, key string) string {
	if id == nil || id.Settings == nil {
		return ""
	}
	return strings.TrimSpace(id.Settings[key])
}

// IdentityID is the identity's ID, "" when there is none.
func IdentityID(id *workspace.Identity) string {
	if id == nil {
		return ""
	}
	return id.ID
}

// Location is how a contact's shared location reads in the transcript: the coordinates, and
// the place's name and address on a second line when the provider gives them.
func Location(lat, long, name, address string) string {
	s := "[location received: " + lat + "," + long + "]"
	if n := strings.TrimSpace(name + " " + address); n != "" {
		s += "\n" + n
	}
	return s
}
