package providersim_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/channel/twilio"
	"github.com/agentdesk/agentdesk/channel/vonage"
	"github.com/agentdesk/agentdesk/channel/whatsapp"
	"github.com/agentdesk/agentdesk/workspace"
)

// The adapters fetch inbound media from the simulator as they would from the providers:
// each one's credentials, the sim refusing requests without them, failures in words.

const (
	mTwilioSID = "AC00000000000000000000000000000001"
	mWANumber  = "1234567890"
	mVonageApp = "media-app"
)

type mediaEnv struct {
	sim          *providersim.Sim
	recv         *providersim.Receiver
	api          string
	twilio, wa   *workspace.Identity
	vonage       *workspace.Identity
	vonageKey    *rsa.PrivateKey
	waToken      string
	twilioToken  string
	vonageSecret string
}

func startMedia(t *testing.T) *mediaEnv {
	t.Helper()
	e := &mediaEnv{sim: providersim.New(), recv: providersim.NewReceiver(twilio.New(), whatsapp.New(), vonage.New()),
		waToken: "wa-token", twilioToken: "tw-token", vonageSecret: "vn-secret"}
	api := httptest.NewServer(e.sim.Handler())
	hooks := httptest.NewServer(e.recv)
	t.Cleanup(func() { e.sim.Close(); api.Close(); hooks.Close() })
	e.api, e.sim.BaseURL = api.URL, api.URL

	e.twilio = &workspace.Identity{ID: "tw", Channel: workspace.SMS, Provider: twilio.Name,
		Settings: map[string]string{"apiUrl": api.URL, "accountSid": mTwilioSID, "authToken": e.twilioToken}}
	e.sim.AddTwilio(providersim.TwilioAccount{AccountSID: mTwilioSID, AuthToken: e.twilioToken, InboundURL: hooks.URL + "/webhooks/twilio/tw/inbound"})

	e.wa = &workspace.Identity{ID: "wa", Channel: workspace.WhatsApp, Provider: whatsapp.Name,
		Settings: map[string]string{"apiUrl": api.URL, "phoneNumberId": mWANumber, "accessToken": e.waToken, "appSecret": "as", "verifyToken": "vt"}}
	e.sim.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: mWANumber, DisplayPhoneNumber: "15550001111", AccessToken: e.waToken,
		AppSecret: "as", WebhookURL: hooks.URL + "/webhooks/whatsapp-cloud/wa"})

	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.vonageKey = k
	e.vonage = &workspace.Identity{ID: "vn", Channel: workspace.SMS, Provider: vonage.Name,
		Settings: map[string]string{"apiUrl": api.URL, "applicationId": mVonageApp, "signatureSecret": e.vonageSecret,
			"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))}}
	e.sim.AddVonage(providersim.VonageApp{ApplicationID: mVonageApp, PublicKey: &k.PublicKey, SignatureSecret: e.vonageSecret,
		InboundURL: hooks.URL + "/webhooks/vonage/vn/inbound"})
	for _, id := range []*workspace.Identity{e.twilio, e.wa, e.vonage} {
		e.recv.Add(id)
	}
	return e
}

// receive sends one inbound message with files and returns what the adapter parsed.
func (e *mediaEnv) receive(t *testing.T, provider string, in providersim.Inbound) workspace.InboundMessage {
	t.Helper()
	before := len(e.recv.Messages())
	var status int
	var err error
	in.From = "+447700900555"
	switch provider {
	case "twilio":
		status, err = e.sim.TwilioInbound(t.Context(), mTwilioSID, in)
	case "whatsapp":
		status, err = e.sim.WhatsAppInbound(t.Context(), mWANumber, in)
	default:
		status, err = e.sim.VonageInbound(t.Context(), mVonageApp, in)
	}
	msgs := e.recv.Messages()
	if err != nil || status != http.StatusOK || len(msgs) != before+1 {
		t.Fatalf("%s inbound: %d %v %v", provider, status, err, e.recv.Errors())
	}
	return msgs[len(msgs)-1]
}

func read(t *testing.T, md workspace.InboundMedia) ([]byte, error) {
	t.Helper()
	rc, err := md.Open(t.Context())
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

var (
	png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 5000)...)
	pdf = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 5000)...)
)

func TestMediaFetched(t *testing.T) {
	e := startMedia(t)
	t.Run("twilio: two files, basic auth, a redirect to the CDN that drops the credentials", func(t *testing.T) {
		m := e.receive(t, "twilio", providersim.Inbound{Text: "see", Files: []providersim.File{
			{ContentType: "image/png", Body: png}, {ContentType: "application/pdf", Body: pdf}}})
		if m.Text != "see" || len(m.Media) != 2 || m.Media[0].ContentType != "image/png" || m.Media[1].FileName != "file" {
			t.Fatalf("parsed %+v", m)
		}
		for i, want := range [][]byte{png, pdf} {
			got, err := read(t, m.Media[i])
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("file %d: %d bytes, %v", i, len(got), err)
			}
		}
		if n := e.sim.MediaLeaks(); n != 0 {
			t.Fatalf("the credentials followed the redirect to the CDN %d times", n)
		}
	})
	t.Run("whatsapp: the media ID, then its url, with the token", func(t *testing.T) {
		m := e.receive(t, "whatsapp", providersim.Inbound{Caption: "the invoice", Files: []providersim.File{
			{ContentType: "application/pdf", FileName: "invoice.pdf", Body: pdf}}})
		if m.Text != "" || len(m.Media) != 1 || m.Media[0].FileName != "invoice.pdf" || m.Media[0].Caption != "the invoice" {
			t.Fatalf("parsed %+v", m)
		}
		if got, err := read(t, m.Media[0]); err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
	})
	t.Run("vonage: the url, with the application JWT", func(t *testing.T) {
		m := e.receive(t, "vonage", providersim.Inbound{Caption: "c", Files: []providersim.File{{ContentType: "image/png", Body: png}}})
		if len(m.Media) != 1 || m.Media[0].FileName != "image" || m.Media[0].Caption != "c" {
			t.Fatalf("parsed %+v", m)
		}
		if got, err := read(t, m.Media[0]); err != nil || !bytes.Equal(got, png) {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
	})
}

func TestMediaRefused(t *testing.T) {
	e := startMedia(t)
	file := []providersim.File{{ContentType: "image/png", Body: png}}
	fails := func(t *testing.T, md workspace.InboundMedia, want string) {
		t.Helper()
		_, err := read(t, md)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error saying %q", err, want)
		}
		for _, secret := range []string{e.waToken, e.twilioToken, e.api} {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error shows %q: %v", secret, err)
			}
		}
	}
	for _, p := range []string{"twilio", "whatsapp", "vonage"} {
		t.Run(p+": the provider fails", func(t *testing.T) {
			m := e.receive(t, p, providersim.Inbound{Files: file})
			e.sim.MediaFault(http.StatusInternalServerError, 1)
			fails(t, m.Media[0], "answered HTTP 500")
			e.sim.MediaFault(http.StatusNotFound, 1)
			fails(t, m.Media[0], "no longer has the file (HTTP 404)")
			if _, err := read(t, m.Media[0]); err != nil {
				t.Fatalf("after the faults: %v", err)
			}
		})
	}
	t.Run("whatsapp: a token the provider no longer takes", func(t *testing.T) {
		m := e.receive(t, "whatsapp", providersim.Inbound{Files: file})
		e.wa.Settings["accessToken"] = "revoked"
		defer func() { e.wa.Settings["accessToken"] = e.waToken }()
		fails(t, m.Media[0], "WhatsApp refused the identity's credentials (HTTP 401)")
	})
	t.Run("vonage: another application key", func(t *testing.T) {
		m := e.receive(t, "vonage", providersim.Inbound{Files: file})
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		old := e.vonage.Settings["privateKey"]
		e.vonage.Settings["privateKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
		defer func() { e.vonage.Settings["privateKey"] = old }()
		fails(t, m.Media[0], "Vonage refused the identity's credentials (HTTP 401)")
	})
	t.Run("twilio: another auth token", func(t *testing.T) {
		m := e.receive(t, "twilio", providersim.Inbound{Files: file})
		e.twilio.Settings["authToken"] = "wrong"
		defer func() { e.twilio.Settings["authToken"] = e.twilioToken }()
		fails(t, m.Media[0], "Twilio refused the identity's credentials (HTTP 401)")
	})
	t.Run("plain http when the API is https: refused before any request", func(t *testing.T) {
		before := e.sim.MediaFetches()
		for _, c := range []struct {
			p  string
			id *workspace.Identity
		}{{"twilio", e.twilio}, {"vonage", e.vonage}} {
			m := e.receive(t, c.p, providersim.Inbound{Files: file})
			c.id.Settings["apiUrl"] = "https://api.example"
			fails(t, m.Media[0], "https only")
			c.id.Settings["apiUrl"] = e.api
		}
		if n := e.sim.MediaFetches() - before; n != 0 {
			t.Fatalf("%d requests went out over plain http", n)
		}
	})
	t.Run("a cancelled download", func(t *testing.T) {
		m := e.receive(t, "whatsapp", providersim.Inbound{Files: file})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := m.Media[0].Open(ctx); err == nil {
			t.Fatal("a cancelled download succeeded")
		}
	})
}
