package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"
)

// Limits and codes of attachments.
const (
	// MaxAttachmentBytes is the largest file agentdesk takes (E4).
	MaxAttachmentBytes int64 = 25 << 20
	// MaxAttachmentsPerMessage bounds the files of one message.
	MaxAttachmentsPerMessage = 10
	// DraftTTL is how long an unsent draft is kept: the SPA drops drafts when the agent
	// leaves the interaction or reloads (the seeds: attachments do not survive a refresh),
	// and the sweep deletes what nobody sent.
	DraftTTL = time.Hour
	// maxFileNameChars bounds a sanitised file name.
	maxFileNameChars = 150
	// sniffBytes is how much of a file the type is sniffed from.
	sniffBytes = 3072

	// ETOOLARGE: a file over MaxAttachmentBytes.
	ETOOLARGE = "TOO_LARGE"
	// EUNSUPPORTEDTYPE: a file whose bytes are not of an allowed type.
	EUNSUPPORTEDTYPE = "UNSUPPORTED_TYPE"
	// EINFECTED: a file the scanner flagged; it is never served and cannot be sent (E5).
	EINFECTED = "INFECTED"
	// ESCANFAILED: the scanner gave no verdict; nothing was kept.
	ESCANFAILED = "SCAN_FAILED"
)

// AllowedTypes are the content types agentdesk takes, as sniffed from the bytes: images
// (SVG included: it is always served as a download, never rendered in agentdesk's origin),
// documents, audio and video of the messaging channels.
var AllowedTypes = []string{
	"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "image/heic", "image/bmp",
	"application/pdf", "text/plain", "text/csv",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
	"audio/mpeg", "audio/ogg", "audio/aac", "audio/amr", "audio/mp4", "audio/wav",
	"video/mp4", "video/3gpp", "video/quicktime", "video/webm",
}

// sniff names the allowed type of a file's first bytes, or "" when it is not allowed.
func sniff(head []byte) (mediaType, ext string) {
	for t := mimetype.Detect(head); t != nil; t = t.Parent() {
		base, _, _ := mime.ParseMediaType(t.String())
		if slices.Contains(AllowedTypes, base) {
			return base, t.Extension()
		}
	}
	return "", ""
}

// SanitiseFileName makes a client's file name safe to store and to put in a
// Content-Disposition header: the base name only, no control or invisible characters, no
// leading dots, at most 150 characters with the extension kept, and the sniffed type's
// extension added when the name does not end in it.
func SanitiseFileName(name, ext string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.ToValidUTF8(name, ""))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || invisible(r) && r != ' ' || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		name = "file"
	}
	if ext != "" && !strings.EqualFold(path.Ext(name), ext) {
		name += ext
	}
	if utf8.RuneCountInString(name) > maxFileNameChars {
		e := path.Ext(name)
		if utf8.RuneCountInString(e) > 20 {
			e = ""
		}
		r := []rune(strings.TrimSuffix(name, e))
		name = string(r[:maxFileNameChars-utf8.RuneCountInString(e)]) + e
	}
	return name
}

// uploader is who may use a draft: an agent, or a contact by their interaction.
func uploader(ctx context.Context) (Party, string, error) {
	p := PrincipalFrom(ctx)
	if p.Kind == ContactPrincipal {
		return PartyContact, p.InteractionID, nil
	}
	me, err := RequireAgent(ctx)
	if err != nil {
		return "", "", err
	}
	return PartyAgent, me.ID, nil
}

// errTooLarge ends a stream that passed MaxAttachmentBytes.
var errTooLarge = errors.New("the file is over the size limit")

// measured counts and hashes the bytes read through it and fails past its limit.
type measured struct {
	r   io.Reader
	n   int64
	max int64
	h   hash.Hash
}

func (m *measured) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n += int64(n)
	m.h.Write(p[:n])
	if m.n > m.max {
		return n, errTooLarge
	}
	return n, err
}

// Upload stores a file as a draft of the caller (an agent, or a webchat contact during
// their chat): streamed to the blob store, never held whole; its type sniffed from its
// bytes; scanned when a scanner is configured. An INFECTED file is kept as a record so the
// uploader sees which file to remove, but its bytes are deleted at once and never served.
func (s *Service) Upload(ctx context.Context, fileName string, r io.Reader) (*Attachment, error) {
	by, uploaderID, err := uploader(ctx)
	if err != nil {
		return nil, err
	}
	if by == PartyContact {
		ix, err := s.Store.Interaction(ctx, uploaderID)
		if err != nil {
			return nil, err
		}
		if ix.State == Completed || ix.EndedAt != nil {
			return nil, wrongState(ix.State)
		}
	}
	return s.storeFile(ctx, by, uploaderID, fileName, r)
}

// storeFile stores a file as a draft of uploaderID: Upload's work, and that of a provider
// channel's inbound media (Receive), whose files are the contact's.
func (s *Service) storeFile(ctx context.Context, by Party, uploaderID, fileName string, r io.Reader) (*Attachment, error) {
	if s.Blobs == nil {
		return nil, Errorf(EINTERNAL, "no blob store is configured")
	}
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	head = head[:n]
	if n == 0 {
		return nil, fieldError(EINVALID, "file", "the file is empty")
	}
	contentType, ext := sniff(head)
	if contentType == "" {
		return nil, fieldError(EUNSUPPORTEDTYPE, "file", "files of this type are not taken (%s): send an image, a PDF, an office document, audio or video", mimetype.Detect(head).String())
	}
	a := &Attachment{
		ID: uuid.NewString(), UploadedBy: by, UploaderID: uploaderID,
		FileName: SanitiseFileName(fileName, ext), ContentType: contentType,
	}
	a.BlobKey = "attachments/" + a.ID[:2] + "/" + a.ID
	body := &measured{r: io.MultiReader(bytes.NewReader(head), r), max: s.maxAttachmentBytes(), h: sha256.New()}
	size, err := s.Blobs.Put(ctx, a.BlobKey, body)
	if errors.Is(err, errTooLarge) || body.n > body.max {
		_ = s.Blobs.Delete(context.WithoutCancel(ctx), a.BlobKey)
		return nil, fieldError(ETOOLARGE, "file", "%s is over the %d MB limit (E4)", a.FileName, s.maxAttachmentBytes()>>20)
	}
	if err != nil {
		_ = s.Blobs.Delete(context.WithoutCancel(ctx), a.BlobKey)
		return nil, err
	}
	a.Size, a.SHA256 = size, hex.EncodeToString(body.h.Sum(nil))
	if a.Scan, a.Signature, err = s.scan(ctx, a.BlobKey); err != nil {
		_ = s.Blobs.Delete(context.WithoutCancel(ctx), a.BlobKey)
		return nil, fieldError(ESCANFAILED, "file", "the virus scanner could not check %s: try again in a moment", a.FileName)
	}
	if a.Scan == ScanInfected {
		if err := s.Blobs.Delete(ctx, a.BlobKey); err != nil {
			return nil, err
		}
		a.BlobKey = ""
	}
	now := s.Clock.Now()
	a.CreatedAt, a.ExpiresAt = now, now.Add(DraftTTL)
	if err := s.Store.CreateAttachment(ctx, a); err != nil {
		if a.BlobKey != "" {
			_ = s.Blobs.Delete(context.WithoutCancel(ctx), a.BlobKey)
		}
		return nil, err
	}
	return a, nil
}

func (s *Service) maxAttachmentBytes() int64 {
	if s.MaxAttachmentBytes > 0 {
		return s.MaxAttachmentBytes
	}
	return MaxAttachmentBytes
}

// scan asks the scanner about the stored bytes: UNSCANNED without a scanner.
func (s *Service) scan(ctx context.Context, key string) (ScanStatus, string, error) {
	if s.Scanner == nil {
		return ScanUnscanned, "", nil
	}
	rc, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	v, err := s.Scanner.Scan(ctx, rc)
	if err != nil {
		return "", "", err
	}
	if v.Infected {
		return ScanInfected, v.Signature, nil
	}
	return ScanClean, "", nil
}

// claim binds the caller's drafts to a message about to be stored: each must be theirs,
// unsent, unexpired and not infected — except the files of received, which the domain
// itself just stored from a provider's inbound media: an INFECTED one goes with its message
// so that the agent sees what was blocked (its bytes are gone; it is never served). It
// returns a function that undoes the binding, for when the message is not stored after all.
func (s *Service) claim(ctx context.Context, by Party, uploaderID string, ids, received []string, m *Message) (func(), error) {
	if len(ids) == 0 {
		return func() {}, nil
	}
	if len(ids) > MaxAttachmentsPerMessage {
		return nil, fieldError(EINVALID, "attachmentIds", "a message takes at most %d files", MaxAttachmentsPerMessage)
	}
	now := s.Clock.Now()
	var claimed []string
	undo := func() {
		for _, id := range claimed {
			_, _, _ = guardedWrite(context.WithoutCancel(ctx), nil,
				func(ctx context.Context) (*Attachment, error) { return s.Store.Attachment(ctx, id) },
				func(a *Attachment) error {
					if a.MessageID != m.ID {
						return errSkip
					}
					a.MessageID, a.InteractionID, a.ExpiresAt = "", "", now.Add(DraftTTL)
					return nil
				},
				func(ctx context.Context, _, a *Attachment) error { return s.Store.UpdateAttachment(ctx, a) })
		}
	}
	for _, id := range ids {
		if slices.Contains(claimed, id) {
			continue
		}
		if checkID(id) != nil {
			undo()
			return nil, fieldError(EINVALID, "attachmentIds", "not a valid attachment ID: IDs are UUIDs")
		}
		_, _, err := guardedWrite(ctx, nil,
			func(ctx context.Context) (*Attachment, error) { return s.Store.Attachment(ctx, id) },
			func(a *Attachment) error {
				switch {
				case a.UploadedBy != by || a.UploaderID != uploaderID:
					return Errorf(EFORBIDDEN, "%s was uploaded by someone else", a.FileName)
				case a.MessageID != "":
					return fieldError(EINVALID, "attachmentIds", "%s was sent already: upload it again to send it again", a.FileName)
				case a.Scan == ScanInfected && !slices.Contains(received, a.ID):
					return fieldError(EINFECTED, "attachmentIds", "%s contains malware (%s): remove it to send the message (E5)", a.FileName, a.Signature)
				case a.Scan == ScanPending:
					return fieldError(EINVALID, "attachmentIds", "%s is still being checked", a.FileName)
				case !a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt):
					return fieldError(EINVALID, "attachmentIds", "%s has expired: upload it again", a.FileName)
				}
				a.MessageID, a.InteractionID, a.ExpiresAt = m.ID, m.InteractionID, time.Time{}
				return nil
			},
			func(ctx context.Context, _, a *Attachment) error { return s.Store.UpdateAttachment(ctx, a) })
		if ErrorCode(err) == ENOTFOUND {
			err = fieldError(ENOTFOUND, "attachmentIds", "no file has the ID %s: it may have expired", id)
		}
		if err != nil {
			undo()
			return nil, err
		}
		claimed = append(claimed, id)
	}
	m.AttachmentIDs = claimed
	return undo, nil
}

// appendWithAttachments stores m with the caller's drafts ids bound to it; received are
// those of them the domain stored from inbound media (see claim).
func (s *Service) appendWithAttachments(ctx context.Context, by Party, uploaderID string, ids, received []string, m *Message) (*Message, error) {
	m.ID = newMessageID()
	undo, err := s.claim(ctx, by, uploaderID, ids, received, m)
	if err != nil {
		return nil, err
	}
	out, err := s.appendMessage(ctx, m)
	if err != nil {
		undo()
	}
	return out, err
}

// MessageAttachments returns the files of a message the caller has read, in the order they
// were attached.
func (s *Service) MessageAttachments(ctx context.Context, m *Message) ([]*Attachment, error) {
	if len(m.AttachmentIDs) == 0 {
		return []*Attachment{}, nil
	}
	all, err := s.Store.MessageAttachments(ctx, []string{m.ID})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b *Attachment) int {
		return slices.Index(m.AttachmentIDs, a.ID) - slices.Index(m.AttachmentIDs, b.ID)
	})
	return all, nil
}

// OpenAttachment returns a file's record and bytes to whoever may read it: a draft to its
// uploader; a sent file to those who may read its interaction (its holders, supervisors, CRM
// keys) and to the interaction's own contact. An INFECTED file is never served.
func (s *Service) OpenAttachment(ctx context.Context, id string) (*Attachment, io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	p := PrincipalFrom(ctx)
	if p.Kind == Anonymous {
		if p.Rejected {
			return nil, nil, Errorf(EUNAUTHENTICATED, "the token is invalid or has expired")
		}
		return nil, nil, Errorf(EUNAUTHENTICATED, "send the credential that may read this file: Authorization: Bearer <token>")
	}
	a, err := s.Store.Attachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayRead(ctx, a); err != nil {
		return nil, nil, err
	}
	switch a.Scan {
	case ScanInfected:
		return nil, nil, Errorf(EINFECTED, "%s contains malware (%s): it is never served", a.FileName, a.Signature)
	case ScanPending:
		return nil, nil, Errorf(EWRONGSTATE, "%s is still being checked", a.FileName)
	}
	rc, err := s.Blobs.Open(ctx, a.BlobKey)
	if err != nil {
		return nil, nil, err
	}
	return a, rc, nil
}

func (s *Service) mayRead(ctx context.Context, a *Attachment) error {
	p := PrincipalFrom(ctx)
	if a.MessageID == "" {
		by, uploaderID, err := uploader(ctx)
		if err != nil || by != a.UploadedBy || uploaderID != a.UploaderID {
			return Errorf(EFORBIDDEN, "a draft is readable by its uploader only")
		}
		return nil
	}
	if p.Kind == ContactPrincipal {
		if p.InteractionID != a.InteractionID {
			return Errorf(EFORBIDDEN, "a contact reads only the files of their own chat")
		}
		return nil
	}
	_, err := s.Interaction(ctx, a.InteractionID)
	return err
}

// expireDrafts deletes drafts nobody sent in time, bytes first.
func (s *Service) expireDrafts(ctx context.Context) error {
	drafts, err := s.Store.ExpiredDrafts(ctx, s.Clock.Now(), 100)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range drafts {
		if a.BlobKey != "" {
			if err := s.Blobs.Delete(ctx, a.BlobKey); err != nil {
				errs = append(errs, fmt.Errorf("deleting the bytes of draft %s: %w", a.ID, err))
				continue
			}
		}
		if err := s.Store.DeleteAttachment(ctx, a.ID); err != nil && ErrorCode(err) != ENOTFOUND {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// What the provider channels carry (issue 12 §6), as their providers document it: an MMS
// takes at most 5 MB of files in all (Twilio's limit; carriers may take less); WhatsApp
// sends JPEG and PNG as images of at most 5 MB, audio and video of at most 16 MB, and
// anything else as a document (up to 100 MB: more than agentdesk takes at all).
const (
	maxMMSBytes           int64 = 5 << 20
	maxWhatsAppImageBytes int64 = 5 << 20
	maxWhatsAppMediaBytes int64 = 16 << 20
)

// checkCarried refuses files the channel does not carry, naming the first. IDs that are not
// drafts of this caller are left to claim, which refuses them with the reason.
func (s *Service) checkCarried(ctx context.Context, ch Channel, ids []string) error {
	var total int64
	for _, id := range ids {
		if checkID(id) != nil {
			continue
		}
		a, err := s.Store.Attachment(ctx, id)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		total += a.Size
		switch kind, _, _ := strings.Cut(a.ContentType, "/"); {
		case (ch == SMS || ch == RCS) && total > maxMMSBytes:
			return fieldError(ETOOLARGE, "attachmentIds", "an MMS carries at most 5 MB of files in all: %s goes over it", a.FileName)
		case ch == WhatsApp && (a.ContentType == "image/jpeg" || a.ContentType == "image/png") && a.Size > maxWhatsAppImageBytes:
			return fieldError(ETOOLARGE, "attachmentIds", "WhatsApp sends images of at most 5 MB: %s is larger", a.FileName)
		case ch == Email && total > s.maxAttachmentBytes():
			return fieldError(ETOOLARGE, "attachmentIds", "an email carries at most 25 MB of files in all: %s goes over it (E4)", a.FileName)
		case ch == WhatsApp && (kind == "audio" || kind == "video") && a.Size > maxWhatsAppMediaBytes:
			return fieldError(ETOOLARGE, "attachmentIds", "WhatsApp sends audio and video of at most 16 MB: %s is larger", a.FileName)
		}
	}
	return nil
}
