package vonage_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/vonage"
	"github.com/agentdesk/agentdesk/workspace"
)

const (
	secret = "vonage-signature-secret"
	appID  = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
	number = "+447700900001"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyPEM  string
)

// testKey is one RSA key for the package (generated once: 2048-bit keys are slow).
func testKey(t testing.TB) (*rsa.PrivateKey, string) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		key, keyPEM = k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return key, keyPEM
}

func identity(t testing.TB, ch workspace.Channel, apiURL string) *workspace.Identity {
	_, pemText := testKey(t)
	return &workspace.Identity{
		ID: "vonage-" + strings.ToLower(string(ch)), Channel: ch, Address: number, Provider: vonage.Name,
		Settings: map[string]string{"apiUrl": apiURL, "applicationId": appID, "privateKey": pemText, "signatureSecret": secret},
	}
}

// signed is a webhook request signed as Vonage signs (via the simulator's own signer).
func signed(t testing.TB, route string, id *workspace.Identity, body []byte, iat, now time.Time) channel.WebhookRequest {
	t.Helper()
	r, err := providersim.VonageRequest("https://desk.example/webhooks/vonage/"+id.ID+"/"+route, secret, body, iat)
	if err != nil {
		t.Fatal(err)
	}
	req, err := providersim.AsWebhook(r, route, id, now)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func hs256(t testing.TB, claims jwt.MapClaims, key string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"message_uuid":"x","from":"447700900123","message_type":"text","text":"hi"}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	rsaKey, _ := testKey(t)
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iat": now.Unix(), "payload_hash": hash}).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iat": now.Unix(), "payload_hash": hash}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"iat": now.Unix(), "payload_hash": hash}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	simToken, err := providersim.VonageToken(secret, body, now)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, auth string
		body       []byte
		secret     string
		ok         bool
	}{
		{"simulator's token", "Bearer " + simToken, body, secret, true},
		{"no payload_hash", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Unix()}, secret), body, secret, true},
		{"lower-case scheme", "bearer " + simToken, body, secret, true},
		{"iat 4 minutes old", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Add(-4 * time.Minute).Unix(), "payload_hash": hash}, secret), body, secret, true},
		{"wrong secret", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Unix(), "payload_hash": hash}, "other"), body, secret, false},
		{"tampered body", "Bearer " + simToken, []byte(strings.Replace(string(body), "hi", "ho", 1)), secret, false},
		{"missing header", "", body, secret, false},
		{"basic scheme", "Basic " + simToken, body, secret, false},
		{"iat 6 minutes old", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Add(-6 * time.Minute).Unix(), "payload_hash": hash}, secret), body, secret, false},
		{"iat 6 minutes ahead", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Add(6 * time.Minute).Unix(), "payload_hash": hash}, secret), body, secret, false},
		{"no iat", "Bearer " + hs256(t, jwt.MapClaims{"payload_hash": hash}, secret), body, secret, false},
		{"expired exp", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(-time.Hour).Unix()}, secret), body, secret, false},
		{"payload_hash not a string", "Bearer " + hs256(t, jwt.MapClaims{"iat": now.Unix(), "payload_hash": 12}, secret), body, secret, false},
		{"alg none", "Bearer " + none, body, secret, false},
		{"alg RS256", "Bearer " + rs256, body, secret, false},
		{"alg HS512", "Bearer " + hs512, body, secret, false},
		{"garbage token", "Bearer not.a.jwt", body, secret, false},
		{"identity without secret", "Bearer " + simToken, body, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := vonage.Verify(c.auth, c.body, c.secret, now)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				if err == nil {
					t.Fatal("accepted")
				}
				if err.Status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", err.Status)
				}
			}
		})
	}
}

func webhookStatus(err error) int {
	var we *channel.WebhookError
	if errors.As(err, &we) {
		return we.Status
	}
	return 0
}

func TestWebhookRoutes(t *testing.T) {
	p := vonage.New()
	id := identity(t, workspace.SMS, vonage.DefaultAPIURL)
	now := time.Now()
	req := signed(t, "inbound", id, providersim.VonageInboundPayload(providersim.Inbound{ID: "u1", From: "+447700900123", Text: "hi", At: now}), now, now)

	unknown := req
	unknown.Route = "events"
	if _, err := p.Webhook(unknown); webhookStatus(err) != http.StatusNotFound {
		t.Errorf("unknown route: %v, want 404", err)
	}
	get := req
	get.Method = http.MethodGet
	if _, err := p.Webhook(get); webhookStatus(err) != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v, want 405", err)
	}
	unsigned := req
	unsigned.Header = http.Header{}
	if _, err := p.Webhook(unsigned); webhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("unsigned: %v, want 401", err)
	}
	for _, body := range []string{`{"message_uuid":`, `[]`, `"text"`, `{"message_uuid":"u","from":"1","image":"not an object"}`} {
		bad := signed(t, "inbound", id, []byte(body), now, now)
		if _, err := p.Webhook(bad); webhookStatus(err) != http.StatusBadRequest {
			t.Errorf("malformed %s: %v, want 400", body, err)
		}
	}
	for _, body := range []string{`{}`, `{"message_uuid":"u1","text":"no sender"}`, `{"from":"447700900123","text":"no id"}`} {
		bad := signed(t, "inbound", id, []byte(body), now, now)
		if _, err := p.Webhook(bad); webhookStatus(err) != http.StatusBadRequest {
			t.Errorf("incomplete %s: %v, want 400", body, err)
		}
		bad = signed(t, "status", id, []byte(`{"status":"delivered"}`), now, now)
		if _, err := p.Webhook(bad); webhookStatus(err) != http.StatusBadRequest {
			t.Errorf("status without message_uuid: %v, want 400", err)
		}
	}
}

func TestInbound(t *testing.T) {
	p := vonage.New()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := time.Date(2026, 12, 1, 11, 59, 58, 0, time.UTC)
	cases := []struct {
		name string
		ch   workspace.Channel
		in   providersim.Inbound
		body string // instead of in, when set
		want workspace.InboundMessage
	}{
		{"sms text", workspace.SMS, providersim.Inbound{ID: "u-1", From: "+447700900123", To: number, Text: "Hello", At: at}, "",
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-1", Text: "Hello", At: at}},
		{"whatsapp with profile", workspace.WhatsApp, providersim.Inbound{ID: "u-2", Channel: "whatsapp", From: "+447700900123", To: number, Name: "Ana", Text: "Olá", At: at}, "",
			workspace.InboundMessage{From: "+447700900123", Name: "Ana", ProviderMessageID: "u-2", Text: "Olá", At: at}},
		{"rcs text", workspace.RCS, providersim.Inbound{ID: "u-3", Channel: "rcs", From: "+447700900123", To: number, Text: "rcs hi", At: at}, "",
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-3", Text: "rcs hi", At: at}},
		{"image with caption", workspace.WhatsApp, providersim.Inbound{ID: "u-4", Channel: "whatsapp", From: "+447700900123", To: number, MediaType: "image", MediaURL: "https://api-eu.nexmo.com/v3/media/abc", Caption: "my receipt", At: at}, "",
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-4", At: at,
				Media: []workspace.InboundMedia{{FileName: "image", Caption: "my receipt", Source: "Vonage"}}}},
		{"file", workspace.SMS, providersim.Inbound{}, `{"message_uuid":"u-5","from":"447700900123","channel":"mms","message_type":"file","file":{"url":"https://x/f.pdf","name":"f.pdf"}}`,
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-5", Media: []workspace.InboundMedia{{FileName: "f.pdf", Source: "Vonage"}}}},
		{"location", workspace.WhatsApp, providersim.Inbound{}, `{"message_uuid":"u-6","from":"447700900123","channel":"whatsapp","message_type":"location","location":{"lat":51.5,"long":-0.12,"name":"Office"}}`,
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-6", Text: "[location received: 51.5,-0.12]\nOffice"}},
		{"suggested reply", workspace.RCS, providersim.Inbound{}, `{"message_uuid":"u-7","from":"447700900123","channel":"rcs","message_type":"reply","reply":{"id":"r1","title":"Yes please"}}`,
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-7", Text: "Yes please"}},
		{"unknown type", workspace.WhatsApp, providersim.Inbound{}, `{"message_uuid":"u-8","from":"447700900123","channel":"whatsapp","message_type":"order","order":{}}`,
			workspace.InboundMessage{From: "+447700900123", ProviderMessageID: "u-8", Text: "[order message received]"}},
		{"alphanumeric sender kept", workspace.SMS, providersim.Inbound{}, `{"message_uuid":"u-9","from":"ACME","message_type":"text","text":"x","timestamp":"bad"}`,
			workspace.InboundMessage{From: "ACME", ProviderMessageID: "u-9", Text: "x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := identity(t, c.ch, vonage.DefaultAPIURL)
			body := []byte(c.body)
			if c.body == "" {
				body = providersim.VonageInboundPayload(c.in)
			}
			res, err := p.Webhook(signed(t, "inbound", id, body, now, now))
			if err != nil {
				t.Fatal(err)
			}
			c.want.IdentityID = id.ID
			if len(res.Messages) != 1 || !reflect.DeepEqual(withoutOpen(t, res.Messages[0]), c.want) {
				t.Fatalf("got %+v\nwant %+v", res.Messages, c.want)
			}
			if len(res.Reports) != 0 {
				t.Fatalf("reports from an inbound: %+v", res.Reports)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	p := vonage.New()
	now := time.Now()
	cases := []struct {
		name   string
		ch     workspace.Channel
		st     providersim.Status
		body   string
		want   *workspace.DeliveryReport
		reason string
	}{
		{"submitted", workspace.SMS, providersim.Status{ID: "u1", Status: "submitted", Channel: "sms", Ref: "m1", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", MessageID: "m1", Status: workspace.DeliverySent}, ""},
		{"delivered", workspace.SMS, providersim.Status{ID: "u1", Status: "delivered", Channel: "sms", Ref: "m1", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", MessageID: "m1", Status: workspace.DeliveryDelivered}, ""},
		{"read", workspace.WhatsApp, providersim.Status{ID: "u1", Status: "read", Channel: "whatsapp", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", Status: workspace.DeliveryRead}, ""},
		{"rejected invalid params", workspace.SMS, providersim.Status{ID: "u1", Status: "rejected", Channel: "sms", Ref: "m1", ErrorCode: "1020", ErrorDetail: "The value of one or more parameters is invalid.", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", MessageID: "m1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: "1020", Message: "Invalid params: The value of one or more parameters is invalid."}}, ""},
		{"rejected throttled", workspace.SMS, providersim.Status{ID: "u1", Status: "rejected", Channel: "sms", ErrorCode: "1000", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, ProviderCode: "1000", Message: "Throttled"}}, ""},
		{"undeliverable", workspace.WhatsApp, providersim.Status{ID: "u1", Status: "undeliverable", Channel: "whatsapp", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "Vonage could not reach the messaging provider"}}, ""},
		{"numeric title, no type", workspace.SMS, providersim.Status{}, `{"message_uuid":"u1","status":"rejected","channel":"sms","error":{"title":1050,"detail":"Number barred"}}`,
			&workspace.DeliveryReport{ProviderMessageID: "u1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: "1050", Message: "1050: Number barred"}}, ""},
		{"rejected without error object", workspace.SMS, providersim.Status{}, `{"message_uuid":"u1","status":"rejected"}`,
			&workspace.DeliveryReport{ProviderMessageID: "u1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: "Vonage rejected the message"}}, ""},
		{"unknown status", workspace.SMS, providersim.Status{ID: "u1", Status: "accepted", Channel: "sms", At: now}, "", nil, "ignored"},
		{"RCS attempt rejected: the SMS failover follows", workspace.RCS, providersim.Status{ID: "u1", Status: "rejected", Channel: "rcs", Ref: "m1", At: now}, "", nil, "not final"},
		{"RCS identity, SMS failover delivered", workspace.RCS, providersim.Status{ID: "u2", Status: "delivered", Channel: "sms", Ref: "m1", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u2", MessageID: "m1", Status: workspace.DeliveryDelivered}, ""},
		{"RCS identity, SMS failover rejected", workspace.RCS, providersim.Status{ID: "u2", Status: "rejected", Channel: "sms", Ref: "m1", ErrorCode: "1050", At: now}, "",
			&workspace.DeliveryReport{ProviderMessageID: "u2", MessageID: "m1", Status: workspace.DeliveryFailed,
				Error: &workspace.DeliveryError{Kind: workspace.DeliveryContent, ProviderCode: "1050", Message: "Number barred"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := identity(t, c.ch, vonage.DefaultAPIURL)
			body := []byte(c.body)
			if c.body == "" {
				body = providersim.VonageStatusPayload(c.st)
			}
			res, err := p.Webhook(signed(t, "status", id, body, now, now))
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if len(res.Reports) != 0 {
					t.Fatalf("%s, got %+v", c.reason, res.Reports)
				}
				return
			}
			c.want.IdentityID = id.ID
			if len(res.Reports) != 1 || !reflect.DeepEqual(res.Reports[0], *c.want) {
				t.Fatalf("got %+v (%+v)\nwant %+v (%+v)", res.Reports, errOf(res.Reports), *c.want, c.want.Error)
			}
		})
	}
}

func errOf(rs []workspace.DeliveryReport) *workspace.DeliveryError {
	if len(rs) == 0 {
		return nil
	}
	return rs[0].Error
}

func TestCheckSettings(t *testing.T) {
	p := vonage.New()
	_, pemText := testKey(t)
	base := func() map[string]string {
		return map[string]string{"applicationId": appID, "privateKey": pemText, "signatureSecret": secret}
	}
	got, err := p.CheckSettings(workspace.SMS, base())
	if err != nil {
		t.Fatal(err)
	}
	if got["apiUrl"] != vonage.DefaultAPIURL {
		t.Errorf("apiUrl default = %q", got["apiUrl"])
	}
	escaped := base()
	escaped["privateKey"] = strings.ReplaceAll(pemText, "\n", `\n`)
	if _, err := p.CheckSettings(workspace.RCS, escaped); err != nil {
		t.Errorf("a key with escaped line breaks: %v", err)
	}
	for _, c := range []struct {
		key, value, wantKey string
		ch                  workspace.Channel
	}{
		{"applicationId", "", "applicationId", workspace.SMS},
		{"privateKey", "", "privateKey", workspace.SMS},
		{"signatureSecret", " ", "signatureSecret", workspace.SMS},
		{"privateKey", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "privateKey", workspace.SMS},
		{"apiUrl", "api.nexmo.com", "apiUrl", workspace.SMS},
		{"apiUrl", "ftp://api.nexmo.com", "apiUrl", workspace.SMS},
		{"apiUrl", "https://u:p@api.nexmo.com", "apiUrl", workspace.SMS},
		{"", "", "channel", workspace.Email},
	} {
		s := base()
		if c.key != "" {
			s[c.key] = c.value
		}
		_, err := p.CheckSettings(c.ch, s)
		var se *channel.SettingsError
		if !errors.As(err, &se) || se.Key != c.wantKey {
			t.Errorf("%s=%q on %s: %v, want a SettingsError on %s", c.key, c.value, c.ch, err, c.wantKey)
		}
	}
	if !p.Secret("privateKey") || !p.Secret("signatureSecret") || p.Secret("applicationId") || p.Secret("apiUrl") {
		t.Error("Secret reports the wrong keys")
	}
}

// sim is a simulator that knows the test key's public half, on loopback.
func sim(t *testing.T) (*providersim.Sim, *httptest.Server) {
	k, _ := testKey(t)
	s := providersim.New()
	s.AddVonage(providersim.VonageApp{ApplicationID: appID, PublicKey: &k.PublicKey, APIKey: "abcd1234", SignatureSecret: secret})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); srv.Close() })
	return s, srv
}

func outgoing(id *workspace.Identity, text string) workspace.Outgoing {
	return workspace.Outgoing{Identity: id, To: "+447700900123", Message: &workspace.Message{ID: "msg-1", Text: text}}
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
	p := vonage.New()
	ctx := context.Background()

	t.Run("sms", func(t *testing.T) {
		id := identity(t, workspace.SMS, srv.URL)
		got, err := p.Send(ctx, outgoing(id, "Hello"))
		if err != nil {
			t.Fatal(err)
		}
		rec := s.Received()
		last := rec[len(rec)-1]
		if got != last.ID || last.Provider != providersim.Vonage || last.Account != appID {
			t.Fatalf("returned %q, sim recorded %+v", got, last)
		}
		jsonEqual(t, last.Body, `{"to":"447700900123","from":"447700900001","channel":"sms","message_type":"text","text":"Hello","client_ref":"msg-1"}`)
	})
	t.Run("whatsapp text", func(t *testing.T) {
		id := identity(t, workspace.WhatsApp, srv.URL)
		if _, err := p.Send(ctx, outgoing(id, "Hi")); err != nil {
			t.Fatal(err)
		}
		rec := s.Received()
		jsonEqual(t, rec[len(rec)-1].Body, `{"to":"447700900123","from":"447700900001","channel":"whatsapp","message_type":"text","text":"Hi","client_ref":"msg-1"}`)
	})
	t.Run("whatsapp template", func(t *testing.T) {
		id := identity(t, workspace.WhatsApp, srv.URL)
		out := outgoing(id, "Your order 42 has shipped")
		out.Message.Template = &workspace.TemplateUse{TemplateID: "t1", Name: "order_update", Language: "en_GB", Parameters: []string{"Ana", "42"}}
		if _, err := p.Send(ctx, out); err != nil {
			t.Fatal(err)
		}
		rec := s.Received()
		last := rec[len(rec)-1]
		jsonEqual(t, last.Body, `{"to":"447700900123","from":"447700900001","channel":"whatsapp","message_type":"template",
			"template":{"name":"order_update","parameters":["Ana","42"]},"whatsapp":{"policy":"deterministic","locale":"en_GB"},"client_ref":"msg-1"}`)
		if last.Template == nil || last.Template.Language != "en_GB" {
			t.Fatalf("sim recorded %+v", last.Template)
		}
	})
	t.Run("rcs with sms failover", func(t *testing.T) {
		id := identity(t, workspace.RCS, srv.URL)
		id.Settings["rcsSenderId"] = "AcmeAgent"
		if _, err := p.Send(ctx, outgoing(id, "Hi by RCS")); err != nil {
			t.Fatal(err)
		}
		rec := s.Received()
		last := rec[len(rec)-1]
		jsonEqual(t, last.Body, `{"to":"447700900123","from":"AcmeAgent","channel":"rcs","message_type":"text","text":"Hi by RCS","client_ref":"msg-1",
			"failover":[{"to":"447700900123","from":"447700900001","channel":"sms","message_type":"text","text":"Hi by RCS","client_ref":"msg-1"}]}`)
		if len(last.Failover) != 1 || last.Failover[0].Channel != "sms" {
			t.Fatalf("failover %+v", last.Failover)
		}
	})
	t.Run("empty text", func(t *testing.T) {
		if de := deliveryError(t, sendErr(p, identity(t, workspace.SMS, srv.URL), "  ")); de.Kind != workspace.DeliveryContent {
			t.Fatalf("%v", de)
		}
	})
}

func sendErr(p *vonage.Provider, id *workspace.Identity, text string) error {
	_, err := p.Send(context.Background(), outgoing(id, text))
	return err
}

func TestSendFailures(t *testing.T) {
	s, srv := sim(t)
	p := &vonage.Provider{Timeout: 300 * time.Millisecond}
	id := identity(t, workspace.SMS, srv.URL)

	cases := []struct {
		name  string
		fault providersim.Fault
		kind  workspace.DeliveryErrorKind
		code  string
	}{
		{"5xx", providersim.ServerError, workspace.DeliveryTemporary, "1030"},
		{"429", providersim.RateLimited, workspace.DeliveryTemporary, "1000"},
		{"timeout", providersim.Hang, workspace.DeliveryTemporary, ""},
		{"invalid number", providersim.InvalidNumber, workspace.DeliveryContent, "1020"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.Attempts()
			s.Fail("+447700900123", c.fault, 1)
			de := deliveryError(t, sendErr(p, id, "Hello"))
			if de.Kind != c.kind || de.ProviderCode != c.code {
				t.Fatalf("%+v, want %s %q", de, c.kind, c.code)
			}
			if n := s.Attempts() - before; n != 1 {
				t.Fatalf("%d attempts: a Send must not retry", n)
			}
		})
	}
	t.Run("timeout says so", func(t *testing.T) {
		s.Fail("", providersim.Hang, 1)
		if de := deliveryError(t, sendErr(p, id, "Hello")); !strings.Contains(de.Message, "in time") {
			t.Fatalf("%v", de)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(other)
		bad := identity(t, workspace.SMS, srv.URL)
		bad.Settings["privateKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		de := deliveryError(t, sendErr(p, bad, "Hello"))
		if de.Kind != workspace.DeliveryTemporary || !strings.Contains(de.Message, "credentials") {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("network error", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		if de := deliveryError(t, sendErr(p, identity(t, workspace.SMS, dead.URL), "Hello")); de.Kind != workspace.DeliveryTemporary {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s.Fail("", providersim.Hang, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := (&vonage.Provider{}).Send(ctx, outgoing(id, "Hello"))
		if de := deliveryError(t, err); de.Kind != workspace.DeliveryTemporary {
			t.Fatalf("%+v", de)
		}
	})
}

// TestRoundTrip sends through the simulator, which posts signed receipts and an inbound
// message back to a webhook receiver running the adapter.
func TestRoundTrip(t *testing.T) {
	k, _ := testKey(t)
	p := vonage.New()
	recv := providersim.NewReceiver(p)
	hooks := httptest.NewServer(recv)
	defer hooks.Close()
	s := providersim.New()
	api := httptest.NewServer(s.Handler())
	defer func() { s.Close(); api.Close() }()

	sms := identity(t, workspace.SMS, api.URL)
	rcs := identity(t, workspace.RCS, api.URL)
	recv.Add(sms)
	recv.Add(rcs)
	// One application per identity here, so that each has its own webhook URLs.
	s.AddVonage(providersim.VonageApp{ApplicationID: appID, PublicKey: &k.PublicKey, APIKey: "abcd1234", SignatureSecret: secret,
		InboundURL: hooks.URL + "/webhooks/vonage/" + sms.ID + "/inbound", StatusURL: hooks.URL + "/webhooks/vonage/" + sms.ID + "/status"})
	s.SetAutoReceipts(true)

	got, err := p.Send(context.Background(), outgoing(sms, "Hello"))
	if err != nil {
		t.Fatal(err)
	}
	reports, err := recv.WaitReports(2, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %+v, errors %v", err, reports, recv.Errors())
	}
	for i, want := range []workspace.DeliveryStatus{workspace.DeliverySent, workspace.DeliveryDelivered} {
		if r := reports[i]; r.Status != want || r.ProviderMessageID != got || r.MessageID != "msg-1" || r.IdentityID != sms.ID {
			t.Errorf("report %d: %+v, want %s", i, r, want)
		}
	}

	code, err := s.VonageInbound(context.Background(), appID, providersim.Inbound{From: "+447700900123", To: number, Text: "Thanks!"})
	if err != nil || code != http.StatusOK {
		t.Fatalf("inbound: %d %v (%v)", code, err, recv.Errors())
	}
	if m := recv.Messages(); len(m) != 1 || m[0].Text != "Thanks!" || m[0].From != "+447700900123" || m[0].IdentityID != sms.ID {
		t.Fatalf("messages %+v", m)
	}

	// An RCS send to a handset without RCS: Vonage rejects the RCS attempt and delivers the
	// SMS failover; the desk sees SENT then DELIVERED, never FAILED.
	s.AddVonage(providersim.VonageApp{ApplicationID: appID, PublicKey: &k.PublicKey, APIKey: "abcd1234", SignatureSecret: secret,
		StatusURL: hooks.URL + "/webhooks/vonage/" + rcs.ID + "/status"})
	s.NoRCS("+447700900999")
	out := outgoing(rcs, "RCS or SMS")
	out.To = "+447700900999"
	out.Message.ID = "msg-2"
	if _, err := p.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitReceipts(2+4, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	var rcsReports []workspace.DeliveryReport
	for _, r := range recv.Reports() {
		if r.MessageID == "msg-2" {
			rcsReports = append(rcsReports, r)
		}
	}
	var statuses []workspace.DeliveryStatus
	for _, r := range rcsReports {
		statuses = append(statuses, r.Status)
	}
	if want := []workspace.DeliveryStatus{workspace.DeliverySent, workspace.DeliverySent, workspace.DeliveryDelivered}; !reflect.DeepEqual(statuses, want) {
		t.Fatalf("RCS failover statuses %v, want %v", statuses, want)
	}
}
