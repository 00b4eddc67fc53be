package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"
)

// defaultMaxMessageBytes bounds a rendered outbound message: 25 MB of files, base64-encoded.
const defaultMaxMessageBytes = 35 << 20

// Send delivers one email message by SMTP submission and returns its Message-ID. Failures
// are classified for the outbox (E5): a 4xx reply, a network failure or a timeout is
// TEMPORARY (retried); a 5xx reply (an invalid address, a refused size) or a message over the
// limit is CONTENT, with the server's code.
func (p *Provider) Send(ctx context.Context, out workspace.Outgoing) (string, error) {
	e := out.Message.Email
	if e == nil || e.MessageID == "" {
		return "", &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: "this message is not an email"}
	}
	s, err := ParseSettings(out.Identity.Settings)
	if err != nil {
		return "", &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "the identity's SMTP settings are invalid: " + err.Error()}
	}
	raw, err := Render(ctx, out)
	if err != nil {
		var de *workspace.DeliveryError
		if errors.As(err, &de) {
			return "", de
		}
		return "", &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "the message could not be built: " + err.Error()}
	}
	limit := p.MaxMessageBytes
	if limit <= 0 {
		limit = defaultMaxMessageBytes
	}
	if int64(len(raw)) > limit {
		return "", &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: fmt.Sprintf("the email is %d MB with its files; at most %d MB can be sent (E4)", len(raw)>>20, limit>>20)}
	}
	if err := submit(ctx, s, e.From, e.To, raw); err != nil {
		return "", classify(err)
	}
	return e.MessageID, nil
}

// submit speaks SMTP to the identity's server: connect (TLS as configured), AUTH PLAIN when
// a username is set, MAIL, RCPT, DATA.
func submit(ctx context.Context, s *Settings, from, to string, raw []byte) error {
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cfg := &tls.Config{ServerName: s.Host, InsecureSkipVerify: s.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // only when the operator says so
	var c *smtp.Client
	switch s.TLS {
	case TLSImplicit:
		c = smtp.NewClient(tls.Client(conn, cfg))
	case TLSStartTLS:
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return err
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			return authError{err}
		}
	}
	if err := c.Mail(from, &smtp.MailOptions{Size: int64(len(raw))}); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_ = c.Quit()
	return nil
}

// authError is a refused login: the settings are wrong, not the message, so it is TEMPORARY
// (an operator fixes the password and Retry sends it).
type authError struct{ err error }

func (e authError) Error() string { return "the SMTP server refused the login: " + e.err.Error() }
func (e authError) Unwrap() error { return e.err }

// classify maps an SMTP failure to E5's kinds.
func classify(err error) error {
	var se *smtp.SMTPError
	var ae authError
	switch {
	case errors.As(err, &ae):
		return &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: ae.Error()}
	case errors.As(err, &se) && se.Code >= 500:
		msg := "the mail server refused the email: " + se.Message
		if se.Code == 552 || se.EnhancedCode == (smtp.EnhancedCode{5, 3, 4}) {
			msg = "the email is too large for the mail server: " + se.Message
		}
		return &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: msg, ProviderCode: strconv.Itoa(se.Code)}
	case errors.As(err, &se):
		return &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "the mail server said to try later: " + se.Message, ProviderCode: strconv.Itoa(se.Code)}
	default:
		return &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "the mail server could not be reached: " + err.Error()}
	}
}

// dataImage finds the raster images an agent pasted into the HTML.
var dataImage = regexp.MustCompile(`src="data:(image/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=]+)"`)

// attachmentSrc finds the images of an agent's HTML that show one of the message's files.
var attachmentSrc = regexp.MustCompile(`src="/attachments/([0-9a-fA-F-]{36})"`)

// Render builds the MIME message of an outgoing email: multipart/alternative (the plain
// text and the HTML), the images the HTML shows as inline parts (cid:), the other files as
// attachments; Message-ID, In-Reply-To and References as the domain set them, the identity
// as From.
func Render(ctx context.Context, out workspace.Outgoing) ([]byte, error) {
	e := out.Message.Email
	b := enmime.Builder().From(out.Identity.Name, e.From).To("", e.To).Subject(e.Subject).
		Date(out.Message.SentAt).Header("Message-ID", "<"+e.MessageID+">")
	if e.InReplyTo != "" {
		b = b.Header("In-Reply-To", "<"+e.InReplyTo+">")
	}
	if len(e.References) > 0 {
		b = b.Header("References", "<"+strings.Join(e.References, "> <")+">")
	}
	html := e.HTML
	inline := map[string]bool{}
	for _, m := range attachmentSrc.FindAllStringSubmatch(html, -1) {
		inline[m[1]] = true
	}
	for _, f := range out.Files {
		if f.Scan == workspace.ScanInfected {
			return nil, &workspace.DeliveryError{Kind: workspace.DeliverySecurity, Message: "the file " + f.FileName + " contains malware: remove it and send again (E5)"}
		}
		body, err := readFile(ctx, f)
		if err != nil {
			return nil, err
		}
		if inline[f.ID] {
			cid := f.ID + "@agentdesk"
			html = strings.ReplaceAll(html, `src="/attachments/`+f.ID+`"`, `src="cid:`+cid+`"`)
			b = b.AddInline(body, f.ContentType, f.FileName, cid)
		} else {
			b = b.AddAttachment(body, f.ContentType, f.FileName)
		}
	}
	// Images pasted into the editor travel as data: URLs; mail clients show inline parts.
	n := 0
	html = dataImage.ReplaceAllStringFunc(html, func(m string) string {
		parts := dataImage.FindStringSubmatch(m)
		body, err := base64.StdEncoding.DecodeString(parts[2])
		if err != nil {
			return m
		}
		n++
		cid := fmt.Sprintf("pasted-%d.%s@agentdesk", n, out.Message.ID)
		b = b.AddInline(body, parts[1], fmt.Sprintf("image-%d", n), cid)
		return `src="cid:` + cid + `"`
	})
	text := out.Message.Text
	if text == "" {
		text = " "
	}
	b = b.Text([]byte(text))
	if html != "" {
		b = b.HTML([]byte(html))
	}
	root, err := b.Build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := root.Encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readFile reads one file of the message.
func readFile(ctx context.Context, f workspace.OutgoingFile) ([]byte, error) {
	rc, err := f.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
