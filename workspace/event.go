package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Event is a notification for whoever listens on its topic. Subscriptions are notifications
// only: the truth is always queryable, so a client that reconnects re-queries its state.
//
// Kinds of event are an open set: each is one Payload type, registered in payloadTypes so
// that an event from another node decodes into it. The hub, the cross-node bus and the
// transports pass any payload along, and a subscriber picks the types it wants with a type
// assertion (or As). Adding a kind touches this file only, and what reads it.
type Event struct {
	// Topic routes the event, e.g. AgentTopic(id).
	Topic string
	// Origin names the node that produced the event, so a cross-node bus can skip its own.
	Origin string
	// Payload is what happened. Interactions in payloads are copies without secrets
	// (Interaction.withoutSecrets): events reach other nodes and every subscriber.
	Payload Payload
}

// EventKind names a kind of event: the name its payload goes by between nodes.
type EventKind string

// Payload is what an event carries, one type per kind.
type Payload interface {
	EventKind() EventKind
}

// The kinds of event.
const (
	KindOffer       EventKind = "offer"       // OfferEvent, on AgentTopic
	KindInteraction EventKind = "interaction" // InteractionEvent, on UpdatesTopic
	KindMessage     EventKind = "message"     // MessageEvent, on MessagesTopic
	KindFollowers   EventKind = "followers"   // FollowersEvent, on MessagesTopic
	KindUnpark      EventKind = "unpark"      // UnparkEvent, on UnparkTopic
	KindTransfer    EventKind = "transfer"    // TransferEvent, on TransferTopic
	KindRevoked     EventKind = "revoked"     // RevokedEvent, on the revocation topics
	KindAgent       EventKind = "agent"       // AgentEvent, on AgentsTopic
	KindQueue       EventKind = "queue"       // QueueEvent, on QueueTopic
	KindRtc         EventKind = "rtc"         // RtcSignalEvent, on RtcTopic
)

// payloadTypes makes an empty payload of each kind, for events decoded from other nodes.
var payloadTypes = map[EventKind]func() Payload{
	KindOffer:       func() Payload { return new(OfferEvent) },
	KindInteraction: func() Payload { return new(InteractionEvent) },
	KindMessage:     func() Payload { return new(MessageEvent) },
	KindFollowers:   func() Payload { return new(FollowersEvent) },
	KindUnpark:      func() Payload { return new(UnparkEvent) },
	KindTransfer:    func() Payload { return new(TransferEvent) },
	KindRevoked:     func() Payload { return new(RevokedEvent) },
	KindAgent:       func() Payload { return new(AgentEvent) },
	KindQueue:       func() Payload { return new(QueueEvent) },
	KindRtc:         func() Payload { return new(RtcSignalEvent) },
}

// EventKinds lists every kind of event, sorted: those a cross-node bus carries.
func EventKinds() []EventKind {
	kinds := slices.Collect(maps.Keys(payloadTypes))
	slices.Sort(kinds)
	return kinds
}

// NewPayload returns an empty payload of the kind, for decoding; nil for an unknown kind.
func NewPayload(kind EventKind) Payload {
	if mk := payloadTypes[kind]; mk != nil {
		return mk()
	}
	return nil
}

// Kind is the kind of the event's payload, "" without one.
func (e Event) Kind() EventKind {
	if e.Payload == nil {
		return ""
	}
	return e.Payload.EventKind()
}

// As returns the event's payload as a P, and whether it is one.
func As[P Payload](e Event) (P, bool) {
	p, ok := e.Payload.(P)
	return p, ok
}

// eventJSON is an event's form between nodes: the payload under its kind.
type eventJSON struct {
	Topic   string
	Origin  string `json:",omitempty"`
	Kind    EventKind
	Payload json.RawMessage
}

// MarshalJSON encodes the event with its kind, and its payload without secrets whoever built
// it: this is what crosses nodes.
func (e Event) MarshalJSON() ([]byte, error) {
	if e.Payload == nil {
		return nil, errors.New("workspace: an event without a payload")
	}
	p, err := json.Marshal(withoutSecrets(e.Payload))
	if err != nil {
		return nil, err
	}
	return json.Marshal(eventJSON{Topic: e.Topic, Origin: e.Origin, Kind: e.Kind(), Payload: p})
}

// UnmarshalJSON decodes an event MarshalJSON encoded, into the payload type of its kind. An
// unknown kind (from a newer node) is an error.
func (e *Event) UnmarshalJSON(b []byte) error {
	var raw eventJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p := NewPayload(raw.Kind)
	if p == nil {
		return fmt.Errorf("workspace: unknown kind of event %q", raw.Kind)
	}
	if err := json.Unmarshal(raw.Payload, p); err != nil {
		return fmt.Errorf("workspace: %s event: %w", raw.Kind, err)
	}
	*e = Event{Topic: raw.Topic, Origin: raw.Origin, Payload: p}
	return nil
}

// redactor is a payload that carries interactions.
type redactor interface {
	// withoutSecrets returns a copy whose interactions are copies without secrets.
	withoutSecrets() Payload
}

// withoutSecrets returns the payload as events carry it: payloads with interactions are
// copied without their secrets.
func withoutSecrets(p Payload) Payload {
	if r, ok := p.(redactor); ok {
		return r.withoutSecrets()
	}
	return p
}

// InteractionEvent tells an agent the new state of one of their interactions.
type InteractionEvent struct {
	Interaction *Interaction
}

// MessageEvent is a new message of an interaction's transcript.
type MessageEvent struct {
	Message *Message
}

// FollowersEvent tells an interaction's message feeds that its holder or transfer target
// changed, so each re-checks its right to follow. It carries only what they check: message
// feeds reach contacts too.
type FollowersEvent struct {
	Interaction *Interaction
}

// EventKind implements Payload.
func (*OfferEvent) EventKind() EventKind { return KindOffer }

// EventKind implements Payload.
func (*InteractionEvent) EventKind() EventKind { return KindInteraction }

// EventKind implements Payload.
func (*MessageEvent) EventKind() EventKind { return KindMessage }

// EventKind implements Payload.
func (*FollowersEvent) EventKind() EventKind { return KindFollowers }

// EventKind implements Payload.
func (*UnparkEvent) EventKind() EventKind { return KindUnpark }

// EventKind implements Payload.
func (*TransferEvent) EventKind() EventKind { return KindTransfer }

// EventKind implements Payload.
func (*RevokedEvent) EventKind() EventKind { return KindRevoked }

// EventKind implements Payload.
func (*AgentEvent) EventKind() EventKind { return KindAgent }

// EventKind implements Payload.
func (*QueueEvent) EventKind() EventKind { return KindQueue }

// AgentEvent says that an agent's record changed: presence, holds (their load), plans or
// settings. It carries the agent as written, without the password hash.
type AgentEvent struct {
	Agent *Agent
}

func (e *AgentEvent) withoutSecrets() Payload {
	a := *e.Agent
	a.PasswordHash = nil
	return &AgentEvent{Agent: &a}
}

// QueueEvent says that the figures of some plans' queues may have changed: an interaction
// was created, changed state or moved plan. It carries only IDs: the plans, and the agents
// who held it before and after (whose current interactions changed); whoever shows figures
// or agents reads them afresh.
type QueueEvent struct {
	PlanIDs  []string
	AgentIDs []string `json:",omitempty"`
}

func (e *OfferEvent) withoutSecrets() Payload {
	c := *e
	c.Offer.Interaction = *e.Offer.Interaction.withoutSecrets()
	return &c
}

func (e *InteractionEvent) withoutSecrets() Payload {
	return &InteractionEvent{Interaction: e.Interaction.withoutSecrets()}
}

func (e *FollowersEvent) withoutSecrets() Payload {
	return &FollowersEvent{Interaction: e.Interaction.withoutSecrets()}
}

func (e *UnparkEvent) withoutSecrets() Payload {
	c := *e
	c.Interaction = e.Interaction.withoutSecrets()
	return &c
}

func (e *TransferEvent) withoutSecrets() Payload {
	c := *e
	c.Interaction = e.Interaction.withoutSecrets()
	return &c
}

// UnparkEvent tells the agent who parked an interaction that the contact's reply woke it (K4).
type UnparkEvent struct {
	Interaction *Interaction
	Message     *Message
}

// TransferOutcome is how a transfer ended (T5, T6).
type TransferOutcome string

// Transfer outcomes.
const (
	TransferAccepted TransferOutcome = "ACCEPTED"
	TransferRejected TransferOutcome = "REJECTED"
)

// TransferEvent tells the sender of a transfer how it ended.
type TransferEvent struct {
	Interaction *Interaction
	Outcome     TransferOutcome
	// TargetAgentID is the agent who answered; "" when the target was a plan.
	TargetAgentID string
	// Reason says why a transfer was REJECTED.
	Reason TransferRejection `json:",omitempty"`
}

// TransferRejection says why a transfer to an agent did not happen.
type TransferRejection string

// Reasons for a REJECTED transfer.
const (
	RejectedByTarget TransferRejection = "REJECTED_BY_TARGET"
	RejectedExpired  TransferRejection = "EXPIRED"
	RejectedEnded    TransferRejection = "INTERACTION_ENDED"
)

// rejection is the reason a transfer offer closed this way gives the sender.
func (k OfferEventKind) rejection() TransferRejection {
	switch k {
	case OfferExpired:
		return RejectedExpired
	case OfferRescinded:
		return RejectedEnded
	}
	return RejectedByTarget
}

// AgentTopic is the topic of one agent's offer events.
func AgentTopic(agentID string) string { return "agent:" + agentID }

// UpdatesTopic is the topic of state changes of one agent's interactions.
func UpdatesTopic(agentID string) string { return "updates:" + agentID }

// UnparkTopic is the topic of one agent's unpark notifications (K4).
func UnparkTopic(agentID string) string { return "unpark:" + agentID }

// TransferTopic is the topic of the outcomes of one agent's transfers (T5, T6).
func TransferTopic(agentID string) string { return "transfers:" + agentID }

// AgentsTopic is the topic of every agent's changes (AgentEvent), for supervisors.
const AgentsTopic = "agents"

// QueueTopic is the topic of queue changes (QueueEvent), for supervisors.
const QueueTopic = "queue"

// MessagesTopic is the topic of one interaction's new messages.
func MessagesTopic(interactionID string) string { return "messages:" + interactionID }

// Publisher delivers events to subscribers: the Hub in one process, or a cross-node bus
// that also hands every event to the local Hub.
type Publisher interface {
	Publish(e Event)
}

// Hub fans events out to subscribers in one process. Each subscriber owns one buffered
// channel; publishing never blocks: a subscriber whose buffer is full is dropped and its
// channel closed, so its stream ends and the client re-subscribes and re-queries rather
// than silently missing an event.
//
// Most topics are one agent's or one interaction's, with a subscriber or two, and every
// connected agent holds a few of them for hours: each topic keeps a plain list, and each
// subscription or watch, however many topics it spans, one entry per topic and one
// context.AfterFunc (issue 14 §4).
type Hub struct {
	buffer int

	mu       sync.Mutex
	subs     map[string][]*subscriber
	watchers map[string][]*watcher
}

// watcher is a callback on its topics; see Watch.
type watcher struct {
	fn     func(Event)
	topics []string
}

// subscriber is one subscription to its topics: offer hands it an event without blocking,
// false when its buffer is full; end closes its channel. offer runs under the hub's lock
// and end after the subscriber left every topic, so a send never meets a closed channel.
type subscriber struct {
	offer  func(Event) bool
	end    func()
	once   sync.Once
	topics []string
}

func (s *subscriber) close() { s.once.Do(s.end) }

// NewHub returns a hub whose subscribers buffer up to buffer events each.
func NewHub(buffer int) *Hub {
	if buffer < 1 {
		buffer = 1
	}
	return &Hub{buffer: buffer, subs: map[string][]*subscriber{}, watchers: map[string][]*watcher{}}
}

// Subscribe returns a channel of the topic's events. The channel is closed when ctx ends or
// when the subscriber falls a whole buffer behind.
func (h *Hub) Subscribe(ctx context.Context, topic string) <-chan Event {
	ch := make(chan Event, h.buffer)
	h.add(ctx, &subscriber{
		topics: []string{topic},
		offer: func(e Event) bool {
			select {
			case ch <- e:
				return true
			default:
				return false
			}
		},
		end: func() { close(ch) },
	})
	return ch
}

// Follow is Subscribe for one kind of event, turned into the values a stream sends: the
// events of topic whose payload is a P, each mapped by pick (nil: skipped; pick runs under
// the hub's lock, so it must only pick). It holds no goroutine: the hub sends the values
// itself, in the order events were published, which makes it the right shape for the
// subscriptions every agent's socket keeps open all day (issue 14). The channel closes
// when ctx ends or the follower falls a whole buffer behind.
func Follow[P Payload, T any](ctx context.Context, h *Hub, topic string, pick func(P) *T) <-chan *T {
	return FollowTopics(ctx, h, []string{topic}, func(e Event) *T {
		if p, ok := e.Payload.(P); ok {
			return pick(p)
		}
		return nil
	})
}

// FollowTopics is Follow for several topics on one stream: each event of any of the topics,
// mapped by pick (nil: skipped; under the hub's lock, as for Follow), in the order events
// were published. It holds no goroutine, and one stream costs a socket one subscription
// where several would each cost one (issue 14). The channel closes when ctx ends or the
// follower falls a whole buffer behind on any of the topics.
func FollowTopics[T any](ctx context.Context, h *Hub, topics []string, pick func(Event) *T) <-chan *T {
	ch := make(chan *T, h.buffer)
	h.add(ctx, &subscriber{
		topics: topics,
		offer: func(e Event) bool {
			v := pick(e)
			if v == nil {
				return true
			}
			select {
			case ch <- v:
				return true
			default:
				return false
			}
		},
		end: func() { close(ch) },
	})
	return ch
}

// add registers a subscriber on its topics until ctx ends.
func (h *Hub) add(ctx context.Context, s *subscriber) {
	h.mu.Lock()
	for _, topic := range s.topics {
		h.subs[topic] = append(h.subs[topic], s)
	}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() { h.remove(s) })
}

// remove takes a subscriber off all its topics, then ends it. It may run more than once.
func (h *Hub) remove(s *subscriber) {
	h.mu.Lock()
	for _, topic := range s.topics {
		if list := without(h.subs[topic], s); len(list) > 0 {
			h.subs[topic] = list
		} else {
			delete(h.subs, topic)
		}
	}
	h.mu.Unlock()
	s.close()
}

// without removes x from list, in place (the order of the rest changes).
func without[X comparable](list []X, x X) []X {
	for i, y := range list {
		if y == x {
			last := len(list) - 1
			list[i] = list[last]
			var zero X
			list[last] = zero
			return list[:last]
		}
	}
	return list
}

// Watch calls fn with each event published on topic until ctx ends. fn runs on the
// publisher's goroutine, after the hub's lock is released, so it must return at once (close
// something, cancel a context). A watcher holds no goroutine and no buffer: the right shape
// for a watch every websocket keeps for its whole life.
func (h *Hub) Watch(ctx context.Context, topic string, fn func(Event)) {
	h.WatchTopics(ctx, []string{topic}, fn)
}

// WatchTopics is Watch for each event of any of several topics.
func (h *Hub) WatchTopics(ctx context.Context, topics []string, fn func(Event)) {
	w := h.watch(topics, fn)
	context.AfterFunc(ctx, func() { h.unwatch(w) })
}

// watch calls fn with each event of the topics until unwatch.
func (h *Hub) watch(topics []string, fn func(Event)) *watcher {
	w := &watcher{fn: fn, topics: topics}
	h.mu.Lock()
	for _, topic := range topics {
		h.watchers[topic] = append(h.watchers[topic], w)
	}
	h.mu.Unlock()
	return w
}

// unwatch ends a watch; it may run more than once.
func (h *Hub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, topic := range w.topics {
		if list := without(h.watchers[topic], w); len(list) > 0 {
			h.watchers[topic] = list
		} else {
			delete(h.watchers, topic)
		}
	}
}

// Publish delivers e to every subscriber of e.Topic without blocking, and calls its watchers.
func (h *Hub) Publish(e Event) {
	var slow []*subscriber
	var calls []func(Event)
	h.mu.Lock()
	for _, s := range h.subs[e.Topic] {
		if !s.offer(e) {
			slow = append(slow, s)
		}
	}
	for _, w := range h.watchers[e.Topic] {
		calls = append(calls, w.fn)
	}
	for _, w := range h.watchers[allTopics] {
		calls = append(calls, w.fn)
	}
	h.mu.Unlock()
	for _, s := range slow {
		h.remove(s)
	}
	for _, fn := range calls {
		fn(e)
	}
}

// allTopics is the watchers' key for WatchAll: no topic is named so.
const allTopics = "\x00all"

// WatchAll is Watch for every event of every topic, in the order each publisher publishes:
// for a node's caches, which drop what an event says has changed.
func (h *Hub) WatchAll(ctx context.Context, fn func(Event)) { h.Watch(ctx, allTopics, fn) }

// Watchers counts the watchers of every topic.
func (h *Hub) Watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.watchers {
		n += len(set)
	}
	return n
}

// TopicWatchers counts the watchers of one topic.
func (h *Hub) TopicWatchers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watchers[topic])
}

// Subscribers counts the open subscriptions of a topic.
func (h *Hub) Subscribers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[topic])
}

// Count counts the open subscriptions of every topic.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}
