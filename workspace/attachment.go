package workspace

import (
	"context"
	"io"
	"time"
)

// Attachments (C2, E4, E5): files sent with messages on every digital channel. The bytes
// live in a blob store (Blobs); what they are, who may use them and whether a scanner
// passed them lives in the database (Attachment).

// ScanStatus is what the malware scanner said about a file (E5).
type ScanStatus string

// Scan statuses.
const (
	// ScanPending: the scan has not finished; the file cannot be sent or read yet.
	ScanPending ScanStatus = "PENDING"
	// ScanClean: the scanner found nothing.
	ScanClean ScanStatus = "CLEAN"
	// ScanInfected: the scanner found malware: the file is never served and cannot be sent.
	ScanInfected ScanStatus = "INFECTED"
	// ScanUnscanned: no scanner is configured; the SPA says so.
	ScanUnscanned ScanStatus = "UNSCANNED"
)

// Attachment is one file: a draft its uploader may put into one message, or a file of a
// message.
type Attachment struct {
	ID string
	// UploadedBy is AGENT (UploaderID is the agent's ID) or CONTACT (UploaderID is the
	// contact's interaction: a webchat contact's chat, or the interaction an inbound
	// provider message with media joined).
	UploadedBy Party
	UploaderID string
	// InteractionID and MessageID are set when the file is sent with a message; a draft has
	// neither.
	InteractionID string `json:",omitzero"`
	MessageID     string `json:",omitzero"`
	// FileName is sanitised; ContentType is sniffed from the bytes, never the client's.
	FileName    string
	ContentType string
	Size        int64
	// SHA256 is the hex digest of the bytes.
	SHA256 string
	// BlobKey is where the bytes are in the blob store.
	BlobKey string
	Scan    ScanStatus
	// Signature is the scanner's name for what it found, when INFECTED.
	Signature string `json:",omitzero"`
	CreatedAt time.Time
	// ExpiresAt is when an unsent draft is deleted; zero once sent.
	ExpiresAt time.Time `json:",omitzero"`
	Version   int64
}

// Blobs is the blob store port: the bytes of attachments, streamed, never held whole.
// Adapters: the data folder (the default) and an S3-compatible store (several nodes).
type Blobs interface {
	// Put stores the bytes of r under key and returns how many there were. A Put that fails
	// or whose ctx ends leaves nothing readable under key: readers never see half a file.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open reads the bytes under key; NOT_FOUND if there are none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the bytes under key; deleting what is not there is not an error.
	Delete(ctx context.Context, key string) error
}

// Verdict is a scanner's answer about one file.
type Verdict struct {
	Infected bool
	// Signature names what was found, e.g. "Eicar-Test-Signature".
	Signature string
}

// Scanner checks a file for malware (E5): ClamAV's clamd over INSTREAM.
type Scanner interface {
	// Scan reads r to its end and says whether it is infected. An error means no verdict
	// (clamd unreachable, a size limit): the file is not treated as clean.
	Scan(ctx context.Context, r io.Reader) (Verdict, error)
}
