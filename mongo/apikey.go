package mongo

import (
	"context"
	"fmt"
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
	RevokedAt *time.Time        `bson:"revokedAt,omitempty"`
}

// CreateAPIKey stores a new API key; a taken key hash is CONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	d := apiKeyDoc{KeyHash: k.KeyHash, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt}
	if !k.RevokedAt.IsZero() {
		d.RevokedAt = &k.RevokedAt
	}
	return insert(ctx, s.apiKeys, d, "API key")
}

// APIKey returns the API key with this hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	var d apiKeyDoc
	if err := findOne(ctx, s.apiKeys, bson.D{{Key: "_id", Value: keyHash}}, &d, "API key"); err != nil {
		return nil, err
	}
	k := &workspace.APIKey{KeyHash: d.KeyHash, Name: d.Name, Scopes: d.Scopes, CreatedAt: d.CreatedAt.UTC()}
	if d.RevokedAt != nil {
		k.RevokedAt = d.RevokedAt.UTC()
	}
	return k, nil
}

// RevokeAPIKey sets the key's revokedAt unless it is set already; a missing key is NOT_FOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, keyHash string, at time.Time) error {
	if _, err := s.APIKey(ctx, keyHash); err != nil {
		return err
	}
	_, err := s.apiKeys.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: keyHash}, {Key: "revokedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: at}}}})
	if err != nil {
		return fmt.Errorf("mongo: revoke API key: %w", err)
	}
	return nil
}
