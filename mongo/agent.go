package mongo

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// agentDoc is an agent as stored in the agents collection.
type agentDoc struct {
	ID            string                    `bson:"_id"`
	Username      string                    `bson:"username"`
	Name          string                    `bson:"name"`
	PasswordHash  []byte                    `bson:"passwordHash"`
	Role          workspace.Role            `bson:"role"`
	Presence      workspace.Presence        `bson:"presence"`
	PresenceSince time.Time                 `bson:"presenceSince"`
	AutoAccept    bool                      `bson:"autoAccept"`
	Capacity      map[workspace.Channel]int `bson:"capacity"`
	PlanIDs       []string                  `bson:"planIds"`
	Holds         []holdDoc                 `bson:"holds"`
	LastOfferAt   time.Time                 `bson:"lastOfferAt"`
	MissedOffers  int                       `bson:"missedOffers"`
	Recent        []peerDoc                 `bson:"recent"`
	CreatedAt     time.Time                 `bson:"createdAt"`
	Disabled      bool                      `bson:"disabled,omitempty"`
	Signature     string                    `bson:"signature,omitempty"`
	// CallEndpoint is where the agent takes calls; absent means SOFTPHONE.
	CallEndpoint workspace.CallEndpoint `bson:"callEndpoint,omitempty"`
	// Room is Agent.RoomOn, the channels with a free slot, which ReadyAgents selects on; a
	// document written before it was kept has none, and is always read.
	Room []workspace.Channel `bson:"room"`
	// IdleSince is Agent.IdleSince, the order in which ReadyAgents returns agents.
	IdleSince time.Time `bson:"idleSince"`
	Version   int64     `bson:"version"`
}

// peerDoc is one recently contacted agent inside an agentDoc.
type peerDoc struct {
	AgentID string    `bson:"agentId"`
	At      time.Time `bson:"at"`
}

// holdDoc is one hold inside an agentDoc.
type holdDoc struct {
	InteractionID string            `bson:"interactionId"`
	Channel       workspace.Channel `bson:"channel"`
	Since         time.Time         `bson:"since"`
}

func toAgentDoc(a *workspace.Agent) agentDoc {
	var holds []holdDoc
	for _, h := range a.Holds {
		holds = append(holds, holdDoc{InteractionID: h.InteractionID, Channel: h.Channel, Since: h.Since})
	}
	var recent []peerDoc
	for _, p := range a.Recent {
		recent = append(recent, peerDoc{AgentID: p.AgentID, At: p.At})
	}
	return agentDoc{
		Recent: recent, Room: append([]workspace.Channel{}, a.RoomOn()...), IdleSince: a.IdleSince(),
		ID: a.ID, Username: a.Username, Name: a.Name, PasswordHash: a.PasswordHash,
		Role: a.Role, Presence: a.Presence, PresenceSince: a.PresenceSince, AutoAccept: a.AutoAccept,
		Capacity: a.Capacity, PlanIDs: a.PlanIDs, Holds: holds, LastOfferAt: a.LastOfferAt,
		MissedOffers: a.MissedOffers, CreatedAt: a.CreatedAt, Disabled: a.Disabled, Signature: a.Signature, Version: a.Version,
		CallEndpoint: a.CallEndpoint,
	}
}

func (d *agentDoc) agent() *workspace.Agent {
	var holds []workspace.Hold
	for _, h := range d.Holds {
		holds = append(holds, workspace.Hold{InteractionID: h.InteractionID, Channel: h.Channel, Since: h.Since.UTC()})
	}
	var recent []workspace.Peer
	for _, p := range d.Recent {
		recent = append(recent, workspace.Peer{AgentID: p.AgentID, At: p.At.UTC()})
	}
	return &workspace.Agent{
		Recent: recent,
		ID:     d.ID, Username: d.Username, Name: d.Name, PasswordHash: d.PasswordHash,
		Role: d.Role, Presence: d.Presence, PresenceSince: d.PresenceSince.UTC(), AutoAccept: d.AutoAccept,
		Capacity: d.Capacity, PlanIDs: d.PlanIDs, Holds: holds, LastOfferAt: d.LastOfferAt.UTC(),
		MissedOffers: d.MissedOffers, CreatedAt: d.CreatedAt.UTC(), Disabled: d.Disabled, Signature: d.Signature, Version: d.Version,
		CallEndpoint: d.CallEndpoint,
	}
}

// CreateAgent stores a new agent; a taken ID or username is CONFLICT.
func (s *Store) CreateAgent(ctx context.Context, a *workspace.Agent) error {
	return insert(ctx, s.agents, toAgentDoc(a), "Agent")
}

// Agent returns the agent with this ID.
func (s *Store) Agent(ctx context.Context, id string) (*workspace.Agent, error) {
	return s.findAgent(ctx, bson.D{{Key: "_id", Value: id}})
}

// AgentByUsername returns the agent with this username.
func (s *Store) AgentByUsername(ctx context.Context, username string) (*workspace.Agent, error) {
	return s.findAgent(ctx, bson.D{{Key: "username", Value: username}})
}

func (s *Store) findAgent(ctx context.Context, filter bson.D) (*workspace.Agent, error) {
	var d agentDoc
	if err := findOne(ctx, s.agents, filter, &d, "Agent"); err != nil {
		return nil, err
	}
	return d.agent(), nil
}

// Agents returns every agent ordered by username.
func (s *Store) Agents(ctx context.Context) ([]*workspace.Agent, error) {
	var docs []agentDoc
	if err := findAll(ctx, s.agents, "username", &docs); err != nil {
		return nil, err
	}
	agents := make([]*workspace.Agent, len(docs))
	for i := range docs {
		agents[i] = docs[i].agent()
	}
	return agents, nil
}

// ReadyAgents returns the READY, enabled agents serving any of the plans, idle longest first
// (at most limit of them when limit > 0).
func (s *Store) ReadyAgents(ctx context.Context, planIDs []string, ch workspace.Channel, limit int) ([]*workspace.Agent, error) {
	filter := bson.D{{Key: "presence", Value: workspace.Ready}, {Key: "disabled", Value: bson.D{{Key: "$ne", Value: true}}}}
	if ch != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "room", Value: ch}},
			bson.D{{Key: "room", Value: bson.D{{Key: "$exists", Value: false}}}},
		}})
	}
	if len(planIDs) > 0 {
		filter = append(filter, bson.E{Key: "planIds", Value: bson.D{{Key: "$in", Value: planIDs}}})
	}
	opts := options.Find().SetSort(keysOf("idleSince", "_id"))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	return s.findAgents(ctx, "ready agents", filter, opts)
}

// SweptAgents returns the READY, enabled agents and the agents holding an interaction
// reserved at or before heldBefore: an $or of two indexed conditions (presence, and the
// holds' reservation times), so MongoDB reads neither the idle agents nor the busy ones
// whose holds are all young.
func (s *Store) SweptAgents(ctx context.Context, heldBefore time.Time) ([]*workspace.Agent, error) {
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "presence", Value: workspace.Ready}, {Key: "disabled", Value: bson.D{{Key: "$ne", Value: true}}}},
		bson.D{{Key: "holds.since", Value: bson.D{{Key: "$lte", Value: heldBefore}}}},
	}}}
	return s.findAgents(ctx, "swept agents", filter, options.Find())
}

// findAgents decodes the agents a query finds; what names the query in an error.
func (s *Store) findAgents(ctx context.Context, what string, filter bson.D, opts *options.FindOptionsBuilder) ([]*workspace.Agent, error) {
	cur, err := s.agents.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: %s: %w", what, err)
	}
	var docs []agentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: %s: %w", what, err)
	}
	agents := make([]*workspace.Agent, len(docs))
	for i := range docs {
		agents[i] = docs[i].agent()
	}
	return agents, nil
}

// UpdateAgent replaces the stored agent if its version is still a.Version, and then
// increments a.Version; otherwise it is CONFLICT.
func (s *Store) UpdateAgent(ctx context.Context, a *workspace.Agent) error {
	d := toAgentDoc(a)
	d.Version++
	if err := replaceVersion(ctx, s.agents, a.ID, a.Version, d, "Agent"); err != nil {
		return err
	}
	a.Version = d.Version
	return nil
}

// SearchAgents returns up to limit agents (limit <= 0: all) whose username or name contains
// search ignoring case and whose username sorts after `after`, by username, and how many
// match the search in all.
func (s *Store) SearchAgents(ctx context.Context, search, after string, limit int) ([]*workspace.Agent, int, error) {
	filter := bson.D{}
	if search != "" {
		contains := bson.Regex{Pattern: regexp.QuoteMeta(search), Options: "i"}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "username", Value: contains}}, bson.D{{Key: "name", Value: contains}},
		}})
	}
	total, err := s.agents.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("mongo: count agents: %w", err)
	}
	filter = append(filter, bson.E{Key: "username", Value: bson.D{{Key: "$gt", Value: after}}})
	opts := options.Find().SetSort(keysOf("username"))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.agents.Find(ctx, filter, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("mongo: search agents: %w", err)
	}
	var docs []agentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, 0, fmt.Errorf("mongo: search agents: %w", err)
	}
	agents := make([]*workspace.Agent, len(docs))
	for i := range docs {
		agents[i] = docs[i].agent()
	}
	return agents, int(total), nil
}
