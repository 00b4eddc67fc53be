package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// attachmentDoc is an attachment's record as stored in the attachments collection. A draft's
// messageId is "", present, so the drafts' index can select it (a partial index cannot
// select an absent field); its expiresAt is the zero time once sent.
type attachmentDoc struct {
	ID            string               `bson:"_id"`
	UploadedBy    workspace.Party      `bson:"uploadedBy"`
	UploaderID    string               `bson:"uploaderId"`
	InteractionID string               `bson:"interactionId"`
	MessageID     string               `bson:"messageId"`
	FileName      string               `bson:"fileName"`
	ContentType   string               `bson:"contentType"`
	Size          int64                `bson:"size"`
	SHA256        string               `bson:"sha256"`
	BlobKey       string               `bson:"blobKey"`
	Scan          workspace.ScanStatus `bson:"scan"`
	Signature     string               `bson:"signature"`
	CreatedAt     time.Time            `bson:"createdAt"`
	ExpiresAt     time.Time            `bson:"expiresAt"`
	Version       int64                `bson:"version"`
}

func toAttachmentDoc(a *workspace.Attachment) attachmentDoc {
	return attachmentDoc{
		ID: a.ID, UploadedBy: a.UploadedBy, UploaderID: a.UploaderID, InteractionID: a.InteractionID,
		MessageID: a.MessageID, FileName: a.FileName, ContentType: a.ContentType, Size: a.Size,
		SHA256: a.SHA256, BlobKey: a.BlobKey, Scan: a.Scan, Signature: a.Signature,
		CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, Version: a.Version,
	}
}

func (d *attachmentDoc) attachment() *workspace.Attachment {
	return &workspace.Attachment{
		ID: d.ID, UploadedBy: d.UploadedBy, UploaderID: d.UploaderID, InteractionID: d.InteractionID,
		MessageID: d.MessageID, FileName: d.FileName, ContentType: d.ContentType, Size: d.Size,
		SHA256: d.SHA256, BlobKey: d.BlobKey, Scan: d.Scan, Signature: d.Signature,
		CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(), Version: d.Version,
	}
}

// CreateAttachment stores an attachment's record; a taken ID is CONFLICT.
func (s *Store) CreateAttachment(ctx context.Context, a *workspace.Attachment) error {
	return insert(ctx, s.attachments, toAttachmentDoc(a), "Attachment")
}

// Attachment returns the attachment with this ID.
func (s *Store) Attachment(ctx context.Context, id string) (*workspace.Attachment, error) {
	var d attachmentDoc
	if err := findOne(ctx, s.attachments, bson.D{{Key: "_id", Value: id}}, &d, "Attachment"); err != nil {
		return nil, err
	}
	return d.attachment(), nil
}

// UpdateAttachment replaces the stored attachment if its version is still a.Version, and
// then increments a.Version; otherwise, also when it is missing, it is CONFLICT.
func (s *Store) UpdateAttachment(ctx context.Context, a *workspace.Attachment) error {
	d := toAttachmentDoc(a)
	d.Version++
	if err := replaceVersion(ctx, s.attachments, a.ID, a.Version, d, "Attachment"); err != nil {
		return err
	}
	a.Version = d.Version
	return nil
}

// MessageAttachments returns the attachments of the messages, by message ID then ID, in one
// read through the index on messageId and _id. Drafts have no message: an empty ID matches
// nothing.
func (s *Store) MessageAttachments(ctx context.Context, messageIDs []string) ([]*workspace.Attachment, error) {
	ids := bson.A{}
	for _, id := range messageIDs {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	filter := bson.D{{Key: "messageId", Value: bson.D{{Key: "$in", Value: ids}}}}
	return s.findAttachments(ctx, filter, keysOf("messageId", "_id"), 0)
}

// ExpiredDrafts returns up to limit drafts (limit <= 0: all) that expire at or before t,
// ordered by ExpiresAt then ID, through the drafts' index.
func (s *Store) ExpiredDrafts(ctx context.Context, t time.Time, limit int) ([]*workspace.Attachment, error) {
	filter := bson.D{
		{Key: "messageId", Value: ""},
		{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: t}}},
	}
	return s.findAttachments(ctx, filter, keysOf("expiresAt", "_id"), limit)
}

// DeleteAttachment removes the attachment with this ID; a missing one is NOT_FOUND.
func (s *Store) DeleteAttachment(ctx context.Context, id string) error {
	res, err := s.attachments.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("mongo: delete attachment: %w", err)
	}
	if res.DeletedCount == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "Attachment not found.")
	}
	return nil
}

// findAttachments decodes the attachments matching filter in the order of sort, at most
// limit of them (limit <= 0: all).
func (s *Store) findAttachments(ctx context.Context, filter, sort bson.D, limit int) ([]*workspace.Attachment, error) {
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.attachments.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list attachments: %w", err)
	}
	var docs []attachmentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list attachments: %w", err)
	}
	list := make([]*workspace.Attachment, len(docs))
	for i := range docs {
		list[i] = docs[i].attachment()
	}
	return list, nil
}
