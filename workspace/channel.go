package workspace

import (
	"context"
	"io"
	"time"
)

// This file is the channel port: the types every channel adapter (webchat, the SMS/RCS and
// WhatsApp providers, later email and voice) exchanges with the domain. The domain decides
// the rules (which identity may start what, the WhatsApp window, idempotency, retries);
// adapters only verify, parse and send.

// Identity is an address the organisation talks from: an SMS/RCS number, a WhatsApp Business
// number, an email address. Its provider settings hold secrets and are never shown.
type Identity struct {
	ID      string
	Channel Channel
	// Address is an E.164 number ("+447700900123") or an email address.
	Address string
	// Name is shown to agents, e.g. "Acme Support".
	Name string
	// Outbound says whether agents may start interactions from it (O1).
	Outbound bool
	// PlanID is where its inbound interactions are routed, and the default plan of its
	// outbound ones.
	PlanID string
	// Provider names the adapter that carries its traffic: vonage, twilio, whatsapp-cloud,
	// simulator, …
	Provider string
	// Settings are the provider's settings (API base URL, credentials, secrets).
	Settings map[string]string
	// Mailbox is where the IMAP poller stands in the identity's mailbox (email).
	Mailbox   MailboxCursor
	CreatedAt time.Time
	// Version guards every write, as for agents and plans.
	Version int64
}

// Template is a WhatsApp message template Meta approved for an identity (O2). Its body's
// placeholders are {{1}}, {{2}}, …
type Template struct {
	ID         string
	IdentityID string
	Name       string
	Language   string
	Body       string
	// ParameterCount is how many {{n}} placeholders the body takes.
	ParameterCount int
	CreatedAt      time.Time
}

// DeliveryStatus is where an outbound message on a provider channel stands.
type DeliveryStatus string

// Delivery states, in the order a message moves through them (FAILED may follow any but READ).
const (
	DeliveryPending   DeliveryStatus = "PENDING"
	DeliverySent      DeliveryStatus = "SENT"
	DeliveryDelivered DeliveryStatus = "DELIVERED"
	DeliveryRead      DeliveryStatus = "READ"
	DeliveryFailed    DeliveryStatus = "FAILED"
)

// DeliveryErrorKind says what the agent can do about a failed message (E5's classes).
type DeliveryErrorKind string

// Kinds of delivery failure.
const (
	// DeliveryTemporary: the network or the provider failed; the same message may be retried.
	DeliveryTemporary DeliveryErrorKind = "TEMPORARY"
	// DeliveryContent: the message or its address is wrong; edit and send again.
	DeliveryContent DeliveryErrorKind = "CONTENT"
	// DeliverySecurity: a security check blocked it; remove what was flagged and send again.
	DeliverySecurity DeliveryErrorKind = "SECURITY"
)

// DeliveryError is why an outbound message was not delivered. Senders return it as their
// error; any other error a sender returns counts as TEMPORARY.
type DeliveryError struct {
	Kind    DeliveryErrorKind
	Message string
	// ProviderCode is the provider's own code, e.g. WhatsApp's "131047".
	ProviderCode string `json:",omitzero"`
}

func (e *DeliveryError) Error() string {
	if e.ProviderCode != "" {
		return string(e.Kind) + " (" + e.ProviderCode + "): " + e.Message
	}
	return string(e.Kind) + ": " + e.Message
}

// TemplateUse is a template sent with its parameters filled in.
type TemplateUse struct {
	TemplateID string
	Name       string
	Language   string
	Parameters []string `json:",omitzero"`
}

// InboundMessage is one message a contact sent, as its channel adapter received it: parsed
// from a verified provider webhook, or sent by a contact the domain authenticated (webchat).
type InboundMessage struct {
	// IdentityID is the identity a provider's webhook was addressed to; "" on channels
	// without identities (webchat), which give Channel and PlanID instead.
	IdentityID string
	Channel    Channel
	// PlanID is the plan a new conversation goes to on a channel without identities; with an
	// identity, the identity's plan. A caller that has just read the identity gives its
	// Channel and PlanID, and Receive does not read it again.
	PlanID string
	// From is the contact's address (E.164 number, WhatsApp ID, email address, a webchat
	// visitor's generated address).
	From string
	// Name is the contact's name where the channel gives one (WhatsApp's profile name).
	Name string
	// ProviderMessageID is the channel's ID of the message. Receive is idempotent on it. A
	// channel that cannot repeat a message (webchat, whose visitor's request is the message)
	// leaves it empty; provider channels must set it.
	ProviderMessageID string
	Text              string
	// At is when the provider says the contact sent it (informational; zero if unknown).
	At time.Time
	// ContactTokenHash, on a message that opens a conversation, is the hash of the token the
	// contact will authenticate with (webchat); NewID is then the new interaction's ID,
	// which the token names.
	ContactTokenHash string
	NewID            string
	// Continue only joins the contact's open conversation: when it has ended, the message
	// is refused (WRONG_STATE) instead of opening a new one (a webchat visitor starts anew
	// explicitly).
	Continue bool
	// AttachmentIDs are the contact's drafts sent with the message (a webchat contact's
	// uploads: Service.Upload); each must be a draft of this interaction's contact.
	AttachmentIDs []string
	// Media are the files a provider message carries (MMS, WhatsApp images and documents):
	// Receive fetches and stores each as the contact's file of the message. Text may be
	// empty when there are media; a caption stands in for it.
	Media []InboundMedia `json:",omitzero"`
	// Email is set on an email: its headers and raw HTML body (the domain sanitises it);
	// ProviderMessageID is then its Message-ID. Text is its plain-text part.
	Email *EmailDetails `json:",omitzero"`
}

// InboundMedia is one file of an inbound provider message, still at the provider. The
// adapter supplies Open, which closes over the identity's credentials: the domain never sees
// them, and knows nothing of how the provider serves its files.
type InboundMedia struct {
	// FileName is the name the provider gives (a WhatsApp document's filename), or a word
	// for the kind of file ("image"); it is sanitised and given the sniffed type's extension.
	FileName string
	// ContentType is the type the provider declares; the stored type is sniffed from the
	// bytes all the same.
	ContentType string
	// Caption is the text the contact wrote with the file, if any.
	Caption string
	// Source names where the file is fetched from, for the transcript: "WhatsApp", "Twilio".
	Source string
	// ContentID is an email part's Content-ID, which its HTML names with cid: (inline images).
	ContentID string
	// Open starts the download. The caller reads the body to its end (or gives up) and
	// closes it; ctx bounds the whole download, reading included. Its errors say, in words
	// an agent can read, why the file could not be fetched (never a credential or a URL's
	// query).
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
}

// Received is what Receive did with an inbound message.
type Received struct {
	Message     *Message
	Interaction *Interaction
	// Duplicate: the message was stored before (the provider delivered it again).
	Duplicate bool
	// Opened: the message opened a new interaction.
	Opened bool
}

// DeliveryReport is a provider's status callback for a message the desk sent.
type DeliveryReport struct {
	IdentityID string
	// MessageID is the desk's own ID of the message when the provider echoes it back
	// (Vonage's client_ref, WhatsApp's biz_opaque_callback_data, a Twilio status callback
	// URL's query); it is matched first.
	MessageID string
	// ProviderMessageID is the ID the provider returned when the message was sent.
	ProviderMessageID string
	Status            DeliveryStatus
	// Error explains a FAILED status.
	Error *DeliveryError
}

// Outgoing is what a Sender is asked to deliver: a stored PENDING message.
type Outgoing struct {
	Identity *Identity
	// To is the contact's address.
	To      string
	Message *Message
	// Files are the message's attachments, in the order they were attached.
	Files []OutgoingFile
}

// OutgoingFile is one file of an outbound message, in both forms providers take: the bytes,
// for those that take an upload (WhatsApp Cloud), and a link, for those that fetch
// (Twilio, Vonage).
type OutgoingFile struct {
	Attachment
	// Link is a signed URL to the bytes that works for FileLinkTTL; "" when this server has
	// no public URL to give.
	Link string
	// Open reads the bytes.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Sender delivers outbound messages through one provider. It returns the provider's ID of
// the message, or an error: a *DeliveryError says how it failed, anything else is TEMPORARY.
// A Sender must not retry by itself: the outbox does, with backoff.
type Sender interface {
	Send(ctx context.Context, out Outgoing) (providerMessageID string, err error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, out Outgoing) (string, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, out Outgoing) (string, error) { return f(ctx, out) }

// whatsAppWindow is how long a contact's message lets the business send free text (O2).
const whatsAppWindow = 24 * time.Hour

// FreeTextUntil is until when free text may be sent on a WhatsApp interaction: 24 hours after
// the contact's last message, or nil when only templates may be sent now (O2). Other channels
// have no window: nil.
func (ix *Interaction) FreeTextUntil(now time.Time) *time.Time {
	if ix.Channel != WhatsApp || ix.ContactWroteAt == nil {
		return nil
	}
	until := ix.ContactWroteAt.Add(whatsAppWindow)
	if !until.After(now) {
		return nil
	}
	return &until
}

// threadKey names the open conversation of a contact on an identity (or, without one, on a
// channel): an inbound message joins the live interaction holding this key, or opens a new one.
func threadKey(source, contact string) string { return source + "|" + contact }

// externalKey is the store key of a channel's message ID, unique per identity (or channel).
func externalKey(source, providerMessageID string) string {
	return source + "|" + providerMessageID
}

// source is what scopes an inbound message's thread and message ID: its identity, or its
// channel when it has none.
func (in InboundMessage) source() string {
	if in.IdentityID != "" {
		return in.IdentityID
	}
	return string(in.Channel)
}
