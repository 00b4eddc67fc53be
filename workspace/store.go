package workspace

import (
	"context"
	"time"
)

// Store is the one storage port. The sqlite and mongo packages implement it and pass the
// same contract suite (storetest). Rules every implementation keeps:
//   - a missing record is an *Error with code NOT_FOUND;
//   - a create that collides with a unique key (ID, username, plan name, hash) is CONFLICT;
//   - a create stores the record's Version as given (normally 0);
//   - every Update is one conditional write on one record: it succeeds only if the stored
//     version equals the given record's Version, stores Version+1 and returns CONFLICT
//     otherwise (also when the record is missing or the update collides with a unique key).
//     There are no multi-record transactions;
//   - Session may return a session past its ExpiresAt (MongoDB's TTL index removes them
//     within a minute, SQLite keeps them): callers check ExpiresAt;
//   - names (usernames, plan names) compare case-sensitively and sort bytewise;
//   - Close may be called more than once.
type Store interface {
	// Ping makes one round trip to the database.
	Ping(ctx context.Context) error
	Close() error

	CreateAgent(ctx context.Context, a *Agent) error
	Agent(ctx context.Context, id string) (*Agent, error)
	AgentByUsername(ctx context.Context, username string) (*Agent, error)
	// Agents returns every agent ordered by username.
	Agents(ctx context.Context) ([]*Agent, error)
	// ReadyAgents returns the READY agents who are not disabled, serve at least one of the
	// plans (any plan when planIDs is empty) and have room on the channel (Agent.RoomOn;
	// whatever their room when ch is ""), the one idle longest first (Agent.IdleSince, then
	// ID), at most limit of them when limit > 0. Routing reads a few of these alone, so its
	// cost follows neither how many agents are stored nor how many are busy or ready. An
	// adapter may return agents without room too (records written before it kept the
	// projection): routing checks each agent it reads.
	ReadyAgents(ctx context.Context, planIDs []string, ch Channel, limit int) ([]*Agent, error)
	// SweptAgents returns the agents the sweep looks at, in no set order: the READY agents
	// who are not disabled, and the agents holding an interaction reserved at or before
	// heldBefore (an adapter may return agents whose holds are all younger too). Every node
	// sweeps every 2 s: an adapter lists these without decoding every agent stored.
	SweptAgents(ctx context.Context, heldBefore time.Time) ([]*Agent, error)
	// UpdateAgent writes a if the stored version is a.Version, and then sets a.Version+1.
	UpdateAgent(ctx context.Context, a *Agent) error
	// SearchAgents returns up to limit agents whose username or name contains search
	// (ignoring case; "" matches all) and whose username sorts after `after` ("" = from the
	// start), ordered by username; and how many agents match the search in all.
	SearchAgents(ctx context.Context, search, after string, limit int) ([]*Agent, int, error)

	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, tokenHash string) (*Session, error)
	// DeleteSession removes a session; deleting a missing one is NOT_FOUND.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteAgentSessions removes every session of an agent and says how many there were.
	DeleteAgentSessions(ctx context.Context, agentID string) (int, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKey(ctx context.Context, keyHash string) (*APIKey, error)
	// RevokeAPIKey sets a key's RevokedAt unless it is set already (then the first time
	// stays); a missing key is NOT_FOUND.
	RevokeAPIKey(ctx context.Context, keyHash string, at time.Time) error
	// APIKeys returns every key, newest (CreatedAt) first, then by ID.
	APIKeys(ctx context.Context) ([]*APIKey, error)
	// TouchAPIKey sets a key's LastUsedAt to at if that is later than the stored one; a
	// missing key is NOT_FOUND.
	TouchAPIKey(ctx context.Context, keyHash string, at time.Time) error

	// CreateCannedResponse stores a canned response (CONFLICT if its ID exists).
	CreateCannedResponse(ctx context.Context, c *CannedResponse) error
	CannedResponse(ctx context.Context, id string) (*CannedResponse, error)
	// CannedResponses returns every canned response ordered by title, then ID.
	CannedResponses(ctx context.Context) ([]*CannedResponse, error)
	// UpdateCannedResponse writes c if the stored version is c.Version, then sets c.Version+1.
	UpdateCannedResponse(ctx context.Context, c *CannedResponse) error
	// DeleteCannedResponse removes one; a missing one is NOT_FOUND.
	DeleteCannedResponse(ctx context.Context, id string) error

	// AppendAudit adds an entry to the audit log (CONFLICT if its ID exists).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog returns up to limit entries matching f, newest first (At descending, then ID
	// descending), starting after the cursor (nil: from the newest).
	AuditLog(ctx context.Context, f AuditFilter, after *AuditCursor, limit int) ([]*AuditEntry, error)

	// QueueFigures counts, per plan, what the supervisors' live view shows: live
	// interactions by state, the earliest QueuedAt (else CreatedAt) of the QUEUED ones,
	// member agents who are not disabled by presence, and the interactions completed at or
	// after completedSince with the median of their handling seconds (AcceptedAt to
	// CompletedAt; those never accepted do not count towards the median). Plans with nothing
	// to count may be absent. It reads aggregates, not every record: its cost must not
	// grow with the number of completed interactions of earlier days.
	QueueFigures(ctx context.Context, completedSince time.Time) (map[string]*PlanFigures, error)

	CreatePlan(ctx context.Context, p *Plan) error
	Plan(ctx context.Context, id string) (*Plan, error)
	// Plans returns every plan ordered by name.
	Plans(ctx context.Context) ([]*Plan, error)
	// UpdatePlan writes p if the stored version is p.Version, and then sets p.Version+1.
	UpdatePlan(ctx context.Context, p *Plan) error

	// CreateInteraction stores a new live interaction (CONFLICT if the ID exists), then the
	// messages it carries (Interaction.Messages), each as AppendMessage stores one but
	// without moving UpdatedAt, which they share with the record. UpdateInteraction does the
	// same with an update's. A store with transactions writes the record and its messages
	// in one; without, the messages follow the record and an error among them is returned.
	CreateInteraction(ctx context.Context, ix *Interaction) error
	// Interaction returns a live interaction, or else a completed one from history.
	Interaction(ctx context.Context, id string) (*Interaction, error)
	// UpdateInteraction writes a live interaction if the stored one is in state from with
	// version ix.Version and an UpdatedAt no later than ix.UpdatedAt (a message appended since
	// the read moved it: see AppendMessage), and then sets ix.Version+1; CONFLICT otherwise
	// (also when missing).
	UpdateInteraction(ctx context.Context, ix *Interaction, from InteractionState) error
	// ArchiveInteraction moves a COMPLETED interaction from the live set to history: it
	// writes ix to history (replacing an earlier copy), then deletes the live record if it is
	// COMPLETED. Calling it again finishes a move a crash interrupted.
	ArchiveInteraction(ctx context.Context, ix *Interaction) error
	// CompleteInteraction is UpdateInteraction of ix, COMPLETED, followed by
	// ArchiveInteraction: guarded as UpdateInteraction is, it writes ix to history with its
	// events and the messages it carries and removes the live record. A store with
	// transactions makes it one write; one without makes the two in that order, and a crash
	// between them leaves a COMPLETED live record that the sweep archives.
	CompleteInteraction(ctx context.Context, ix *Interaction, from InteractionState) error
	// LiveInteractions lists live interactions matching f: ordered by DueAt when
	// f.DueBefore is set, else by CreatedAt then ID.
	LiveInteractions(ctx context.Context, f LiveFilter) ([]*Interaction, error)
	// Interactions pages through live (not COMPLETED) and archived interactions together,
	// ordered by CreatedAt then ID (UpdatedAt then ID when f.UpdatedAfter is set), starting
	// after the cursor (nil: from the start).
	Interactions(ctx context.Context, f InteractionFilter, after *InteractionCursor, limit int) ([]*Interaction, error)

	// LiveInteractionByThread returns the live interaction whose ThreadKey is key, NOT_FOUND
	// if none. A non-empty ThreadKey is unique among live interactions: a create or update
	// that would repeat one is CONFLICT.
	LiveInteractionByThread(ctx context.Context, key string) (*Interaction, error)

	// CreateIdentity stores a channel identity (CONFLICT if its ID, or its channel and
	// address together, exist).
	CreateIdentity(ctx context.Context, id *Identity) error
	Identity(ctx context.Context, id string) (*Identity, error)
	// Identities returns every identity ordered by name, then ID.
	Identities(ctx context.Context) ([]*Identity, error)
	// UpdateIdentity writes id if the stored version is id.Version, and then sets
	// id.Version+1 (CONFLICT also when the channel and address collide with another).
	UpdateIdentity(ctx context.Context, id *Identity) error

	// CreateTemplate stores a template (CONFLICT if its ID, or its identity, name and
	// language together, exist).
	CreateTemplate(ctx context.Context, t *Template) error
	Template(ctx context.Context, id string) (*Template, error)
	// Templates returns an identity's templates ordered by name, then language.
	Templates(ctx context.Context, identityID string) ([]*Template, error)

	// AppendMessage adds a message to a transcript (CONFLICT if its ID exists, or its
	// non-empty ExternalID), and moves its interaction's UpdatedAt (live or archived) to the
	// message's SentAt if that is later, without changing its Version: on SQLite in the same
	// transaction, on MongoDB in a second write right after.
	AppendMessage(ctx context.Context, m *Message) error
	// Messages returns up to limit messages of an interaction whose ID sorts after the
	// given one ("" = from the start), in ID order.
	Messages(ctx context.Context, interactionID, after string, limit int) ([]*Message, error)
	// Message returns one message by its ID.
	Message(ctx context.Context, id string) (*Message, error)
	// MessageByExternalID returns the message whose ExternalID is key, NOT_FOUND if none.
	MessageByExternalID(ctx context.Context, key string) (*Message, error)
	// UpdateMessage writes m if the stored version is m.Version, and then sets m.Version+1;
	// CONFLICT otherwise (also when missing, or when its ExternalID collides).
	UpdateMessage(ctx context.Context, m *Message) error
	// DueMessages returns up to limit PENDING messages whose NextAttemptAt is at or before
	// due, ordered by NextAttemptAt then ID: the outbox's work.
	DueMessages(ctx context.Context, due time.Time, limit int) ([]*Message, error)
	// PendingMessages returns up to limit PENDING messages of one interaction, in ID order
	// (limit <= 0: all of them): the order the outbox sends them in.
	PendingMessages(ctx context.Context, interactionID string, limit int) ([]*Message, error)
	// CreateAttachment stores an attachment's record (CONFLICT if its ID exists).
	CreateAttachment(ctx context.Context, a *Attachment) error
	Attachment(ctx context.Context, id string) (*Attachment, error)
	// UpdateAttachment writes a if the stored version is a.Version, and then sets
	// a.Version+1; CONFLICT otherwise (also when missing).
	UpdateAttachment(ctx context.Context, a *Attachment) error
	// MessageAttachments returns the attachments of the given messages, by message ID then
	// attachment ID: one read for a page of a transcript.
	MessageAttachments(ctx context.Context, messageIDs []string) ([]*Attachment, error)
	// ExpiredDrafts returns up to limit drafts (no MessageID) whose ExpiresAt is at or
	// before t, oldest first.
	ExpiredDrafts(ctx context.Context, t time.Time, limit int) ([]*Attachment, error)
	// DeleteAttachment removes an attachment's record; a missing one is NOT_FOUND.
	DeleteAttachment(ctx context.Context, id string) error

	// SigningKey returns the key stored under name, storing fresh there first when there is
	// none: every node that asks gets the key the first one stored (file links, issue 12).
	SigningKey(ctx context.Context, name string, fresh []byte) ([]byte, error)
	// AddAssistExample keeps what Agent Assist learns from a completed interaction
	// (CONFLICT if its ID exists, so a repeated completion step stores it once).
	AddAssistExample(ctx context.Context, e *AssistExample) error
	// AssistExamples returns up to limit examples of a plan whose ID sorts after `after`
	// ("" = from the start), in ID order.
	AssistExamples(ctx context.Context, planID, after string, limit int) ([]*AssistExample, error)

	// CountMessages counts an interaction's messages.
	CountMessages(ctx context.Context, interactionID string) (int, error)
	// LastMessage returns an interaction's latest message, NOT_FOUND if it has none.
	LastMessage(ctx context.Context, interactionID string) (*Message, error)

	// Change events (crm.go). CreateInteraction, UpdateInteraction and AppendMessage write
	// the record's Outbox in the same step as the record: both are stored or neither. Each
	// stored event gets a Seq in one order of all events, larger for events stored later,
	// so a reader that read every event up to a Seq and reads on from it misses none
	// (a store may publish events in that order a moment after the write, never out of it).

	// Events returns up to limit stored events whose Seq is above after, in Seq order.
	Events(ctx context.Context, after int64, limit int) ([]*ChangeEvent, error)
	// Event returns one stored event by its ID, with its Seq; NOT_FOUND if none.
	Event(ctx context.Context, id string) (*ChangeEvent, error)
	// LastEventSeq is the Seq of the latest stored event, 0 when there is none.
	LastEventSeq(ctx context.Context) (int64, error)

	// CreateWebhook stores a webhook (CONFLICT if its ID exists).
	CreateWebhook(ctx context.Context, w *Webhook) error
	Webhook(ctx context.Context, id string) (*Webhook, error)
	// Webhooks returns every webhook ordered by CreatedAt, then ID.
	Webhooks(ctx context.Context) ([]*Webhook, error)
	// UpdateWebhook writes w if the stored version is w.Version, then sets w.Version+1;
	// CONFLICT otherwise (also when missing).
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes a webhook and its failed deliveries; a missing one is NOT_FOUND.
	DeleteWebhook(ctx context.Context, id string) error
	// SaveFailedDelivery stores a delivery that failed for good, replacing an earlier one of
	// the same webhook and event.
	SaveFailedDelivery(ctx context.Context, d *WebhookDelivery) error
	// FailedDeliveries returns up to limit failed deliveries of a webhook, newest
	// (LastAttemptAt) first, then by event ID descending.
	FailedDeliveries(ctx context.Context, webhookID string, limit int) ([]*WebhookDelivery, error)
	// DeleteFailedDelivery removes one; a missing one is NOT_FOUND.
	DeleteFailedDelivery(ctx context.Context, webhookID, eventID string) error
}

// LiveFilter selects live interactions. Empty fields select everything.
type LiveFilter struct {
	AgentID string
	PlanIDs []string
	States  []InteractionState
	// DueBefore selects interactions whose timer is due at or before it (DueAt set).
	DueBefore time.Time
	// Limit caps the result; 0 means no cap.
	Limit int
}

// InteractionFilter selects interactions for CRM reads (D1). Empty fields select everything.
type InteractionFilter struct {
	States         []InteractionState
	Channels       []Channel
	AgentID        string
	ContactAddress string
	CreatedAfter   *time.Time
	CreatedBefore  *time.Time
	// UpdatedAfter selects interactions whose UpdatedAt is at or after it, and orders the
	// page by UpdatedAt then ID (the cursor's UpdatedAt) instead of CreatedAt then ID.
	UpdatedAfter *time.Time
	PlanID       string
}

// AuditFilter selects audit entries. Empty fields select everything.
type AuditFilter struct {
	ObjectType AuditObject
	ObjectID   string
}

// AuditCursor is a position in the audit log's newest-first order.
type AuditCursor struct {
	At time.Time
	ID string
}

// PlanFigures is one plan's counts for the live view (Store.QueueFigures).
type PlanFigures struct {
	// States counts live interactions (not COMPLETED) whose PlanID is the plan, by state.
	States map[InteractionState]int
	// OldestQueuedAt is the earliest QueuedAt (CreatedAt when QueuedAt is unset) of the
	// plan's QUEUED interactions; nil when none wait.
	OldestQueuedAt *time.Time
	// Presence counts the agents who serve the plan and are not disabled, by presence.
	Presence map[Presence]int
	// Completed counts the plan's interactions completed since the given time.
	Completed int
	// MedianHandleSeconds is the median of their whole handling seconds (AcceptedAt to
	// CompletedAt, the lower middle one for an even count); nil when none was accepted.
	MedianHandleSeconds *int
}

// InteractionCursor is a position in the CreatedAt-then-ID order, or in the
// UpdatedAt-then-ID order when the filter has UpdatedAfter (then CreatedAt holds the
// UpdatedAt).
type InteractionCursor struct {
	CreatedAt time.Time
	ID        string
}
