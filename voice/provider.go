package voice

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
)

// ProviderName is the provider of voice identities: a SIP trunk.
const ProviderName = "sip"

// Provider checks the settings of voice identities (provider "sip"). Calls do not use
// webhooks or the outbox: the Bridge carries them.
//
// Settings:
//   - trunkAddress (required): host:port of the SIP trunk. Outbound calls go there, and only
//     INVITEs from its host are taken.
//   - username, password: the digest credentials the trunk uses towards agentdesk (and
//     agentdesk towards the trunk, when it challenges an outbound INVITE). With a password
//     set, an inbound INVITE without them is challenged (401) and one with wrong ones refused (403).
//   - callerId: the number outbound calls show; the identity's address when empty.
type Provider struct{}

// Name implements channel.Provider.
func (Provider) Name() string { return ProviderName }

// Secret implements channel.Provider.
func (Provider) Secret(key string) bool { return key == "password" }

// CheckSettings implements channel.Provider.
func (Provider) CheckSettings(ch workspace.Channel, settings map[string]string) (map[string]string, error) {
	if ch != workspace.Voice {
		return nil, &channel.SettingsError{Key: "channel", Message: "sip carries VOICE, not " + string(ch)}
	}
	out := map[string]string{}
	for k, v := range settings {
		switch k {
		case "trunkAddress", "username", "password", "callerId":
			out[k] = strings.TrimSpace(v)
		default:
			return nil, &channel.SettingsError{Key: k, Message: "not a setting of sip: use trunkAddress, username, password, callerId"}
		}
		if len(v) > 256 {
			return nil, &channel.SettingsError{Key: k, Message: "at most 256 characters"}
		}
	}
	host, port, err := net.SplitHostPort(out["trunkAddress"])
	if err != nil || host == "" {
		return nil, &channel.SettingsError{Key: "trunkAddress", Message: "the trunk's host:port, e.g. 203.0.113.5:5060"}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, &channel.SettingsError{Key: "trunkAddress", Message: "the port must be 1-65535"}
	}
	if (out["username"] == "") != (out["password"] == "") {
		return nil, &channel.SettingsError{Key: "password", Message: "username and password go together"}
	}
	if id := out["callerId"]; id != "" {
		n, err := workspace.NormalisePhone(id, "callerId")
		if err != nil {
			return nil, &channel.SettingsError{Key: "callerId", Message: "an E.164 number, e.g. +442071234567"}
		}
		out["callerId"] = n
	}
	return out, nil
}

// Webhook implements channel.Provider: a SIP trunk calls no webhooks.
func (Provider) Webhook(channel.WebhookRequest) (channel.WebhookResult, error) {
	return channel.WebhookResult{}, &channel.WebhookError{Status: 404, Message: "sip identities take calls over SIP, not webhooks"}
}

// Send implements channel.Provider: a call carries no messages.
func (Provider) Send(context.Context, workspace.Outgoing) (string, error) {
	return "", &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: "a call carries no text messages"}
}
