package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/twilio"
	"github.com/agentdesk/agentdesk/workspace"
)

const (
	sid    = "AC0123456789abcdef0123456789abcdef"
	token  = "twilio-auth-token"
	number = "+447700900001"
)

func identity(apiURL string) *workspace.Identity {
	return &workspace.Identity{
		ID: "twilio-sms", Channel: workspace.SMS, Address: number, Provider: twilio.Name,
		Settings: map[string]string{"apiUrl": apiURL, "accountSid": sid, "authToken": token},
	}
}

// Known vectors. The first is the worked example of Twilio's webhook-security docs (auth
// token 12345); the others are twilio-go's client/request_validator_test.go (same URL and
// token, Caller/From +14158675309), with and without ports.
func TestSignatureVectors(t *testing.T) {
	docs := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	sdk := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	for _, c := range []struct {
		name, url string
		params    url.Values
		sig       string
	}{
		{"Twilio docs example", u, docs, "GvWf1cFY/Q7PnoempGyD5oXAezc="},
		{"twilio-go: https", u, sdk, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"twilio-go: https with :443", strings.Replace(u, ".com", ".com:443", 1), sdk, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"twilio-go: http with :80", "http://mycompany.com:80/myapp.php?foo=1&bar=2", sdk, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"twilio-go: http with :1234", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", sdk, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	} {
		if got := twilio.Signature("12345", c.url, c.params); got != c.sig {
			t.Errorf("%s: Signature = %s, want %s", c.name, got, c.sig)
		}
		if got := providersim.TwilioSignature("12345", c.url, c.params); got != c.sig {
			t.Errorf("%s: the simulator signs %s, want %s", c.name, got, c.sig)
		}
	}

	// ValidSignature, as twilio-go's Validate: the URL with and without its port.
	for _, c := range []struct {
		name, url, sig string
		ok             bool
	}{
		{"as signed", u, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		{"signed with :443, called without", u, "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"signed without port, called with :1234", strings.Replace(u, ".com", ".com:1234", 1), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		{"http signed with :80, called without", "http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		{"http signed with :1234", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true},
		{"wrong signature", u, "WRONG SIGNATURE", false},
		{"other scheme", strings.Replace(u, "https", "http", 1), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false},
		{"other query", strings.Replace(u, "bar=2", "bar=3", 1), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false},
		{"empty signature", u, "", false},
	} {
		if got := twilio.ValidSignature("12345", c.url, sdk, c.sig); got != c.ok {
			t.Errorf("%s: ValidSignature = %v, want %v", c.name, got, c.ok)
		}
	}
	if twilio.ValidSignature("other", u, sdk, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Error("a wrong auth token validated")
	}
	tampered := url.Values{}
	for k, v := range sdk {
		tampered[k] = v
	}
	tampered.Set("Digits", "9999")
	if twilio.ValidSignature("12345", u, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Error("a tampered parameter validated")
	}
	tampered = url.Values{"Extra": {"1"}}
	for k, v := range sdk {
		tampered[k] = v
	}
	if twilio.ValidSignature("12345", u, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Error("an added parameter validated")
	}
	if twilio.ValidSignature("", u, sdk, twilio.Signature("", u, sdk)) {
		t.Error("an empty auth token validated")
	}
}

const hookURL = "https://desk.example/webhooks/twilio/twilio-sms/"

func signed(t testing.TB, route string, id *workspace.Identity, params url.Values, rawURL string) channel.WebhookRequest {
	t.Helper()
	if rawURL == "" {
		rawURL = hookURL + route
	}
	r, err := providersim.TwilioRequest(rawURL, token, params)
	if err != nil {
		t.Fatal(err)
	}
	req, err := providersim.AsWebhook(r, route, id, time.Now())
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

func TestWebhookRefusals(t *testing.T) {
	p := twilio.New()
	id := identity(twilio.DefaultAPIURL)
	in := providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "SM1", From: "+447700900123", To: number, Text: "hi"})
	req := signed(t, "inbound", id, in, "")

	if _, err := p.Webhook(req); err != nil {
		t.Fatalf("the valid request: %v", err)
	}
	r := req
	r.Route = "events"
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusNotFound {
		t.Errorf("unknown route: %v", err)
	}
	r = req
	r.Method = http.MethodGet
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v", err)
	}
	r = req
	r.Header = http.Header{}
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("missing signature: %v", err)
	}
	r = req
	r.Body = []byte(strings.Replace(string(req.Body), "Body=hi", "Body=ho", 1))
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("tampered body: %v", err)
	}
	r = req
	r.URL = strings.Replace(req.URL, "desk.example", "evil.example", 1)
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("another URL: %v", err)
	}
	other := identity(twilio.DefaultAPIURL)
	other.Settings["authToken"] = "another token"
	r = req
	r.Identity = other
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("wrong auth token: %v", err)
	}
	r = req
	r.Body = []byte("Body=%zz&From=x")
	if _, err := p.Webhook(r); webhookStatus(err) != http.StatusBadRequest {
		t.Errorf("malformed form: %v", err)
	}
	// Signed, but missing what an inbound message needs.
	for _, params := range []url.Values{{"Body": {"x"}, "From": {"+447700900123"}}, {"MessageSid": {"SM1"}, "Body": {"x"}}} {
		if _, err := p.Webhook(signed(t, "inbound", id, params, "")); webhookStatus(err) != http.StatusBadRequest {
			t.Errorf("incomplete inbound %v: %v", params, err)
		}
	}
	if _, err := p.Webhook(signed(t, "status", id, url.Values{"MessageSid": {"SM1"}}, "")); webhookStatus(err) != http.StatusBadRequest {
		t.Errorf("status without MessageStatus: %v", err)
	}
}

func TestInbound(t *testing.T) {
	p := twilio.New()
	id := identity(twilio.DefaultAPIURL)
	for _, c := range []struct {
		name   string
		params url.Values
		want   workspace.InboundMessage
	}{
		{"text", providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "SM1", From: "+447700900123", To: number, Text: "Hello there"}),
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "SM1", Text: "Hello there"}},
		{"mms with media", providersim.TwilioInboundParams(sid, providersim.Inbound{ID: "MM2", From: "+447700900123", To: number, Text: "look", MediaType: "image", MediaURL: "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM2/Media/ME1"}),
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "MM2", Text: "look",
				Media: []workspace.InboundMedia{{FileName: "image", ContentType: "image/jpeg", Source: "Twilio"}}}},
		{"media only, two items", url.Values{"MessageSid": {"MM3"}, "From": {"+447700900123"}, "Body": {""}, "NumMedia": {"2"},
			"MediaUrl0": {"https://m/0"}, "MediaContentType0": {"video/mp4"}, "MediaUrl1": {"https://m/1"}, "MediaContentType1": {"application/pdf"}},
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "MM3", Media: []workspace.InboundMedia{
				{FileName: "video", ContentType: "video/mp4", Source: "Twilio"}, {FileName: "file", ContentType: "application/pdf", Source: "Twilio"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.Webhook(signed(t, "inbound", id, c.params, ""))
			if err != nil {
				t.Fatal(err)
			}
			c.want.IdentityID = id.ID
			if len(res.Messages) != 1 || !reflect.DeepEqual(withoutOpen(t, res.Messages[0]), c.want) {
				t.Fatalf("got %+v\nwant %+v", res.Messages, c.want)
			}
			if string(res.Reply) != `<?xml version="1.0" encoding="UTF-8"?><Response></Response>` || res.ContentType != "text/xml" {
				t.Fatalf("reply %q %q", res.Reply, res.ContentType)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	p := twilio.New()
	id := identity(twilio.DefaultAPIURL)
	for _, c := range []struct {
		status, code string
		want         workspace.DeliveryStatus
		kind         workspace.DeliveryErrorKind
	}{
		{"queued", "", "", ""},
		{"accepted", "", "", ""},
		{"sending", "", "", ""},
		{"sent", "", workspace.DeliverySent, ""},
		{"delivered", "", workspace.DeliveryDelivered, ""},
		{"read", "", workspace.DeliveryRead, ""},
		{"undelivered", "30003", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"undelivered", "30005", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"undelivered", "30006", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"failed", "21211", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"failed", "21614", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"failed", "21610", workspace.DeliveryFailed, workspace.DeliveryContent},
		{"undelivered", "30008", workspace.DeliveryFailed, workspace.DeliveryTemporary},
		{"failed", "", workspace.DeliveryFailed, workspace.DeliveryTemporary},
	} {
		t.Run(c.status+c.code, func(t *testing.T) {
			params := providersim.TwilioStatusParams(sid, providersim.Status{ID: "SM9", Status: c.status, From: number, To: "+447700900123", ErrorCode: c.code})
			res, err := p.Webhook(signed(t, "status", id, params, hookURL+"status?m=msg-7"))
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if len(res.Reports) != 0 {
					t.Fatalf("%s: %+v", c.status, res.Reports)
				}
				return
			}
			if len(res.Reports) != 1 {
				t.Fatalf("%d reports", len(res.Reports))
			}
			r := res.Reports[0]
			if r.Status != c.want || r.ProviderMessageID != "SM9" || r.MessageID != "msg-7" || r.IdentityID != id.ID {
				t.Fatalf("%+v", r)
			}
			if c.kind == "" {
				if r.Error != nil {
					t.Fatalf("error on %s: %v", c.status, r.Error)
				}
				return
			}
			if r.Error == nil || r.Error.Kind != c.kind || r.Error.ProviderCode != c.code {
				t.Fatalf("error %+v, want %s %q", r.Error, c.kind, c.code)
			}
		})
	}
}

func TestCheckSettings(t *testing.T) {
	p := twilio.New()
	got, err := p.CheckSettings(workspace.SMS, map[string]string{"accountSid": sid, "authToken": token})
	if err != nil || got["apiUrl"] != twilio.DefaultAPIURL {
		t.Fatalf("%v %v", got, err)
	}
	for _, c := range []struct {
		settings map[string]string
		ch       workspace.Channel
		key      string
	}{
		{map[string]string{"authToken": token}, workspace.SMS, "accountSid"},
		{map[string]string{"accountSid": sid}, workspace.SMS, "authToken"},
		{map[string]string{"accountSid": sid, "authToken": token, "apiUrl": "/relative"}, workspace.SMS, "apiUrl"},
		{map[string]string{"accountSid": sid, "authToken": token, "statusCallbackUrl": "desk.example/x"}, workspace.SMS, "statusCallbackUrl"},
		{map[string]string{"accountSid": sid, "authToken": token}, workspace.WhatsApp, "channel"},
	} {
		_, err := p.CheckSettings(c.ch, c.settings)
		var se *channel.SettingsError
		if !errors.As(err, &se) || se.Key != c.key {
			t.Errorf("%v: %v, want a SettingsError on %s", c.settings, err, c.key)
		}
	}
	if !p.Secret("authToken") || p.Secret("accountSid") {
		t.Error("Secret reports the wrong keys")
	}
}

func sim(t *testing.T) (*providersim.Sim, *httptest.Server) {
	s := providersim.New()
	s.AddTwilio(providersim.TwilioAccount{AccountSID: sid, AuthToken: token})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); srv.Close() })
	return s, srv
}

func outgoing(id *workspace.Identity, text string) workspace.Outgoing {
	return workspace.Outgoing{Identity: id, To: "+447700900123", Message: &workspace.Message{ID: "msg-1", Text: text}}
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
	p := twilio.New()
	id := identity(srv.URL)
	id.Settings["statusCallbackUrl"] = "https://desk.example/webhooks/twilio/twilio-sms/status"
	got, err := p.Send(context.Background(), outgoing(id, "Hello & welcome"))
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Received()
	if len(rec) != 1 || rec[0].ID != got || !strings.HasPrefix(got, "SM") || len(got) != 34 {
		t.Fatalf("returned %q, recorded %+v", got, rec)
	}
	form, err := url.ParseQuery(string(rec[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"To": {"+447700900123"}, "From": {number}, "Body": {"Hello & welcome"},
		"StatusCallback": {"https://desk.example/webhooks/twilio/twilio-sms/status?m=msg-1"}}
	if !reflect.DeepEqual(form, want) {
		t.Fatalf("form %v\nwant %v", form, want)
	}
	if rec[0].Ref != "msg-1" || rec[0].ContentType != "application/x-www-form-urlencoded" {
		t.Fatalf("recorded %+v", rec[0])
	}

	// Without a statusCallbackUrl there is no StatusCallback.
	if _, err := p.Send(context.Background(), outgoing(identity(srv.URL), "x")); err != nil {
		t.Fatal(err)
	}
	if rec := s.Received(); rec[1].StatusCallback != "" {
		t.Fatalf("StatusCallback %q", rec[1].StatusCallback)
	}
	if cb := twilio.CallbackURL("https://d/x?token=1", "a b"); cb != "https://d/x?token=1&m=a+b" {
		t.Fatalf("CallbackURL = %s", cb)
	}
}

func TestSendFailures(t *testing.T) {
	s, srv := sim(t)
	p := &twilio.Provider{Timeout: 300 * time.Millisecond}
	id := identity(srv.URL)
	for _, c := range []struct {
		name  string
		fault providersim.Fault
		kind  workspace.DeliveryErrorKind
		code  string
	}{
		{"5xx", providersim.ServerError, workspace.DeliveryTemporary, "20500"},
		{"429", providersim.RateLimited, workspace.DeliveryTemporary, "20429"},
		{"timeout", providersim.Hang, workspace.DeliveryTemporary, ""},
		{"invalid number", providersim.InvalidNumber, workspace.DeliveryContent, "21211"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.Attempts()
			s.Fail("+447700900123", c.fault, 1)
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
	t.Run("a number the simulator refuses as Twilio does", func(t *testing.T) {
		out := outgoing(id, "Hello")
		out.To = "not-a-number"
		_, err := p.Send(context.Background(), out)
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryContent || de.ProviderCode != "21211" {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		bad := identity(srv.URL)
		bad.Settings["authToken"] = "wrong"
		_, err := p.Send(context.Background(), outgoing(bad, "Hello"))
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryTemporary || de.ProviderCode != "20003" || !strings.Contains(de.Message, "credentials") {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("empty body", func(t *testing.T) {
		_, err := p.Send(context.Background(), outgoing(id, ""))
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryContent {
			t.Fatalf("%+v", de)
		}
	})
}

func TestRoundTrip(t *testing.T) {
	p := twilio.New()
	recv := providersim.NewReceiver(p)
	hooks := httptest.NewServer(recv)
	defer hooks.Close()
	s, api := sim(t)
	id := identity(api.URL)
	id.Settings["statusCallbackUrl"] = hooks.URL + "/webhooks/twilio/" + id.ID + "/status"
	recv.Add(id)
	s.AddTwilio(providersim.TwilioAccount{AccountSID: sid, AuthToken: token, InboundURL: hooks.URL + "/webhooks/twilio/" + id.ID + "/inbound"})
	s.SetAutoReceipts(true)

	got, err := p.Send(context.Background(), outgoing(id, "Hello"))
	if err != nil {
		t.Fatal(err)
	}
	reports, err := recv.WaitReports(2, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %+v %v", err, reports, recv.Errors())
	}
	for i, want := range []workspace.DeliveryStatus{workspace.DeliverySent, workspace.DeliveryDelivered} {
		if r := reports[i]; r.Status != want || r.ProviderMessageID != got || r.MessageID != "msg-1" {
			t.Errorf("report %d: %+v, want %s", i, r, want)
		}
	}
	code, err := s.TwilioInbound(context.Background(), sid, providersim.Inbound{From: "+447700900123", To: number, Text: "Thanks!"})
	if err != nil || code != http.StatusOK {
		t.Fatalf("inbound: %d %v %v", code, err, recv.Errors())
	}
	if m := recv.Messages(); len(m) != 1 || m[0].Text != "Thanks!" || m[0].From != "+447700900123" {
		t.Fatalf("%+v", m)
	}
}

// withoutOpen checks that every medium can be opened and returns m with Open cleared, to
// compare.
func withoutOpen(t *testing.T, m workspace.InboundMessage) workspace.InboundMessage {
	t.Helper()
	m.Media = slices.Clone(m.Media)
	for i := range m.Media {
		if m.Media[i].Open == nil {
			t.Fatalf("medium %d has no Open", i)
		}
		m.Media[i].Open = nil
	}
	return m
}
