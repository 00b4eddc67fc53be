package mongo

import (
	"context"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// identityDoc is a channel identity as stored in the identities collection.
type identityDoc struct {
	ID        string            `bson:"_id"`
	Channel   workspace.Channel `bson:"channel"`
	Address   string            `bson:"address"`
	Name      string            `bson:"name"`
	Outbound  bool              `bson:"outbound"`
	PlanID    string            `bson:"planId"`
	Provider  string            `bson:"provider"`
	Settings  map[string]string `bson:"settings"`
	CreatedAt time.Time         `bson:"createdAt"`
	Version   int64             `bson:"version"`
	// MailboxValidity and MailboxUID are the IMAP poller's place (email); absent: 0.
	MailboxValidity int64 `bson:"mailboxValidity,omitempty"`
	MailboxUID      int64 `bson:"mailboxUid,omitempty"`
}

func toIdentityDoc(id *workspace.Identity) identityDoc {
	return identityDoc{
		ID: id.ID, Channel: id.Channel, Address: id.Address, Name: id.Name, Outbound: id.Outbound,
		PlanID: id.PlanID, Provider: id.Provider, Settings: id.Settings, CreatedAt: id.CreatedAt, Version: id.Version,
		MailboxValidity: int64(id.Mailbox.UIDValidity), MailboxUID: int64(id.Mailbox.UID),
	}
}

func (d *identityDoc) identity() *workspace.Identity {
	return &workspace.Identity{
		ID: d.ID, Channel: d.Channel, Address: d.Address, Name: d.Name, Outbound: d.Outbound,
		PlanID: d.PlanID, Provider: d.Provider, Settings: d.Settings, CreatedAt: d.CreatedAt.UTC(), Version: d.Version,
		Mailbox: workspace.MailboxCursor{UIDValidity: uint32(d.MailboxValidity), UID: uint32(d.MailboxUID)},
	}
}

// CreateIdentity stores a new identity; a taken ID, or channel and address, is CONFLICT.
func (s *Store) CreateIdentity(ctx context.Context, id *workspace.Identity) error {
	return insert(ctx, s.identities, toIdentityDoc(id), "Identity")
}

// Identity returns the identity with this ID.
func (s *Store) Identity(ctx context.Context, id string) (*workspace.Identity, error) {
	var d identityDoc
	if err := findOne(ctx, s.identities, bson.D{{Key: "_id", Value: id}}, &d, "Identity"); err != nil {
		return nil, err
	}
	return d.identity(), nil
}

// Identities returns every identity ordered by name, then ID.
func (s *Store) Identities(ctx context.Context) ([]*workspace.Identity, error) {
	var docs []identityDoc
	if err := find(ctx, s.identities, bson.D{}, keysOf("name", "_id"), &docs); err != nil {
		return nil, err
	}
	list := make([]*workspace.Identity, len(docs))
	for i := range docs {
		list[i] = docs[i].identity()
	}
	return list, nil
}

// UpdateIdentity replaces the stored identity if its version is still id.Version, and then
// increments id.Version; otherwise, or when its channel and address are taken, it is CONFLICT.
func (s *Store) UpdateIdentity(ctx context.Context, id *workspace.Identity) error {
	d := toIdentityDoc(id)
	d.Version++
	if err := replaceVersion(ctx, s.identities, id.ID, id.Version, d, "Identity"); err != nil {
		return err
	}
	id.Version = d.Version
	return nil
}

// templateDoc is a message template as stored in the templates collection.
type templateDoc struct {
	ID             string    `bson:"_id"`
	IdentityID     string    `bson:"identityId"`
	Name           string    `bson:"name"`
	Language       string    `bson:"language"`
	Body           string    `bson:"body"`
	ParameterCount int       `bson:"parameterCount"`
	CreatedAt      time.Time `bson:"createdAt"`
}

func (d *templateDoc) template() *workspace.Template {
	return &workspace.Template{
		ID: d.ID, IdentityID: d.IdentityID, Name: d.Name, Language: d.Language, Body: d.Body,
		ParameterCount: d.ParameterCount, CreatedAt: d.CreatedAt.UTC(),
	}
}

// CreateTemplate stores a new template; a taken ID, or identity, name and language, is
// CONFLICT.
func (s *Store) CreateTemplate(ctx context.Context, t *workspace.Template) error {
	return insert(ctx, s.templates, templateDoc{
		ID: t.ID, IdentityID: t.IdentityID, Name: t.Name, Language: t.Language, Body: t.Body,
		ParameterCount: t.ParameterCount, CreatedAt: t.CreatedAt,
	}, "Template")
}

// Template returns the template with this ID.
func (s *Store) Template(ctx context.Context, id string) (*workspace.Template, error) {
	var d templateDoc
	if err := findOne(ctx, s.templates, bson.D{{Key: "_id", Value: id}}, &d, "Template"); err != nil {
		return nil, err
	}
	return d.template(), nil
}

// Templates returns an identity's templates ordered by name, then language.
func (s *Store) Templates(ctx context.Context, identityID string) ([]*workspace.Template, error) {
	var docs []templateDoc
	if err := find(ctx, s.templates, bson.D{{Key: "identityId", Value: identityID}}, keysOf("name", "language"), &docs); err != nil {
		return nil, err
	}
	list := make([]*workspace.Template, len(docs))
	for i := range docs {
		list[i] = docs[i].template()
	}
	return list, nil
}
