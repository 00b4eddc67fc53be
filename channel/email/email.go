// Package email is the email channel's adapter (issue 15): an SMTP listener (go-smtp) that
// receives mail for configured EMAIL identities, a parser (enmime) that turns a message into
// the domain's InboundMessage, and the sender (go-smtp's client, enmime's builder) that
// delivers the outbox's email messages by SMTP submission. Every rule (threading, replies,
// sanitising, limits, retries) is decided in workspace; this package only speaks SMTP and MIME.
package email

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
)

// ProviderName is the provider of EMAIL identities.
const ProviderName = "smtp"

// Provider sends email by SMTP submission; its identities' settings say where.
type Provider struct {
	// MaxMessageBytes bounds a rendered outbound message (default 35 MB: 25 MB of files and
	// their base64 encoding); a larger one fails as CONTENT.
	MaxMessageBytes int64
}

// New returns the SMTP provider.
func New() *Provider { return &Provider{} }

// Name is "smtp".
func (p *Provider) Name() string { return ProviderName }

// TLS modes of a connection.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Settings are an email identity's, parsed.
type Settings struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
	// InsecureSkipVerify accepts any certificate (tests and self-signed relays only).
	InsecureSkipVerify bool
	// IMAP is the mailbox to poll, nil when none.
	IMAP *IMAPSettings
}

// IMAPSettings are the optional imap object of an email identity's settings.
type IMAPSettings struct {
	Host               string `json:"host"`
	Port               int    `json:"port"`
	Username           string `json:"username"`
	Password           string `json:"password"`
	TLS                string `json:"tls"`
	Mailbox            string `json:"mailbox"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitzero"`
}

// CheckSettings fills in defaults (tls starttls; port 25, 587 or 465 by tls; imap's tls tls,
// port 993 or 143, mailbox INBOX) and refuses what is missing or invalid.
func (p *Provider) CheckSettings(ch workspace.Channel, in map[string]string) (map[string]string, error) {
	if ch != workspace.Email {
		return nil, &channel.SettingsError{Key: "channel", Message: "the smtp provider carries EMAIL only"}
	}
	out := maps.Clone(in)
	s, err := ParseSettings(out)
	if err != nil {
		return nil, err
	}
	out["tls"], out["port"] = s.TLS, strconv.Itoa(s.Port)
	if s.IMAP != nil {
		b, _ := json.Marshal(s.IMAP)
		out["imap"] = string(b)
	}
	return out, nil
}

// ParseSettings reads an identity's settings, with defaults.
func ParseSettings(in map[string]string) (*Settings, error) {
	for k := range in {
		switch k {
		case "host", "port", "username", "password", "tls", "imap", "insecureSkipVerify":
		default:
			return nil, &channel.SettingsError{Key: k, Message: "not a setting of the smtp provider (host, port, username, password, tls, imap)"}
		}
	}
	s := &Settings{Host: strings.TrimSpace(in["host"]), Username: in["username"], Password: in["password"],
		TLS: strings.ToLower(strings.TrimSpace(in["tls"])), InsecureSkipVerify: in["insecureSkipVerify"] == "true"}
	if s.Host == "" || strings.ContainsAny(s.Host, " /:@") && !strings.HasPrefix(s.Host, "[") {
		return nil, &channel.SettingsError{Key: "host", Message: "the SMTP server's host name is required, e.g. smtp.example.com"}
	}
	var err error
	if s.TLS, s.Port, err = tlsAndPort(s.TLS, in["port"], 25, 587, 465, "tls", "port"); err != nil {
		return nil, err
	}
	if (s.Username == "") != (s.Password == "") {
		return nil, &channel.SettingsError{Key: "password", Message: "give both username and password, or neither"}
	}
	if raw := strings.TrimSpace(in["imap"]); raw != "" {
		var im IMAPSettings
		if err := json.Unmarshal([]byte(portsAsNumbers(raw)), &im); err != nil {
			return nil, &channel.SettingsError{Key: "imap", Message: "an object with host, port, username, password, tls and mailbox"}
		}
		im.Host = strings.TrimSpace(im.Host)
		if im.Host == "" || im.Username == "" || im.Password == "" {
			return nil, &channel.SettingsError{Key: "imap", Message: "imap needs host, username and password"}
		}
		port := ""
		if im.Port != 0 {
			port = strconv.Itoa(im.Port)
		}
		if im.TLS == "" {
			im.TLS = TLSImplicit
		}
		if im.TLS, im.Port, err = tlsAndPort(strings.ToLower(im.TLS), port, 143, 143, 993, "imap.tls", "imap.port"); err != nil {
			return nil, err
		}
		if strings.TrimSpace(im.Mailbox) == "" {
			im.Mailbox = "INBOX"
		}
		s.IMAP = &im
	}
	return s, nil
}

// tlsAndPort checks a tls mode (default starttls) and a port (default by mode).
func tlsAndPort(mode, port string, none, starttls, implicit int, tlsKey, portKey string) (string, int, error) {
	def := 0
	switch mode {
	case "":
		mode, def = TLSStartTLS, starttls
	case TLSNone:
		def = none
	case TLSStartTLS:
		def = starttls
	case TLSImplicit:
		def = implicit
	default:
		return "", 0, &channel.SettingsError{Key: tlsKey, Message: "none, starttls or tls"}
	}
	if strings.TrimSpace(port) == "" {
		return mode, def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(port))
	if err != nil || n < 1 || n > 65535 {
		return "", 0, &channel.SettingsError{Key: portKey, Message: "a TCP port, 1 to 65535"}
	}
	return mode, n, nil
}

// Secret reports the settings never shown: the password, and the imap object (it holds one).
func (p *Provider) Secret(key string) bool { return key == "password" || key == "imap" }

// Webhook: email arrives by SMTP (the listener) or IMAP, never by webhook.
func (p *Provider) Webhook(channel.WebhookRequest) (channel.WebhookResult, error) {
	return channel.WebhookResult{}, &channel.WebhookError{Status: 404, Message: "email arrives by SMTP or IMAP, not by webhook"}
}

func (s *Settings) addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

// portsAsNumbers lets the imap object give its port as a string too ("993").
func portsAsNumbers(raw string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return raw
	}
	if p, ok := m["port"].(string); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			m["port"] = n
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
