package vonage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

var routes = map[string][]string{"inbound": {http.MethodPost}, "status": {http.MethodPost}}

// Webhook implements channel.Provider: it verifies the signed JWT (§2.3) and parses an
// inbound message (§2.1) or a status (§2.2).
func (p *Provider) Webhook(req channel.WebhookRequest) (channel.WebhookResult, error) {
	if err := wire.Route(req, routes); err != nil {
		return channel.WebhookResult{}, err
	}
	if err := Verify(req.Header.Get("Authorization"), req.Body, wire.Setting(req.Identity, "signatureSecret"), wire.Now(req.Now)); err != nil {
		return channel.WebhookResult{}, err
	}
	var m payload
	if err := decode(req.Body, &m); err != nil {
		return channel.WebhookResult{}, err
	}
	if req.Route == "inbound" {
		msg, err := m.inbound(wire.IdentityID(req.Identity), p.mediaOpener(req.Identity))
		if err != nil {
			return channel.WebhookResult{}, err
		}
		return channel.WebhookResult{Messages: []workspace.InboundMessage{msg}}, nil
	}
	var ch workspace.Channel
	if req.Identity != nil {
		ch = req.Identity.Channel
	}
	r, ok, err := m.report(wire.IdentityID(req.Identity), ch)
	if err != nil || !ok {
		return channel.WebhookResult{}, err
	}
	return channel.WebhookResult{Reports: []workspace.DeliveryReport{r}}, nil
}

// Verify checks a webhook's Authorization header: a Bearer JWT signed HS256 with the
// signature secret (no other algorithm is accepted), an iat within MaxSkew of now, and, when
// the token carries payload_hash, the hex SHA-256 of the raw body.
func Verify(authorization string, body []byte, secret string, now time.Time) *channel.WebhookError {
	if secret == "" {
		return channel.Unauthorized("the identity has no signature secret")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return channel.Unauthorized("missing Authorization: Bearer token")
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(MaxSkew),
	)
	if _, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return []byte(secret), nil
	}); err != nil {
		return channel.Unauthorized("bad webhook token: %s", wire.Clip(err.Error(), 200))
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return channel.Unauthorized("the webhook token has no iat")
	}
	if age := now.Sub(iat.Time); age > MaxSkew || age < -MaxSkew {
		return channel.Unauthorized("the webhook token was issued %s from now", age.Round(time.Second))
	}
	if raw, present := claims["payload_hash"]; present {
		s, _ := raw.(string)
		want, err := hex.DecodeString(s)
		sum := sha256.Sum256(body)
		if err != nil || !hmac.Equal(want, sum[:]) {
			return channel.Unauthorized("payload_hash does not match the body")
		}
	}
	return nil
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return channel.Malformed("the body is not the JSON expected: %s", wire.Clip(err.Error(), 200))
	}
	return nil
}

// payload is the flat JSON of an inbound message or a status (§2.1, §2.2), every field read
// defensively.
type payload struct {
	MessageUUID wire.Flex `json:"message_uuid"`
	To          wire.Flex `json:"to"`
	From        wire.Flex `json:"from"`
	Timestamp   wire.Flex `json:"timestamp"`
	Channel     wire.Flex `json:"channel"`
	MessageType wire.Flex `json:"message_type"`
	Text        wire.Flex `json:"text"`
	ClientRef   wire.Flex `json:"client_ref"`
	Status      wire.Flex `json:"status"`

	Image   *media `json:"image"`
	Audio   *media `json:"audio"`
	Video   *media `json:"video"`
	File    *media `json:"file"`
	Vcard   *media `json:"vcard"`
	Sticker *media `json:"sticker"`

	Location *struct {
		Lat     wire.Flex `json:"lat"`
		Long    wire.Flex `json:"long"`
		Name    wire.Flex `json:"name"`
		Address wire.Flex `json:"address"`
	} `json:"location"`
	Reply *struct {
		ID    wire.Flex `json:"id"`
		Title wire.Flex `json:"title"`
	} `json:"reply"`
	Button *struct {
		Text    wire.Flex `json:"text"`
		Payload wire.Flex `json:"payload"`
	} `json:"button"`
	Profile *struct {
		Name wire.Flex `json:"name"`
	} `json:"profile"`
	Error *vError `json:"error"`
}

type media struct {
	URL     wire.Flex `json:"url"`
	Caption wire.Flex `json:"caption"`
	Name    wire.Flex `json:"name"`
}

// vError is the RFC 7807 error object of a rejected or undeliverable status.
type vError struct {
	Type   wire.Flex `json:"type"`
	Title  wire.Flex `json:"title"`
	Detail wire.Flex `json:"detail"`
}

func (m *payload) inbound(identityID string, open func(link string) func(context.Context) (io.ReadCloser, error)) (workspace.InboundMessage, error) {
	id := strings.TrimSpace(m.MessageUUID.String())
	from := wire.E164(m.From.String())
	if id == "" || from == "" {
		return workspace.InboundMessage{}, channel.Malformed("an inbound message needs message_uuid and from")
	}
	msg := workspace.InboundMessage{
		IdentityID:        identityID,
		From:              from,
		ProviderMessageID: id,
		At:                wire.ISOTime(m.Timestamp.String()),
	}
	if md, kind := m.media(); md != nil && strings.TrimSpace(md.URL.String()) != "" {
		name := md.Name.String()
		if strings.TrimSpace(name) == "" {
			name = kind
		}
		msg.Media = []workspace.InboundMedia{wire.Medium(name, "", md.Caption.String(), "Vonage", open(strings.TrimSpace(md.URL.String())))}
	} else {
		msg.Text = m.text()
	}
	if m.Profile != nil {
		msg.Name = m.Profile.Name.String()
	}
	return msg, nil
}

// media is the file a media message carries (image, audio, video, file, sticker) and its
// kind; nil for other messages (a vcard is mentioned in words: its type is not one agentdesk
// takes).
func (m *payload) media() (*media, string) {
	switch kind := m.MessageType.String(); kind {
	case "image":
		return m.Image, kind
	case "audio":
		return m.Audio, kind
	case "video":
		return m.Video, kind
	case "file":
		return m.File, kind
	case "sticker":
		return m.Sticker, kind
	}
	return nil, ""
}

// text is what the contact sent, in words: the text itself, or a mention of what is not text
// so that no message is dropped.
func (m *payload) text() string {
	typ := m.MessageType.String()
	mediaText := func(kind string, md *media) string {
		if md == nil {
			return wire.Media(kind, "", "")
		}
		caption := md.Caption.String()
		if caption == "" {
			caption = md.Name.String()
		}
		return wire.Media(kind, md.URL.String(), caption)
	}
	switch typ {
	case "text", "":
		if t := m.Text.String(); t != "" || typ == "text" {
			return t
		}
		return "[message received]"
	case "image":
		return mediaText("image", m.Image)
	case "audio":
		return mediaText("audio", m.Audio)
	case "video":
		return mediaText("video", m.Video)
	case "file":
		return mediaText("file", m.File)
	case "vcard":
		return mediaText("contact card", m.Vcard)
	case "sticker":
		return mediaText("sticker", m.Sticker)
	case "location":
		if l := m.Location; l != nil {
			return wire.Location(l.Lat.String(), l.Long.String(), l.Name.String(), l.Address.String())
		}
		return "[location received]"
	case "reply":
		if m.Reply != nil && m.Reply.Title != "" {
			return m.Reply.Title.String()
		}
	case "button":
		if m.Button != nil && m.Button.Text != "" {
			return m.Button.Text.String()
		}
	}
	if t := m.Text.String(); t != "" {
		return t
	}
	return "[" + wire.Clip(typ, 40) + " message received]"
}

// report maps a status (§2.2). ok is false for a status that changes nothing: an unknown one,
// or the rejection of an RCS identity's RCS attempt, which Vonage follows with the SMS
// failover the send carried.
func (m *payload) report(identityID string, identityChannel workspace.Channel) (workspace.DeliveryReport, bool, error) {
	id := strings.TrimSpace(m.MessageUUID.String())
	if id == "" {
		return workspace.DeliveryReport{}, false, channel.Malformed("a status needs message_uuid")
	}
	r := workspace.DeliveryReport{IdentityID: identityID, ProviderMessageID: id, MessageID: m.ClientRef.String()}
	switch status := m.Status.String(); status {
	case "submitted":
		r.Status = workspace.DeliverySent
	case "delivered":
		r.Status = workspace.DeliveryDelivered
	case "read":
		r.Status = workspace.DeliveryRead
	case "rejected", "undeliverable":
		if identityChannel == workspace.RCS && m.Channel == "rcs" {
			return r, false, nil
		}
		r.Status = workspace.DeliveryFailed
		r.Error = m.Error.delivery(status)
	default:
		return r, false, nil
	}
	return r, true, nil
}

// temporaryCodes are the Messages API error codes a later attempt may get past (throttled,
// internal error, account quota or provisioning, communication failure); every other code of
// a rejection is about the message or its recipient.
// https://developer.vonage.com/api-errors/messages
var temporaryCodes = map[string]bool{"1000": true, "1030": true, "1060": true, "1070": true, "1080": true, "1100": true}

func (e *vError) delivery(status string) *workspace.DeliveryError {
	if e == nil {
		if status == "undeliverable" {
			return wire.Temporary("", "Vonage could not reach the messaging provider")
		}
		return wire.Content("", "Vonage rejected the message")
	}
	code := e.code()
	msg := strings.TrimSpace(strings.Trim(e.Title.String()+": "+e.Detail.String(), ": "))
	if msg == "" {
		msg = "Vonage rejected the message"
		if status == "undeliverable" {
			msg = "Vonage could not reach the messaging provider"
		}
	}
	if status == "undeliverable" || temporaryCodes[code] {
		return wire.Temporary(code, "%s", msg)
	}
	return wire.Content(code, "%s", msg)
}

// code is the error's code: the fragment of its type URL (…/messages-olympus#1020), else its
// title when that is a numeric code (a status's title is documented as the code), else its type when that is not a
// URL; "" when it has none.
func (e *vError) code() string {
	t := strings.TrimSpace(e.Type.String())
	if i := strings.LastIndexByte(t, '#'); i >= 0 && i+1 < len(t) {
		return wire.Clip(t[i+1:], 64)
	}
	if title := strings.TrimSpace(e.Title.String()); numeric(title) {
		return wire.Clip(title, 64)
	}
	if t != "" && !strings.Contains(t, "/") && !strings.ContainsAny(t, " \t") {
		return wire.Clip(t, 64)
	}
	return ""
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
