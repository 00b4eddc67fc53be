package whatsapp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/whatsapp"
	"github.com/agentdesk/agentdesk/workspace"
)

// FuzzWhatsAppWebhook feeds signed bodies to the webhook parser: the fuzz input is the body,
// signed here with the test app secret so that parsing is reached. Whatever the body, the
// parser must not panic, and must either refuse it with a 400 or return messages and reports
// that carry the IDs the domain needs.
func FuzzWhatsAppWebhook(f *testing.F) {
	at := time.Unix(1700000000, 0)
	f.Add(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.A", From: contact, Name: "José", Text: "Olá 👋", At: at}))
	f.Add(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.B", From: contact, MediaType: "image", Caption: "c", At: at}))
	f.Add(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.C", From: contact, MediaType: "document", At: at}))
	for _, st := range []providersim.Status{
		{ID: "wamid.S", Status: "sent", To: contact, Ref: "m1", At: at},
		{ID: "wamid.S", Status: "read", To: contact, At: at},
		{ID: "wamid.S", Status: "failed", To: contact, Ref: "m1", ErrorCode: "131047", At: at},
		{ID: "wamid.S", Status: "failed", To: contact, ErrorCode: "130429", At: at},
	} {
		f.Add(providersim.WhatsAppStatusPayload(num, st))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":106540352242922},"messages":[{"from_user_id":"US.1","id":"x","type":"location","location":{"latitude":1}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"106540352242922"},"statuses":[{"id":"x","status":"failed","errors":[{"code":null}]}]}}]}]}`))

	f.Add(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.G", From: contact, Caption: "c", At: at,
		Files: []providersim.File{{ContentType: "application/pdf", FileName: "invoice.pdf", ID: "1234567890"}}}))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"106540352242922"},"messages":[{"from":"1","id":"x","type":"sticker","sticker":{"id":"../../x","mime_type":7}}]}}]}]}`))
	p := whatsapp.New()
	id := identity(whatsapp.DefaultAPIURL)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := channel.WebhookRequest{Method: http.MethodPost, Route: "", URL: "https://desk.example/webhooks/whatsapp-cloud/wa-1",
			Header: http.Header{whatsapp.SignatureHeader: {providersim.WhatsAppSignature(appSecret, body)}},
			Body:   body, Identity: id, Now: time.Now()}
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
			if r.ProviderMessageID == "" || r.IdentityID != id.ID {
				t.Fatalf("report without its IDs: %+v", r)
			}
			if (r.Status == workspace.DeliveryFailed) != (r.Error != nil) {
				t.Fatalf("report %+v: an error goes with FAILED and only with it", r)
			}
		}
	})
}
