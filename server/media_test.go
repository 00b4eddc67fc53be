package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/clamd/clamdtest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// Inbound media (issue 12 §6): the files contacts send by MMS (Twilio), WhatsApp and Vonage
// are fetched from the provider simulator with each identity's credentials, stored, scanned,
// and shown to the agent with the message; what cannot be kept is said in the transcript,
// and the message itself is never lost.

// send posts one signed inbound webhook from contact through the provider's simulator.
func (e *chanEnv) send(provider, contact string, in providersim.Inbound) {
	e.t.Helper()
	in.From = contact
	var status int
	var err error
	switch provider {
	case "vonage":
		in.To = vonageFrom
		status, err = e.sim.VonageInbound(e.t.Context(), vonageApp, in)
	case "twilio":
		in.To = twilioFrom
		status, err = e.sim.TwilioInbound(e.t.Context(), twilioSID, in)
	default:
		status, err = e.sim.WhatsAppInbound(e.t.Context(), waNumberID, in)
	}
	if err != nil || status != http.StatusOK {
		e.t.Fatalf("%s inbound: %d %v", provider, status, err)
	}
}

// transcript is the interaction's messages as alice reads them, attachments included.
func (e *chanEnv) transcript(ix string) []any {
	e.t.Helper()
	r := post(e.t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { transcript(first: 100) { edges { node {
		id from text attachments { id fileName contentType size url scan threat } } } } } }`, map[string]any{"i": ix})
	if len(r.Errors) > 0 {
		e.t.Fatalf("transcript: %+v", r.Errors)
	}
	var out []any
	for _, edge := range dig(r.Data, "interaction.transcript.edges").([]any) {
		out = append(out, dig(edge, "node"))
	}
	return out
}

// last is the transcript's last message from the contact, and the SYSTEM notes after it.
func (e *chanEnv) last(ix string) (msg map[string]any, notes []string) {
	e.t.Helper()
	ms := e.transcript(ix)
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i].(map[string]any)
		switch m["from"] {
		case "CONTACT":
			for _, n := range ms[i+1:] {
				if dig(n, "from") == "SYSTEM" {
					notes = append(notes, dig(n, "text").(string))
				}
			}
			return m, notes
		}
	}
	e.t.Fatalf("no contact message in %v", ms)
	return nil, nil
}

func attachments(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, a := range m["attachments"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return out
}

// downloaded checks that alice downloads exactly want from the attachment.
func (e *chanEnv) downloaded(a map[string]any, want []byte) {
	e.t.Helper()
	res, body := fetch(e.t, e.m, e.alice, a["url"].(string))
	if res.StatusCode != 200 || !bytes.Equal(body, want) || res.Header.Get("Content-Type") != a["contentType"] {
		e.t.Fatalf("alice downloaded %s: %d %q, %d bytes (want %d)", a["fileName"], res.StatusCode, res.Header.Get("Content-Type"), len(body), len(want))
	}
}

var pdfBytes = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("agentdesk "), 3000)...)

func TestInboundMediaMMS(t *testing.T) {
	e := startChannels(t)
	const contact = "+447700900301"
	ix := e.active("twilio", contact)
	photo := pngBytes(100 << 10)
	e.send("twilio", contact, providersim.Inbound{Text: "the damage, see photo", Files: []providersim.File{{ContentType: "image/png", Body: photo}}})
	m, notes := e.last(ix)
	as := attachments(m)
	if m["text"] != "the damage, see photo" || len(as) != 1 || len(notes) != 0 {
		t.Fatalf("the MMS: %v, notes %q", m, notes)
	}
	if a := as[0]; a["fileName"] != "image.png" || a["contentType"] != "image/png" || a["size"] != float64(len(photo)) || a["scan"] != "UNSCANNED" {
		t.Fatalf("the attachment: %v", a)
	}
	e.downloaded(as[0], photo)
	if n := e.sim.MediaLeaks(); n != 0 {
		t.Fatalf("Twilio's credentials reached its CDN %d times", n)
	}

	t.Run("two files, no text", func(t *testing.T) {
		e.send("twilio", contact, providersim.Inbound{Files: []providersim.File{
			{ContentType: "image/png", Body: pngBytes(10)}, {ContentType: "application/pdf", Body: pdfBytes}}})
		m, _ := e.last(ix)
		as := attachments(m)
		if m["text"] != "" || len(as) != 2 || as[0]["contentType"] != "image/png" || as[1]["fileName"] != "file.pdf" || as[1]["contentType"] != "application/pdf" {
			t.Fatalf("%v", m)
		}
		e.downloaded(as[1], pdfBytes)
	})
	t.Run("an executable is not kept, and the transcript says so", func(t *testing.T) {
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
		e.send("twilio", contact, providersim.Inbound{Text: "my tool", Files: []providersim.File{{ContentType: "application/octet-stream", Body: exe}}})
		m, notes := e.last(ix)
		if m["text"] != "my tool" || len(attachments(m)) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "not kept: files of this type are not taken") {
			t.Fatalf("%v, notes %q", m, notes)
		}
	})
}

func TestInboundMediaWhatsApp(t *testing.T) {
	e := startChannels(t)
	const contact = "+447700900302"
	ix := e.active("whatsapp", contact)
	photo := pngBytes(50 << 10)
	e.send("whatsapp", contact, providersim.Inbound{Caption: "my receipt", Files: []providersim.File{{ContentType: "image/png", Body: photo}}})
	m, notes := e.last(ix)
	as := attachments(m)
	if m["text"] != "my receipt" || len(as) != 1 || as[0]["fileName"] != "image.png" || as[0]["contentType"] != "image/png" || len(notes) != 0 {
		t.Fatalf("the image: %v, notes %q", m, notes)
	}
	e.downloaded(as[0], photo)

	e.send("whatsapp", contact, providersim.Inbound{Files: []providersim.File{{ContentType: "application/pdf", FileName: "invoice 42.pdf", Body: pdfBytes}}})
	m, _ = e.last(ix)
	as = attachments(m)
	if m["text"] != "" || len(as) != 1 || as[0]["fileName"] != "invoice 42.pdf" || as[0]["contentType"] != "application/pdf" {
		t.Fatalf("the document: %v", m)
	}
	e.downloaded(as[0], pdfBytes)

	t.Run("over 25 MB: the message is kept, the file is not", func(t *testing.T) {
		big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{' '}, int(workspace.MaxAttachmentBytes))...)
		e.send("whatsapp", contact, providersim.Inbound{Caption: "the big scan", Files: []providersim.File{{ContentType: "application/pdf", FileName: "scan.pdf", Body: big}}})
		m, notes := e.last(ix)
		if m["text"] != "the big scan" || len(attachments(m)) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "scan.pdf") || !strings.Contains(notes[0], "over the 25 MB limit") {
			t.Fatalf("%v, notes %q", m, notes)
		}
	})
}

func TestInboundMediaVonage(t *testing.T) {
	e := startChannels(t)
	const contact = "+447700900303"
	ix := e.active("vonage", contact)
	photo := pngBytes(20 << 10)
	e.send("vonage", contact, providersim.Inbound{Caption: "front door", Files: []providersim.File{{ContentType: "image/png", Body: photo}}})
	m, notes := e.last(ix)
	as := attachments(m)
	if m["text"] != "front door" || len(as) != 1 || as[0]["fileName"] != "image.png" || as[0]["contentType"] != "image/png" || len(notes) != 0 {
		t.Fatalf("%v, notes %q", m, notes)
	}
	e.downloaded(as[0], photo)
}

// TestInboundMediaEICAR: with Debian's clamd, EICAR by MMS and by WhatsApp is kept as an
// INFECTED attachment of the stored message, never served, and the transcript says so (E5).
func TestInboundMediaEICAR(t *testing.T) {
	av := clamdtest.Start(t, clamdtest.Options{})
	e := startChannels(t, func(c *server.Config) { c.ClamdAddr = av.Addr })
	for i, p := range []string{"twilio", "whatsapp"} {
		t.Run(p, func(t *testing.T) {
			contact := fmt.Sprintf("+44770090031%d", i)
			ix := e.active(p, contact)
			in := providersim.Inbound{Files: []providersim.File{{ContentType: "text/plain", FileName: "invoice.txt", Body: clamdtest.EICAR}}}
			if p == "twilio" {
				in.Text = "please pay"
			} else {
				in.Caption = "please pay"
			}
			e.send(p, contact, in)
			m, notes := e.last(ix)
			as := attachments(m)
			if m["text"] != "please pay" || len(as) != 1 || as[0]["scan"] != "INFECTED" || !strings.HasPrefix(fmt.Sprint(as[0]["threat"]), clamdtest.EICARSignature) {
				t.Fatalf("%v", m)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], "contains malware") {
				t.Fatalf("notes %q", notes)
			}
			if res, _ := fetch(t, e.m, e.alice, as[0]["url"].(string)); res.StatusCode != 403 {
				t.Fatalf("EICAR was served: %d", res.StatusCode)
			}
			// A clean file passes as CLEAN.
			e.send(p, contact, providersim.Inbound{Files: []providersim.File{{ContentType: "image/png", Body: pngBytes(10)}}})
			if m, _ := e.last(ix); len(attachments(m)) != 1 || attachments(m)[0]["scan"] != "CLEAN" {
				t.Fatalf("a clean file: %v", m)
			}
		})
	}
}

// TestInboundMediaFetchFails: a file the provider does not give (an error, a missing file,
// credentials it no longer takes) is left out; the message is stored with a SYSTEM note.
func TestInboundMediaFetchFails(t *testing.T) {
	e := startChannels(t)
	file := []providersim.File{{ContentType: "image/png", Body: pngBytes(10)}}
	for i, c := range []struct {
		name, provider, text string
		fault                int
		rotate               func()
		note                 string
	}{
		{name: "whatsapp 500", provider: "whatsapp", fault: 500, note: "could not be fetched from WhatsApp: WhatsApp answered HTTP 500"},
		{name: "twilio 404", provider: "twilio", text: "hi", fault: 404, note: "could not be fetched from Twilio: Twilio no longer has the file (HTTP 404)"},
		{name: "vonage 500", provider: "vonage", fault: 500, note: "could not be fetched from Vonage: Vonage answered HTTP 500"},
		{name: "whatsapp token revoked at the provider", provider: "whatsapp", rotate: func() {
			e.sim.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: waNumberID, DisplayPhoneNumber: strings.TrimPrefix(waFrom, "+"),
				WABAID: "555", AccessToken: "a rotated token", AppSecret: e.wa.secret, WebhookURL: e.m.URL() + "/webhooks/whatsapp/" + e.wa.id})
		}, note: "WhatsApp refused the identity's credentials (HTTP 401)"},
		{name: "vonage key replaced at the provider", provider: "vonage", rotate: func() {
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			e.sim.AddVonage(providersim.VonageApp{ApplicationID: vonageApp, PublicKey: &k.PublicKey, APIKey: "key", SignatureSecret: e.vonage.secret,
				InboundURL: e.m.URL() + "/webhooks/vonage/" + e.vonage.id + "/inbound", StatusURL: e.m.URL() + "/webhooks/vonage/" + e.vonage.id + "/status"})
		}, note: "Vonage refused the identity's credentials (HTTP 401)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			contact := fmt.Sprintf("+44770090032%d", i)
			ix := e.active(c.provider, contact)
			if c.fault != 0 {
				e.sim.MediaFault(c.fault, 0)
				defer e.sim.ClearFaults()
			}
			if c.rotate != nil {
				c.rotate()
			}
			e.send(c.provider, contact, providersim.Inbound{Text: c.text, Files: file})
			m, notes := e.last(ix)
			want := c.text
			if want == "" {
				want = "(a file that could not be kept)"
			}
			if m["text"] != want || len(attachments(m)) != 0 || len(notes) != 1 || !strings.Contains(notes[0], c.note) {
				t.Fatalf("%v, notes %q, want a note saying %q", m, notes, c.note)
			}
		})
	}
}

// TestInboundMediaTwice: a webhook delivered twice stores one message with one file, fetched
// once.
func TestInboundMediaTwice(t *testing.T) {
	e := startChannels(t)
	for i, p := range []string{"twilio", "whatsapp", "vonage"} {
		t.Run(p, func(t *testing.T) {
			contact := fmt.Sprintf("+44770090033%d", i)
			ix := e.active(p, contact)
			before := e.sim.MediaFetches()
			in := providersim.Inbound{ID: "twice-" + p, Text: "again", Caption: "again", Files: []providersim.File{{ContentType: "image/png", Body: pngBytes(10)}}}
			e.send(p, contact, in)
			e.send(p, contact, in)
			var mine []any
			for _, m := range e.transcript(ix) {
				if dig(m, "text") == "again" {
					mine = append(mine, m)
				}
			}
			if len(mine) != 1 || len(attachments(mine[0].(map[string]any))) != 1 {
				t.Fatalf("messages %v", mine)
			}
			if n := e.sim.MediaFetches() - before; n != 1 {
				t.Fatalf("the file was fetched %d times", n)
			}
		})
	}
}
