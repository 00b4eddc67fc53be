package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/whatsapp"
	"github.com/agentdesk/agentdesk/workspace"
)

const (
	pnid        = "106540352242922"
	accessToken = "EAAG-access-token"
	appSecret   = "meta-app-secret"
	verifyToken = "verify-me"
	number      = "+15550783881"
	contact     = "+447700900123"
)

var num = providersim.WhatsAppNumber{PhoneNumberID: pnid, DisplayPhoneNumber: number, WABAID: "102290129340398",
	AccessToken: accessToken, AppSecret: appSecret}

func identity(apiURL string) *workspace.Identity {
	return &workspace.Identity{
		ID: "wa-1", Channel: workspace.WhatsApp, Address: number, Provider: whatsapp.Name,
		Settings: map[string]string{"apiUrl": apiURL, "phoneNumberId": pnid, "accessToken": accessToken,
			"appSecret": appSecret, "verifyToken": verifyToken},
	}
}

func TestSignature(t *testing.T) {
	// RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
	if got := whatsapp.Signature("Jefe", []byte("what do ya want for nothing?")); got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("Signature = %s", got)
	}
	body := providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.1", From: contact, Name: "José", Text: "Olá 👋", At: time.Unix(1700000000, 0)})
	if !bytes.Contains(body, []byte(`Ol\u00e1 \ud83d\udc4b`)) {
		t.Fatalf("the simulator does not escape as Meta does: %s", body)
	}
	sig := providersim.WhatsAppSignature(appSecret, body)
	var v any
	_ = json.Unmarshal(body, &v)
	remarshalled, _ := json.Marshal(v)
	for _, c := range []struct {
		name, secret, header string
		body                 []byte
		ok                   bool
	}{
		{"valid", appSecret, sig, body, true},
		{"upper-case hex", appSecret, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), body, true},
		{"wrong secret", "other", sig, body, false},
		{"tampered body", appSecret, sig, bytes.Replace(body, []byte("wamid.1"), []byte("wamid.2"), 1), false},
		{"re-marshalled body", appSecret, sig, remarshalled, false},
		{"missing", appSecret, "", body, false},
		{"no prefix", appSecret, strings.TrimPrefix(sig, "sha256="), body, false},
		{"sha1 prefix", appSecret, "sha1=" + strings.TrimPrefix(sig, "sha256="), body, false},
		{"not hex", appSecret, "sha256=zz", body, false},
		{"empty secret", "", whatsapp.Signature("", body), body, false},
	} {
		if got := whatsapp.ValidSignature(c.secret, c.body, c.header); got != c.ok {
			t.Errorf("%s: %v, want %v", c.name, got, c.ok)
		}
	}
}

func post(t testing.TB, id *workspace.Identity, body []byte) channel.WebhookRequest {
	t.Helper()
	r, err := providersim.WhatsAppRequest("https://desk.example/webhooks/whatsapp-cloud/"+id.ID, appSecret, body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := providersim.AsWebhook(r, "", id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func webhookStatus(err error) int {
	var we *channel.WebhookError
	if errors.As(err, &we) {
		return we.Status
	}
	return 0
}

func TestHandshake(t *testing.T) {
	p := whatsapp.New()
	id := identity(whatsapp.DefaultAPIURL)
	get := func(q url.Values) (channel.WebhookResult, error) {
		return p.Webhook(channel.WebhookRequest{Method: http.MethodGet, Route: "", URL: "https://desk.example/webhooks/whatsapp-cloud/wa-1?" + q.Encode(),
			Header: http.Header{}, Query: q, Identity: id, Now: time.Now()})
	}
	res, err := get(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1158201444"}})
	if err != nil || string(res.Reply) != "1158201444" || !strings.HasPrefix(res.ContentType, "text/plain") {
		t.Fatalf("%q %q %v", res.Reply, res.ContentType, err)
	}
	for _, q := range []url.Values{
		{"hub.mode": {"subscribe"}, "hub.verify_token": {"wrong"}, "hub.challenge": {"1"}},
		{"hub.mode": {"unsubscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1"}},
		{"hub.verify_token": {verifyToken}, "hub.challenge": {"1"}},
		{},
	} {
		if _, err := get(q); webhookStatus(err) != http.StatusForbidden {
			t.Errorf("%v: %v, want 403", q, err)
		}
	}
	noToken := identity(whatsapp.DefaultAPIURL)
	noToken.Settings["verifyToken"] = ""
	res, err = p.Webhook(channel.WebhookRequest{Method: http.MethodGet, Query: url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}}, Identity: noToken})
	if webhookStatus(err) != http.StatusForbidden {
		t.Errorf("an identity without a verify token accepted an empty one: %v %v", res, err)
	}
}

func TestWebhookRefusals(t *testing.T) {
	p := whatsapp.New()
	id := identity(whatsapp.DefaultAPIURL)
	req := post(t, id, providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.1", From: contact, Text: "hi", At: time.Now()}))
	r := req
	r.Route = "inbound"
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusNotFound {
		t.Errorf("unknown route: %v", err)
	}
	r = req
	r.Method = http.MethodPut
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %v", err)
	}
	r = req
	r.Header = http.Header{}
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("unsigned: %v", err)
	}
	r = req
	r.Body = append(append([]byte(nil), req.Body...), ' ')
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("tampered: %v", err)
	}
	for _, body := range []string{`{"object":`, `[]`, `{"entry":"x"}`, `{"entry":[{"changes":[{"value":{"messages":{}}}]}]}`} {
		if _, err := p.Webhook(post(t, id, []byte(body))); webhookStatus(err) != http.StatusBadRequest {
			t.Errorf("malformed %s: %v, want 400", body, err)
		}
	}
}

func TestParse(t *testing.T) {
	p := whatsapp.New()
	id := identity(whatsapp.DefaultAPIURL)
	at := time.Unix(1700000000, 0).UTC()
	env := func(value string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":` + value + `}]}]}`
	}
	meta := `"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"` + pnid + `"}`
	cases := []struct {
		name     string
		body     string
		messages []workspace.InboundMessage
		reports  []workspace.DeliveryReport
	}{
		{"text with contact name", string(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.A", From: contact, Name: "José", Text: "Olá 👋", At: at})),
			[]workspace.InboundMessage{{From: contact, Name: "José", ProviderMessageID: "wamid.A", Text: "Olá 👋", At: at}}, nil},
		{"image with caption", string(providersim.WhatsAppInboundPayload(num, providersim.Inbound{ID: "wamid.B", From: contact, Name: "Ana", MediaType: "image", Caption: "the receipt", At: at})),
			[]workspace.InboundMessage{{From: contact, Name: "Ana", ProviderMessageID: "wamid.B", At: at,
				Media: []workspace.InboundMedia{{FileName: "image", ContentType: "image/jpeg", Caption: "the receipt", Source: "WhatsApp"}}}}, nil},
		{"document, two messages, names matched by wa_id", env(`{` + meta + `,"contacts":[{"profile":{"name":"Bo"},"wa_id":"447700900456"},{"profile":{"name":"Ana"},"wa_id":"447700900123"}],
			"messages":[{"from":"447700900123","id":"wamid.C","timestamp":"1700000000","type":"document","document":{"id":"m1","filename":"invoice.pdf","mime_type":"application/pdf"}},
			{"from":"447700900456","id":"wamid.D","timestamp":"1700000000","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}]}`),
			[]workspace.InboundMessage{
				{From: contact, Name: "Ana", ProviderMessageID: "wamid.C", At: at,
					Media: []workspace.InboundMedia{{FileName: "invoice.pdf", ContentType: "application/pdf", Source: "WhatsApp"}}},
				{From: "+447700900456", Name: "Bo", ProviderMessageID: "wamid.D", Text: "Yes", At: at},
			}, nil},
		{"unknown type, BSUID sender, missing id skipped", env(`{` + meta + `,"contacts":[{"profile":{"name":"U"},"user_id":"US.13491208655302741918"}],
			"messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.E","timestamp":"x","type":"order","order":{}},{"from":"447700900123","type":"text","text":{"body":"no id"}}]}`),
			[]workspace.InboundMessage{{From: "US.13491208655302741918", Name: "U", ProviderMessageID: "wamid.E", Text: "[order message received]"}}, nil},
		{"another number's entry is ignored", env(`{"messaging_product":"whatsapp","metadata":{"phone_number_id":"999"},"messages":[{"from":"447700900123","id":"wamid.F","type":"text","text":{"body":"not ours"}}]}`),
			nil, nil},
		{"not a WhatsApp notification", `{"object":"page","entry":[]}`, nil, nil},
		{"statuses", env(`{` + meta + `,"statuses":[
			{"id":"wamid.S1","status":"sent","timestamp":"1700000000","recipient_id":"447700900123","biz_opaque_callback_data":"msg-1"},
			{"id":"wamid.S1","status":"delivered","recipient_id":"447700900123","biz_opaque_callback_data":"msg-1"},
			{"id":"wamid.S1","status":"read","recipient_id":"447700900123"},
			{"id":"wamid.S2","status":"failed","biz_opaque_callback_data":"msg-2","errors":[{"code":131047,"title":"Re-engagement message","error_data":{"details":"more than 24 hours"}}]},
			{"id":"wamid.S3","status":"failed","errors":[{"code":131026,"title":"Message undeliverable"}]},
			{"id":"wamid.S4","status":"failed","errors":[{"code":"130429","title":"Rate limit hit"}]},
			{"id":"wamid.S5","status":"failed","errors":[{"code":131000,"title":"Something went wrong"}]},
			{"id":"wamid.S6","status":"deleted"},
			{"status":"read"}]}`),
			nil, []workspace.DeliveryReport{
				{ProviderMessageID: "wamid.S1", MessageID: "msg-1", Status: workspace.DeliverySent},
				{ProviderMessageID: "wamid.S1", MessageID: "msg-1", Status: workspace.DeliveryDelivered},
				{ProviderMessageID: "wamid.S1", Status: workspace.DeliveryRead},
				{ProviderMessageID: "wamid.S2", MessageID: "msg-2", Status: workspace.DeliveryFailed, Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: "131047",
					Message: "the 24-hour window is closed: the contact has not written for more than 24 hours, so only a template can be sent"}},
				{ProviderMessageID: "wamid.S3", Status: workspace.DeliveryFailed, Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: "131026", Message: "Message undeliverable"}},
				{ProviderMessageID: "wamid.S4", Status: workspace.DeliveryFailed, Error: &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, ProviderCode: "130429", Message: "WhatsApp could not send the message now: Rate limit hit"}},
				{ProviderMessageID: "wamid.S5", Status: workspace.DeliveryFailed, Error: &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, ProviderCode: "131000", Message: "WhatsApp could not send the message now: Something went wrong"}},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Webhook(post(t, id, []byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.messages {
				c.messages[i].IdentityID = id.ID
			}
			for i := range c.reports {
				c.reports[i].IdentityID = id.ID
			}
			for i := range res.Messages {
				res.Messages[i] = withoutOpen(t, res.Messages[i])
			}
			if !reflect.DeepEqual(res.Messages, c.messages) {
				t.Errorf("messages %+v\nwant %+v", res.Messages, c.messages)
			}
			if !reflect.DeepEqual(res.Reports, c.reports) {
				t.Errorf("reports %+v\nwant %+v", res.Reports, c.reports)
				for i := range res.Reports {
					t.Logf("%d: %+v", i, res.Reports[i].Error)
				}
			}
		})
	}
}

func TestCheckSettings(t *testing.T) {
	p := whatsapp.New()
	base := func() map[string]string {
		return map[string]string{"phoneNumberId": pnid, "accessToken": accessToken, "appSecret": appSecret, "verifyToken": verifyToken}
	}
	got, err := p.CheckSettings(workspace.WhatsApp, base())
	if err != nil || got["apiUrl"] != "https://graph.facebook.com" || got["apiVersion"] != "v23.0" {
		t.Fatalf("%v %v", got, err)
	}
	for _, c := range []struct{ key, value, want string }{
		{"phoneNumberId", "", "phoneNumberId"},
		{"phoneNumberId", "12/../x", "phoneNumberId"},
		{"accessToken", "", "accessToken"},
		{"appSecret", "", "appSecret"},
		{"verifyToken", "", "verifyToken"},
		{"apiVersion", "23", "apiVersion"},
		{"apiUrl", "graph.facebook.com", "apiUrl"},
	} {
		s := base()
		s[c.key] = c.value
		_, err := p.CheckSettings(workspace.WhatsApp, s)
		var se *channel.SettingsError
		if !errors.As(err, &se) || se.Key != c.want {
			t.Errorf("%s=%q: %v, want a SettingsError on %s", c.key, c.value, err, c.want)
		}
	}
	if _, err := p.CheckSettings(workspace.SMS, base()); err == nil {
		t.Error("SMS accepted")
	}
	for k, secret := range map[string]bool{"accessToken": true, "appSecret": true, "verifyToken": true, "phoneNumberId": false, "apiUrl": false} {
		if p.Secret(k) != secret {
			t.Errorf("Secret(%s) = %v", k, !secret)
		}
	}
}

func sim(t *testing.T) (*providersim.Sim, *httptest.Server) {
	s := providersim.New()
	s.AddWhatsApp(num)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); srv.Close() })
	return s, srv
}

func outgoing(id *workspace.Identity, text string) workspace.Outgoing {
	return workspace.Outgoing{Identity: id, To: contact, Message: &workspace.Message{ID: "msg-1", Text: text}}
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
}

func deliveryError(t *testing.T, err error) *workspace.DeliveryError {
	t.Helper()
	var de *workspace.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a DeliveryError", err, err)
	}
	return de
}

func TestSend(t *testing.T) {
	s, srv := sim(t)
	p := whatsapp.New()
	id := identity(srv.URL)

	got, err := p.Send(context.Background(), outgoing(id, "Hi"))
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Received()
	if len(rec) != 1 || rec[0].ID != got || !strings.HasPrefix(got, "wamid.") || rec[0].Account != pnid {
		t.Fatalf("returned %q, recorded %+v", got, rec)
	}
	jsonEqual(t, rec[0].Body, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"447700900123","type":"text",
		"text":{"preview_url":false,"body":"Hi"},"biz_opaque_callback_data":"msg-1"}`)

	out := outgoing(id, "")
	out.Message.Template = &workspace.TemplateUse{Name: "order_update", Language: "en_US", Parameters: []string{"Ana"}}
	if _, err := p.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	out.Message.Template = &workspace.TemplateUse{Name: "hello_world", Language: "en_US"}
	if _, err := p.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	rec = s.Received()
	jsonEqual(t, rec[1].Body, `{"messaging_product":"whatsapp","to":"447700900123","type":"template",
		"template":{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]},
		"biz_opaque_callback_data":"msg-1"}`)
	jsonEqual(t, rec[2].Body, `{"messaging_product":"whatsapp","to":"447700900123","type":"template",
		"template":{"name":"hello_world","language":{"code":"en_US"}},"biz_opaque_callback_data":"msg-1"}`)
	if rec[1].Template == nil || !reflect.DeepEqual(rec[1].Template.Parameters, []string{"Ana"}) {
		t.Fatalf("%+v", rec[1].Template)
	}
}

func TestSendFailures(t *testing.T) {
	s, srv := sim(t)
	p := &whatsapp.Provider{Timeout: 300 * time.Millisecond}
	id := identity(srv.URL)
	for _, c := range []struct {
		name  string
		fault providersim.Fault
		kind  workspace.DeliveryErrorKind
		code  string
	}{
		{"5xx", providersim.ServerError, workspace.DeliveryTemporary, "131000"},
		{"429", providersim.RateLimited, workspace.DeliveryTemporary, "130429"},
		{"timeout", providersim.Hang, workspace.DeliveryTemporary, ""},
		{"invalid number", providersim.InvalidNumber, workspace.DeliveryContent, "131026"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.Attempts()
			s.Fail(contact, c.fault, 1)
			_, err := p.Send(context.Background(), outgoing(id, "Hello"))
			de := deliveryError(t, err)
			if de.Kind != c.kind || de.ProviderCode != c.code {
				t.Fatalf("%+v, want %s %q", de, c.kind, c.code)
			}
			if n := s.Attempts() - before; n != 1 {
				t.Fatalf("%d attempts: a Send must not retry", n)
			}
		})
	}
	t.Run("window closed", func(t *testing.T) {
		s.CloseWindow(contact)
		defer s.OpenWindow(contact)
		_, err := p.Send(context.Background(), outgoing(id, "Hello"))
		de := deliveryError(t, err)
		if de.Kind != workspace.DeliveryContent || de.ProviderCode != "131047" || !strings.Contains(de.Message, "template") {
			t.Fatalf("%+v", de)
		}
		out := outgoing(id, "")
		out.Message.Template = &workspace.TemplateUse{Name: "hello_world", Language: "en_US"}
		if _, err := p.Send(context.Background(), out); err != nil {
			t.Fatalf("a template to a closed window: %v", err)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		bad := identity(srv.URL)
		bad.Settings["accessToken"] = "expired"
		_, err := p.Send(context.Background(), outgoing(bad, "Hello"))
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryTemporary || de.ProviderCode != "190" || !strings.Contains(de.Message, "credentials") {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("unknown phone number", func(t *testing.T) {
		bad := identity(srv.URL)
		bad.Settings["phoneNumberId"] = "1"
		_, err := p.Send(context.Background(), outgoing(bad, "Hello"))
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryTemporary {
			t.Fatalf("%+v", de)
		}
	})
}

func TestRoundTrip(t *testing.T) {
	p := whatsapp.New()
	recv := providersim.NewReceiver(p)
	hooks := httptest.NewServer(recv)
	defer hooks.Close()
	s, api := sim(t)
	id := identity(api.URL)
	recv.Add(id)
	n := num
	n.WebhookURL = hooks.URL + "/webhooks/whatsapp-cloud/" + id.ID
	s.AddWhatsApp(n)
	s.SetAutoReceipts(true)
	s.CloseWindow(contact)

	// The contact writes (with non-ASCII, which Meta escapes before signing) and so opens
	// the window; the reply then passes and is followed by its receipts.
	code, err := s.WhatsAppInbound(context.Background(), pnid, providersim.Inbound{From: contact, Name: "José", Text: "Olá 👋"})
	if err != nil || code != http.StatusOK {
		t.Fatalf("inbound: %d %v %v", code, err, recv.Errors())
	}
	if m := recv.Messages(); len(m) != 1 || m[0].Text != "Olá 👋" || m[0].Name != "José" || m[0].From != contact {
		t.Fatalf("%+v", m)
	}
	got, err := p.Send(context.Background(), outgoing(id, "Hello José"))
	if err != nil {
		t.Fatal(err)
	}
	reports, err := recv.WaitReports(3, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %+v %v", err, reports, recv.Errors())
	}
	for i, want := range []workspace.DeliveryStatus{workspace.DeliverySent, workspace.DeliveryDelivered, workspace.DeliveryRead} {
		if r := reports[i]; r.Status != want || r.ProviderMessageID != got || r.MessageID != "msg-1" {
			t.Errorf("report %d: %+v, want %s", i, r, want)
		}
	}
	// A failed receipt, as Meta reports 131047 asynchronously too.
	if code, err := s.Receipt(context.Background(), got, "failed", "131047"); err != nil || code != http.StatusOK {
		t.Fatalf("%d %v", code, err)
	}
	reports, _ = recv.WaitReports(4, 5*time.Second)
	if r := reports[3]; r.Status != workspace.DeliveryFailed || r.Error == nil || r.Error.ProviderCode != "131047" || r.Error.Kind != workspace.DeliveryContent {
		t.Fatalf("%+v %+v", r, r.Error)
	}
}
