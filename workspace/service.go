package workspace

import (
	"sync"
	"sync/atomic"
	"time"
)

// Service is the domain's entry point: transports call its methods with a context that
// carries the caller's Principal.
type Service struct {
	Store Store
	// Hub delivers events to this node's subscribers.
	Hub *Hub
	// Bus publishes events: the Hub itself on one node, or a cross-node bus that also hands
	// every event to the Hub. Nil means the Hub.
	Bus   Publisher
	Clock Clock

	// SessionTTL is how long a login token lives.
	SessionTTL time.Duration
	// BcryptCost is the cost of new password hashes.
	BcryptCost int
	// MaxMessageChars is the longest message text, in characters.
	MaxMessageChars int
	// LoginThrottle slows password guessing; nil turns it off.
	LoginThrottle *LoginThrottle

	// ContactTokens are the channels whose contacts authenticate with their own tokens
	// (webchat); Authenticate asks each whether a bearer token is theirs.
	ContactTokens []ContactTokens
	// Providers checks identities' provider settings.
	Providers ProviderCatalog
	// Senders deliver outbound messages, by identity provider name.
	Senders map[string]Sender
	// Calls is the voice channel's media side; nil on a server without voice.
	Calls Calls
	// Outbox tunes the sending of outbound messages.
	Outbox OutboxPolicy
	// Blobs keeps the bytes of attachments; Scanner, when set, checks them for malware (E5).
	Blobs   Blobs
	Scanner Scanner
	// MaxAttachmentBytes overrides MaxAttachmentBytes (E4's 25 MB) when positive.
	MaxAttachmentBytes int64
	// MediaTimeout bounds the fetching and storing of one inbound media file (default
	// DefaultMediaTimeout).
	MediaTimeout time.Duration
	// FileURL is the URL of a sent file as a provider fetches it, given its link token
	// (OpenFileLink checks it): the server's public base URL. Nil: providers that fetch
	// files (Twilio, Vonage) cannot send them.
	FileURL func(attachmentID, token string) string
	// routers runs one routing pass at a time per plan (routePlan).
	routers planRouters
	// sessions caches signed-in agents' sessions (authcache.go).
	sessions sessionCache
	// linkKey caches the file-link signing key.
	linkKey linkKey
	// dummy is the hash an unknown username's password is checked against (dummyHash).
	dummy struct {
		once sync.Once
		hash []byte
	}
	// WebhookPolicy tunes webhook deliveries and the URLs allowed; Poster makes the deliveries
	// and Resolver checks URLs' hosts (nil: hosts given by name are not resolved).
	WebhookPolicy WebhookPolicy
	Poster        WebhookPoster
	Resolver      Resolver
	// runs are the webhook runs under way on this node; webhookKick wakes the runner.
	runs        webhookRuns
	webhookKick chan struct{}
	// noWebhooks: the last look found no webhook (DeliverWebhooks).
	noWebhooks atomic.Bool
	// outboxKick wakes the outbox when a message is queued.
	outboxKick chan struct{}
	// Summariser, when set, writes Insert Summary's recap (e.g. a language model); nil or a
	// failure uses the offline extractive summary.
	Summariser Summariser
	// assist holds this node's Agent Assist models.
	assist assistant
	// queueFeed reads the live view's figures once per push for all of a node's watchers.
	queueFeed queueFeed
}

// DefaultMaxMessageChars is the default limit on a message's length.
const DefaultMaxMessageChars = 4096

// notify publishes what happened on topic.
func (s *Service) notify(topic string, p Payload) {
	s.publish(Event{Topic: topic, Payload: p})
}

// publish hands an event to the bus. Every event the domain produces passes here, and leaves
// with its interactions copied without secrets: subscribers and other nodes never see them,
// and no later change of the caller's records reaches an event already published.
func (s *Service) publish(e Event) {
	e.Payload = withoutSecrets(e.Payload)
	switch {
	case s.Bus != nil:
		s.Bus.Publish(e)
	case s.Hub != nil:
		s.Hub.Publish(e)
	}
}

// NewService returns a service with production defaults.
func NewService(store Store, hub *Hub, clock Clock) *Service {
	return &Service{Store: store, Hub: hub, Clock: clock, SessionTTL: 12 * time.Hour, BcryptCost: 10,
		MaxMessageChars: DefaultMaxMessageChars, LoginThrottle: NewLoginThrottle(),
		Outbox: DefaultOutboxPolicy(), outboxKick: make(chan struct{}, 1),
		WebhookPolicy: DefaultWebhookPolicy(), webhookKick: make(chan struct{}, 1)}
}
