package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Email (E1–E6, O3, C4, C5). The rules live here; the email adapter (channel/email) only
// parses MIME into an InboundMessage with its EmailDetails, and renders an Outgoing message
// with its EmailDetails as MIME. Threading follows RFC 5322 §3.6.4: an inbound message joins
// the interaction of the message its In-Reply-To or References name (E6), never by subject.

// EmailDetails is the email side of a message: its headers and its sanitised HTML body.
type EmailDetails struct {
	Subject string
	// MessageID is the RFC 5322 Message-ID without angle brackets.
	MessageID string
	InReplyTo string `json:",omitzero"`
	// References are the thread's message IDs, oldest first, without angle brackets.
	References []string `json:",omitzero"`
	From       string
	To         string
	// HTML is the sanitised HTML body (SanitiseEmailHTML); "" for a plain-text email.
	HTML string `json:",omitzero"`
}

// Email limits.
const (
	// maxEmailReferences is how many References an inbound email's threading looks at (the
	// newest ones): a loop or a flood of them costs no more than this many reads.
	maxEmailReferences = 50
	// maxMessageIDChars bounds a Message-ID (RFC 5322 lines are at most 998 characters).
	maxMessageIDChars = 250
	// maxSubjectChars bounds a subject.
	maxSubjectChars = 998
	// maxEmailHTMLChars bounds an email's HTML body as stored (inbound and outbound).
	maxEmailHTMLChars = 1 << 20
	// maxEmailTextChars bounds an email's plain text as stored.
	maxEmailTextChars = 256 << 10
	// maxSignatureChars bounds an agent's signature.
	maxSignatureChars = 10_000
)

// NormaliseEmail returns one email address (addr-spec, its domain in lower case), or INVALID
// naming field: a list, a display name with more than one address, or no address at all is
// refused (E3: exactly one To, no CC or BCC).
func NormaliseEmail(s, field string) (string, error) {
	s = strings.TrimSpace(s)
	bad := &Error{Code: EINVALID, Message: "not one email address, e.g. name@example.com", Field: []string{field}}
	if s == "" || strings.ContainsAny(s, ",;\r\n") || len(s) > 320 {
		if strings.ContainsAny(s, ",;") {
			bad.Message = "exactly one address: an email goes to one recipient, without CC or BCC (E3)"
		}
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", bad
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") && domain != "localhost" || strings.ContainsAny(a.Address, " <>\"") {
		return "", bad
	}
	return local + "@" + strings.ToLower(domain), nil
}

// CleanMessageID returns a Message-ID without angle brackets and spaces, "" when there is
// none or it is too long to be one.
func CleanMessageID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxMessageIDChars || strings.ContainsAny(s, " \t\r\n<>") {
		return ""
	}
	return s
}

// cleanReferences keeps the references that are message IDs, each once, without own (a
// message never references itself: a loop), the newest maxEmailReferences of them.
func cleanReferences(refs []string, own string) []string {
	var out []string
	seen := map[string]bool{own: true}
	for _, r := range refs {
		if r = CleanMessageID(r); r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if len(out) > maxEmailReferences {
		out = out[len(out)-maxEmailReferences:]
	}
	return out
}

// EmailMessageID is the Message-ID of an agent's email message: the message's own ID at the
// identity's domain, so a retry sends the same one and a reply finds the message by it.
func EmailMessageID(messageID, identityAddress string) string {
	_, domain, _ := strings.Cut(identityAddress, "@")
	if domain == "" {
		domain = "agentdesk.invalid"
	}
	return messageID + "@" + domain
}

// ReplySubject is subject with "Re: " in front, once (RFC 5322 §3.6.5).
func ReplySubject(subject string) string {
	s := strings.TrimSpace(subject)
	for {
		low := strings.ToLower(s)
		if strings.HasPrefix(low, "re:") {
			s = strings.TrimSpace(s[3:])
			continue
		}
		break
	}
	if s == "" {
		return "Re: (no subject)"
	}
	return "Re: " + s
}

// replyReferences are the References of a reply to parent (RFC 5322 §3.6.4): the parent's
// References and its Message-ID; without References, its single In-Reply-To and its
// Message-ID; else its Message-ID alone.
func replyReferences(parent *EmailDetails) []string {
	var refs []string
	switch {
	case len(parent.References) > 0:
		refs = slices.Clone(parent.References)
	case parent.InReplyTo != "":
		refs = []string{parent.InReplyTo}
	}
	return cleanReferences(append(refs, parent.MessageID), "")
}

// emailThreadFor is threadFor for an email (E6): the interaction of the newest message its
// In-Reply-To or References name on the same identity, while it is open; a reply to an
// interaction that has ended opens a new one linked to it (PreviousID); anything else opens
// a new interaction. The subject is never looked at.
func (s *Service) emailThreadFor(ctx context.Context, in InboundMessage, own string) (ix *Interaction, opened bool, previous *Interaction, err error) {
	names := []string{}
	if in.Email.InReplyTo != "" {
		names = append(names, in.Email.InReplyTo)
	}
	refs := in.Email.References
	for i := len(refs) - 1; i >= 0; i-- {
		names = append(names, refs[i])
	}
	names = cleanReferences(names, own)
	for _, name := range names {
		m, err := s.Store.MessageByExternalID(ctx, externalKey(in.IdentityID, name))
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, false, nil, err
		}
		found, err := s.Store.Interaction(ctx, m.InteractionID)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, false, nil, err
		}
		if found.State != Wrap && found.State != Completed {
			return found, false, nil, nil
		}
		previous = found
		break
	}
	key := threadKey(in.IdentityID, "<"+own+">")
	now := s.Clock.Now()
	ix = &Interaction{
		ID: uuid.NewString(), Channel: Email, Direction: Inbound, State: Queued,
		Contact: Contact{Address: NormaliseName(in.From), Name: NormaliseName(in.Name)}, PlanID: in.PlanID,
		IdentityID: in.IdentityID, ThreadKey: key, CreatedAt: now, QueuedAt: &now, ContactWroteAt: &now,
	}
	if previous != nil {
		ix.PreviousID = previous.ID
	}
	err = s.createInteraction(ctx, ix)
	if ErrorCode(err) == ECONFLICT { // the same message delivered twice at once: it opened it
		if first, ferr := s.Store.LiveInteractionByThread(ctx, key); ferr == nil {
			return first, false, nil, nil
		}
	}
	if err != nil {
		return nil, false, nil, err
	}
	s.queueChanged(ix.PlanID)
	return ix, true, previous, nil
}

// prepareInboundEmail checks and completes an inbound email's details: the Message-ID the
// adapter gives (the adapter makes one from the message's bytes when the sender gave none),
// the references cleaned of loops, the addresses normalised.
func prepareInboundEmail(in *InboundMessage) error {
	e := *in.Email
	e.MessageID = CleanMessageID(e.MessageID)
	if e.MessageID == "" {
		e.MessageID = CleanMessageID(in.ProviderMessageID)
	}
	if e.MessageID == "" {
		return Errorf(EINVALID, "an inbound email needs its Message-ID")
	}
	in.ProviderMessageID = e.MessageID
	e.InReplyTo = CleanMessageID(e.InReplyTo)
	if e.InReplyTo == e.MessageID {
		e.InReplyTo = ""
	}
	e.References = cleanReferences(e.References, e.MessageID)
	e.Subject = clip(NormaliseName(e.Subject), maxSubjectChars)
	e.From, e.To = clip(strings.TrimSpace(e.From), 320), clip(strings.TrimSpace(e.To), 320)
	in.Email = &e
	return nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// inboundEmailBody is the text and sanitised HTML of an inbound email, its inline images
// (cid: links) pointing at the files stored for them.
func inboundEmailBody(in InboundMessage, byIndex []string) (text, html string) {
	cids := map[string]string{}
	for i, md := range in.Media {
		if md.ContentID != "" && i < len(byIndex) && byIndex[i] != "" {
			cids[strings.ToLower(CleanMessageID(md.ContentID))] = byIndex[i]
		}
	}
	html = clip(SanitiseEmailHTML(in.Email.HTML, cids), maxEmailHTMLChars)
	text = in.Text
	if IsBlank(text) && html != "" {
		text = HTMLText(html)
	}
	return clip(strings.TrimSpace(NormaliseText(text)), maxEmailTextChars), html
}

// ReplyTo is the message an agent's email reply answers: the latest email the contact sent in
// the interaction (E1); nil when there is none (an outbound email not answered yet), or the
// interaction is not an email.
func (s *Service) ReplyTo(ctx context.Context, ix *Interaction) (*Message, error) {
	if ix.Channel != Email {
		return nil, nil
	}
	var latest *Message
	after := ""
	for {
		page, err := s.Store.Messages(ctx, ix.ID, after, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.From == PartyContact && m.Email != nil {
				latest = m
			}
		}
		if len(page) < 500 {
			return latest, nil
		}
		after = page[len(page)-1].ID
	}
}

// lastEmail is the newest email of the interaction either side sent: a first outbound email
// is what a reply without a contact's email follows.
func (s *Service) lastEmail(ctx context.Context, ix *Interaction) (*Message, error) {
	var latest *Message
	after := ""
	for {
		page, err := s.Store.Messages(ctx, ix.ID, after, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.Email != nil {
				latest = m
			}
		}
		if len(page) < 500 {
			return latest, nil
		}
		after = page[len(page)-1].ID
	}
}

// EmailReply is what an agent writes in an email: the rich-text body (HTML), its plain-text
// alternative (derived from the HTML when empty) and an optional subject.
type EmailReply struct {
	HTML    string
	Text    string
	Subject *string
}

// composeEmail fills m with an email body: HTML sanitised like inbound mail, text its
// plain-text alternative. With files, an empty body is fine.
func composeEmail(r EmailReply, files int, m *Message) error {
	html := SanitiseEmailHTML(r.HTML, nil)
	if utf8.RuneCountInString(r.HTML) > maxEmailHTMLChars {
		return fieldError(EINVALID, "html", "the message is too long: at most %d characters of HTML", maxEmailHTMLChars)
	}
	text := NormaliseText(r.Text)
	if IsBlank(text) && html != "" {
		text = HTMLText(html)
	}
	if utf8.RuneCountInString(text) > maxEmailTextChars {
		return fieldError(EINVALID, "text", "the message is too long: at most %d characters", maxEmailTextChars)
	}
	if IsBlank(text) && files == 0 {
		return fieldError(EINVALID, "text", "write a message first: it is empty")
	}
	if IsBlank(text) {
		text = ""
	}
	m.Text = text
	m.Email = &EmailDetails{HTML: html}
	return nil
}

// sendEmailReply is SendReply on an email interaction: the reply answers the latest email of
// the contact (E1) with In-Reply-To and References built as RFC 5322 says and "Re: " once,
// from the identity's address (E6).
func (s *Service) sendEmailReply(ctx context.Context, me *Agent, ix *Interaction, r Reply) (*Message, error) {
	if r.TemplateID != "" {
		return nil, fieldError(EINVALID, "templateId", "templates are sent on WhatsApp only")
	}
	if ix.State != Active {
		return nil, wrongState(ix.State)
	}
	id, err := s.Store.Identity(ctx, ix.IdentityID)
	if err != nil {
		return nil, err
	}
	m := &Message{ID: newMessageID(), InteractionID: ix.ID, From: PartyAgent, AgentID: me.ID}
	if err := composeEmail(r.Email, len(r.AttachmentIDs), m); err != nil {
		return nil, err
	}
	if err := s.checkCarried(ctx, Email, r.AttachmentIDs); err != nil {
		return nil, err
	}
	parent, err := s.ReplyTo(ctx, ix)
	if err != nil {
		return nil, err
	}
	if parent == nil {
		if parent, err = s.lastEmail(ctx, ix); err != nil {
			return nil, err
		}
	}
	e := m.Email
	e.From, e.To = id.Address, ix.Contact.Address
	e.MessageID = EmailMessageID(m.ID, id.Address)
	if parent != nil {
		e.InReplyTo, e.References = parent.Email.MessageID, replyReferences(parent.Email)
		e.Subject = ReplySubject(parent.Email.Subject)
	}
	if r.Email.Subject != nil && !IsBlank(*r.Email.Subject) {
		e.Subject = clip(NormaliseName(*r.Email.Subject), maxSubjectChars)
	}
	if IsBlank(e.Subject) {
		return nil, fieldError(EINVALID, "subject", "an email needs a subject that is not only whitespace (E3)")
	}
	m.ExternalID = externalKey(id.ID, e.MessageID) // a reply to it finds this interaction at once
	return s.queueWithFiles(ctx, me.ID, r.AttachmentIDs, m)
}

// startEmail checks an outbound email's start (E3, O3) and composes its first message.
func (s *Service) startEmail(in OutboundStart, id *Identity, me *Agent, first *Message) (string, error) {
	to, err := NormaliseEmail(in.To, "to")
	if err != nil {
		return "", err
	}
	if in.TemplateID != "" {
		return "", fieldError(EINVALID, "templateId", "templates are sent on WhatsApp only")
	}
	if in.Subject == nil || IsBlank(*in.Subject) {
		return "", fieldError(EINVALID, "subject", "an email needs a subject that is not only whitespace (E3)")
	}
	if err := composeEmail(EmailReply{HTML: in.HTML, Text: in.Text}, len(in.AttachmentIDs), first); err != nil {
		return "", err
	}
	e := first.Email
	e.Subject = clip(NormaliseName(*in.Subject), maxSubjectChars)
	e.From, e.To = id.Address, to
	e.MessageID = EmailMessageID(first.ID, id.Address)
	first.ExternalID = externalKey(id.ID, e.MessageID)
	return to, nil
}

// SetSignature saves the caller's default email signature (E2), sanitised like any email
// HTML; an empty one removes it.
func (s *Service) SetSignature(ctx context.Context, html string) (*Agent, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(html) > maxSignatureChars {
		return nil, fieldError(EINVALID, "html", "a signature has at most %d characters", maxSignatureChars)
	}
	clean := SanitiseEmailHTML(html, nil)
	if IsBlank(HTMLText(clean)) && !strings.Contains(clean, "<img") {
		clean = ""
	}
	_, a, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*Agent, error) { return s.Store.Agent(ctx, me.ID) },
		func(a *Agent) error {
			if a.Signature == clean {
				return errSkip
			}
			a.Signature = clean
			return nil
		},
		func(ctx context.Context, _, a *Agent) error { return s.Store.UpdateAgent(ctx, a) })
	if errors.Is(err, errSkip) {
		return s.Store.Agent(ctx, me.ID)
	}
	return a, err
}

// InboundIdentity returns the identity of a channel whose address is address: the email
// listener accepts mail only for these (refusing others at RCPT). NOT_FOUND when there is
// none.
func (s *Service) InboundIdentity(ctx context.Context, ch Channel, address string) (*Identity, error) {
	var addr string
	var err error
	if ch == Email {
		addr, err = NormaliseEmail(address, "address")
	} else {
		addr, err = NormalisePhone(address, "address")
	}
	if err != nil {
		return nil, Errorf(ENOTFOUND, "no identity has this address")
	}
	all, err := s.Store.Identities(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range all {
		if id.Channel == ch && strings.EqualFold(id.Address, addr) {
			return id, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "no identity has the address %s", addr)
}

// previousNote is the SYSTEM note of an interaction opened by a reply to one that had ended.
func previousNote(previous *Interaction) string {
	return fmt.Sprintf("This email answers a conversation that has ended (%s): its transcript is linked as the previous interaction.", previous.ID)
}

// Previous is the ended interaction whose thread ix continues (E6), to whoever may read ix:
// the agent answering the new email reads the history of the old one. Nil when there is none.
func (s *Service) Previous(ctx context.Context, ix *Interaction) (*Interaction, error) {
	if ix.PreviousID == "" {
		return nil, nil
	}
	if err := canRead(ctx, ix); err != nil {
		return nil, err
	}
	prev, err := s.Store.Interaction(ctx, ix.PreviousID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return prev, err
}

// MailboxCursor is where the IMAP poller of an email identity stands: the mailbox's
// UIDVALIDITY and the highest UID whose message is stored. Messages are fetched in UID order
// and the cursor moves past a message only once Receive has stored it, so a crash or a
// dropped connection fetches it again (Receive stores it once) and nothing is skipped.
type MailboxCursor struct {
	UIDValidity uint32
	UID         uint32
}

// MailboxCursorOf returns the poller's place in an identity's mailbox for validity: a
// mailbox whose UIDVALIDITY changed starts again from the beginning (every message is
// fetched again; those stored before are recognised by their Message-ID).
func (s *Service) MailboxCursorOf(ctx context.Context, identityID string, validity uint32) (MailboxCursor, error) {
	id, err := s.Store.Identity(ctx, identityID)
	if err != nil {
		return MailboxCursor{}, err
	}
	if id.Mailbox.UIDValidity != validity {
		return MailboxCursor{UIDValidity: validity}, nil
	}
	return id.Mailbox, nil
}

// AdvanceMailbox records that the message with uid (and every one before it) of the mailbox
// with validity is stored. The cursor never moves back within one validity.
func (s *Service) AdvanceMailbox(ctx context.Context, identityID string, validity, uid uint32) error {
	_, _, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*Identity, error) { return s.Store.Identity(ctx, identityID) },
		func(id *Identity) error {
			if id.Mailbox.UIDValidity == validity && id.Mailbox.UID >= uid {
				return errSkip
			}
			id.Mailbox = MailboxCursor{UIDValidity: validity, UID: uid}
			return nil
		},
		func(ctx context.Context, _, id *Identity) error { return s.Store.UpdateIdentity(ctx, id) })
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// PolledIdentities are the email identities with a mailbox to poll (an imap setting).
func (s *Service) PolledIdentities(ctx context.Context) ([]*Identity, error) {
	all, err := s.Store.Identities(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(id *Identity) bool { return id.Channel != Email || id.Settings["imap"] == "" }), nil
}
