package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Change events on MongoDB. Without multi-document transactions (FerretDB v1.24 has none)
// an event is written in the same document write as its change: staged in the changed
// document's outbox array (the interaction's, or the new message's). A relay then moves
// staged events into the events collection, giving each the next number of a counter as
// its seq, and pulls them from their documents. One node relays at a time (a lease on the
// relay document), and it inserts events in the order of their seqs, so readers that page
// by seq miss none. Any read of events relays first: events are published as soon as
// anyone looks. An event inserted by a relay that died before pulling it is recognised by
// its _id (the event's ID) and only pulled.

// changeDoc is a change event, staged in a document's outbox or published in events.
type changeDoc struct {
	ID            string               `bson:"_id"`
	Seq           int64                `bson:"seq,omitempty"`
	Kind          workspace.ChangeKind `bson:"kind"`
	At            time.Time            `bson:"at"`
	InteractionID string               `bson:"interactionId"`
	MessageID     string               `bson:"messageId"`
}

func toEventDocs(events []*workspace.ChangeEvent) []changeDoc {
	out := make([]changeDoc, len(events))
	for i, e := range events {
		out[i] = changeDoc{ID: e.ID, Kind: e.Kind, At: e.At, InteractionID: e.InteractionID, MessageID: e.MessageID}
	}
	return out
}

func (d changeDoc) event() *workspace.ChangeEvent {
	return &workspace.ChangeEvent{ID: d.ID, Seq: d.Seq, Kind: d.Kind, At: d.At.UTC(), InteractionID: d.InteractionID, MessageID: d.MessageID}
}

// hasOutbox selects the documents with staged events (the relay's query, and the filter of
// its partial indexes).
var hasOutbox = bson.D{{Key: "outbox._id", Value: bson.D{{Key: "$exists", Value: true}}}}

// relayLease bounds a relay; one relay moves at most relayBatch events per collection.
const (
	relayLease = 30 * time.Second
	relayBatch = 500
)

// relay publishes staged events, if no other node is relaying.
func (s *Store) relay(ctx context.Context) error {
	now := time.Now()
	token := uuid.NewString()
	filter := bson.D{{Key: "_id", Value: "relay"}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}},
		bson.D{{Key: "until", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: now.Add(relayLease)}, {Key: "token", Value: token}}}}
	res, err := s.meta.UpdateOne(ctx, filter, set)
	if err != nil {
		return fmt.Errorf("mongo: relay lease: %w", err)
	}
	if res.MatchedCount == 0 {
		// The relay document may not exist yet; a duplicate key means another node made it.
		if _, err := s.meta.InsertOne(ctx, bson.D{{Key: "_id", Value: "relay"}, {Key: "until", Value: now.Add(relayLease)}, {Key: "token", Value: token}}); err != nil {
			if isDuplicateKey(err) {
				return nil
			}
			return fmt.Errorf("mongo: relay lease: %w", err)
		}
	}
	defer func() {
		_, _ = s.meta.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: "relay"}, {Key: "token", Value: token}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: time.Time{}}}}})
	}()

	type staged struct {
		c  *mongo.Collection
		id string
		e  changeDoc
	}
	var all []staged
	for _, c := range []*mongo.Collection{s.interactions, s.history, s.messages} {
		cur, err := c.Find(ctx, hasOutbox,
			options.Find().SetProjection(bson.D{{Key: "outbox", Value: 1}}).SetLimit(relayBatch))
		if err != nil {
			return fmt.Errorf("mongo: relay: %w", err)
		}
		var docs []struct {
			ID     string      `bson:"_id"`
			Outbox []changeDoc `bson:"outbox"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			return fmt.Errorf("mongo: relay: %w", err)
		}
		for _, d := range docs {
			for _, e := range d.Outbox {
				all = append(all, staged{c, d.ID, e})
			}
		}
	}
	// Time order, then ID order (UUIDv7): the order the changes were made in.
	slices.SortStableFunc(all, func(a, b staged) int {
		if c := a.e.At.Compare(b.e.At); c != 0 {
			return c
		}
		return strings.Compare(a.e.ID, b.e.ID)
	})
	for _, st := range all {
		var counter struct {
			N int64 `bson:"n"`
		}
		err := s.meta.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "seq"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&counter)
		if err != nil {
			return fmt.Errorf("mongo: relay: %w", err)
		}
		e := st.e
		e.Seq = counter.N
		if _, err := s.events.InsertOne(ctx, e); err != nil && !isDuplicateKey(err) {
			return fmt.Errorf("mongo: relay: %w", err)
		}
		if _, err := st.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: st.id}},
			bson.D{{Key: "$pull", Value: bson.D{{Key: "outbox", Value: bson.D{{Key: "_id", Value: e.ID}}}}}}); err != nil {
			return fmt.Errorf("mongo: relay: %w", err)
		}
	}
	return nil
}

// Events relays staged events, then returns up to limit events after the seq, in seq order.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]*workspace.ChangeEvent, error) {
	if err := s.relay(ctx); err != nil {
		return nil, err
	}
	cur, err := s.events.Find(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongo: events: %w", err)
	}
	var docs []changeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: events: %w", err)
	}
	out := make([]*workspace.ChangeEvent, len(docs))
	for i, d := range docs {
		out[i] = d.event()
	}
	return out, nil
}

// Event relays staged events, then returns the one with the ID.
func (s *Store) Event(ctx context.Context, id string) (*workspace.ChangeEvent, error) {
	if err := s.relay(ctx); err != nil {
		return nil, err
	}
	var d changeDoc
	if err := findOne(ctx, s.events, bson.D{{Key: "_id", Value: id}}, &d, "Event"); err != nil {
		return nil, err
	}
	return d.event(), nil
}

// LastEventSeq relays staged events, then returns the largest seq.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	if err := s.relay(ctx); err != nil {
		return 0, err
	}
	var d changeDoc
	err := s.events.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mongo: events: %w", err)
	}
	return d.Seq, nil
}

// updateFields turns a document into an update that sets its fields (but _id and outbox),
// unsets the given optional fields it leaves out (omitempty), and appends events to its
// outbox: a replacement that keeps events staged by earlier writes.
func updateFields(doc any, optional []string, events []*workspace.ChangeEvent) (bson.D, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var fields bson.D
	if err := bson.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	set := bson.D{}
	present := map[string]bool{}
	for _, f := range fields {
		present[f.Key] = true
		if f.Key != "_id" && f.Key != "outbox" {
			set = append(set, f)
		}
	}
	update := bson.D{{Key: "$set", Value: set}}
	unset := bson.D{}
	for _, k := range optional {
		if !present[k] {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	if len(events) > 0 {
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: "outbox", Value: bson.D{{Key: "$each", Value: toEventDocs(events)}}}}})
	}
	return update, nil
}

// updateWhere applies update to the one document matching filter: one conditional write.
// No match, or a duplicate key, is CONFLICT.
func updateWhere(ctx context.Context, c *mongo.Collection, filter, update bson.D, what string) error {
	res, err := c.UpdateOne(ctx, filter, update)
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

// webhookDoc is a webhook as stored in the webhooks collection.
type webhookDoc struct {
	ID            string                 `bson:"_id"`
	URL           string                 `bson:"url"`
	Kinds         []workspace.ChangeKind `bson:"kinds"`
	Secret        string                 `bson:"secret"`
	Active        bool                   `bson:"active"`
	CreatedAt     time.Time              `bson:"createdAt"`
	Cursor        int64                  `bson:"cursor"`
	Attempts      int                    `bson:"attempts"`
	FailingSince  *time.Time             `bson:"failingSince"`
	NextAttemptAt time.Time              `bson:"nextAttemptAt"`
	LeaseUntil    time.Time              `bson:"leaseUntil"`
	Last          *deliveryDoc           `bson:"last"`
	Version       int64                  `bson:"version"`
}

// deliveryDoc is an attempted delivery: a webhook's last, or a failed one in the
// webhookfailures collection (_id: webhook ID and event ID).
type deliveryDoc struct {
	ID            string    `bson:"_id,omitempty"`
	WebhookID     string    `bson:"webhookId"`
	EventID       string    `bson:"eventId"`
	Attempts      int       `bson:"attempts"`
	LastStatus    int       `bson:"lastStatus"`
	LastError     string    `bson:"lastError"`
	LastAttemptAt time.Time `bson:"lastAttemptAt"`
}

func toDeliveryDoc(d *workspace.WebhookDelivery) *deliveryDoc {
	if d == nil {
		return nil
	}
	return &deliveryDoc{WebhookID: d.WebhookID, EventID: d.EventID, Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, LastAttemptAt: d.LastAttemptAt}
}

func (d *deliveryDoc) delivery() *workspace.WebhookDelivery {
	if d == nil {
		return nil
	}
	return &workspace.WebhookDelivery{WebhookID: d.WebhookID, EventID: d.EventID, Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, LastAttemptAt: d.LastAttemptAt.UTC()}
}

func toWebhookDoc(w *workspace.Webhook) webhookDoc {
	return webhookDoc{ID: w.ID, URL: w.URL, Kinds: w.Kinds, Secret: w.Secret, Active: w.Active, CreatedAt: w.CreatedAt,
		Cursor: w.Cursor, Attempts: w.Attempts, FailingSince: w.FailingSince, NextAttemptAt: w.NextAttemptAt,
		LeaseUntil: w.LeaseUntil, Last: toDeliveryDoc(w.Last), Version: w.Version}
}

func (d *webhookDoc) webhook() *workspace.Webhook {
	w := &workspace.Webhook{ID: d.ID, URL: d.URL, Kinds: d.Kinds, Secret: d.Secret, Active: d.Active, CreatedAt: d.CreatedAt.UTC(),
		Cursor: d.Cursor, Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt.UTC(), LeaseUntil: d.LeaseUntil.UTC(),
		Last: d.Last.delivery(), Version: d.Version}
	if d.FailingSince != nil {
		t := d.FailingSince.UTC()
		w.FailingSince = &t
	}
	if w.NextAttemptAt.Equal(time.Time{}) {
		w.NextAttemptAt = time.Time{}
	}
	if w.LeaseUntil.Equal(time.Time{}) {
		w.LeaseUntil = time.Time{}
	}
	return w
}

// CreateWebhook inserts a webhook.
func (s *Store) CreateWebhook(ctx context.Context, w *workspace.Webhook) error {
	return insert(ctx, s.webhooks, toWebhookDoc(w), "Webhook")
}

// Webhook returns the webhook with the ID.
func (s *Store) Webhook(ctx context.Context, id string) (*workspace.Webhook, error) {
	var d webhookDoc
	if err := findOne(ctx, s.webhooks, bson.D{{Key: "_id", Value: id}}, &d, "Webhook"); err != nil {
		return nil, err
	}
	return d.webhook(), nil
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*workspace.Webhook, error) {
	var docs []webhookDoc
	if err := find(ctx, s.webhooks, bson.D{}, keysOf("createdAt", "_id"), &docs); err != nil {
		return nil, err
	}
	out := make([]*workspace.Webhook, len(docs))
	for i := range docs {
		out[i] = docs[i].webhook()
	}
	return out, nil
}

// UpdateWebhook replaces the webhook if its version is still w.Version.
func (s *Store) UpdateWebhook(ctx context.Context, w *workspace.Webhook) error {
	d := toWebhookDoc(w)
	d.Version++
	if err := replaceVersion(ctx, s.webhooks, w.ID, w.Version, d, "Webhook"); err != nil {
		return err
	}
	w.Version = d.Version
	return nil
}

// DeleteWebhook removes a webhook, then its failed deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.webhooks.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("mongo: delete webhook: %w", err)
	}
	if res.DeletedCount == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "Webhook not found.")
	}
	if _, err := s.webhookFailures.DeleteMany(ctx, bson.D{{Key: "webhookId", Value: id}}); err != nil {
		return fmt.Errorf("mongo: delete webhook: %w", err)
	}
	return nil
}

func failureID(webhookID, eventID string) string { return webhookID + ":" + eventID }

// SaveFailedDelivery stores (or replaces) a failed delivery.
func (s *Store) SaveFailedDelivery(ctx context.Context, d *workspace.WebhookDelivery) error {
	doc := toDeliveryDoc(d)
	doc.ID = failureID(d.WebhookID, d.EventID)
	_, err := s.webhookFailures.ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: save failed delivery: %w", err)
	}
	return nil
}

// FailedDeliveries returns a webhook's failed deliveries, newest first.
func (s *Store) FailedDeliveries(ctx context.Context, webhookID string, limit int) ([]*workspace.WebhookDelivery, error) {
	opts := options.Find().SetSort(bson.D{{Key: "lastAttemptAt", Value: -1}, {Key: "eventId", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.webhookFailures.Find(ctx, bson.D{{Key: "webhookId", Value: webhookID}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: failed deliveries: %w", err)
	}
	var docs []deliveryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: failed deliveries: %w", err)
	}
	out := make([]*workspace.WebhookDelivery, len(docs))
	for i := range docs {
		out[i] = docs[i].delivery()
	}
	return out, nil
}

// DeleteFailedDelivery removes one failed delivery.
func (s *Store) DeleteFailedDelivery(ctx context.Context, webhookID, eventID string) error {
	res, err := s.webhookFailures.DeleteOne(ctx, bson.D{{Key: "_id", Value: failureID(webhookID, eventID)}})
	if err != nil {
		return fmt.Errorf("mongo: delete failed delivery: %w", err)
	}
	if res.DeletedCount == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "Failed delivery not found.")
	}
	return nil
}
