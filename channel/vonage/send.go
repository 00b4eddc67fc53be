package vonage

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// message is the body of POST /v1/messages (§2.4): a text, or a WhatsApp template; an RCS
// message carries its SMS failover.
type message struct {
	To          string     `json:"to"`
	From        string     `json:"from"`
	Channel     string     `json:"channel"`
	MessageType string     `json:"message_type"`
	Text        string     `json:"text,omitempty"`
	Image       *outMedia  `json:"image,omitempty"`
	Video       *outMedia  `json:"video,omitempty"`
	Audio       *outMedia  `json:"audio,omitempty"`
	File        *outMedia  `json:"file,omitempty"`
	Template    *template  `json:"template,omitempty"`
	WhatsApp    *whatsApp  `json:"whatsapp,omitempty"`
	ClientRef   string     `json:"client_ref,omitempty"`
	Failover    []*message `json:"failover,omitempty"`
}

// outMedia is the object of an outbound image, video, audio or file message: Vonage
// fetches url.
type outMedia struct {
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
	Name    string `json:"name,omitempty"`
}

// template is a WhatsApp template with its parameters.
type template struct {
	Name       string   `json:"name"`
	Parameters []string `json:"parameters,omitempty"`
}

// whatsApp holds a template's policy and locale.
type whatsApp struct {
	Policy string `json:"policy"`
	Locale string `json:"locale"`
}

// apiError is the RFC 7807 body of a refused send.
type apiError struct {
	Type   wire.Flex `json:"type"`
	Title  wire.Flex `json:"title"`
	Detail wire.Flex `json:"detail"`
}

// appClaims are the claims of the application JWT a send is authorised with.
type appClaims struct {
	ApplicationID string `json:"application_id"`
	jwt.RegisteredClaims
}

// appToken signs an application JWT (RS256): application_id, iat, jti, and exp 15 minutes on.
func appToken(key *rsa.PrivateKey, applicationID string, now time.Time) (string, error) {
	claims := appClaims{
		ApplicationID: applicationID,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			ID:        uuid.NewString(),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
}

// build is the request Send makes for out: to and from without '+', the channel by the
// identity's channel, our message ID as client_ref.
func build(out workspace.Outgoing) (*message, error) {
	id := out.Identity
	m := &message{To: wire.Digits(out.To), From: wire.Digits(id.Address), MessageType: "text"}
	if out.Message != nil {
		m.ClientRef = out.Message.ID
	}
	switch id.Channel {
	case workspace.WhatsApp:
		m.Channel = "whatsapp"
		if out.Message != nil && out.Message.Template != nil {
			t := out.Message.Template
			m.MessageType = "template"
			m.Template = &template{Name: t.Name, Parameters: t.Parameters}
			m.WhatsApp = &whatsApp{Policy: "deterministic", Locale: t.Language}
			return m, nil
		}
	case workspace.RCS:
		m.Channel = "rcs"
	case workspace.SMS:
		m.Channel = "sms"
	default:
		return nil, wire.Temporary("", "vonage does not carry %s", id.Channel)
	}
	text, err := wire.Text(out.Message)
	if err != nil {
		return nil, err
	}
	m.Text = text
	if m.Channel == "rcs" {
		if sender := wire.Setting(id, "rcsSenderId"); sender != "" {
			m.From = sender
		}
		m.Failover = []*message{{To: m.To, From: wire.Digits(id.Address), Channel: "sms",
			MessageType: "text", Text: text, ClientRef: m.ClientRef}}
	}
	return m, nil
}

// maxCaption is the longest caption Vonage passes on (WhatsApp's limit, §1.4).
const maxCaption = 1024

// buildFiles is the requests Send makes for a message with files: one per file, fetched by
// Vonage from its link (an SMS identity sends them as MMS), the text as the first file's
// caption or, when that file takes none, as a text message before it.
func buildFiles(out workspace.Outgoing) ([]*message, error) {
	text, err := wire.Body(out)
	if err != nil {
		return nil, err
	}
	if _, err := wire.Links("Vonage", out.Files); err != nil {
		return nil, err
	}
	id := out.Identity
	ch := map[workspace.Channel]string{workspace.SMS: "mms", workspace.RCS: "rcs", workspace.WhatsApp: "whatsapp"}[id.Channel]
	if ch == "" {
		return nil, wire.Temporary("", "vonage does not carry %s", id.Channel)
	}
	from := wire.Digits(id.Address)
	if ch == "rcs" {
		if sender := wire.Setting(id, "rcsSenderId"); sender != "" {
			from = sender
		}
	}
	var msgs []*message
	for _, part := range wire.Parts(text, out.Files, maxCaption, func(ct string) bool { return !strings.HasPrefix(ct, "audio/") }) {
		m := &message{To: wire.Digits(out.To), From: from, Channel: ch, ClientRef: out.Message.ID}
		if part.File == nil {
			if ch == "mms" {
				m.Channel = "sms" // an MMS text alone is an SMS
			}
			m.MessageType, m.Text = "text", part.Caption
			msgs = append(msgs, m)
			continue
		}
		obj := &outMedia{URL: part.File.Link, Caption: part.Caption}
		switch kind, _, _ := strings.Cut(part.File.ContentType, "/"); kind {
		case "image":
			m.MessageType, m.Image = "image", obj
		case "video":
			m.MessageType, m.Video = "video", obj
		case "audio":
			m.MessageType, m.Audio = "audio", obj
		default:
			obj.Name = part.File.FileName
			m.MessageType, m.File = "file", obj
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// Send implements workspace.Sender: one POST {apiUrl}/v1/messages per part, never retried
// here. A message with files is one request per file; the first request's message_uuid
// names the message. A part refused after an earlier one was accepted fails the send, and a
// retry sends the earlier ones again: a contact may see a file twice, never miss one.
func (p *Provider) Send(ctx context.Context, out workspace.Outgoing) (string, error) {
	if out.Identity == nil || out.Message == nil {
		return "", wire.Temporary("", "nothing to send")
	}
	settings, key, err := load(out.Identity.Channel, out.Identity.Settings)
	if err != nil {
		return "", wire.Temporary("", "the identity's settings are invalid: %v", err)
	}
	var msgs []*message
	if len(out.Files) > 0 {
		msgs, err = buildFiles(out)
	} else {
		var m *message
		m, err = build(out)
		msgs = []*message{m}
	}
	if err != nil {
		return "", err
	}
	first := ""
	for _, m := range msgs {
		id, err := p.post(ctx, settings, key, m)
		if err != nil {
			return "", err
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

// post sends one message and returns its message_uuid.
func (p *Provider) post(ctx context.Context, settings map[string]string, key *rsa.PrivateKey, body *message) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", wire.Temporary("", "encoding the message: %v", err)
	}
	token, err := appToken(key, settings["applicationId"], time.Now())
	if err != nil {
		return "", wire.Temporary("", "signing the application token: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, settings["apiUrl"]+"/v1/messages", bytes.NewReader(raw))
	if err != nil {
		return "", wire.Temporary("", "building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	status, resp, err := wire.Do(wire.Client(p.Client, p.Timeout), req)
	if err != nil {
		return "", err
	}
	if status >= 200 && status < 300 {
		var ok struct {
			MessageUUID wire.Flex `json:"message_uuid"`
		}
		if json.Unmarshal(resp, &ok) != nil || strings.TrimSpace(ok.MessageUUID.String()) == "" {
			return "", wire.Temporary("", "Vonage answered %d without a message_uuid", status)
		}
		return strings.TrimSpace(ok.MessageUUID.String()), nil
	}
	return "", sendError(status, resp)
}

// sendError classifies a refused send: 401/403 are the credentials, 429 and 5xx the
// provider's trouble (TEMPORARY), any other 4xx the message or its recipient (CONTENT).
func sendError(status int, body []byte) error {
	var e apiError
	_ = json.Unmarshal(body, &e)
	ve := vError(e)
	code := ve.code()
	msg := strings.Trim(strings.TrimSpace(e.Title.String()+": "+e.Detail.String()), ": ")
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return wire.Credentials(code, status)
	case status == http.StatusTooManyRequests || status >= 500:
		return wire.Temporary(code, "Vonage answered %d: %s", status, msg)
	case status >= 400:
		return wire.Content(code, "Vonage refused the message: %s", msg)
	default:
		return wire.Temporary(code, "Vonage answered %d", status)
	}
}

// mediaOpener fetches an inbound message's media (§2.1: {url, caption?}). Vonage keeps them
// on its media servers (https://api-{region}.nexmo.com/v3/media/…): with its standard
// security a URL alone fetches the file; with "Secure Inbound Media" on, the request needs
// an application JWT, the one sends use. The JWT is sent to the identity's API host and to
// Vonage's own domains only; any other host gets a plain request, so that a signed webhook
// never makes the application's credentials travel elsewhere.
func (p *Provider) mediaOpener(id *workspace.Identity) func(link string) func(context.Context) (io.ReadCloser, error) {
	return func(link string) func(context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			if id == nil {
				return nil, errors.New("the identity is missing")
			}
			settings, key, err := load(id.Channel, id.Settings)
			if err != nil {
				return nil, fmt.Errorf("the identity's settings are invalid: %v", err)
			}
			u, err := wire.MediaURL(link, settings["apiUrl"])
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return nil, err
			}
			if vonageHost(u.Hostname(), settings["apiUrl"]) {
				token, err := appToken(key, settings["applicationId"], time.Now())
				if err != nil {
					return nil, fmt.Errorf("signing the application token: %v", err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return wire.FetchMedia(wire.MediaClient(p.Client, settings["apiUrl"]), req, "Vonage")
		}
	}
}

// vonageHost reports whether host is the identity's API host or one of Vonage's domains.
func vonageHost(host, apiURL string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if api, err := url.Parse(apiURL); err == nil && strings.EqualFold(api.Hostname(), host) {
		return true
	}
	for _, d := range []string{"nexmo.com", "vonage.com"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
