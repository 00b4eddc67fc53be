package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/agentdesk/agentdesk/blobstore"
	"github.com/agentdesk/agentdesk/clamd"
	"github.com/agentdesk/agentdesk/workspace"
)

// openAttachments opens the blob store (-blob-url, by default the data folder's blobs/)
// and, with -clamd-addr, the scanner, and hands them to the service.
func (m *Main) openAttachments(ctx context.Context) error {
	where := m.Config.BlobURL
	if where == "" {
		where = filepath.Join(m.Config.DataDir, "blobs")
	}
	blobs, err := blobstore.Open(ctx, where)
	if err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	m.blobs, m.Service.Blobs = blobs, blobs
	if m.Config.ClamdAddr != "" {
		m.Service.Scanner = clamd.New(m.Config.ClamdAddr)
	}
	m.Service.MaxAttachmentBytes = m.Config.MaxUploadBytes
	// Twilio and Vonage fetch the files agents send from a signed link (OpenFileLink): on
	// -public-url, else on this server's own address, which only a provider on this machine
	// reaches (the demo's phone simulator, the tests' provider simulator).
	m.Service.FileURL = func(id, token string) string {
		base := m.Config.PublicURL
		if base == "" && m.listener != nil {
			base = loopbackURL(m)
		}
		if base == "" {
			return ""
		}
		return base + "/attachments/" + url.PathEscape(id) + "?link=" + url.QueryEscape(token)
	}
	return nil
}

// preflightHeader must accompany every multipart request: a cross-site HTML form can post
// multipart/form-data without a CORS preflight, but it cannot set a header, so a request
// carrying it comes from a script the CORS policy allowed (gqlgen's advice for its
// multipart transport, GHSA-9jc4-rj7q-wx4x).
const preflightHeader = "GraphQL-Require-Preflight"

func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// uploadLimit is the largest multipart body: the largest file plus room for the operation
// and the multipart framing. A file just over the file limit still reaches the domain,
// which answers TOO_LARGE as a userError; far larger bodies stop here with 413.
func (m *Main) uploadLimit() int64 {
	return m.Config.MaxUploadBytes + 1<<20
}

// limitUpload lets multipart requests (uploads) through only with the preflight header and
// a credential, and caps their bodies at uploadLimit while they stream.
func (m *Main) limitUpload(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isMultipart(r) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get(preflightHeader) == "" {
			writeJSON(w, http.StatusBadRequest, errorBody("uploads need the header "+preflightHeader+": 1 (cross-site forms cannot send it)", workspace.EINVALID))
			return
		}
		if p := workspace.PrincipalFrom(r.Context()); p.Kind == workspace.Anonymous {
			writeJSON(w, http.StatusUnauthorized, errorBody("sign in, or start a chat, before uploading: Authorization: Bearer <token>", workspace.EUNAUTHENTICATED))
			return
		}
		if r.ContentLength < 0 {
			// gqlgen's multipart transport reads a body of unknown length whole into memory;
			// browsers always send the length of a FormData body.
			writeJSON(w, http.StatusLengthRequired, errorBody("uploads need a Content-Length", workspace.EINVALID))
			return
		}
		if r.ContentLength > m.uploadLimit() {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody("the upload is larger than the limit of "+strconv.FormatInt(m.Config.MaxUploadBytes, 10)+" bytes", workspace.ETOOLARGE))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, m.uploadLimit())
		next.ServeHTTP(w, r)
	})
}

// download serves an attachment's bytes to whoever may read it (Service.OpenAttachment),
// always as a download: a sandboxing CSP and nosniff, so an SVG's script or an HTML file
// never runs in agentdesk's origin, even when opened directly.
//
// With ?link=, the link is the credential (a provider fetching a file an agent sent); without,
// the request's own credential must be one that may read the file.
func (m *Main) download(w http.ResponseWriter, r *http.Request) {
	var a *workspace.Attachment
	var rc io.ReadCloser
	var err error
	if r.URL.Query().Has("link") {
		a, rc, err = m.Service.OpenFileLink(r.Context(), r.PathValue("id"), r.URL.Query().Get("link"))
	} else {
		a, rc, err = m.Service.OpenAttachment(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		status := http.StatusInternalServerError
		switch workspace.ErrorCode(err) {
		case workspace.EUNAUTHENTICATED:
			status = http.StatusUnauthorized
		case workspace.EFORBIDDEN, workspace.EINFECTED:
			status = http.StatusForbidden
		case workspace.ENOTFOUND:
			status = http.StatusNotFound
		case workspace.EINVALID:
			status = http.StatusBadRequest
		case workspace.EWRONGSTATE:
			status = http.StatusConflict
		}
		writeJSON(w, status, errorBody(workspace.ErrorMessage(err), workspace.ErrorCode(err)))
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", strconv.Quote(a.SHA256))
	if _, err := io.Copy(w, rc); err != nil && !errors.Is(err, r.Context().Err()) {
		slog.Warn("serving an attachment", "id", a.ID, "err", err)
	}
}
