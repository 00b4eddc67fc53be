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
// UUIDv7, so the index on (interactionId, _id) serves transcripts in time order.
type messageDoc struct {
	ID            string          `bson:"_id"`
	InteractionID string          `bson:"interactionId"`
	From          workspace.Party `bson:"from"`
	AgentID       string          `bson:"agentId"`
	Text          string          `bson:"text"`
	SentAt        time.Time       `bson:"sentAt"`
}

func (d *messageDoc) message() *workspace.Message {
	return &workspace.Message{
		ID: d.ID, InteractionID: d.InteractionID, From: d.From, AgentID: d.AgentID,
		Text: d.Text, SentAt: d.SentAt.UTC(),
	}
}

// AppendMessage adds a message to its interaction's transcript; a taken ID is CONFLICT.
func (s *Store) AppendMessage(ctx context.Context, m *workspace.Message) error {
	d := messageDoc{
		ID: m.ID, InteractionID: m.InteractionID, From: m.From, AgentID: m.AgentID,
		Text: m.Text, SentAt: m.SentAt,
	}
	return insert(ctx, s.messages, d, "Message")
}

// Messages returns up to limit messages of an interaction whose ID sorts after the given
// one ("" = from the start), in ID order; limit <= 0 means no cap.
func (s *Store) Messages(ctx context.Context, interactionID, after string, limit int) ([]*workspace.Message, error) {
	filter := bson.D{{Key: "interactionId", Value: interactionID}}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
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
