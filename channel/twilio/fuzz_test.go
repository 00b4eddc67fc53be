package twilio_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/twilio"
	"github.com/agentdesk/agentdesk/workspace"
)

// FuzzTwilioWebhook feeds signed form bodies to the webhook parser: the fuzz input is the raw
// body, signed here over the URL and the parameters it parses to, so that parsing is reached.
// A body that is not a form must be refused with 400; any other must give messages and
// reports carrying the IDs the domain needs.
func FuzzTwilioWebhook(f *testing.F) {
	f.Add([]byte(providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "SM1", From: "+447700900123", To: number, Text: "Hello"}).Encode()), false)
	f.Add([]byte(providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "MM1", From: "+447700900123", To: number, MediaType: "image", MediaURL: "https://m/0"}).Encode()), false)
	for _, st := range []string{"queued", "sent", "delivered", "read", "undelivered", "failed"} {
		f.Add([]byte(providersim.TwilioStatusParams(sid, providersim.Status{ID: "SM1", Status: st, ErrorCode: "30003"}).Encode()), true)
	}
	f.Add([]byte("MessageSid=SM1&From=%2B1&NumMedia=99999999999&MediaUrl0=x"), false)
	f.Add([]byte("a=%zz;b"), true)

	f.Add([]byte(providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "MM2", From: "+447700900123", To: number, Text: "two", Files: []providersim.File{
		{ContentType: "image/png", URL: "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM2/Media/ME1"}, {ContentType: "application/pdf", URL: "https://m/1"}}}).Encode()), false)
	f.Add([]byte("MessageSid=SM1&From=%2B1&NumMedia=2&MediaUrl0=&MediaUrl1=https%3A%2F%2Fm%2F1&MediaContentType1="), false)
	p := twilio.New()
	id := identity(twilio.DefaultAPIURL)
	f.Fuzz(func(t *testing.T, body []byte, status bool) {
		route := "inbound"
		if status {
			route = "status"
		}
		rawURL := hookURL + route + "?m=msg-1"
		req := channel.WebhookRequest{Method: http.MethodPost, Route: route, URL: rawURL,
			Header: http.Header{}, Body: body, Identity: id, Now: time.Now()}
		// Sign what the body parses to, as Twilio signs the parameters it sends.
		if params, err := parseForm(body); err == nil {
			req.Header.Set(twilio.SignatureHeader, twilio.Signature(token, rawURL, params))
		} else {
			req.Header.Set(twilio.SignatureHeader, "unparseable")
		}
		res, err := p.Webhook(req)
		if err != nil {
			var we *channel.WebhookError
			if !errors.As(err, &we) || we.Status != http.StatusBadRequest {
				t.Fatalf("a signed body was refused with %v, want 400", err)
			}
			return
		}
		for _, m := range res.Messages {
			if m.ProviderMessageID == "" || m.From == "" || m.IdentityID != id.ID {
				t.Fatalf("message without its IDs: %+v", m)
			}
			for _, md := range m.Media {
				if md.Open == nil || strings.TrimSpace(md.FileName) == "" || len(md.FileName) > 300 || len(md.ContentType) > 200 {
					t.Fatalf("a medium the domain cannot use: %+v", md)
				}
			}
		}
		for _, r := range res.Reports {
			if r.ProviderMessageID == "" || r.MessageID != "msg-1" {
				t.Fatalf("report without its IDs: %+v", r)
			}
			if (r.Status == workspace.DeliveryFailed) != (r.Error != nil) {
				t.Fatalf("report %+v: an error goes with FAILED and only with it", r)
			}
		}
	})
}

func parseForm(body []byte) (map[string][]string, error) { return url.ParseQuery(string(body)) }
