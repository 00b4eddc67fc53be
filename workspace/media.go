package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Inbound media (C2, E4, E5): the files of a provider message (MMS, WhatsApp images and
// documents) are fetched from the provider by the adapter's InboundMedia.Open and stored as
// the contact's files of the message, through the same storeFile as uploads: streamed, sized,
// sniffed and scanned. The message is never lost: a file that cannot be fetched or is
// refused is left out and a SYSTEM note in the transcript says which and why.

// DefaultMediaTimeout bounds the fetching and storing of one inbound media file.
const DefaultMediaTimeout = 2 * time.Minute

func (s *Service) mediaTimeout() time.Duration {
	if s.MediaTimeout > 0 {
		return s.MediaTimeout
	}
	return DefaultMediaTimeout
}

// keepMedia fetches and stores each of media, at most room of them, as the contact's files
// in ix. It returns the IDs of the files stored (an INFECTED one included: it is kept as a
// record without its bytes), a note for each file that was not kept, or was blocked, and
// for each of media the ID it was stored as ("" when it was not kept).
func (s *Service) keepMedia(ctx context.Context, ix *Interaction, media []InboundMedia, room int) (kept, notes, byIndex []string) {
	byIndex = make([]string, len(media))
	for i, md := range media {
		if i >= room {
			notes = append(notes, fmt.Sprintf("The contact sent %d files; a message keeps at most %d, so %s was not kept.",
				len(media), MaxAttachmentsPerMessage, describeMedia(md)))
			continue
		}
		a, err := s.fetchMedia(ctx, ix, md)
		if err != nil {
			notes = append(notes, s.mediaNote(md, err))
			continue
		}
		kept = append(kept, a.ID)
		byIndex[i] = a.ID
		if a.Scan == ScanInfected {
			notes = append(notes, fmt.Sprintf("The file %s the contact sent contains malware (%s): it is blocked and never served (E5).",
				a.FileName, a.Signature))
		}
	}
	return kept, notes, byIndex
}

// captions joins the captions of media, one a line.
func captions(media []InboundMedia) string {
	var out []string
	for _, md := range media {
		if c := strings.TrimSpace(md.Caption); c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, "\n")
}

// fetchError is a failure of the download itself (the provider refused, the connection
// broke, the time ran out), as opposed to a refusal of the bytes by storeFile.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// fetchReader reads a download and remembers how it failed.
type fetchReader struct {
	r       io.Reader
	ctx     context.Context
	timeout time.Duration
	err     error
}

func (f *fetchReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if f.ctx.Err() != nil {
			err = fmt.Errorf("it did not arrive within %s", f.timeout)
		}
		f.err = err
		return n, &fetchError{err}
	}
	return n, err
}

// fetchMedia downloads one file and stores it as a draft of the contact of ix, within the
// media timeout.
func (s *Service) fetchMedia(ctx context.Context, ix *Interaction, md InboundMedia) (*Attachment, error) {
	if md.Open == nil {
		return nil, &fetchError{errors.New("the channel gave no way to fetch it")}
	}
	timeout := s.mediaTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rc, err := md.Open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("it did not arrive within %s", timeout)
		}
		return nil, &fetchError{err}
	}
	defer rc.Close()
	body := &fetchReader{r: rc, ctx: ctx, timeout: timeout}
	a, err := s.storeFile(ctx, PartyContact, ix.ID, md.FileName, body)
	switch {
	case body.err != nil: // whatever storeFile made of it, the download failed
		err = body.err
	case err != nil && ctx.Err() != nil: // the time ran out while the bytes were stored
		err = fmt.Errorf("it did not arrive within %s", timeout)
	default:
		return a, err
	}
	if a != nil {
		s.discardFiles(ctx, []string{a.ID})
	}
	return nil, &fetchError{err}
}

// describeMedia names a file in a note: its name and declared type.
func describeMedia(md InboundMedia) string {
	var parts []string
	if n := strings.TrimSpace(md.FileName); n != "" {
		parts = append(parts, SanitiseFileName(n, ""))
	}
	if t := strings.TrimSpace(md.ContentType); t != "" && len(t) <= 100 {
		parts = append(parts, strings.ToValidUTF8(t, ""))
	}
	if len(parts) == 0 {
		return "a file"
	}
	return "a file (" + strings.Join(parts, ", ") + ")"
}

// mediaNote says in the transcript why a file was not kept.
func (s *Service) mediaNote(md InboundMedia, err error) string {
	what := describeMedia(md)
	var fe *fetchError
	if errors.As(err, &fe) {
		source := strings.TrimSpace(md.Source)
		if source == "" {
			source = "the provider"
		}
		return clipNote(fmt.Sprintf("The contact sent %s that could not be fetched from %s: %s.", what, source,
			strings.TrimSuffix(fe.err.Error(), ".")))
	}
	var reason string
	switch ErrorCode(err) {
	case ETOOLARGE:
		reason = fmt.Sprintf("it is over the %d MB limit (E4)", s.maxAttachmentBytes()>>20)
	case EUNSUPPORTEDTYPE:
		reason, _, _ = strings.Cut(ErrorMessage(err), ": send")
	case EINVALID:
		reason = ErrorMessage(err)
	case ESCANFAILED:
		reason = "the virus scanner could not check it"
	default:
		slog.Warn("inbound media not stored", "err", err)
		reason = "it could not be stored (" + strings.TrimSuffix(ErrorMessage(err), ".") + ")"
	}
	return clipNote(fmt.Sprintf("The contact sent %s that was not kept: %s.", what, reason))
}

// clipNote keeps a note within a message's length.
func clipNote(s string) string {
	if r := []rune(s); len(r) > 1000 {
		return string(r[:999]) + "…"
	}
	return s
}

// discardFiles deletes files Receive stored for a message that was not stored after all
// (the same webhook, stored meanwhile by another delivery): bytes first, then the record.
func (s *Service) discardFiles(ctx context.Context, ids []string) {
	ctx = context.WithoutCancel(ctx)
	for _, id := range ids {
		a, err := s.Store.Attachment(ctx, id)
		if err != nil {
			continue
		}
		if a.BlobKey != "" {
			if err := s.Blobs.Delete(ctx, a.BlobKey); err != nil {
				continue // the sweep of expired drafts tries again
			}
		}
		_ = s.Store.DeleteAttachment(ctx, id)
	}
}
