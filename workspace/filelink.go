package workspace

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File links (issue 12 §5–6): Twilio and Vonage send a file by fetching it from a URL, with
// no credential of ours. The link they get names one sent file, expires after FileLinkTTL,
// and is signed with a key every node shares (Store.SigningKey), so that any node serves it.
// Nothing else is readable by link: a draft, an infected file, another file.

// FileLinkTTL is how long a file link works: a provider fetches it within seconds of the send
// that carries it, and each send attempt makes a new one.
const FileLinkTTL = 15 * time.Minute

// fileLinkKeyName is the signing key's name in the store.
const fileLinkKeyName = "file-links"

// linkKey is the file-link key, read from the store once per process.
type linkKey struct {
	mu  sync.Mutex
	key []byte
}

func (s *Service) fileLinkKey(ctx context.Context) ([]byte, error) {
	s.linkKey.mu.Lock()
	defer s.linkKey.mu.Unlock()
	if s.linkKey.key != nil {
		return s.linkKey.key, nil
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	key, err := s.Store.SigningKey(ctx, fileLinkKeyName, fresh)
	if err != nil {
		return nil, err
	}
	s.linkKey.key = key
	return key, nil
}

// linkMAC is the signature of a link to file id that expires at exp (Unix seconds).
func linkMAC(key []byte, id string, exp int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("agentdesk file link\x00" + id + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// fileLink is a link to a sent file that works until now+FileLinkTTL, or "" when no FileURL
// is configured (then providers that fetch files cannot send them).
func (s *Service) fileLink(ctx context.Context, a *Attachment) (string, error) {
	if s.FileURL == nil {
		return "", nil
	}
	key, err := s.fileLinkKey(ctx)
	if err != nil {
		return "", err
	}
	exp := s.Clock.Now().Add(FileLinkTTL).Unix()
	return s.FileURL(a.ID, strconv.FormatInt(exp, 10)+"."+linkMAC(key, a.ID, exp)), nil
}

// OpenFileLink serves a file to whoever holds a valid link to it (see fileLink): a provider
// fetching what an agent sent. A link that is malformed, signed for another file or
// expired is FORBIDDEN; so is a file that is not a sent one.
func (s *Service) OpenFileLink(ctx context.Context, id, token string) (*Attachment, io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	expText, mac, ok := strings.Cut(token, ".")
	exp, err := strconv.ParseInt(expText, 10, 64)
	if !ok || err != nil {
		return nil, nil, Errorf(EFORBIDDEN, "this file link is not valid")
	}
	key, err := s.fileLinkKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !hmac.Equal([]byte(mac), []byte(linkMAC(key, id, exp))) {
		return nil, nil, Errorf(EFORBIDDEN, "this file link is not valid")
	}
	if !s.Clock.Now().Before(time.Unix(exp, 0)) {
		return nil, nil, Errorf(EFORBIDDEN, "this file link has expired")
	}
	a, err := s.Store.Attachment(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && a.MessageID == "") {
		return nil, nil, Errorf(EFORBIDDEN, "this file link is not valid")
	} else if err != nil {
		return nil, nil, err
	}
	if a.Scan != ScanClean && a.Scan != ScanUnscanned {
		return nil, nil, Errorf(EFORBIDDEN, "%s is not served", a.FileName)
	}
	rc, err := s.Blobs.Open(ctx, a.BlobKey)
	if err != nil {
		return nil, nil, err
	}
	return a, rc, nil
}
