// Package whatsapp is the WhatsApp Business Cloud API adapter, built from
// shared/reference/channels.md §1.
//
// Identity settings:
//
//	apiUrl        base URL of the Graph API (default https://graph.facebook.com)
//	apiVersion    Graph API version (default v23.0)
//	phoneNumberId the business phone number's ID: sends go from it, webhooks are routed on it
//	accessToken   the bearer token sends use (secret)
//	appSecret     the app secret webhooks are signed with (secret)
//	verifyToken   the token Meta's GET handshake must present (secret)
//
// Webhooks: GET (the hub.challenge handshake) and POST (signed with X-Hub-Signature-256) on
// the identity's route "".
package whatsapp

import (
	"net/http"
	"regexp"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// Name is the provider's name as identities store it.
const Name = "whatsapp-cloud"

// Defaults for an identity's settings.
const (
	DefaultAPIURL     = "https://graph.facebook.com"
	DefaultAPIVersion = "v23.0"
)

// Provider is the WhatsApp Cloud API adapter. The zero value is ready; it is safe for
// concurrent use.
type Provider struct {
	// Client, when set, carries every Send (a proxy, a test's transport).
	Client *http.Client
	// Timeout bounds one Send when Client is nil (default 10 s).
	Timeout time.Duration
}

var _ channel.Provider = (*Provider)(nil)

// New returns a WhatsApp Cloud API provider with the default timeout.
func New() *Provider { return &Provider{} }

// Name implements channel.Provider.
func (*Provider) Name() string { return Name }

// Secret implements channel.Provider.
func (*Provider) Secret(key string) bool {
	return key == "accessToken" || key == "appSecret" || key == "verifyToken"
}

var (
	versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	numericRE = regexp.MustCompile(`^[0-9]+$`)
)

// CheckSettings implements channel.Provider: it fills apiUrl and apiVersion and requires the
// phone number ID, the access token, the app secret and the verify token.
func (p *Provider) CheckSettings(ch workspace.Channel, settings map[string]string) (map[string]string, error) {
	if ch != workspace.WhatsApp {
		return nil, &channel.SettingsError{Key: "channel", Message: "whatsapp-cloud carries WHATSAPP, not " + string(ch)}
	}
	out, err := wire.Settings(settings,
		map[string]string{"apiUrl": DefaultAPIURL, "apiVersion": DefaultAPIVersion},
		"phoneNumberId", "accessToken", "appSecret", "verifyToken")
	if err != nil {
		return nil, err
	}
	if !versionRE.MatchString(out["apiVersion"]) {
		return nil, &channel.SettingsError{Key: "apiVersion", Message: `must look like "v23.0"`}
	}
	if !numericRE.MatchString(out["phoneNumberId"]) {
		return nil, &channel.SettingsError{Key: "phoneNumberId", Message: "must be the numeric ID Meta shows for the number"}
	}
	return out, nil
}
