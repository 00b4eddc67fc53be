package vonage_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/vonage"
	"github.com/agentdesk/agentdesk/workspace"
)

// FuzzVonageWebhook feeds signed bodies to the webhook parser: the fuzz input is the body,
// signed here with the test secret so that parsing is reached. Whatever the body, the parser
// must not panic, and must either refuse it with a 400 or return messages and reports that
// carry the IDs the domain needs.
func FuzzVonageWebhook(f *testing.F) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []providersim.Inbound{
		{ID: "u-1", From: "+447700900123", To: number, Text: "Hello", At: at},
		{ID: "u-2", Channel: "whatsapp", From: "+447700900123", To: number, Name: "Ana", Text: "Olá", At: at},
		{ID: "u-3", Channel: "rcs", From: "+447700900123", To: number, Text: "hi", At: at},
		{ID: "u-4", Channel: "whatsapp", From: "+447700900123", To: number, MediaType: "image", MediaURL: "https://x/i.jpg", Caption: "c", At: at},
	} {
		f.Add(providersim.VonageInboundPayload(in), uint8(0))
	}
	for i, st := range []providersim.Status{
		{ID: "u-1", Status: "submitted", Channel: "sms", Ref: "m1", At: at},
		{ID: "u-1", Status: "delivered", Channel: "rcs", Ref: "m1", At: at},
		{ID: "u-1", Status: "rejected", Channel: "rcs", Ref: "m1", ErrorCode: "1020", At: at},
		{ID: "u-1", Status: "undeliverable", Channel: "whatsapp", At: at},
	} {
		f.Add(providersim.VonageStatusPayload(st), uint8(1+2*i))
	}
	f.Add([]byte(`{"message_uuid":"u","from":"1","message_type":"location","location":{"lat":"x"}}`), uint8(0))
	f.Add([]byte(`{"message_uuid":"u","status":"rejected","error":{"title":1,"type":"#"}}`), uint8(3))

	f.Add(providersim.VonageInboundPayload(providersim.Inbound{ID: "u-5", Channel: "mms", From: "+447700900123", To: number, Caption: "c", At: at,
		Files: []providersim.File{{Kind: "file", FileName: "f.pdf", URL: "https://api-eu.nexmo.com/v3/media/abc"}}}), uint8(0))
	f.Add([]byte(`{"message_uuid":"u","from":"1","message_type":"video","video":{"url":7,"caption":{}}}`), uint8(0))
	p := vonage.New()
	ids := []*workspace.Identity{
		identity(f, workspace.SMS, vonage.DefaultAPIURL),
		identity(f, workspace.RCS, vonage.DefaultAPIURL),
		identity(f, workspace.WhatsApp, vonage.DefaultAPIURL),
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		route := "inbound"
		if sel%2 == 1 {
			route = "status"
		}
		id := ids[int(sel/2)%len(ids)]
		res, err := p.Webhook(signed(t, route, id, body, at, at))
		if err != nil {
			var we *channel.WebhookError
			if !errors.As(err, &we) || we.Status != http.StatusBadRequest {
				t.Fatalf("a signed body was refused with %v, want 400", err)
			}
			return
		}
		if route == "inbound" && len(res.Messages) != 1 {
			t.Fatalf("an accepted inbound gave %d messages", len(res.Messages))
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
			if r.ProviderMessageID == "" || r.IdentityID != id.ID {
				t.Fatalf("report without its IDs: %+v", r)
			}
			if (r.Status == workspace.DeliveryFailed) != (r.Error != nil) {
				t.Fatalf("report %+v: an error goes with FAILED and only with it", r)
			}
		}
	})
}
