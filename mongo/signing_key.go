package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// signingKeyDoc is a key of the signingkeys collection, by name.
type signingKeyDoc struct {
	Name string `bson:"_id"`
	Key  []byte `bson:"key"`
}

// SigningKey implements workspace.Store: the first key stored under name wins. Two nodes
// that insert at once collide on _id; the loser reads the winner's key.
func (s *Store) SigningKey(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	c := s.db.Collection("signingkeys")
	if _, err := c.InsertOne(ctx, signingKeyDoc{Name: name, Key: fresh}); err != nil && !isDuplicateKey(err) {
		return nil, fmt.Errorf("mongo: insert signing key: %w", err)
	}
	var doc signingKeyDoc
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: name}}).Decode(&doc); err != nil {
		return nil, fmt.Errorf("mongo: find signing key: %w", err)
	}
	return doc.Key, nil
}
