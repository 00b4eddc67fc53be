// Package twilio is the Twilio Programmable Messaging adapter (SMS), built from
// shared/reference/channels.md §2.5 and Twilio's Messages resource.
//
// Identity settings:
//
//	apiUrl            base URL of the API (default https://api.twilio.com)
//	accountSid        the account the messages are sent on
//	authToken         the account's auth token: basic auth and webhook signatures (secret)
//	statusCallbackUrl optional: where Twilio posts delivery statuses, normally
//	                  {public-url}/webhooks/twilio/{identityId}/status; a send appends ?m=<message ID>
//
// Webhooks: POST …/inbound and POST …/status, form-encoded, signed with X-Twilio-Signature.
package twilio

import (
	"net/http"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// Name is the provider's name as identities store it.
const Name = "twilio"

// DefaultAPIURL is the API's base URL when an identity sets none.
const DefaultAPIURL = "https://api.twilio.com"

// Provider is the Twilio adapter. The zero value is ready; it is safe for concurrent use.
type Provider struct {
	// Client, when set, carries every Send (a proxy, a test's transport).
	Client *http.Client
	// Timeout bounds one Send when Client is nil (default 10 s).
	Timeout time.Duration
}

var _ channel.Provider = (*Provider)(nil)

// New returns a Twilio provider with the default timeout.
func New() *Provider { return &Provider{} }

// Name implements channel.Provider.
func (*Provider) Name() string { return Name }

// Secret implements channel.Provider.
func (*Provider) Secret(key string) bool { return key == "authToken" }

// CheckSettings implements channel.Provider: it fills apiUrl and requires the account SID and
// the auth token; statusCallbackUrl, when set, must be an absolute http(s) URL.
func (p *Provider) CheckSettings(ch workspace.Channel, settings map[string]string) (map[string]string, error) {
	if ch != workspace.SMS {
		return nil, &channel.SettingsError{Key: "channel", Message: "twilio carries SMS, not " + string(ch)}
	}
	out, err := wire.Settings(settings, map[string]string{"apiUrl": DefaultAPIURL}, "accountSid", "authToken")
	if err != nil {
		return nil, err
	}
	if v := out["statusCallbackUrl"]; v != "" {
		if err := wire.CheckURL("statusCallbackUrl", v); err != nil {
			return nil, err
		}
	}
	return out, nil
}
