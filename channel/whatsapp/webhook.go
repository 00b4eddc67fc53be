package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// SignatureHeader carries a POST's signature: "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Hub-Signature-256"

var routes = map[string][]string{"": {http.MethodGet, http.MethodPost}}

// Signature is the X-Hub-Signature-256 value of a body (§1.3).
func Signature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether header is the signature of the raw body, compared with
// hmac.Equal.
func ValidSignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" {
		return false
	}
	prefix, hexSig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || !strings.EqualFold(prefix, "sha256") {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Webhook implements channel.Provider: the GET handshake, or a signed POST of messages and
// statuses for the identity's phone number (entries for other numbers are ignored).
func (p *Provider) Webhook(req channel.WebhookRequest) (channel.WebhookResult, error) {
	if err := wire.Route(req, routes); err != nil {
		return channel.WebhookResult{}, err
	}
	if req.Method == http.MethodGet {
		return handshake(req)
	}
	sig := req.Header.Get(SignatureHeader)
	if sig == "" {
		return channel.WebhookResult{}, channel.Unauthorized("missing %s", SignatureHeader)
	}
	secret := wire.Setting(req.Identity, "appSecret")
	if secret == "" {
		return channel.WebhookResult{}, channel.Unauthorized("the identity has no app secret")
	}
	if !ValidSignature(secret, req.Body, sig) {
		return channel.WebhookResult{}, channel.Unauthorized("bad %s", SignatureHeader)
	}
	return p.parse(req.Body, req.Identity)
}

// handshake answers Meta's subscription check (§1.3): the challenge, when hub.mode is
// subscribe and hub.verify_token is the identity's verify token.
func handshake(req channel.WebhookRequest) (channel.WebhookResult, error) {
	q := req.Query
	want := wire.Setting(req.Identity, "verifyToken")
	if q == nil || q.Get("hub.mode") != "subscribe" || want == "" || !wire.Equal(q.Get("hub.verify_token"), want) {
		return channel.WebhookResult{}, &channel.WebhookError{Status: http.StatusForbidden, Message: "the verify token does not match"}
	}
	return channel.WebhookResult{Reply: []byte(q.Get("hub.challenge")), ContentType: "text/plain; charset=utf-8"}, nil
}

// notification is the envelope of §1.1.
type notification struct {
	Object wire.Flex `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field wire.Flex `json:"field"`
			Value value     `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type value struct {
	Metadata struct {
		PhoneNumberID wire.Flex `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		WaID    wire.Flex `json:"wa_id"`
		UserID  wire.Flex `json:"user_id"`
		Profile struct {
			Name wire.Flex `json:"name"`
		} `json:"profile"`
	} `json:"contacts"`
	Messages []message `json:"messages"`
	Statuses []status  `json:"statuses"`
}

type media struct {
	ID       wire.Flex `json:"id"`
	MimeType wire.Flex `json:"mime_type"`
	Caption  wire.Flex `json:"caption"`
	Filename wire.Flex `json:"filename"`
}

type message struct {
	From       wire.Flex `json:"from"`
	FromUserID wire.Flex `json:"from_user_id"`
	ID         wire.Flex `json:"id"`
	Timestamp  wire.Flex `json:"timestamp"`
	Type       wire.Flex `json:"type"`
	Text       *struct {
		Body wire.Flex `json:"body"`
	} `json:"text"`
	Image    *media `json:"image"`
	Document *media `json:"document"`
	Audio    *media `json:"audio"`
	Video    *media `json:"video"`
	Sticker  *media `json:"sticker"`
	Location *struct {
		Latitude  wire.Flex `json:"latitude"`
		Longitude wire.Flex `json:"longitude"`
		Name      wire.Flex `json:"name"`
		Address   wire.Flex `json:"address"`
	} `json:"location"`
	Button *struct {
		Text wire.Flex `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			Title wire.Flex `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			Title wire.Flex `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Reaction *struct {
		Emoji wire.Flex `json:"emoji"`
	} `json:"reaction"`
	System *struct {
		Body wire.Flex `json:"body"`
	} `json:"system"`
}

type status struct {
	ID                    wire.Flex `json:"id"`
	Status                wire.Flex `json:"status"`
	RecipientID           wire.Flex `json:"recipient_id"`
	BizOpaqueCallbackData wire.Flex `json:"biz_opaque_callback_data"`
	Errors                []apiErr  `json:"errors"`
}

// apiErr is Meta's error object, in statuses[].errors and in a refused send's "error".
type apiErr struct {
	Code      wire.Flex `json:"code"`
	Title     wire.Flex `json:"title"`
	Message   wire.Flex `json:"message"`
	ErrorData struct {
		Details wire.Flex `json:"details"`
	} `json:"error_data"`
}

// parse reads a verified POST body (§1.1, §1.2) for the identity (entries for other phone
// numbers are ignored). A message without an ID or a sender, and a status without an ID,
// cannot be processed and is skipped.
func (p *Provider) parse(body []byte, id *workspace.Identity) (channel.WebhookResult, error) {
	identityID, phoneNumberID := wire.IdentityID(id), wire.Setting(id, "phoneNumberId")
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return channel.WebhookResult{}, channel.Malformed("the body is not the JSON expected: %s", wire.Clip(err.Error(), 200))
	}
	var res channel.WebhookResult
	if n.Object != "whatsapp_business_account" {
		return res, nil
	}
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			v := &c.Value
			if phoneNumberID == "" || v.Metadata.PhoneNumberID.String() != phoneNumberID {
				continue
			}
			for i := range v.Messages {
				if m, ok := v.inbound(&v.Messages[i], identityID, p.mediaOpener(id)); ok {
					res.Messages = append(res.Messages, m)
				}
			}
			for i := range v.Statuses {
				if r, ok := v.Statuses[i].report(identityID); ok {
					res.Reports = append(res.Reports, r)
				}
			}
		}
	}
	return res, nil
}

func (v *value) inbound(m *message, identityID string, open func(mediaID string) func(context.Context) (io.ReadCloser, error)) (workspace.InboundMessage, bool) {
	id := strings.TrimSpace(m.ID.String())
	from := wire.E164(m.From.String())
	if from == "" { // a user with a username may come without a number: their BSUID then
		from = strings.TrimSpace(m.FromUserID.String())
	}
	if id == "" || from == "" {
		return workspace.InboundMessage{}, false
	}
	msg := workspace.InboundMessage{
		IdentityID:        identityID,
		From:              from,
		ProviderMessageID: id,
		At:                wire.UnixTime(m.Timestamp.String()),
	}
	if md, kind := m.media(); md != nil && strings.TrimSpace(md.ID.String()) != "" {
		name := md.Filename.String()
		if strings.TrimSpace(name) == "" {
			name = kind
		}
		msg.Media = []workspace.InboundMedia{wire.Medium(name, md.MimeType.String(), md.Caption.String(), "WhatsApp", open(strings.TrimSpace(md.ID.String())))}
	} else {
		msg.Text = m.text()
	}
	for _, c := range v.Contacts {
		if (c.WaID != "" && c.WaID == m.From) || (c.UserID != "" && c.UserID == m.FromUserID) {
			msg.Name = c.Profile.Name.String()
			break
		}
	}
	return msg, true
}

// media is the file a media message carries (image, document, audio, video, sticker) and
// its kind; nil for other messages.
func (m *message) media() (*media, string) {
	switch kind := m.Type.String(); kind {
	case "image":
		return m.Image, kind
	case "document":
		return m.Document, kind
	case "audio":
		return m.Audio, kind
	case "video":
		return m.Video, kind
	case "sticker":
		return m.Sticker, kind
	}
	return nil, ""
}

// text is what the contact sent, in words, when it is not a file the domain fetches.
func (m *message) text() string {
	typ := m.Type.String()
	mediaText := func(kind string, md *media) string {
		if md == nil {
			return wire.Media(kind, "", "")
		}
		caption := md.Caption.String()
		if caption == "" {
			caption = md.Filename.String()
		}
		return wire.Media(kind, "", caption)
	}
	switch typ {
	case "text":
		if m.Text != nil {
			return m.Text.Body.String()
		}
		return ""
	case "image":
		return mediaText("image", m.Image)
	case "document":
		return mediaText("document", m.Document)
	case "audio":
		return mediaText("audio", m.Audio)
	case "video":
		return mediaText("video", m.Video)
	case "sticker":
		return mediaText("sticker", m.Sticker)
	case "location":
		if l := m.Location; l != nil {
			return wire.Location(l.Latitude.String(), l.Longitude.String(), l.Name.String(), l.Address.String())
		}
	case "button":
		if m.Button != nil && m.Button.Text != "" {
			return m.Button.Text.String()
		}
	case "interactive":
		if i := m.Interactive; i != nil {
			if i.ButtonReply != nil && i.ButtonReply.Title != "" {
				return i.ButtonReply.Title.String()
			}
			if i.ListReply != nil && i.ListReply.Title != "" {
				return i.ListReply.Title.String()
			}
		}
	case "reaction":
		if m.Reaction != nil && m.Reaction.Emoji != "" {
			return "[reaction: " + m.Reaction.Emoji.String() + "]"
		}
		return "[reaction removed]"
	case "system":
		if m.System != nil && m.System.Body != "" {
			return "[" + m.System.Body.String() + "]"
		}
	}
	if typ == "" {
		typ = "unknown"
	}
	return "[" + wire.Clip(typ, 40) + " message received]"
}

// Error codes (§1.5 and Meta's error-code list): 131047 is the closed 24-hour window; the
// throttling and service errors may pass on a later attempt; every other error of a failed
// message is about the message or its recipient.
const windowClosed = "131047"

var temporaryCodes = map[string]bool{"130429": true, "131000": true, "131016": true}

// delivery classifies Meta's error: 131047 and recipient errors (131026, …) are CONTENT; the
// throttling and service errors are TEMPORARY.
func (e *apiErr) delivery() *workspace.DeliveryError {
	code := wire.Clip(strings.TrimSpace(e.Code.String()), 16)
	msg := e.Title.String()
	if msg == "" {
		msg = e.Message.String()
	}
	if d := e.ErrorData.Details.String(); d != "" && d != msg {
		msg = strings.TrimSpace(msg + ": " + d)
	}
	switch {
	case code == windowClosed:
		return wire.Content(code, "the 24-hour window is closed: the contact has not written for more than 24 hours, so only a template can be sent")
	case temporaryCodes[code]:
		return wire.Temporary(code, "WhatsApp could not send the message now: %s", msg)
	default:
		if msg == "" {
			msg = "WhatsApp could not deliver the message"
		}
		return wire.Content(code, "%s", msg)
	}
}

func (s *status) report(identityID string) (workspace.DeliveryReport, bool) {
	id := strings.TrimSpace(s.ID.String())
	if id == "" {
		return workspace.DeliveryReport{}, false
	}
	r := workspace.DeliveryReport{IdentityID: identityID, ProviderMessageID: id, MessageID: s.BizOpaqueCallbackData.String()}
	switch s.Status.String() {
	case "sent":
		r.Status = workspace.DeliverySent
	case "delivered":
		r.Status = workspace.DeliveryDelivered
	case "read":
		r.Status = workspace.DeliveryRead
	case "failed":
		r.Status = workspace.DeliveryFailed
		if len(s.Errors) > 0 {
			r.Error = s.Errors[0].delivery()
		} else {
			r.Error = wire.Temporary("", "WhatsApp reports the message failed")
		}
	default:
		return r, false
	}
	return r, true
}
