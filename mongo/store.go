// Package mongo is the workspace.Store adapter for MongoDB (mongo-driver v2). It is used
// when agentdesk runs against MongoDB in production; its tests run against an embedded
// FerretDB (see package mongotest) and, when MONGODB_URI is set, a real MongoDB.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// DefaultDatabase is the database Open uses when the URI names none.
const DefaultDatabase = "agentdesk"

// openTimeout bounds the first round trip in Open, so an unreachable server fails fast
// instead of after the driver's 30-second server selection timeout.
const openTimeout = 5 * time.Second

// codeNotImplemented is the server error code FerretDB answers for options it lacks.
const codeNotImplemented = 238

// Store is a workspace.Store on one MongoDB database.
type Store struct {
	// uri is what Open connected to; a Bus opens its own client with it.
	uri      string
	client   *mongo.Client
	db       *mongo.Database
	agents   *mongo.Collection
	sessions *mongo.Collection
	apiKeys  *mongo.Collection
	plans    *mongo.Collection
	// interactions holds live interactions, history completed ones: the live path's queries
	// never read completed records.
	interactions *mongo.Collection
	history      *mongo.Collection
	messages     *mongo.Collection
	identities   *mongo.Collection
	templates    *mongo.Collection
	canned       *mongo.Collection
	audit        *mongo.Collection
	attachments  *mongo.Collection
	assist       *mongo.Collection
	// events holds published change events; meta the relay's lease and the seq counter.
	events          *mongo.Collection
	meta            *mongo.Collection
	webhooks        *mongo.Collection
	webhookFailures *mongo.Collection
}

var _ workspace.Store = (*Store)(nil)

// Open connects to the MongoDB at uri, checks within a few seconds that it answers, and
// creates the indexes the store relies on (creating them again is harmless). The database
// is the URI's path, or DefaultDatabase if the URI has none.
func Open(ctx context.Context, uri string) (*Store, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, fmt.Errorf("mongo: %w", err)
	}
	name := cs.Database
	if name == "" {
		name = DefaultDatabase
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	db := client.Database(name)
	s := &Store{
		uri:             uri,
		client:          client,
		db:              db,
		agents:          db.Collection("agents"),
		sessions:        db.Collection("sessions"),
		apiKeys:         db.Collection("apikeys"),
		plans:           db.Collection("plans"),
		interactions:    db.Collection("interactions"),
		history:         db.Collection("history"),
		messages:        db.Collection("messages"),
		identities:      db.Collection("identities"),
		templates:       db.Collection("templates"),
		canned:          db.Collection("cannedresponses"),
		audit:           db.Collection("audit"),
		attachments:     db.Collection("attachments"),
		assist:          db.Collection("assistexamples"),
		events:          db.Collection("changeevents"),
		meta:            db.Collection("meta"),
		webhooks:        db.Collection("webhooks"),
		webhookFailures: db.Collection("webhookfailures"),
	}

	pingCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.ping(pingCtx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("mongo: cannot reach %s within %v: %w", strings.Join(cs.Hosts, ","), openTimeout, err)
	}
	if err := s.createIndexes(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) createIndexes(ctx context.Context) error {
	unique := func(field string) mongo.IndexModel {
		return mongo.IndexModel{Keys: bson.D{{Key: field, Value: 1}}, Options: options.Index().SetUnique(true)}
	}
	if _, err := s.agents.Indexes().CreateOne(ctx, unique("username")); err != nil {
		return fmt.Errorf("mongo: index agents.username: %w", err)
	}
	if _, err := s.plans.Indexes().CreateOne(ctx, unique("name")); err != nil {
		return fmt.Errorf("mongo: index plans.name: %w", err)
	}

	// MongoDB deletes a session once its expiresAt has passed (TTL index, checked about once a
	// minute). FerretDB v1.24, the engine the tests run on, answers NotImplemented for
	// expireAfterSeconds; there a plain index is created instead and expired sessions stay
	// until deleted, so readers must check ExpiresAt in any case.
	expires := bson.D{{Key: "expiresAt", Value: 1}}
	_, err := s.sessions.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: expires, Options: options.Index().SetExpireAfterSeconds(0)})
	if notImplemented(err) {
		_, err = s.sessions.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: expires})
	}
	if err != nil {
		return fmt.Errorf("mongo: index sessions.expiresAt: %w", err)
	}

	// One index per command: FerretDB v1.24 drops the connection when a single createIndexes
	// command names several indexes that all exist already, as on every Open but the first.
	for _, ix := range []struct {
		c      *mongo.Collection
		keys   []string
		unique bool
	}{
		// Ending all of an agent's sessions (revocation) selects by agent.
		{s.sessions, []string{"agentId"}, false},
		// Routing reads the READY agents alone, the ones idle longest first; the sweep those
		// and the agents holding work reserved a while ago.
		{s.agents, []string{"presence", "idleSince", "_id"}, false},
		{s.agents, []string{"holds.since"}, false},
		// Live: routing and timers select by agent, state and due time; lists sort by creation.
		{s.interactions, []string{"agentId"}, false},
		{s.interactions, []string{"state"}, false},
		{s.interactions, []string{"dueAt"}, false},
		{s.interactions, []string{"createdAt", "_id"}, false},
		// The live view finds each plan's longest wait, and COMPLETED records not archived yet.
		{s.interactions, []string{"state", "planId", "queuedAt"}, false},
		// History: CRM pages in creation order, by agent or by contact; the live view reads
		// what was completed since a time, so earlier days cost nothing.
		{s.history, []string{"createdAt", "_id"}, false},
		{s.history, []string{"agentId"}, false},
		{s.history, []string{"contact.address"}, false},
		{s.history, []string{"completedAt", "planId", "acceptedAt"}, false},
		// Canned responses are listed by title; the audit log newest first, whole, by object
		// type or by object.
		{s.canned, []string{"title", "_id"}, false},
		{s.audit, []string{"at", "_id"}, false},
		{s.audit, []string{"objectType", "at", "_id"}, false},
		{s.audit, []string{"objectId", "at", "_id"}, false},
		// Transcripts are read in ID order per interaction, and a page's files by message.
		{s.messages, []string{"interactionId", "_id"}, false},
		{s.attachments, []string{"messageId", "_id"}, false},
		// Agent Assist reads a plan's examples in ID (completion) order.
		{s.assist, []string{"planId", "_id"}, false},
		// One identity per channel and address; one template per identity, name and
		// language, which also serves an identity's list.
		{s.identities, []string{"channel", "address"}, true},
		// CRM: incremental sync in updatedAt order and by plan; events read in seq order;
		// the relay finds documents with staged events; failed deliveries newest first.
		{s.interactions, []string{"updatedAt", "_id"}, false},
		{s.history, []string{"updatedAt", "_id"}, false},
		{s.history, []string{"planId", "createdAt", "_id"}, false},
		{s.events, []string{"seq"}, true},
		{s.webhookFailures, []string{"webhookId", "lastAttemptAt", "eventId"}, false},
		{s.templates, []string{"identityId", "name", "language"}, true},
	} {
		model := mongo.IndexModel{Keys: keysOf(ix.keys...), Options: options.Index().SetUnique(ix.unique)}
		if _, err := ix.c.Indexes().CreateOne(ctx, model); err != nil {
			return fmt.Errorf("mongo: index %s.%s: %w", ix.c.Name(), strings.Join(ix.keys, "+"), err)
		}
	}

	// Partial indexes cover only the documents that match their filter: a thread key and a
	// provider's message ID are unique where set (absent when empty), and the outbox's index
	// holds only PENDING messages, in the order it sends them. FerretDB v1.24 answers
	// NotImplemented for partialFilterExpression; there each index covers every document
	// instead (fallback keys), which its unique check allows since it skips absent fields.
	for _, ix := range []struct {
		c        *mongo.Collection
		name     string
		keys     []string
		unique   bool
		filter   bson.D
		fallback []string
	}{
		// Threads are unique among live interactions only: history has no such index.
		{s.interactions, "thread", []string{"threadKey"}, true, nonEmpty("threadKey"), []string{"threadKey"}},
		{s.messages, "external", []string{"externalId"}, true, nonEmpty("externalId"), []string{"externalId"}},
		// A key's ID is unique where set: keys stored before IDs existed have none.
		{s.apiKeys, "id", []string{"id"}, true, nonEmpty("id"), []string{"id"}},
		{s.messages, "due", []string{"nextAttemptAt", "_id"}, false,
			bson.D{{Key: "delivery", Value: workspace.DeliveryPending}}, []string{"delivery", "nextAttemptAt", "_id"}},
		// The relay reads only the documents with staged change events.
		{s.interactions, "outbox", []string{"outbox._id"}, false, hasOutbox, []string{"outbox._id"}},
		{s.history, "outbox", []string{"outbox._id"}, false, hasOutbox, []string{"outbox._id"}},
		{s.messages, "outbox", []string{"outbox._id"}, false, hasOutbox, []string{"outbox._id"}},
		// The sweeper reads only the drafts (no message), oldest expiry first.
		{s.attachments, "drafts", []string{"expiresAt", "_id"}, false,
			bson.D{{Key: "messageId", Value: ""}}, []string{"messageId", "expiresAt", "_id"}},
	} {
		opts := func() *options.IndexOptionsBuilder { return options.Index().SetName(ix.name).SetUnique(ix.unique) }
		partial := mongo.IndexModel{Keys: keysOf(ix.keys...), Options: opts().SetPartialFilterExpression(ix.filter)}
		_, err := ix.c.Indexes().CreateOne(ctx, partial)
		if notImplemented(err) {
			_, err = ix.c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keysOf(ix.fallback...), Options: opts()})
		}
		if err != nil {
			return fmt.Errorf("mongo: index %s.%s: %w", ix.c.Name(), ix.name, err)
		}
	}
	return nil
}

// notImplemented reports FerretDB's answer to an index option it lacks.
func notImplemented(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeNotImplemented)
}

// keysOf is an index's keys, each ascending.
func keysOf(fields ...string) bson.D {
	var keys bson.D
	for _, f := range fields {
		keys = append(keys, bson.E{Key: f, Value: 1})
	}
	return keys
}

// nonEmpty selects the documents whose field is a non-empty string.
func nonEmpty(field string) bson.D {
	return bson.D{{Key: field, Value: bson.D{{Key: "$gt", Value: ""}}}}
}

// Ping runs the ping command on the store's database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

func (s *Store) ping(ctx context.Context) error {
	return s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// Close disconnects from the server. Closing a closed store does nothing.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("mongo: disconnect: %w", err)
	}
	return nil
}

// findOne decodes the one document of c matching filter into doc; no match is NOT_FOUND.
func findOne(ctx context.Context, c *mongo.Collection, filter bson.D, doc any, what string) error {
	err := c.FindOne(ctx, filter).Decode(doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return workspace.Errorf(workspace.ENOTFOUND, "%s not found.", what)
	case err != nil:
		return fmt.Errorf("mongo: find %s: %w", strings.ToLower(what), err)
	}
	return nil
}

// insert adds doc to c; a duplicate key is CONFLICT.
func insert(ctx context.Context, c *mongo.Collection, doc any, what string) error {
	_, err := c.InsertOne(ctx, doc)
	switch {
	case isDuplicateKey(err):
		return workspace.Errorf(workspace.ECONFLICT, "%s already exists.", what)
	case err != nil:
		return fmt.Errorf("mongo: insert %s: %w", strings.ToLower(what), err)
	}
	return nil
}

// replaceVersion replaces the document with this id and version by doc, which holds
// version+1: one conditional write. No match, or a duplicate key, is CONFLICT.
func replaceVersion(ctx context.Context, c *mongo.Collection, id string, version int64, doc any, what string) error {
	var v any = version
	if version == 0 { // documents stored before they had versions have no field: null matches it
		v = bson.D{{Key: "$in", Value: bson.A{int64(0), nil}}}
	}
	return replaceWhere(ctx, c, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: v}}, doc, what)
}

// replaceWhere replaces the one document matching filter by doc: one conditional write. No
// match, or a duplicate key, is CONFLICT.
func replaceWhere(ctx context.Context, c *mongo.Collection, filter bson.D, doc any, what string) error {
	res, err := c.ReplaceOne(ctx, filter, doc)
	switch {
	case isDuplicateKey(err):
		return workspace.Errorf(workspace.ECONFLICT, "%s collides with another one.", what)
	case err != nil:
		return fmt.Errorf("mongo: update %s: %w", strings.ToLower(what), err)
	case res.MatchedCount == 0:
		return workspace.Errorf(workspace.ECONFLICT, "%s was changed or removed by someone else.", what)
	}
	return nil
}

// findAll decodes every document of c, sorted by field, into docs.
func findAll(ctx context.Context, c *mongo.Collection, field string, docs any) error {
	return find(ctx, c, bson.D{}, keysOf(field), docs)
}

// find decodes every document of c matching filter, in the order of sort, into docs.
func find(ctx context.Context, c *mongo.Collection, filter, sort bson.D, docs any) error {
	cur, err := c.Find(ctx, filter, options.Find().SetSort(sort))
	if err != nil {
		return fmt.Errorf("mongo: list %s: %w", c.Name(), err)
	}
	if err := cur.All(ctx, docs); err != nil {
		return fmt.Errorf("mongo: list %s: %w", c.Name(), err)
	}
	return nil
}

// isDuplicateKey reports a unique-index violation. MongoDB answers E11000 for inserts and
// updates alike; FerretDB v1.24 (the test engine) does for inserts, but on an update it
// answers InternalError carrying SQLite's "UNIQUE constraint failed".
func isDuplicateKey(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
