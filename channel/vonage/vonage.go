// Package vonage is the Vonage Messages API adapter (SMS, RCS and WhatsApp), built from
// shared/reference/channels.md §2.1–2.4.
//
// Identity settings:
//
//	apiUrl          base URL of the API (default https://api.nexmo.com)
//	applicationId   the Vonage application the private key belongs to
//	privateKey      the application's RSA private key, PEM (secret)
//	signatureSecret the account signature secret webhooks are signed with (secret)
//	rcsSenderId     optional: the RCS agent ID RCS messages are sent from (default: the
//	                identity's number); the SMS failover is always sent from the number
//
// Webhooks: POST …/inbound and POST …/status, JSON, each signed with an HS256 JWT in
// Authorization: Bearer. Send: POST {apiUrl}/v1/messages with an RS256 application JWT.
package vonage

import (
	"crypto/rsa"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// Name is the provider's name as identities store it.
const Name = "vonage"

// DefaultAPIURL is the API's base URL when an identity sets none.
const DefaultAPIURL = "https://api.nexmo.com"

// MaxSkew is how far a webhook's iat may lie from now, either way.
const MaxSkew = 5 * time.Minute

// Provider is the Vonage adapter. The zero value is ready; it is safe for concurrent use.
type Provider struct {
	// Client, when set, carries every Send (a proxy, a test's transport).
	Client *http.Client
	// Timeout bounds one Send when Client is nil (default 10 s).
	Timeout time.Duration
}

var _ channel.Provider = (*Provider)(nil)

// New returns a Vonage provider with the default timeout.
func New() *Provider { return &Provider{} }

// Name implements channel.Provider.
func (*Provider) Name() string { return Name }

// Secret implements channel.Provider.
func (*Provider) Secret(key string) bool { return key == "privateKey" || key == "signatureSecret" }

// CheckSettings implements channel.Provider: it fills apiUrl, requires the application ID,
// the private key (which must parse) and the signature secret.
func (p *Provider) CheckSettings(ch workspace.Channel, settings map[string]string) (map[string]string, error) {
	out, _, err := load(ch, settings)
	return out, err
}

// load checks settings and parses the private key.
func load(ch workspace.Channel, settings map[string]string) (map[string]string, *rsa.PrivateKey, error) {
	if !supported(ch) {
		return nil, nil, &channel.SettingsError{Key: "channel", Message: "vonage carries SMS, RCS and WHATSAPP, not " + string(ch)}
	}
	out, err := wire.Settings(settings, map[string]string{"apiUrl": DefaultAPIURL},
		"applicationId", "privateKey", "signatureSecret")
	if err != nil {
		return nil, nil, err
	}
	key, err := ParsePrivateKey(out["privateKey"])
	if err != nil {
		return nil, nil, &channel.SettingsError{Key: "privateKey", Message: "must be an RSA private key in PEM: " + err.Error()}
	}
	return out, key, nil
}

func supported(ch workspace.Channel) bool {
	return ch == workspace.SMS || ch == workspace.RCS || ch == workspace.WhatsApp
}

// ParsePrivateKey reads a PEM RSA private key (PKCS #1 or #8). A key pasted with its line
// breaks written as the two characters `\n` is accepted too.
func ParsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	if !strings.Contains(pemText, "\n") && strings.Contains(pemText, `\n`) {
		pemText = strings.ReplaceAll(pemText, `\n`, "\n")
	}
	return jwt.ParseRSAPrivateKeyFromPEM([]byte(pemText))
}
