package providersim_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/vonage"
	"github.com/agentdesk/agentdesk/workspace"
)

func post(t *testing.T, rawURL, contentType, auth string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

func rs256(t *testing.T, k *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVonageAuth(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := providersim.New()
	s.AddVonage(providersim.VonageApp{ApplicationID: "app", PublicKey: &k.PublicKey})
	s.AddVonage(providersim.VonageApp{ApplicationID: "shape-only"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	now := time.Now()
	good := jwt.MapClaims{"application_id": "app", "iat": now.Unix(), "jti": "j", "exp": now.Add(15 * time.Minute).Unix()}
	body := `{"to":"447700900123","from":"447700900001","channel":"sms","message_type":"text","text":"hi"}`
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString([]byte("k"))
	for _, c := range []struct {
		name, auth, body string
		want             int
	}{
		{"valid", "Bearer " + rs256(t, k, good), body, http.StatusAccepted},
		{"shape only", "Bearer " + rs256(t, other, jwt.MapClaims{"application_id": "shape-only", "iat": now.Unix(), "jti": "j", "exp": now.Add(time.Minute).Unix()}), body, http.StatusAccepted},
		{"no token", "", body, http.StatusUnauthorized},
		{"another key", "Bearer " + rs256(t, other, good), body, http.StatusUnauthorized},
		{"HS256", "Bearer " + hs, body, http.StatusUnauthorized},
		{"expired", "Bearer " + rs256(t, k, jwt.MapClaims{"application_id": "app", "iat": now.Add(-time.Hour).Unix(), "jti": "j", "exp": now.Add(-30 * time.Minute).Unix()}), body, http.StatusUnauthorized},
		{"no jti", "Bearer " + rs256(t, k, jwt.MapClaims{"application_id": "app", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), body, http.StatusUnauthorized},
		{"unknown application", "Bearer " + rs256(t, k, jwt.MapClaims{"application_id": "x", "iat": now.Unix(), "jti": "j", "exp": now.Add(time.Minute).Unix()}), body, http.StatusUnauthorized},
		{"to with +", "Bearer " + rs256(t, k, good), strings.Replace(body, `"447700900123"`, `"+447700900123"`, 1), http.StatusUnprocessableEntity},
		{"no text", "Bearer " + rs256(t, k, good), strings.Replace(body, `"hi"`, `""`, 1), http.StatusUnprocessableEntity},
		{"template on sms", "Bearer " + rs256(t, k, good), `{"to":"1","from":"2","channel":"sms","message_type":"template","template":{"name":"x"}}`, http.StatusUnprocessableEntity},
		{"bad failover", "Bearer " + rs256(t, k, good), strings.Replace(body, `"text":"hi"`, `"text":"hi","failover":[{"to":"x","channel":"sms"}]`, 1), http.StatusUnprocessableEntity},
	} {
		if code, resp := post(t, srv.URL+"/v1/messages", "application/json", c.auth, c.body); code != c.want {
			t.Errorf("%s: %d %v, want %d", c.name, code, resp, c.want)
		}
	}
}

func TestTwilioAndWhatsAppChecks(t *testing.T) {
	s := providersim.New()
	s.AddTwilio(providersim.TwilioAccount{AccountSID: "AC1", AuthToken: "tok"})
	s.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: "123", AccessToken: "wa"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	twURL := srv.URL + "/2010-04-01/Accounts/AC1/Messages.json"
	form := url.Values{"To": {"+447700900123"}, "From": {"+447700900001"}, "Body": {"hi"}}
	basic := func(user, pass string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	if code, resp := post(t, twURL, "application/x-www-form-urlencoded", basic("AC1", "tok"), form.Encode()); code != http.StatusCreated || !strings.HasPrefix(resp["sid"].(string), "SM") {
		t.Errorf("valid: %d %v", code, resp)
	}
	if code, resp := post(t, twURL, "application/x-www-form-urlencoded", basic("AC1", "no"), form.Encode()); code != http.StatusUnauthorized || resp["code"] != float64(20003) {
		t.Errorf("wrong token: %d %v", code, resp)
	}
	noBody := url.Values{"To": {"+447700900123"}, "From": {"+447700900001"}}
	if code, resp := post(t, twURL, "application/x-www-form-urlencoded", basic("AC1", "tok"), noBody.Encode()); code != http.StatusBadRequest || resp["code"] != float64(21602) {
		t.Errorf("no body: %d %v", code, resp)
	}

	waURL := srv.URL + "/v23.0/123/messages"
	text := `{"messaging_product":"whatsapp","to":"447700900123","type":"text","text":{"body":"hi"}}`
	if code, resp := post(t, waURL, "application/json", "Bearer wa", text); code != http.StatusOK {
		t.Errorf("valid: %d %v", code, resp)
	}
	if code, resp := post(t, waURL, "application/json", "Bearer other", text); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %v", code, resp)
	}
	if code, resp := post(t, waURL, "application/json", "Bearer wa", `{"messaging_product":"whatsapp","to":"1","type":"image"}`); code != http.StatusBadRequest {
		t.Errorf("unsupported type: %d %v", code, resp)
	}
	if code, resp := post(t, waURL, "application/json", "Bearer wa", strings.Replace(text, `"hi"`, `"`+strings.Repeat("x", 4097)+`"`, 1)); code != http.StatusBadRequest {
		t.Errorf("over 4096 characters: %d %v", code, resp)
	}
	if n := len(s.Received()); n != 2 {
		t.Errorf("%d recorded, want the 2 accepted", n)
	}
}

func TestFaults(t *testing.T) {
	s := providersim.New()
	s.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: "123", AccessToken: "wa"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	send := func(to string) int {
		code, _ := post(t, srv.URL+"/v23.0/123/messages", "application/json", "Bearer wa",
			`{"messaging_product":"whatsapp","to":"`+to+`","type":"text","text":{"body":"hi"}}`)
		return code
	}
	s.Fail("+447700900123", providersim.ServerError, 2)
	if a, b, c, d := send("447700900123"), send("447700900999"), send("447700900123"), send("447700900123"); a != 500 || b != 200 || c != 500 || d != 200 {
		t.Fatalf("next-2 fault: %d %d %d %d", a, b, c, d)
	}
	s.Fail("", providersim.RateLimited, 0)
	if a, b := send("1"), send("2"); a != 429 || b != 429 {
		t.Fatalf("global fault: %d %d", a, b)
	}
	s.ClearFaults()
	if a := send("1"); a != 200 {
		t.Fatalf("after ClearFaults: %d", a)
	}
	if s.Attempts() != 7 {
		t.Fatalf("Attempts = %d", s.Attempts())
	}

	// A hanging send is released by Close.
	s.Fail("", providersim.Hang, 1)
	done := make(chan int)
	go func() { done <- send("1") }()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release a hanging send")
	}
}

func TestWaitAndReceipts(t *testing.T) {
	s := providersim.New()
	if _, err := s.WaitFor(1, 20*time.Millisecond); !errors.Is(err, providersim.ErrTimeout) {
		t.Fatalf("WaitFor: %v", err)
	}
	if _, err := s.Receipt(context.Background(), "nope", "delivered", ""); err == nil {
		t.Fatal("a receipt for an unknown message")
	}
	if _, err := s.VonageInbound(context.Background(), "nope", providersim.Inbound{}); err == nil {
		t.Fatal("an inbound for an unknown application")
	}
	recv := providersim.NewReceiver()
	srv := httptest.NewServer(recv)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/webhooks/vonage/unknown/inbound", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown identity: %d", resp.StatusCode)
	}
}

func TestReceiverCapsBodies(t *testing.T) {
	recv := providersim.NewReceiver(vonage.New())
	recv.Add(&workspace.Identity{ID: "v1", Provider: vonage.Name, Channel: workspace.SMS, Settings: map[string]string{"signatureSecret": "s"}})
	srv := httptest.NewServer(recv)
	defer srv.Close()
	for _, c := range []struct {
		size int
		want int
	}{{1 << 10, http.StatusBadRequest}, {1<<20 + 1, http.StatusRequestEntityTooLarge}} {
		body := []byte(`{"text":"` + strings.Repeat("x", c.size) + `"}`)
		req, err := providersim.VonageRequest(srv.URL+"/webhooks/vonage/v1/inbound", "s", body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("a %d-byte body: %d, want %d", len(body), resp.StatusCode, c.want)
		}
	}
}
