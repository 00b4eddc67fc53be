package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// cannedDoc is a canned response as stored in the cannedresponses collection.
type cannedDoc struct {
	ID        string    `bson:"_id"`
	Title     string    `bson:"title"`
	Text      string    `bson:"text"`
	PlanID    string    `bson:"planId"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	Version   int64     `bson:"version"`
}

func toCannedDoc(c *workspace.CannedResponse) cannedDoc {
	return cannedDoc{ID: c.ID, Title: c.Title, Text: c.Text, PlanID: c.PlanID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

func (d *cannedDoc) cannedResponse() *workspace.CannedResponse {
	return &workspace.CannedResponse{ID: d.ID, Title: d.Title, Text: d.Text, PlanID: d.PlanID,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
}

// CreateCannedResponse stores a new canned response; a taken ID is CONFLICT.
func (s *Store) CreateCannedResponse(ctx context.Context, c *workspace.CannedResponse) error {
	return insert(ctx, s.canned, toCannedDoc(c), "Canned response")
}

// CannedResponse returns the canned response with this ID.
func (s *Store) CannedResponse(ctx context.Context, id string) (*workspace.CannedResponse, error) {
	var d cannedDoc
	if err := findOne(ctx, s.canned, bson.D{{Key: "_id", Value: id}}, &d, "Canned response"); err != nil {
		return nil, err
	}
	return d.cannedResponse(), nil
}

// CannedResponses returns every canned response ordered by title, then ID.
func (s *Store) CannedResponses(ctx context.Context) ([]*workspace.CannedResponse, error) {
	var docs []cannedDoc
	if err := find(ctx, s.canned, bson.D{}, keysOf("title", "_id"), &docs); err != nil {
		return nil, err
	}
	list := make([]*workspace.CannedResponse, len(docs))
	for i := range docs {
		list[i] = docs[i].cannedResponse()
	}
	return list, nil
}

// UpdateCannedResponse replaces the stored canned response if its version is still
// c.Version, and then increments c.Version; otherwise it is CONFLICT.
func (s *Store) UpdateCannedResponse(ctx context.Context, c *workspace.CannedResponse) error {
	d := toCannedDoc(c)
	d.Version++
	if err := replaceVersion(ctx, s.canned, c.ID, c.Version, d, "Canned response"); err != nil {
		return err
	}
	c.Version = d.Version
	return nil
}

// DeleteCannedResponse removes the canned response with this ID; a missing one is NOT_FOUND.
func (s *Store) DeleteCannedResponse(ctx context.Context, id string) error {
	res, err := s.canned.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("mongo: delete canned response: %w", err)
	}
	if res.DeletedCount == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "Canned response not found.")
	}
	return nil
}

// auditDoc is an audit entry as stored in the audit collection.
type auditDoc struct {
	ID         string                `bson:"_id"`
	At         time.Time             `bson:"at"`
	ActorID    string                `bson:"actorId"`
	Action     string                `bson:"action"`
	ObjectType workspace.AuditObject `bson:"objectType"`
	ObjectID   string                `bson:"objectId"`
	ObjectName string                `bson:"objectName"`
	Before     string                `bson:"before"`
	After      string                `bson:"after"`
}

// AppendAudit adds an entry to the audit log; a taken ID is CONFLICT.
func (s *Store) AppendAudit(ctx context.Context, e *workspace.AuditEntry) error {
	return insert(ctx, s.audit, auditDoc{ID: e.ID, At: e.At, ActorID: e.ActorID, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, ObjectName: e.ObjectName, Before: e.Before, After: e.After}, "Audit entry")
}

// AuditLog returns up to limit entries (limit <= 0: all) matching f, newest first (at, then
// _id, descending), after the cursor.
func (s *Store) AuditLog(ctx context.Context, f workspace.AuditFilter, after *workspace.AuditCursor, limit int) ([]*workspace.AuditEntry, error) {
	filter := bson.D{}
	if f.ObjectType != "" {
		filter = append(filter, bson.E{Key: "objectType", Value: f.ObjectType})
	}
	if f.ObjectID != "" {
		filter = append(filter, bson.E{Key: "objectId", Value: f.ObjectID})
	}
	if after != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: after.At}}}},
			bson.D{{Key: "at", Value: after.At}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.audit.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: audit log: %w", err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: audit log: %w", err)
	}
	list := make([]*workspace.AuditEntry, len(docs))
	for i, d := range docs {
		list[i] = &workspace.AuditEntry{ID: d.ID, At: d.At.UTC(), ActorID: d.ActorID, Action: d.Action,
			ObjectType: d.ObjectType, ObjectID: d.ObjectID, ObjectName: d.ObjectName, Before: d.Before, After: d.After}
	}
	return list, nil
}
