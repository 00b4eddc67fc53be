package mongo

import (
	"context"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// apiKeyDoc is an API key as stored in the apikeys collection, keyed by its hash.
type apiKeyDoc struct {
	KeyHash   string            `bson:"_id"`
	Name      string            `bson:"name"`
	Scopes    []workspace.Scope `bson:"scopes"`
	CreatedAt time.Time         `bson:"createdAt"`
}

// CreateAPIKey stores a new API key; a taken key hash is CONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	d := apiKeyDoc{KeyHash: k.KeyHash, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt}
	return insert(ctx, s.apiKeys, d, "API key")
}

// APIKey returns the API key with this hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	var d apiKeyDoc
	if err := findOne(ctx, s.apiKeys, bson.D{{Key: "_id", Value: keyHash}}, &d, "API key"); err != nil {
		return nil, err
	}
	return &workspace.APIKey{KeyHash: d.KeyHash, Name: d.Name, Scopes: d.Scopes, CreatedAt: d.CreatedAt.UTC()}, nil
}
