// Package workspace is agentdesk's domain: agents, plans, interactions, offers and the
// rules that move them. It imports no driver and no transport; adapters (sqlite, mongo,
// graph) talk to it through the interfaces declared here.
package workspace

import (
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Channel is the medium an interaction arrives on.
type Channel string

// The channels agentdesk knows.
const (
	SMS      Channel = "SMS"
	RCS      Channel = "RCS"
	WhatsApp Channel = "WHATSAPP"
	Webchat  Channel = "WEBCHAT"
	Email    Channel = "EMAIL"
	Voice    Channel = "VOICE"
)

// Channels lists every channel in display order.
var Channels = []Channel{SMS, RCS, WhatsApp, Webchat, Email, Voice}

// Presence says whether an agent takes new work (P1).
type Presence string

// Presence states.
const (
	Ready    Presence = "READY"
	NotReady Presence = "NOT_READY"
	Offline  Presence = "OFFLINE"
)

// Valid reports whether p is one of the known presence states.
func (p Presence) Valid() bool { return p == Ready || p == NotReady || p == Offline }

// Role says what an agent may do beyond handling interactions.
type Role string

// Roles.
const (
	RoleAgent      Role = "AGENT"
	RoleSupervisor Role = "SUPERVISOR"
)

// Agent is a person who handles interactions.
type Agent struct {
	ID            string
	Username      string
	Name          string
	PasswordHash  []byte `secret:"true"` // bcrypt; never leaves the store
	Role          Role
	Presence      Presence
	PresenceSince time.Time
	AutoAccept    bool
	// Capacity is the most live interactions per channel (P2).
	Capacity map[Channel]int
	// PlanIDs are the plans whose queues the agent serves.
	PlanIDs []string
	// Holds are the interactions that use the agent's capacity now: offered, active and
	// wrapping ones. Routing reserves a hold here before it offers, so capacity is enforced by
	// one version-guarded write on this record, even when several nodes route at once.
	Holds []Hold
	// LastOfferAt is when the agent was last offered an interaction; with PresenceSince it
	// says who has been idle longest (P6).
	LastOfferAt time.Time
	// MissedOffers counts offers in a row that expired unanswered (P5).
	MissedOffers int
	// Recent are the agents this one transferred to or received a transfer from, most
	// recent first, at most MaxRecentPeers (T2's "recently contacted" filter).
	Recent    []Peer
	CreatedAt time.Time
	// Signature is the agent's default email signature, sanitised HTML (E2).
	Signature string
	// CallEndpoint is where the agent takes calls; "" means SOFTPHONE.
	CallEndpoint CallEndpoint
	// Disabled agents cannot sign in and are offered nothing; their history stays.
	Disabled bool
	// Version guards every write: a store updates the record only if it still holds this version.
	Version int64
}

// Clone copies a, sharing no slice or map with it: the stores' and the session cache's copies
// are handed to callers who change them.
func (a *Agent) Clone() *Agent {
	c := *a
	c.PasswordHash = slices.Clone(a.PasswordHash)
	c.Capacity = maps.Clone(a.Capacity)
	c.PlanIDs = slices.Clone(a.PlanIDs)
	c.Holds = slices.Clone(a.Holds)
	c.Recent = slices.Clone(a.Recent)
	return &c
}

// DefaultCapacity is what a new agent may hold per channel: one call, four messaging
// conversations, two emails (P2's anchors).
func DefaultCapacity() map[Channel]int {
	return map[Channel]int{SMS: 4, RCS: 4, WhatsApp: 4, Webchat: 4, Email: 2, Voice: 1}
}

// DispositionCode categorises how an interaction ended.
type DispositionCode struct {
	Code  string
	Label string
}

// Plan is an interaction plan: a queue with the rules that apply to its interactions.
type Plan struct {
	ID                  string
	Name                string
	Channels            []Channel
	DispositionCodes    []DispositionCode
	DispositionRequired bool
	// WrapSeconds is the wrap timer when codes are optional; 0 means no timer.
	WrapSeconds int
	// OfferTimeoutSeconds is how long an offer waits for an answer (P5); 0 means the default.
	OfferTimeoutSeconds int
	// AutoAccept makes every offer of this plan accepted at once (P4).
	AutoAccept bool
	// AutoParkSeconds parks an ACTIVE interaction after this long without a message from
	// its contact (K2); 0 means auto-park is off.
	AutoParkSeconds int
	// ParkedTimeoutSeconds is how long a parked interaction waits for the contact (K5); 0
	// means DefaultParkedTimeout.
	ParkedTimeoutSeconds int
	// PostParkingPlanID is the plan whose queue takes a parked interaction the contact
	// woke when its agent cannot take it back; "" means a reply ends it at once (K6).
	PostParkingPlanID string
	// DispositionAssist lets Agent Assist learn the plan's codes from its completed
	// interactions and suggest them (W4); SummaryAssist offers Insert Summary (W4). Both are
	// off unless a supervisor turns them on (the demo plans have them on).
	DispositionAssist bool
	SummaryAssist     bool
	CreatedAt         time.Time
	Version           int64
}

// DefaultOfferTimeout is P5's per-plan default.
const DefaultOfferTimeout = 30

// Parking defaults (K2, K5): a new plan parks after 10 minutes of contact silence, and a
// parked interaction waits an hour for the contact.
const (
	DefaultAutoParkSeconds = 600
	DefaultParkedTimeout   = 3600
)

// ParkedTimeout is how long the plan's parked interactions wait for their contact (K5).
func (p *Plan) ParkedTimeout() time.Duration {
	if p.ParkedTimeoutSeconds <= 0 {
		return DefaultParkedTimeout * time.Second
	}
	return time.Duration(p.ParkedTimeoutSeconds) * time.Second
}

// offerTimeout is how long the plan's offers, routed or transferred, wait for an answer (P5).
func (p *Plan) offerTimeout() time.Duration {
	if p.OfferTimeoutSeconds <= 0 {
		return DefaultOfferTimeout * time.Second
	}
	return time.Duration(p.OfferTimeoutSeconds) * time.Second
}

// AutoParkTimerSeconds is the contact's silence after which the system parks an ACTIVE
// interaction of the plan (K2); nil when the plan has auto-park off.
func (p *Plan) AutoParkTimerSeconds() *int {
	if p.AutoParkSeconds <= 0 {
		return nil
	}
	s := p.AutoParkSeconds
	return &s
}

// autoParkAt is when an interaction of the plan that last heard from its contact at from is
// parked for silence (K2); nil when the plan has auto-park off.
func (p *Plan) autoParkAt(from time.Time) *time.Time {
	s := p.AutoParkTimerSeconds()
	if s == nil {
		return nil
	}
	t := from.Add(time.Duration(*s) * time.Second)
	return &t
}

// WrapTimerSeconds is how long the plan's interactions stay in WRAP before the system
// completes them; nil when there is no wrap countdown: the plan requires a code, so the agent
// must choose one and complete (W3, S12), or it sets no timer.
func (p *Plan) WrapTimerSeconds() *int {
	if p.DispositionRequired || p.WrapSeconds <= 0 {
		return nil
	}
	s := p.WrapSeconds
	return &s
}

// Peer is an agent another one recently transferred to or received from.
type Peer struct {
	AgentID string
	At      time.Time
}

// MaxRecentPeers bounds Agent.Recent.
const MaxRecentPeers = 20

// RecentWindow is how far back "recently contacted" reaches (T2).
const RecentWindow = 7 * 24 * time.Hour

// remember puts peer first in the agent's recent list.
func (a *Agent) remember(peerID string, at time.Time) {
	out := []Peer{{AgentID: peerID, At: at}}
	for _, p := range a.Recent {
		if p.AgentID != peerID && len(out) < MaxRecentPeers {
			out = append(out, p)
		}
	}
	a.Recent = out
}

// Session is a signed-in agent's bearer token, stored by its hash only.
type Session struct {
	TokenHash string `secret:"true"` // a lookup key: never leaves the store
	AgentID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Scope is what an API key may do.
type Scope string

// ScopeRead lets a CRM integration read interactions and transcripts (D1).
const ScopeRead Scope = "read"

// APIKey authenticates a CRM integration. Only its hash is stored.
type APIKey struct {
	// ID names the key in the admin API; it is not the secret. Keys stored before IDs
	// existed read with LegacyAPIKeyID(KeyHash).
	ID        string
	KeyHash   string `secret:"true"` // a lookup key: never leaves the store
	Name      string
	Scopes    []Scope
	CreatedAt time.Time
	// RevokedAt is when a supervisor revoked the key; zero while it is valid.
	RevokedAt time.Time
	// LastUsedAt is when the key last authenticated a request, to the minute; zero if never.
	LastUsedAt time.Time
}

// LegacyAPIKeyID is the ID of a key stored before keys had IDs: derived from its hash, so
// it is stable across reads and nodes without a migration that writes every key.
func LegacyAPIKeyID(keyHash string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("agentdesk:api-key:"+keyHash)).String()
}

// CannedResponse is a saved reply agents insert into the composer.
type CannedResponse struct {
	ID    string
	Title string
	Text  string
	// PlanID is the plan whose agents see it; "" for every plan.
	PlanID    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// AuditEntry records one configuration change.
type AuditEntry struct {
	ID string
	At time.Time
	// ActorID is the agent who made the change; "" for the command line.
	ActorID string
	// Action is what was done, e.g. "agent.update"; see the Audit* constants.
	Action     string
	ObjectType AuditObject
	ObjectID   string
	ObjectName string
	// Before and After are JSON objects of the fields that changed; Before is "" on create.
	Before string
	After  string
}

// AuditObject is the kind of object an audit entry is about.
type AuditObject string

// Objects the audit log records changes of.
const (
	AuditAgent          AuditObject = "AGENT"
	AuditPlan           AuditObject = "PLAN"
	AuditAPIKey         AuditObject = "API_KEY"
	AuditCannedResponse AuditObject = "CANNED_RESPONSE"
	AuditIdentity       AuditObject = "IDENTITY"
	AuditWebhook        AuditObject = "WEBHOOK"
)

// InteractionState is where an interaction is in its life.
type InteractionState string

// Interaction states.
const (
	Queued    InteractionState = "QUEUED"
	Offered   InteractionState = "OFFERED"
	Active    InteractionState = "ACTIVE"
	Parked    InteractionState = "PARKED"
	Wrap      InteractionState = "WRAP"
	Completed InteractionState = "COMPLETED"
)

// Direction says who started an interaction.
type Direction string

// Directions.
const (
	Inbound  Direction = "INBOUND"
	Outbound Direction = "OUTBOUND"
)

// Contact is the customer side of an interaction.
type Contact struct {
	Address string
	Name    string
}

// Offer is an interaction offered to one agent.
type Offer struct {
	ID           string
	Interaction  Interaction
	AgentID      string
	ExpiresAt    time.Time
	AutoAccepted bool
	// TransferredBy is the sending agent of a transfer offer; "" for offers made by routing.
	TransferredBy string
}

// OfferEventKind says what happened to an offer.
type OfferEventKind string

// Offer event kinds.
const (
	OfferOffered   OfferEventKind = "OFFERED"
	OfferRescinded OfferEventKind = "RESCINDED"
	OfferExpired   OfferEventKind = "EXPIRED"
)

// OfferEvent tells an agent about one of their offers.
type OfferEvent struct {
	Kind  OfferEventKind
	Offer Offer
}

// QueueStats is one plan's queue as the supervisors' live view shows it.
type QueueStats struct {
	Plan *Plan
	// Waiting, Offered, Active, Parked and Wrap count the plan's live interactions by state.
	Waiting, Offered, Active, Parked, Wrap int
	// OldestWaitingSince is when the longest-waiting QUEUED interaction entered the queue.
	OldestWaitingSince *time.Time
	// AgentsReady and AgentsNotReady count member agents who are not disabled.
	AgentsReady, AgentsNotReady int
	// CompletedToday counts interactions completed since midnight (server time), and
	// MedianHandleSecondsToday is the median of their handling seconds; nil when none.
	CompletedToday           int
	MedianHandleSecondsToday *int
}
