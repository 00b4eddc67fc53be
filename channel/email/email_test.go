package email_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/email"
	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"
)

var identity = &workspace.Identity{ID: "11111111-1111-4111-8111-111111111111", Channel: workspace.Email,
	Address: "support@acme.test", Name: "Acme Support", Provider: "smtp"}

func TestEmailSettings(t *testing.T) {
	p := email.New()
	got, err := p.CheckSettings(workspace.Email, map[string]string{"host": "smtp.acme.test", "username": "u", "password": "p",
		"imap": `{"host":"imap.acme.test","username":"u","password":"p"}`})
	if err != nil {
		t.Fatal(err)
	}
	if got["tls"] != "starttls" || got["port"] != "587" || !strings.Contains(got["imap"], `"mailbox":"INBOX"`) || !strings.Contains(got["imap"], `"port":993`) {
		t.Fatalf("defaults %v", got)
	}
	for _, c := range []struct {
		in  map[string]string
		key string
	}{
		{map[string]string{}, "host"},
		{map[string]string{"host": "a b"}, "host"},
		{map[string]string{"host": "h", "tls": "ssl"}, "tls"},
		{map[string]string{"host": "h", "port": "70000"}, "port"},
		{map[string]string{"host": "h", "username": "u"}, "password"},
		{map[string]string{"host": "h", "imap": "[1]"}, "imap"},
		{map[string]string{"host": "h", "imap": `{"host":"i"}`}, "imap"},
		{map[string]string{"host": "h", "imap": `{"host":"i","username":"u","password":"p","tls":"x"}`}, "imap.tls"},
		{map[string]string{"host": "h", "apiUrl": "x"}, "apiUrl"},
	} {
		_, err := p.CheckSettings(workspace.Email, c.in)
		if err == nil || !strings.HasPrefix(err.Error(), c.key+":") {
			t.Fatalf("%v: %v, want an error on %s", c.in, err, c.key)
		}
	}
	if _, err := p.CheckSettings(workspace.SMS, map[string]string{"host": "h"}); err == nil {
		t.Fatal("smtp carried SMS")
	}
	if !p.Secret("password") || !p.Secret("imap") || p.Secret("host") {
		t.Fatal("secrets")
	}
}

const multipartMail = "From: Pat Doe <pat@example.com>\r\n" +
	"To: support@acme.test\r\n" +
	"Subject: =?ISO-8859-1?Q?Caf=E9_order?=\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"In-Reply-To: <p0@acme.test>\r\n" +
	"References: <r1@example.com>\r\n <p0@acme.test>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n" +
	"--OUT\r\n" +
	"Content-Type: multipart/related; boundary=REL\r\n\r\n" +
	"--REL\r\n" +
	"Content-Type: multipart/alternative; boundary=ALT\r\n\r\n" +
	"--ALT\r\n" +
	"Content-Type: text/plain; charset=ISO-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Un caf=E9, s'il vous pla=EEt\r\n" +
	"--ALT\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n\r\n" +
	"<p>Un caf\xc3\xa9 <img src=\"cid:logo@x\"></p>\r\n" +
	"--ALT--\r\n" +
	"--REL\r\n" +
	"Content-Type: image/png\r\n" +
	"Content-ID: <logo@x>\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\n" +
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg==\r\n" +
	"--REL--\r\n" +
	"--OUT\r\n" +
	"Content-Type: application/pdf; name=\"invoice.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n\r\n" +
	"%PDF-1.4 fake\r\n" +
	"--OUT--\r\n"

// TestEmailParseMultipart: text and HTML parts, charsets (ISO-8859-1 body, RFC 2047
// subject), inline cid: images and attachments become the domain's inbound email (E6, C5).
func TestEmailParseMultipart(t *testing.T) {
	in := email.Parse([]byte(multipartMail), identity, "bounce@example.com")
	e := in.Email
	if in.From != "pat@example.com" || in.Name != "Pat Doe" || e.Subject != "Café order" || e.MessageID != "m1@example.com" ||
		in.ProviderMessageID != "m1@example.com" || e.InReplyTo != "p0@acme.test" || strings.Join(e.References, " ") != "<r1@example.com> <p0@acme.test>" {
		t.Fatalf("headers: from %q name %q %+v", in.From, in.Name, e)
	}
	if !strings.Contains(in.Text, "Un café, s'il vous plaît") || !strings.Contains(e.HTML, `cid:logo@x`) {
		t.Fatalf("bodies: %q %q", in.Text, e.HTML)
	}
	if len(in.Media) != 2 || in.Media[0].ContentID != "logo@x" || in.Media[1].FileName != "invoice.pdf" {
		t.Fatalf("media %+v", in.Media)
	}
	rc, err := in.Media[0].Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	if !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("inline image bytes %q", b[:8])
	}
}

// TestEmailParseMalformedAndMissingID: a message with no Message-ID gets one made from its
// bytes (the same each time); a broken MIME structure keeps the original as a file and says so.
func TestEmailParseMalformedAndMissingID(t *testing.T) {
	plain := "From: pat@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
	a, b := email.Parse([]byte(plain), identity, ""), email.Parse([]byte(plain), identity, "")
	if a.Email.MessageID == "" || a.Email.MessageID != b.Email.MessageID || !strings.HasSuffix(a.Email.MessageID, "@agentdesk.invalid") {
		t.Fatalf("made IDs %q %q", a.Email.MessageID, b.Email.MessageID)
	}
	if other := email.Parse([]byte(plain+"x"), identity, ""); other.Email.MessageID == a.Email.MessageID {
		t.Fatal("two different messages got the same made ID")
	}
	broken := "From: pat@example.com\r\nMessage-ID: <b@x>\r\nContent-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\nContent-Type: text/plain; charset=nonsense-7\r\n\r\n\xff\xfe body"
	in := email.Parse([]byte(broken), identity, "pat@example.com")
	if in.Email.MessageID == "" || in.From == "" {
		t.Fatalf("broken: %+v", in)
	}
	garbage := email.Parse([]byte("\x00\x01\x02 not mail at all"), identity, "")
	if garbage.From == "" || garbage.Email.MessageID == "" || garbage.Text == "" {
		t.Fatalf("garbage: %+v", garbage)
	}
	for _, x := range []workspace.InboundMessage{in, garbage} {
		if x.Text == "" && len(x.Media) == 0 {
			t.Fatalf("lost everything: %+v", x)
		}
	}
}

func outgoing(to, subject, text, html string) workspace.Outgoing {
	settings := map[string]string{}
	return workspace.Outgoing{Identity: &workspace.Identity{ID: identity.ID, Address: identity.Address, Name: identity.Name, Settings: settings},
		To: to, Message: &workspace.Message{ID: "019a0000-0000-7000-8000-000000000001", Text: text, SentAt: time.Now(),
			Email: &workspace.EmailDetails{Subject: subject, MessageID: "019a0000-0000-7000-8000-000000000001@acme.test", InReplyTo: "m1@example.com",
				References: []string{"r1@example.com", "m1@example.com"}, From: identity.Address, To: to, HTML: html}}}
}

func withSink(o workspace.Outgoing, s *emailtest.Sink) workspace.Outgoing {
	o.Identity.Settings = map[string]string{"host": s.Host(), "port": s.Port(), "tls": "none"}
	return o
}

// TestEmailSendToSink: the sender submits multipart/alternative (plain text and HTML) to a
// real SMTP server, with the identity as From and the threading headers (E6).
func TestEmailSendToSink(t *testing.T) {
	sink := emailtest.Start(t)
	sink.Username, sink.Password = "desk", "secret"
	o := withSink(outgoing("pat@example.com", "Re: Order 17", "Hello Pat", "<p>Hello <b>Pat</b></p>"), sink)
	o.Identity.Settings["username"], o.Identity.Settings["password"] = "desk", "secret"
	id, err := email.New().Send(t.Context(), o)
	if err != nil || id != o.Message.Email.MessageID {
		t.Fatalf("send: %q %v", id, err)
	}
	mails := sink.Mails()
	if len(mails) != 1 || mails[0].From != "support@acme.test" || mails[0].To[0] != "pat@example.com" {
		t.Fatalf("sink got %+v", mails)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(mails[0].Raw))
	if err != nil {
		t.Fatal(err)
	}
	if env.GetHeader("Subject") != "Re: Order 17" || env.GetHeader("In-Reply-To") != "<m1@example.com>" ||
		env.GetHeader("References") != "<r1@example.com> <m1@example.com>" || env.GetHeader("Message-ID") != "<"+o.Message.Email.MessageID+">" ||
		!strings.Contains(env.GetHeader("From"), "support@acme.test") {
		t.Fatalf("headers %v", env.Root.Header)
	}
	if !strings.Contains(env.Text, "Hello Pat") || !strings.Contains(env.HTML, "<b>Pat</b>") || !strings.HasPrefix(env.Root.ContentType, "multipart/alternative") {
		t.Fatalf("body: %s text %q html %q", env.Root.ContentType, env.Text, env.HTML)
	}
	// A wrong password is TEMPORARY: the settings are wrong, not the message.
	o.Identity.Settings["password"] = "wrong"
	_, err = email.New().Send(t.Context(), o)
	if kind(err) != workspace.DeliveryTemporary {
		t.Fatalf("bad login: %v", err)
	}
}

func kind(err error) workspace.DeliveryErrorKind {
	var de *workspace.DeliveryError
	if errors.As(err, &de) {
		return de.Kind
	}
	return "none"
}

// TestEmailE5SendFailuresClassified: 5xx (invalid address) is CONTENT with the code; 4xx and
// an unreachable server are TEMPORARY; a message over the size limit is CONTENT.
func TestEmailE5SendFailuresClassified(t *testing.T) {
	sink := emailtest.Start(t)
	p := email.New()
	_, err := p.Send(t.Context(), withSink(outgoing("reject@example.com", "Hi", "x", ""), sink))
	var de *workspace.DeliveryError
	if !errors.As(err, &de) || de.Kind != workspace.DeliveryContent || de.ProviderCode != "550" {
		t.Fatalf("5xx: %v", err)
	}
	if _, err := p.Send(t.Context(), withSink(outgoing("later@example.com", "Hi", "x", ""), sink)); kind(err) != workspace.DeliveryTemporary {
		t.Fatalf("4xx: %v", err)
	}
	sink.Fail(&smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "too big"})
	if _, err := p.Send(t.Context(), withSink(outgoing("pat@example.com", "Hi", "x", ""), sink)); kind(err) != workspace.DeliveryContent || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("552: %v", err)
	}
	sink.Fail(nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	o := outgoing("pat@example.com", "Hi", "x", "")
	h, port, _ := net.SplitHostPort(dead)
	o.Identity.Settings = map[string]string{"host": h, "port": port, "tls": "none"}
	if _, err := p.Send(t.Context(), o); kind(err) != workspace.DeliveryTemporary {
		t.Fatalf("unreachable: %v", err)
	}
	// A server that accepts the connection and never answers: the deadline makes it TEMPORARY.
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	h, port, _ = net.SplitHostPort(silent.Addr().String())
	o.Identity.Settings = map[string]string{"host": h, "port": port, "tls": "none"}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := p.Send(ctx, o); kind(err) != workspace.DeliveryTemporary {
		t.Fatalf("timeout: %v", err)
	}
	small := &email.Provider{MaxMessageBytes: 1000}
	if _, err := small.Send(t.Context(), withSink(outgoing("pat@example.com", "Hi", strings.Repeat("x", 2000), ""), sink)); kind(err) != workspace.DeliveryContent {
		t.Fatalf("oversized: %v", err)
	}
	if n := len(sink.Mails()); n != 0 {
		t.Fatalf("the sink got %d mails from failed sends", n)
	}
}

// TestEmailRenderInlineImagesAndAttachments: an image the HTML shows from a file of the
// message goes as an inline part (cid:), other files as attachments; an infected file is a
// SECURITY failure.
func TestEmailRenderInlineImagesAndAttachments(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nimage")
	imgID, docID := "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	o := outgoing("pat@example.com", "Hi", "see", `<p>see <img src="/attachments/`+imgID+`" data-attachment-id="`+imgID+`"></p>`)
	open := func(b []byte) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	o.Files = []workspace.OutgoingFile{
		{Attachment: workspace.Attachment{ID: imgID, FileName: "shot.png", ContentType: "image/png"}, Open: open(png)},
		{Attachment: workspace.Attachment{ID: docID, FileName: "logo.svg", ContentType: "image/svg+xml"}, Open: open([]byte("<svg/>"))},
	}
	raw, err := email.Render(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Inlines)+len(env.OtherParts) != 1 || len(env.Attachments) != 1 || env.Attachments[0].FileName != "logo.svg" ||
		!strings.Contains(env.HTML, "cid:"+imgID+"@agentdesk") || strings.Contains(env.HTML, "/attachments/") {
		t.Fatalf("inlines %d other %d attachments %d html %q", len(env.Inlines), len(env.OtherParts), len(env.Attachments), env.HTML)
	}
	pasted := outgoing("pat@example.com", "Hi", "see", `<p><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=="></p>`)
	raw, err = email.Render(t.Context(), pasted)
	if err != nil {
		t.Fatal(err)
	}
	env, err = enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil || len(env.Inlines)+len(env.OtherParts) != 1 || strings.Contains(env.HTML, "data:") || !strings.Contains(env.HTML, "cid:pasted-1.") {
		t.Fatalf("pasted image: %v html %q", err, env.HTML)
	}
	o.Files[1].Scan = workspace.ScanInfected
	if _, err := email.Render(t.Context(), o); kind(err) != workspace.DeliverySecurity {
		t.Fatalf("infected: %v", err)
	}
}

// TestEmailSendOverTLS: submission with STARTTLS and with implicit TLS, AUTH PLAIN under
// it, to a real SMTP server with a certificate of its own. The certificate is checked: one
// no authority signed is refused (TEMPORARY: the settings, not the message, are wrong) unless
// the operator sets insecureSkipVerify for a self-signed relay.
func TestEmailSendOverTLS(t *testing.T) {
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			sink := emailtest.StartTLS(t, mode == "tls")
			sink.Username, sink.Password = "desk", "secret"
			o := withSink(outgoing("pat@example.com", "Re: Order 17", "Hello Pat", "<p>Hello <b>Pat</b></p>"), sink)
			o.Identity.Settings["tls"] = mode
			o.Identity.Settings["username"], o.Identity.Settings["password"] = "desk", "secret"
			_, err := email.New().Send(t.Context(), o)
			if kind(err) != workspace.DeliveryTemporary || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("an unknown certificate: %v, want a TEMPORARY certificate failure", err)
			}
			if n := len(sink.Mails()); n != 0 {
				t.Fatalf("%d mails over an unverified connection", n)
			}
			o.Identity.Settings["insecureSkipVerify"] = "true"
			if _, err := email.New().Send(t.Context(), o); err != nil {
				t.Fatalf("send: %v", err)
			}
			mails := sink.Mails()
			if len(mails) != 1 || !mails[0].TLS || mails[0].To[0] != "pat@example.com" {
				t.Fatalf("sink got %+v", mails)
			}
		})
	}
	// Without TLS, a server that requires it refuses the message: AUTH is not offered in the clear.
	sink := emailtest.StartTLS(t, false)
	sink.Username, sink.Password = "desk", "secret"
	o := withSink(outgoing("pat@example.com", "Re: Order 17", "Hello Pat", "<p>Hello</p>"), sink)
	o.Identity.Settings["username"], o.Identity.Settings["password"] = "desk", "secret"
	if _, err := email.New().Send(t.Context(), o); err == nil || len(sink.Mails()) != 0 {
		t.Fatalf("sent in the clear to a server that requires TLS: %v", err)
	}
}
