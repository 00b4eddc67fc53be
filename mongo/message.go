package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// messageDoc is a message as stored in the messages collection. Its _id is the message's
// UUIDv7, so the index on (interactionId, _id) serves transcripts in time order. An empty
// ExternalID is absent, so the unique index on externalId skips it; so are empty
// AttachmentIDs, as on every message stored before attachments: they read as nil.
type messageDoc struct {
	ID            string                   `bson:"_id"`
	InteractionID string                   `bson:"interactionId"`
	From          workspace.Party          `bson:"from"`
	AgentID       string                   `bson:"agentId"`
	Text          string                   `bson:"text"`
	SentAt        time.Time                `bson:"sentAt"`
	Delivery      workspace.DeliveryStatus `bson:"delivery"`
	DeliveryError *deliveryErrorDoc        `bson:"deliveryError"`
	Template      *templateUseDoc          `bson:"template"`
	ExternalID    string                   `bson:"externalId,omitempty"`
	Attempts      int                      `bson:"attempts"`
	NextAttemptAt time.Time                `bson:"nextAttemptAt"`
	AttachmentIDs []string                 `bson:"attachmentIds,omitempty"`
	Version       int64                    `bson:"version"`
	Email         *emailDoc                `bson:"email,omitempty"`
	// Outbox holds the message's MESSAGE event until the relay publishes it.
	Outbox []changeDoc `bson:"outbox,omitempty"`
}

// deliveryErrorDoc is why a message was not delivered, inside a messageDoc.
type deliveryErrorDoc struct {
	Kind         workspace.DeliveryErrorKind `bson:"kind"`
	Message      string                      `bson:"message"`
	ProviderCode string                      `bson:"providerCode"`
}

// templateUseDoc is the template a message sent, inside a messageDoc.
type templateUseDoc struct {
	TemplateID string   `bson:"templateId"`
	Name       string   `bson:"name"`
	Language   string   `bson:"language"`
	Parameters []string `bson:"parameters"`
}

// emailDoc is an email message's headers and sanitised HTML, inside a messageDoc.
type emailDoc struct {
	Subject    string   `bson:"subject"`
	MessageID  string   `bson:"messageId"`
	InReplyTo  string   `bson:"inReplyTo,omitempty"`
	References []string `bson:"references,omitempty"`
	From       string   `bson:"from"`
	To         string   `bson:"to"`
	HTML       string   `bson:"html,omitempty"`
}

func toMessageDoc(m *workspace.Message) messageDoc {
	d := messageDoc{
		ID: m.ID, InteractionID: m.InteractionID, From: m.From, AgentID: m.AgentID,
		Text: m.Text, SentAt: m.SentAt, Delivery: m.Delivery, ExternalID: m.ExternalID,
		Attempts: m.Attempts, NextAttemptAt: m.NextAttemptAt, AttachmentIDs: m.AttachmentIDs, Version: m.Version,
	}
	if e := m.DeliveryError; e != nil {
		d.DeliveryError = &deliveryErrorDoc{Kind: e.Kind, Message: e.Message, ProviderCode: e.ProviderCode}
	}
	if u := m.Template; u != nil {
		d.Template = &templateUseDoc{TemplateID: u.TemplateID, Name: u.Name, Language: u.Language, Parameters: u.Parameters}
	}
	if e := m.Email; e != nil {
		d.Email = &emailDoc{Subject: e.Subject, MessageID: e.MessageID, InReplyTo: e.InReplyTo, References: e.References,
			From: e.From, To: e.To, HTML: e.HTML}
	}
	return d
}

func (d *messageDoc) message() *workspace.Message {
	m := &workspace.Message{
		ID: d.ID, InteractionID: d.InteractionID, From: d.From, AgentID: d.AgentID,
		Text: d.Text, SentAt: d.SentAt.UTC(), Delivery: d.Delivery, ExternalID: d.ExternalID,
		Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt.UTC(), AttachmentIDs: d.AttachmentIDs, Version: d.Version,
	}
	if e := d.DeliveryError; e != nil {
		m.DeliveryError = &workspace.DeliveryError{Kind: e.Kind, Message: e.Message, ProviderCode: e.ProviderCode}
	}
	if u := d.Template; u != nil {
		m.Template = &workspace.TemplateUse{TemplateID: u.TemplateID, Name: u.Name, Language: u.Language, Parameters: u.Parameters}
	}
	if e := d.Email; e != nil {
		m.Email = &workspace.EmailDetails{Subject: e.Subject, MessageID: e.MessageID, InReplyTo: e.InReplyTo,
			References: e.References, From: e.From, To: e.To, HTML: e.HTML}
	}
	return m
}

// AppendMessage adds a message to its interaction's transcript; a taken ID or ExternalID is
// CONFLICT.
func (s *Store) AppendMessage(ctx context.Context, m *workspace.Message) error {
	d := toMessageDoc(m)
	d.Outbox = toEventDocs(m.Outbox)
	if err := insert(ctx, s.messages, d, "Message"); err != nil {
		return err
	}
	// The interaction changed: its updatedAt moves, after the message is stored, so a reader
	// that sees the new updatedAt also sees the message.
	at := m.SentAt.Truncate(time.Millisecond)
	filter := bson.D{{Key: "_id", Value: m.InteractionID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: at}}}},
		bson.D{{Key: "updatedAt", Value: nil}},
	}}}
	for _, c := range []*mongo.Collection{s.interactions, s.history} {
		if _, err := c.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: at}}}}); err != nil {
			return fmt.Errorf("mongo: append message: %w", err)
		}
	}
	return nil
}

// Message returns the message with this ID.
func (s *Store) Message(ctx context.Context, id string) (*workspace.Message, error) {
	return s.findMessage(ctx, bson.D{{Key: "_id", Value: id}})
}

// MessageByExternalID returns the message with this provider's ID; none has the empty one.
func (s *Store) MessageByExternalID(ctx context.Context, key string) (*workspace.Message, error) {
	if key == "" {
		return nil, workspace.Errorf(workspace.ENOTFOUND, "Message not found.")
	}
	return s.findMessage(ctx, bson.D{{Key: "externalId", Value: key}})
}

func (s *Store) findMessage(ctx context.Context, filter bson.D) (*workspace.Message, error) {
	var d messageDoc
	if err := findOne(ctx, s.messages, filter, &d, "Message"); err != nil {
		return nil, err
	}
	return d.message(), nil
}

// UpdateMessage replaces the stored message if its version is still m.Version, and then
// increments m.Version; otherwise, or when its ExternalID is taken, it is CONFLICT.
func (s *Store) UpdateMessage(ctx context.Context, m *workspace.Message) error {
	d := toMessageDoc(m)
	d.Version++
	// An update, not a replacement: the message's MESSAGE event may still be staged.
	update, err := updateFields(d, []string{"externalId", "attachmentIds", "email"}, nil)
	if err != nil {
		return err
	}
	var v any = m.Version
	if m.Version == 0 { // documents stored before they had versions have no field: null matches it
		v = bson.D{{Key: "$in", Value: bson.A{int64(0), nil}}}
	}
	if err := updateWhere(ctx, s.messages, bson.D{{Key: "_id", Value: m.ID}, {Key: "version", Value: v}}, update, "Message"); err != nil {
		return err
	}
	m.Version = d.Version
	return nil
}

// DueMessages returns up to limit PENDING messages due at or before due, ordered by
// NextAttemptAt then ID (limit <= 0: all), through the partial index of PENDING messages.
func (s *Store) DueMessages(ctx context.Context, due time.Time, limit int) ([]*workspace.Message, error) {
	filter := bson.D{
		{Key: "delivery", Value: workspace.DeliveryPending},
		{Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: due}}},
	}
	return s.findMessages(ctx, filter, bson.D{{Key: "nextAttemptAt", Value: 1}, {Key: "_id", Value: 1}}, limit)
}

// PendingMessages returns up to limit PENDING messages of an interaction in ID order (limit
// <= 0: all), through the index on interactionId and _id.
func (s *Store) PendingMessages(ctx context.Context, interactionID string, limit int) ([]*workspace.Message, error) {
	filter := bson.D{{Key: "interactionId", Value: interactionID}, {Key: "delivery", Value: workspace.DeliveryPending}}
	return s.findMessages(ctx, filter, bson.D{{Key: "_id", Value: 1}}, limit)
}

// Messages returns up to limit messages of an interaction whose ID sorts after the given
// one ("" = from the start), in ID order; limit <= 0 means no cap.
func (s *Store) Messages(ctx context.Context, interactionID, after string, limit int) ([]*workspace.Message, error) {
	filter := bson.D{{Key: "interactionId", Value: interactionID}}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	return s.findMessages(ctx, filter, bson.D{{Key: "_id", Value: 1}}, limit)
}

// findMessages decodes the messages matching filter in the order of sort, at most limit of
// them (limit <= 0: all).
func (s *Store) findMessages(ctx context.Context, filter, sort bson.D, limit int) ([]*workspace.Message, error) {
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.messages.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list messages: %w", err)
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list messages: %w", err)
	}
	msgs := make([]*workspace.Message, len(docs))
	for i := range docs {
		msgs[i] = docs[i].message()
	}
	return msgs, nil
}

// CountMessages counts an interaction's messages.
func (s *Store) CountMessages(ctx context.Context, interactionID string) (int, error) {
	n, err := s.messages.CountDocuments(ctx, bson.D{{Key: "interactionId", Value: interactionID}})
	if err != nil {
		return 0, fmt.Errorf("mongo: count messages: %w", err)
	}
	return int(n), nil
}

// LastMessage returns the message of an interaction with the greatest ID, which is the
// latest since IDs are time-ordered; NOT_FOUND if the transcript is empty.
func (s *Store) LastMessage(ctx context.Context, interactionID string) (*workspace.Message, error) {
	var d messageDoc
	err := s.messages.FindOne(ctx, bson.D{{Key: "interactionId", Value: interactionID}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, workspace.Errorf(workspace.ENOTFOUND, "Message not found.")
	case err != nil:
		return nil, fmt.Errorf("mongo: last message: %w", err)
	}
	return d.message(), nil
}
