package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/server"
)

// Outbound media (issue 12 §6), through the real adapters to the provider simulator: Twilio
// gets MediaUrl links and fetches them, Vonage gets one message per file with its url,
// WhatsApp gets each file uploaded to its media edge and a message naming the media ID. The
// bytes the contact gets are the bytes the agent uploaded.

// sendFiles sends alice's message with files and returns its ID.
func (e *chanEnv) sendFiles(ix, text string, ids ...string) string {
	e.t.Helper()
	r := post(e.t, e.m, e.alice, `mutation($i: ID!, $t: String!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: $t, attachmentIds: $a}) {
		message { id } userErrors { code field message } } }`, map[string]any{"i": ix, "t": text, "a": ids})
	id, _ := dig(r.Data, "sendMessage.message.id").(string)
	if id == "" {
		e.t.Fatalf("sendMessage with files: %+v", r)
	}
	return id
}

// sentFor waits for the sim to have n messages whose Ref is the message and returns them.
func (e *chanEnv) sentFor(msg string, n int) []providersim.Sent {
	e.t.Helper()
	var got []providersim.Sent
	waitFor(e.t, func() bool {
		got = slices.DeleteFunc(e.sim.Received(), func(s providersim.Sent) bool { return s.Ref != msg })
		return len(got) >= n
	})
	return got
}

func TestOutboundMedia(t *testing.T) {
	e := startChannels(t)
	photo := pngBytes(200 << 10)
	upload := func(name string, body []byte) string {
		return uploaded(t, e.m, e.alice, name, body)["id"].(string)
	}

	t.Run("Twilio: one MMS whose MediaUrl links Twilio fetches", func(t *testing.T) {
		ix := e.active("twilio", "+447700900601")
		msg := e.sendFiles(ix, "The photo and the form", upload("photo.png", photo), upload("form.pdf", pdfBytes))
		sent := e.sentFor(msg, 1)
		s := sent[0]
		if len(sent) != 1 || s.Channel != "mms" || s.Text != "The photo and the form" || len(s.Files) != 2 ||
			!bytes.Equal(s.Files[0].Body, photo) || s.Files[0].ContentType != "image/png" ||
			!bytes.Equal(s.Files[1].Body, pdfBytes) || s.Files[1].FileName != "form.pdf" {
			t.Fatalf("Twilio received %d messages: %+v", len(sent), s)
		}
		e.waitDelivery(ix, msg, "SENT")

		// The link works without a credential (that is its point), and only as signed.
		link := s.Files[0].URL
		res, body := fetch(t, e.m, "", link)
		if res.StatusCode != 200 || !bytes.Equal(body, photo) || res.Header.Get("Content-Disposition") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("the link: %d, %d bytes", res.StatusCode, len(body))
		}
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set("link", q.Get("link")+"x")
		u.RawQuery = q.Encode()
		if res, _ := fetch(t, e.m, "", u.String()); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a changed link: %d, want 403", res.StatusCode)
		}
		other := strings.Replace(link, strings.Split(strings.TrimPrefix(u.Path, "/attachments/"), "?")[0], strings.TrimPrefix(mustURL(t, s.Files[1].URL).Path, "/attachments/"), 1)
		if res, _ := fetch(t, e.m, "", other); res.StatusCode != http.StatusForbidden {
			t.Fatalf("one file's link for another file: %d, want 403", res.StatusCode)
		}
	})

	t.Run("Vonage: an MMS per file, the text as the image's caption", func(t *testing.T) {
		ix := e.active("vonage", "+447700900602")
		msg := e.sendFiles(ix, "Here you are", upload("photo.png", photo), upload("form.pdf", pdfBytes))
		sent := e.sentFor(msg, 2)
		if len(sent) != 2 || sent[0].Channel != "mms" || sent[0].MessageType != "image" || sent[0].Text != "Here you are" ||
			!bytes.Equal(sent[0].Files[0].Body, photo) ||
			sent[1].MessageType != "file" || sent[1].Files[0].FileName != "form.pdf" || !bytes.Equal(sent[1].Files[0].Body, pdfBytes) {
			t.Fatalf("Vonage received %+v", sent)
		}
		e.waitDelivery(ix, msg, "SENT")
	})

	t.Run("WhatsApp: each file uploaded, then sent by its media ID", func(t *testing.T) {
		ix := e.active("whatsapp", "+447700900603")
		before := e.sim.Uploads()
		msg := e.sendFiles(ix, "Your documents", upload("form.pdf", pdfBytes), upload("photo.png", photo))
		sent := e.sentFor(msg, 2)
		if len(sent) != 2 || e.sim.Uploads() != before+2 ||
			sent[0].MessageType != "document" || sent[0].Text != "Your documents" || sent[0].Files[0].FileName != "form.pdf" ||
			!bytes.Equal(sent[0].Files[0].Body, pdfBytes) || sent[0].Files[0].ContentType != "application/pdf" ||
			sent[1].MessageType != "image" || sent[1].Text != "" || !bytes.Equal(sent[1].Files[0].Body, photo) {
			t.Fatalf("WhatsApp received %+v", sent)
		}
		e.waitDelivery(ix, msg, "SENT")
	})

	t.Run("refusals: too large for an MMS, another agent's draft, a template with a file", func(t *testing.T) {
		ix := e.active("twilio", "+447700900604")
		big := pngBytes(3 << 20)
		a, b := upload("a.png", big), upload("b.png", big)
		r := post(t, e.m, e.alice, `mutation($i: ID!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: "two", attachmentIds: $a}) {
			message { id } userErrors { code field message } } }`, map[string]any{"i": ix, "a": []string{a, b}})
		if dig(r.Data, "sendMessage.message") != nil || userCode(dig(r.Data, "sendMessage").(map[string]any)) != "TOO_LARGE" {
			t.Fatalf("6 MB by MMS: %+v", r)
		}
		bob := login(t, e.m, "bob")
		bobs := uploaded(t, e.m, bob, "bob.png", photo)["id"].(string)
		r = post(t, e.m, e.alice, `mutation($i: ID!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: "x", attachmentIds: $a}) {
			message { id } userErrors { code } } }`, map[string]any{"i": ix, "a": []string{bobs}})
		if r.code() != "FORBIDDEN" {
			t.Fatalf("bob's draft: %+v", r)
		}
		msg := e.sendFiles(ix, "just one", a) // the refusals left the drafts usable
		if s := e.sentFor(msg, 1)[0]; len(s.Files) != 1 || !bytes.Equal(s.Files[0].Body, big) {
			t.Fatalf("the draft after the refusal: %+v", s.Files)
		}
	})
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOutboundMediaUnreachableLink: with -public-url naming an address the provider cannot
// reach, the provider refuses the send (Vonage 1020) and the message is FAILED with that
// reason: the agent sees it and can resend; nothing is retried forever.
func TestOutboundMediaUnreachableLink(t *testing.T) {
	e := startChannels(t, func(c *server.Config) { c.PublicURL = "http://127.0.0.1:1" })
	ix := e.active("vonage", "+447700900611")
	id := uploaded(t, e.m, e.alice, "photo.png", pngBytes(1000))["id"].(string)
	msg := e.sendFiles(ix, "", id)
	kind, code := e.waitDelivery(ix, msg, "FAILED")
	if kind != "CONTENT" || code != "1020" {
		t.Fatalf("the failure: %s %s", kind, code)
	}
	if n := len(e.sim.Received()); n != 0 {
		t.Fatalf("the sim accepted %d messages", n)
	}
}
