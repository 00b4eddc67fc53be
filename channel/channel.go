// Package channel holds what the provider adapters (one package each below it) share: the
// Provider interface the server mounts webhooks and outbox senders through, and the errors a
// webhook answers with. Adapters verify, parse and send; every rule is decided in workspace.
package channel

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// Provider is one messaging provider (Vonage, Twilio, WhatsApp Cloud, …).
type Provider interface {
	// Name is the provider's name as identities store it: "vonage", "twilio", "whatsapp-cloud".
	Name() string
	// CheckSettings returns an identity's settings with defaults filled in, or a
	// *SettingsError naming the first missing or invalid one, or the channel when the
	// provider does not carry it.
	CheckSettings(ch workspace.Channel, settings map[string]string) (map[string]string, error)
	// Secret reports whether a setting is a secret (never shown by the API).
	Secret(key string) bool
	// Webhook verifies one webhook call and parses it. It returns a *WebhookError for a call
	// that must be refused (unsigned, badly signed, malformed, unknown route).
	Webhook(req WebhookRequest) (WebhookResult, error)
	// Send delivers one outbound message (see workspace.Sender).
	workspace.Sender
}

// WebhookRequest is one webhook call, its body already read (and size-limited) by the server.
type WebhookRequest struct {
	Method string
	// Route is the path after /webhooks/{provider}/{identityId}: "inbound", "status" or "".
	Route string
	// URL is the full URL the provider called: the configured public base URL (or the
	// request's own scheme and host) plus the path and query. Twilio signs it.
	URL    string
	Header http.Header
	Query  url.Values
	Body   []byte
	// Identity is the identity named in the path; its settings hold the secrets to verify with.
	Identity *workspace.Identity
	Now      time.Time
}

// WebhookResult is what a verified webhook call carried.
type WebhookResult struct {
	Messages []workspace.InboundMessage
	Reports  []workspace.DeliveryReport
	// Reply is the body to answer with, when the provider expects one (WhatsApp's challenge,
	// Twilio's empty TwiML); ContentType is its type.
	Reply       []byte
	ContentType string
}

// WebhookError refuses a webhook call with an HTTP status: 401 for a missing or bad
// signature, 403 for a wrong verify token, 400 for a malformed body, 404 for an unknown route.
type WebhookError struct {
	Status  int
	Message string
}

func (e *WebhookError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// Unauthorized refuses an unsigned or badly signed call.
func Unauthorized(format string, args ...any) *WebhookError {
	return &WebhookError{Status: http.StatusUnauthorized, Message: fmt.Sprintf(format, args...)}
}

// Malformed refuses a body that does not parse.
func Malformed(format string, args ...any) *WebhookError {
	return &WebhookError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// SettingsError names an identity setting that is missing or invalid.
type SettingsError struct {
	Key     string
	Message string
}

func (e *SettingsError) Error() string { return e.Key + ": " + e.Message }
