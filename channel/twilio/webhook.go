package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// SignatureHeader carries a webhook's signature.
const SignatureHeader = "X-Twilio-Signature"

// EmptyTwiML is the answer to an inbound message: no reply.
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

var routes = map[string][]string{"inbound": {http.MethodPost}, "status": {http.MethodPost}}

// Signature is X-Twilio-Signature for a POST (§2.5): base64 of the HMAC-SHA1, keyed with the
// auth token, of the full URL followed by every parameter's name and value, sorted by name
// (a repeated name's values sorted too, as Twilio's libraries do).
func Signature(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values := append([]string(nil), params[name]...)
		sort.Strings(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether sig signs the URL and parameters. Like twilio-go's
// RequestValidator, the URL is tried as given, with its scheme's default port added when it
// has none, and with its port removed when it has one: proxies and load balancers do not
// agree on whether the port is part of the URL Twilio signed.
func ValidSignature(authToken, fullURL string, params url.Values, sig string) bool {
	if authToken == "" || sig == "" {
		return false
	}
	got := []byte(sig)
	valid := false
	for _, u := range urlVariants(fullURL) {
		// Every variant is computed and compared, so the time taken says nothing of which.
		if hmac.Equal([]byte(Signature(authToken, u, params)), got) {
			valid = true
		}
	}
	return valid
}

func urlVariants(fullURL string) []string {
	out := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return out
	}
	v := *u
	if u.Port() == "" {
		def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
		if def == "" {
			return out
		}
		v.Host = net.JoinHostPort(u.Hostname(), def)
	} else {
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") { // an IPv6 literal
			v.Host = "[" + v.Host + "]"
		}
	}
	return append(out, v.String())
}

// Webhook implements channel.Provider: it verifies X-Twilio-Signature over req.URL and the
// form parameters, then parses an inbound message or a status callback.
func (p *Provider) Webhook(req channel.WebhookRequest) (channel.WebhookResult, error) {
	if err := wire.Route(req, routes); err != nil {
		return channel.WebhookResult{}, err
	}
	sig := req.Header.Get(SignatureHeader)
	if sig == "" {
		return channel.WebhookResult{}, channel.Unauthorized("missing %s", SignatureHeader)
	}
	params, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return channel.WebhookResult{}, channel.Malformed("the body is not form-encoded: %s", wire.Clip(err.Error(), 200))
	}
	token := wire.Setting(req.Identity, "authToken")
	if token == "" {
		return channel.WebhookResult{}, channel.Unauthorized("the identity has no auth token")
	}
	if !ValidSignature(token, req.URL, params, sig) {
		return channel.WebhookResult{}, channel.Unauthorized("bad %s", SignatureHeader)
	}
	identityID := wire.IdentityID(req.Identity)
	if req.Route == "inbound" {
		msg, err := inbound(identityID, params, p.mediaOpener(req.Identity))
		if err != nil {
			return channel.WebhookResult{}, err
		}
		return channel.WebhookResult{
			Messages:    []workspace.InboundMessage{msg},
			Reply:       []byte(EmptyTwiML),
			ContentType: "text/xml",
		}, nil
	}
	query := req.Query
	if query == nil {
		if u, err := url.Parse(req.URL); err == nil {
			query = u.Query()
		}
	}
	r, ok, err := status(identityID, params, query.Get("m"))
	if err != nil || !ok {
		return channel.WebhookResult{}, err
	}
	return channel.WebhookResult{Reports: []workspace.DeliveryReport{r}}, nil
}

func first(params url.Values, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(params.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// maxMedia bounds how many MediaUrl{N} an inbound message is read for.
const maxMedia = 10

// inbound parses an inbound message. Its media (MMS) are fetched later, by the domain,
// through open.
func inbound(identityID string, params url.Values, open func(link string) func(context.Context) (io.ReadCloser, error)) (workspace.InboundMessage, error) {
	id := first(params, "MessageSid", "SmsMessageSid", "SmsSid")
	from := wire.E164(params.Get("From"))
	if id == "" || from == "" {
		return workspace.InboundMessage{}, channel.Malformed("an inbound message needs MessageSid and From")
	}
	msg := workspace.InboundMessage{IdentityID: identityID, From: from, ProviderMessageID: id, Text: params.Get("Body")}
	n, _ := strconv.Atoi(params.Get("NumMedia"))
	for i := 0; i < n && i < maxMedia; i++ {
		link := strings.TrimSpace(params.Get("MediaUrl" + strconv.Itoa(i)))
		if link == "" {
			continue
		}
		ct := params.Get("MediaContentType" + strconv.Itoa(i))
		msg.Media = append(msg.Media, wire.Medium(wire.MediaKind(ct), ct, "", "Twilio", open(link)))
	}
	return msg, nil
}

// contentCodes are the Twilio error codes of a wrong, unreachable or opted-out recipient:
// editing the message or the number is the way on, not a retry.
var contentCodes = map[string]bool{"21211": true, "21614": true, "30003": true, "30005": true, "30006": true, "21610": true}

func status(identityID string, params url.Values, messageID string) (workspace.DeliveryReport, bool, error) {
	id := first(params, "MessageSid", "SmsSid")
	st := first(params, "MessageStatus", "SmsStatus")
	if id == "" || st == "" {
		return workspace.DeliveryReport{}, false, channel.Malformed("a status callback needs MessageSid and MessageStatus")
	}
	r := workspace.DeliveryReport{IdentityID: identityID, ProviderMessageID: id, MessageID: messageID}
	switch st {
	case "sent":
		r.Status = workspace.DeliverySent
	case "delivered":
		r.Status = workspace.DeliveryDelivered
	case "read":
		r.Status = workspace.DeliveryRead
	case "undelivered", "failed":
		r.Status = workspace.DeliveryFailed
		code := params.Get("ErrorCode")
		msg := "Twilio reports the message " + st
		if em := params.Get("ErrorMessage"); em != "" {
			msg += ": " + em
		} else if code != "" {
			msg += " (error " + code + ")"
		}
		if contentCodes[code] {
			r.Error = wire.Content(wire.Clip(code, 16), "%s", msg)
		} else {
			r.Error = wire.Temporary(wire.Clip(code, 16), "%s", msg)
		}
	default:
		// queued, accepted, scheduled, sending: before the send's own SENT, nothing to say;
		// receiving/received belong to inbound messages; anything new is ignored.
		return r, false, nil
	}
	return r, true, nil
}
