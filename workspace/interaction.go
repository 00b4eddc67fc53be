package workspace

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Party says who wrote a message or ended an interaction.
type Party string

// Parties.
const (
	PartyAgent   Party = "AGENT"
	PartyContact Party = "CONTACT"
	PartySystem  Party = "SYSTEM"
)

// Interaction is one conversation with a contact on one channel. ID is its GUID (H3). Live
// interactions (every state but COMPLETED) are kept apart from history, so the live path
// never reads completed records. Its JSON is the form events carry between nodes: it leaves
// out unset fields, since events carry whole interactions and their size is the bus's cost,
// and it never holds a secret (fields tagged secret; see withoutSecrets).
type Interaction struct {
	ID        string
	Channel   Channel
	Direction Direction
	State     InteractionState
	Contact   Contact
	// AgentID is the agent the interaction is offered to or held by; after completion, the
	// agent who last held it.
	AgentID string `json:",omitzero"`
	// FormerAgentIDs are the agents who held it before and handed it on (a transfer, or a
	// parked chat that woke into a queue); they may still read it.
	FormerAgentIDs []string `json:",omitzero"`
	PlanID         string

	CreatedAt time.Time
	// UpdatedAt is when anything about it last changed (every write moves it, and a new
	// message): CRMs sync by it.
	UpdatedAt   time.Time
	AcceptedAt  *time.Time `json:",omitzero"`
	EndedAt     *time.Time `json:",omitzero"`
	EndedBy     Party      `json:",omitzero"`
	CompletedAt *time.Time `json:",omitzero"`

	Notes string `json:",omitzero"`
	// Dispositions are the chosen codes: at most one while ACTIVE (H2), several in WRAP (W3).
	Dispositions []string `json:",omitzero"`
	// WrapDeadline is when the system completes a wrapping interaction (W3, optional codes).
	WrapDeadline *time.Time `json:",omitzero"`

	// OfferSeq numbers the offers made of this interaction; the current offer's ID is derived
	// from it, so an answer to an older offer is recognised as late.
	OfferSeq     int        `json:",omitzero"`
	OfferedAt    *time.Time `json:",omitzero"`
	AutoAccepted bool       `json:",omitzero"`
	// RejectedBy lists agents who rejected it; routing does not offer it to them again (P3).
	RejectedBy []string `json:",omitzero"`

	// DueAt is when the timer of the current state fires (the offer's expiry in OFFERED, the
	// transfer offer's expiry or auto-park in ACTIVE, the parked timeout in PARKED, the wrap
	// timeout in WRAP); zero when none runs. Interaction.settle derives it from the state. Any
	// node may fire a due timer; the version guard lets exactly one succeed.
	DueAt time.Time `json:",omitzero"`

	// LastContactAt is when the contact last wrote while an agent held the interaction; nil
	// until then. Auto-park counts from it, or from the acceptance before it (K2).
	LastContactAt *time.Time `json:",omitzero"`
	// AutoParkAt is when the system parks an ACTIVE interaction for the contact's
	// silence (K2); nil when the plan has auto-park off.
	AutoParkAt *time.Time `json:",omitzero"`
	// ParkedAt and ParkedUntil bound a PARKED interaction's wait for its contact (K3, K5).
	ParkedAt    *time.Time `json:",omitzero"`
	ParkedUntil *time.Time `json:",omitzero"`
	// Transfer is a transfer offer to another agent waiting for an answer (T1), while the
	// sender still holds the interaction.
	Transfer *Transfer `json:",omitzero"`

	// ContactTokenHash authorises the webchat contact (a hash; the token is shown once). It is
	// a secret: events carry interactions without it (withoutSecrets).
	ContactTokenHash string `json:"-" secret:"true"`

	// IdentityID is the organisation's side of the conversation on a provider channel: the
	// number or address it runs on; "" for webchat.
	IdentityID string `json:",omitzero"`
	// ThreadKey joins a contact's further inbound messages to this interaction while it is
	// open (until it ends); stores keep it unique among live interactions.
	ThreadKey string `json:",omitzero"`
	// ContactWroteAt is when the contact last wrote, whoever held the interaction; WhatsApp's
	// free-text window runs 24 hours from it (O2).
	ContactWroteAt *time.Time `json:",omitzero"`
	// ParkedBy is the agent who parked a PARKED interaction, or "" when the system did (K2);
	// cleared when it leaves PARKED.
	ParkedBy string `json:",omitzero"`
	// QueuedAt is when the interaction's current stay in a queue began: its creation, or a
	// requeue that is not a turned-down offer (a lapsed or rejected offer keeps its place).
	// The live view's oldest wait is the earliest QueuedAt of a plan's QUEUED interactions.
	QueuedAt *time.Time `json:",omitzero"`
	// Assisted records whether the agent took one of Agent Assist's suggestions when choosing
	// a code (W4); "" when none was suggested.
	Assisted AssistOutcome `json:",omitzero"`
	// PreviousID is the ended interaction an email answered when it opened this one (E6):
	// the agent reads its history there.
	PreviousID string `json:",omitzero"`
	// LinkedInteractionID joins a consult call and the chat or email it was started from,
	// both ways (X1).
	LinkedInteractionID string `json:",omitzero"`
	// CallEndpoint is where the agent's side of a call is (VOICE only): their endpoint when
	// they answered or placed it.
	CallEndpoint CallEndpoint `json:",omitzero"`

	// Version guards every write: a store updates the record only if it still holds this
	// version and the expected state.
	Version int64

	// Outbox is what a create or update writes besides the record: the events that describe
	// the change (crm.go). A store writes them in the same step as the record, or neither,
	// and never returns them from a read.
	Outbox []*ChangeEvent `json:"-"`

	// Messages are messages a create or update stores with the record, after it: the
	// contact's first message of a new interaction, or the note of what the step did ("…
	// joined the chat"). A store writes each as AppendMessage would, with its own Outbox,
	// and never returns them from a read. Stamped by the domain when the record is (stamp).
	Messages []*Message `json:"-"`

	// Learnt are the Agent Assist examples a completion stores with the record
	// (CompleteInteraction; other writes ignore them): a repeat of one is left as it was.
	// Never returned from a read.
	Learnt []*AssistExample `json:"-"`
}

// Transfer is a cold transfer offered to an agent and not yet answered.
type Transfer struct {
	FromAgentID string
	ToAgentID   string
	// OfferID is the transfer offer's ID (it takes the interaction's next offer number).
	OfferID   string
	ExpiresAt time.Time
}

// withoutSecrets returns a copy of the interaction without what authorises anyone (the
// webchat contact's token hash): the form events carry, to subscribers and other nodes.
func (ix *Interaction) withoutSecrets() *Interaction {
	if ix == nil {
		return nil
	}
	c := *ix
	c.ContactTokenHash = ""
	c.FormerAgentIDs, c.RejectedBy, c.Dispositions = slices.Clone(ix.FormerAgentIDs), slices.Clone(ix.RejectedBy), slices.Clone(ix.Dispositions)
	if ix.Transfer != nil {
		t := *ix.Transfer
		c.Transfer = &t
	}
	return &c
}

// Live reports whether the interaction still uses the live store.
func (ix *Interaction) Live() bool { return ix.State != Completed }

// OfferID is the ID of the interaction's current offer.
func (ix *Interaction) OfferID() string {
	return ix.ID + "." + strconv.Itoa(ix.OfferSeq)
}

// parseOfferID splits an offer ID into the interaction's ID and the offer's number.
func parseOfferID(id string) (string, int, bool) {
	ixID, seq, ok := strings.Cut(id, ".")
	if !ok || checkID(ixID) != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(seq)
	return ixID, n, err == nil && n > 0
}

// DurationSeconds is the time from acceptance to end, once ended (W1).
func (ix *Interaction) DurationSeconds() *int {
	if ix.EndedAt == nil {
		return nil
	}
	from := ix.CreatedAt
	if ix.AcceptedAt != nil {
		from = *ix.AcceptedAt
	}
	d := int(ix.EndedAt.Sub(from).Round(time.Second) / time.Second)
	return &d
}

// Message is one entry of a transcript. IDs are time-ordered (UUIDv7), and transcripts are
// read in ID order.
type Message struct {
	ID            string
	InteractionID string
	From          Party
	// AgentID is set when From is AGENT.
	AgentID string
	Text    string
	SentAt  time.Time

	// Delivery is where an agent's message on a provider channel stands with the provider;
	// "" for webchat and inbound messages.
	Delivery      DeliveryStatus `json:",omitzero"`
	DeliveryError *DeliveryError `json:",omitzero"`
	// Template is set when the message is a template send (WhatsApp outside the window).
	Template *TemplateUse `json:",omitzero"`
	// ExternalID is the provider's ID of the message, scoped to its identity (see
	// externalKey): unique, so a retried webhook never stores a message twice, and the key
	// status callbacks are matched by.
	ExternalID string `json:",omitzero"`
	// Attempts counts the outbox's sends of a PENDING message; NextAttemptAt is when the
	// outbox may send it (again): a node claims a message by moving it into the future.
	Attempts      int       `json:",omitzero"`
	NextAttemptAt time.Time `json:",omitzero"`
	// AttachmentIDs are the files sent with the message, in the order they were attached
	// (C2); the Attachment records say what each is.
	AttachmentIDs []string `json:",omitzero"`
	// Email is set on email messages: the headers and the sanitised HTML body (E6, C5).
	Email *EmailDetails `json:",omitzero"`
	// Version guards delivery updates, as for interactions.
	Version int64 `json:",omitzero"`
	// Outbox is the MESSAGE event an append writes with the message, in the same step; a
	// store never returns it from a read.
	Outbox []*ChangeEvent `json:"-"`
}
