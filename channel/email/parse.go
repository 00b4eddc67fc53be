package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/jhillyerd/enmime/v2"
)

// parser reads MIME leniently: a malformed part is kept as well as it can be and recorded in
// the envelope's errors, never a reason to drop the message.
var parser = enmime.NewParser(enmime.MaxStoredPartErrors(20))

// msgIDs finds the message IDs of a References or In-Reply-To header.
var msgIDs = regexp.MustCompile(`<[^<>\s]{1,250}>`)

// Parse turns a received message into the domain's inbound email for identity. envelopeFrom
// is the SMTP MAIL FROM, used when the message has no From header. It never fails for a
// message that is not MIME: whatever cannot be read is kept as the original file
// (original.eml) with a sentence saying so. A message without a Message-ID gets one made
// from its bytes, so the same message delivered again is recognised.
func Parse(raw []byte, identity *workspace.Identity, envelopeFrom string) workspace.InboundMessage {
	in := workspace.InboundMessage{IdentityID: identity.ID, Channel: identity.Channel, PlanID: identity.PlanID}
	e := &workspace.EmailDetails{To: identity.Address}
	in.Email = e
	env, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil || env == nil {
		e.MessageID = madeMessageID(raw)
		in.ProviderMessageID = e.MessageID
		in.From = envelopeFrom
		if strings.TrimSpace(in.From) == "" {
			in.From = "unknown-sender@agentdesk.invalid"
		}
		e.From = in.From
		e.Subject = "(an email that could not be read)"
		in.Text = fmt.Sprintf("This email could not be read (%v); the original is attached as it arrived.", err)
		in.Media = []workspace.InboundMedia{original(raw)}
		return in
	}
	e.MessageID = workspace.CleanMessageID(firstID(env.GetHeader("Message-ID")))
	if e.MessageID == "" {
		e.MessageID = madeMessageID(raw)
	}
	in.ProviderMessageID = e.MessageID
	e.InReplyTo = firstID(env.GetHeader("In-Reply-To"))
	e.References = msgIDs.FindAllString(env.GetHeader("References"), -1)
	e.Subject = env.GetHeader("Subject")
	if list, err := env.AddressList("From"); err == nil && len(list) > 0 {
		in.From, in.Name = list[0].Address, list[0].Name
	} else {
		in.From = envelopeFrom
	}
	if strings.TrimSpace(in.From) == "" { // a bounce (MAIL FROM:<>) without a From: kept all the same
		in.From = "unknown-sender@agentdesk.invalid"
	}
	e.From = in.From
	in.Text, e.HTML = env.Text, env.HTML
	for _, parts := range [][]*enmime.Part{env.Inlines, env.OtherParts, env.Attachments} {
		for _, p := range parts {
			if len(p.Content) == 0 {
				continue
			}
			in.Media = append(in.Media, part(p))
		}
	}
	severe := false
	for _, pe := range env.Errors {
		severe = severe || pe.Severe
	}
	if severe || (strings.TrimSpace(env.Text) == "" && strings.TrimSpace(env.HTML) == "" && len(in.Media) == 0 && len(env.Errors) > 0) {
		in.Text = strings.TrimSpace(in.Text + "\n\n(Parts of this email could not be read; the original is attached as it arrived.)")
		in.Media = append(in.Media, original(raw))
	}
	return in
}

// firstID is the first <id> of a header, or the header itself without brackets.
func firstID(h string) string {
	if m := msgIDs.FindString(h); m != "" {
		return workspace.CleanMessageID(m)
	}
	return workspace.CleanMessageID(h)
}

// madeMessageID is the Message-ID agentdesk gives a message that has none: a hash of its
// bytes, so the same message delivered twice has the same one.
func madeMessageID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]) + "@agentdesk.invalid"
}

// part is one file of an email, for the domain to store (sniffed, sized, scanned).
func part(p *enmime.Part) workspace.InboundMedia {
	body := p.Content
	name := p.FileName
	if name == "" {
		name = "inline"
	}
	return workspace.InboundMedia{FileName: name, ContentType: p.ContentType, ContentID: p.ContentID, Source: "email",
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}
}

// original is the message as it arrived, as a file.
func original(raw []byte) workspace.InboundMedia {
	return workspace.InboundMedia{FileName: "original.eml", ContentType: "message/rfc822", Source: "email",
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }}
}
