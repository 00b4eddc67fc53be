package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// assistDoc is one of Agent Assist's examples in the assistexamples collection.
type assistDoc struct {
	ID     string    `bson:"_id"`
	PlanID string    `bson:"planId"`
	Code   string    `bson:"code"`
	Text   string    `bson:"text"`
	At     time.Time `bson:"at"`
}

// AddAssistExample stores one of Agent Assist's examples; a taken ID is CONFLICT.
func (s *Store) AddAssistExample(ctx context.Context, e *workspace.AssistExample) error {
	return insert(ctx, s.assist, assistDoc{ID: e.ID, PlanID: e.PlanID, Code: e.Code, Text: e.Text, At: e.At}, "Assist example")
}

// AssistExamples returns up to limit of a plan's examples after the given ID, in ID order.
func (s *Store) AssistExamples(ctx context.Context, planID, after string, limit int) ([]*workspace.AssistExample, error) {
	filter := bson.D{{Key: "planId", Value: planID}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	cur, err := s.assist.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongo: list assist examples: %w", err)
	}
	var docs []assistDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list assist examples: %w", err)
	}
	out := make([]*workspace.AssistExample, len(docs))
	for i, d := range docs {
		out[i] = &workspace.AssistExample{ID: d.ID, PlanID: d.PlanID, Code: d.Code, Text: d.Text, At: d.At.UTC()}
	}
	return out, nil
}
