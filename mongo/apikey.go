package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// apiKeyDoc is an API key as stored in the apikeys collection, keyed by its hash. A key
// stored before IDs existed has no id and reads as workspace.LegacyAPIKeyID of its hash.
type apiKeyDoc struct {
	KeyHash    string            `bson:"_id"`
	ID         string            `bson:"id,omitempty"`
	Name       string            `bson:"name"`
	Scopes     []workspace.Scope `bson:"scopes"`
	CreatedAt  time.Time         `bson:"createdAt"`
	RevokedAt  *time.Time        `bson:"revokedAt,omitempty"`
	LastUsedAt *time.Time        `bson:"lastUsedAt,omitempty"`
}

func (d *apiKeyDoc) apiKey() *workspace.APIKey {
	k := &workspace.APIKey{ID: d.ID, KeyHash: d.KeyHash, Name: d.Name, Scopes: d.Scopes, CreatedAt: d.CreatedAt.UTC()}
	if k.ID == "" {
		k.ID = workspace.LegacyAPIKeyID(d.KeyHash)
	}
	if d.RevokedAt != nil {
		k.RevokedAt = d.RevokedAt.UTC()
	}
	if d.LastUsedAt != nil {
		k.LastUsedAt = d.LastUsedAt.UTC()
	}
	return k
}

// CreateAPIKey stores a new API key; a taken key hash or ID is CONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	d := apiKeyDoc{KeyHash: k.KeyHash, ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt}
	if !k.RevokedAt.IsZero() {
		d.RevokedAt = &k.RevokedAt
	}
	if !k.LastUsedAt.IsZero() {
		d.LastUsedAt = &k.LastUsedAt
	}
	return insert(ctx, s.apiKeys, d, "API key")
}

// APIKey returns the API key with this hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	var d apiKeyDoc
	if err := findOne(ctx, s.apiKeys, bson.D{{Key: "_id", Value: keyHash}}, &d, "API key"); err != nil {
		return nil, err
	}
	return d.apiKey(), nil
}

// APIKeys returns every key, newest first, then by ID. They are sorted here, since a key
// stored before IDs existed has none in its document.
func (s *Store) APIKeys(ctx context.Context) ([]*workspace.APIKey, error) {
	var docs []apiKeyDoc
	if err := find(ctx, s.apiKeys, bson.D{}, bson.D{}, &docs); err != nil {
		return nil, err
	}
	keys := make([]*workspace.APIKey, len(docs))
	for i := range docs {
		keys[i] = docs[i].apiKey()
	}
	slices.SortFunc(keys, func(a, b *workspace.APIKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return keys, nil
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

// TouchAPIKey moves the key's lastUsedAt forward to at ($max: never back, and set when
// absent) in one write; a missing key is NOT_FOUND.
func (s *Store) TouchAPIKey(ctx context.Context, keyHash string, at time.Time) error {
	res, err := s.apiKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: keyHash}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "lastUsedAt", Value: at}}}})
	switch {
	case err != nil:
		return fmt.Errorf("mongo: touch API key: %w", err)
	case res.MatchedCount == 0:
		return workspace.Errorf(workspace.ENOTFOUND, "API key not found.")
	}
	return nil
}
